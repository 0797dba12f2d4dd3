#!/usr/bin/env bash
# Installs phar (scripts/install.sh; seconds when already installed) and runs the whole test suite.
#   bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/fetch_footage.sh
VENV="${PHAR_VENV:-${VIRTUAL_ENV:-.venv}}"
exec "$VENV/bin/python" -m pytest "$@"

#!/usr/bin/env bash
# The main job on a fresh machine: install phar, make a sample video (abstract shapes and tones),
# analyse it with `phar timestamps`, print its tags, and say where the outputs are.
#   bash scripts/main.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
VENV="${PHAR_VENV:-${VIRTUAL_ENV:-.venv}}"
OUT="${PHAR_OUT:-phar-out}"
mkdir -p "$OUT"
"$VENV/bin/python" scripts/make_synthetic_video.py "$OUT/sample.mp4" --duration 30
"$VENV/bin/phar" timestamps "$OUT/sample.mp4" -o "$OUT/sample.json"
"$VENV/bin/phar" tags "$OUT/sample.json" --topk 3
echo "outputs: $OUT/sample.mp4 (input), $OUT/sample.json (predictions and segments)"

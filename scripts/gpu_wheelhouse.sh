#!/usr/bin/env bash
# Downloads, where PyPI is reachable (with python3 >= 3.11), what phar needs on a GPU machine that
# reaches no package index but has a Python with a CUDA torch; there, `bash scripts/bench_gpu.sh
# --wheelhouse DIR` installs it.
#
#   bash scripts/gpu_wheelhouse.sh [--python 3.12] [--glibc 2.28] [--have FILE] [--extra REQ] DIR
#
# DIR gets wheels for the target (CPython --python, manylinux x86_64 up to --glibc), the sources of
# mmcv 2.1.0 and xtcocotools 1.14.3 (built there against its torch), setuptools<81 (mmcv's setup.py
# imports pkg_resources, gone since 82) and requirements.txt, the wheels to install. The closure is
# resolved once for the target (pip install --dry-run --report, wheels only) and then pruned: torch
# and what the target already has (--have FILE, one name a line or its `pip list --format=freeze`,
# whose versions then also pin the resolution; default: $HAVE below, the lent H200's Python as read
# there in 2026-11; --have /dev/null: nothing) are left out with all they need. So are the test
# tools that bench_gpu.sh's tests do not use (mypy, 13 MB, and graphql-core): --extra REQ adds a
# requirement. Idempotent: files already in DIR are reused (other versions of the same packages,
# left by an earlier run, are removed). DIR must stay under PHAR_WHEELHOUSE_MAX_MIB, default 50: it
# travels with the working tree (64 MiB in all, the repository ~2 MiB). imageio-ffmpeg 0.7.0
# carries ffmpeg 7.0.2 (phar's shot-cut pass needs the scdet filter, ffmpeg 4.4+: 0.4.2-0.5.1
# carry 4.2.2, 0.4.1 and older 4.1; 0.8's wheel, ffmpeg 9, is 68 MB); its wheel is stored again
# with LZMA (29.5 -> 21.0 MB, the same files and RECORD; pip reads it through zipfile, so the
# target's Python needs its lzma module). Measured 2026-12-04: DIR 44.9 MiB (50.6 with
# imageio-ffmpeg 0.5.1 as it came), 33.0 MiB of it decord and imageio-ffmpeg.
set -euo pipefail
log() { printf '\033[1m[gpu-wheelhouse]\033[0m %s\n' "$*"; }

PYVER="${PHAR_WHEELHOUSE_PYTHON:-3.12}" GLIBC="${PHAR_WHEELHOUSE_GLIBC:-2.28}" HAVE_FILE=""
EXTRA=()
while [[ $# -gt 1 ]]; do
  case "$1" in
    --python) PYVER=$2 ;; --glibc) GLIBC=$2 ;; --have) HAVE_FILE=$2 ;; --extra) EXTRA+=("$2") ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
[[ $# == 1 && $1 != -* ]] || { sed -n '6p' "$0" >&2; exit 2; }
DIR=$(realpath -m "$1") MAX_MIB="${PHAR_WHEELHOUSE_MAX_MIB:-50}"
[[ -z $HAVE_FILE ]] || HAVE_FILE=$(realpath "$HAVE_FILE")
cd "$(dirname "$0")/.."
HAVE="torch==2.11.0 numpy==2.5.2 torchvision triton cython ninja wheel packaging pyyaml pillow
  scipy matplotlib contourpy cycler fonttools kiwisolver pyparsing python-dateutil six
  opencv-python-headless scikit-learn joblib threadpoolctl numba llvmlite lazy-loader msgpack
  requests certifi idna urllib3 charset-normalizer rich typer shellingham click markdown-it-py
  mdurl pygments annotated-doc typing-extensions filelock fsspec zipp tqdm einops pytest pluggy
  iniconfig pytest-timeout mypy-extensions pathspec jinja2 markupsafe sympy networkx"
mkdir -p "$DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [[ -n $HAVE_FILE ]]; then cp "$HAVE_FILE" "$WORK/have.txt"
else tr ' ' '\n' <<<"$HAVE" > "$WORK/have.txt"; fi

# A throwaway venv with a current pip, and what pip needs to read the two sources' metadata.
python3 -m venv "$WORK/venv"
PIP=("$WORK/venv/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip "setuptools<81" numpy cython
TARGET=(--only-binary=:all: --python-version "$PYVER" --implementation cp)
for ((n = ${GLIBC#2.}; n >= 17; n--)); do TARGET+=(--platform "manylinux_2_${n}_x86_64"); done
for tag in manylinux2014 manylinux2010 manylinux1; do TARGET+=(--platform "${tag}_x86_64"); done

# 1. The roots: install.sh's packages (mmcv's, xtcocotools' and mmpose's deps; those three are not
#    resolved: sources, and mmpose's own deps would bring chumpy and torchvision) and pyproject's.
"$WORK/venv/bin/python" - "$WORK" "${EXTRA[@]}" <<'EOF'
import sys, tomllib
from pathlib import Path
work, extra = Path(sys.argv[1]), sys.argv[2:]
project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
roots = ["setuptools>=77.0.3,<81", "wheel", "ninja", "numpy", "cython", "addict", "packaging",
         "pyyaml", "yapf", "pillow", "matplotlib", "scipy", "opencv-python-headless",
         "mmengine==0.10.7", "mmaction2==1.2.0", "mmdet==3.3.0", "importlib_metadata<10.2",
         "json-tricks", "munkres", "imageio-ffmpeg==0.7.0",  # ffmpeg 7.0.2: see above
         *project["dependencies"],
         *[r for r in project["optional-dependencies"]["test"]
           if not r.startswith(("mypy", "graphql-core"))], *extra]
(work / "roots.txt").write_text("\n".join(roots) + "\n")
EOF
grep -E '^[A-Za-z0-9._-]+==' "$WORK/have.txt" | sed 's/+.*//' \
  | grep -viE '^(setuptools|importlib[-_]metadata)==' > "$WORK/pins.txt" || true
log "resolving for CPython $PYVER, manylinux x86_64 (glibc <= $GLIBC)"
"${PIP[@]}" install --dry-run --ignore-installed --report "$WORK/report.json" --target "$WORK/t" \
  "${TARGET[@]}" -c "$WORK/pins.txt" -r "$WORK/roots.txt"

# 2. What the target lacks: walk the resolved requirements from the roots, stopping at torch and
#    at what the target has (any opencv-* stands for every other: all of them provide cv2).
"$WORK/venv/bin/python" - "$WORK" "$PYVER" > "$DIR/requirements.txt" <<'EOF'
import json, re, sys
from pathlib import Path
from pip._vendor.packaging.requirements import Requirement
work, pyver = Path(sys.argv[1]), sys.argv[2]
def norm(name):
    name = re.sub(r"[-_.]+", "-", name).lower()
    return "opencv-python-headless" if name.startswith("opencv-") else name
env = {"python_version": pyver, "python_full_version": pyver + ".0", "sys_platform": "linux",
       "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
       "implementation_name": "cpython", "platform_python_implementation": "CPython"}
have = {norm(re.split(r"[=<>~! ;\[]", line.strip())[0]) for line in
        (work / "have.txt").read_text().splitlines() if line.strip() and line[0] not in "#-"}
have = (have | {"torch"}) - {"setuptools", "importlib-metadata"}
found = {norm(i["metadata"]["name"]): i["metadata"] for i in json.loads(
    (work / "report.json").read_text())["install"]}
todo = [req for req in map(Requirement, filter(None, (work / "roots.txt").read_text().split("\n")))
        if not req.marker or req.marker.evaluate({**env, "extra": ""})]
need, seen = {}, set()
while todo:
    req = todo.pop()
    name = norm(req.name)
    if name in have or (name, tuple(sorted(req.extras))) in seen:
        continue
    seen.add((name, tuple(sorted(req.extras))))
    meta = need[name] = found[name]
    for dep in map(Requirement, meta.get("requires_dist") or []):
        if not dep.marker or any(dep.marker.evaluate({**env, "extra": e})
                                 for e in ("", *req.extras)):
            todo.append(dep)
print("\n".join(sorted(f"{m['name']}=={m['version']}" for m in need.values())))
print("mmpose==1.3.2")
EOF

# 3. The downloads: each wheel without deps, the two sources (pip reads their metadata: without
#    build isolation, which would bring a setuptools without pkg_resources and no numpy).
#    Other versions of these packages that an earlier run left go; a wheel that step 4 stored
#    again is kept as it is (pip, finding its hash changed, would fetch it anew).
"$WORK/venv/bin/python" - "$DIR" > "$WORK/download.txt" <<'EOF'
import re, sys, zipfile
from pathlib import Path
folder = Path(sys.argv[1])
def norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()
pins = [line.split("==") for line in (folder / "requirements.txt").read_text().split()]
wanted, kept = {norm(name): version for name, version in pins}, set()
for whl in folder.glob("*.whl"):
    name, version = whl.name.split("-")[:2]
    if wanted.get(norm(name), version) != version:
        whl.unlink()
    elif zipfile.ZipFile(whl).infolist()[0].compress_type == zipfile.ZIP_LZMA:
        kept.add(norm(name))
print("\n".join(f"{name}=={version}" for name, version in pins if norm(name) not in kept))
EOF
log "downloading $(wc -l < "$DIR/requirements.txt") wheels and 2 sources into $DIR"
"${PIP[@]}" download --no-deps "${TARGET[@]}" -d "$DIR" -r "$WORK/download.txt"
"${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation -d "$DIR" \
  mmcv==2.1.0 xtcocotools==1.14.3

# 4. imageio-ffmpeg's wheel stored again with LZMA: its static ffmpeg (80 MB) deflated is 29.5 MB.
"$WORK/venv/bin/python" - "$DIR"/imageio_ffmpeg-*.whl <<'EOF'
import os, sys, zipfile
for whl in filter(os.path.isfile, sys.argv[1:]):  # none where the target has it (--have)
    with zipfile.ZipFile(whl) as z:
        if z.infolist()[0].compress_type == zipfile.ZIP_LZMA:
            continue
        with zipfile.ZipFile(whl + ".tmp", "w") as out:
            for info in z.infolist():
                out.writestr(info, z.read(info), compress_type=zipfile.ZIP_LZMA)
    with zipfile.ZipFile(whl + ".tmp") as z:
        assert z.testzip() is None, f"{whl}: stored again, it no longer reads back"
    os.replace(whl + ".tmp", whl)
EOF
size=$(du -sm "$DIR" | cut -f1)
log "$DIR: $(ls "$DIR" | wc -l) files, $size MiB"
if (( size > MAX_MIB )); then
  log "error: $DIR is over $MAX_MIB MiB (PHAR_WHEELHOUSE_MAX_MIB): --have what the target has?"
  exit 1
fi

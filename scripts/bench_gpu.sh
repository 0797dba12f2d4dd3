#!/usr/bin/env bash
# On a machine with a CUDA GPU, one command: install phar (keeping the CUDA torch), run the small-
# config tests on CUDA, benchmark the seed's architectures at the reference settings and at the
# fast ones (RTMO-s, 1 PoseC3D clip, 1 TimeSformer view, pose every 2nd frame, bf16 and fp16), and
# write one JSON: x real time whole and per stream, peak GPU memory and CPU share of each stage.
#
#   bash scripts/bench_gpu.sh [OUT.json]          # default docs/bench/gpu.json
#   bash scripts/bench_gpu.sh --wheelhouse DIR [--install-only] [OUT.json]
#
# Within 10 minutes on an H100-class GPU once installed (each step has its own time limit, so a
# slow step is cut and reported, not waited for). The first run on a machine may build mmcv's CUDA
# ops (scripts/install.sh, once per torch version, needs nvcc): that build is outside the budget.
# PHAR_BENCH_SECONDS (default 60) sets the video's length; PHAR_VENV the environment.
#
# --wheelhouse DIR: for a machine that reaches no package index (DIR made elsewhere by
# scripts/gpu_wheelhouse.sh, relative to the repository root). Instead of install.sh: a venv
# ($PHAR_VENV, default .venv) on top of the machine's Python with the CUDA torch
# ($PHAR_BASE_PYTHON, default python3), whose packages it sees after its own (a .pth file, not
# --system-site-packages: that python3 may itself be a venv), so torch and numpy stay the machine's
# (pinned as installed, never replaced). Into it, from DIR alone (pip --no-index): setuptools<81
# (mmcv's setup.py imports pkg_resources, gone since 82), mmcv 2.1.0 built from source with its CUDA
# ops for this GPU's compute capability (nvcc; 217 s with 16 jobs, nvcc 13.0, on the lent H200),
# xtcocotools from source, the wheels in DIR/requirements.txt without their deps, phar (editable,
# offline). Then the same tests and benchmarks. The install takes about 5 minutes and the
# benchmark up to 10: where one command may run 10 minutes at most, run --install-only first (it
# stops once the stack imports), then the same command without it on the same machine.
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELHOUSE="" INSTALL_ONLY=0 args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --wheelhouse) WHEELHOUSE="${2:?--wheelhouse needs a folder}"; shift 2 ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
OUT="${args[0]:-docs/bench/gpu.json}"
LENGTH="${PHAR_BENCH_SECONDS:-60}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { printf '\033[1m[bench-gpu]\033[0m %s\n' "$*"; }

VENV="${PHAR_VENV:-${VIRTUAL_ENV:-.venv}}"
[[ -n "$WHEELHOUSE" ]] && VENV="${PHAR_VENV:-.venv}"  # an active venv there is the machine's own
PY="$VENV/bin/python"
[[ -x "$PY" ]] || PY="$(command -v python3)"

# 1. The stack, with mmcv's CUDA ops. install.sh keeps an installed CUDA torch and builds mmcv
#    against it with FORCE_CUDA when nvcc exists; it is skipped when everything already imports
#    (it needs the package index, which a lent GPU machine may not reach).
cuda_stack() {
  "$PY" - <<'EOF' 2>/dev/null
import torch
assert torch.cuda.is_available(), "no CUDA device"
import phar_cli.models.compat as compat
compat.import_openmmlab()
from mmcv.ops import nms, roi_align  # noqa: F401  compiled with CUDA: runs on a CUDA tensor
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]], device="cuda")
nms(boxes, torch.tensor([0.9, 0.8], device="cuda"), 0.5)
print(f"torch {torch.__version__} CUDA {torch.version.cuda} on {torch.cuda.get_device_name(0)}")
EOF
}
# --wheelhouse: the stack from DIR alone (no index), into a venv on top of the machine's Python.
install_wheelhouse() {
  local dir=$WHEELHOUSE base="${PHAR_BASE_PYTHON:-python3}" pins="$WORK/pins.txt" arch started
  local sources=("$dir/mmcv-2.1.0.tar.gz" "$dir/xtcocotools-1.14.3.tar.gz")
  [[ -f "$dir/requirements.txt" && -f "${sources[0]}" && -f "${sources[1]}" ]] \
    || { log "$dir is no wheelhouse (scripts/gpu_wheelhouse.sh makes one)"; return 1; }
  "$base" -c 'import torch; assert torch.cuda.is_available()' \
    || { log "$base has no torch that sees a CUDA GPU"; return 1; }
  # The venv sees its own packages first, then all that $base sees.
  [[ -x "$VENV/bin/python" ]] || "$base" -m venv --without-pip "$VENV" || return 1
  "$base" - "$VENV/bin/python" <<'EOF' || return 1
import subprocess, sys
site = subprocess.check_output([sys.argv[1], "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"], text=True).strip()
paths = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
with open(f"{site}/_phar_machine_site.pth", "w") as f:  # an import line: their .pth files run too
    f.write(f"import site; list(map(site.addsitedir, {paths!r}))\n")
EOF
  PY="$VENV/bin/python"
  "$PY" -c 'import importlib.metadata as m; print(*{f"{d.name}=={d.version}" for d in
             m.distributions() if d.name.lower() in ("torch", "numpy")}, sep="\n")' > "$pins" \
    || return 1
  local pip=("$PY" -m pip install --disable-pip-version-check -q --no-index --find-links "$dir"
             -c "$pins")
  log "wheelhouse: setuptools<81 and the build tools (keeping $(tr '\n' ' ' < "$pins"))"
  "${pip[@]}" "setuptools>=77.0.3,<81" wheel ninja cython numpy || return 1
  arch=$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())') || return 1
  command -v nvcc >/dev/null || log "warning: no nvcc on PATH (torch looks in \$CUDA_HOME)"
  log "wheelhouse: building mmcv 2.1.0's CUDA ops for compute capability $arch ($(nproc) jobs)"
  started=$(date +%s)
  MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$arch" MAX_JOBS="$(nproc)" \
    "${pip[@]}" --no-deps --no-build-isolation --no-cache-dir "${sources[0]}" || return 1
  log "wheelhouse: mmcv built in $(( $(date +%s) - started )) s; xtcocotools, the wheels, phar"
  "${pip[@]}" --no-deps --no-build-isolation --no-cache-dir "${sources[1]}" || return 1
  grep -viE "^($(cut -d= -f1 "$pins" | paste -sd'|'))==" "$dir/requirements.txt" \
    > "$WORK/wheels.txt"  # torch and numpy stay the machine's
  "${pip[@]}" --no-deps -r "$WORK/wheels.txt" || return 1
  "${pip[@]}" --no-deps --no-build-isolation -e . || return 1
  "$PY" -c "import phar_cli.models.compat as c; c.check_stack()"
}
if ! cuda_stack; then
  if [[ -n "$WHEELHOUSE" ]]; then
    log "installing from the wheelhouse $WHEELHOUSE (no package index; mmcv's CUDA ops build here)"
    install_wheelhouse || { log "install failed"; exit 1; }
  else
    log "installing (scripts/install.sh keeps the CUDA torch; mmcv's CUDA ops build once)"
    PHAR_WITH_RAY=0 bash scripts/install.sh || { log "install failed"; exit 1; }
  fi
  PY="$VENV/bin/python"
  cuda_stack || { log "no usable CUDA stack (torch.cuda or mmcv's CUDA ops missing)"; exit 1; }
fi
[[ $INSTALL_ONLY == 1 ]] && { log "installed, with $PY"; exit 0; }

# 2. The small-config tests on CUDA (PHAR_TEST_DEVICE: the tests that take a device use it).
log "tests on CUDA"
started=$(date +%s)
PHAR_TEST_DEVICE=cuda timeout 150 "$PY" -m pytest -q -p no:cacheprovider \
  tests/models tests/core tests/e2e/test_python_api.py > "$WORK/tests.txt" 2>&1
echo "$? $(( $(date +%s) - started ))" > "$WORK/tests.rc"
tail -3 "$WORK/tests.txt"

# 3. The pipeline on a generated video, one process per setting (so each has its own GPU peak).
run() {  # name, time limit (s), bench_pipeline options...
  local name=$1 limit=$2; shift 2
  log "pipeline: $name"
  timeout "$limit" "$PY" scripts/bench_pipeline.py --configs seed --device cuda \
    --seconds "$LENGTH" --json "$WORK/$name.json" "$@" > "$WORK/$name.txt" 2>&1
  echo $? > "$WORK/$name.rc"
  grep -E "x_real_time|CPU share|GPU memory" "$WORK/$name.txt" || tail -5 "$WORK/$name.txt"
}
run reference 270 --stages decode,model,whole
run fast_bf16 100 --stages decode,model,whole --profile fast --precision bf16
run fast_fp16 80 --stages whole --profile fast --precision fp16
run fast_bf16_10min 150 --stages whole --profile fast --precision bf16 --seconds 600

# 4. One JSON.
mkdir -p "$(dirname "$OUT")"
"$PY" - "$WORK" "$OUT" <<'EOF'
import json, pathlib, sys

work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rc, seconds = (work / "tests.rc").read_text().split()
report = {"tests": {"exit_code": int(rc), "seconds": int(seconds),
                    "summary": (work / "tests.txt").read_text().strip().splitlines()[-1:]},
          "runs": {}}
for name in ("reference", "fast_bf16", "fast_fp16", "fast_bf16_10min"):
    run = {"exit_code": int((work / f"{name}.rc").read_text())}
    path = work / f"{name}.json"
    if path.is_file():
        data = json.loads(path.read_text())
        report.setdefault("machine", data["machine"])
        r = data["ratios"]
        run.update(options=data["options"], streams_ran=data.get("streams_ran"),
                   x_real_time={k[len("x_real_time_"):]: v for k, v in r.items()
                                if k.startswith("x_real_time_")},
                   seconds=data["seconds"], gpu_peak_mib=data.get("gpu_peak_mib"),
                   cpu_share=data["cpu_share"], counts=data["counts"],
                   whole_over_decode_plus_model=r.get("whole_over_decode_plus_model"),
                   gpu_busy_share_whole=data.get("gpu_busy_share_whole"),
                   decode_frames_per_s=data.get("decode_frames_per_s"),
                   models=data.get("models"))
    else:
        run["log_tail"] = (work / f"{name}.txt").read_text().strip().splitlines()[-5:]
    report["runs"][name] = run
out.write_text(json.dumps(report, indent=2) + "\n")
print(f"written {out}")
EOF

#!/usr/bin/env bash
# On a machine with a CUDA GPU, one command: install phar (keeping the CUDA torch), run the small-
# config tests on CUDA, benchmark the seed's architectures at the reference settings and at the
# fast ones (RTMO-s, 1 PoseC3D clip, 1 TimeSformer view, pose every 2nd frame, bf16 and fp16), and
# write one JSON: x real time whole and per stream, peak GPU memory and CPU share of each stage.
#
#   bash scripts/bench_gpu.sh [OUT.json]          # default docs/bench/gpu.json
#
# Within 10 minutes on an H100-class GPU once installed (each step has its own time limit, so a
# slow step is cut and reported, not waited for). The first run on a machine may build mmcv's CUDA
# ops (scripts/install.sh, once per torch version, needs nvcc): that build is outside the budget.
# PHAR_BENCH_SECONDS (default 60) sets the video's length; PHAR_VENV the environment.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-docs/bench/gpu.json}"
LENGTH="${PHAR_BENCH_SECONDS:-60}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
log() { printf '\033[1m[bench-gpu]\033[0m %s\n' "$*"; }

VENV="${PHAR_VENV:-${VIRTUAL_ENV:-.venv}}"
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
if ! cuda_stack; then
  log "installing (scripts/install.sh keeps the CUDA torch; mmcv's CUDA ops build once)"
  PHAR_WITH_RAY=0 bash scripts/install.sh || { log "install failed"; exit 1; }
  PY="$VENV/bin/python"
  cuda_stack || { log "no usable CUDA stack (torch.cuda or mmcv's CUDA ops missing)"; exit 1; }
fi

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

# 4. One JSON.
mkdir -p "$(dirname "$OUT")"
"$PY" - "$WORK" "$OUT" <<'EOF'
import json, pathlib, sys

work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rc, seconds = (work / "tests.rc").read_text().split()
report = {"tests": {"exit_code": int(rc), "seconds": int(seconds),
                    "summary": (work / "tests.txt").read_text().strip().splitlines()[-1:]},
          "runs": {}}
for name in ("reference", "fast_bf16", "fast_fp16"):
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
                   cpu_share=data["cpu_share"], counts=data["counts"])
    else:
        run["log_tail"] = (work / f"{name}.txt").read_text().strip().splitlines()[-5:]
    report["runs"][name] = run
out.write_text(json.dumps(report, indent=2) + "\n")
print(f"written {out}")
EOF

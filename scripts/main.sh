#!/usr/bin/env bash
# The main job, offline, on a fresh machine: install phar; make a synthetic multimodal dataset
# (abstract shapes, a stick figure, tones); prepare it; train the three streams with the small
# configs and fit the late fusion — the "synthetic demo bundle"; then analyse a new synthetic video
# of known parts (off the window grid, with stretches of nothing) with `phar timestamps`, `tags`,
# `demo` and `filter`, and measure it against its truth with `phar eval`.
#   bash scripts/main.sh            (outputs under ./phar-out, or $PHAR_OUT)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
VENV="${PHAR_VENV:-${VIRTUAL_ENV:-.venv}}"
PY="$VENV/bin/python"
PHAR="$VENV/bin/phar"
OUT="${PHAR_OUT:-phar-out}"
DATA="$OUT/synthetic"
BUNDLE="$OUT/synthetic-demo-bundle"
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "1/7 synthetic dataset (abstract shapes, a stick figure and tones): $DATA"
"$PY" scripts/make_synthetic_dataset.py "$DATA" --seed 0
L="$DATA/labels"
step "2/7 phar prepare-data (poses from the figure's coloured joints: --pose-backend markers)"
"$PHAR" prepare-data "$DATA/videos" "$DATA/annotations.csv" -o "$OUT/dataset" \
  --label-maps "rgb=$L/rgb.txt,skeleton=$L/skeleton.txt,audio=$L/audio.txt" --pose-backend markers
for stream in rgb skeleton audio; do
  step "3/7 phar train $stream (small config) -> synthetic demo bundle"
  "$PHAR" train "$stream" "$OUT/dataset" --small --work-dir "$BUNDLE/$stream"
done
step "4/7 phar train fusion (late-fusion weights fitted on the validation clips)"
"$PHAR" train fusion "$OUT/dataset" --work-dir "$BUNDLE" --bundle-name "synthetic demo bundle"
step "5/7 a new synthetic video of known parts, off the 7 s grid, with stretches of nothing"
PARTS="-:4.5,alpha:12.5,-:8,delta:15,beta:11.5,-:5.5"
"$PY" scripts/make_synthetic_dataset.py "$OUT/sample.mp4" --compose="$PARTS" --seed 7 \
  --truth "$OUT/sample-truth.csv"
step "6/7 phar timestamps, tags, demo and filter with the synthetic demo bundle"
"$PHAR" timestamps "$OUT/sample.mp4" --bundle "$BUNDLE" -o "$OUT/sample.json"
"$PHAR" timestamps "$OUT/sample.mp4" --from-json "$OUT/sample.json" -f srt -o "$OUT/sample.srt"
"$PHAR" tags "$OUT/sample.json" --topk 3
"$PHAR" demo "$OUT/sample.mp4" "$OUT/sample-demo.mp4" --from-json "$OUT/sample.json"
"$PHAR" filter "$OUT/sample.mp4" "$OUT/sample-cut.mp4" --from-json "$OUT/sample.json" \
  --segments-out "$OUT/sample-cut.json"
"$PY" - "$OUT/sample-cut.json" "$OUT/sample-truth.csv" <<'PY'
import csv, json, sys
kept = [(s["start"], s["end"]) for s in json.load(open(sys.argv[1]))["segments"]]
truth = [(float(r["start"]), float(r["end"])) for r in csv.DictReader(open(sys.argv[2]))]
both = sum(max(0.0, min(b, d) - max(a, c)) for a, b in kept for c, d in truth)
action, cut = sum(d - c for c, d in truth), sum(b - a for a, b in kept)
print(f"filter: kept {cut:.1f} s; the video holds {action:.1f} s of action; "
      f"{both:.1f} s of the kept seconds are action ({both / action:.0%} of the action kept, "
      f"{both / cut:.0%} of the cut is action)")
PY
step "7/7 phar eval: the sample's segments against its truth"
"$PHAR" eval "$OUT/sample.json" "$OUT/sample-truth.csv"
echo
echo "outputs in $OUT:"
echo "  sample.mp4, sample-truth.csv  the analysed video and its parts ($PARTS; - is nothing)"
echo "  sample.json, sample.srt    predictions + segments, and subtitles"
echo "  sample-demo.mp4            the video annotated with the predictions"
echo "  sample-cut.mp4, .json      the cut without the parts where nothing happens"
echo "  synthetic-demo-bundle/     the synthetic demo bundle: trained models, metrics.json and"
echo "                             training.png per stream, fusion.json, bundle.json"
echo "  dataset/                   the prepared dataset (dataset.json, report.png)"

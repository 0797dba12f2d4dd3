#!/usr/bin/env bash
# The main job, offline, on a fresh machine: install phar; make a synthetic multimodal dataset
# (abstract shapes, a stick figure, tones); prepare it; train the three streams with the small
# configs and fit the late fusion — the "synthetic demo bundle"; then analyse a new synthetic video
# of known segments with `phar timestamps` and `phar tags`.
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
step "1/6 synthetic dataset (abstract shapes, a stick figure and tones): $DATA"
"$PY" scripts/make_synthetic_dataset.py "$DATA" --seed 0
L="$DATA/labels"
step "2/6 phar prepare-data (poses from the figure's coloured joints: --pose-backend markers)"
"$PHAR" prepare-data "$DATA/videos" "$DATA/annotations.csv" -o "$OUT/dataset" \
  --label-maps "rgb=$L/rgb.txt,skeleton=$L/skeleton.txt,audio=$L/audio.txt" --pose-backend markers
for stream in rgb skeleton audio; do
  step "3/6 phar train $stream (small config) -> synthetic demo bundle"
  "$PHAR" train "$stream" "$OUT/dataset" --small --work-dir "$BUNDLE/$stream"
done
step "4/6 phar train fusion (late-fusion weights fitted on the validation clips)"
"$PHAR" train fusion "$OUT/dataset" --work-dir "$BUNDLE" --bundle-name "synthetic demo bundle"
step "5/6 a new synthetic video of known segments: alpha 0-14 s, delta 14-28 s, beta 28-42 s"
"$PY" scripts/make_synthetic_dataset.py "$OUT/sample.mp4" --compose alpha:14,delta:14,beta:14 --seed 7
step "6/6 phar timestamps, tags and demo with the synthetic demo bundle"
"$PHAR" timestamps "$OUT/sample.mp4" --bundle "$BUNDLE" -o "$OUT/sample.json"
"$PHAR" timestamps "$OUT/sample.mp4" --from-json "$OUT/sample.json" -f srt -o "$OUT/sample.srt"
"$PHAR" tags "$OUT/sample.json" --topk 3
"$PHAR" demo "$OUT/sample.mp4" "$OUT/sample-demo.mp4" --from-json "$OUT/sample.json"
echo
echo "outputs in $OUT:"
echo "  sample.mp4                 the analysed video (alpha, delta, beta; 14 s each)"
echo "  sample.json, sample.srt    predictions + segments, and subtitles"
echo "  sample-demo.mp4            the video annotated with the predictions"
echo "  synthetic-demo-bundle/     the synthetic demo bundle: trained models, metrics.json and"
echo "                             training.png per stream, fusion.json, bundle.json"
echo "  dataset/                   the prepared dataset (dataset.json, report.png)"

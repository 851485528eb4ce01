#!/usr/bin/env bash
# Run H (issue 12, ctglip-ref card "The organ mask served"): run G's recipe plus --mask-augment 0.25 0.25, the
# mask-shift measurement, then a package built, calibrated and compared in OUT exactly as retrain_v2.sh does
# (not adopted: the shipped package stays run G's). Needs the crop data of experiments/generate-crops.sh in
# WORK/crops and plugin/target/ct-triage.jar. About 57 min on 2 cores.
# Usage: experiments/run-h.sh WORK OUT
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
M="$(cd "$HERE/.." && pwd)"
ROOT="$(cd "$M/../.." && pwd)"
W="$1"; OUT="$2"
PY=/usr/bin/python3
JAR="$ROOT/plugin/target/ct-triage.jar"
SCAN=(--matrix 512 --slices 240 --slice-spacing 1.5)
$PY "$M/train_crops.py" --train "$W"/crops/train-* --val "$W/crops/val-random" \
  --organs liver gallbladder kidney pancreas spleen aorta --epochs 20 --time-budget-min 40 --threads 2 \
  --contrast-channel --pos-oversample 3 --mask-augment 0.25 0.25 --checkpoint "$W/crops-encoder-H.pt" > "$W/train-H.log" 2>&1
$PY "$HERE/mask_shift.py" "$W/crops-encoder-H.pt" "$W/crops/val-random" > "$W/maskshift-H.log" 2>&1
$PY "$M/package_v2.py" build --checkpoint "$W/crops-encoder-H.pt" --val "$W/crops/val-random" --out "$OUT" \
  --train-command "train_crops.py --contrast-channel --pos-oversample 3 --mask-augment 0.25 0.25, 40 min" > "$W/build-H.log" 2>&1
java -jar "$JAR" evaluate --model "$OUT" --seed 2000000 --cases 120 "${SCAN[@]}" --margins "$W/cal-H.json" > "$W/cal-H.log" 2>&1
$PY "$M/package_v2.py" calibrate --margins "$W/cal-H.json" --out "$OUT" > "$W/calibrate-H.log" 2>&1
java -jar "$JAR" evaluate --model "$OUT" --seed 500000 --cases 200 "${SCAN[@]}" --margins "$W/unseen-H.json" > "$W/unseen-H.log" 2>&1
$PY "$M/package_v2.py" compare --margins "$W/unseen-H.json" --out "$OUT" | tee "$W/compare-H.log"

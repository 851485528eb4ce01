#!/usr/bin/env bash
# Run I (issue 12, ctglip-ref card "Run I: a lung crop encoder"): a lung-only crop encoder trained against run G's
# frozen text encoder (train_crops.py --text-from), joined to run G's abdominal encoders in one package
# (package_v2.py build --organ-checkpoint lung=...), calibrated and compared in OUT exactly as retrain_v2.sh does
# (not adopted: the shipped package stays run G's). Needs the crop data of experiments/generate-crops.sh in
# WORK/crops, run G's checkpoint in WORK/crops-encoder-contrast.pt (retrain_v2.sh's crops-encoder-v2.pt is the
# same run) and plugin/target/ct-triage.jar. About 35 min on 2 cores (15 min of training).
# Usage: experiments/run-i.sh WORK OUT
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
M="$(cd "$HERE/.." && pwd)"
ROOT="$(cd "$M/../.." && pwd)"
W="$1"; OUT="$2"
PY=/usr/bin/python3
JAR="$ROOT/plugin/target/ct-triage.jar"
SCAN=(--matrix 512 --slices 240 --slice-spacing 1.5)
$PY "$M/train_crops.py" --train "$W"/crops/train-* --val "$W/crops/val-random" --organs lung --contrast-channel \
  --pos-oversample 3 --oversample-findings pulmonary_nodule consolidation --text-from "$W/crops-encoder-contrast.pt" \
  --epochs 30 --time-budget-min 15 --threads 2 --checkpoint "$W/crops-encoder-lung-I.pt" > "$W/train-I.log" 2>&1
$PY "$M/package_v2.py" build --checkpoint "$W/crops-encoder-contrast.pt" --organ-checkpoint "lung=$W/crops-encoder-lung-I.pt" \
  --organs lung liver gallbladder kidney pancreas spleen aorta --val "$W/crops/val-random" --out "$OUT" \
  --train-command "run G for the abdominal organs; run I (train_crops.py --organs lung --text-from run G, 15 min) for the lungs" \
  > "$W/build-I.log" 2>&1
java -jar "$JAR" evaluate --model "$OUT" --seed 2000000 --cases 120 "${SCAN[@]}" --margins "$W/cal-I.json" > "$W/cal-I.log" 2>&1
$PY "$M/package_v2.py" calibrate --margins "$W/cal-I.json" --out "$OUT" > "$W/calibrate-I.log" 2>&1
java -jar "$JAR" evaluate --model "$OUT" --seed 500000 --cases 200 "${SCAN[@]}" --margins "$W/unseen-I.json" \
  --json "$W/unseen-I-report.json" > "$W/unseen-I.log" 2>&1
$PY "$M/package_v2.py" compare --margins "$W/unseen-I.json" --out "$OUT" | tee "$W/compare-I.log"

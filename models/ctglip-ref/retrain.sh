#!/usr/bin/env bash
# Retrains the ctglip-ref reference model FROM SCRATCH and rewrites this package:
#   1. generates synthetic training and validation arrays with the Java generator
#      (bin/ct-triage generate --training-arrays --preprocessing preprocessing.json ...) into a scratch
#      folder (default <repo>/target/training, git-ignored; override with CTGLIP_WORK=DIR);
#   2. runs train.py: training, validation, Platt calibration, ONNX export (opset 17), and writes
#      image_encoder.onnx, text_encoder.onnx, vocabulary.txt, dictionary.json (calibrated),
#      MODEL_CARD.md and manifest.json into this folder.
# Seeds: training 1000000+ (random) and 1100000+1000*k (one forced finding k), validation 2000000+;
# seeds below 1000000 are reserved for evaluation and never used here.
# Needs Debian's /usr/bin/python3 with python3-torch (1.13, CPU), python3-onnx and python3-numpy.
# About 10 min of data generation + ~45 min of training on 2 CPU cores.
# Usage: models/ctglip-ref/retrain.sh        (EPOCHS=5 and CTGLIP_WORK may be set in the environment)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="${CTGLIP_WORK:-$ROOT/target/training}"
EPOCHS="${EPOCHS:-5}"
PY=/usr/bin/python3
# Case counts and the output folder may be overridden for a quick smoke run of the whole pipeline,
# e.g. N_RANDOM=8 N_FORCED=1 N_VAL=8 EPOCHS=1 CTGLIP_OUT=/tmp/pkg models/ctglip-ref/retrain.sh
N_RANDOM="${N_RANDOM:-700}"; N_FORCED="${N_FORCED:-15}"; N_VAL="${N_VAL:-200}"
OUT="${CTGLIP_OUT:-$HERE}"
GEN=("$ROOT/bin/ct-triage" generate --training-arrays --preprocessing "$HERE/preprocessing.json"
     --matrix 128 --slices 96 --slice-spacing 3.75)

t0=$(date +%s)
rm -rf "$WORK"; mkdir -p "$WORK"
echo "retrain: generating $N_RANDOM random training cases" >&2
"${GEN[@]}" --random --seed 1000000 --cases $N_RANDOM --out "$WORK/train-random" > "$WORK/generate.log"
k=0
for f in $("$PY" -c 'import json,sys; print(" ".join(f["id"] for f in json.load(open(sys.argv[1]))["findings"]))' "$HERE/dictionary.json"); do
  echo "retrain: generating $N_FORCED cases with forced finding $f" >&2
  "${GEN[@]}" --random --findings "$f" --seed $((1100000 + 1000 * k)) --cases $N_FORCED --out "$WORK/train-$f" >> "$WORK/generate.log"
  k=$((k + 1))
done
echo "retrain: generating $N_VAL validation cases" >&2
"${GEN[@]}" --random --seed 2000000 --cases $N_VAL --out "$WORK/val-random" >> "$WORK/generate.log"
t1=$(date +%s)

"$PY" "$HERE/train.py" --train "$WORK"/train-* --val "$WORK/val-random" --out "$OUT" --dictionary "$HERE/dictionary.json" \
  --epochs "$EPOCHS" --seed 1234 --threads 2 --checkpoint "$WORK/ctglip-ref.pt" \
  --generation-seconds $((t1 - t0)) --command "models/ctglip-ref/retrain.sh" \
  --data-description "$N_RANDOM random cases (--random, seeds 1000000..$((1000000 + N_RANDOM - 1))) + $k x $N_FORCED cases with one forced finding each (--random --findings F, seeds 1100000+1000*k .. +$((N_FORCED - 1)), k = finding index in dictionary.json); generator options --matrix 128 --slices 96 --slice-spacing 3.75 --preprocessing preprocessing.json"
echo "retrain: done in $(( $(date +%s) - t0 )) s; package in $OUT" >&2

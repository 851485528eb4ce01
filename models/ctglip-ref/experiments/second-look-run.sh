#!/usr/bin/env bash
# Runs Q and R (issue 12, the nodules): the dot filter's second look, from scratch. 1.5 mm lung crops of 145 phantoms
# with a forced nodule (seeds 1100000+) and 200 random ones (seeds 1000000+) (generate --training-crops
# organ-crops-lung-1.5mm.json, about 12 min); run R: the same lung crops as serving makes them for 160 of the random
# ones (evaluate --crop-dump with MODEL's coarse stage, about 20 min), each with the training path's rendering of the
# same grid, because the CNN trained on the training path's crops alone scored served negatives far higher (its
# 1.5 mm crops are sampled from a region rendered on their own footprint lattice, served ones are interpolated
# from the 0.78 mm volume: a slightly smoother noise texture); the filter's 64 largest candidates per lung crop with
# their patches (second_look.py candidates, about 16 min on 2 workers), then the CNN on the 32 largest
# (second_look.py train, MINUTES of wall time on 2 threads). With VAL=DIR... set (validation crops of the same spec),
# also prints the validation figures of the filter alone and of the second look.
# With PROPOSE set (e.g. PROPOSE="--propose-factor 2" K=48: the 3 mm lung filter of docs/benchmarks.md's redesign),
# the candidates are those of the filter on the coarser crop, moved onto their blob as DotFilters.finePatches moves
# them, into candidates-PROPOSED directories, and the CNN trains on the K largest (default 32).
# Usage: experiments/second-look-run.sh WORK MINUTES MODEL   (MODEL: the package being built, its coarse stage makes
#        the served crops; writes WORK/second-look/second-look.pt; needs plugin/target/ct-triage.jar)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$1/second-look"
MINUTES="$2"
MODEL="${3:?usage: second-look-run.sh WORK MINUTES MODEL}"
PY=/usr/bin/python3
GEN=(java -jar "$ROOT/plugin/target/ct-triage.jar" generate --training-crops "$HERE/organ-crops-lung-1.5mm.json"
     --matrix 512 --slices 240 --slice-spacing 1.5)
mkdir -p "$WORK"
[ -f "$WORK/forced/case-00144/truth.json" ] || "${GEN[@]}" --random --findings pulmonary_nodule --seed 1100000 \
  --cases 145 --out "$WORK/forced" > "$WORK/generate-forced.log"
[ -f "$WORK/random/case-00199/truth.json" ] || "${GEN[@]}" --random --seed 1000000 --cases 200 \
  --out "$WORK/random" > "$WORK/generate-random.log"
[ -f "$WORK/served/case-00159/truth.json" ] || java -jar "$ROOT/plugin/target/ct-triage.jar" evaluate \
  --model "$MODEL" --seed 1000000 --cases 160 --matrix 512 --slices 240 --slice-spacing 1.5 \
  --crop-dump "$WORK/served" --crop-dump-spec "$HERE/organ-crops-lung-1.5mm.json" > "$WORK/served.log" 2>&1
read -r -a P <<< "${PROPOSE:-}"
C="$WORK/candidates${PROPOSE:+-proposed}"
K="${K:-32}"
"$PY" "$HERE/second_look.py" candidates --crops "$WORK/forced" "$WORK/random" --out "$C" --k 64 ${P[@]+"${P[@]}"}
"$PY" "$HERE/second_look.py" candidates --crops "$WORK/served" --out "$C-served" --k 64 ${P[@]+"${P[@]}"}
"$PY" "$HERE/second_look.py" candidates --crops "$WORK/served" --out "$C-served-render" --k 64 \
  --hu render-hu --organ render-organ ${P[@]+"${P[@]}"}
VALS=()
if [ -n "${VAL:-}" ]; then
  "$PY" "$HERE/second_look.py" candidates --crops $VAL --out "$C-val" --k 64 ${P[@]+"${P[@]}"}
  VALS=(--val "$C-val")
fi
"$PY" "$HERE/second_look.py" train --train "$C" "$C-served" "$C-served-render" ${VALS[@]+"${VALS[@]}"} --k "$K" \
  --minutes "$MINUTES" --checkpoint "$WORK/second-look${PROPOSE:+-proposed}.pt"

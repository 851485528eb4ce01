#!/usr/bin/env bash
# Run Q (issue 12, the nodules): the dot filter's second look, from scratch. 1.5 mm lung crops of 145 phantoms with a
# forced nodule (seeds 1100000+) and 200 random ones (seeds 1000000+) (generate --training-crops
# organ-crops-lung-1.5mm.json, about 12 min), the filter's 64 largest candidates per lung crop with their patches
# (second_look.py candidates, about 9 min on 2 workers), then the CNN on the 32 largest (second_look.py train,
# MINUTES of wall time on 2 threads). With VAL=DIR... set (validation crops of the same spec), also prints the
# validation figures of the filter alone and of the second look.
# Usage: experiments/second-look-run.sh WORK MINUTES   (writes WORK/second-look/second-look.pt; needs
#        plugin/target/ct-triage.jar)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$1/second-look"
MINUTES="$2"
PY=/usr/bin/python3
GEN=(java -jar "$ROOT/plugin/target/ct-triage.jar" generate --training-crops "$HERE/organ-crops-lung-1.5mm.json"
     --matrix 512 --slices 240 --slice-spacing 1.5)
mkdir -p "$WORK"
[ -f "$WORK/forced/case-00144/truth.json" ] || "${GEN[@]}" --random --findings pulmonary_nodule --seed 1100000 \
  --cases 145 --out "$WORK/forced" > "$WORK/generate-forced.log"
[ -f "$WORK/random/case-00199/truth.json" ] || "${GEN[@]}" --random --seed 1000000 --cases 200 \
  --out "$WORK/random" > "$WORK/generate-random.log"
"$PY" "$HERE/second_look.py" candidates --crops "$WORK/forced" "$WORK/random" --out "$WORK/candidates" --k 64
VALS=()
if [ -n "${VAL:-}" ]; then
  "$PY" "$HERE/second_look.py" candidates --crops $VAL --out "$WORK/candidates-val" --k 64
  VALS=(--val "$WORK/candidates-val")
fi
"$PY" "$HERE/second_look.py" train --train "$WORK/candidates" "${VALS[@]}" --k 32 --minutes "$MINUTES" \
  --checkpoint "$WORK/second-look.pt"

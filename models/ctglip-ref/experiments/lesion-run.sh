#!/usr/bin/env bash
# Run L (issue 12): a focal-lesion detector (lesion_detector.py) for FINDINGS of ORGAN, trained on that organ's
# crops as organ-crops-SPEC.json cuts them. Training: 120 phantoms with each finding forced (FINDING:N for N
# instead; seeds 1100000 + 1000 k, k its index in dictionary.json, as generate-crops.sh) and 120 random
# (1000000+); validation: 100 random (2000000+, the calibration seeds, never trained on) and 30 with each finding
# forced (2100000 + 1000 k). Per-case scores in WORK/lesion-SPEC/scores.json (lesion_compare.py reads them).
# Usage: experiments/lesion-run.sh WORK SPEC ORGAN "FINDING[:N]..." MINUTES [PATCH [lesion_detector.py options]]
#   run L:  lesion-run.sh target liver-1.5mm liver "liver_cyst liver_mass:90" 25
#           lesion-run.sh target kidney kidney renal_cyst 15
#   run M (batch normalisation, the whole crop in one pass): lesion-run.sh target kidney kidney renal_cyst 15 48 --norm batch
#   run O (nodules, lung input): lesion-run.sh target lung-3mm lung pulmonary_nodule 25 48 --norm batch --contrast-scale 300 --contrast-clip 3
#   run S (pancreas, 4 x the masses): lesion-run.sh target pancreas pancreas pancreatic_mass:480 25 48 --norm batch
# Needs plugin/target/ct-triage.jar (as generate-crops.sh) and Debian's python3-torch.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$1"; SPEC="$2"; ORGAN="$3"; read -r -a FINDINGS <<< "$4"; MINUTES="$5"; PATCH="${6:-48}"; EXTRA=("${@:7}")
D="$WORK/lesion-$SPEC"
GEN=(java -jar "$ROOT/plugin/target/ct-triage.jar" generate --training-crops "$HERE/organ-crops-$SPEC.json"
     --matrix 512 --slices 240 --slice-spacing 1.5)
gen() {  # DIR SEED CASES [FINDING]
  [ -f "$D/$1/case-$(printf %05d $(($3 - 1)))/truth.json" ] && return
  "${GEN[@]}" --random ${4:+--findings "$4"} --seed "$2" --cases "$3" --out "$D/$1" > /dev/null
}
index() { python3 -c 'import json,sys; print([f["id"] for f in json.load(open(sys.argv[1]))["findings"]].index(sys.argv[2]))' \
  "$HERE/../dictionary.json" "$1"; }
t0=$(date +%s)
NAMES=()
for token in "${FINDINGS[@]}"; do
  f="${token%%:*}"; n=120; [ "$token" = "$f" ] || n="${token#*:}"
  NAMES+=("$f")
  k=$(index "$f")
  gen "train-$f" $((1100000 + 1000 * k)) "$n" "$f"
  gen "val-$f" $((2100000 + 1000 * k)) 30 "$f"
done
gen train-random 1000000 120
gen val-random 2000000 100
echo "lesion-run: $ORGAN crops ($SPEC) in $(( $(date +%s) - t0 )) s, $(du -sh "$D" | cut -f1)"
/usr/bin/python3 "$HERE/lesion_detector.py" --train "$D"/train-* --val "$D"/val-* --organ "$ORGAN" \
  --findings "${NAMES[@]}" --minutes "$MINUTES" --patch "$PATCH" --threads 2 --checkpoint "$D/detector.pt" \
  --scores "$D/scores.json" "${EXTRA[@]}"

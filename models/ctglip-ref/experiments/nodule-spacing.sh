#!/usr/bin/env bash
# Does a finer lung crop make nodules visible to the oracle? The same 120 phantoms (40 with a forced
# nodule, seeds 1100000+, and 80 random, seeds 1000000+) cropped per lung at 3 mm and at 2 mm
# (organ-crops-lung-3mm.json / -2mm.json; the rest of organ-crops.json unchanged), then
# oracle.py --findings pulmonary_nodule on each. Output: logs/nodule-spacing.log.
# Usage: experiments/nodule-spacing.sh WORK   (needs plugin/target/ct-triage.jar, as generate-crops.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$1"
for mm in 3 2; do
  GEN=(java -jar "$ROOT/plugin/target/ct-triage.jar" generate --training-crops "$HERE/organ-crops-lung-${mm}mm.json"
       --matrix 512 --slices 240 --slice-spacing 1.5)
  rm -rf "$WORK/lung-${mm}mm"
  t0=$(date +%s)
  "${GEN[@]}" --random --findings pulmonary_nodule --seed 1100000 --cases 40 --out "$WORK/lung-${mm}mm/forced" > /dev/null
  "${GEN[@]}" --random --seed 1000000 --cases 80 --out "$WORK/lung-${mm}mm/random" > /dev/null
  echo "## lung crops at ${mm} mm (generated in $(( $(date +%s) - t0 )) s)"
  /usr/bin/python3 "$HERE/oracle.py" --data "$WORK/lung-${mm}mm" --findings pulmonary_nodule
done

#!/usr/bin/env bash
# Do finer liver crops make liver cysts and masses visible to the oracle? The same 150 phantoms (40 with a
# forced liver cyst, seeds 1104000+, 30 with a forced liver mass, seeds 1106000+, 80 random, seeds 1000000+)
# cropped around the liver at 3 mm (the shipped spacing), 2 mm and 1.5 mm (organ-crops-liver-*mm.json: the
# liver entry of organ-crops.json with the grid scaled to the same field of view), then
# oracle.py --findings liver_cyst liver_mass on each. Output: logs/liver-spacing.log.
# Usage: experiments/liver-spacing.sh WORK   (needs plugin/target/ct-triage.jar, as generate-crops.sh)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="$1"
for mm in 3 2 1.5; do
  GEN=(java -jar "$ROOT/plugin/target/ct-triage.jar" generate --training-crops "$HERE/organ-crops-liver-${mm}mm.json"
       --matrix 512 --slices 240 --slice-spacing 1.5)
  rm -rf "$WORK/liver-${mm}mm"
  t0=$(date +%s)
  "${GEN[@]}" --random --findings liver_cyst --seed 1104000 --cases 40 --out "$WORK/liver-${mm}mm/cyst" > /dev/null
  "${GEN[@]}" --random --findings liver_mass --seed 1106000 --cases 30 --out "$WORK/liver-${mm}mm/mass" > /dev/null
  "${GEN[@]}" --random --seed 1000000 --cases 80 --out "$WORK/liver-${mm}mm/random" > /dev/null
  echo "## liver crops at ${mm} mm (generated in $(( $(date +%s) - t0 )) s, $(du -sh "$WORK/liver-${mm}mm" | cut -f1))"
  /usr/bin/python3 "$HERE/oracle.py" --data "$WORK/liver-${mm}mm" --findings liver_cyst liver_mass
done

#!/usr/bin/env bash
# Organ-crop training data for the issue-12 experiments (oracle.py, train_crops.py): the same seed
# scheme as retrain.sh (training 1000000+ random and 1100000+1000*k with forced finding k,
# validation 2000000+), rendered by `ct-triage generate --training-crops organ-crops.json` from a
# phantom planned at 512 x 512 (0.78 mm) x 240 slices of 1.5 mm (the 360 mm coverage of retrain.sh).
# Usage: experiments/generate-crops.sh OUT [N_RANDOM N_FORCED N_VAL]   (defaults 320 10 150)
# Needs plugin/target/ct-triage.jar (flock /tmp/mvn.lock mvn -B -ntp -o -q package -pl plugin -am -DskipTests).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
OUT="$1"; N_RANDOM="${2:-320}"; N_FORCED="${3:-10}"; N_VAL="${4:-150}"
GEN=(java -jar "$ROOT/plugin/target/ct-triage.jar" generate --training-crops "$HERE/organ-crops.json"
     --matrix 512 --slices 240 --slice-spacing 1.5)
mkdir -p "$OUT"
t0=$(date +%s)
"${GEN[@]}" --random --seed 1000000 --cases "$N_RANDOM" --out "$OUT/train-random" > "$OUT/generate.log"
k=0
for f in $(python3 -c 'import json,sys; print(" ".join(f["id"] for f in json.load(open(sys.argv[1]))["findings"]))' "$HERE/../dictionary.json"); do
  "${GEN[@]}" --random --findings "$f" --seed $((1100000 + 1000 * k)) --cases "$N_FORCED" --out "$OUT/train-$f" >> "$OUT/generate.log"
  k=$((k + 1))
done
"${GEN[@]}" --random --seed 2000000 --cases "$N_VAL" --out "$OUT/val-random" >> "$OUT/generate.log"
echo "generate-crops: $(( $(date +%s) - t0 )) s" | tee -a "$OUT/generate.log"

#!/usr/bin/env bash
# Experiment (not the package build): do the footprint min/max input channels of preprocessing.json
# make the focal findings learnable, and does more training help? Run once on a lent GPU machine
# (16 cores, one H200; no JDK there, so a jlink'ed runtime travels in .jre and the generator's jars
# in .gen/lib). Same data recipe as retrain.sh; three trainings side by side on the GPU:
#   A: channels 0,1 only (wide + soft tissue footprint means, i.e. the previous input), 5 epochs
#   B: all channels, 5 epochs (what retrain.sh does on 2 CPU cores in about 45 minutes)
#   C: all channels, as many epochs as 4 minutes of GPU allow (LR annealed over that time)
# logs/train-{A,B,C}.log are that run (2026-11-28). logs/train-{D,E}.log are a second run of commit
# 08961cc, whose train.py had a lesion head supervised by per-voxel finding truth (D: 5 epochs,
# E: 1.5 minutes); it gained nothing at the 5-epoch budget and was removed.
# Each prints validation AUC per finding (seeds 2000000+) and Dice; logs land in $OUT.
set -uo pipefail
OUT="${OUT:-/tmp/footprint-out}"; mkdir -p "$OUT"
W=/tmp/ctglip-data; rm -rf "$W"; mkdir -p "$W"
J="$PWD/.jre/bin/java"; CP="$PWD/.gen/lib/*"; MAIN="$(cat .gen/main-class)"
SPEC="$PWD/models/ctglip-ref/preprocessing.json"
N_RANDOM="${N_RANDOM:-700}"; N_FORCED="${N_FORCED:-15}"; N_VAL="${N_VAL:-200}"; CHUNK="${CHUNK:-25}"
t0=$(date +%s)
jobs_file="$W/jobs"; : > "$jobs_file"
# one line per generator run: out-folder seed cases [finding]
for ((s = 0; s < N_RANDOM; s += CHUNK)); do n=$(( N_RANDOM - s < CHUNK ? N_RANDOM - s : CHUNK )); echo "train-random-$s $((1000000 + s)) $n" >> "$jobs_file"; done
k=0
for f in $(python3 -c 'import json,sys; print(" ".join(f["id"] for f in json.load(open(sys.argv[1]))["findings"]))' models/ctglip-ref/dictionary.json); do
  echo "train-$f $((1100000 + 1000 * k)) $N_FORCED $f" >> "$jobs_file"; k=$((k + 1))
done
for ((s = 0; s < N_VAL; s += CHUNK)); do n=$(( N_VAL - s < CHUNK ? N_VAL - s : CHUNK )); echo "val-random-$s $((2000000 + s)) $n" >> "$jobs_file"; done
xargs -P "$(nproc)" -L 1 bash -c '"$0" -Xmx2g -Djava.util.concurrent.ForkJoinPool.common.parallelism=1 -cp "$1" "$2" --training-arrays --preprocessing "$3" --matrix 128 --slices 96 --slice-spacing 3.75 --threads 1 --random --out "$4/$5" --seed "$6" --cases "$7" ${8:+--findings $8} > "$4/$5.log" 2>&1 || echo "generate $5 failed: $(tail -3 "$4/$5.log")"' \
  "$J" "$CP" "$MAIN" "$SPEC" "$W" < "$jobs_file"
echo "generated $(ls -d $W/*/case-* | wc -l) cases in $(( $(date +%s) - t0 )) s on $(nproc) cores"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null
"${PY:-python3}" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
TRAIN=$(ls -d $W/train-*); VAL=$(ls -d $W/val-random-*)
run() { # name, extra args
  local name=$1; shift
  PYTHONUNBUFFERED=1 "${PY:-python3}" models/ctglip-ref/train.py --train $TRAIN --val $VAL --out "$W/pkg-$name" \
    --dictionary models/ctglip-ref/dictionary.json --seed 1234 --threads "${THREADS:-4}" --device "${DEVICE:-cuda}" --skip-export \
    --log-every 200 "$@" > "$OUT/train-$name.log" 2>&1
  echo "run $name exit $? after $(( $(date +%s) - t0 )) s"
}
run A --epochs "${E_SHORT:-5}" --channels 0,1 &
run B --epochs "${E_SHORT:-5}" &
run C --epochs "${E_LONG:-40}" --time-budget-min "${C_MINUTES:-4}" &
wait
for r in A B C; do echo "== $r"; grep -E "AUC|dice|loaded|ep .* step .*/" "$OUT/train-$r.log" | tail -22; done

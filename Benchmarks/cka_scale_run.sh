#!/usr/bin/env bash
# Exact full-data linear CKA over many examples: writes two activation files of N × P float32
# (make_activations.py, different noise over a shared code), runs `compare cka A B --estimator
# full` and `--estimator debiased`, and records wall, user and system time and peak anonymous and
# file-backed memory (sampled from /proc every half second). Memory is 8·(p² + q² + p·q) bytes
# of accumulators plus one batch, whatever N.
# Usage: Benchmarks/cka_scale_run.sh DIR [N=1000000] [P=4096] [DTYPE=f32|f16] [ESTIMATORS="full debiased"]
set -euo pipefail
DIR=${1:?usage: cka_scale_run.sh DIR [N] [P]}
N=${2:-1000000}
P=${3:-4096}
DTYPE=${4:-f32}
ESTIMATORS=${5:-full debiased}
cd "$(dirname "$0")/.."
. Benchmarks/sampled_run.sh
swift build -c release --product compare >/dev/null
C=$PWD/.build/release/compare
mkdir -p "$DIR"
for s in 1 2; do
  [ -f "$DIR/act-$N-$P-$DTYPE-$s.safetensors" ] || python3 Benchmarks/make_activations.py "$DIR/act-$N-$P-$DTYPE-$s.safetensors" --examples "$N" --features "$P" --seed "$s" --dtype "$DTYPE"
done
for estimator in $ESTIMATORS; do
  sampled_run "$DIR/time.txt" "$C" cka "$DIR/act-$N-$P-$DTYPE-1.safetensors" "$DIR/act-$N-$P-$DTYPE-2.safetensors" \
    --estimator "$estimator" --json > "$DIR/cka-$estimator.json"
  read -r wall user sys rss < "$DIR/time.txt"
  cka=$(python3 -c "import json; print(json.load(open('$DIR/cka-$estimator.json'))['CKA'][0][0])")
  echo "$estimator, $N × $P $DTYPE: CKA $cka; wall $wall s, user $user s, system $sys s; peak anonymous $((anon / 1024)) MiB, file-backed $((file / 1024)) MiB"
done

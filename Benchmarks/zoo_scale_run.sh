#!/usr/bin/env bash
# The kernel at the published scale: writes FILES synthetic log files of 500 runs
# (make_zoo_logs.py; 40 files = 20,000 runs, 28 GB of float16), runs `compare kernel` over all
# of them with the default memory setting, and records wall, user and system time, peak
# anonymous and file-backed memory (sampled from /proc every half second), the SGEMM bound
# from `--plan`, the accuracies, and the independent float64 check of a sample of rows.
# Usage: Benchmarks/zoo_scale_run.sh DIR [FILES=40] [RUNS=500]
set -euo pipefail
DIR=${1:?usage: zoo_scale_run.sh DIR [FILES] [RUNS]}
FILES=${2:-40}
RUNS=${3:-500}
cd "$(dirname "$0")/.."
. Benchmarks/sampled_run.sh
swift build -c release --product compare >/dev/null
C=$PWD/.build/release/compare
python3 Benchmarks/make_zoo_logs.py "$DIR" --files "$FILES" --runs "$RUNS"
ARGS=()
for f in $(ls "$DIR"/log-*.pt | head -n "$FILES"); do ARGS+=(--test "$f:logits" --train "$f:logits_train"); done
ARGS+=(--test-labels "$DIR/labels_test.npy" --train-labels "$DIR/labels_train.npy")
"$C" kernel "${ARGS[@]}" --plan --json > "$DIR/plan.json"
sampled_run "$DIR/time.txt" "$C" kernel "${ARGS[@]}" --neighbors 5 \
  --save-neighbors "$DIR/neighbors.npz" --json > "$DIR/result.json"
read -r wall user sys rss < "$DIR/time.txt"
read -r bound rate < <(python3 -c "import json; p = json.load(open('$DIR/plan.json')); print(f\"{p['flops'] / (p['gemm_gflops'] * 1e9):.1f} {p['gemm_gflops']:.1f}\")")
echo "runs: $((FILES * RUNS)); wall $wall s, user $user s, system $sys s; peak RSS $((rss / 1024)) MiB (anonymous $((anon / 1024)) MiB, file-backed $((file / 1024)) MiB)"
echo "SGEMM bound $bound s at $rate GFLOP/s (measured by --plan); ratio $(python3 -c "print(f'{$wall / $bound:.2f}')")"
grep -E '"(single_model|ensemble|kernel)_accuracy"' "$DIR/result.json"
python3 Benchmarks/check_zoo_kernel.py --files "$FILES" --runs "$RUNS" --neighbors "$DIR/neighbors.npz"

#!/bin/sh
# Compare's minibatch CKA and torch_cka's compare() on the same workload (6 x 6 layers, 10,000
# examples, batch 512, 4096 float32 features per layer), one after the other, at 1 BLAS/torch
# thread and at the libraries' defaults. Usage: Benchmarks/cka_side_by_side.sh [python]
set -e
PYTHON=${1:-python3}
cd "$(dirname "$0")/.."
swift build -c release --product compare >/dev/null
for threads in 1 0; do
  echo "== threads: $threads (0: default)"
  uptime
  .build/release/compare bench cka --threads "$threads"
  "$PYTHON" Benchmarks/cka_reference.py time --threads "$threads"
done

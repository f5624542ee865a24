#!/bin/sh
# `compare ensemble` on synthetic logits of CIFAR-10's test set (RUNS x 10,000 examples x 10
# classes, float16, a memory-mapped .npy), as a ratio to reading and converting the same logits
# once: float16 -> float32 at the rate `compare bench io` measures in the same run (into a reused
# buffer, page cache warm). Peak memory is the process's maximum resident set.
# Usage: Benchmarks/ensemble_bench.sh [runs (default 2000)] [python]
set -e
RUNS=${1:-2000}
PYTHON=${2:-python3}
cd "$(dirname "$0")/.."
swift build -c release --product compare >/dev/null
# Inputs are written once into the folder `compare bench` uses for its own, and reused.
DIR=${TMPDIR:-/tmp}/compare-bench-ensemble
mkdir -p "$DIR"
DATA=$DIR/logits-$RUNS.npy
LABELS=$DIR/labels.npy
if [ ! -f "$DATA" ]; then
  "$PYTHON" - "$RUNS" "$DATA" "$LABELS" <<'PY'
import sys
import numpy as np
runs, path, labels_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n, classes = 10000, 10
rng = np.random.default_rng(0)
pattern = rng.normal(size=(n, classes)).astype(np.float32) * 2.5
labels = np.where(rng.random(n) < 0.93, pattern.argmax(1), rng.integers(0, classes, size=n))
np.save(labels_path, labels.astype(np.int64))
out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(runs, n, classes))
for start in range(0, runs, 100):
    end = min(runs, start + 100)
    noise = rng.standard_normal(size=(end - start, n, classes), dtype=np.float32)
    out[start:end] = (pattern[None] + noise).astype(np.float16)
out.flush()
PY
fi
cat "$DATA" > /dev/null   # page cache warm, as for the I/O benchmark
uptime
.build/release/compare bench io | grep -E "float16|memcpy"
/usr/bin/time -f "compare ensemble: %e s, peak %M KiB" \
  .build/release/compare ensemble --test "$DATA" --test-labels "$LABELS" --top 3 > "$DIR/report.txt"
head -8 "$DIR/report.txt"
echo "values: $(($RUNS * 10000 * 10))"

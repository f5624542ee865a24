#!/usr/bin/env bash
# The ESD fit options on a real model, Compare and weightwatcher 0.7.7 one after the other:
#   (1) compare esd MODEL --fit TPL --no-randomize --no-mp-fit   vs ww analyze(fit='TPL')
#   (2) compare esd MODEL --fit TPL --alpha-ci 200 --pl-test 200 (randomize and MP fits on,
#       as compare's defaults), which no other tool offers
# Wall, user and system time of each whole process (/usr/bin/time). ww's TPL fit needs the
# `powerlaw` package at 1.5 and pl_package='powerlaw' (with powerlaw 2.0 it returns alpha = -1).
# Usage: Benchmarks/esd_fits_side_by_side.sh MODEL.safetensors [python-with-weightwatcher]
set -euo pipefail
MODEL=${1:?usage: esd_fits_side_by_side.sh MODEL.safetensors [python]}
PYTHON=${2:-python3}
cd "$(dirname "$0")/.."
swift build -c release --product compare >/dev/null
C=$PWD/.build/release/compare
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
uptime
run() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/t" "$@" > "$OUT/out" 2> "$OUT/err" || { cat "$OUT/err"; exit 1; }
  read -r wall user sys rss < "$OUT/t"
  printf '%-58s wall %7.2f s  user %7.2f s  system %6.2f s  peak %5d MiB\n' "$label" "$wall" "$user" "$sys" $((rss / 1024))
}
run "compare esd --fit TPL --no-randomize --no-mp-fit" "$C" esd "$MODEL" --fit TPL --no-randomize --no-mp-fit --json
cp "$OUT/out" "$OUT/compare-tpl.json"
cat > "$OUT/ww.py" <<'PY'
import logging, sys, time
import torch
from safetensors.numpy import load_file
logging.disable(logging.WARNING)
import weightwatcher as ww
state = {k: torch.from_numpy(v) for k, v in load_file(sys.argv[1]).items()}
watcher = ww.WeightWatcher(model=state)
details = watcher.analyze(fit="TPL", pl_package="powerlaw")
details.to_csv(sys.argv[2])
PY
run "weightwatcher 0.7.7 analyze(fit='TPL', pl_package='powerlaw')" "$PYTHON" "$OUT/ww.py" "$MODEL" "$OUT/ww.csv"
run "compare esd --fit TPL --alpha-ci 200 --pl-test 200" "$C" esd "$MODEL" --fit TPL --alpha-ci 200 --pl-test 200 --json
"$PYTHON" - "$OUT/compare-tpl.json" "$OUT/ww.csv" <<'PY'
import json, sys
import pandas as pd
ours = {r["longname"]: r for r in json.load(open(sys.argv[1]))["layers"]}
ww = pd.read_csv(sys.argv[2])
worst = {c: 0.0 for c in ("alpha", "Lambda", "xmin", "D")}
paired = 0
for _, row in ww.iterrows():
    r = ours.get(row["longname"]) or ours.get(row["longname"] + ".weight")
    if r is None:
        continue
    paired += 1
    for c in worst:
        if r.get(c) is not None and row[c] == row[c] and row[c] != 0:
            worst[c] = max(worst[c], abs(r[c] - row[c]) / abs(row[c]))
print(f"{paired} layers paired with ww's table; largest relative differences: "
      + ", ".join(f"{c} {v:.1e}" for c, v in worst.items()))
PY

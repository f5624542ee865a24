#!/usr/bin/env bash
# A 7B-parameter model's ESD on this machine: writes the Llama-2-7B-shaped folder
# (make_llama_folder.py, 13.5 GB of bf16) unless DIR already has it, prints `compare esd --plan`,
# then runs `compare esd` over all 226 weight matrices with randomisation on, and records wall,
# user and system time, peak anonymous and file-backed memory (sampled from /proc every half
# second), the plan's estimate (its LAPACK bound) and the ratio of the measured time to it.
# Usage: Benchmarks/llama_esd_run.sh DIR [PRECISION=float32] [extra compare esd options...]
set -euo pipefail
DIR=${1:?usage: llama_esd_run.sh DIR [float32|float64] [options...]}
PRECISION=${2:-float32}
shift $(( $# >= 2 ? 2 : 1 ))
cd "$(dirname "$0")/.."
. Benchmarks/sampled_run.sh
swift build -c release --product compare >/dev/null
C=$PWD/.build/release/compare
[ -f "$DIR/model.safetensors.index.json" ] || python3 Benchmarks/make_llama_folder.py "$DIR"
OUT="$DIR.esd-$PRECISION"
mkdir -p "$OUT"
"$C" esd "$DIR" --precision "$PRECISION" "$@" --plan
"$C" esd "$DIR" --precision "$PRECISION" "$@" --plan --json > "$OUT/plan.json"
sampled_run "$OUT/time.txt" "$C" esd "$DIR" --precision "$PRECISION" "$@" --json -o "$OUT/result.json" > /dev/null
read -r wall user sys rss < "$OUT/time.txt"
read -r estimate largest < <(python3 -c "import json; p = json.load(open('$OUT/plan.json')); print(f\"{p['estimated_seconds']:.0f} {p['largest_layer_elements']}\")")
echo "precision $PRECISION: wall $wall s, user $user s, system $sys s; peak RSS $((rss / 1024)) MiB (anonymous $((anon / 1024)) MiB, file-backed $((file / 1024)) MiB); largest layer $largest elements ($((largest * 8 / 1048576)) MiB as float64)"
echo "plan estimate (LAPACK bound) $estimate s; measured / estimate $(python3 -c "print(f'{$wall / $estimate:.2f}')")"
python3 - "$OUT/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
layers = r["layers"]
ok = [l for l in layers if l.get("status") == "success"]
alphas = [l["alpha"] for l in ok if l.get("alpha") is not None]
print(f"{len(layers)} rows, {len(ok)} analysed; alpha from {min(alphas):.2f} to {max(alphas):.2f}, mean {sum(alphas) / len(alphas):.3f}")
PY

#!/usr/bin/env bash
# Runs each example program and checks that it prints (and draws) exactly what the command it
# reproduces does. Part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product compare >/dev/null
for e in ESDExample CKAExample KernelExample; do swift build --product "$e" >/dev/null; done
bin=$(swift build --show-bin-path)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=Examples/data
diff <("$bin/ESDExample" $d/weights_cnn.pt) <("$bin/compare" esd $d/weights_cnn.pt --json)
diff <("$bin/CKAExample" $d/activations_mlp.safetensors $d/activations_cnn.npz "$tmp/example.png" 2>&1) \
     <("$bin/compare" cka $d/activations_mlp.safetensors $d/activations_cnn.npz --heatmap "$tmp/command.png" 2>&1)
cmp "$tmp/example.png" "$tmp/command.png"
diff <("$bin/KernelExample" $d/ensemble.npz) \
     <("$bin/compare" kernel --test $d/ensemble.npz:logits --train $d/ensemble.npz:logits_train \
                              --test-labels $d/ensemble.npz:labels --train-labels $d/ensemble.npz:labels_train)
echo "Examples: ESDExample, CKAExample and KernelExample print what their commands print."
# The README shows each program's whole code (from `import Compare` on): it must be the file's.
for e in ESDExample CKAExample KernelExample; do
  diff <(sed -n '/^import Compare$/,$p' "Examples/$e/main.swift") \
       <(awk -v start="\`Examples/$e/main.swift\`" 'index($0, start) == 1 { found = 1; next }
             found && /^```swift$/ { inside = 1; next } inside && /^```$/ { exit } inside { print }' README.md) \
    || { echo "README.md's code of $e differs from Examples/$e/main.swift" >&2; exit 1; }
done
echo "README: the examples' code is the programs' code."

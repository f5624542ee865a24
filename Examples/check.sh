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

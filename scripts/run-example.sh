#!/usr/bin/env bash
# The README's main command: set up and build if needed, compile the bundled
# example (an MLP for the 8x8 UCI handwritten digits) into a bf16 training
# binary, train it and print loss and accuracy.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
"$here/scripts/bootstrap.sh" "$build"
example="$here/examples/mlp_digits"
data="$example/data"
out="$build/examples"
mkdir -p "$out"
"$build/bin/mpc-opt" "$example/mlp_digits.onnx" --precision=bf16 \
  --precision-report="$out/precision_report.json" -o "$out/train_model"
"$out/train_model" \
  --inputs "$data/train_images.npy" --labels "$data/train_labels.npy" \
  --val-inputs "$data/val_images.npy" --val-labels "$data/val_labels.npy" \
  --epochs 20 --lr 0.01 --seed 0 --log-every 220 \
  --metrics-json "$out/metrics.json" --save-onnx "$out/mlp_digits_trained.onnx"
echo "training binary: $out/train_model (--help lists its options)"
"$build/bin/mpc-opt" --render-report="$out/precision_report.json" \
  -o "$out/precision_report.html"
echo "precision decisions: $out/precision_report.html (open in a browser), $out/precision_report.json; metrics: $out/metrics.json"

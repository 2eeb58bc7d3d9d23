#!/usr/bin/env bash
# The README's main command: set up and build if needed, compile the bundled
# example (an MLP for the 8x8 UCI handwritten digits) into a bf16 training
# binary, train it and print loss and accuracy.
#
#   scripts/run-example.sh                    the digits MLP
#   scripts/run-example.sh cnn_fashion_mnist  a CNN (BatchNorm, Dropout) on
#                                             the real Fashion-MNIST
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
"$here/scripts/bootstrap.sh" "$build"
if [ "${1:-}" = cnn_fashion_mnist ]; then
  example="$here/examples/cnn_fashion_mnist"
  out="$build/examples/cnn_fashion_mnist"
  mkdir -p "$out"
  # 20,000 of the 60,000 training images keep the run to minutes on two
  # cores; the 10,000 test images are the validation set.
  /usr/bin/python3 "$example/make_data.py" "$out/data" 20000
  "$build/bin/mpc-opt" "$example/cnn_fashion_mnist.onnx" --precision=bf16 \
    --batch-size=64 --precision-report="$out/precision_report.json" \
    -o "$out/train_model"
  "$out/train_model" \
    --inputs "$out/data/train_images.npy" --labels "$out/data/train_labels.npy" \
    --val-inputs "$out/data/val_images.npy" --val-labels "$out/data/val_labels.npy" \
    --epochs 3 --lr 0.003 --seed 0 --log-every 100 \
    --metrics-json "$out/metrics.json" --save-onnx "$out/cnn_fashion_mnist_trained.onnx"
  echo "training binary: $out/train_model; metrics: $out/metrics.json"
  exit 0
elif [ -n "${1:-}" ]; then
  echo "run-example.sh: unknown example '$1' (cnn_fashion_mnist, or none for the digits MLP)" >&2
  exit 2
fi
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

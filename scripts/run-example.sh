#!/usr/bin/env bash
# The README's main command: set up and build if needed, then run mpc on the
# bundled example model (an MLP for the 8x8 UCI handwritten digits).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
"$here/scripts/bootstrap.sh" "$build"
model="$here/examples/mlp_digits/mlp_digits.onnx"
out="$build/examples/mlp_digits.mlir"
mkdir -p "$(dirname "$out")"
"$build/bin/mpc-opt" "$model" --mpc-print-summary --precision=bf16 --precision-report=- -o "$out"
echo "imported IR written to $out"

#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for mpc and builds it: installs the
# packages that are missing (apt-get, idempotent), configures with CMake +
# Ninja against Debian's LLVM/MLIR 22, and builds. Safe to run again; a
# second run only rebuilds what changed.
#
#   scripts/bootstrap.sh [BUILD_DIR]        (default: build)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}

packages=(
  cmake ninja-build g++ ccache
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  libomp-22-dev python3 python3-onnx python3-numpy python3-pytest
  python3-venv python3-pip graphviz chromium
  python3-torch python3-torchvision dataset-fashion-mnist valgrind
  nlohmann-json3-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$here" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
# Two cores: two jobs keeps memory well inside the CI machine's.
cmake --build "$build" --target mpc-opt -- -j"$(nproc)"

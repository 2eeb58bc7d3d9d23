#!/usr/bin/env bash
# Installs onnxruntime-node, the reference executor of the numerics tests
# and benchmarks, under BUILD_DIR/reference (npm; the CPU runtime is in the
# package, ONNXRUNTIME_NODE_INSTALL=skip skips the CUDA download). Prints
# nothing and exits 0 when node/npm or the registry are not reachable: the
# tests then compare against the outputs onnxruntime produced when the
# fixtures were made (test/reference/*.npz) instead of a live run.
#
#   scripts/reference.sh [BUILD_DIR]
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/build}/reference
[ -d "$dest/node_modules/onnxruntime-node" ] && exit 0
command -v npm >/dev/null && command -v node >/dev/null || exit 0
mkdir -p "$dest"
( cd "$dest" && ONNXRUNTIME_NODE_INSTALL=skip timeout 300 \
    npm install --no-audit --no-fund --silent onnxruntime-node@1 >/dev/null 2>&1 ) ||
  echo "reference.sh: npm could not install onnxruntime-node; using the stored reference outputs" >&2
exit 0

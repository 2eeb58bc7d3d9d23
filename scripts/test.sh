#!/usr/bin/env bash
# The README's test command (and CI's): set up and build if needed, then run
# every test: the lit suite (dialect, passes, importer, lowering, numerics
# against numpy, PyTorch and onnxruntime, node-test conformance), then the
# pass tests once more under valgrind's memcheck.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
"$here/scripts/bootstrap.sh" "$build"
# onnxruntime-node for the live reference comparisons (optional: the tests
# fall back to stored onnxruntime outputs when npm is unreachable).
"$here/scripts/reference.sh" "$build"
cmake --build "$build" --target check-mpc
cmake --build "$build" --target check-mpc-memcheck

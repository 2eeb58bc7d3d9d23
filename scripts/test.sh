#!/usr/bin/env bash
# The README's test command (and CI's): set up and build if needed, then run
# every test: the lit suite (dialect, passes, importer, node-test import
# conformance).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
"$here/scripts/bootstrap.sh" "$build"
cmake --build "$build" --target check-mpc

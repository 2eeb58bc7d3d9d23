#!/usr/bin/env bash
# The long differential run (the suite runs a seeded, bounded one): many
# random cases of every op family in fp32/bf16/fp16 against numpy, on the
# native code path and the AVX2 one, then the no-crash sweep over every
# node test in every mode. Each failure prints a one-line reproducer.
#
#   scripts/differential-nightly.sh [CASES_PER_RUN] [SEED]   (default 3000, date)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
cases=${1:-3000}
seed=${2:-$(date +%Y%m%d)}
"$here/scripts/bootstrap.sh" "$build" >/dev/null || exit 1
mpc_opt=$build/bin/mpc-opt
work=$(mktemp -d -t mpc-nightly-XXXXXX)
status=0
cpus=(native)
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && cpus+=(x86-64-v3)
for cpu in "${cpus[@]}"; do
  echo "== differential: $cases cases, seed $seed, --cpu=$cpu"
  /usr/bin/python3 "$here/test/python/differential.py" --mpc-opt "$mpc_opt" \
    --cases "$cases" --seed "$seed" --cpu "$cpu" --work "$work/$cpu" || status=1
done
echo "== every node test in every mode"
/usr/bin/python3 "$here/test/conformance/compile_node_tests.py" --mpc-opt "$mpc_opt" \
  --model "$here/test/Target/ONNX/Inputs/transformer_encoder.onnx" \
  --model "$here/test/Target/ONNX/Inputs/cnn_bn.onnx" || status=1
rm -rf "$work"
exit $status

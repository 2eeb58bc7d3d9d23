#!/usr/bin/env python3
"""End to end: the PyTorch-exported MLP, imported, compiled for the CPU in
fp32 and bf16, executed, and compared with numpy on the ONNX weights.

    e2e_mlp.py MPC_OPT MLIR_RUNNER RUNNER_LIB_DIR MODEL.onnx

fp32 must match to 1e-5 relative; bf16 must match a numpy emulation of
what mpc's decisions mean (bf16 inputs and weights, fp32 accumulation, one
rounding per op) to within one bf16 ulp, and must differ from fp32 (so the
low-precision path really ran).
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from lowering_numerics import bf16, run_model  # noqa: E402

BATCH = 4


def run(mpc_opt, runner, lib_dir, model, precision, x):
    return run_model(mpc_opt, runner, lib_dir, model, (BATCH, 8, 8),
                     (BATCH, 10), precision, x)


def main():
    mpc_opt, runner, lib_dir, model = sys.argv[1:5]
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in onnx.load(model).graph.initializer}
    w1, b1 = weights["fc1.weight"], weights["fc1.bias"]
    w2, b2 = weights["fc2.weight"], weights["fc2.bias"]
    x = np.random.default_rng(7).standard_normal((BATCH, 8, 8)).astype(np.float32)

    flat = x.reshape(BATCH, 64).astype(np.float64)
    fp32_ref = np.maximum(flat @ w1.T + b1, 0) @ w2.T + b2
    r = lambda v: bf16(np.asarray(v, np.float32)).astype(np.float64)
    hidden = r(r(flat) @ r(w1).T + r(b1))
    bf16_ref = r(np.maximum(hidden, 0) @ r(w2).T + r(b2))

    failures = 0
    fp32 = run(mpc_opt, runner, lib_dir, model, "fp32", x)
    err = np.max(np.abs(fp32 - fp32_ref) / np.maximum(np.abs(fp32_ref), 1e-2))
    ok = err < 1e-5
    failures += not ok
    print("fp32 vs numpy: max relative error %.2e %s" % (err, "ok" if ok else "FAIL"))

    low = run(mpc_opt, runner, lib_dir, model, "bf16", x)
    ulp = 2.0 ** -7 * np.maximum(np.abs(bf16_ref), 1e-2)
    within = np.abs(low - bf16_ref) <= ulp + 1e-6
    ok = bool(within.all())
    failures += not ok
    print("bf16 vs numpy bf16 emulation: %d of %d within one bf16 ulp %s" % (
        within.sum(), within.size, "ok" if ok else "FAIL"))
    differs = np.max(np.abs(low - fp32)) > 0
    failures += not differs
    print("bf16 differs from fp32: %s" % ("ok" if differs else "FAIL"))
    print("%d passed, %d failed" % (3 - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

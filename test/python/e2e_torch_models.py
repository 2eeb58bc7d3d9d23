#!/usr/bin/env python3
"""End to end against PyTorch: the CNN (training-mode BatchNorm) and the
TransformerEncoder layer, imported, compiled for the CPU in fp32 and bf16,
executed, and compared with the PyTorch modules they were exported from.

    e2e_torch_models.py MPC_OPT MLIR_RUNNER RUNNER_LIB_DIR

fp32 must agree to 1e-4 relative (to the output's scale); bf16 to 5e-2 —
bf16 keeps 8 significant bits, and these models chain several rounded ops.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "Target", "ONNX", "Inputs"))
import export_torch_models as models  # noqa: E402
from lowering_numerics import run_model  # noqa: E402

CASES = {"cnn_bn": (2, 1, 8, 8), "transformer_encoder": (2, 5, 16)}


def main():
    mpc_opt, runner, lib_dir = sys.argv[1:4]
    failures = checks = 0
    with tempfile.TemporaryDirectory() as work:
        for name, shape in CASES.items():
            path = models.export(name, work)
            cls, _, _, mode = models.MODELS[name]
            torch.manual_seed(0)
            module = cls()
            module.train(mode == models.TRAINING)
            x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
            with torch.no_grad():
                reference = module(torch.from_numpy(x)).numpy().astype(np.float64)
            scale = max(np.abs(reference).max(), 1e-3)
            for precision, bound in (("fp32", 1e-4), ("bf16", 5e-2)):
                checks += 1
                try:
                    out = run_model(mpc_opt, runner, lib_dir, path, shape,
                                    reference.shape, precision, x)
                    err = np.abs(out - reference).max() / scale
                    ok = err <= bound
                    message = "max error %.2e of scale (bound %.0e)" % (err, bound)
                except (RuntimeError, subprocess.CalledProcessError) as e:
                    ok, message = False, str(e)[-400:]
                failures += not ok
                print("%-20s %-5s %s %s" % (name, precision, message,
                                            "ok" if ok else "FAIL"))
    print("%d passed, %d failed" % (checks - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Inference latency of mpc's CPU executables against onnxruntime-node,
same models, same inputs, one run.

    bench/inference_vs_onnxruntime.py [--batch 64] [--repeat 200]
        [--ort build/reference/node_modules] [--precision fp32]

Both sides time `repeat` runs after a first one with their inputs already
loaded (the executable's --repeat, onnxruntime's session.run in a loop in
node), on all cores (OpenMP for mpc, onnxruntime's intra-op pool). The
issue's goal: mpc no slower than onnxruntime (ratio <= 1).
"""
import argparse
import os
import re
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "python"))
from ort_agreement import (CASES, MODELS, ort_available, run_mpc,  # noqa
                           run_ort)


def latency(stdout):
    return float(re.search(r"latency: ([0-9.e+-]+) ms", stdout).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mpc-opt", default=os.path.join(ROOT, "build", "bin",
                                                          "mpc-opt"))
    parser.add_argument("--ort", default=os.path.join(
        ROOT, "build", "reference", "node_modules"))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    if not ort_available(args.ort):
        print("onnxruntime-node not found in %s (scripts/reference.sh "
              "installs it)" % args.ort)
        return 1
    work = tempfile.mkdtemp()
    print("batch %d, %d runs, mpc %s vs onnxruntime fp32, %d cores" % (
        args.batch, args.repeat, args.precision, os.cpu_count()))
    print("%-22s %12s %12s %8s %10s" % ("model", "mpc ms", "ort ms", "ratio",
                                         "max diff"))
    for name, (input_name, shape) in CASES.items():
        model = os.path.join(MODELS, name + ".onnx")
        x = np.random.default_rng(3).standard_normal(
            (args.batch,) + shape[1:]).astype(np.float32)
        case_dir = os.path.join(work, name)
        os.makedirs(case_dir)
        ours, ours_out = run_mpc(args.mpc_opt, model, input_name, x,
                                 args.precision, case_dir, args.repeat)
        theirs, theirs_out = run_ort(args.ort, model, {input_name: x},
                                     case_dir, args.repeat)
        a, b = latency(ours_out), latency(theirs_out)
        diff = float(np.max(np.abs(ours - theirs["output"])))
        print("%-22s %12.4f %12.4f %7.2fx %10.1e" % (name, a, b, a / b, diff))
    return 0


if __name__ == "__main__":
    sys.exit(main())

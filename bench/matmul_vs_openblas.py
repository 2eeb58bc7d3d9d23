#!/usr/bin/env python3
"""Generated fp32 matmul against numpy's OpenBLAS sgemm, in one run.

    bench/matmul_vs_openblas.py [--mpc-opt build/bin/mpc-opt] [--sizes 512 1024]

Compiles a one-MatMul ONNX model per size into an inference executable
(`mpc-opt --mode=infer`), times it with its own `--repeat` (the latency of
the kernel alone, inputs already loaded), times `numpy.matmul` on the same
shapes, and prints GFLOP/s and the ratio. The issue's goal is a ratio of at
most 1.5 (mpc no more than 1.5x slower than OpenBLAS).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def matmul_model(n, path):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"], name="matmul")], "mm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])])
    onnx.save(helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17)]), path)


def blas_library():
    """The BLAS numpy has loaded (Debian's alternatives decide: the
    reference libblas3 is about 30x slower than OpenBLAS)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            name = os.path.basename(path)
            if "openblas" in name or name.startswith(("libblas", "libmkl")):
                return os.path.realpath(path)
    return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mpc-opt", default=os.path.join(ROOT, "build", "bin",
                                                          "mpc-opt"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--cpu", default="native",
                        help="mpc-opt --cpu (x86-64-v3: AVX2 only)")
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
    print("numpy BLAS: %s; mpc --cpu=%s; %d cores" % (
        blas_library(), args.cpu, os.cpu_count()))
    print("%6s %14s %14s %8s" % ("n", "mpc GFLOP/s", "numpy GFLOP/s", "ratio"))
    for n in args.sizes:
        model = os.path.join(work, "mm%d.onnx" % n)
        exe = os.path.join(work, "mm%d" % n)
        matmul_model(n, model)
        subprocess.run([args.mpc_opt, model, "--mode=infer", "--cpu", args.cpu,
                        "-o", exe], check=True)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        np.save(os.path.join(work, "a.npy"), a)
        np.save(os.path.join(work, "b.npy"), b)
        repeat = max(2, int(2e9 / (2 * n ** 3)))
        out = subprocess.run(
            [exe, "--input", "a=" + os.path.join(work, "a.npy"), "--input",
             "b=" + os.path.join(work, "b.npy"), "--output-dir", work,
             "--repeat", str(repeat)], check=True, capture_output=True,
            text=True).stdout
        ms = float(re.search(r"latency: ([0-9.e+-]+) ms", out).group(1))
        got = np.load(os.path.join(work, "c.npy"))
        assert np.allclose(got, a @ b, rtol=1e-3, atol=1e-3), "wrong result"
        a @ b  # warm up
        start = time.perf_counter()
        for _ in range(repeat):
            a @ b
        numpy_ms = (time.perf_counter() - start) / repeat * 1e3
        flops = 2.0 * n ** 3
        print("%6d %14.2f %14.2f %7.1fx" % (n, flops / ms / 1e6,
                                            flops / numpy_ms / 1e6,
                                            ms / numpy_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())

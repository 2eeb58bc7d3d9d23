#!/usr/bin/env python3
"""Casts of the global (min-cut) assignment against greedy painting.

    bench/precision_casts.py [--mpc-opt build/bin/mpc-opt] [--ops 10000]

For the reference models and a synthetic transformer-like graph of at least
--ops ops, compiles with --precision=bf16 under both algorithms and prints
the casts, the bytes they move (dynamic dims counted as 32) and the wall
time of the assignment and cast passes (from --mlir-timing). The goals:
global never worse than greedy, strictly better on the transformer, and
under 1 s for 10,000 ops.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = os.path.join(ROOT, "test", "Target", "ONNX", "Inputs")
PASSES = ("MPCAssignPrecision", "MPCInsertCasts", "MPCOptimizeCasts")


def synthetic_graph(ops_wanted):
    """Blocks of an encoder layer in the mpc dialect: matmuls, a GELU made
    of elementwise ops, residual adds, layer norms and softmax attention."""
    lines = ["module {"]
    blocks = 0
    body = []
    value = "%x"
    counter = [0]

    def new():
        counter[0] += 1
        return "%%v%d" % counter[0]

    t = "tensor<32x64xf32>"
    params = []
    op_count = 0
    while op_count < ops_wanted:
        b = blocks
        params += ["mpc.parameter @wq%d trainable = dense<0.01> : tensor<64x64xf32>" % b,
                   "mpc.parameter @w1%d trainable = dense<0.01> : tensor<64x64xf32>" % b,
                   "mpc.parameter @g%d trainable = dense<1.0> : tensor<64xf32>" % b]
        def op(text):
            nonlocal op_count
            op_count += 1
            body.append(text)
        wq, w1, g = new(), new(), new()
        op("%s = mpc.get_parameter @wq%d : tensor<64x64xf32>" % (wq, b))
        op("%s = mpc.get_parameter @w1%d : tensor<64x64xf32>" % (w1, b))
        op("%s = mpc.get_parameter @g%d : tensor<64xf32>" % (g, b))
        q = new(); op("%s = mpc.matmul %s, %s : (%s, tensor<64x64xf32>) -> %s" % (q, value, wq, t, t))
        tq = new(); op("%s = mpc.transpose %s {perm = array<i64: 1, 0>} : (%s) -> tensor<64x32xf32>" % (tq, q, t))
        s = new(); op("%s = mpc.matmul %s, %s : (%s, tensor<64x32xf32>) -> tensor<32x32xf32>" % (s, q, tq, t))
        c = new(); op("%s = mpc.constant dense<0.125> : tensor<f32>" % c)
        sc = new(); op("%s = mpc.mul %s, %s : (tensor<32x32xf32>, tensor<f32>) -> tensor<32x32xf32>" % (sc, s, c))
        p = new(); op("%s = mpc.softmax %s : (tensor<32x32xf32>) -> tensor<32x32xf32>" % (p, sc))
        a = new(); op("%s = mpc.matmul %s, %s : (tensor<32x32xf32>, %s) -> %s" % (a, p, q, t, t))
        r = new(); op("%s = mpc.add %s, %s : (%s, %s) -> %s" % (r, a, value, t, t, t))
        n = new(); op("%s:3 = mpc.layer_norm %s, %s : (%s, tensor<64xf32>) -> (%s, tensor<32x1xf32>, tensor<32x1xf32>)" % (n, r, g, t, t))
        h = new(); op("%s = mpc.matmul %s#0, %s : (%s, tensor<64x64xf32>) -> %s" % (h, n, w1, t, t))
        half = new(); op("%s = mpc.constant dense<0.5> : tensor<f32>" % half)
        e = new(); op("%s = mpc.erf %s : %s -> %s" % (e, h, t, t))
        one = new(); op("%s = mpc.constant dense<1.0> : tensor<f32>" % one)
        e1 = new(); op("%s = mpc.add %s, %s : (%s, tensor<f32>) -> %s" % (e1, e, one, t, t))
        m = new(); op("%s = mpc.mul %s, %s : (%s, %s) -> %s" % (m, h, e1, t, t, t))
        m2 = new(); op("%s = mpc.mul %s, %s : (%s, tensor<f32>) -> %s" % (m2, m, half, t, t))
        r2 = new(); op("%s = mpc.add %s, %s#0 : (%s, %s) -> %s" % (r2, m2, n, t, t, t))
        value = r2
        blocks += 1
    lines += ["  " + p for p in params]
    lines.append("  func.func @main(%%x: %s) -> %s {" % (t, t))
    lines += ["    " + b for b in body]
    lines.append("    return %s : %s" % (value, t))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n", op_count


def run(mpc_opt, path, algorithm, work):
    report = os.path.join(work, "report.json")
    proc = subprocess.run(
        [mpc_opt, path, "--precision=bf16", "--precision-algorithm=" + algorithm,
         "--precision-report=" + report, "--mlir-timing", "-o", os.devnull],
        capture_output=True, text=True, check=True)
    seconds = 0.0
    for line in proc.stderr.splitlines():
        m = re.match(r"\s*([0-9.]+)\s+\(\s*[0-9.]+%\)\s+(\S+)", line)
        if m and m.group(2) in PASSES:
            seconds += float(m.group(1))
    with open(report) as f:
        summary = json.load(f)["summary"]
    return summary["casts"], summary["cast_bytes"], seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mpc-opt", default=os.path.join(ROOT, "build", "bin",
                                                          "mpc-opt"))
    parser.add_argument("--ops", type=int, default=10000)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    text, ops = synthetic_graph(args.ops)
    synthetic = os.path.join(work, "synthetic.mlir")
    with open(synthetic, "w") as f:
        f.write(text)
    cases = [(name, os.path.join(MODELS, name + ".onnx"))
             for name in ("mlp", "cnn_bn", "transformer_encoder")]
    cases.append(("synthetic (%d ops)" % ops, synthetic))

    print("%-24s %8s %12s %8s %12s %9s %9s" % (
        "model", "greedy", "bytes", "global", "bytes", "ratio", "time"))
    worse = False
    for name, path in cases:
        g_casts, g_bytes, _ = run(args.mpc_opt, path, "greedy", work)
        casts, cast_bytes, seconds = run(args.mpc_opt, path, "global", work)
        worse |= cast_bytes > g_bytes
        print("%-24s %8d %12d %8d %12d %8.3fx %8.3fs" % (
            name, g_casts, g_bytes, casts, cast_bytes,
            cast_bytes / g_bytes if g_bytes else 1.0, seconds))
    print("global never worse than greedy: %s" % ("no" if worse else "yes"))
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())

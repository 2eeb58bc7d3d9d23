#!/usr/bin/env python3
"""The inference executable: compiled from the PyTorch MLP, run on .npy
inputs, checked against numpy; its error paths (bad .npy files, wrong
shapes, missing inputs and arguments) exit non-zero with a message and
write nothing.

    executable_test.py MPC_OPT MODEL.onnx WORK_DIR
"""
import os
import resource
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lowering_numerics import bf16  # noqa: E402

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%-34s %s %s" % (name, "ok" if ok else "FAIL", detail))


def check_no_leak(mpc_opt, work):
    """--repeat reruns the kernel; each run's result buffers (4 MiB here)
    must be freed, so 200 runs peak no higher than one (a leak would add
    800 MiB)."""
    model = os.path.join(work, "relu.onnx")
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu"),
         helper.make_node("Neg", ["x"], ["z"], name="neg")], "two_outputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1024, 512])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1024, 512]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [1024, 512])])
    onnx.save(helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17)]), model)
    exe = os.path.join(work, "relu_run")
    subprocess.run([mpc_opt, model, "--mode=infer", "-o", exe], check=True)
    np.save(os.path.join(work, "big.npy"),
            np.ones((1024, 512), np.float32))
    peaks = []
    for repeat in (1, 200):
        subprocess.run([exe, "--input", os.path.join(work, "big.npy"),
                        "--output-dir", work, "--repeat", str(repeat)],
                       check=True, capture_output=True)
        # The largest peak of any child so far, in KiB.
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    check("--repeat frees its results", peaks[1] - peaks[0] < 64 * 1024,
          "peak %d KiB after 1 run, %d KiB after 200" % tuple(peaks))


def main():
    mpc_opt, model, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in onnx.load(model).graph.initializer}
    x = np.random.default_rng(11).standard_normal((4, 8, 8)).astype(np.float32)
    np.save(os.path.join(work, "x.npy"), x)
    flat = x.reshape(4, 64).astype(np.float64)
    w1, b1, w2, b2 = (weights[k] for k in ("fc1.weight", "fc1.bias",
                                           "fc2.weight", "fc2.bias"))
    fp32_ref = np.maximum(flat @ w1.T + b1, 0) @ w2.T + b2
    r = lambda v: bf16(np.asarray(v, np.float32)).astype(np.float64)
    bf16_ref = r(np.maximum(r(r(flat) @ r(w1).T + r(b1)), 0) @ r(w2).T + r(b2))

    for precision, reference, bound in (("fp32", fp32_ref, 1e-5),
                                        ("bf16", bf16_ref, 2.0 ** -7)):
        exe = os.path.join(work, "mlp_" + precision)
        build = subprocess.run(
            [mpc_opt, model, "--input-shape=input:4x8x8", "--mode=infer",
             "--precision=" + precision, "-o", exe], capture_output=True,
            text=True)
        check("compile " + precision, build.returncode == 0, build.stderr[-300:])
        out_dir = os.path.join(work, "out_" + precision)
        os.makedirs(out_dir, exist_ok=True)
        run = subprocess.run([exe, "--input", "input=" + os.path.join(work, "x.npy"),
                              "--output-dir", out_dir], capture_output=True,
                             text=True)
        check("run " + precision, run.returncode == 0, run.stderr[-300:])
        out = np.load(os.path.join(out_dir, "output.npy"))
        err = np.max(np.abs(out - reference) /
                     np.maximum(np.abs(reference), 1e-2))
        check("%s output vs numpy" % precision, out.dtype == np.float32 and
              out.shape == (4, 10) and err <= bound, "max rel. error %.1e" % err)

    exe = os.path.join(work, "mlp_fp32")
    out_dir = os.path.join(work, "out_errors")
    os.makedirs(out_dir, exist_ok=True)
    help_run = subprocess.run([exe, "--help"], capture_output=True, text=True)
    check("--help lists the signature", help_run.returncode == 0 and
          "input: <f4 (4, 8, 8)" in help_run.stdout and
          "output: <f4 (4, 10)" in help_run.stdout)

    def expect_error(name, args, message, setup=None):
        run = subprocess.run([exe] + args, capture_output=True, text=True)
        check(name, run.returncode == 1 and message in run.stderr and
              not os.listdir(out_dir), run.stderr.strip()[-200:])

    bad_shape = os.path.join(work, "bad_shape.npy")
    np.save(bad_shape, np.zeros((2, 8, 8), np.float32))
    expect_error("wrong shape", ["--input", bad_shape, "--output-dir", out_dir],
                 "input 'input' must be <f4 (4, 8, 8), got <f4 (2, 8, 8)")
    bad_type = os.path.join(work, "bad_type.npy")
    np.save(bad_type, np.zeros((4, 8, 8), np.float64))
    expect_error("unsupported dtype", ["--input", bad_type, "--output-dir",
                                       out_dir], "unsupported dtype '<f8'")
    truncated = os.path.join(work, "truncated.npy")
    with open(os.path.join(work, "x.npy"), "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[:200])
    expect_error("truncated file", ["--input", truncated, "--output-dir",
                                    out_dir], "truncated")
    garbage = os.path.join(work, "garbage.npy")
    with open(garbage, "wb") as f:
        f.write(b"not numpy at all")
    expect_error("wrong magic", ["--input", garbage, "--output-dir", out_dir],
                 "not a .npy file (wrong magic)")
    expect_error("missing file", ["--input", os.path.join(work, "none.npy"),
                                  "--output-dir", out_dir], "cannot open")
    expect_error("missing input", ["--output-dir", out_dir],
                 "input 'input' is missing")
    expect_error("unknown input name", ["--input", "image=" + truncated,
                                        "--output-dir", out_dir],
                 "--input names 'image', which is not an input")
    expect_error("unknown argument", ["--frobnicate"], "unknown argument")
    expect_error("no output dir", ["--input", os.path.join(work, "x.npy")],
                 "--output-dir is required")

    # The compiler's own errors: dynamic shapes, no output file.
    dynamic = subprocess.run([mpc_opt, model, "--mode=infer", "-o",
                              os.path.join(work, "dyn_run")],
                             capture_output=True, text=True)
    check("dynamic shapes rejected", dynamic.returncode == 1 and
          "executables need static shapes" in dynamic.stderr and
          not os.path.exists(os.path.join(work, "dyn_run")),
          dynamic.stderr.strip()[-200:])
    for emit, magic in (("llvm", b"; ModuleID"), ("obj", b"\x7fELF")):
        path = os.path.join(work, "mlp." + emit)
        built = subprocess.run([mpc_opt, model, "--input-shape=input:4x8x8",
                                "--mode=infer", "--emit=" + emit, "-o", path],
                               capture_output=True, text=True)
        with open(path, "rb") as f:
            head = f.read(16)
        check("--emit=" + emit, built.returncode == 0 and head.startswith(magic))
    check_no_leak(mpc_opt, work)
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

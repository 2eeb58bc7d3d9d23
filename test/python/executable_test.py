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


# Output names as exporters and attackers write them, each with the file
# the runtime's rule gives it (percent-encoding; a leading '.' as %2E).
HOSTILE_OUTPUTS = {
    "../../escaped": "%2E.%2F..%2Fescaped.npy",
    "a/b:0": "a%2Fb%3A0.npy",
    "..": "%2E..npy",
    ".hidden": "%2Ehidden.npy",
    "/etc/passwd": "%2Fetc%2Fpasswd.npy",
    "выход": "%D0%B2%D1%8B%D1%85%D0%BE%D0%B4.npy",
    "x y%20": "x%20y%2520.npy",
    "a%2Fb": "a%252Fb.npy",
}


def check_hostile_output_names(mpc_opt, work):
    """Every output lands in --output-dir (created like mkdir -p) under the
    documented, reversible name; nothing is written anywhere else."""
    import urllib.parse
    names = list(HOSTILE_OUTPUTS)
    nodes = [helper.make_node("Mul", ["x", "k%d" % i], [name], name="mul%d" % i)
             for i, name in enumerate(names)]
    inits = [numpy_helper.from_array(np.array([i + 1.0], np.float32),
                                     "k%d" % i) for i in range(len(names))]
    graph = helper.make_graph(
        nodes, "hostile", [helper.make_tensor_value_info(
            "x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3])
         for n in names], inits)
    root = os.path.join(work, "hostile")
    os.makedirs(root, exist_ok=True)
    model = os.path.join(root, "hostile.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17)]), model)
    exe = os.path.join(root, "run")
    subprocess.run([mpc_opt, model, "--mode=infer", "-o", exe], check=True)
    x = np.array([1.0, -2.0, 0.5], np.float32)
    np.save(os.path.join(root, "x.npy"), x)
    def tree():
        return {os.path.join(d, f) for d, dirs, fs in os.walk(work)
                for f in fs + dirs}
    before = tree()
    out_dir = os.path.join(root, "deep", "new", "out")
    run = subprocess.run([exe, "--input", os.path.join(root, "x.npy"),
                          "--output-dir", out_dir], capture_output=True,
                         text=True)
    files = sorted(os.listdir(out_dir)) if os.path.isdir(out_dir) else []
    check("--output-dir is created", run.returncode == 0 and bool(files),
          run.stderr.strip()[-200:])
    created = tree() - before
    expected = {os.path.join(root, "deep"), os.path.join(root, "deep", "new"),
                out_dir} | {os.path.join(out_dir, f)
                            for f in HOSTILE_OUTPUTS.values()}
    check("hostile output names stay inside --output-dir",
          files == sorted(HOSTILE_OUTPUTS.values()) and created == expected,
          "created outside: %s" % sorted(created - expected))
    values_ok = all(
        np.array_equal(np.load(os.path.join(out_dir, file)), x * (i + 1))
        and urllib.parse.unquote(file[:-4]) == name
        for i, (name, file) in enumerate(HOSTILE_OUTPUTS.items()))
    check("each file holds its output; unquote gives the name", values_ok)
    help_text = subprocess.run([exe, "--help"], capture_output=True,
                               text=True).stdout
    check("--help names each output's file",
          "a/b:0: <f4 (3,) -> a%2Fb%3A0.npy" in help_text, help_text[-300:])
    # A regular file where the directory should be: a clear error.
    blocker = os.path.join(root, "blocker")
    open(blocker, "w").close()
    run = subprocess.run([exe, "--input", os.path.join(root, "x.npy"),
                          "--output-dir", os.path.join(blocker, "out")],
                         capture_output=True, text=True)
    check("--output-dir under a file is an error", run.returncode == 1 and
          "blocker" in run.stderr, run.stderr.strip()[-200:])


def check_scalar_initializers(mpc_opt, work):
    """A 0-d float initializer (a scalar weight, stored as a resource blob)
    used by an elementwise op: it crashed mpc-opt in every mode (upstream's
    rank-0 global lowering iterates the value). Rank 1 and 2 singletons
    too; each build runs and matches numpy."""
    root = os.path.join(work, "scalar")
    os.makedirs(root, exist_ok=True)
    x = np.random.default_rng(5).standard_normal((2, 3)).astype(np.float32)
    np.save(os.path.join(root, "x.npy"), x)
    for shape in ((), (1,), (3,), (2, 1)):
        c = np.linspace(-0.5, 0.5, int(np.prod(shape))).reshape(shape).astype(
            np.float32)
        graph = helper.make_graph(
            [helper.make_node("Max", ["x", "c"], ["y"], name="max")], "scalar",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
            [numpy_helper.from_array(c, "c")])
        model = os.path.join(root, "max.onnx")
        onnx.save(helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 17)]), model)
        ok, detail = True, ""
        for flags in (["--precision=fp32"], ["--precision=bf16"],
                      ["--precision=fp16"]):
            exe = os.path.join(root, "run")
            built = subprocess.run([mpc_opt, model, "--mode=infer", "-o", exe]
                                   + flags, capture_output=True, text=True)
            ran = built.returncode == 0 and subprocess.run(
                [exe, "--input", os.path.join(root, "x.npy"), "--output-dir",
                 os.path.join(root, "out")], capture_output=True).returncode == 0
            got = np.load(os.path.join(root, "out", "y.npy")) if ran else None
            if not ran or np.abs(got - np.maximum(x, c)).max() > 1e-2:
                ok, detail = False, "%s %s: %s" % (shape, flags,
                                                   built.stderr[-200:])
        ptx = subprocess.run([mpc_opt, model, "--mode=infer", "--target=cuda",
                              "--emit=ptx", "-o", os.path.join(root, "k.ptx")],
                             capture_output=True, text=True)
        if ptx.returncode != 0:
            ok, detail = False, "%s PTX: %s" % (shape, ptx.stderr[-200:])
        check("scalar initializer %s" % (shape,), ok, detail)


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
    np.save(bad_type, np.zeros((4, 8, 8), np.complex64))
    expect_error("unsupported dtype", ["--input", bad_type, "--output-dir",
                                       out_dir], "unsupported dtype '<c8'")
    # float64 is a dtype the runtime reads, but not this input's.
    wrong_type = os.path.join(work, "wrong_type.npy")
    np.save(wrong_type, np.zeros((4, 8, 8), np.float64))
    expect_error("wrong dtype", ["--input", wrong_type, "--output-dir",
                                 out_dir],
                 "input 'input' must be <f4 (4, 8, 8), got <f8 (4, 8, 8)")
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
    check_hostile_output_names(mpc_opt, work)
    check_scalar_initializers(mpc_opt, work)
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

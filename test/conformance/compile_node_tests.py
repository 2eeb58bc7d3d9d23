#!/usr/bin/env python3
"""No crash in any mode: the ONNX backend node tests (and the models given
with --model) compiled as inference programs in bf16 and fp16 and as
training programs in fp32, bf16 and fp16.

Inference: each model that imports is compiled with `--mode=infer
--emit=obj` (every pass and LLVM's code generation, no link). Training:
node tests have no initializers, so their float inputs after the first
become initializers with the values of test_data_set_0 (trainable
parameters), the first float output is the prediction of an MSE loss, and
the model is compiled with `--loss=mse --emit=obj`: every gradient rule,
the loss scaling and the optimizer the node tests reach.

Each compile either succeeds or is cleanly rejected (exit 1 with an
`error:` line); a signal, any other exit status, a hang, or a verifier
error of an upstream op (invalid IR the compiler built) is a crash, and the
run fails. `--every N` compiles every Nth node test (the suite's
bounded run); scripts/differential-nightly.sh runs all of them.

    compile_node_tests.py --mpc-opt MPC_OPT [--every N] [--model X.onnx ...]
"""
import argparse
import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import onnx
from onnx import TensorProto, numpy_helper

_UPSTREAM = (r"(arith|tensor|linalg|memref|scf|vector|llvm|func|"
             r"bufferization|affine|math|gpu|nvvm)\.")
INTERNAL = re.compile(r"error: (node '[^']*' \(%s|'%s)" % (_UPSTREAM,
                                                          _UPSTREAM))
DEFAULT_DATA = pathlib.Path("/usr/share/libonnx-testdata/data/node")
INFER_RUNS = (["--mode=infer", "--precision=bf16"],
              ["--mode=infer", "--precision=fp16"])
TRAIN_RUNS = (["--precision=fp32"], ["--precision=bf16"],
              ["--precision=fp16"])


def compile_once(mpc_opt, model, flags, work, timeout):
    """'ok', 'rejected' or 'crashed', with the message."""
    out = os.path.join(work, "out.o")
    command = [mpc_opt, str(model), *flags, "--emit=obj", "-o", out]
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "crashed", "hung (no answer in %ss)" % timeout
    if proc.returncode == 0:
        return "ok", ""
    first = next((l for l in proc.stderr.splitlines() if "error:" in l), "")
    # A verifier error of an upstream op is the compiler's own bug (it built
    # invalid IR), not a refusal of the model.
    if proc.returncode == 1 and INTERNAL.search(first):
        return "crashed", "internal error: " + first
    if proc.returncode == 1 and first:
        return "rejected", first
    # The head says what failed (an LLVM ERROR, an assertion); the stack
    # dump after it names only frames. One line, so the report is readable.
    head = " | ".join(proc.stderr.strip().splitlines()[:3])
    return "crashed", "exit %d: %s" % (proc.returncode, head[:600])


def trainable_variant(model_path, path):
    """The node test with its float inputs after the first turned into
    initializers (values from test_data_set_0), or None when it has no
    such input or no float output."""
    model = onnx.load(str(model_path))
    graph = model.graph
    data = model_path.parent / "test_data_set_0"
    floats = [i for i, v in enumerate(graph.input)
              if v.type.tensor_type.elem_type == TensorProto.FLOAT]
    outputs = [o for o in graph.output
               if o.type.tensor_type.elem_type == TensorProto.FLOAT]
    if len(floats) < 2 or not outputs or not data.is_dir():
        return None
    for i in floats[1:]:
        tensor = onnx.TensorProto()
        input_file = data / ("input_%d.pb" % i)
        if not input_file.exists():
            return None
        tensor.ParseFromString(input_file.read_bytes())
        tensor.name = graph.input[i].name
        graph.initializer.append(tensor)
    keep = [v for i, v in enumerate(graph.input) if i not in floats[1:]]
    del graph.input[:]
    graph.input.extend(keep)
    # The prediction is the first float output.
    first = outputs[0]
    others = [o for o in graph.output if o is not first]
    del graph.output[:]
    graph.output.extend([first] + others)
    onnx.save(model, path)
    return path


def sweep(mpc_opt, model, timeout, train_model=None):
    """[(mode, flags, kind, message)] for one model."""
    results = []
    with tempfile.TemporaryDirectory(prefix="mpc-sweep-") as work:
        imported, message = compile_once(mpc_opt, model, ["--mode=infer",
                                                          "--precision=fp32"],
                                         work, timeout)
        results.append(("infer", "fp32", imported, message))
        if imported != "crashed":
            for flags in INFER_RUNS:
                kind, message = compile_once(mpc_opt, model, flags, work,
                                             timeout)
                results.append(("infer", flags[-1].split("=")[-1], kind,
                                message))
        train = train_model
        if train is None:
            try:
                train = trainable_variant(
                    pathlib.Path(model), os.path.join(work, "train.onnx"))
            except Exception as e:  # a node test onnx cannot rewrite
                results.append(("train", "-", "skipped", str(e)))
        if train:
            for flags in TRAIN_RUNS:
                kind, message = compile_once(
                    mpc_opt, train, flags + ["--loss=mse", "--batch-size=4"],
                    work, timeout)
                results.append(("train", flags[-1].split("=")[-1], kind,
                                message))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mpc-opt", required=True)
    parser.add_argument("--data", type=pathlib.Path, default=DEFAULT_DATA)
    parser.add_argument("--every", type=int, default=1,
                        help="compile every Nth node test")
    parser.add_argument("--model", action="append", default=[],
                        help="a model to compile in every mode as it is")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    models = sorted(args.data.glob("*/model.onnx"))[::args.every]
    jobs = [(m, None) for m in models] + [(m, m) for m in args.model]
    counts = {}
    crashes = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(sweep, args.mpc_opt, m, args.timeout, t): m
                   for m, t in jobs}
        for future in concurrent.futures.as_completed(futures):
            model = futures[future]
            name = (model.parent.name if isinstance(model, pathlib.Path)
                    else str(model))
            for mode, precision, kind, message in future.result():
                key = (mode, precision)
                counts.setdefault(key, {"ok": 0, "rejected": 0, "crashed": 0,
                                        "skipped": 0})[kind] += 1
                if kind == "crashed":
                    crashes.append("CRASH %s %s %s: %s" % (
                        name, mode, precision, message))
    for line in sorted(crashes):
        print(line)
    print("models: %d node tests (every %d), %d others" % (
        len(models), args.every, len(args.model)))
    for (mode, precision), c in sorted(counts.items()):
        print("  %-5s %-4s compiled %4d, rejected %4d, crashed %d" % (
            mode, precision, c["ok"], c["rejected"], c["crashed"]))
    print("crashes: %d" % len(crashes))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())

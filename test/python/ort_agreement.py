#!/usr/bin/env python3
"""mpc's CPU executables against onnxruntime, and its low-precision runs
against its fp32 run, on the PyTorch reference models.

    ort_agreement.py MPC_OPT WORK_DIR [--ort NODE_MODULES] [--update]

For each model a fixed input is run by an mpc fp32 executable and by
onnxruntime: live through onnxruntime-node when NODE_MODULES holds it
(scripts/reference.sh installs it), otherwise the output onnxruntime gave
when the fixture test/reference/MODEL.npz was made (--update remakes the
fixtures from a live run). Bounds, relative to the largest |output|:

  fp32 vs onnxruntime   1e-4  (the issue's bound; both compute in fp32)
  bf16 vs mpc fp32      2^-5  (bf16 keeps 8 significant bits: unit
                               roundoff 2^-9, and a few layers of rounded
                               activations and weights compound to a few
                               2^-8; 2^-5 leaves a margin of 5x or more over
                               what these models show)
  fp16 vs mpc fp32      2^-8  (fp16 keeps 11 bits: the same argument, 8x
                               finer)

Each bound is also checked from below: a low-precision run that agrees
with fp32 far better than its format allows did not compute in it.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, "test", "Target", "ONNX", "Inputs")
FIXTURES = os.path.join(ROOT, "test", "reference")
ORT_RUN = os.path.join(FIXTURES, "ort_run.js")

# model -> (input name, input shape)
CASES = {
    "mlp": ("input", (4, 8, 8)),
    "cnn_bn": ("input", (4, 1, 8, 8)),
    "transformer_encoder": ("input", (2, 5, 16)),
}
BOUNDS = {"bf16": 2.0 ** -5, "fp16": 2.0 ** -8}
# Below these, a run did not round where it claims to.
FLOORS = {"bf16": 2.0 ** -12, "fp16": 2.0 ** -16}

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%-40s %s %s" % (name, "ok" if ok else "FAIL", detail))


def run_ort(node_modules, model, inputs, work, repeat=0):
    """Outputs of onnxruntime-node for `inputs` (name -> float32 array, or
    int64 for integer arrays), and the printed latency line when
    repeat > 0."""
    request = {"inputs": {}, "output_dir": work, "repeat": repeat}
    for name, value in inputs.items():
        dtype = (np.int64 if np.issubdtype(np.asarray(value).dtype, np.integer)
                 else np.float32)
        path = os.path.join(work, name + ".in")
        np.ascontiguousarray(value, dtype).tofile(path)
        request["inputs"][name] = {"shape": list(value.shape), "file": path,
                                   "dtype": np.dtype(dtype).name}
    request_path = os.path.join(work, "request.json")
    with open(request_path, "w") as f:
        json.dump(request, f)
    env = dict(os.environ, NODE_PATH=node_modules)
    ran = subprocess.run(["node", ORT_RUN, model, request_path], env=env,
                         capture_output=True, text=True)
    if ran.returncode:
        raise RuntimeError("onnxruntime: " + ran.stderr.strip()[-400:])
    with open(os.path.join(work, "outputs.json")) as f:
        shapes = json.load(f)
    outputs = {name: np.fromfile(os.path.join(work, name + ".f32"),
                                 np.float32).reshape(shape)
               for name, shape in shapes.items()}
    return outputs, ran.stdout


def run_mpc(mpc_opt, model, input_name, x, precision, work, repeat=0):
    """The model's first output from an mpc executable, and its stdout."""
    shape = "x".join(str(d) for d in x.shape)
    exe = os.path.join(work, "%s_%s" % (os.path.basename(model)[:-5],
                                        precision))
    subprocess.run([mpc_opt, model, "--mode=infer", "--precision=" + precision,
                    "--input-shape=%s:%s" % (input_name, shape), "-o", exe],
                   check=True)
    np.save(os.path.join(work, "x.npy"), x)
    out_dir = os.path.join(work, "out_" + precision)
    os.makedirs(out_dir, exist_ok=True)
    args = [exe, "--input", os.path.join(work, "x.npy"), "--output-dir",
            out_dir]
    if repeat:
        args += ["--repeat", str(repeat)]
    ran = subprocess.run(args, check=True, capture_output=True, text=True)
    return np.load(os.path.join(out_dir, "output.npy")), ran.stdout


def ort_accuracy(node_modules, model, inputs, labels, work):
    """Percent of `labels` that the model's only output (scores per class,
    along dim 1) gets right in onnxruntime on `inputs`."""
    os.makedirs(work, exist_ok=True)
    outputs, _ = run_ort(node_modules, model, inputs, work)
    (scores,) = outputs.values()
    return float((scores.argmax(1) == labels).mean() * 100)


def ort_available(node_modules):
    return node_modules and os.path.isdir(
        os.path.join(node_modules, "onnxruntime-node"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mpc_opt")
    parser.add_argument("work")
    parser.add_argument("--ort", help="node_modules with onnxruntime-node")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the fixtures from a live run")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    live = ort_available(args.ort)
    if args.update and not live:
        print("--update needs onnxruntime-node (--ort)")
        return 1
    print("reference: %s" % ("onnxruntime-node (live)" if live else
                             "stored onnxruntime outputs"))
    for name, (input_name, shape) in CASES.items():
        model = os.path.join(MODELS, name + ".onnx")
        fixture = os.path.join(FIXTURES, name + ".npz")
        work = os.path.join(args.work, name)
        os.makedirs(work, exist_ok=True)
        if live:
            x = np.random.default_rng(7).standard_normal(shape).astype(
                np.float32)
            try:
                outputs, _ = run_ort(args.ort, model, {input_name: x}, work)
            except RuntimeError as e:
                check(name + " onnxruntime run", False, str(e))
                continue
            reference = outputs["output"]
            if args.update:
                np.savez_compressed(fixture, input=x, output=reference)
        else:
            stored = np.load(fixture)
            x, reference = stored["input"], stored["output"]
        scale = float(np.max(np.abs(reference)))
        fp32, _ = run_mpc(args.mpc_opt, model, input_name, x, "fp32", work)
        err = float(np.max(np.abs(fp32 - reference))) / scale
        check("%s fp32 vs onnxruntime" % name,
              fp32.shape == reference.shape and err <= 1e-4,
              "max error %.1e of max |output|" % err)
        for precision, bound in BOUNDS.items():
            low, _ = run_mpc(args.mpc_opt, model, input_name, x, precision,
                             work)
            err = float(np.max(np.abs(low - fp32))) / scale
            check("%s %s vs fp32" % (name, precision),
                  FLOORS[precision] <= err <= bound,
                  "max error %.1e of max |output| (bound %.1e)" % (err, bound))
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

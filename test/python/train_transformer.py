#!/usr/bin/env python3
"""Mixed-precision training of the PyTorch-exported transformer encoder
(LayerNormalization, Erf-GELU, attention with Softmax, Slice of the class
token, Gather of shape values that carry no gradient).

    train_transformer.py MPC_OPT MODEL.onnx WORK

A synthetic 4-class task (the class is the argmax of a fixed linear map of
the token mean) is learnable by the model; fp32, bf16 and fp16 binaries
train it from the same initial weights and must each learn it (validation
accuracy above 75%, chance is 25%) and agree within 2 points.
"""
import json
import os
import subprocess
import sys

import numpy as np


def main():
    mpc_opt, model, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 5, 16)).astype(np.float32)
    y = np.argmax(x.mean(axis=1) @ rng.standard_normal((16, 4)), axis=1)
    files = {}
    for name, value in (("x", x[:384]), ("y", y[:384]), ("vx", x[384:]),
                        ("vy", y[384:])):
        files[name] = os.path.join(work, name + ".npy")
        np.save(files[name], value.astype(np.int64 if "y" in name
                                          else np.float32))
    accuracy = {}
    for precision in ("fp32", "bf16", "fp16"):
        exe = os.path.join(work, "train_" + precision)
        subprocess.run([mpc_opt, model, "--precision=" + precision,
                        "--batch-size=32", "-o", exe], check=True)
        out = os.path.join(work, precision + ".json")
        subprocess.run([exe, "--inputs", files["x"], "--labels", files["y"],
                        "--val-inputs", files["vx"], "--val-labels",
                        files["vy"], "--epochs", "30", "--batch-size", "32",
                        "--seed", "1", "--log-every", "1000",
                        "--metrics-json", out], check=True,
                       stdout=subprocess.DEVNULL)
        with open(out) as f:
            accuracy[precision] = 100 * json.load(f)["val_accuracy"]
        print("%s validation accuracy %.2f%%" % (precision,
                                                 accuracy[precision]))
    learned = min(accuracy.values()) > 75
    spread = max(accuracy.values()) - min(accuracy.values())
    ok = learned and spread <= 2
    print("transformer fp32/bf16/fp16 learn and agree within 2 points: %s"
          % ("ok" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

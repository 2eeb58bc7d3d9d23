#!/usr/bin/env python3
"""Gradient clipping against PyTorch (fp64) on the bundled digits MLP.

    grad_clipping.py MPC_OPT EXAMPLE_DIR WORK

One SGD step on one batch (32 samples: the mean loss does not depend on
the binary's sample order) from the model's own weights, in mpc and in
torch with clip_grad_norm_ / clip_grad_value_; the trained weights and the
reported gradient norm must agree:
  * fp32 with --clip-grad-norm (the compiled default, a runtime override,
    and 0 at run time: no clipping) and with --clip-grad-value;
  * fp16 with dynamic loss scaling: clipping after unscaling, as
    GradScaler's unscale_ then clip_grad_norm_;
  * a binary compiled without clipping refuses the runtime flag.
"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % (name, "ok" if ok else "FAIL",
                       (" (" + detail + ")") if detail else ""))


def weights(path):
    return {t.name: numpy_helper.to_array(t).astype(np.float64)
            for t in onnx.load(path).graph.initializer}


def torch_step(initial, images, labels, lr, max_norm=None, clip_value=None):
    """One SGD step in fp64; the new weights and the norm before clipping."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in initial.items()}
    x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float64)
    h = torch.relu(x @ p["fc1.weight"].T + p["fc1.bias"])
    logits = h @ p["fc2.weight"].T + p["fc2.bias"]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    params = list(p.values())
    if clip_value is not None:
        torch.nn.utils.clip_grad_value_(params, clip_value)
    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm)) \
        if max_norm is not None else None
    with torch.no_grad():
        return {k: (v - lr * v.grad).numpy() for k, v in p.items()}, norm


def main():
    mpc_opt, example, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(example, "mlp_digits.onnx")
    images = np.load(os.path.join(example, "data", "train_images.npy"))[:32]
    labels = np.load(os.path.join(example, "data", "train_labels.npy"))[:32]
    data = {"images": os.path.join(work, "x.npy"),
            "labels": os.path.join(work, "y.npy")}
    np.save(data["images"], images)
    np.save(data["labels"], labels)
    initial = weights(model)

    def build(name, *flags):
        exe = os.path.join(work, name)
        subprocess.run([mpc_opt, model, "--optimizer=sgd", "-o", exe, *flags],
                       check=True)
        return exe

    def step(exe, *flags):
        out = os.path.join(work, "trained.onnx")
        m = os.path.join(work, "m.json")
        ran = subprocess.run([exe, "--inputs", data["images"], "--labels",
                              data["labels"], "--steps", "1", "--lr", "0.1",
                              "--log-every", "1", "--save-onnx", out,
                              "--metrics-json", m, *flags],
                             capture_output=True, text=True)
        if ran.returncode:
            raise RuntimeError(ran.stderr)
        with open(m) as f:
            history = json.load(f)["history"]["train"]
        return weights(out), history[0].get("grad_norm")

    def compare(name, got, norm, want, want_norm, tolerance):
        error = max(float(np.abs(got[k] - want[k]).max()) for k in want)
        norm_error = (abs(norm - want_norm) / want_norm
                      if want_norm is not None else 0.0)
        check(name, error < tolerance and norm_error < 1e-4,
              "max weight error %.2e, norm %s vs %s" % (error, norm,
                                                         want_norm))

    unclipped, full_norm = torch_step(initial, images, labels, 0.1,
                                      max_norm=float("inf"))
    exe = build("clip_norm", "--precision=fp32", "--clip-grad-norm=0.5")
    got, norm = step(exe)
    want, want_norm = torch_step(initial, images, labels, 0.1, max_norm=0.5)
    compare("fp32 --clip-grad-norm=0.5 (compiled) matches clip_grad_norm_",
            got, norm, want, want_norm, 1e-5)
    check("the norm was above 0.5, so the step was clipped",
          full_norm > 0.5 and
          max(float(np.abs(want[k] - unclipped[k]).max()) for k in want)
          > 1e-3, "unclipped norm %.4f" % full_norm)
    got, norm = step(exe, "--clip-grad-norm", "2.5")
    want, want_norm = torch_step(initial, images, labels, 0.1, max_norm=2.5)
    compare("--clip-grad-norm 2.5 at run time overrides the compiled 0.5",
            got, norm, want, want_norm, 1e-5)
    got, norm = step(exe, "--clip-grad-norm=0")
    compare("--clip-grad-norm 0 at run time turns clipping off", got, norm,
            unclipped, full_norm, 1e-5)

    exe = build("clip_value", "--precision=fp32", "--clip-grad-value=0.01")
    got, _ = step(exe)
    want, _ = torch_step(initial, images, labels, 0.1, clip_value=0.01)
    compare("fp32 --clip-grad-value=0.01 matches clip_grad_value_", got, None,
            want, None, 1e-5)

    exe = build("clip_fp16", "--precision=fp16", "--clip-grad-norm=0.5")
    got, norm = step(exe)
    want, want_norm = torch_step(initial, images, labels, 0.1, max_norm=0.5)
    error = max(float(np.abs(got[k] - want[k]).max()) for k in want)
    check("fp16 with loss scaling clips the unscaled gradients",
          error < 2e-3 and abs(norm - want_norm) / want_norm < 1e-2,
          "max weight error %.2e, norm %.5f vs %.5f" % (error, norm,
                                                        want_norm))

    plain = build("plain", "--precision=fp32")
    ran = subprocess.run([plain, "--inputs", data["images"], "--labels",
                          data["labels"], "--steps", "1", "--clip-grad-norm",
                          "1"], capture_output=True, text=True)
    check("a binary without clipping refuses --clip-grad-norm",
          ran.returncode == 1 and "compiled without gradient-norm clipping"
          in ran.stderr, ran.stderr.strip())

    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

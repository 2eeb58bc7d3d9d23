#!/usr/bin/env python3
"""Gradient accumulation against PyTorch (fp64) on the bundled digits MLP.

    grad_accumulation.py MPC_OPT EXAMPLE_DIR WORK

A step of K accumulated batches of 32 over a 32K-sample set sees every
sample once: its mean gradient is the whole set's, whatever order the
binary draws the samples in, so two steps equal two full-batch steps in
torch (Adam, from the model's own weights). Checked:
  * fp32, --accumulate=3 compiled: weights and the logged loss of each
    step (the mean over its batches) against torch;
  * the runtime's --accumulate overrides the compiled K (2 over a 64-sample
    set) and --accumulate 1 updates after every batch;
  * fp16 with dynamic loss scaling: one sample that overflows fp16 skips
    the whole step (GradScaler: the window's gradients are checked once),
    weights unchanged, one skipped step, the scale backed off once; on
    clean data the step matches torch;
  * with norm clipping, the window's mean gradient is clipped;
  * resuming a checkpoint continues bit for bit; another K is refused;
  * a binary compiled without accumulation refuses --accumulate, and its
    --help does not offer it.
"""
import json
import os
import shutil
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


def torch_steps(initial, images, labels, lr, steps, max_norm=None):
    """`steps` full-batch Adam steps in fp64: the weights and the losses."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in initial.items()}
    opt = torch.optim.Adam(p.values(), lr=lr)
    x = torch.tensor(images.reshape(len(images), -1), dtype=torch.float64)
    y = torch.tensor(labels)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        h = torch.relu(x @ p["fc1.weight"].T + p["fc1.bias"])
        logits = h @ p["fc2.weight"].T + p["fc2.bias"]
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(list(p.values()), max_norm)
        opt.step()
        losses.append(float(loss))
    return {k: v.detach().numpy() for k, v in p.items()}, losses


def max_error(got, want):
    return max(float(np.abs(got[k] - want[k]).max()) for k in want)


def relative_update_error(got, want, initial):
    diff = sum(float(((got[k] - want[k]) ** 2).sum()) for k in want)
    size = sum(float(((want[k] - initial[k]) ** 2).sum()) for k in want)
    return (diff / size) ** 0.5


def main():
    mpc_opt, example, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(example, "mlp_digits.onnx")
    all_images = np.load(os.path.join(example, "data", "train_images.npy"))
    all_labels = np.load(os.path.join(example, "data", "train_labels.npy"))
    initial = weights(model)

    def dataset(name, n, images=None):
        images = all_images[:n] if images is None else images
        paths = (os.path.join(work, name + "_x.npy"),
                 os.path.join(work, name + "_y.npy"))
        np.save(paths[0], images)
        np.save(paths[1], all_labels[:n])
        return paths

    def build(name, *flags):
        exe = os.path.join(work, name)
        subprocess.run([mpc_opt, model, "--optimizer=adam", "--lr=0.01",
                        "-o", exe, *flags], check=True)
        return exe

    def run(exe, data, steps, *flags, expect_ok=True):
        out = os.path.join(work, "trained.onnx")
        m = os.path.join(work, "m.json")
        for path in (out, m):
            if os.path.exists(path):
                os.remove(path)
        ran = subprocess.run([exe, "--inputs", data[0], "--labels", data[1],
                              "--steps", str(steps), "--log-every", "1",
                              "--save-onnx", out, "--metrics-json", m,
                              *flags], capture_output=True, text=True)
        if not expect_ok:
            return ran
        if ran.returncode:
            raise RuntimeError(ran.stdout + ran.stderr)
        with open(m) as f:
            metrics = json.load(f)
        return weights(out), metrics

    set96 = dataset("d96", 96)
    exe = build("acc3", "--precision=fp32", "--accumulate=3")
    got, metrics = run(exe, set96, 2)
    want, want_losses = torch_steps(initial, all_images[:96],
                                    all_labels[:96], 0.01, 2)
    losses = [p["loss"] for p in metrics["history"]["train"]]
    loss_error = max(abs(a - b) for a, b in zip(losses, want_losses))
    error = max_error(got, want)
    check("fp32 --accumulate=3: two steps of 3 batches match full-batch Adam",
          error < 1e-5 and loss_error < 1e-5 and
          metrics["samples_per_step"] == 96,
          "max weight error %.2e, loss error %.2e" % (error, loss_error))
    one, _ = torch_steps(initial, all_images[:96], all_labels[:96], 0.01, 1)
    check("the accumulated step differs from one batch's step",
          max_error(one, want) > 1e-3)

    set64 = dataset("d64", 64)
    got, metrics = run(exe, set64, 2, "--accumulate", "2")
    want, _ = torch_steps(initial, all_images[:64], all_labels[:64], 0.01, 2)
    error = max_error(got, want)
    check("--accumulate 2 at run time overrides the compiled 3",
          error < 1e-5 and metrics["accumulate"] == 2,
          "max weight error %.2e" % error)
    set32 = dataset("d32", 32)
    got, _ = run(exe, set32, 2, "--accumulate=1")
    want, _ = torch_steps(initial, all_images[:32], all_labels[:32], 0.01, 2)
    error = max_error(got, want)
    check("--accumulate 1 updates after every batch", error < 1e-5,
          "max weight error %.2e" % error)

    fp16 = build("acc3_fp16", "--precision=fp16", "--accumulate=3")
    bad = all_images[:96].copy()
    bad[70] = 1e5  # above fp16's 65504 in the third batch at most
    got, metrics = run(fp16, dataset("bad", 96, bad), 1)
    error = max_error(got, initial)
    check("fp16: an overflow in one batch skips the whole step",
          error == 0 and metrics["skipped_steps"] == 1 and
          metrics["loss_scale"] == 32768.0,
          "weights moved by %.2e, %d skipped, scale %s" % (
              error, metrics["skipped_steps"], metrics["loss_scale"]))
    got, metrics = run(fp16, set96, 2)
    want, _ = torch_steps(initial, all_images[:96], all_labels[:96], 0.01, 2)
    # Adam moves a weight by about lr whatever its gradient's size, so an
    # fp16 gradient near 0 can move it the other way: compare the updates
    # as a whole.
    error = relative_update_error(got, want, initial)
    check("fp16 with loss scaling: accumulated steps match torch",
          error < 0.05 and metrics["skipped_steps"] == 0,
          "update error %.2e of its size" % error)

    clipped = build("acc3_clip", "--precision=fp32", "--accumulate=3",
                    "--clip-grad-norm=0.5")
    got, _ = run(clipped, set96, 2)
    want, _ = torch_steps(initial, all_images[:96], all_labels[:96], 0.01, 2,
                          max_norm=0.5)
    error = max_error(got, want)
    check("--clip-grad-norm clips the window's mean gradient", error < 1e-5,
          "max weight error %.2e" % error)

    ck = os.path.join(work, "ck")
    shutil.rmtree(ck, ignore_errors=True)
    straight, _ = run(exe, set96, 4)
    run(exe, set96, 2, "--checkpoint", ck)
    resumed, _ = run(exe, set96, 4, "--resume", ck)
    check("resuming an accumulating run continues it exactly",
          max_error(resumed, straight) == 0)
    ran = run(exe, set96, 4, "--resume", ck, "--accumulate", "2",
              expect_ok=False)
    check("resuming with another --accumulate is refused",
          ran.returncode == 1 and "trained with --accumulate 3" in ran.stderr,
          ran.stderr.strip())

    plain = build("plain", "--precision=fp32")
    ran = run(plain, set96, 1, "--accumulate", "2", expect_ok=False)
    check("a binary without accumulation refuses --accumulate",
          ran.returncode == 1 and "compiled without gradient accumulation"
          in ran.stderr, ran.stderr.strip())
    helps = [subprocess.run([path, "--help"], capture_output=True,
                            text=True).stdout for path in (exe, plain)]
    check("--help shows --accumulate with the compiled K, where compiled in",
          "--accumulate K" in helps[0] and "(default 3; 1: off)" in helps[0]
          and "--accumulate" not in helps[1])
    ran = run(exe, set32, 1, expect_ok=False)
    check("a set smaller than one step is an error naming it",
          ran.returncode == 1 and "fewer than one step of 3 batches of 32"
          in ran.stderr, ran.stderr.strip())

    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

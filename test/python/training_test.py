#!/usr/bin/env python3
"""The training binary end to end, on the bundled digits MLP.

    training_test.py MPC_OPT EXAMPLE_DIR WORK [--ort NODE_MODULES]

Checks, each printed as one line:
  * fp32, bf16 and fp16 training reach validation accuracies within 2
    points of each other (and learn: above 90%);
  * the model written by --save-onnx, run by onnxruntime (or numpy when
    onnxruntime-node is not installed) on every validation sample, gives
    the loss and accuracy the binary reported (so evaluation covered all
    360 samples though 360 is not a multiple of the batch);
  * loss scaling, executed: an overflowing batch skips the step, halves the
    scale and leaves the weights unchanged; clean steps with a growth
    interval of 2 double it; bf16 has no loss scaling;
  * a resumed run gives the same weights as an uninterrupted one, and a
    run killed with SIGKILL leaves a complete checkpoint to resume from;
  * the same seed gives the same weights, another seed other weights;
  * bad input exits non-zero with a message naming the problem and writes
    no output file.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ort_agreement import ort_available, run_ort  # noqa: E402

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % (name, "ok" if ok else "FAIL",
                       (" (" + detail + ")") if detail else ""))


def compile_model(mpc_opt, model, out, *flags):
    subprocess.run([mpc_opt, model, "-o", out, *flags], check=True)


def train(exe, data, *flags, expect_ok=True):
    args = [exe, "--inputs", data["train_images"], "--labels",
            data["train_labels"], "--seed", "1", "--log-every", "1000",
            *flags]
    ran = subprocess.run(args, capture_output=True, text=True)
    if expect_ok and ran.returncode:
        raise RuntimeError(" ".join(args) + ": " + ran.stderr)
    return ran


def metrics(path):
    with open(path) as f:
        return json.load(f)


def weights(onnx_path):
    model = onnx.load(onnx_path)
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def state(checkpoint_dir, name):
    with open(os.path.join(checkpoint_dir, "latest")) as f:
        directory = os.path.join(checkpoint_dir, f.read().strip())
    with open(os.path.join(directory, "trainer.json")) as f:
        files = {s["name"]: s["file"] for s in json.load(f)["state"]}
    return np.load(os.path.join(directory, files[name]))


def mlp_logits(w, images):
    x = images.reshape(len(images), -1).astype(np.float64)
    h = np.maximum(x @ w["fc1.weight"].T + w["fc1.bias"], 0)
    return h @ w["fc2.weight"].T + w["fc2.bias"]


def cross_entropy(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def main():
    mpc_opt, example, work = sys.argv[1:4]
    node_modules = sys.argv[5] if len(sys.argv) > 5 else ""
    os.makedirs(work, exist_ok=True)
    model = os.path.join(example, "mlp_digits.onnx")
    data = {k: os.path.join(example, "data", k + ".npy") for k in
            ("train_images", "train_labels", "val_images", "val_labels")}
    val = ["--val-inputs", data["val_images"], "--val-labels",
           data["val_labels"]]

    # Convergence in three precisions.
    accuracy = {}
    for precision in ("fp32", "bf16", "fp16"):
        exe = os.path.join(work, "train_" + precision)
        compile_model(mpc_opt, model, exe, "--precision=" + precision)
        m = os.path.join(work, precision + ".json")
        train(exe, data, "--epochs", "20", "--lr", "0.01", *val,
              "--metrics-json", m, "--save-onnx",
              os.path.join(work, precision + ".onnx"))
        accuracy[precision] = metrics(m)["val_accuracy"]
    spread = max(accuracy.values()) - min(accuracy.values())
    check("fp32/bf16/fp16 validation accuracy within 2 points",
          spread <= 0.02 and min(accuracy.values()) > 0.9,
          ", ".join("%s %.2f%%" % (p, 100 * a) for p, a in accuracy.items()))

    # The saved model against the binary's own evaluation.
    m = metrics(os.path.join(work, "fp32.json"))
    images = np.load(data["val_images"])
    labels = np.load(data["val_labels"])
    saved = os.path.join(work, "fp32.onnx")
    onnx.checker.check_model(onnx.load(saved))
    if ort_available(node_modules):
        outputs, _ = run_ort(node_modules, saved, {"image": images}, work)
        logits, reference = outputs["logits"], "onnxruntime"
    else:
        logits, reference = mlp_logits(weights(saved), images), "numpy"
    acc = float((logits.argmax(axis=1) == labels).mean())
    loss = cross_entropy(np.asarray(logits, np.float64), labels)
    check("--save-onnx model in %s matches the binary's evaluation of all %d "
          "samples" % (reference, len(labels)),
          abs(acc - m["val_accuracy"]) < 1e-9 and
          abs(loss - m["val_loss"]) < 1e-4 * max(1, loss),
          "accuracy %.4f vs %.4f, loss %.5f vs %.5f"
          % (acc, m["val_accuracy"], loss, m["val_loss"]))

    # Loss scaling.
    fp16 = os.path.join(work, "train_fp16_gi2")
    compile_model(mpc_opt, model, fp16, "--precision=fp16",
                  "--loss-scale-growth-interval=2")
    huge = os.path.join(work, "huge.npy")
    np.save(huge, np.load(data["train_images"]) * np.float32(1e5))
    ckpt = os.path.join(work, "ckpt_overflow")
    ran = subprocess.run([fp16, "--inputs", huge, "--labels",
                          data["train_labels"], "--steps", "1", "--seed", "1",
                          "--checkpoint", ckpt], capture_output=True,
                         text=True)
    initial = weights(model)
    unchanged = all(np.array_equal(state(ckpt, "param:" + k), v)
                    for k, v in initial.items())
    check("an overflowing fp16 step is skipped, halves the scale, keeps the "
          "weights",
          ran.returncode == 0 and unchanged and
          float(state(ckpt, "loss_scale")) == 32768 and
          float(state(ckpt, "skipped_steps")) == 1 and
          float(state(ckpt, "step")) == 0,
          "scale %g, skipped %g" % (float(state(ckpt, "loss_scale")),
                                   float(state(ckpt, "skipped_steps"))))
    m = os.path.join(work, "grow.json")
    train(fp16, data, "--steps", "4", "--metrics-json", m)
    check("4 clean steps with growth interval 2 double the scale twice",
          metrics(m)["loss_scale"] == 65536 * 4 and
          metrics(m)["skipped_steps"] == 0, str(metrics(m)["loss_scale"]))
    check("bf16 trains without loss scaling (fp16 dynamic by default)",
          metrics(os.path.join(work, "bf16.json"))["loss_scale"] is None and
          metrics(os.path.join(work, "fp16.json"))["loss_scale"] == 65536)

    # Resume and kill -9.
    exe = os.path.join(work, "train_fp16")
    full = os.path.join(work, "full.onnx")
    train(exe, data, "--steps", "100", "--save-onnx", full)
    part = os.path.join(work, "ckpt_part")
    train(exe, data, "--steps", "57", "--checkpoint", part)
    resumed = os.path.join(work, "resumed.onnx")
    train(exe, data, "--steps", "100", "--resume", part, "--save-onnx",
          resumed)
    check("resuming at step 57 gives the uninterrupted run's weights",
          open(full, "rb").read() == open(resumed, "rb").read())
    # Learning-rate schedules are a function of the step: a cosine run of 3
    # steps at lr 0.5 trains with 0.5, 0.375 and 0.125, which three
    # constant-rate runs resumed from each other reproduce bit for bit; a
    # warmup of 2 steps trains its first step at half the rate.
    scheduled = os.path.join(work, "cosine.onnx")
    train(exe, data, "--steps", "3", "--lr", "0.5", "--lr-schedule", "cosine",
          "--save-onnx", scheduled)
    piecewise = os.path.join(work, "ckpt_piecewise")
    for steps, lr in (("1", "0.5"), ("2", "0.375"), ("3", "0.125")):
        resume = ["--resume", piecewise] if steps != "1" else []
        train(exe, data, "--steps", steps, "--lr", lr, "--checkpoint",
              piecewise, "--save-onnx", os.path.join(work, "piecewise.onnx"),
              *resume)
    check("--lr-schedule cosine: each step's rate is lr (1 + cos(pi s / S)) / 2",
          open(scheduled, "rb").read() ==
          open(os.path.join(work, "piecewise.onnx"), "rb").read())
    warm, half = (os.path.join(work, n + ".onnx") for n in ("warm", "half"))
    train(exe, data, "--steps", "1", "--lr", "0.02", "--warmup-steps", "2",
          "--save-onnx", warm)
    train(exe, data, "--steps", "1", "--lr", "0.01", "--save-onnx", half)
    m = os.path.join(work, "warm.json")
    train(exe, data, "--steps", "1", "--lr", "0.02", "--warmup-steps", "2",
          "--lr-schedule", "linear", "--metrics-json", m)
    check("--warmup-steps 2: the first step trains at half the rate",
          open(warm, "rb").read() == open(half, "rb").read() and
          metrics(m)["lr_schedule"] == "linear" and
          metrics(m)["warmup_steps"] == 2)
    bad = subprocess.run([exe, "--inputs", data["train_images"], "--labels",
                          data["train_labels"], "--steps", "1",
                          "--lr-schedule", "exponential"],
                         capture_output=True, text=True)
    check("an unknown --lr-schedule is an error naming the choices",
          bad.returncode != 0 and
          "expected constant, cosine, linear or step" in bad.stderr,
          bad.stderr.strip())

    # The step counters are i64: an optimizer at step 2^24 goes on to
    # 2^24 + 1 (an f32 counter stays at 2^24, freezing the bias correction).
    with open(os.path.join(part, "latest")) as f:
        directory = os.path.join(part, f.read().strip())
    with open(os.path.join(directory, "trainer.json")) as f:
        step_file = {e["name"]: e["file"] for e in json.load(f)["state"]}["step"]
    np.save(os.path.join(directory, step_file), np.array(2 ** 24, np.int64))
    train(exe, data, "--steps", "58", "--resume", part, "--checkpoint", part)
    counted = state(part, "step")
    check("the optimizer's step counts past 2^24 (an i64 counter)",
          counted.dtype == np.int64 and int(counted) == 2 ** 24 + 1 and
          state(part, "skipped_steps").dtype == np.int64,
          "%s %s" % (counted.dtype, counted))
    killed = os.path.join(work, "ckpt_killed")
    proc = subprocess.Popen([exe, "--inputs", data["train_images"],
                             "--labels", data["train_labels"], "--steps",
                             "2000000", "--seed", "1", "--checkpoint", killed,
                             "--checkpoint-every", "7", "--log-every",
                             "100000"], stdout=subprocess.DEVNULL)
    # Kill once a checkpoint exists and the run has gone on past it,
    # however fast the machine is.
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(killed, "latest")) and \
            time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ran = train(exe, data, "--eval-only", "--resume", killed,
                expect_ok=False)
    # The loop's step is what trainer.json records (and the directory's
    # name); the optimizer's step leaves out steps that fp16 loss scaling
    # skipped, which happen on fast machines once the scale has grown.
    with open(os.path.join(killed, "latest")) as f:
        latest = f.read().strip()
    with open(os.path.join(killed, latest, "trainer.json")) as f:
        loop_step = json.load(f)["step"]
    optimizer_step = float(state(killed, "step"))
    skipped = float(state(killed, "skipped_steps"))
    check("after kill -9 the latest checkpoint is complete and resumes",
          ran.returncode == 0 and latest == "ckpt-%d" % loop_step and
          loop_step > 0 and loop_step % 7 == 0 and
          optimizer_step + skipped == loop_step,
          "%s: loop step %d, optimizer step %d, skipped %d" % (
              latest, loop_step, optimizer_step, skipped))

    # Determinism.
    again = os.path.join(work, "again.onnx")
    train(exe, data, "--steps", "100", "--save-onnx", again)
    other = os.path.join(work, "other.onnx")
    subprocess.run([exe, "--inputs", data["train_images"], "--labels",
                    data["train_labels"], "--steps", "100", "--seed", "2",
                    "--save-onnx", other], check=True, capture_output=True)
    check("the same seed gives the same weights, another seed others",
          open(full, "rb").read() == open(again, "rb").read() and
          open(full, "rb").read() != open(other, "rb").read())

    # Bad input: an error naming the problem, no output files.
    bad_labels = os.path.join(work, "bad_labels.npy")
    np.save(bad_labels, np.full(len(np.load(data["val_labels"])), 10,
                                np.int64))
    nan_images = os.path.join(work, "nan_images.npy")
    x = np.load(data["train_images"])
    x[5, 3, 3] = np.nan
    np.save(nan_images, x)
    f64_images = os.path.join(work, "f64_images.npy")
    np.save(f64_images, np.load(data["train_images"]).astype(np.float64))
    cases = [
        ("wrong optimizer", ["--steps", "1", "--optimizer", "sgd"],
         "compiled with the adamw optimizer"),
        ("wrong batch size", ["--steps", "1", "--batch-size", "64"],
         "compiled for batches of 32"),
        ("no length", [], "--epochs N or --steps N"),
        ("missing file", ["--steps", "1", "--val-inputs", "nope.npy",
                          "--val-labels", "nope.npy"], "nope.npy: cannot open"),
        ("label out of range", ["--steps", "1", "--val-inputs",
                                data["val_images"], "--val-labels",
                                bad_labels], "label 10 at 0 is not a class"),
        ("NaN input", ["--steps", "1", "--val-inputs", nan_images,
                       "--val-labels", data["train_labels"]],
         "sample 5 has a non-finite value"),
        ("float64 input", ["--steps", "1", "--val-inputs", f64_images,
                           "--val-labels", data["train_labels"]],
         "must be <f4 with shape (N, 8, 8), got <f8 (1437, 8, 8)"),
        ("cuda", ["--steps", "1", "--device", "cuda"], "CPU code only"),
        ("unknown flag", ["--steps", "1", "--frobnicate"],
         "unknown argument '--frobnicate'"),
        ("a misspelt flag", ["--stesp", "1"],
         "unknown argument '--stesp'; did you mean '--steps'?"),
        ("--steps 0", ["--steps", "0"], "--steps 0: nothing to train"),
        ("a negative --lr", ["--steps", "1", "--lr=-1"],
         "--lr must not be negative"),
    ]
    for name, flags, message in cases:
        out_json = os.path.join(work, "bad.json")
        out_onnx = os.path.join(work, "bad.onnx")
        ran = train(exe, data, *flags, "--metrics-json", out_json,
                    "--save-onnx", out_onnx, expect_ok=False)
        check("error: " + name,
              ran.returncode != 0 and message in ran.stderr and
              not os.path.exists(out_json) and not os.path.exists(out_onnx),
              ran.stderr.strip().splitlines()[-1] if ran.stderr else
              "no message")

    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

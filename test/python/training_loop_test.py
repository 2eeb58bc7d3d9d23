#!/usr/bin/env python3
"""The training binary never loses work, on the bundled digits MLP.

    training_loop_test.py MPC_OPT EXAMPLE_DIR WORK

Checks, each printed as one line:
  * every output location is checked before the first step (a missing
    directory, a directory given as a file), directories that flags name
    are created first, and an inference binary's --output-dir is too;
  * outputs are written through symlinks (the link stays a link) and into
    devices (/dev/stdout, /dev/null stay what they are), by the compiler
    and by both kinds of binary;
  * SIGINT and SIGTERM end the run after the step in progress with a
    checkpoint, the model and the metrics, exit 128 + N and say how to
    resume; the resumed run ends with the weights of an uninterrupted one;
  * divergence (fp16 and bf16 at lr 1000; fp16 loss scaling driven below
    its floor) stops the run with exit status 3 and a message, and writes
    no model and no checkpoint from the diverged state;
  * --resume past --steps and --steps 0 are errors that say so;
  * --flag=value is --flag value, misspelt flags get a suggestion;
  * step decay (StepLR) against piecewise constant runs; the progress line
    has an ETA;
  * validation every N steps with its history, --keep-best's model (in
    --save-onnx and DIR/best) against the history, early stopping.
"""
import json
import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import training_test as base  # noqa: E402
from training_test import check, compile_model, metrics  # noqa: E402


def run(exe, data, *flags):
    return subprocess.run([exe, "--inputs", data["train_images"], "--labels",
                           data["train_labels"], "--seed", "1", *flags],
                          capture_output=True, text=True)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def last_line(ran):
    lines = ran.stderr.strip().splitlines()
    return lines[-1] if lines else "no message (exit %d)" % ran.returncode


def wait_until_training(proc, path, timeout=120):
    """Until `path` exists (the first checkpoint): the loop is running."""
    deadline = time.time() + timeout
    while not os.path.exists(path) and time.time() < deadline and \
            proc.poll() is None:
        time.sleep(0.02)


def interrupted_run(exe, data, work, sig, tag, with_checkpoint=True):
    ckpt = os.path.join(work, "ckpt_" + tag)
    onnx_out = os.path.join(work, tag + ".onnx")
    metrics_out = os.path.join(work, tag + ".json")
    flags = ["--steps", "2000000", "--log-every", "100000", "--save-onnx",
             onnx_out, "--metrics-json", metrics_out]
    if with_checkpoint:
        flags += ["--checkpoint", ckpt, "--checkpoint-every", "5"]
    proc = subprocess.Popen(
        [exe, "--inputs", data["train_images"], "--labels",
         data["train_labels"], "--seed", "1", *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if with_checkpoint:
        wait_until_training(proc, os.path.join(ckpt, "latest"))
    else:
        time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err, ckpt, onnx_out, metrics_out


def main():
    mpc_opt, example, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(example, "mlp_digits.onnx")
    data = {k: os.path.join(example, "data", k + ".npy") for k in
            ("train_images", "train_labels", "val_images", "val_labels")}
    fp16 = os.path.join(work, "train_fp16")
    bf16 = os.path.join(work, "train_bf16")
    compile_model(mpc_opt, model, fp16, "--precision=fp16")
    compile_model(mpc_opt, model, bf16, "--precision=bf16")

    # Outputs are checked before the first step.
    for flag, path, message in (
            ("--save-onnx", os.path.join(work, "nodir", "t.onnx"),
             "the directory '%s' does not exist (nothing was run)"
             % os.path.join(work, "nodir")),
            ("--metrics-json", work, "is a directory"),
            ("--checkpoint", os.path.join(work, "a_file", "sub"),
             "not a directory")):
        if flag == "--checkpoint":
            open(os.path.join(work, "a_file"), "w").close()
        ran = run(fp16, data, "--steps", "3", "--log-every", "1", flag, path)
        check("%s %s fails before the first step" % (flag, os.path.basename(
              path)),
              ran.returncode == 1 and message in ran.stderr and
              "step 1/" not in ran.stdout, last_line(ran))
    nested = os.path.join(work, "made", "by", "flag")
    ran = run(fp16, data, "--steps", "2", "--checkpoint", nested)
    check("--checkpoint creates its directory and parents",
          ran.returncode == 0 and os.path.isfile(os.path.join(nested,
                                                              "latest")),
          last_line(ran))

    infer = os.path.join(work, "infer")
    compile_model(mpc_opt, model, infer, "--mode=infer", "--precision=fp32",
                  "--input-shape=image:1x8x8")
    images = os.path.join(work, "images.npy")
    np.save(images, np.load(data["train_images"])[:1])
    blocker = os.path.join(work, "blocker")
    open(blocker, "w").close()
    ran = subprocess.run([infer, "--input", images, "--output-dir",
                          os.path.join(blocker, "out"), "--repeat", "3"],
                         capture_output=True, text=True)
    check("an inference --output-dir that cannot exist fails before running",
          ran.returncode == 1 and "not a directory" in ran.stderr and
          "latency" not in ran.stdout, last_line(ran))
    out_dir = os.path.join(work, "infer_out", "deeper")
    ran = subprocess.run([infer, "--input=" + images, "--output-dir=" +
                          out_dir], capture_output=True, text=True)
    check("an inference --output-dir is created (--flag=value)",
          ran.returncode == 0 and os.listdir(out_dir) == ["logits.npy"],
          last_line(ran))
    ran = subprocess.run([infer, "--input", images, "--ouput-dir", out_dir],
                         capture_output=True, text=True)
    check("an inference binary suggests the flag it knows",
          ran.returncode == 1 and "did you mean '--output-dir'?" in ran.stderr,
          last_line(ran))

    # Symlinks are written through, devices written into, never replaced.
    target = os.path.join(work, "real_metrics.json")
    link = os.path.join(work, "link_metrics.json")
    os.symlink(os.path.basename(target), link)  # dangling until written
    dangling_onnx = os.path.join(work, "link.onnx")
    os.symlink("real.onnx", dangling_onnx)
    ran = run(fp16, data, "--steps", "2", "--metrics-json", link,
              "--save-onnx", dangling_onnx)
    check("outputs through symlinks leave the links in place",
          ran.returncode == 0 and os.path.islink(link) and
          os.path.islink(dangling_onnx) and
          metrics(target)["steps"] == 2 and
          os.path.isfile(os.path.join(work, "real.onnx")), last_line(ran))
    ran = run(fp16, data, "--steps", "2", "--metrics-json", "/dev/stdout",
              "--save-onnx", "/dev/null")
    printed, _ = json.JSONDecoder().raw_decode(
        ran.stdout[ran.stdout.find("{"):])
    check("--metrics-json /dev/stdout prints, /dev/null stays a device",
          ran.returncode == 0 and printed["steps"] == 2 and
          stat.S_ISCHR(os.stat("/dev/null").st_mode), last_line(ran))
    binary_link = os.path.join(work, "binary_link")
    os.symlink("binary_real", binary_link)
    compiled = subprocess.run(
        [mpc_opt, model, "--precision=fp32", "-o", binary_link],
        capture_output=True, text=True)
    to_null = [subprocess.run([mpc_opt, model, "--precision=fp32",
                               "--emit=" + emit, "-o", "/dev/null"],
                              capture_output=True, text=True).returncode
               for emit in ("mlir", "llvm", "obj", "exe")]
    check("mpc-opt -o writes through a symlink and into /dev/null",
          compiled.returncode == 0 and os.path.islink(binary_link) and
          os.access(os.path.join(work, "binary_real"), os.X_OK) and
          to_null == [0, 0, 0, 0] and
          stat.S_ISCHR(os.stat("/dev/null").st_mode),
          compiled.stderr.strip() + " %s" % to_null)

    # Signals: finish the step, save everything, say how to resume.
    rc, out, err, ckpt, onnx_out, metrics_out = interrupted_run(
        fp16, data, work, signal.SIGINT, "sigint")
    with open(os.path.join(ckpt, "latest")) as f:
        latest = f.read().strip()
    with open(os.path.join(ckpt, latest, "trainer.json")) as f:
        stopped = json.load(f)["step"]
    m = metrics(metrics_out)
    check("SIGINT: step finished, checkpoint, model and metrics written",
          rc == 130 and "interrupted by SIGINT after step %d" % stopped in err
          and "--resume " + ckpt in err and m["status"] == "interrupted" and
          m["steps"] == stopped and os.path.isfile(onnx_out),
          "exit %d, step %d: %s" % (rc, stopped, err.strip()[-160:]))
    resumed_onnx = os.path.join(work, "resumed.onnx")
    straight_onnx = os.path.join(work, "straight.onnx")
    base.train(fp16, data, "--steps", str(stopped + 3), "--resume", ckpt,
               "--save-onnx", resumed_onnx)
    base.train(fp16, data, "--steps", str(stopped + 3), "--save-onnx",
               straight_onnx)
    check("the interrupted run resumes to the uninterrupted run's weights",
          read(resumed_onnx) == read(straight_onnx), "step %d" % stopped)
    rc, out, err, _, onnx_out, metrics_out = interrupted_run(
        bf16, data, work, signal.SIGTERM, "sigterm", with_checkpoint=False)
    check("SIGTERM without --checkpoint: exit 143, model saved, "
          "says it cannot resume",
          rc == 143 and "cannot be resumed" in err and
          os.path.isfile(onnx_out) and
          metrics(metrics_out)["status"] == "interrupted", err.strip()[-160:])

    # Divergence: stop, say so, save nothing from the diverged state.
    good = os.path.join(work, "good.onnx")
    base.train(fp16, data, "--steps", "5", "--save-onnx", good)
    before = read(good)
    for exe, precision in ((fp16, "fp16"), (bf16, "bf16")):
        ckpt = os.path.join(work, "ckpt_diverge_" + precision)
        m = os.path.join(work, "diverge_%s.json" % precision)
        ran = run(exe, data, "--steps", "200", "--lr", "1000", "--save-onnx",
                  good, "--metrics-json", m, "--checkpoint", ckpt,
                  "--checkpoint-every", "1")
        kept = True
        if os.path.exists(os.path.join(ckpt, "latest")):
            kept = all(np.isfinite(base.state(ckpt, "param:" + name)).all()
                       for name in ("fc1.weight", "fc2.weight"))
        check("%s at lr 1000 stops as diverged, keeps the good model and "
              "checkpoint" % precision,
              ran.returncode == 3 and "training diverged at step" in
              ran.stderr and read(good) == before and kept and
              metrics(m)["status"] == "diverged", last_line(ran))
    huge = os.path.join(work, "huge.npy")
    np.save(huge, np.load(data["train_images"]) * np.float32(1e5))
    ran = subprocess.run([fp16, "--inputs", huge, "--labels",
                          data["train_labels"], "--steps", "200",
                          "--divergence-patience", "1000"],
                         capture_output=True, text=True)
    check("fp16 loss scale below 2^-16 stops the run",
          ran.returncode == 3 and "below 2^-16" in ran.stderr,
          last_line(ran))

    # Steps that cannot be trained.
    ckpt = os.path.join(work, "ckpt_ten")
    base.train(fp16, data, "--steps", "10", "--checkpoint", ckpt)
    past = run(fp16, data, "--steps", "4", "--resume", ckpt)
    equal = run(fp16, data, "--steps", "10", "--resume", ckpt)
    check("--resume past --steps is an error, at --steps says so",
          past.returncode == 1 and
          "the checkpoint is at step 10, past the 4 steps asked for" in
          past.stderr and equal.returncode == 0 and
          "nothing left to train" in equal.stdout,
          last_line(past) + " | " + equal.stdout.strip().splitlines()[-1])
    ran = run(fp16, data, "--epochs", "0")
    check("--epochs 0 is an error", ran.returncode == 1 and
          "--epochs 0: nothing to train" in ran.stderr, last_line(ran))

    # Flags.
    spaced, joined = (os.path.join(work, n + ".onnx")
                      for n in ("spaced", "joined"))
    base.train(fp16, data, "--steps", "3", "--lr", "0.01", "--save-onnx",
               spaced)
    base.train(fp16, data, "--steps=3", "--lr=0.01", "--save-onnx=" + joined)
    check("--flag=value trains as --flag value",
          read(spaced) == read(joined))
    ran = run(fp16, data, "--steps", "1", "--eval-only=yes")
    check("a value given to a switch is an error",
          ran.returncode == 1 and "--eval-only takes no value" in ran.stderr,
          last_line(ran))

    # Step decay: 3 steps at lr 0.5, halved every 2, train with 0.5, 0.5,
    # 0.25: piecewise constant runs resumed from each other agree.
    decayed = os.path.join(work, "decayed.onnx")
    m = os.path.join(work, "decayed.json")
    base.train(fp16, data, "--steps", "3", "--lr", "0.5", "--lr-schedule",
               "step", "--lr-step-size", "2", "--lr-gamma", "0.5",
               "--save-onnx", decayed, "--metrics-json", m)
    piecewise = os.path.join(work, "ckpt_step_piecewise")
    pieces = os.path.join(work, "pieces.onnx")
    for steps, lr in (("2", "0.5"), ("3", "0.25")):
        resume = ["--resume", piecewise] if steps != "2" else []
        base.train(fp16, data, "--steps", steps, "--lr", lr, "--checkpoint",
                   piecewise, "--save-onnx", pieces, *resume)
    check("--lr-schedule step: lr gamma^floor(s / step size)",
          read(decayed) == read(pieces) and metrics(m)["lr_gamma"] == 0.5 and
          metrics(m)["lr_step_size"] == 2)
    bad = [run(fp16, data, "--steps", "1", *flags) for flags in
           (["--lr-schedule", "step"], ["--lr-gamma", "0.5"])]
    check("step decay's flags are checked",
          bad[0].returncode == 1 and "needs --lr-step-size" in bad[0].stderr
          and bad[1].returncode == 1 and
          "go with --lr-schedule step" in bad[1].stderr,
          last_line(bad[0]) + " | " + last_line(bad[1]))

    ran = run(fp16, data, "--steps", "4", "--log-every", "1")
    lines = [l for l in ran.stdout.splitlines() if l.startswith("step ")]
    check("progress lines carry an ETA until the last",
          len(lines) == 4 and all(" eta " in l for l in lines[:3]) and
          " eta " not in lines[3], lines[0] if lines else ran.stdout)

    # Validation during training, the best model, early stopping.
    val = ["--val-inputs", data["val_images"], "--val-labels",
           data["val_labels"]]
    m = os.path.join(work, "val.json")
    best_onnx = os.path.join(work, "best.onnx")
    best_ckpt = os.path.join(work, "ckpt_best")
    ran = run(fp16, data, "--steps", "60", "--lr", "0.05", *val,
              "--val-every-steps", "10", "--keep-best", "val_accuracy",
              "--log-every", "20", "--metrics-json", m, "--save-onnx",
              best_onnx, "--checkpoint", best_ckpt)
    history = metrics(m)["history"] if ran.returncode == 0 else {}
    steps = [p["step"] for p in history.get("validation", [])]
    check("--val-every-steps 10: validations at 10..60, log history",
          steps == [10, 20, 30, 40, 50, 60] and
          [p["step"] for p in history["train"]] == [20, 40, 60] and
          ran.stdout.count("validation at step") == 5, last_line(ran))
    if steps:
        accuracies = [p["accuracy"] for p in history["validation"]]
        first_best = steps[accuracies.index(max(accuracies))]
        recorded = metrics(m)["best"]
        saved = base.weights(best_onnx)
        images = np.load(data["val_images"])
        labels = np.load(data["val_labels"])
        saved_accuracy = float((base.mlp_logits(saved, images).argmax(1) ==
                                labels).mean())
        same_as_checkpoint = all(
            np.array_equal(base.state(os.path.join(best_ckpt, "best"),
                                      "param:" + k), v)
            for k, v in saved.items())
        check("--keep-best val_accuracy: --save-onnx and DIR/best hold the "
              "best validation's model",
              recorded["step"] == first_best and
              abs(saved_accuracy - recorded["val_accuracy"]) < 1e-9 and
              same_as_checkpoint and "(the weights of step %d)" % first_best
              in ran.stdout,
              "best at step %d: %.4f, saved model %.4f, history %s" % (
                  recorded["step"], recorded["val_accuracy"], saved_accuracy,
                  ["%.3f" % a for a in accuracies]))
    m = os.path.join(work, "early.json")
    ran = run(fp16, data, "--steps", "100", "--lr", "0", *val,
              "--val-every-steps", "10", "--early-stopping", "2",
              "--metrics-json", m)
    check("--early-stopping 2 ends a run that stopped improving",
          ran.returncode == 0 and metrics(m)["status"] == "stopped_early" and
          metrics(m)["steps"] == 30 and metrics(m)["best"]["step"] == 10 and
          "early stopping at step 30" in ran.stdout, last_line(ran))
    bad = [run(fp16, data, "--steps", "5", *flags) for flags in
           (["--keep-best", "val_loss", *val],
            ["--val-every-steps", "2"],
            ["--keep-best", "loss", *val])]
    check("validation flags are checked",
          [b.returncode for b in bad] == [1, 1, 1] and
          "needs validations during training" in bad[0].stderr and
          "needs validation data" in bad[1].stderr and
          "expected val_loss or val_accuracy" in bad[2].stderr,
          " | ".join(last_line(b) for b in bad))

    # Data larger than what the run may hold: a 512 MiB dataset (a sparse
    # file: zeros, no disk) trains with a peak resident size far below it
    # (read whole, as before, it took over 512 MiB; mapped, 176),
    # since the binary maps the file and copies out batches.
    samples = (512 << 20) // (8 * 8 * 4)
    big = os.path.join(work, "big_images.npy")
    with open(big, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False,
                "shape": (samples, 8, 8)})
        f.truncate(f.tell() + samples * 8 * 8 * 4)
    big_labels = os.path.join(work, "big_labels.npy")
    np.save(big_labels, np.zeros(samples, np.int64))
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run(sys.argv[1:], capture_output=True); "
             "print(r.returncode, resource.getrusage("
             "resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
    ran = subprocess.run([sys.executable, "-c", probe, fp16, "--inputs", big,
                          "--labels", big_labels, "--steps", "3"],
                         capture_output=True, text=True)
    rc, peak_mib = (int(v) for v in ran.stdout.split())
    check("a 512 MiB dataset trains in far less memory (mapped, read by "
          "batch)", rc == 0 and peak_mib < 320,
          "exit %d, peak resident %d MiB" % (rc, peak_mib))
    truncated = os.path.join(work, "truncated.npy")
    with open(big, "rb") as f:
        open(truncated, "wb").write(f.read(4096))
    ran = run(fp16, data, "--steps", "1", "--inputs", truncated)
    check("a truncated .npy is an error naming it",
          ran.returncode == 1 and "truncated.npy: truncated" in ran.stderr,
          last_line(ran))

    results = base.results
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

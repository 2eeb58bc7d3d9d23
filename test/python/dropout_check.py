#!/usr/bin/env python3
"""Training-mode Dropout draws real masks: the rate, the 1/(1-p) scaling,
one mask per layer and per step, the same masks for the same --seed and
after a resume, and the identity in evaluation.

    dropout_check.py MPC_OPT WORK

The model's own loss is sum(Dropout(w1) * R1) + sum(Dropout(w2) * R2) with
fixed random R; w1 and w2 are trainable and the same size. One SGD step at
lr 1 moves w by mask * R / (1 - p), so each step's mask is read back from
two consecutive checkpoints: the moves must be exactly 0 or R / (1 - p).
"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RATIO = 0.3
SIZE = 40000
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%-64s %s %s" % (name, "ok" if ok else "FAIL", detail))


def build(path):
    rng = np.random.default_rng(3)
    w = {n: rng.uniform(0.5, 1.5, (1, SIZE)).astype(np.float32)
         for n in ("w1", "w2")}
    r = {n: rng.uniform(0.5, 1.5, (1, SIZE)).astype(np.float32)
         for n in ("r1", "r2")}
    # R are Constant nodes: float initializers would train.
    nodes = [helper.make_node("Constant", [], [k],
                              value=numpy_helper.from_array(v, k))
             for k, v in r.items()]
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()]
    inits += [numpy_helper.from_array(np.array(RATIO, np.float32), "ratio"),
              numpy_helper.from_array(np.array(True), "training")]
    for i in ("1", "2"):
        nodes += [
            helper.make_node("Add", ["w" + i, "x"], ["h" + i]),
            helper.make_node("Dropout", ["h" + i, "ratio", "training"],
                             ["d" + i], name="/drop%s/Dropout" % i),
            helper.make_node("Mul", ["d" + i, "r" + i], ["p" + i]),
            helper.make_node("ReduceSum", ["p" + i], ["s" + i], keepdims=0)]
    nodes.append(helper.make_node("Add", ["s1", "s2"], ["loss"]))
    graph = helper.make_graph(
        nodes, "dropout",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return w, r


def main():
    mpc_opt, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "dropout.onnx")
    w, r = build(model)
    exe = os.path.join(work, "train")
    subprocess.run([mpc_opt, model, "--mode=train", "--loss=model",
                    "--optimizer=sgd", "--precision=fp32", "-o", exe],
                   check=True)
    x = os.path.join(work, "x.npy")
    np.save(x, np.zeros((1, 1), np.float32))

    def run(name, steps, seed, resume=None):
        ckpt = os.path.join(work, name)
        command = [exe, "--inputs", x, "--steps", str(steps), "--lr", "1",
                   "--weight-decay", "0", "--checkpoint", ckpt,
                   "--checkpoint-every", "1", "--seed", str(seed),
                   "--log-every", "1"]
        if resume:
            command += ["--resume", resume]
        out = subprocess.run(command, check=True, capture_output=True,
                             text=True).stdout
        return ckpt, out

    def weights(ckpt):
        """The weights of the run's latest checkpoint."""
        with open(os.path.join(ckpt, "latest")) as f:
            directory = os.path.join(ckpt, f.read().strip())
        with open(os.path.join(directory, "trainer.json")) as f:
            files = {s["name"]: s["file"] for s in json.load(f)["state"]}
        return {n: np.load(os.path.join(directory, files["param:" + n]))
                for n in ("w1", "w2")}

    def masks(before, after):
        """The mask of each layer in the step from `before` to `after`."""
        out = {}
        for i in ("1", "2"):
            move = (before["w" + i].astype(np.float64) - after["w" + i]) / (
                r["r" + i] / (1 - RATIO))
            out[i] = move
        return out

    step1, log = run("seed0_step1", 1, 0)
    ckpt, _ = run("seed0", 2, 0)
    m1 = masks(w, weights(step1))
    m2 = masks(weights(step1), weights(ckpt))
    binary = all(np.all((np.abs(m) < 1e-5) | (np.abs(m - 1) < 1e-5))
                 for m in list(m1.values()) + list(m2.values()))
    check("each element is dropped or scaled by exactly 1/(1-p)", binary)
    kept = [float((m > 0.5).mean()) for m in list(m1.values()) + list(m2.values())]
    # 40000 draws: the keep rate's standard deviation is 0.0023.
    check("the keep rate is 1 - p = 0.7 (4 sigma)",
          all(abs(k - (1 - RATIO)) < 0.0092 for k in kept),
          " ".join("%.4f" % k for k in kept))
    b = {k: v > 0.5 for k, v in m1.items()}
    agreement = float((b["1"] == b["2"]).mean())
    check("two layers draw different masks",
          abs(agreement - (0.7 ** 2 + 0.3 ** 2)) < 0.02, "agree %.3f" % agreement)
    agreement = float(((m1["1"] > 0.5) == (m2["1"] > 0.5)).mean())
    check("consecutive steps draw different masks",
          abs(agreement - (0.7 ** 2 + 0.3 ** 2)) < 0.02, "agree %.3f" % agreement)

    # The step-1 loss is the masked sum the checkpoint's move implies.
    first = [l for l in log.splitlines() if l.startswith("step 1/")]
    loss = sum(float((m["1" if i == "1" else "2"] > 0.5).astype(np.float64) @
                     (w["w" + i] * r["r" + i]).reshape(-1).astype(np.float64))
               for i, m in (("1", m1), ("2", m1))) / (1 - RATIO)
    reported = float(first[0].split("loss")[1].split()[0]) if first else None
    check("the forward uses the mask the gradient uses",
          reported is not None and abs(reported - loss) <= 1e-4 * abs(loss),
          "%s vs %.6g" % (reported, loss))

    again, _ = run("seed0_again", 2, 0)
    same = all(np.array_equal(weights(ckpt)[n], weights(again)[n])
               for n in ("w1", "w2"))
    check("the same --seed draws the same masks", same)
    other, _ = run("seed1", 1, 1)
    differ = not np.array_equal(weights(step1)["w1"], weights(other)["w1"])
    check("another --seed draws other masks", differ)

    part, _ = run("part", 1, 0)
    resumed, _ = run("part", 2, 0, resume=part)
    same = all(np.array_equal(weights(ckpt)[n], weights(resumed)[n])
               for n in ("w1", "w2"))
    check("a resumed run draws the uninterrupted run's masks", same)

    # Evaluation is the identity: the loss of the unmasked weights.
    ev = subprocess.run([exe, "--inputs", x, "--eval-only"], check=True,
                        capture_output=True, text=True).stdout
    want = sum(float((w["w" + i].astype(np.float64) * r["r" + i]).sum())
               for i in ("1", "2"))
    got = float(ev.split("loss")[1].split()[0])
    check("evaluation does not drop", abs(got - want) <= 1e-4 * abs(want),
          "%.6g vs %.6g" % (got, want))

    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

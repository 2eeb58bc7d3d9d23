"""The program descriptor (`--describe`), the compiler/runtime contract:
compiled binaries print it, it says what every argument is for, and it
agrees with the binary's --help and the checkpoints it writes."""
import json
import os
import subprocess
import sys

import numpy as np

mpc_opt, model, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % (name, "ok" if ok else "FAIL",
                       "" if ok else ": " + str(detail)))


def compile_binary(*flags):
    out = os.path.join(work, "_".join(f.strip("-").replace("=", "-")
                                      for f in flags) or "default")
    subprocess.run([mpc_opt, model, "--batch-size=8", "-o", out, *flags],
                   check=True)
    return out


def describe(binary, *extra):
    done = subprocess.run([binary, *extra, "--describe"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


train = compile_binary("--precision=fp16")
d = describe(train)
check("version and kind", d["version"] == 1 and d["kind"] == "training" and
      d["program"] == os.path.basename(train), (d["version"], d["kind"]))
check("precision, loss, optimizer defaults (no clipping, no accumulation)",
      d["precision"] == "fp16" and d["loss"] == "cross-entropy" and
      d["optimizer"] == {"name": "adamw", "lr": np.float32(1e-3).item(),
                         "weight_decay": np.float32(0.01).item(),
                         "clip_grad_norm": 0.0, "clip_grad_value": 0.0,
                         "accumulate": 1},
      (d["precision"], d["loss"], d["optimizer"]))
check("fp16 trains with dynamic loss scaling from 65536",
      d["loss_scaling"] == {"mode": "dynamic", "initial_scale": 65536},
      d["loss_scaling"])

step = d["functions"]["train_step"]
roles = [a["role"] for a in step["arguments"]]
state = [a for a in step["arguments"] if a["role"] == "state"]
kinds = [a["kind"] for a in state]
check("train_step: (state..., inputs..., label, lr, weight_decay)",
      roles == ["state"] * len(state) + ["input", "label", "learning_rate",
                                         "weight_decay"], roles)
check("state kinds in order",
      kinds == ["param"] * 4 + ["adam_m"] * 4 + ["adam_v"] * 4 +
      ["step", "loss_scale", "loss_scale_clean_steps", "skipped_steps"],
      kinds)
check("slots are named KIND:PARAMETER, scalars by their kind",
      all(a["name"] == (a["kind"] + ":" + a["parameter"]
                        if "parameter" in a else a["kind"]) for a in state),
      [a["name"] for a in state])
check("counters are i64, the rest f32",
      all(a["dtype"] == ("<i8" if a["kind"] in
                         ("step", "loss_scale_clean_steps", "skipped_steps")
                         else "<f4") for a in state))
params = {a["parameter"]: a["shape"] for a in state if a["kind"] == "param"}
check("the moments are shaped like their weights",
      all(a["shape"] == params[a["parameter"]] for a in state
          if a["kind"] in ("adam_m", "adam_v")))
check("train_step returns the state, then the loss",
      [r["role"] for r in step["results"]] == ["state"] * len(state) +
      ["loss"] and [r["name"] for r in step["results"]][:-1] ==
      [a["name"] for a in state])
ev = d["functions"]["eval_step"]
check("eval_step reads the weights, returns loss and output",
      [a["name"] for a in ev["arguments"] if a["role"] == "state"] ==
      ["param:" + p for p in params] and
      [r["role"] for r in ev["results"]] == ["loss", "output"] and
      ev["results"][1]["shape"] == [8, 10], ev["results"])
check("init returns the state",
      [r["name"] for r in d["functions"]["init"]["results"]] ==
      [a["name"] for a in state])
check("every ONNX weight is a state slot",
      {w["slot"] for w in d["onnx_weights"]} == {"param:" + p for p in params})
check("a CPU-only build", d["builds"] == {"cpu": True, "cuda": None},
      d["builds"])
# The flat state: every slot at its own aligned offset, none overlapping,
# all inside the state's bytes.
offsets = d["state"]["offsets"]
extents = sorted((offsets[a["name"]],
                  offsets[a["name"]] + int(np.prod(a["shape"], dtype=np.int64))
                  * np.dtype(a["dtype"]).itemsize) for a in state)
check("the flat state holds every slot once, aligned and disjoint",
      set(offsets) == {a["name"] for a in state} and
      all(begin % 4 == 0 for begin, _ in extents) and
      all(end <= next_begin for (_, end), (next_begin, _) in
          zip(extents, extents[1:])) and
      extents[-1][1] <= d["state"]["bytes"], (offsets, d["state"]))

# --describe wins over the rest of the command line, and a training run
# needs nothing else: it is a query.
check("--describe with other flags prints the same",
      describe(train, "--epochs", "1") == d)

# --help is written from the descriptor.
help_text = subprocess.run([train, "--help"], capture_output=True,
                           text=True).stdout
check("--help lists the descriptor's inputs and state",
      all(("  %s: %s (%s)" % (a["name"], a["dtype"],
                              ", ".join(map(str, a["shape"])) +
                              ("," if len(a["shape"]) == 1 else "")))
          in help_text for a in step["arguments"]
          if a["role"] in ("input", "label", "state")) and
      "--describe" in help_text, help_text)

# The checkpoint's state is the descriptor's.
rng = np.random.default_rng(0)
np.save(os.path.join(work, "x.npy"), rng.random((16, 8, 8), dtype=np.float32))
np.save(os.path.join(work, "y.npy"), rng.integers(0, 10, 16))
ckpt = os.path.join(work, "ckpt")
subprocess.run([train, "--inputs", os.path.join(work, "x.npy"), "--labels",
                os.path.join(work, "y.npy"), "--steps", "2", "--checkpoint",
                ckpt], check=True, capture_output=True)
latest = open(os.path.join(ckpt, "latest")).read().strip()
saved = json.load(open(os.path.join(ckpt, latest, "trainer.json")))
check("the checkpoint holds the descriptor's slots",
      [s["name"] for s in saved["state"]] == [a["name"] for a in state],
      [s["name"] for s in saved["state"]])

# Resuming reads the checkpoint as JSON and trusts none of its paths.
def resume_error(trainer_json):
    path = os.path.join(ckpt, latest, "trainer.json")
    original = open(path).read()
    open(path, "w").write(trainer_json)
    done = subprocess.run([train, "--inputs", os.path.join(work, "x.npy"),
                           "--labels", os.path.join(work, "y.npy"),
                           "--steps", "3", "--resume", ckpt],
                          capture_output=True, text=True)
    open(path, "w").write(original)
    return done.returncode, done.stderr


hostile = dict(saved)
hostile["state"] = [dict(e) for e in saved["state"]]
hostile["state"][0]["file"] = "../../x.npy"
code, err = resume_error(json.dumps(hostile))
check("a checkpoint naming another file is refused",
      code != 0 and "expected '000-param_fc1.weight.npy'" in err, err)
code, err = resume_error(json.dumps(saved)[:-9])
check("a truncated trainer.json is refused",
      code != 0 and "trainer.json: not JSON" in err, err)

bf16 = describe(compile_binary("--precision=bf16", "--optimizer=momentum"))
check("bf16 has no loss scaling; momentum keeps one buffer per weight",
      bf16["loss_scaling"] is None and
      [a["kind"] for a in bf16["functions"]["train_step"]["arguments"]
       if a["role"] == "state"] == ["param"] * 4 + ["momentum"] * 4 + ["step"],
      bf16["loss_scaling"])

infer = describe(compile_binary("--mode=infer", "--precision=bf16",
                                "--input-shape=image:8x8x8"))
main = infer["functions"]["main"]
check("an inference binary describes main",
      infer["kind"] == "inference" and list(infer["functions"]) == ["main"] and
      [(a["role"], a["shape"]) for a in main["arguments"]] ==
      [("input", [8, 8, 8])] and
      [(r["role"], r["shape"]) for r in main["results"]] ==
      [("output", [8, 10])], main)

print("%d passed, %d failed" % (results.count(True), results.count(False)))
sys.exit(0 if all(results) else 1)

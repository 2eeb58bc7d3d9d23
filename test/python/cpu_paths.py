#!/usr/bin/env python3
"""The Fashion-MNIST CNN example trains in bf16 and fp16 on the AVX2 code
path (--cpu=x86-64-v3) as on the native one.

    cpu_paths.py MPC_OPT MODEL WORK

On a CPU without bf16 conversions LLVM computes a bf16 MaxPool's compare
and select in f32 and rounds back with the builtin __truncsfbf2, which
Debian 12's libgcc does not have: the runtime provides it. Each binary
must link and train 12 steps on seeded random images, its losses within
0.5% of the native build's (the paths sum in other orders; a wrong
rounding would be off by far more). On an AVX2-only machine both builds
take the AVX2 path and the check is the link and the agreement with
itself.
"""
import os
import re
import subprocess
import sys

import numpy as np

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%-56s %s %s" % (name, "ok" if ok else "FAIL", detail))


def losses(exe, images, labels):
    out = subprocess.run([exe, "--inputs", images, "--labels", labels,
                          "--steps", "12", "--seed", "3", "--log-every", "4"],
                         check=True, capture_output=True, text=True).stdout
    return [float(x) for x in re.findall(r"loss ([0-9.]+)", out)]


def main():
    mpc_opt, model, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(5)
    images = os.path.join(work, "images.npy")
    labels = os.path.join(work, "labels.npy")
    np.save(images, rng.random((96, 1, 28, 28), dtype=np.float32))
    np.save(labels, rng.integers(0, 10, 96).astype(np.int64))
    for precision in ("bf16", "fp16"):
        runs = {}
        for cpu in ("native", "x86-64-v3"):
            exe = os.path.join(work, "cnn_%s_%s" % (precision, cpu))
            built = subprocess.run(
                [mpc_opt, model, "--precision=" + precision,
                 "--batch-size=16", "--cpu=" + cpu, "-o", exe],
                capture_output=True, text=True)
            check("%s --cpu=%s builds" % (precision, cpu),
                  built.returncode == 0, built.stderr.strip()[-300:])
            if built.returncode == 0:
                runs[cpu] = losses(exe, images, labels)
        if len(runs) == 2:
            native, avx2 = runs["native"], runs["x86-64-v3"]
            worst = max(abs(a - b) / b for a, b in zip(avx2, native))
            check("%s AVX2 losses within 0.5%% of native" % precision,
                  len(native) >= 3 and len(avx2) == len(native)
                  and worst <= 0.005,
                  "worst %.2e: %s vs %s" % (worst, avx2, native))
    print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

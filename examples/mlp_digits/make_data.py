#!/usr/bin/env python3
"""Extracts the bundled dataset: the UCI handwritten digits (1,797 8x8
images, 16 grey levels) that Debian's python3-sklearn ships as
digits.csv.gz, split 80/20 into training and validation sets.

    make_data.py [DIGITS.csv.gz] OUT_DIR

Writes train_images.npy (float32, N x 8 x 8, scaled to [0, 1]),
train_labels.npy (int64), val_images.npy, val_labels.npy. The split is a
fixed permutation, so the files are the same on every machine.
"""
import gzip
import os
import sys

import numpy as np

DEFAULT_SOURCE = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"


def main():
    source = sys.argv[1] if len(sys.argv) > 2 else DEFAULT_SOURCE
    out = sys.argv[-1]
    with gzip.open(source, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    images = (table[:, :64] / 16.0).astype(np.float32).reshape(-1, 8, 8)
    labels = table[:, 64].astype(np.int64)
    order = np.random.default_rng(1797).permutation(len(labels))
    split = int(0.8 * len(labels))
    os.makedirs(out, exist_ok=True)
    for name, index in (("train", order[:split]), ("val", order[split:])):
        np.save(os.path.join(out, f"{name}_images.npy"), images[index])
        np.save(os.path.join(out, f"{name}_labels.npy"), labels[index])


if __name__ == "__main__":
    main()

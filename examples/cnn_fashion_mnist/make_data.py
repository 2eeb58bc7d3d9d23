#!/usr/bin/env python3
"""Fashion-MNIST as .npy for the example, from Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist: the real 70,000
28x28 images, IDX files).

    make_data.py OUT_DIR [TRAIN_SAMPLES]

Writes train_images.npy [N, 1, 28, 28] float32 (normalised with the
training set's mean 0.286 and deviation 0.353), train_labels.npy int64,
and the 10,000 test images and labels as val_*.npy.
"""
import gzip
import os
import sys

import numpy as np

SOURCE = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\0\0" or data[2] != 0x08:
        sys.exit("%s: not an IDX file of unsigned bytes" % path)
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
             for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    out = sys.argv[1]
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 60000
    if not os.path.isdir(SOURCE):
        sys.exit("make_data.py: %s is missing (apt install "
                 "dataset-fashion-mnist)" % SOURCE)
    os.makedirs(out, exist_ok=True)
    for split, prefix, n in (("train", "train", samples),
                             ("val", "t10k", 10000)):
        images = read_idx(os.path.join(SOURCE, prefix +
                                       "-images-idx3-ubyte.gz"))[:n]
        labels = read_idx(os.path.join(SOURCE, prefix +
                                       "-labels-idx1-ubyte.gz"))[:n]
        x = (images.astype(np.float32) / 255.0 - 0.286) / 0.353
        np.save(os.path.join(out, split + "_images.npy"), x[:, None])
        np.save(os.path.join(out, split + "_labels.npy"),
                labels.astype(np.int64))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the Fashion-MNIST example: a small CNN exported by PyTorch in
training mode.

    make_model.py OUT.onnx

Three 3x3 convolutions (16, 32, 64 channels) each with BatchNorm and ReLU,
max pooling after the first two, global average pooling, Dropout 0.1 and a
linear classifier, from PyTorch's default initialisation with seed 0,
exported by mpc.from_torch: BatchNorm with batch statistics and running
statistics, Dropout in training mode, every parameter its own initializer.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "python"))
import mpc  # noqa: E402


def model():
    def block(cin, cout):
        return [torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                torch.nn.BatchNorm2d(cout), torch.nn.ReLU()]
    return torch.nn.Sequential(
        *block(1, 16), torch.nn.MaxPool2d(2),
        *block(16, 32), torch.nn.MaxPool2d(2),
        *block(32, 64), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Dropout(0.1), torch.nn.Linear(64, 10))


def main():
    torch.manual_seed(0)
    mpc.from_torch(model(), torch.zeros(2, 1, 28, 28), sys.argv[1],
                   input_names=["image"], output_names=["logits"])


if __name__ == "__main__":
    main()

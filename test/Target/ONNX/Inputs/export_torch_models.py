#!/usr/bin/env python3
"""Exports the reference PyTorch models the importer tests use.

    export_torch_models.py OUT_DIR [NAME[@OPSET] ...]

Writes mlp.onnx, cnn_bn.onnx and transformer_encoder.onnx (opset 17), and
with NAME@OPSET the same model at an older opset as NAME_opsetOPSET.onnx,
with fixed seeds, small enough to check in. The checked-in copies are what the
lit tests read, since torch is optional; the `torch`-gated test re-exports
them to prove the exporter still produces what mpc imports.
"""
import os
import sys

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = nn.functional.max_pool2d(x, 2)
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(
            d_model=16, nhead=2, dim_feedforward=32, dropout=0.1,
            activation="gelu", batch_first=True)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.layer(x).mean(dim=1))


# name: (module, example inputs, dynamic axes, export mode). The CNN is
# exported in training mode: in eval mode PyTorch folds BatchNorm into the
# convolutions, and mpc trains the BatchNorm parameters.
EVAL, TRAINING = torch.onnx.TrainingMode.EVAL, torch.onnx.TrainingMode.TRAINING
MODELS = {
    "mlp": (MLP, (torch.randn(2, 8, 8),), {0: "batch"}, EVAL),
    "cnn_bn": (CNN, (torch.randn(2, 1, 8, 8),), {0: "batch"}, TRAINING),
    "transformer_encoder": (Encoder, (torch.randn(2, 5, 16),), {0: "batch"},
                            EVAL),
}


# The older-opset variants the tests check in.
OLDER = ["mlp@9", "cnn_bn@11", "transformer_encoder@13"]


def export(spec, out_dir):
    name, _, opset = spec.partition("@")
    opset = int(opset or 17)
    torch.manual_seed(0)
    cls, args, dynamic, mode = MODELS[name]
    model = cls()
    suffix = "" if opset == 17 else "_opset%d" % opset
    path = os.path.join(out_dir, name + suffix + ".onnx")
    torch.onnx.export(
        model, args, path, opset_version=opset, training=mode,
        do_constant_folding=mode == EVAL, input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": dynamic, "output": {0: "batch"}}
        if dynamic else None)
    return path


def main():
    out_dir = sys.argv[1]
    names = sys.argv[2:] or list(MODELS) + OLDER
    for name in names:
        print(export(name, out_dir))


if __name__ == "__main__":
    main()

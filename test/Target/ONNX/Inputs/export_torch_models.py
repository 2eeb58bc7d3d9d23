#!/usr/bin/env python3
"""Exports the reference PyTorch models the importer tests use.

    export_torch_models.py OUT_DIR [NAME ...]

Writes mlp.onnx, cnn_bn.onnx and transformer_encoder.onnx (opset 17) with
fixed seeds, small enough to check in. The checked-in copies are what the
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


def export(name, out_dir):
    torch.manual_seed(0)
    cls, args, dynamic, mode = MODELS[name]
    model = cls()
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(
        model, args, path, opset_version=17, training=mode,
        do_constant_folding=mode == EVAL, input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": dynamic, "output": {0: "batch"}}
        if dynamic else None)
    return path


def main():
    out_dir = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    for name in names:
        print(export(name, out_dir))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Exports the reference PyTorch models the importer tests use.

    export_torch_models.py OUT_DIR [NAME[@OPSET] ...]

Writes mlp.onnx, cnn_bn.onnx, transformer_encoder.onnx and
transformer_encoder_train.onnx (opset 17), and
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


# name: (module, example inputs, dynamic axes, export mode). What trains
# is exported in training mode, as mpc.from_torch does: in eval mode
# PyTorch folds BatchNorm into the convolutions, folds Dropout away and
# merges initializers of equal value (the encoder's two fresh LayerNorms
# share one weight and one bias there). The eval-mode encoder stays for
# the inference tests, which compare with onnxruntime (a training-mode
# Dropout drops at random there).
EVAL, TRAINING = torch.onnx.TrainingMode.EVAL, torch.onnx.TrainingMode.TRAINING
MODELS = {
    "mlp": (MLP, (torch.randn(2, 8, 8),), {0: "batch"}, EVAL),
    "cnn_bn": (CNN, (torch.randn(2, 1, 8, 8),), {0: "batch"}, TRAINING),
    "transformer_encoder": (Encoder, (torch.randn(2, 5, 16),), {0: "batch"},
                            EVAL),
}
# Training exports of the eval-mode models above, for the training tests.
TRAINING_EXPORTS = {"transformer_encoder_train": "transformer_encoder"}


# The older-opset variants the tests check in.
OLDER = ["mlp@9", "cnn_bn@11", "transformer_encoder@13"]


def export(spec, out_dir):
    name, _, opset = spec.partition("@")
    opset = int(opset or 17)
    torch.manual_seed(0)
    if name in TRAINING_EXPORTS:
        cls, args, dynamic, _ = MODELS[TRAINING_EXPORTS[name]]
        mode = TRAINING
    else:
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
    names = sys.argv[2:] or list(MODELS) + list(TRAINING_EXPORTS) + OLDER
    for name in names:
        path = export(name, out_dir)
        torch.manual_seed(0)
        base = TRAINING_EXPORTS.get(name, name.partition("@")[0])
        count = sum(p.numel() for p in MODELS[base][0]().parameters())
        print("%s: module has %d parameter elements" % (path, count))


if __name__ == "__main__":
    main()

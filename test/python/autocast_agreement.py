#!/usr/bin/env python3
"""mpc's precision decisions agree with torch.autocast on the same layers.

    autocast_agreement.py MPC_OPT WORK_DIR

Exports the reference models (and an MLP with its cross-entropy loss) with
PyTorch, records the dtype every aten op produces under
torch.autocast("cpu", torch.bfloat16) (a dispatch mode sees the ops after
autocast has cast them), compiles the same models with
`mpc-opt --precision=bf16 --precision-report`, and checks, per layer kind,
that both chose the same precision: contractions and convolutions bf16;
softmax, layer norm, mean reductions and the loss fp32.

One known difference is reported, not failed: PyTorch's CPU autocast (1.13,
Debian's) runs softmax in bf16, while its CUDA autocast, which mpc follows
for both targets, keeps softmax in fp32.
"""
import json
import os
import subprocess
import sys

import torch
from torch.utils._python_dispatch import TorchDispatchMode

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Target",
                                "ONNX", "Inputs"))
import export_torch_models as models  # noqa: E402

# aten op -> the layer kind it implements; ONNX op type -> layer kind.
ATEN_KINDS = {
    "addmm": "contraction", "mm": "contraction", "bmm": "contraction",
    "matmul": "contraction", "linear": "contraction",
    "convolution": "convolution", "_convolution": "convolution",
    "_softmax": "softmax", "_log_softmax": "loss",
    "native_layer_norm": "layer_norm",
    "nll_loss_forward": "loss", "nll_loss": "loss",
}
ONNX_KINDS = {
    "MatMul": "contraction", "Gemm": "contraction", "Conv": "convolution",
    "Softmax": "softmax", "LayerNormalization": "layer_norm",
    "ReduceMean": "mean", "GlobalAveragePool": "global_pool",
    "SoftmaxCrossEntropyLoss": "loss",
    "NegativeLogLikelihoodLoss": "loss", "LogSoftmax": "loss",
}
# What the issue asks of mpc, per layer kind.
EXPECTED = {"contraction": "bf16", "convolution": "bf16", "softmax": "f32",
            "layer_norm": "f32", "mean": "f32", "loss": "f32",
            "global_pool": "bf16"}
KNOWN_DIFFERENCES = {
    "softmax": "torch's CPU autocast runs softmax in bf16; its CUDA autocast "
               "(and mpc) in fp32",
}
TORCH_NAMES = {torch.bfloat16: "bf16", torch.float32: "f32"}


class RecordDtypes(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.kinds = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.__name__.split(".")[0]
        kind = ATEN_KINDS.get(name)
        if name == "mean":
            # AdaptiveAvgPool2d(1) is a mean over the spatial dims.
            dims = args[1] if len(args) > 1 else None
            spatial = dims is not None and args[0].dim() == 4 and \
                sorted(d % 4 for d in dims) == [2, 3]
            kind = "global_pool" if spatial else "mean"
        first = out[0] if isinstance(out, (tuple, list)) else out
        if kind and isinstance(first, torch.Tensor) and first.is_floating_point():
            self.kinds.setdefault(kind, set()).add(TORCH_NAMES.get(first.dtype,
                                                                   str(first.dtype)))
        return out


class MLPLoss(torch.nn.Module):
    """The example MLP with its training loss, as ONNX sees a loss."""

    def __init__(self):
        super().__init__()
        self.mlp = models.MLP()

    def forward(self, x, labels):
        return torch.nn.functional.cross_entropy(self.mlp(x), labels)


def torch_kinds(module, args):
    module = module.eval()
    recorder = RecordDtypes()
    with torch.autocast("cpu", dtype=torch.bfloat16), recorder:
        module(*args)
    return recorder.kinds


def mpc_kinds(mpc_opt, path, work_dir):
    report = os.path.join(work_dir, os.path.basename(path) + ".json")
    subprocess.run([mpc_opt, path, "--precision=bf16",
                    "--precision-report=" + report, "-o", os.devnull],
                   check=True)
    kinds = {}
    with open(report) as f:
        for node in json.load(f)["nodes"]:
            kind = ONNX_KINDS.get(node["op"])
            if kind:
                kinds.setdefault(kind, set()).add(node["compute"])
    return kinds


def main():
    mpc_opt, work_dir = sys.argv[1:3]
    os.makedirs(work_dir, exist_ok=True)
    cases = []
    for name, (cls, args, dynamic, mode) in models.MODELS.items():
        torch.manual_seed(0)
        path = models.export(name, work_dir)
        torch.manual_seed(0)
        cases.append((name, path, cls(), args))
    torch.manual_seed(0)
    loss_model = MLPLoss()
    loss_args = (torch.randn(4, 8, 8), torch.tensor([1, 2, 3, 4]))
    loss_path = os.path.join(work_dir, "mlp_loss.onnx")
    torch.onnx.export(loss_model, loss_args, loss_path, opset_version=17,
                      input_names=["input", "labels"], output_names=["loss"])
    cases.append(("mlp_loss", loss_path, loss_model, loss_args))

    checks = failures = 0
    for name, path, module, args in cases:
        ours = mpc_kinds(mpc_opt, path, work_dir)
        theirs = torch_kinds(module, args)
        for kind in sorted(set(ours) | set(theirs)):
            mine, autocast = ours.get(kind, set()), theirs.get(kind, set())
            checks += 1
            if mine != {EXPECTED[kind]} or not autocast:
                verdict = "FAIL: mpc should run it in " + EXPECTED[kind] \
                    if mine != {EXPECTED[kind]} else "FAIL: autocast never ran it"
            elif mine == autocast:
                verdict = "agree"
            elif kind in KNOWN_DIFFERENCES:
                verdict = "known difference: " + KNOWN_DIFFERENCES[kind]
            else:
                verdict = "FAIL: differs from autocast"
            failures += verdict.startswith("FAIL")
            print("%-20s %-12s mpc=%-5s autocast=%-5s %s" % (
                name, kind, ",".join(sorted(mine)) or "-",
                ",".join(sorted(autocast)) or "-", verdict))
    print("%d passed, %d failed" % (checks - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Builds the bundled example: a 64-32-10 MLP for the 8x8 UCI digits.

    make_model.py OUT.onnx

The weights are a fixed-seed initialisation (He for the hidden layer), the
starting point mpc trains from; the model is the same one
`torch.nn.Sequential(Flatten, Linear(64, 32), ReLU, Linear(32, 10))` exports
at opset 17.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    rng = np.random.default_rng(1797)
    w1 = rng.normal(0, np.sqrt(2 / 64), (32, 64)).astype(np.float32)
    w2 = rng.normal(0, np.sqrt(1 / 32), (10, 32)).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "fc1.weight"),
             numpy_helper.from_array(np.zeros(32, np.float32), "fc1.bias"),
             numpy_helper.from_array(w2, "fc2.weight"),
             numpy_helper.from_array(np.zeros(10, np.float32), "fc2.bias")]
    nodes = [
        helper.make_node("Flatten", ["image"], ["x"], name="/flatten/Flatten"),
        helper.make_node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"],
                         name="/fc1/Gemm", transB=1),
        helper.make_node("Relu", ["h"], ["a"], name="/relu/Relu"),
        helper.make_node("Gemm", ["a", "fc2.weight", "fc2.bias"], ["logits"],
                         name="/fc2/Gemm", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "mlp_digits",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                       ["batch", 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       ["batch", 10])], inits)
    model = helper.make_model(graph, producer_name="mpc-examples",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()

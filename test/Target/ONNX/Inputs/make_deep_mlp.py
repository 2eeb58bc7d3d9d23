"""Writes an MLP of LAYERS Gemm+Relu layers of width 8 (2 * LAYERS
parameters) as ONNX: the optimizer must update all of them with one
kernel however many there are.

    make_deep_mlp.py LAYERS OUT.onnx
"""
import sys

import numpy as np
from onnx import TensorProto, helper, save

layers, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
nodes, inits, x = [], [], "input"
for i in range(layers):
    w = rng.standard_normal((8, 8)).astype(np.float32) * 0.3
    inits.append(helper.make_tensor("w%d" % i, TensorProto.FLOAT, w.shape,
                                    w.ravel()))
    inits.append(helper.make_tensor("b%d" % i, TensorProto.FLOAT, (8,),
                                    np.zeros(8, np.float32)))
    nodes.append(helper.make_node("Gemm", [x, "w%d" % i, "b%d" % i],
                                  ["h%d" % i], transB=1))
    x = "h%d" % i
    if i + 1 < layers:
        nodes.append(helper.make_node("Relu", [x], ["r%d" % i]))
        x = "r%d" % i
graph = helper.make_graph(
    nodes, "deep_mlp",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 8])],
    [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N", 8])], inits)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
     path)

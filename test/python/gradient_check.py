#!/usr/bin/env python3
"""Gradient check of every differentiable op against finite differences.

One ONNX model holds a small case of each op whose operands are trainable
initializers (the model input enters through an Add where an op needs
data); its own loss is sum_i sum(op_i(...) * R_i) with fixed random R_i, so
the gradient of each parameter is the vector-Jacobian product of its op.
mpc compiles the model into an fp32 training binary with SGD; one step at
lr 1 with no weight decay moves each parameter by exactly its gradient,
read back from the checkpoint. The reference is a central finite
difference of the same loss evaluated in fp64 numpy.

    gradient_check.py --mpc-opt BIN
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
BATCH = 2


def softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Model:
    """Collects the op cases: ONNX nodes and their fp64 numpy twins."""

    def __init__(self):
        self.nodes, self.inits, self.params, self.terms = [], [], {}, []
        self.x = rng.uniform(0.5, 1.5, (BATCH, 3))

    def param(self, name, shape, low=-1.0, high=1.0):
        value = rng.uniform(low, high, shape).astype(np.float32)
        self.params[name] = value
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def const(self, name, value):
        self.nodes.append(helper.make_node(
            "Constant", [], [name], value=numpy_helper.from_array(value, name)))
        return name

    def case(self, op, inputs, numpy_fn, **attrs):
        """Adds `op` and the term sum(op * R) of the loss."""
        out = "out_%d" % len(self.terms)
        self.nodes.append(helper.make_node(op, inputs, [out], name=op + "_" +
                                           str(len(self.terms)), **attrs))
        self.terms.append((out, numpy_fn))


def build(model):
    m = model
    x = "x"
    # x enters through Add with a parameter of its shape: the data path.
    xa = "x_plus"
    m.param("add_p", (BATCH, 3))
    m.nodes.append(helper.make_node("Add", [x, "add_p"], [xa]))
    xa_np = lambda p: m.x + p["add_p"]

    m.case("Add", [xa, m.param("add_b", (3,))],
           lambda p: xa_np(p) + p["add_b"])
    m.case("Sub", [m.param("sub_a", (3,)), xa],
           lambda p: p["sub_a"] - xa_np(p))
    m.case("Mul", [xa, m.param("mul_b", (1, 3))],
           lambda p: xa_np(p) * p["mul_b"])
    m.case("Div", [m.param("div_a", (BATCH, 3)),
                   m.param("div_b", (3,), 1.0, 2.0)],
           lambda p: p["div_a"] / p["div_b"])
    m.case("Neg", [m.param("neg", (2, 2))], lambda p: -p["neg"])
    relu = m.param("relu", (3, 4))
    # Keep Relu's inputs away from the kink.
    m.params[relu] = np.where(np.abs(m.params[relu]) < 0.1, 0.5,
                              m.params[relu]).astype(np.float32)
    m.inits[-1] = numpy_helper.from_array(m.params[relu], relu)
    m.case("Relu", [relu], lambda p: np.maximum(p["relu"], 0))
    m.case("Sigmoid", [m.param("sigmoid", (3,), -3, 3)],
           lambda p: 1 / (1 + np.exp(-p["sigmoid"])))
    m.case("Tanh", [m.param("tanh", (3,), -2, 2)],
           lambda p: np.tanh(p["tanh"]))
    m.case("Exp", [m.param("exp", (2, 3))], lambda p: np.exp(p["exp"]))
    m.case("Log", [m.param("log", (2, 3), 0.5, 2.0)],
           lambda p: np.log(p["log"]))
    m.case("Sqrt", [m.param("sqrt", (2, 3), 0.5, 2.0)],
           lambda p: np.sqrt(p["sqrt"]))
    m.case("MatMul", [xa, m.param("matmul_b", (3, 4))],
           lambda p: xa_np(p) @ p["matmul_b"])
    m.case("MatMul", [m.param("bmm_a", (2, 2, 3)), m.param("bmm_b", (3, 2))],
           lambda p: p["bmm_a"] @ p["bmm_b"])
    m.case("MatMul", [m.param("bmm3_a", (2, 2, 3)),
                      m.param("bmm3_b", (1, 3, 2))],
           lambda p: p["bmm3_a"] @ p["bmm3_b"])
    m.case("Gemm", [xa, m.param("gemm_b", (4, 3)), m.param("gemm_c", (4,))],
           lambda p: 0.5 * xa_np(p) @ p["gemm_b"].T + 2.0 * p["gemm_c"],
           transB=1, alpha=0.5, beta=2.0)
    m.case("Gemm", [m.param("gemm_ta", (3, 2)), m.param("gemm_tb", (3, 4))],
           lambda p: p["gemm_ta"].T @ p["gemm_tb"], transA=1)
    m.case("Gemm", [m.param("gemm_tta", (3, 2)), m.param("gemm_ttb", (4, 3)),
                    m.param("gemm_ttc", (2, 1))],
           lambda p: p["gemm_tta"].T @ p["gemm_ttb"].T + p["gemm_ttc"],
           transA=1, transB=1)
    m.case("Softmax", [m.param("softmax", (2, 4), -2, 2)],
           lambda p: softmax(p["softmax"], -1), axis=-1)
    m.case("Softmax", [m.param("softmax0", (3, 2), -2, 2)],
           lambda p: softmax(p["softmax0"], 0), axis=0)
    m.case("LogSoftmax", [m.param("logsoftmax", (2, 4), -2, 2)],
           lambda p: np.log(softmax(p["logsoftmax"], -1)), axis=-1)
    axes = m.const("sum_axes", np.array([1], np.int64))
    m.case("ReduceSum", [m.param("reducesum", (2, 3, 2)), axes],
           lambda p: p["reducesum"].sum(axis=1, keepdims=True), keepdims=1)
    m.case("ReduceMean", [m.param("reducemean", (2, 3, 2))],
           lambda p: p["reducemean"].mean(axis=(0, 2)), axes=[0, 2],
           keepdims=0)
    labels = np.array([2, 0], np.int64)
    label_name = m.const("sce_labels", labels)
    def sce(p):
        logp = np.log(softmax(p["sce"], 1))
        return -logp[np.arange(2), labels].mean()
    m.case("SoftmaxCrossEntropyLoss", [m.param("sce", (2, 3), -2, 2),
                                       label_name], sce)
    m.case("Identity", [m.param("identity", (2,))],
           lambda p: p["identity"])
    shape = m.const("reshape_shape", np.array([3, 2], np.int64))
    m.case("Reshape", [m.param("reshape", (2, 3)), shape],
           lambda p: p["reshape"].reshape(3, 2))
    m.case("Flatten", [m.param("flatten", (2, 3, 2))],
           lambda p: p["flatten"].reshape(2, 6), axis=1)
    m.case("Transpose", [m.param("transpose", (2, 3, 4))],
           lambda p: p["transpose"].transpose(2, 0, 1), perm=[2, 0, 1])

    # loss = sum_i sum(out_i * R_i)
    partial = []
    weights = {}
    for i, (out, fn) in enumerate(m.terms):
        shape = np.shape(fn({k: v.astype(np.float64)
                             for k, v in m.params.items()}))
        r = rng.uniform(-1, 1, shape).astype(np.float32)
        weights[out] = r
        r_name = m.const("r_%d" % i, r)
        prod = "prod_%d" % i
        s = "sum_%d" % i
        m.nodes.append(helper.make_node("Mul", [out, r_name], [prod]))
        m.nodes.append(helper.make_node("ReduceSum", [prod], [s], keepdims=0))
        partial.append(s)
    total = partial[0]
    for i, s in enumerate(partial[1:]):
        name = "total_%d" % i
        m.nodes.append(helper.make_node("Add", [total, s], [name]))
        total = name
    m.nodes.append(helper.make_node("Identity", [total], ["loss"]))
    graph = helper.make_graph(
        m.nodes, "gradient_check",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [BATCH, 3])],
        [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])],
        m.inits)
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)

    def loss(params):
        return sum(float((fn(params) * weights[out].astype(np.float64)).sum())
                   for out, fn in m.terms)
    return onnx_model, loss


def finite_difference(loss, params, name, h=1e-6):
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    grad = np.zeros_like(p64[name])
    flat = p64[name].reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        up = loss(p64)
        flat[i] = saved - h
        down = loss(p64)
        flat[i] = saved
        grad.reshape(-1)[i] = (up - down) / (2 * h)
    return grad


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mpc-opt", required=True)
    args = parser.parse_args()
    model = Model()
    onnx_model, loss = build(model)
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "grad.onnx")
        onnx.save(onnx_model, path)
        exe = os.path.join(work, "train")
        subprocess.run([args.mpc_opt, path, "--mode=train", "--loss=model",
                        "--optimizer=sgd", "--precision=fp32", "-o", exe],
                       check=True)
        np.save(os.path.join(work, "x.npy"), model.x.astype(np.float32))
        ckpt = os.path.join(work, "ckpt")
        subprocess.run([exe, "--inputs", os.path.join(work, "x.npy"),
                        "--steps", "1", "--lr", "1", "--weight-decay", "0",
                        "--checkpoint", ckpt, "--log-every", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(ckpt, "latest")) as f:
            directory = os.path.join(ckpt, f.read().strip())
        with open(os.path.join(directory, "trainer.json")) as f:
            files = {s["name"]: s["file"] for s in json.load(f)["state"]}
        failures = 0
        for name, before in model.params.items():
            after = np.load(os.path.join(directory, files["param:" + name]))
            got = before.astype(np.float64) - after.astype(np.float64)
            want = finite_difference(loss, model.params, name)
            scale = max(1.0, float(np.abs(want).max()))
            err = float(np.abs(got - want).max()) / scale
            ok = err < 2e-4
            failures += not ok
            print("%-12s %-10s max rel err %.2e %s" % (
                name, "x".join(map(str, before.shape)), err,
                "ok" if ok else "FAIL"))
        print("gradient check: %d parameters, %d failures"
              % (len(model.params), failures))
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

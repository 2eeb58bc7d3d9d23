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
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The n-d references shared with the differential harness.
from differential import pool_nd, ref_conv_nd, ref_conv_transpose

rng = np.random.default_rng(7)
BATCH = 2


def softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Model:
    """Collects the op cases: ONNX nodes and their fp64 numpy twins."""

    def __init__(self):
        self.nodes, self.inits, self.params, self.terms = [], [], {}, []
        # Parameters whose gradient passes through a low-precision tensor
        # are checked to that precision.
        self.tolerance = {}
        # Parameters whose gradient is given exactly (not differentiable
        # there): name -> fn(params, loss weights) -> gradient.
        self.exact = {}
        # Non-trainable state the step updates (BatchNorm's running
        # statistics): slot name -> fn(params) -> its value after the step.
        self.state_updates = {}
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

    def case(self, op, inputs, numpy_fn, outputs=1, **attrs):
        """Adds `op` and the term sum(op * R) of the loss; of several
        outputs only the first enters the loss."""
        out = "out_%d" % len(self.terms)
        results = [out] + ["%s_unused_%d" % (out, i) for i in range(1, outputs)]
        self.nodes.append(helper.make_node(op, inputs, results, name=op + "_" +
                                           str(len(self.terms)), **attrs))
        self.terms.append((out, numpy_fn))


def opset17_cases(m):
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
    # 1-d operands (a row, a column, a dot product) and operands of
    # different ranks above 2, broadcast both ways.
    m.case("MatMul", [m.param("mv_a", (3,)), m.param("mv_b", (2, 3, 4))],
           lambda p: p["mv_a"] @ p["mv_b"])
    m.case("MatMul", [m.param("mv2_a", (2, 4, 3)), m.param("mv2_b", (3,))],
           lambda p: p["mv2_a"] @ p["mv2_b"])
    m.case("MatMul", [m.param("dot_a", (5,)), m.param("dot_b", (5,))],
           lambda p: p["dot_a"] @ p["dot_b"])
    m.case("MatMul", [m.param("rk_a", (3, 2, 2, 3)), m.param("rk_b", (2, 3, 4))],
           lambda p: p["rk_a"] @ p["rk_b"])
    m.case("MatMul", [m.param("rk2_a", (2, 3)), m.param("rk2_b", (2, 2, 3, 2))],
           lambda p: p["rk2_a"] @ p["rk2_b"])
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

    # Elementwise ops beyond the arithmetic core; parameters stay away from
    # kinks (Abs, LeakyRelu, Clip, Max/Min ties) where the derivative jumps.
    def away_from(name, points, margin=0.15):
        value = m.params[name]
        for point in points:
            close = np.abs(value - point) < margin
            value = np.where(close, point + 2 * margin, value)
        m.params[name] = value.astype(np.float32)
        index = next(i for i, t in enumerate(m.inits) if t.name == name)
        m.inits[index] = numpy_helper.from_array(m.params[name], name)
        return name

    m.case("Reciprocal", [m.param("reciprocal", (2, 3), 0.5, 2.0)],
           lambda p: 1 / p["reciprocal"])
    m.case("Erf", [m.param("erf", (3,), -1.5, 1.5)],
           lambda p: np.vectorize(math.erf)(p["erf"]))
    m.case("Softplus", [m.param("softplus", (3,), -2, 2)],
           lambda p: np.log1p(np.exp(p["softplus"])))
    m.case("Abs", [away_from(m.param("abs", (2, 3)), [0])],
           lambda p: np.abs(p["abs"]))
    m.case("LeakyRelu", [away_from(m.param("leaky_relu", (2, 3)), [0])],
           lambda p: np.where(p["leaky_relu"] > 0, p["leaky_relu"],
                              0.1 * p["leaky_relu"]), alpha=0.1)
    clip_min = m.const("clip_min", np.array(-0.5, np.float32))
    clip_max = m.const("clip_max", np.array(0.5, np.float32))
    m.case("Clip", [away_from(m.param("clip", (2, 4)), [-0.5, 0.5]),
                    clip_min, clip_max],
           lambda p: np.clip(p["clip"], -0.5, 0.5))
    m.case("Max", [m.param("max_a", (2, 3)), m.param("max_b", (3,))],
           lambda p: np.maximum(p["max_a"], p["max_b"]))
    m.case("Min", [m.param("min_a", (2, 3)), m.param("min_b", (2, 1))],
           lambda p: np.minimum(p["min_a"], p["min_b"]))
    m.case("Pow", [m.param("pow_a", (2, 3), 0.5, 2.0),
                   m.param("pow_b", (3,), 0.5, 2.5)],
           lambda p: p["pow_a"] ** p["pow_b"])
    condition = m.const("where_condition",
                        np.array([[True, False, True], [False, False, True]]))
    m.case("Where", [condition, m.param("where_a", (2, 3)),
                     m.param("where_b", (3,))],
           lambda p: np.where(np.array([[True, False, True],
                                        [False, False, True]]),
                              p["where_a"], p["where_b"]))
    m.case("Dropout", [m.param("dropout", (2, 3))], lambda p: p["dropout"])
    # A round trip through fp16 differentiates as identity (straight
    # through), which is what the fp64 twin computes.
    half = "cast_half"
    m.nodes.append(helper.make_node("Cast", [m.param("cast", (2, 3))], [half],
                                    to=TensorProto.FLOAT16))
    m.case("Cast", [half], lambda p: p["cast"], to=TensorProto.FLOAT)
    m.tolerance["cast"] = 2 ** -10  # the gradient is fp16 on the way back
    def layer_norm(v, scale, bias, axes):
        mean = v.mean(axis=axes, keepdims=True)
        var = ((v - mean) ** 2).mean(axis=axes, keepdims=True)
        return (v - mean) / np.sqrt(var + 1e-5) * scale + bias
    m.case("LayerNormalization",
           [m.param("ln_x", (2, 4), -2, 2), m.param("ln_scale", (4,)),
            m.param("ln_bias", (4,))],
           lambda p: layer_norm(p["ln_x"], p["ln_scale"], p["ln_bias"], -1),
           axis=-1, epsilon=1e-5)
    m.case("LayerNormalization",
           [m.param("ln2_x", (2, 2, 3), -2, 2), m.param("ln2_scale", (2, 3))],
           lambda p: layer_norm(p["ln2_x"], p["ln2_scale"], 0, (1, 2)),
           axis=1, epsilon=1e-5)
    m.case("GlobalAveragePool", [m.param("gap", (1, 2, 3, 3))],
           lambda p: p["gap"].mean(axis=(2, 3), keepdims=True))
    reduce_max = m.param("reduce_max", (2, 3, 2))
    # Distinct values per reduced column: the maximum is unique.
    m.params[reduce_max] = (m.params[reduce_max] +
                            np.arange(3).reshape(1, 3, 1)).astype(np.float32)
    m.inits[-1] = numpy_helper.from_array(m.params[reduce_max], reduce_max)
    m.case("ReduceMax", [reduce_max],
           lambda p: p["reduce_max"].max(axis=1), axes=[1], keepdims=0)
    m.case("Concat", [m.param("concat_a", (2, 1)), xa,
                      m.param("concat_b", (2, 2))],
           lambda p: np.concatenate([p["concat_a"], xa_np(p), p["concat_b"]],
                                    axis=1), axis=1)
    split_sizes = m.const("split_sizes", np.array([2, 4], np.int64))
    m.nodes.append(helper.make_node("Split", [m.param("split", (2, 6)),
                                              split_sizes],
                                    ["split_0", "split_1"], axis=1))
    m.case("Identity", ["split_1"], lambda p: p["split"][:, 2:])
    m.case("Split", [m.param("split_even", (4, 2))],
           lambda p: p["split_even"][:2], axis=0, outputs=2)
    starts = m.const("slice_starts", np.array([1, 0], np.int64))
    ends = m.const("slice_ends", np.array([3, -1], np.int64))
    slice_axes = m.const("slice_axes", np.array([0, 2], np.int64))
    m.case("Slice", [m.param("slice", (4, 2, 3)), starts, ends, slice_axes],
           lambda p: p["slice"][1:3, :, 0:-1])
    # Strided and reversed slices (x[4::-2, 1:3, 1:7:3], x[:, ::-1] as
    # PyTorch exports flip-like slices): the gradient is scattered.
    m.case("Slice", [m.param("slice_strided", (5, 4, 7)),
                     m.const("sls_starts", np.array([4, 1, 1], np.int64)),
                     m.const("sls_ends", np.array([-10, 3, 7], np.int64)),
                     m.const("sls_axes", np.array([0, 1, 2], np.int64)),
                     m.const("sls_steps", np.array([-2, 1, 3], np.int64))],
           lambda p: p["slice_strided"][4::-2, 1:3, 1:7:3])
    m.case("Slice", [m.param("slice_reversed", (3, 5)),
                     m.const("slr_starts", np.array([-1], np.int64)),
                     m.const("slr_ends", np.array([-(2 ** 63) + 1], np.int64)),
                     m.const("slr_axes", np.array([1], np.int64)),
                     m.const("slr_steps", np.array([-1], np.int64))],
           lambda p: p["slice_reversed"][:, ::-1])
    # Reflect and edge padding (the reflected and repeated elements' gradients
    # added to their sources), and negative (cropping) zero padding.
    m.case("Pad", [m.param("pad_reflect", (3, 5)),
                   m.const("pads_reflect", np.array([2, 1, 1, 4], np.int64))],
           lambda p: np.pad(p["pad_reflect"], ((2, 1), (1, 4)), mode="reflect"),
           mode="reflect")
    m.case("Pad", [m.param("pad_edge", (2, 4)),
                   m.const("pads_edge", np.array([1, 3, 2, 0], np.int64))],
           lambda p: np.pad(p["pad_edge"], ((1, 2), (3, 0)), mode="edge"),
           mode="edge")
    m.case("Pad", [m.param("pad_crop", (4, 5)),
                   m.const("pads_crop", np.array([-1, 2, 1, -2], np.int64))],
           lambda p: np.pad(p["pad_crop"][1:, :-2], ((0, 1), (2, 0))))
    pads = m.const("pads", np.array([0, 1, 1, 2], np.int64))
    m.case("Pad", [m.param("pad", (2, 3)), pads,
                   m.const("pad_value", np.array(0.5, np.float32))],
           lambda p: np.pad(p["pad"], ((0, 1), (1, 2)), constant_values=0.5))
    m.case("Squeeze", [m.param("squeeze", (2, 1, 3)),
                       m.const("squeeze_axes", np.array([1], np.int64))],
           lambda p: p["squeeze"].reshape(2, 3))
    m.case("Unsqueeze", [m.param("unsqueeze", (2, 3)),
                         m.const("unsqueeze_axes", np.array([0, 3], np.int64))],
           lambda p: p["unsqueeze"].reshape(1, 2, 3, 1))
    m.case("Expand", [m.param("expand", (3, 1)),
                      m.const("expand_shape", np.array([2, 3, 4], np.int64))],
           lambda p: np.broadcast_to(p["expand"], (2, 3, 4)))
    m.case("Tile", [m.param("tile", (2, 3, 1)),
                    m.const("tile_repeats", np.array([2, 1, 3], np.int64))],
           lambda p: np.tile(p["tile"], (2, 1, 3)))



def conv2d(x, w, strides, pads, dilations, bias=None, group=1):
    """ONNX Conv (2-d) in numpy."""
    if group > 1:
        y = np.concatenate([conv2d(xg, wg, strides, pads, dilations)
                            for xg, wg in zip(np.split(x, group, 1),
                                              np.split(w, group, 0))], 1)
        return y if bias is None else y + bias.reshape(1, -1, 1, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    f, _, kh, kw = w.shape
    oh = (xp.shape[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (xp.shape[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((x.shape[0], f, oh, ow))
    for i in range(kh):
        for j in range(kw):
            r, c = i * dilations[0], j * dilations[1]
            patch = xp[:, :, r:r + strides[0] * (oh - 1) + 1:strides[0],
                       c:c + strides[1] * (ow - 1) + 1:strides[1]]
            y = y + np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def conv_cases(m):
    """Conv's input, weight and bias gradients: padding, strides (with rows
    of the padded input no window reaches), dilations, 1x1 and 1xk/kx1
    kernels, batch 1 and 2."""
    for name, xs, ws, strides, pads, dilations, bias, group in (
            ("conv_pad", (1, 2, 5, 6), (3, 2, 3, 3), [1, 1], [1, 1, 1, 1],
             [1, 1], True, 1),
            ("conv_stride", (2, 3, 7, 5), (2, 3, 2, 3), [2, 1], [0, 1, 1, 0],
             [1, 2], False, 1),
            ("conv_1x1", (1, 1, 6, 7), (2, 1, 1, 1), [2, 3], [0, 0, 0, 0],
             [1, 1], True, 1),
            ("conv_dilated", (1, 2, 8, 7), (2, 2, 3, 2), [3, 2], [2, 0, 0, 1],
             [2, 1], True, 1),
            ("conv_1xk", (2, 2, 4, 9), (3, 2, 1, 4), [1, 2], [0, 2, 0, 1],
             [1, 1], False, 1),
            ("conv_grouped", (2, 4, 6, 5), (6, 2, 3, 3), [1, 1], [1, 1, 1, 1],
             [1, 1], True, 2),
            ("conv_depthwise", (1, 3, 7, 6), (3, 1, 3, 3), [2, 1],
             [1, 0, 0, 1], [1, 2], True, 3),
            ("conv_depthmult", (2, 2, 5, 5), (4, 1, 2, 2), [1, 2],
             [0, 0, 1, 1], [1, 1], False, 2)):
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws)]
        if bias:
            inputs.append(m.param(name + "_b", (ws[0],)))
        m.case("Conv", inputs,
               lambda p, n=name, s=strides, q=pads, d=dilations, b=bias, g=group:
               conv2d(p[n + "_x"], p[n + "_w"], s, q, d,
                      p[n + "_b"] if b else None, g),
               kernel_shape=list(ws[2:]), strides=strides, pads=pads,
               dilations=dilations, group=group)


def conv2d_vjp(x, w, r, strides, pads, dilations, group=1):
    """The gradients (dx, dw, db) of sum(conv2d(x, w, b) * r), exactly,
    in fp64: per kernel tap, the strided window of the padded input each
    output reads, correlated with r (dw) and r mapped back through the
    tap's weights into that window (dx)."""
    x, w, r = (np.asarray(v, np.float64) for v in (x, w, r))
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    f, cg, kh, kw = w.shape
    fg = f // group
    oh, ow = r.shape[2], r.shape[3]
    for g in range(group):
        rg = r[:, g * fg:(g + 1) * fg]
        cs = slice(g * cg, (g + 1) * cg)
        for i in range(kh):
            for j in range(kw):
                a, b = i * dilations[0], j * dilations[1]
                rows = slice(a, a + strides[0] * (oh - 1) + 1, strides[0])
                cols = slice(b, b + strides[1] * (ow - 1) + 1, strides[1])
                window = xp[:, cs, rows, cols]
                dw[g * fg:(g + 1) * fg, :, i, j] = np.einsum(
                    "nfhw,nchw->fc", rg, window)
                dxp[:, cs, rows, cols] += np.einsum(
                    "nfhw,fc->nchw", rg, w[g * fg:(g + 1) * fg, :, i, j])
    dx = dxp[:, :, pads[0]:pads[0] + x.shape[2], pads[1]:pads[1] + x.shape[3]]
    return dx, dw, r.sum(axis=(0, 2, 3))


def random_conv_cases(m, count=10, seed=11):
    """Conv's gradients over random shapes (batch 1 to 3, odd and prime
    sizes, images up to 17 wide, kernels 1 to 5, strides, pads, dilations,
    groups), against the exact fp64 gradients of conv2d_vjp: the CPU
    lowers weight gradients of stride-1 convolutions as windowed sums and
    images whose rows are not a whole number of vectors with outputs past
    the last row, each with its own padding of the operands, so the cases
    also cover the shapes between the fixed ones above."""
    draw = np.random.default_rng(seed)
    for k in range(count):
        group = int(draw.choice([1, 1, 1, 2, 3]))
        cg, fg = int(draw.integers(1, 4)), int(draw.integers(1, 4))
        kh, kw = (int(v) for v in draw.choice([1, 2, 3, 3, 5], 2))
        strides = [int(v) for v in draw.choice([1, 1, 1, 2], 2)]
        dilations = [int(v) for v in draw.choice([1, 1, 1, 2], 2)]
        pads = [int(v) for v in draw.integers(0, 3, 4)]
        h, w = (int(v) for v in draw.integers(5, 18, 2))
        h = max(h, dilations[0] * (kh - 1) + 1 - pads[0] - pads[2])
        w = max(w, dilations[1] * (kw - 1) + 1 - pads[1] - pads[3])
        name = "conv_rand%d" % k
        xs = (int(draw.integers(1, 4)), cg * group, h, w)
        ws = (fg * group, cg, kh, kw)
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws),
                  m.param(name + "_b", (ws[0],))]
        out = "out_%d" % len(m.terms)
        m.case("Conv", inputs,
               lambda p, n=name, s=strides, q=pads, d=dilations, g=group:
               conv2d(p[n + "_x"], p[n + "_w"], s, q, d, p[n + "_b"], g),
               kernel_shape=[kh, kw], strides=strides, pads=pads,
               dilations=dilations, group=group)
        for i, part in enumerate(("_x", "_w", "_b")):
            m.exact[name + part] = (
                lambda p, r, n=name, o=out, s=strides, q=pads, d=dilations,
                g=group, i=i: conv2d_vjp(p[n + "_x"], p[n + "_w"], r[o], s,
                                         q, d, g)[i])


def random_strided_cases(m, count=8, seed=23):
    """Strided Conv and ConvTranspose over random shapes: strides 2 and 3
    (along one dim or both), kernels narrower than, as wide as and wider
    than the stride, pads up to the kernel's width, groups, output
    padding, batch 1 to 3. Their input gradients (and ConvTranspose
    itself) are built from one stride-1 convolution per residue of the
    stride and Conv's weight gradient from one per phase of the image,
    whose edges (a residue no tap meets, windows starting in the padding)
    these cover, against the exact fp64 gradients of conv2d_vjp for Conv
    and finite differences of the fp64 reference for ConvTranspose."""
    draw = np.random.default_rng(seed)
    for k in range(count):
        group = int(draw.choice([1, 1, 2]))
        cg, fg = int(draw.integers(1, 4)), int(draw.integers(1, 4))
        strides = [int(v) for v in draw.choice([1, 2, 2, 3], 2)]
        if strides == [1, 1]:
            strides[int(draw.integers(0, 2))] = 2
        kh, kw = (int(v) for v in draw.integers(1, 6, 2))
        pads = [int(draw.integers(0, kh + 1)), int(draw.integers(0, kw + 1))]
        pads += [int(draw.integers(0, kh + 1)), int(draw.integers(0, kw + 1))]
        h, w = (int(v) for v in draw.integers(4, 14, 2))
        h = max(h, kh - pads[0] - pads[2])
        w = max(w, kw - pads[1] - pads[3])
        batch = int(draw.integers(1, 4))
        name = "conv_strided%d" % k
        xs = (batch, cg * group, h, w)
        ws = (fg * group, cg, kh, kw)
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws),
                  m.param(name + "_b", (ws[0],))]
        out = "out_%d" % len(m.terms)
        m.case("Conv", inputs,
               lambda p, n=name, s=strides, q=pads, g=group:
               conv2d(p[n + "_x"], p[n + "_w"], s, q, [1, 1], p[n + "_b"], g),
               kernel_shape=[kh, kw], strides=strides, pads=pads,
               dilations=[1, 1], group=group)
        for i, part in enumerate(("_x", "_w", "_b")):
            m.exact[name + part] = (
                lambda p, r, n=name, o=out, s=strides, q=pads, g=group, i=i:
                conv2d_vjp(p[n + "_x"], p[n + "_w"], r[o], s, q, [1, 1],
                           g)[i])
        # The transposed form: ONNX output padding is below the stride,
        # pads leave at least one output.
        name = "convt_strided%d" % k
        xs = (batch, fg * group, int(draw.integers(2, 7)),
              int(draw.integers(2, 7)))
        ws = (fg * group, cg, kh, kw)
        outpad = [int(draw.integers(0, s)) for s in strides]
        full = [(xs[2 + i] - 1) * strides[i] + ws[2 + i] + outpad[i]
                for i in range(2)]
        tpads = [int(draw.integers(0, kh)), int(draw.integers(0, kw))]
        tpads += [min(int(draw.integers(0, kh)), full[0] - tpads[0] - 1),
                  min(int(draw.integers(0, kw)), full[1] - tpads[1] - 1)]
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws),
                  m.param(name + "_b", (cg * group,))]
        m.case("ConvTranspose", inputs,
               lambda p, n=name, s=strides, q=tpads, o=outpad, g=group:
               ref_conv_transpose(p[n + "_x"], p[n + "_w"], p[n + "_b"], s, q,
                                  [1, 1], o, g),
               kernel_shape=[kh, kw], strides=strides, pads=tpads,
               dilations=[1, 1], output_padding=outpad, group=group)


def maxpool2d(x, kernel, strides, pads, dilations, ceil=False):
    """ONNX MaxPool (2-d) in numpy; ceil_mode's last window starts inside
    the input or its leading padding."""
    n, c, h, w = x.shape
    outs = []
    for d, size in enumerate((h, w)):
        span = size + pads[d] + pads[d + 2] - dilations[d] * (kernel[d] - 1) - 1
        o = (-(-span // strides[d]) if ceil else span // strides[d]) + 1
        if ceil and (o - 1) * strides[d] >= size + pads[d]:
            o -= 1
        outs.append(o)
    xp = np.full((n, c, h + pads[0] + pads[2] + kernel[0] * dilations[0],
                  w + pads[1] + pads[3] + kernel[1] * dilations[1]), -np.inf)
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    y = np.full((n, c, outs[0], outs[1]), -np.inf)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            r, q = i * dilations[0], j * dilations[1]
            y = np.maximum(y, xp[:, :, r:r + strides[0] * (outs[0] - 1) + 1:
                                 strides[0],
                                 q:q + strides[1] * (outs[1] - 1) + 1:
                                 strides[1]])
    return y


def maxpool_cases(m):
    """MaxPool's gradient: non-overlapping and overlapping windows,
    padding, dilations, ceil_mode (random inputs: no ties)."""
    for name, xs, kernel, strides, pads, dilations, ceil in (
            ("mp_2x2", (2, 3, 6, 7), [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], 0),
            # Windows that tile the input: mpc.max_pool_grad's own lowering.
            ("mp_tiled", (3, 2, 6, 9), [2, 3], [2, 3], [0, 0, 0, 0], [1, 1],
             0),
            ("mp_overlap", (1, 2, 7, 6), [3, 3], [1, 1], [1, 1, 1, 1],
             [1, 1], 0),
            ("mp_dilated", (1, 2, 9, 8), [3, 2], [2, 3], [1, 0, 1, 1],
             [2, 1], 0),
            ("mp_ceil", (1, 1, 7, 7), [2, 2], [2, 2], [0, 0, 0, 0], [1, 1],
             1)):
        m.case("MaxPool", [m.param(name, xs)],
               lambda p, n=name, k=kernel, s=strides, q=pads, d=dilations,
               c=ceil: maxpool2d(p[n], k, s, q, d, c),
               kernel_shape=kernel, strides=strides, pads=pads,
               dilations=dilations, ceil_mode=ceil)


def maxpool_tie_cases(m):
    """Ties: PyTorch routes a window's gradient to its first maximum in
    scan order (row-major over the window), once per window; overlapping
    windows that share that element add up."""
    x = np.array([[[[1, 3, 3, 0],
                    [3, 2, 3, 3],
                    [0, 3, 1, 3],
                    [2, 2, 2, 2]]]], np.float32)
    name = m.param("mp_ties", x.shape)
    m.params[name] = x
    m.inits[-1] = numpy_helper.from_array(x, name)
    out = "out_%d" % len(m.terms)
    m.case("MaxPool", [name],
           lambda p: maxpool2d(p["mp_ties"], [2, 2], [1, 1], [0, 0, 0, 0],
                               [1, 1]),
           kernel_shape=[2, 2], strides=[1, 1])

    def routed(p, weights):
        grad = np.zeros(x.shape)
        dy = weights[out]
        for oh in range(3):
            for ow in range(3):
                window = p["mp_ties"][0, 0, oh:oh + 2, ow:ow + 2]
                i, j = np.unravel_index(np.argmax(window), (2, 2))
                grad[0, 0, oh + i, ow + j] += dy[0, 0, oh, ow]
        return grad
    m.exact[name] = routed

    # The same ties in windows that tile the input (stride 2: the
    # max_pool_grad lowering): each window's gradient goes to its first
    # maximum.
    tiled = m.param("mp_ties_tiled", x.shape)
    m.params[tiled] = x
    m.inits[-1] = numpy_helper.from_array(x, tiled)
    tiled_out = "out_%d" % len(m.terms)
    m.case("MaxPool", [tiled],
           lambda p: maxpool2d(p["mp_ties_tiled"], [2, 2], [2, 2],
                               [0, 0, 0, 0], [1, 1]),
           kernel_shape=[2, 2], strides=[2, 2])

    def routed_tiled(p, weights):
        grad = np.zeros(x.shape)
        dy = weights[tiled_out]
        for oh in range(2):
            for ow in range(2):
                window = p["mp_ties_tiled"][0, 0, 2 * oh:2 * oh + 2,
                                            2 * ow:2 * ow + 2]
                i, j = np.unravel_index(np.argmax(window), (2, 2))
                grad[0, 0, 2 * oh + i, 2 * ow + j] += dy[0, 0, oh, ow]
        return grad
    m.exact[tiled] = routed_tiled


def batchnorm_cases(m):
    """BatchNormalization with frozen statistics (an eval-mode export):
    input, scale and bias gradients, 4-d and 2-d."""
    for name, shape in (("bn4", (2, 3, 4, 5)), ("bn2", (3, 4))):
        c = shape[1]
        mean = rng.uniform(-0.5, 0.5, c).astype(np.float32)
        var = rng.uniform(0.5, 2.0, c).astype(np.float32)
        inputs = [m.param(name + "_x", shape), m.param(name + "_scale", (c,)),
                  m.param(name + "_bias", (c,)),
                  m.const(name + "_mean", mean), m.const(name + "_var", var)]
        per_channel = (1, c) + (1,) * (len(shape) - 2)

        def fn(p, n=name, mu=mean, v=var, s=per_channel):
            xhat = (p[n + "_x"] - mu.reshape(s)) / np.sqrt(
                v.astype(np.float64).reshape(s) + 1e-3)
            return xhat * p[n + "_scale"].reshape(s) + p[n + "_bias"].reshape(s)
        m.case("BatchNormalization", inputs, fn, epsilon=1e-3)


def batchnorm_pytorch_cases(m):
    """The same, in a model PyTorch exported: its running variance moves
    towards the unbiased batch variance, as PyTorch's BatchNorm does
    (mpc-opt --bn-running-variance=auto)."""
    m.producer = "pytorch"
    batchnorm_training_cases(m, (("bnpt4", (2, 3, 2, 3)),), unbiased=True)


def batchnorm_training_cases(m, cases=(("bnt4", (2, 3, 4, 5)),
                                       ("bnt2", (5, 4))), unbiased=False):
    """BatchNormalization in training mode (a TrainingMode.TRAINING
    export): batch statistics, gradients through them to the input, scale
    and bias, 4-d and 2-d; the running statistics (initializers, not
    trained) move by the momentum towards the batch's (population
    variance, as ONNX specifies)."""
    for name, shape in cases:
        c = shape[1]
        mean, var = name + "_mean", name + "_var"
        running = {mean: rng.uniform(-0.5, 0.5, c).astype(np.float32),
                   var: rng.uniform(0.5, 2.0, c).astype(np.float32)}
        for stat, value in running.items():
            m.inits.append(numpy_helper.from_array(value, stat))
        inputs = [m.param(name + "_x", shape), m.param(name + "_scale", (c,)),
                  m.param(name + "_bias", (c,)), mean, var]
        per_channel = (1, c) + (1,) * (len(shape) - 2)
        axes = (0,) + tuple(range(2, len(shape)))

        def batch_stats(p, n=name, a=axes):
            x = p[n + "_x"].astype(np.float64)
            return x, x.mean(axis=a, keepdims=True), x.var(axis=a, keepdims=True)

        def fn(p, n=name, s=per_channel, stats=batch_stats):
            x, mu, v = stats(p)
            xhat = (x - mu) / np.sqrt(v + 1e-3)
            return xhat * p[n + "_scale"].reshape(s) + p[n + "_bias"].reshape(s)
        m.case("BatchNormalization", inputs, fn, outputs=3, epsilon=1e-3,
               momentum=0.8, training_mode=1)
        count = np.prod(shape) // c
        for stat, index, correction in ((mean, 1, 1.0),
                                        (var, 2, count / (count - 1)
                                         if unbiased else 1.0)):
            m.state_updates["stat:" + stat] = (
                lambda p, r=running[stat], i=index, stats=batch_stats,
                k=correction: 0.8 * r + 0.2 * k * stats(p)[i].reshape(-1))


def avgpool2d(x, kernel, strides, pads, ceil=False, include_pad=False):
    """ONNX AveragePool in fp64: windows over the zero-padded input, each
    divided by its elements inside the input (or the padded input with
    count_include_pad), never counting ceil_mode's extra part."""
    n, c, h, w = x.shape
    size = [h, w]
    out = []
    for i in range(2):
        span = size[i] + pads[i] + pads[i + 2] - kernel[i]
        o = (-(-span // strides[i]) if ceil else span // strides[i]) + 1
        if ceil and (o - 1) * strides[i] >= size[i] + pads[i]:
            o -= 1
        out.append(o)
    y = np.zeros((n, c, out[0], out[1]))
    for oh in range(out[0]):
        for ow in range(out[1]):
            r0, c0 = oh * strides[0] - pads[0], ow * strides[1] - pads[1]
            lo = (-pads[0], -pads[1]) if include_pad else (0, 0)
            hi = ((h + pads[2], w + pads[3]) if include_pad else (h, w))
            rows = range(max(r0, lo[0]), min(r0 + kernel[0], hi[0]))
            cols = range(max(c0, lo[1]), min(c0 + kernel[1], hi[1]))
            total = 0.0
            for r in rows:
                for q in cols:
                    if 0 <= r < h and 0 <= q < w:
                        total = total + x[:, :, r, q]
            y[:, :, oh, ow] = total / (len(rows) * len(cols))
    return y


def avgpool_cases(m):
    """AveragePool: overlapping windows, padding counted and not, ceil_mode
    (its extra window part never counted), strides."""
    for name, shape, kernel, strides, pads, ceil, include in (
            ("ap_overlap", (2, 3, 5, 5), (3, 3), (1, 1), (0, 0, 0, 0), 0, 0),
            ("ap_pad", (1, 2, 5, 6), (3, 3), (2, 2), (1, 1, 1, 1), 0, 0),
            ("ap_pad_count", (1, 2, 5, 6), (3, 3), (2, 2), (1, 1, 1, 1), 0, 1),
            ("ap_ceil", (1, 2, 6, 7), (2, 3), (2, 2), (0, 1, 0, 0), 1, 0),
            ("ap_ceil_count", (1, 2, 6, 7), (3, 3), (2, 2), (1, 1, 1, 1), 1, 1)):
        m.case("AveragePool", [m.param(name, shape)],
               lambda p, n=name, k=kernel, s=strides, q=pads, c=ceil,
               i=include: avgpool2d(p[n].astype(np.float64), k, s, q, c, i),
               kernel_shape=list(kernel), strides=list(strides),
               pads=list(pads), ceil_mode=ceil, count_include_pad=include)


def same_pads(size, kernel, stride, dilation, upper):
    """ONNX auto_pad SAME_UPPER/SAME_LOWER: the output is ceil(size /
    stride), the odd pad at the end (upper) or the beginning (lower)."""
    out = -(-size // stride)
    total = max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def auto_pad_cases(m):
    """auto_pad as exporters write it (the importer makes the pads
    explicit): 2-d Conv SAME_UPPER and SAME_LOWER with strides and
    dilations, 3-d Conv, and ConvTranspose SAME_UPPER (output = input x
    stride)."""
    for name, xs, ws, s, d, mode in (
            ("autopad_upper", (2, 2, 7, 6), (3, 2, 3, 2), [2, 2], [1, 1],
             "SAME_UPPER"),
            ("autopad_lower", (1, 3, 6, 5), (2, 3, 2, 3), [2, 1], [1, 2],
             "SAME_LOWER")):
        pairs = [same_pads(xs[2 + i], ws[2 + i], s[i], d[i],
                           mode == "SAME_UPPER") for i in range(2)]
        pads = [pairs[0][0], pairs[1][0], pairs[0][1], pairs[1][1]]
        m.case("Conv", [m.param(name + "_x", xs), m.param(name + "_w", ws)],
               lambda p, n=name, s=s, q=pads, d=d: conv2d(
                   p[n + "_x"], p[n + "_w"], s, q, d, None, 1),
               kernel_shape=list(ws[2:]), strides=s, dilations=d,
               auto_pad=mode)
    xs, ws, s = (1, 2, 5, 4, 5), (2, 2, 2, 3, 2), [2, 1, 2]
    pairs = [same_pads(xs[2 + i], ws[2 + i], s[i], 1, True) for i in range(3)]
    pads3 = [p[0] for p in pairs] + [p[1] for p in pairs]
    m.case("Conv", [m.param("autopad3d_x", xs), m.param("autopad3d_w", ws)],
           lambda p: ref_conv_nd(p["autopad3d_x"], p["autopad3d_w"], None,
                                 [2, 1, 2], pads3, [1, 1, 1]),
           kernel_shape=list(ws[2:]), strides=s, auto_pad="SAME_UPPER")
    # ConvTranspose: the full output less input x stride, split as Conv's.
    xs, ws = (1, 2, 3, 4), (2, 3, 3, 3)
    total = [(xs[2 + i] - 1) * 2 + ws[2 + i] - xs[2 + i] * 2 for i in range(2)]
    padst = [total[0] // 2, total[1] // 2, total[0] - total[0] // 2,
             total[1] - total[1] // 2]
    m.case("ConvTranspose", [m.param("autopad_t_x", xs), m.param("autopad_t_w", ws)],
           lambda p: ref_conv_transpose(p["autopad_t_x"], p["autopad_t_w"],
                                        None, [2, 2], padst, [1, 1], [0, 0],
                                        1),
           kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")


def one_dim_cases(m):
    """1-d Conv, ConvTranspose, MaxPool and AveragePool (run as their 2-d
    forms over a unit height), 2-d and 3-d ConvTranspose: strides, pads,
    dilations, output_padding, groups, bias; GlobalMaxPool."""
    as2d = lambda a: a[:, :, None, :]
    for name, xs, ws, stride, pads, dilation, bias, group in (
            ("conv1d", (2, 3, 11), (4, 3, 3), 2, [1, 2], 1, True, 1),
            ("conv1d_dw", (1, 4, 9), (4, 1, 5), 1, [2, 2], 2, False, 4)):
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws)]
        if bias:
            inputs.append(m.param(name + "_b", (ws[0],)))
        m.case("Conv", inputs,
               lambda p, n=name, s=stride, q=pads, d=dilation, b=bias,
               g=group: conv2d(as2d(p[n + "_x"]), as2d(p[n + "_w"]), [1, s],
                               [0, q[0], 0, q[1]], [1, d],
                               p[n + "_b"] if b else None, g)[:, :, 0],
               kernel_shape=[ws[2]], strides=[stride], pads=pads,
               dilations=[dilation], group=group)
    for name, xs, ws, strides, pads, dilations, outpad, bias, group in (
            ("convt", (2, 3, 4, 5), (3, 2, 3, 3), [2, 2], [1, 1, 1, 1],
             [1, 1], [1, 0], True, 1),
            ("convt_grouped", (1, 4, 3, 4), (4, 3, 2, 3), [1, 2],
             [0, 1, 1, 0], [2, 1], [0, 1], False, 2),
            ("convt_wide_pad", (1, 2, 5, 3), (2, 2, 2, 2), [3, 1],
             [2, 0, 3, 1], [1, 1], [2, 0], True, 1)):
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws)]
        if bias:
            inputs.append(m.param(name + "_b", (ws[1] * group,)))
        m.case("ConvTranspose", inputs,
               lambda p, n=name, s=strides, q=pads, d=dilations, o=outpad,
               b=bias, g=group: ref_conv_transpose(
                   p[n + "_x"], p[n + "_w"], p[n + "_b"] if b else None, s, q,
                   d, o, g),
               kernel_shape=list(ws[2:]), strides=strides, pads=pads,
               dilations=dilations, output_padding=outpad, group=group)
    m.case("ConvTranspose", [m.param("convt1d_x", (2, 2, 6)),
                             m.param("convt1d_w", (2, 3, 4))],
           lambda p: ref_conv_transpose(p["convt1d_x"], p["convt1d_w"], None,
                                        [2], [1, 2], [1], [1], 1),
           kernel_shape=[4], strides=[2], pads=[1, 2], output_padding=[1])
    # 3-d: a 3-d convolution of the zero-interleaved input, made 2-d.
    m.case("ConvTranspose", [m.param("convt3d_x", (1, 4, 3, 4, 3)),
                             m.param("convt3d_w", (4, 1, 2, 3, 2)),
                             m.param("convt3d_b", (2,))],
           lambda p: ref_conv_transpose(p["convt3d_x"], p["convt3d_w"],
                                        p["convt3d_b"], [2, 1, 2],
                                        [1, 0, 0, 0, 1, 1], [1, 2, 1],
                                        [1, 0, 0], 2),
           kernel_shape=[2, 3, 2], strides=[2, 1, 2], pads=[1, 0, 0, 0, 1, 1],
           dilations=[1, 2, 1], output_padding=[1, 0, 0], group=2)
    for name, xs, ws, strides, pads, dilations, bias, group in (
            ("conv3d", (2, 2, 5, 4, 4), (3, 2, 3, 2, 3), [2, 1, 1],
             [1, 0, 1, 0, 1, 1], [1, 1, 1], True, 1),
            ("conv3d_grouped", (1, 4, 6, 3, 5), (2, 2, 2, 3, 2), [1, 2, 2],
             [0, 1, 0, 1, 0, 1], [2, 1, 2], False, 2)):
        inputs = [m.param(name + "_x", xs), m.param(name + "_w", ws)]
        if bias:
            inputs.append(m.param(name + "_b", (ws[0],)))
        m.case("Conv", inputs,
               lambda p, n=name, s=strides, q=pads, d=dilations, b=bias,
               g=group: ref_conv_nd(p[n + "_x"], p[n + "_w"],
                                    p[n + "_b"] if b else None, s, q, d, g),
               kernel_shape=list(ws[2:]), strides=strides, pads=pads,
               dilations=dilations, group=group)
    m.case("MaxPool", [m.param("mp1d", (2, 3, 10))],
           lambda p: maxpool2d(as2d(p["mp1d"]), [1, 3], [1, 2], [0, 1, 0, 1],
                               [1, 1])[:, :, 0],
           kernel_shape=[3], strides=[2], pads=[1, 1])
    m.case("AveragePool", [m.param("ap1d", (1, 2, 9))],
           lambda p: avgpool2d(as2d(p["ap1d"]).astype(np.float64), [1, 4],
                               [1, 3], [0, 1, 0, 2], ceil=True)[:, :, 0],
           kernel_shape=[4], strides=[3], pads=[1, 2], ceil_mode=1)
    m.case("GlobalMaxPool", [m.param("gmp", (2, 3, 4, 5))],
           lambda p: p["gmp"].max(axis=(2, 3), keepdims=True))
    m.case("GlobalMaxPool", [m.param("gmp1d", (1, 2, 7))],
           lambda p: p["gmp1d"].max(axis=2, keepdims=True))


def pool3d_cases(m):
    """3-d MaxPool and AveragePool (run as a 2-d pooling per depth plane
    and one over the depth): strides, pads, dilations, ceil_mode, padding
    counted and not, and max ties routed to the first maximum in (d, h, w)
    order as PyTorch does."""
    for name, shape, kernel, strides, pads, dilations, ceil in (
            ("mp3d", (1, 2, 5, 6, 7), [2, 3, 2], [2, 2, 1], [1, 0, 1, 0, 1, 1],
             [1, 1, 2], 1),):
        m.case("MaxPool", [m.param(name, shape)],
               lambda p, n=name, k=kernel, s=strides, q=pads, d=dilations,
               c=ceil: pool_nd(p[n], k, s, q, d, c, "max")[0],
               kernel_shape=kernel, strides=strides, pads=pads,
               dilations=dilations, ceil_mode=ceil)
    for name, shape, kernel, strides, pads, ceil, include in (
            ("ap3d", (1, 2, 5, 6, 5), [3, 2, 2], [2, 2, 2], [1, 1, 0, 1, 0, 1],
             1, 0),
            ("ap3d_count", (1, 2, 5, 6, 5), [3, 2, 2], [2, 2, 2],
             [1, 1, 0, 1, 0, 1], 1, 1)):
        m.case("AveragePool", [m.param(name, shape)],
               lambda p, n=name, k=kernel, s=strides, q=pads, c=ceil,
               i=include: pool_nd(p[n].astype(np.float64), k, s, q, [1] * 3, c,
                                  "avg", i)[0],
               kernel_shape=kernel, strides=strides, pads=pads, ceil_mode=ceil,
               count_include_pad=include)
    # Ties: small integers in overlapping windows.
    x = np.random.default_rng(3).integers(0, 3, (1, 2, 4, 4, 4)).astype(
        np.float32)
    name = m.param("mp3d_ties", x.shape)
    m.params[name] = x
    m.inits[-1] = numpy_helper.from_array(x, name)
    out = "out_%d" % len(m.terms)
    args = ([2, 2, 2], [1, 1, 1], [0] * 6, [1, 1, 1], 0, "max")
    m.case("MaxPool", [name], lambda p: pool_nd(p[name], *args)[0],
           kernel_shape=[2, 2, 2], strides=[1, 1, 1])

    def routed(p, weights):
        y, first = pool_nd(p[name], *args)
        grad = np.zeros(x.shape)
        dy = weights[out]
        for o, cells in first.items():
            for nc, cell in enumerate(cells):
                n, c = divmod(nc, x.shape[1])
                grad[(n, c) + cell] += dy[(n, c) + o]
        return grad
    m.exact[name] = routed


def resize_matrix(size, out, scale, mode, transform="half_pixel",
                  nearest="round_prefer_floor", a=-0.75, exclude=False):
    """ONNX Resize along one axis as an [out, size] matrix (fp64)."""
    mat = np.zeros((out, size))
    for o in range(out):
        if transform == "align_corners":
            x = 0.0 if out == 1 else o * (size - 1) / (size * scale - 1)
        elif transform == "asymmetric":
            x = o / scale
        else:
            x = (o + 0.5) / scale - 0.5
        if mode == "nearest":
            rounded = {"floor": math.floor(x), "ceil": math.ceil(x),
                       "round_prefer_floor": math.ceil(x - 0.5),
                       "round_prefer_ceil": math.floor(x + 0.5)}[nearest]
            mat[o, min(max(rounded, 0), size - 1)] = 1
            continue
        base = math.floor(x)
        t = x - base
        if mode == "linear":
            taps = {base: 1 - t, base + 1: t}
        else:
            def kernel(d):
                d = abs(d)
                if d <= 1:
                    return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
                return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a
            taps = {base + k: kernel(t - k) for k in (-1, 0, 1, 2)}
        if exclude:
            taps = {i: c for i, c in taps.items() if 0 <= i < size}
            total = sum(taps.values())
            taps = {i: c / total for i, c in taps.items()}
        for i, c in taps.items():
            mat[o, min(max(i, 0), size - 1)] += c
    return mat


def resize_cases(m):
    """Resize (decomposed into per-axis gathers): nearest as nn.Upsample
    exports it, bilinear upsampling and downsampling, bicubic with
    align_corners and with exclude_outside."""
    for name, shape, scales, mode, attrs in (
            ("resize_nearest", (2, 2, 3, 4), [1, 1, 2, 2], "nearest",
             dict(coordinate_transformation_mode="asymmetric",
                  nearest_mode="floor")),
            ("resize_linear", (1, 2, 4, 3), [1, 1, 2, 3], "linear", {}),
            ("resize_linear_down", (1, 1, 7, 6), [1, 1, 0.5, 0.75],
             "linear", {}),
            ("resize_cubic", (1, 1, 4, 5), [1, 1, 1.5, 2], "cubic",
             dict(coordinate_transformation_mode="align_corners")),
            ("resize_cubic_excl", (1, 1, 5, 4), [1, 1, 2, 1.5], "cubic",
             dict(exclude_outside=1, cubic_coeff_a=-0.5))):
        outs = [int(math.floor(d * sc)) for d, sc in zip(shape, scales)]
        mats = [resize_matrix(
            shape[i], outs[i], scales[i], mode,
            attrs.get("coordinate_transformation_mode", "half_pixel"),
            attrs.get("nearest_mode", "round_prefer_floor"),
            attrs.get("cubic_coeff_a", -0.75),
            bool(attrs.get("exclude_outside", 0))) for i in (2, 3)]
        m.case("Resize", [m.param(name, shape), "",
                          m.const(name + "_scales",
                                  np.array(scales, np.float32))],
               lambda p, n=name, h=mats[0], w=mats[1]:
               np.einsum("oh,nchw,pw->ncop", h, p[n].astype(np.float64), w),
               mode=mode, **attrs)


def gather_cases(m):
    """Gather of a trainable table (an embedding): repeated and negative
    indices accumulate into their rows, on axis 0 and on a middle axis."""
    ids = np.array([[1, 3, 1], [6, -1, 1]], np.int64)
    m.case("Gather", [m.param("embedding", (7, 4)), m.const("ids", ids)],
           lambda p: np.take(p["embedding"], ids, axis=0))
    # One initializer read by several nodes (a tied embedding and output
    # projection, say): one parameter, its gradients summed.
    tied = m.param("tied", (3, 4))
    m.case("Mul", [tied, tied], lambda p: p["tied"] * p["tied"])
    m.case("Gather", [tied, m.const("tied_ids", np.array([2, 2, 0], np.int64))],
           lambda p: np.take(p["tied"], [2, 2, 0], axis=0))
    cols = np.array([4, 0, 4, -2], np.int64)
    m.case("Gather", [m.param("gather_axis1", (3, 5, 2)),
                      m.const("cols", cols)],
           lambda p: np.take(p["gather_axis1"], cols, axis=1), axis=1)


def onnx_coverage_cases(m):
    """The rules added with the ONNX coverage work (#17): trigonometric and
    hyperbolic functions, CumSum (its gradient a reversed running sum),
    ReduceMin, GatherElements (a scatter-add into zeros), the composed
    activations and norm reductions, and an unrolled LSTM (backpropagation
    through time)."""
    for op, fn, low, high in (("Sin", np.sin, -2, 2), ("Cos", np.cos, -2, 2),
                              ("Tan", np.tan, -1, 1),
                              ("Asin", np.arcsin, -0.8, 0.8),
                              ("Acos", np.arccos, -0.8, 0.8),
                              ("Atan", np.arctan, -2, 2),
                              ("Sinh", np.sinh, -2, 2),
                              ("Cosh", np.cosh, -2, 2),
                              ("Asinh", np.arcsinh, -2, 2),
                              ("Acosh", np.arccosh, 1.2, 3),
                              ("Atanh", np.arctanh, -0.8, 0.8)):
        name = op.lower()
        m.case(op, [m.param(name, (2, 3), low, high)],
               lambda p, fn=fn, name=name: fn(p[name]))
    for exclusive, reverse in ((0, 0), (1, 1)):
        name = "cumsum_%d%d" % (exclusive, reverse)
        axis = m.const(name + "_axis", np.array(1, np.int64))

        def ref(p, name=name, exclusive=exclusive, reverse=reverse):
            x = p[name][:, ::-1] if reverse else p[name]
            y = np.cumsum(x, axis=1) - (x if exclusive else 0)
            return y[:, ::-1] if reverse else y
        m.case("CumSum", [m.param(name, (2, 5)), axis], ref,
               exclusive=exclusive, reverse=reverse)
    m.case("ReduceMin", [m.param("reducemin", (3, 4))],
           lambda p: p["reducemin"].min(axis=1, keepdims=True), axes=[1])
    idx = np.array([[0, 2, 2], [1, -1, 0]], np.int64)
    m.case("GatherElements", [m.param("gather_elements", (2, 4)),
                              m.const("ge_idx", idx)],
           lambda p: np.take_along_axis(p["gather_elements"],
                                        np.where(idx < 0, idx + 4, idx), 1),
           axis=1)
    m.case("Elu", [m.param("elu", (2, 3), -2, 2)],
           lambda p: np.where(p["elu"] < 0, 0.7 * np.expm1(p["elu"]),
                              p["elu"]), alpha=0.7)
    m.case("Softsign", [m.param("softsign", (2, 3), -2, 2)],
           lambda p: p["softsign"] / (1 + np.abs(p["softsign"])))
    m.case("ReduceL2", [m.param("reducel2", (3, 4))],
           lambda p: np.sqrt((p["reducel2"] ** 2).sum(axis=0, keepdims=True)),
           axes=[0])
    m.case("ReduceLogSumExp", [m.param("reducelse", (3, 4), -2, 2)],
           lambda p: np.log(np.exp(p["reducelse"]).sum(axis=1)), axes=[1],
           keepdims=0)
    # LSTM over 3 steps: W, R and B get gradients through every step.
    T, B, I, H = 3, 2, 2, 3
    xs = rng.uniform(-1, 1, (T, B, I))
    sig = lambda v: 1 / (1 + np.exp(-v))

    def lstm(p):
        h, c = np.zeros((B, H)), np.zeros((B, H))
        w, r, b = p["lstm_w"][0], p["lstm_r"][0], p["lstm_b"][0]
        ys = []
        for t in range(T):
            a = xs[t] @ w.T + h @ r.T + b[:4 * H] + b[4 * H:]
            i, o = sig(a[:, :H]), sig(a[:, H:2 * H])
            f, g = sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            ys.append(h)
        return np.stack(ys)[:, None]  # Y: [T, 1, B, H]
    m.case("LSTM", [m.const("lstm_x", xs.astype(np.float32)),
                    m.param("lstm_w", (1, 4 * H, I), -0.5, 0.5),
                    m.param("lstm_r", (1, 4 * H, H), -0.5, 0.5),
                    m.param("lstm_b", (1, 8 * H), -0.3, 0.3)],
           lstm, outputs=1, hidden_size=H)


def nll(logp, target, weight=None, reduction="mean", ignore=None):
    """ONNX NegativeLogLikelihoodLoss in numpy: logp [N, C, d...]."""
    classes = logp.shape[1]
    w = np.ones(classes) if weight is None else weight.astype(np.float64)
    safe = np.where(target == ignore, 0, target) if ignore is not None \
        else target
    picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
    wt = w[safe] * (target != ignore if ignore is not None else 1)
    losses = -picked * wt
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.array(losses.sum())
    return np.array(losses.sum() / wt.sum())


def nll_cases(m):
    """NegativeLogLikelihoodLoss as a model's loss: class weights and an
    ignored label (mean over the counted weights), per-pixel targets with
    no reduction, and after a LogSoftmax (PyTorch's log_softmax +
    nll_loss) summed."""
    target = np.array([1, 4, 2, 4], np.int64)
    weight = np.array([0.5, 1.0, 2.0, 1.5, 0.25], np.float32)
    m.case("NegativeLogLikelihoodLoss",
           [m.param("nll_w", (4, 5)), m.const("nll_target", target),
            m.const("nll_weight", weight)],
           lambda p: nll(p["nll_w"], target, weight, "mean", 2),
           ignore_index=2)
    pixels = np.array([[0, 2, 1, 2], [1, 1, 0, 2]], np.int64)
    m.case("NegativeLogLikelihoodLoss",
           [m.param("nll_none", (2, 3, 4)), m.const("nll_pixels", pixels)],
           lambda p: nll(p["nll_none"], pixels, reduction="none"),
           reduction="none")
    m.nodes.append(helper.make_node("LogSoftmax", [m.param("nll_ls", (3, 6))],
                                    ["nll_logp"], axis=1))
    labels = np.array([5, 0, 3], np.int64)
    def log_softmax(x):
        x = x.astype(np.float64)
        shifted = x - x.max(1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    m.case("NegativeLogLikelihoodLoss",
           ["nll_logp", m.const("nll_labels", labels)],
           lambda p: nll(log_softmax(p["nll_ls"]), labels, reduction="sum"),
           reduction="sum")


def hard_activation_cases(m):
    """HardSigmoid (ONNX's alpha/beta and PyTorch's 1/6, 1/2) and HardSwish
    on inputs away from their kinks (where finite differences straddle)."""
    def away_from(name, kinks):
        v = m.params[name]
        for k in kinks:
            v = np.where(np.abs(v - k) < 0.2, k + 0.5, v)
        m.params[name] = v.astype(np.float32)
        m.inits[-1] = numpy_helper.from_array(m.params[name], name)
        return name
    hs = away_from(m.param("hardsigmoid", (3, 5), -4, 4), [-2.5, 2.5])
    m.case("HardSigmoid", [hs],
           lambda p: np.clip(0.2 * p["hardsigmoid"] + 0.5, 0, 1))
    hs6 = away_from(m.param("hardsigmoid6", (3, 5), -5, 5), [-3, 3])
    m.case("HardSigmoid", [hs6],
           lambda p: np.clip(p["hardsigmoid6"] / 6 + 0.5, 0, 1),
           alpha=1.0 / 6, beta=0.5)
    hw = away_from(m.param("hardswish", (3, 5), -5, 5), [-3, 3])
    m.case("HardSwish", [hw],
           lambda p: p["hardswish"] * np.clip(p["hardswish"] / 6 + 0.5, 0, 1))


def opset20_cases(m):
    """Ops newer than opset 17 (ONNX's checker at 17 rejects them)."""
    m.case("Gelu", [m.param("gelu", (2, 3), -2, 2)],
           lambda p: 0.5 * p["gelu"] * (1 + np.vectorize(math.erf)(
               p["gelu"] / math.sqrt(2))))
    def gelu_tanh(v):
        return 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                      (v + 0.044715 * v ** 3)))
    m.case("Gelu", [m.param("gelu_tanh", (2, 3), -2, 2)],
           lambda p: gelu_tanh(p["gelu_tanh"]), approximate="tanh")


def build(model, add_cases, opset):
    m = model
    add_cases(m)
    # loss = sum_i sum(out_i * R_i)
    partial = []
    weights = {}
    for i, (out, fn) in enumerate(m.terms):
        shape = np.shape(fn({k: v.astype(np.float64)
                             for k, v in m.params.items()}))
        r = rng.uniform(-1, 1, shape).astype(np.float32)
        weights[out] = r
        m.weights = weights
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
        graph, opset_imports=[helper.make_opsetid("", opset)],
        producer_name=getattr(m, "producer", ""))
    onnx_model.ir_version = 8 if opset <= 17 else 9
    if opset <= 17:
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
    parser.add_argument("--precision", default="fp32",
                        choices=sorted(TOLERANCE),
                        help="compile the rules in this precision and bound "
                        "the error by its rounding (see TOLERANCE)")
    args = parser.parse_args()
    failures = total = 0
    for add_cases, opset in ((opset17_cases, 17), (conv_cases, 17),
                             (random_conv_cases, 17),
                             (random_strided_cases, 17),
                             (batchnorm_cases, 17),
                             (batchnorm_training_cases, 17),
                             (batchnorm_pytorch_cases, 17),
                             (gather_cases, 17),
                             (nll_cases, 17),
                             (avgpool_cases, 17),
                             (one_dim_cases, 17),
                             (auto_pad_cases, 17),
                             (resize_cases, 17),
                             (maxpool_cases, 17),
                             (maxpool_tie_cases, 17),
                             (pool3d_cases, 17),
                             (hard_activation_cases, 17),
                             (onnx_coverage_cases, 17),
                             (opset20_cases, 20)):
        model = Model()
        onnx_model, loss = build(model, add_cases, opset)
        failures += check(args.mpc_opt, model, onnx_model, loss,
                          args.precision)
        total += len(model.params)
    print("gradient check: %d parameters, %d failures" % (total, failures))
    return 1 if failures else 0


def weights_of(model):
    """The random weight R_i of each output in the loss."""
    return {out: w.astype(np.float64) for out, w in model.weights.items()}


# The largest error relative to the gradient's magnitude, per precision.
# fp32: finite differences' own error. bf16 and fp16: the ops the policy
# runs low (contractions, most elementwise ops) round their operands and
# results (8 and 11 significant bits) in the forward and backward pass,
# fp32 accumulation and fp32 master weights; a few such roundings chained
# stay well below these bounds, a wrong term in a rule does not.
TOLERANCE = {"fp32": 2e-4, "bf16": 2.0 ** -6, "fp16": 2.0 ** -9}


def check(mpc_opt, model, onnx_model, loss, precision="fp32"):
    """Trains one SGD step and compares each parameter's move with its
    finite-difference gradient; returns the number of failures."""
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "grad.onnx")
        onnx.save(onnx_model, path)
        exe = os.path.join(work, "train")
        # No loss scaling: one step must not be skipped for an overflow of
        # the initial scale (a scale only multiplies and divides by 2^k).
        subprocess.run([mpc_opt, path, "--mode=train", "--loss=model",
                        "--optimizer=sgd", "--precision=" + precision,
                        "--loss-scaling=none", "-o", exe],
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
            # Where the op is not differentiable (ties of a max) the
            # expected gradient is the rule's, given exactly.
            want = (model.exact[name](model.params, weights_of(model))
                    if name in model.exact else
                    finite_difference(loss, model.params, name))
            scale = max(1.0, float(np.abs(want).max()))
            err = float(np.abs(got - want).max()) / scale
            ok = err < max(model.tolerance.get(name, 0.0),
                           TOLERANCE[precision])
            failures += not ok
            print("%-12s %-10s max rel err %.2e %s" % (
                name, "x".join(map(str, before.shape)), err,
                "ok" if ok else "FAIL"))
        for slot, expected in model.state_updates.items():
            got = np.load(os.path.join(directory, files[slot]))
            want = expected(model.params)
            err = float(np.abs(got - want).max()) / max(
                1.0, float(np.abs(want).max()))
            ok = err < (2e-6 if precision == "fp32" else TOLERANCE[precision])
            failures += not ok
            print("%-12s %-10s max rel err %.2e %s" % (
                slot, "x".join(map(str, got.shape)), err,
                "ok" if ok else "FAIL"))
        return failures


if __name__ == "__main__":
    sys.exit(main())

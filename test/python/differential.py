#!/usr/bin/env python3
"""Differential testing of mpc's compiled numerics against numpy (float64).

    differential.py --mpc-opt MPC_OPT [--seed N] [--cases N]
                    [--precisions fp32,bf16,fp16] [--ops matmul,conv,...]
                    [--cpu native|x86-64-v3|...] [--work DIR]
    differential.py --mpc-opt MPC_OPT --case '<json>'     (one reproducer)

Random cases of MatMul/Gemm (1-d operands too), Conv and ConvTranspose
(1-d to 3-d), pooling (2-d and 3-d), reductions, softmax, layer norm,
Slice, Tile and broadcasting elementwise ops, over shapes chosen to break tiling and
vectorization: batch 1 and more, odd and prime sizes, channel counts that
are and are not multiples of the vector width, strides, pads, dilations,
1x1/1xk/kx1 kernels, sizes above the threshold where loops go parallel.
Each case is compiled (--mode=infer, in each precision) and run as an
executable; its output is compared with numpy in float64 on the same fp32
inputs and on the inputs rounded to the compute precision, the error
normalised by the reference's largest magnitude and bounded per precision
(fp32 1e-5, fp16 2^-9, bf16 2^-7, widened by sqrt(K)/16 for a K-term sum).

Many cases share one ONNX model and one compilation; a batch that does not
compile is retried case by case. Wrong numbers, a compiler or executable
killed by a signal, a hang, and a rejection of a case mpc should support
are failures; each is printed with a one-line reproducer (the case as
JSON, with its data seed). Exit status 1 if any case failed.

The seeded, bounded run is in the test suite (test/python/differential.test);
scripts/differential-nightly.sh runs many more cases.
"""
import argparse
import itertools
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

TOLERANCE = {"fp32": 1e-5, "fp16": 2.0 ** -9, "bf16": 2.0 ** -7}
TIMEOUT = 600


def round_to(x, precision):
    """x (float64) rounded to `precision` the way a cast rounds (nearest
    even), returned as float64."""
    x32 = np.asarray(x, np.float32)
    if precision == "fp16":
        return x32.astype(np.float16).astype(np.float64)
    if precision == "bf16":
        bits = np.atleast_1d(x32).view(np.uint32).astype(np.uint64)
        rounded = (bits + 0x7FFF + ((bits >> np.uint64(16)) & 1)) & 0xFFFF0000
        return rounded.astype(np.uint32).view(np.float32).astype(
            np.float64).reshape(x32.shape)
    return x32.astype(np.float64)


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------

PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]


def pick_size(rng, small=False):
    """A size that stresses tiling: 1, a prime, an odd size, a multiple of a
    vector width (8, 16, 32) or one off it."""
    choices = [1, rng.choice(PRIMES), int(rng.integers(1, 20)) * 2 + 1,
               int(rng.choice([8, 16, 32])), int(rng.choice([15, 17, 31, 33]))]
    if small:
        choices = [1, int(rng.choice(PRIMES[:6])), int(rng.integers(2, 10)),
                   int(rng.choice([8, 16]))]
    return int(choices[int(rng.integers(len(choices)))])


def pick_channels(rng):
    return int(rng.choice([1, 3, 6, 8, 12, 16, 20, 24, 32, 5, 7, 13]))


def pick_batch(rng):
    return int(rng.choice([1, 1, 2, 3]))


# ---------------------------------------------------------------------------
# Case generators: each returns a JSON-serialisable dict.
# ---------------------------------------------------------------------------


def gen_matmul(rng):
    m, k, n = pick_size(rng), pick_size(rng), pick_size(rng)
    lead = [[], [pick_batch(rng)], [pick_batch(rng), int(rng.integers(1, 4))]]
    a_lead = lead[int(rng.integers(3))]
    # B: a matrix (a weight, as initializer) or batched like A (an input),
    # possibly broadcast over A's leading dims.
    form = int(rng.integers(3))
    b_lead = [] if form == 0 else (a_lead if form == 1 else
                                   [1] * len(a_lead))
    return {"op": "matmul", "a": a_lead + [m, k], "b": b_lead + [k, n],
            "b_initializer": form == 0}


def gen_matmul_large(rng):
    """Contractions above the parallel threshold (8 x 32768 multiply-adds),
    where B is packed and blocks run on threads: sizes on and off the
    register tile (4 x 2 vectors), primes among them."""
    size = lambda: int(rng.choice([64, 96, 127, 128, 131, 160, 193, 256]))
    m, k, n = size(), size(), size()
    lead = [[], [1], [2]][int(rng.integers(3))]
    return {"op": "matmul", "a": lead + [m, k], "b": [k, n],
            "b_initializer": bool(rng.integers(2))}


def gen_matmul_long_k(rng):
    """Weight-gradient shapes: few rows and columns, a long K (every pixel
    of a batch). The CPU tiling computes narrow-N ones transposed and splits
    K into parallel partial sums when there are few output blocks; K 4099
    (prime) has no split. A batch of 1 or 2 in front too."""
    m = int(rng.choice([9, 13, 16, 31, 64]))
    n = int(rng.choice([7, 9, 17, 32, 144]))
    k = int(rng.choice([4096, 4099, 6272, 12544]))
    lead = [[], [1], [2]][int(rng.integers(3))]
    return {"op": "matmul", "a": lead + [m, k], "b": [k, n],
            "b_initializer": bool(rng.integers(2))}


def gen_gemm(rng):
    m, k, n = pick_size(rng), pick_size(rng), pick_size(rng)
    ta, tb = int(rng.integers(2)), int(rng.integers(2))
    c = [[], [n], [m, n], [1, n], [m, 1]][int(rng.integers(5))]
    return {"op": "gemm", "a": [k, m] if ta else [m, k],
            "b": [n, k] if tb else [k, n], "c": c, "transA": ta,
            "transB": tb, "alpha": float(rng.choice([1.0, 0.5, 2.0])),
            "beta": float(rng.choice([1.0, 0.0, 0.25])) if c else 1.0}


def gen_conv(rng):
    n, c, f = pick_batch(rng), pick_channels(rng), pick_channels(rng)
    kh, kw = [(1, 1), (3, 3), (1, 3), (3, 1), (5, 5), (2, 2), (1, 7)][
        int(rng.integers(7))]
    sh, sw = int(rng.choice([1, 1, 2, 3])), int(rng.choice([1, 1, 2]))
    dh, dw = int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
    h = int(rng.integers(max(kh * dh, 2), 30))
    w = int(rng.integers(max(kw * dw, 2), 34))
    pads = [int(rng.integers(0, kh)), int(rng.integers(0, kw)),
            int(rng.integers(0, kh)), int(rng.integers(0, kw))]
    return {"op": "conv", "x": [n, c, h, w], "w": [f, c, kh, kw],
            "strides": [sh, sw], "pads": pads, "dilations": [dh, dw],
            "bias": bool(rng.integers(2))}


def gen_conv_grouped(rng):
    """Grouped and depthwise convolutions (MobileNet's, PaddleOCR's): the
    channels split into G groups, G = C for depthwise."""
    n = pick_batch(rng)
    g = int(rng.choice([2, 3, 4, 8]))
    c = g * int(rng.choice([1, 1, 2, 3]))
    f = g * int(rng.choice([1, 2, 3]))
    kh, kw = [(3, 3), (1, 1), (5, 5), (1, 3), (3, 1)][int(rng.integers(5))]
    s = [int(rng.choice([1, 2])), int(rng.choice([1, 2]))]
    dil = [int(rng.choice([1, 1, 2])), 1]
    h = int(rng.integers(max(kh * dil[0], 2), 24))
    w = int(rng.integers(kw, 26))
    pads = [kh // 2, kw // 2, int(rng.integers(0, kh)), kw // 2]
    return {"op": "conv", "x": [n, c, h, w], "w": [f, c // g, kh, kw],
            "strides": s, "pads": pads, "dilations": dil, "group": g,
            "bias": bool(rng.integers(2))}


def gen_conv_large(rng):
    """Shapes of the size the batch-1 bug needed: im2col above the
    parallel threshold (32768 elements), channels on and off 16."""
    n = pick_batch(rng)
    c = int(rng.choice([6, 8, 16, 20, 24]))
    f = int(rng.choice([8, 10, 12, 16, 24, 40]))
    kh, kw = [(3, 3), (1, 3), (5, 5), (3, 1)][int(rng.integers(4))]
    h, w = int(rng.choice([16, 23, 28])), int(rng.choice([19, 28, 32]))
    s = int(rng.choice([1, 2]))
    p = [kh // 2, kw // 2, kh // 2, kw // 2]
    return {"op": "conv", "x": [n, c, h, w], "w": [f, c, kh, kw],
            "strides": [s, s], "pads": p, "dilations": [1, 1],
            "bias": bool(rng.integers(2))}


def gen_conv_shifted(rng):
    """Stride-1 convolutions with rows wide enough for the CPU's
    shifted-window form (mpc-conv-to-im2col{shifted-windows}): the padded
    row widened to a pitch, extra columns computed and dropped, the image
    read past its last row; 1x1 and dilated kernels, asymmetric pads,
    output widths on and off the vector width."""
    n = pick_batch(rng)
    c, f = pick_channels(rng), pick_channels(rng)
    kh, kw = [(3, 3), (1, 1), (5, 5), (1, 3), (3, 1), (2, 2), (3, 5)][
        int(rng.integers(7))]
    dh, dw = int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
    h = int(rng.integers(max(kh * dh, 2), 20))
    w = int(rng.choice([14, 16, 19, 20, 24, 28, 30, 31, 32, 37, 40]))
    pads = [int(rng.integers(0, kh)), int(rng.integers(0, kw)),
            int(rng.integers(0, kh)), int(rng.integers(0, kw))]
    return {"op": "conv", "x": [n, c, h, w], "w": [f, c, kh, kw],
            "strides": [1, 1], "pads": pads, "dilations": [dh, dw],
            "bias": bool(rng.integers(2))}


def gen_conv_nd(rng):
    """1-d (speech: Silero, openWakeWord) and 3-d convolutions, which run
    as 2-d ones over a unit height or gathered depth windows."""
    rank = int(rng.choice([1, 3]))
    n = pick_batch(rng)
    g = int(rng.choice([1, 1, 2]))
    c, f = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
    limit = 20 if rank == 1 else 7
    kernel = [int(rng.integers(1, 4)) for _ in range(rank)]
    strides = [int(rng.choice([1, 1, 2])) for _ in range(rank)]
    dilations = [int(rng.choice([1, 1, 2])) for _ in range(rank)]
    spatial = [int(rng.integers(k * d, limit + k * d))
               for k, d in zip(kernel, dilations)]
    pads = [int(rng.integers(0, k)) for k in kernel + kernel]
    return {"op": "conv", "x": [n, c] + spatial, "w": [f, c // g] + kernel,
            "strides": strides, "pads": pads, "dilations": dilations,
            "group": g, "bias": bool(rng.integers(2))}


def conv_transpose_case(rng, rank, max_spatial, max_per_group, groups):
    """A random ConvTranspose of `rank` spatial dims: strides, dilations,
    pads (up to half the full output), output_padding, groups, bias."""
    n = pick_batch(rng)
    g = int(rng.choice(groups))
    c = g * int(rng.integers(1, max_per_group + 1))
    m = g * int(rng.integers(1, max_per_group + 1))
    kernel = [int(rng.integers(1, 5 if rank < 3 else 4)) for _ in range(rank)]
    strides = [int(rng.choice([1, 2, 3])) for _ in range(rank)]
    dilations = [int(rng.choice([1, 1, 2])) for _ in range(rank)]
    spatial = [int(rng.integers(1, max_spatial + 1)) for _ in range(rank)]
    output_padding = [int(rng.integers(0, max(s, d)))
                      for s, d in zip(strides, dilations)]
    full = [(i - 1) * s + (k - 1) * d + 1 + o for i, s, k, d, o in
            zip(spatial, strides, kernel, dilations, output_padding)]
    pads = [int(rng.integers(0, max(1, (size - 1) // 2 + 1)))
            for size in full + full]
    return {"op": "convtranspose", "x": [n, c] + spatial,
            "w": [c, m // g] + kernel, "strides": strides, "pads": pads,
            "dilations": dilations, "output_padding": output_padding,
            "group": g, "bias": bool(rng.integers(2))}


def gen_conv_transpose(rng):
    """ConvTranspose, 1-d and 2-d (decomposed into a convolution)."""
    return conv_transpose_case(rng, int(rng.choice([1, 2, 2])), 13, 3,
                               [1, 1, 2, 3])


def gen_pool(rng):
    kind = ["maxpool", "averagepool"][int(rng.integers(2))]
    n, c = pick_batch(rng), pick_channels(rng)
    kh, kw = [(2, 2), (3, 3), (1, 3), (3, 1), (2, 3)][int(rng.integers(5))]
    s = [int(rng.choice([1, 2, 3])), int(rng.choice([1, 2]))]
    h, w = int(rng.integers(kh, 26)), int(rng.integers(kw, 30))
    pads = [int(rng.integers(0, kh)), int(rng.integers(0, kw)),
            int(rng.integers(0, kh)), int(rng.integers(0, kw))]
    case = {"op": kind, "x": [n, c, h, w], "kernel": [kh, kw],
            "strides": s, "pads": pads,
            "ceil_mode": int(rng.integers(2))}
    if kind == "averagepool":
        case["count_include_pad"] = int(rng.integers(2))
    return case


def gen_global_pool(rng):
    return {"op": "globalaveragepool",
            "x": [pick_batch(rng), pick_channels(rng), pick_size(rng, True),
                  pick_size(rng, True)]}


def gen_reduce(rng):
    rank = int(rng.integers(1, 5))
    shape = [pick_size(rng, small=rank > 2) for _ in range(rank)]
    axes = sorted(set(int(a) for a in rng.choice(
        rank, size=int(rng.integers(1, rank + 1)), replace=False)))
    return {"op": ["reducesum", "reducemean", "reducemax"][
        int(rng.integers(3))], "x": shape, "axes": axes,
        "keepdims": int(rng.integers(2))}


def gen_softmax(rng):
    rank = int(rng.integers(1, 4))
    shape = [pick_size(rng, small=rank > 2) for _ in range(rank)]
    return {"op": ["softmax", "logsoftmax"][int(rng.integers(2))],
            "x": shape, "axis": int(rng.integers(-rank, rank))}


def gen_layernorm(rng):
    rank = int(rng.integers(2, 4))
    shape = [pick_size(rng, small=rank > 2) for _ in range(rank)]
    axis = int(rng.integers(1, rank))
    return {"op": "layernorm", "x": shape, "axis": axis,
            "epsilon": float(rng.choice([1e-5, 1e-3]))}


def broadcast_partner(rng, shape):
    """A shape that broadcasts against `shape`: a suffix, with some dims
    set to 1."""
    suffix = shape[int(rng.integers(0, len(shape) + 1)):]
    return [1 if rng.random() < 0.3 else d for d in suffix]


def gen_binary(rng):
    rank = int(rng.integers(1, 5))
    shape = [pick_size(rng, small=rank > 2) for _ in range(rank)]
    other = broadcast_partner(rng, shape)
    if rng.random() < 0.5:
        shape, other = other, shape
    return {"op": str(rng.choice(["Add", "Sub", "Mul", "Div", "Max", "Min",
                                  "Pow"])), "a": shape, "b": other}


def gen_unary(rng):
    rank = int(rng.integers(1, 4))
    return {"op": str(rng.choice(["Relu", "Sigmoid", "Tanh", "Exp", "Erf",
                                  "Sqrt", "Log", "Abs", "Neg", "Softplus",
                                  "Reciprocal"])),
            "x": [pick_size(rng, small=rank > 2) for _ in range(rank)]}


MATH_UNARY = ["Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
              "Asinh", "Acosh", "Atanh", "Ceil", "Floor", "Round", "Sign",
              "Elu", "Selu", "Celu", "Softsign", "ThresholdedRelu", "Shrink"]


def gen_unary_math(rng):
    """Trigonometric, hyperbolic, rounding and the activations ONNX defines
    as functions (imported as compositions)."""
    rank = int(rng.integers(1, 4))
    case = {"op": str(rng.choice(MATH_UNARY)),
            "x": [pick_size(rng, small=rank > 2) for _ in range(rank)]}
    if case["op"] in ("Elu", "Celu", "ThresholdedRelu"):
        case["alpha"] = float(rng.choice([0.5, 1.0, 2.0]))
    if case["op"] == "Shrink":
        case["bias"], case["lambd"] = float(rng.choice([0.0, 0.5])), 0.6
    return case


def gen_reduce_more(rng):
    rank = int(rng.integers(1, 5))
    shape = [pick_size(rng, small=True) for _ in range(rank)]
    axes = sorted(set(int(a) for a in rng.choice(
        rank, size=int(rng.integers(1, rank + 1)), replace=False)))
    return {"op": str(rng.choice(["reducemin", "reduceprod", "reducel1",
                                  "reducel2", "reducesumsquare",
                                  "reducelogsum", "reducelogsumexp"])),
            "x": shape, "axes": axes, "keepdims": int(rng.integers(2))}


def gen_argreduce(rng):
    rank = int(rng.integers(1, 4))
    shape = [pick_size(rng, small=rank > 2) for _ in range(rank)]
    return {"op": str(rng.choice(["argmax", "argmin"])), "x": shape,
            "axis": int(rng.integers(-rank, rank)),
            "keepdims": int(rng.integers(2)),
            "select_last_index": int(rng.integers(2))}


def gen_gather_scatter(rng):
    """GatherElements / ScatterElements: indices (negative ones too) with a
    shape no larger than the data's, repeated indices for the reductions."""
    rank = int(rng.integers(1, 4))
    shape = [pick_size(rng, small=True) for _ in range(rank)]
    axis = int(rng.integers(-rank, rank))
    index_shape = [int(rng.integers(1, d + 1)) for d in shape]
    op = str(rng.choice(["gatherelements", "scatterelements"]))
    case = {"op": op, "x": shape, "indices": index_shape, "axis": axis}
    if op == "scatterelements":
        case["reduction"] = str(rng.choice(["none", "add", "mul", "max",
                                            "min"]))
        if case["reduction"] == "none":
            # Distinct indices along the axis: ONNX leaves repeated
            # positions' order to the implementation.
            case["indices"][axis] = 1
    return case


def gen_index_tricks(rng):
    rank = int(rng.integers(1, 4))
    shape = [pick_size(rng, small=True) for _ in range(rank)]
    op = str(rng.choice(["hardmax", "trilu", "mod", "cumsum"]))
    case = {"op": op, "x": shape}
    if op == "cumsum":
        case["x"] = [pick_size(rng, small=rank > 1) for _ in range(rank)]
        case.update(axis=int(rng.integers(-rank, rank)),
                    exclusive=int(rng.integers(2)), reverse=int(rng.integers(2)))
    if op == "hardmax":
        case["axis"] = int(rng.integers(-rank, rank))
    if op == "trilu":
        case["x"] = [pick_size(rng, small=True) for _ in range(rank)] + \
            [pick_size(rng), pick_size(rng)]
        case["upper"] = int(rng.integers(2))
        case["k"] = int(rng.integers(-3, 4))
    if op == "mod":
        case["b"] = broadcast_partner(rng, shape)
    return case


def gen_layout_norm(rng):
    op = str(rng.choice(["depthtospace", "spacetodepth", "instancenorm"]))
    bs = int(rng.choice([2, 3]))
    n, c = pick_batch(rng), int(rng.choice([1, 2, 3, 5]))
    h, w = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    if op == "depthtospace":
        return {"op": op, "x": [n, c * bs * bs, h, w], "blocksize": bs,
                "mode": str(rng.choice(["DCR", "CRD"]))}
    if op == "spacetodepth":
        return {"op": op, "x": [n, c, h * bs, w * bs], "blocksize": bs}
    spatial = [pick_size(rng, small=True) for _ in range(int(rng.integers(1, 3)))]
    return {"op": op, "x": [n, pick_channels(rng)] + spatial,
            "epsilon": float(rng.choice([1e-5, 1e-3]))}


def gen_recurrent(rng):
    """RNN/GRU/LSTM (unrolled): prime and unit sequence lengths and
    batches, odd hidden sizes, each direction, both layouts, biases,
    initial states, peepholes, GRU's linear_before_reset."""
    op = str(rng.choice(["rnn", "gru", "lstm"]))
    case = {"op": op, "T": int(rng.choice([1, 2, 3, 5, 7])),
            "B": int(rng.choice([1, 2, 3])), "I": int(rng.choice([1, 3, 4, 8])),
            "H": int(rng.choice([1, 3, 5, 8])),
            "direction": str(rng.choice(["forward", "reverse", "bidirectional"])),
            "layout": int(rng.integers(2)), "bias": int(rng.integers(2)),
            "initial": int(rng.integers(2))}
    if op == "lstm":
        case["peephole"] = int(rng.integers(2))
    if op == "gru":
        case["linear_before_reset"] = int(rng.integers(2))
    return case


EINSUM_EQUATIONS = ["bij,bjk->bik", "ij,jk", "i,i", "ij->ji", "ij->i",
                    "bhqd,bhkd->bhqk", "...ij,...jk->...ik", "ijk->",
                    "ij,j->i", "bi,bj->bij", "ijk,ikl->jl"]


def gen_einsum(rng):
    """Einsum: batched and plain contractions, attention's q.k, sums,
    transposes, outer products, an ellipsis; prime and unit sizes."""
    equation = str(rng.choice(EINSUM_EQUATIONS))
    sizes = {c: pick_size(rng, small=True) for c in "abcdefghijklmnopqrstuvwxyz"}
    lead = [pick_batch(rng) for _ in range(int(rng.integers(0, 3)))]
    lhs = equation.split("->")[0].split(",")
    shapes = [lead + [sizes[c] for c in t.replace("...", "")] if "..." in t
              else [sizes[c] for c in t] for t in lhs]
    return {"op": "einsum", "equation": equation, "shapes": shapes}


def gen_conv_transpose_3d(rng):
    """3-d ConvTranspose: a 3-d convolution of the zero-interleaved input,
    itself made 2-d over gathered depth windows."""
    return conv_transpose_case(rng, 3, 5, 2, [1, 1, 2])


def gen_pool_3d(rng):
    """3-d MaxPool/AveragePool (a 2-d pooling per depth plane, then one
    over the depth): strides, pads, ceil_mode, count_include_pad."""
    kind = ["maxpool", "averagepool"][int(rng.integers(2))]
    kernel = [int(rng.integers(1, 4)) for _ in range(3)]
    strides = [int(rng.choice([1, 2, 3])) for _ in range(3)]
    spatial = [int(rng.integers(k, 9)) for k in kernel]
    pads = [int(rng.integers(0, k)) for k in kernel + kernel]
    case = {"op": kind, "x": [pick_batch(rng), int(rng.choice([1, 3, 5, 8]))]
            + spatial, "kernel": kernel, "strides": strides, "pads": pads,
            "ceil_mode": int(rng.integers(2))}
    if kind == "averagepool":
        case["count_include_pad"] = int(rng.integers(2))
    return case


# ONNX's sentinels for "to the end" in either direction.
INT64_MAX, INT64_MIN = (1 << 63) - 1, -(1 << 63)


def gen_slice(rng):
    """Slice with any step (negative and reversing too), bounds past either
    end and ONNX's INT64 sentinels, on some of the axes (given or
    defaulted); the result is never empty."""
    rank = int(rng.integers(1, 5))
    shape = [pick_size(rng, small=True) for _ in range(rank)]
    while True:
        axes = sorted(int(a) for a in rng.choice(
            rank, size=int(rng.integers(1, rank + 1)), replace=False))
        starts, ends, steps = [], [], []
        for a in axes:
            size = shape[a]
            step = int(rng.choice([1, 1, 2, 3, -1, -2]))
            bound = lambda: int(rng.choice(
                [int(rng.integers(-size - 2, size + 3)), INT64_MAX,
                 INT64_MIN, 0, -1]))
            starts.append(bound())
            ends.append(bound())
            steps.append(step)
        index = [slice(None)] * rank
        for a, b, e, st in zip(axes, starts, ends, steps):
            index[a] = slice(b, e, st)
        if np.empty(shape)[tuple(index)].size:
            break
    # Negative axes count from the end.
    if rng.integers(2):
        axes = [a - rank for a in axes]
    return {"op": "slice", "x": shape, "starts": starts, "ends": ends,
            "axes": axes, "steps": steps}


def gen_tile(rng):
    rank = int(rng.integers(1, 4))
    return {"op": "tile", "x": [pick_size(rng, small=True)
                                for _ in range(rank)],
            "repeats": [int(rng.choice([1, 2, 3, 5])) for _ in range(rank)]}


def gen_matmul_vector(rng):
    """MatMul with a 1-d operand (numpy's rule: a row or a column, squeezed
    from the product), on either side or both."""
    k = pick_size(rng)
    form = int(rng.integers(3))
    lead = [[], [pick_batch(rng)], [2, int(rng.integers(1, 4))]][
        int(rng.integers(3))]
    a = [k] if form != 1 else lead + [pick_size(rng), k]
    b = [k] if form != 0 else lead + [k, pick_size(rng)]
    return {"op": "matmul", "a": a, "b": b, "b_initializer": False}


GENERATORS = {
    "matmul": gen_matmul, "matmul_large": gen_matmul_large,
    "matmul_long_k": gen_matmul_long_k, "gemm": gen_gemm, "conv": gen_conv,
    "conv_large": gen_conv_large, "conv_grouped": gen_conv_grouped,
    "conv_shifted": gen_conv_shifted,
    "conv_nd": gen_conv_nd, "conv_transpose": gen_conv_transpose,
    "pool": gen_pool,
    "globalpool": gen_global_pool, "reduce": gen_reduce,
    "softmax": gen_softmax, "layernorm": gen_layernorm,
    "binary": gen_binary, "unary": gen_unary,
    "conv_transpose_3d": gen_conv_transpose_3d, "pool_3d": gen_pool_3d,
    "slice": gen_slice, "tile": gen_tile, "matmul_vector": gen_matmul_vector,
    "unary_math": gen_unary_math, "reduce_more": gen_reduce_more,
    "argreduce": gen_argreduce, "gather_scatter": gen_gather_scatter,
    "index_tricks": gen_index_tricks, "layout_norm": gen_layout_norm,
    "recurrent": gen_recurrent, "einsum": gen_einsum,
}
# How often each family is drawn.
WEIGHTS = {"matmul": 3, "matmul_large": 1, "matmul_long_k": 1, "gemm": 2, "conv": 4, "conv_large": 2,
           "conv_shifted": 2,
           "conv_grouped": 2, "conv_nd": 1, "conv_transpose": 2, "pool": 3,
           "globalpool": 1, "reduce": 2, "softmax": 2, "layernorm": 2,
           "binary": 3, "unary": 1, "conv_transpose_3d": 1, "pool_3d": 1,
           "slice": 1, "tile": 1, "matmul_vector": 1, "unary_math": 2,
           "reduce_more": 2, "argreduce": 1, "gather_scatter": 2,
           "index_tricks": 2, "layout_norm": 2, "recurrent": 2,
           "einsum": 1}


# ---------------------------------------------------------------------------
# Data, graph and reference for a case
# ---------------------------------------------------------------------------


def make_data(case):
    """The case's input arrays (float32), from its own seed."""
    return {k: np.asarray(v, np.float32) if v.dtype.kind == "f" else v
            for k, v in draw_data(case).items()}


def draw_data(case):
    rng = np.random.default_rng(case["seed"])
    op = case["op"]

    def normal(shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    if op == "matmul":
        return {"a": normal(case["a"]), "b": normal(case["b"])}
    if op == "gemm":
        d = {"a": normal(case["a"]), "b": normal(case["b"])}
        if case["c"]:
            d["c"] = normal(case["c"])
        return d
    if op == "conv":
        d = {"x": normal(case["x"]), "w": normal(case["w"])}
        if case["bias"]:
            d["bias"] = normal([case["w"][0]])
        return d
    if op == "convtranspose":
        d = {"x": normal(case["x"]), "w": normal(case["w"])}
        if case["bias"]:
            d["bias"] = normal([case["w"][1] * case["group"]])
        return d
    if op == "instancenorm":
        c = case["x"][1]
        return {"x": normal(case["x"], 3.0) + 1.0, "scale": normal([c]),
                "bias": normal([c])}
    if op == "layernorm":
        norm = case["x"][case["axis"]:]
        return {"x": normal(case["x"], 3.0) + 1.0, "scale": normal(norm),
                "bias": normal(norm)}
    if op in ("Add", "Sub", "Mul", "Max", "Min"):
        return {"a": normal(case["a"]), "b": normal(case["b"])}
    if op == "Div":
        b = normal(case["b"])
        return {"a": normal(case["a"]),
                "b": (np.sign(b) + (b == 0)) * (0.5 + np.abs(b))}
    if op == "Pow":
        return {"a": np.abs(normal(case["a"])) + 0.1,
                "b": normal(case["b"], 0.7)}
    if op in ("Sqrt", "Log"):
        return {"x": np.abs(normal(case["x"])) + 0.05}
    if op == "Reciprocal":
        x = normal(case["x"])
        return {"x": (np.sign(x) + (x == 0)) * (0.5 + np.abs(x))}
    if op in ("softmax", "logsoftmax"):
        return {"x": normal(case["x"], 3.0)}
    if op == "einsum":
        return {"x%d" % i: normal(shape) for i, shape in enumerate(case["shapes"])}
    if op in ("rnn", "gru", "lstm"):
        g = {"rnn": 1, "gru": 3, "lstm": 4}[op]
        nd = 2 if case["direction"] == "bidirectional" else 1
        T, B, I, H = case["T"], case["B"], case["I"], case["H"]
        d = {"x": normal([B, T, I] if case["layout"] else [T, B, I]),
             "w": normal([nd, g * H, I], 0.5), "r": normal([nd, g * H, H], 0.5)}
        if case["bias"]:
            d["b"] = normal([nd, 2 * g * H], 0.3)
        if case["initial"]:
            state = [B, nd, H] if case["layout"] else [nd, B, H]
            d["h0"] = normal(state, 0.5)
            if op == "lstm":
                d["c0"] = normal(state, 0.5)
        if case.get("peephole"):
            d["p"] = normal([nd, 3 * H], 0.3)
        return d
    if op in ("Asin", "Acos", "Atanh"):
        return {"x": rng.uniform(-0.9, 0.9, case["x"]).astype(np.float32)}
    if op == "Acosh":
        return {"x": 1.1 + np.abs(normal(case["x"], 2.0))}
    if op == "Tan":
        return {"x": rng.uniform(-1.2, 1.2, case["x"]).astype(np.float32)}
    if op in ("Ceil", "Floor", "Round", "Sign"):
        return {"x": normal(case["x"], 3.0)}
    if op in ("reducelogsum",):
        return {"x": np.abs(normal(case["x"])) + 0.1}
    if op == "reduceprod":
        # Factors near 1 keep long products in range.
        return {"x": (1.0 + 0.3 * normal(case["x"])).astype(np.float32)}
    if op in ("gatherelements", "scatterelements"):
        size = case["x"][case["axis"]]
        d = {"x": normal(case["x"]),
             "indices": rng.integers(-size, size, case["indices"]).astype(np.int64)}
        if op == "scatterelements":
            if case["reduction"] == "none":
                d["indices"] = rng.integers(-size, size, case["indices"]).astype(np.int64)
            d["updates"] = normal(case["indices"])
            if case["reduction"] == "mul":
                d["updates"] = (1.0 + 0.3 * d["updates"]).astype(np.float32)
        return d
    if op == "mod":
        b = normal(case["b"])
        return {"x": normal(case["x"], 4.0),
                "b": (np.sign(b) + (b == 0)) * (0.5 + np.abs(b))}
    return {"x": normal(case["x"])}


def out_dims(size, kernel, stride, pad_begin, pad_end, dilation, ceil):
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    n = (-(-span // stride) if ceil else span // stride) + 1
    # ONNX (and PyTorch): the last window must start inside the input or
    # the leading padding.
    if ceil and (n - 1) * stride >= size + pad_begin:
        n -= 1
    return n


def ref_conv(x, w, bias, strides, pads, dilations, group=1):
    if group > 1:
        # Each group's channels convolved with its filters, side by side.
        xs = np.split(x, group, axis=1)
        ws = np.split(w, group, axis=0)
        y = np.concatenate([ref_conv(xg, wg, None, strides, pads, dilations)
                            for xg, wg in zip(xs, ws)], axis=1)
        return y if bias is None else y + bias.reshape(1, -1, 1, 1)
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = out_dims(h, kh, strides[0], pads[0], pads[2], dilations[0], False)
    ow = out_dims(wd, kw, strides[1], pads[1], pads[3], dilations[1], False)
    y = np.zeros((n, f, oh, ow))
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilations[0], j * dilations[1]
            patch = xp[:, :, r0:r0 + strides[0] * (oh - 1) + 1:strides[0],
                       c0:c0 + strides[1] * (ow - 1) + 1:strides[1]]
            y += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def pool_nd(x, kernel, strides, pads, dilations, ceil, kind,
            include_pad=False):
    """ONNX MaxPool / AveragePool over any number of spatial dims, window
    by window (the box itself, not per-axis passes), in fp64. Returns the
    output and, for max, each output's first maximum in row-major window
    order (PyTorch's routing of the gradient)."""
    spatial = x.shape[2:]
    nd = len(spatial)
    outs = []
    for d, size in enumerate(spatial):
        span = size + pads[d] + pads[d + nd] - dilations[d] * (kernel[d] - 1) - 1
        o = (-(-span // strides[d]) if ceil else span // strides[d]) + 1
        if ceil and (o - 1) * strides[d] >= size + pads[d]:
            o -= 1
        outs.append(o)
    y = np.zeros(x.shape[:2] + tuple(outs))
    first = {}
    for o in itertools.product(*map(range, outs)):
        axes = [[o[d] * strides[d] - pads[d] + k * dilations[d]
                 for k in range(kernel[d])] for d in range(nd)]
        inside = [[i for i in a if 0 <= i < spatial[d]]
                  for d, a in enumerate(axes)]
        cells = list(itertools.product(*inside))
        values = np.stack([x[(slice(None), slice(None)) + c] for c in cells],
                          -1)
        if kind == "max":
            y[(slice(None), slice(None)) + o] = values.max(-1)
            first[o] = [cells[i] for i in values.reshape(-1, len(cells))
                        .argmax(-1)]
        else:
            counted = [[i for i in a if -pads[d] <= i < spatial[d] + pads[d + nd]]
                       for d, a in enumerate(axes)] if include_pad else inside
            y[(slice(None), slice(None)) + o] = values.sum(-1) / np.prod(
                [len(a) for a in counted])
    return y, first


def ref_pool(case, x):
    rank = len(case["kernel"])
    return pool_nd(x, case["kernel"], case["strides"], case["pads"],
                   [1] * rank, case["ceil_mode"],
                   "max" if case["op"] == "maxpool" else "average",
                   case.get("count_include_pad", 0))[0]


UNARY = {
    "Relu": lambda x: np.maximum(x, 0), "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "Tanh": np.tanh, "Exp": np.exp,
    "Erf": np.vectorize(math.erf), "Sqrt": np.sqrt, "Log": np.log,
    "Abs": np.abs, "Neg": np.negative,
    "Softplus": lambda x: np.log1p(np.exp(x)), "Reciprocal": lambda x: 1 / x,
    "Sin": np.sin, "Cos": np.cos, "Tan": np.tan, "Asin": np.arcsin,
    "Acos": np.arccos, "Atan": np.arctan, "Sinh": np.sinh, "Cosh": np.cosh,
    "Asinh": np.arcsinh, "Acosh": np.arccosh, "Atanh": np.arctanh,
    "Ceil": np.ceil, "Floor": np.floor, "Round": np.round, "Sign": np.sign,
    "Softsign": lambda x: x / (1 + np.abs(x)),
}
# Unary ops with attributes: f(x, case).
UNARY_WITH_ATTRIBUTES = {
    "Elu": lambda x, c: np.where(x < 0, c["alpha"] * np.expm1(x), x),
    "Selu": lambda x, c: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "Celu": lambda x, c: np.maximum(x, 0) + np.minimum(
        0, c["alpha"] * np.expm1(x / c["alpha"])),
    "ThresholdedRelu": lambda x, c: np.where(x > c["alpha"], x, 0.0),
    "Shrink": lambda x, c: np.where(x < -c["lambd"], x + c["bias"], np.where(
        x > c["lambd"], x - c["bias"], 0.0)),
}
UNARY_ATTRIBUTES = {"Elu": ("alpha",), "Celu": ("alpha",),
                    "ThresholdedRelu": ("alpha",), "Shrink": ("bias", "lambd")}


def _unary(op):
    if op in UNARY_WITH_ATTRIBUTES:
        return UNARY_WITH_ATTRIBUTES[op]
    return lambda x, case, fn=UNARY[op]: fn(x)


def _logsumexp(x, axes, keepdims):
    m = x.max(axis=axes, keepdims=True)
    y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
    return y if keepdims else np.squeeze(y, axis=axes)


REDUCE_MORE = {
    "reducemin": lambda x, a, k: x.min(axis=a, keepdims=k),
    "reduceprod": lambda x, a, k: x.prod(axis=a, keepdims=k),
    "reducel1": lambda x, a, k: np.abs(x).sum(axis=a, keepdims=k),
    "reducel2": lambda x, a, k: np.sqrt((x * x).sum(axis=a, keepdims=k)),
    "reducesumsquare": lambda x, a, k: (x * x).sum(axis=a, keepdims=k),
    "reducelogsum": lambda x, a, k: np.log(x.sum(axis=a, keepdims=k)),
    "reducelogsumexp": _logsumexp,
}
REDUCE_NODE = {"reducemin": "ReduceMin", "reduceprod": "ReduceProd",
               "reducel1": "ReduceL1", "reducel2": "ReduceL2",
               "reducesumsquare": "ReduceSumSquare",
               "reducelogsum": "ReduceLogSum",
               "reducelogsumexp": "ReduceLogSumExp"}
BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
          "Div": np.divide, "Max": np.maximum, "Min": np.minimum,
          "Pow": np.power}


def ref_recurrent(case, d):
    """ONNX's RNN/GRU/LSTM equations, step by step in float64: Y_h."""
    op, H = case["op"], case["H"]
    sig = lambda v: 1 / (1 + np.exp(-v))
    x = d["x"].transpose(1, 0, 2) if case["layout"] else d["x"]
    T, B = x.shape[0], x.shape[1]
    nd = d["w"].shape[0]
    finals = []
    for k in range(nd):
        reverse = case["direction"] == "reverse" or k == 1
        w, r = d["w"][k], d["r"][k]
        g = w.shape[0] // H
        b = d["b"][k] if "b" in d else np.zeros(2 * g * H)
        wb, rb = b[:g * H], b[g * H:]
        h0 = d.get("h0")
        if h0 is not None:
            h0 = h0.transpose(1, 0, 2) if case["layout"] else h0
        h = h0[k] if h0 is not None else np.zeros((B, H))
        c0 = d.get("c0")
        if c0 is not None:
            c0 = c0.transpose(1, 0, 2) if case["layout"] else c0
        c = c0[k] if c0 is not None else np.zeros((B, H))
        p = d["p"][k] if "p" in d else np.zeros(3 * H)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            xt = x[t] @ w.T + wb
            if op == "rnn":
                h = np.tanh(xt + h @ r.T + rb)
            elif op == "gru":
                hz = h @ r[:2 * H].T + rb[:2 * H]
                z = sig(xt[:, :H] + hz[:, :H])
                rr = sig(xt[:, H:2 * H] + hz[:, H:])
                if case["linear_before_reset"]:
                    hh = rr * (h @ r[2 * H:].T + rb[2 * H:])
                else:
                    hh = (rr * h) @ r[2 * H:].T + rb[2 * H:]
                cand = np.tanh(xt[:, 2 * H:] + hh)
                h = (1 - z) * cand + z * h
            else:
                a = xt + h @ r.T + rb
                i = sig(a[:, :H] + p[:H] * c)
                f = sig(a[:, 2 * H:3 * H] + p[2 * H:] * c)
                cell = np.tanh(a[:, 3 * H:])
                c = f * c + i * cell
                o = sig(a[:, H:2 * H] + p[H:2 * H] * c)
                h = o * np.tanh(c)
        finals.append(h)
    y_h = np.stack(finals)  # [D, B, H]
    return y_h.transpose(1, 0, 2) if case["layout"] else y_h


def ref_conv_nd(x, w, bias, strides, pads, dilations, group=1):
    """Conv of any spatial rank, tap by tap."""
    if group > 1:
        y = np.concatenate([ref_conv_nd(xg, wg, None, strides, pads, dilations)
                            for xg, wg in zip(np.split(x, group, axis=1),
                                              np.split(w, group, axis=0))],
                           axis=1)
    else:
        rank = x.ndim - 2
        kernel = w.shape[2:]
        xp = np.pad(x, ((0, 0), (0, 0)) + tuple(
            (pads[i], pads[i + rank]) for i in range(rank)))
        out = [out_dims(x.shape[i + 2], kernel[i], strides[i], pads[i],
                        pads[i + rank], dilations[i], False)
               for i in range(rank)]
        y = np.zeros((x.shape[0], w.shape[0]) + tuple(out))
        for taps in np.ndindex(*kernel):
            window = tuple(slice(t * d, t * d + s * (o - 1) + 1, s)
                           for t, d, s, o in zip(taps, dilations, strides, out))
            y += np.einsum("nc...,fc->nf...", xp[(slice(None),) * 2 + window],
                           w[(slice(None),) * 2 + taps])
    if bias is not None:
        y = y + bias.reshape((1, -1) + (1,) * (x.ndim - 2))
    return y


def ref_conv_transpose(x, w, bias, strides, pads, dilations, output_padding,
                       group):
    """ConvTranspose of any spatial rank: every input element scatters its
    kernel-weighted copy into the full output, which the pads crop."""
    rank = x.ndim - 2
    n, c = x.shape[:2]
    mg, kernel = w.shape[1], w.shape[2:]
    cg = c // group
    full = [(i - 1) * s + (k - 1) * d + 1 + o for i, s, k, d, o in
            zip(x.shape[2:], strides, kernel, dilations, output_padding)]
    y = np.zeros((n, mg * group) + tuple(full))
    for g in range(group):
        xg = x[:, g * cg:(g + 1) * cg]
        for taps in np.ndindex(*kernel):
            window = tuple(slice(t * d, t * d + s * (i - 1) + 1, s)
                           for t, d, s, i in zip(taps, dilations, strides,
                                                 x.shape[2:]))
            y[(slice(None), slice(g * mg, (g + 1) * mg)) + window] += \
                np.einsum("nc...,cm->nm...", xg,
                          w[(slice(g * cg, (g + 1) * cg), slice(None)) + taps])
    crop = tuple(slice(pads[i], full[i] - pads[i + rank]) for i in range(rank))
    y = y[(slice(None), slice(None)) + crop]
    if bias is not None:
        y = y + bias.reshape((1, -1) + (1,) * rank)
    return y


def reference(case, d):
    """The float64 result of `case` on inputs `d` (float64 arrays), and the
    length of the longest sum in it (for the tolerance)."""
    op = case["op"]
    if op == "matmul":
        return np.matmul(d["a"], d["b"]), case["a"][-1]
    if op == "gemm":
        a = d["a"].T if case["transA"] else d["a"]
        b = d["b"].T if case["transB"] else d["b"]
        y = case["alpha"] * (a @ b)
        if "c" in d:
            y = y + case["beta"] * d["c"]
        return y, a.shape[1]
    if op == "conv":
        conv = ref_conv if len(case["x"]) == 4 else ref_conv_nd
        return (conv(d["x"], d["w"], d.get("bias"), case["strides"],
                     case["pads"], case["dilations"], case.get("group", 1)),
                int(np.prod(case["w"][1:])))
    if op == "convtranspose":
        return (ref_conv_transpose(d["x"], d["w"], d.get("bias"),
                                   case["strides"], case["pads"],
                                   case["dilations"], case["output_padding"],
                                   case["group"]),
                int(np.prod(case["w"][2:])) * case["x"][1] // case["group"])
    if op in ("maxpool", "averagepool"):
        return ref_pool(case, d["x"]), int(np.prod(case["kernel"]))
    if op == "globalaveragepool":
        return (d["x"].mean(axis=(2, 3), keepdims=True),
                case["x"][2] * case["x"][3])
    if op in ("rnn", "gru", "lstm"):
        return ref_recurrent(case, d), case["I"] + case["H"]
    if op == "einsum":
        operands = [d["x%d" % i] for i in range(len(case["shapes"]))]
        return (np.einsum(case["equation"], *operands),
                max(int(np.prod(s)) for s in case["shapes"]))
    if op in REDUCE_MORE:
        k = int(np.prod([case["x"][a] for a in case["axes"]]))
        return REDUCE_MORE[op](d["x"], tuple(case["axes"]),
                               bool(case["keepdims"])), k
    if op.startswith("reduce"):
        fn = {"reducesum": np.sum, "reducemean": np.mean,
              "reducemax": np.max}[op]
        k = int(np.prod([case["x"][a] for a in case["axes"]]))
        return fn(d["x"], axis=tuple(case["axes"]),
                  keepdims=bool(case["keepdims"])), k
    if op in ("softmax", "logsoftmax"):
        x = d["x"]
        shifted = x - x.max(axis=case["axis"], keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=case["axis"], keepdims=True))
        y = shifted - log_sum
        return (y if op == "logsoftmax" else np.exp(y)), case["x"][case["axis"]]
    if op == "layernorm":
        axes = tuple(range(case["axis"], len(case["x"])))
        x = d["x"]
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + case["epsilon"])
        return y * d["scale"] + d["bias"], int(np.prod(case["x"][case["axis"]:]))
    if op == "slice":
        rank = len(case["x"])
        index = [slice(None)] * rank
        for a, b, e, st in zip(case["axes"], case["starts"], case["ends"],
                               case["steps"]):
            index[a % rank] = slice(b, e, st)
        return d["x"][tuple(index)], 1
    if op == "tile":
        return np.tile(d["x"], case["repeats"]), 1
    if op in BINARY:
        return BINARY[op](d["a"], d["b"]), 1
    if op in ("argmax", "argmin"):
        x = d["x"]
        axis = case["axis"] % x.ndim
        pick = np.argmax if op == "argmax" else np.argmin
        if case["select_last_index"]:
            flipped = np.flip(x, axis)
            y = x.shape[axis] - 1 - pick(flipped, axis=axis)
        else:
            y = pick(x, axis=axis)
        if case["keepdims"]:
            y = np.expand_dims(y, axis)
        return y.astype(np.float64), 1
    if op == "gatherelements":
        axis = case["axis"] % len(case["x"])
        idx = d["indices"].astype(np.int64)
        idx = np.where(idx < 0, idx + case["x"][axis], idx)
        grid = list(np.indices(idx.shape))
        grid[axis] = idx
        return d["x"][tuple(grid)], 1
    if op == "scatterelements":
        axis = case["axis"] % len(case["x"])
        y = d["x"].copy()
        idx = d["indices"].astype(np.int64)
        for pos in np.ndindex(*idx.shape):
            at = list(pos)
            i = int(idx[pos])
            at[axis] = i + case["x"][axis] if i < 0 else i
            at = tuple(at)
            u = d["updates"][pos]
            y[at] = {"none": lambda o: u, "add": lambda o: o + u,
                     "mul": lambda o: o * u, "max": lambda o: max(o, u),
                     "min": lambda o: min(o, u)}[case["reduction"]](y[at])
        return y, 1
    if op == "hardmax":
        x = d["x"]
        axis = case["axis"] % x.ndim
        hot = np.expand_dims(np.argmax(x, axis=axis), axis)
        return (np.arange(x.shape[axis]).reshape(
            [-1 if i == axis else 1 for i in range(x.ndim)]) == hot).astype(
                np.float64), 1
    if op == "trilu":
        fn = np.triu if case["upper"] else np.tril
        return fn(d["x"], case["k"]), 1
    if op == "mod":
        return np.fmod(d["x"], d["b"]), 1
    if op == "cumsum":
        x = d["x"]
        axis = case["axis"] % x.ndim
        if case["reverse"]:
            x = np.flip(x, axis)
        y = np.cumsum(x, axis=axis)
        if case["exclusive"]:
            y = y - x
        if case["reverse"]:
            y = np.flip(y, axis)
        return y, case["x"][axis]
    if op == "depthtospace":
        n, c, h, w = d["x"].shape
        b = case["blocksize"]
        if case["mode"] == "DCR":
            t = d["x"].reshape(n, b, b, c // (b * b), h, w).transpose(
                0, 3, 4, 1, 5, 2)
        else:
            t = d["x"].reshape(n, c // (b * b), b, b, h, w).transpose(
                0, 1, 4, 2, 5, 3)
        return t.reshape(n, c // (b * b), h * b, w * b), 1
    if op == "spacetodepth":
        n, c, h, w = d["x"].shape
        b = case["blocksize"]
        t = d["x"].reshape(n, c, h // b, b, w // b, b).transpose(
            0, 3, 5, 1, 2, 4)
        return t.reshape(n, c * b * b, h // b, w // b), 1
    if op == "instancenorm":
        x = d["x"]
        axes = tuple(range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        shape = [1, -1] + [1] * (x.ndim - 2)
        y = (x - mean) / np.sqrt(var + case["epsilon"])
        return (y * d["scale"].reshape(shape) + d["bias"].reshape(shape),
                int(np.prod(case["x"][2:])))
    return _unary(op)(d["x"], case), 1


# Inputs that are initializers (weights) rather than graph inputs.
INITIALIZERS = {"rnn": ("w", "r", "b"), "gru": ("w", "r", "b"),
                "lstm": ("w", "r", "b", "p"), "conv": ("w", "bias"), "convtranspose": ("w", "bias"), "layernorm": ("scale", "bias"),
                "instancenorm": ("scale", "bias"),
                "gemm": ("b", "c")}


def graph_parts(case, prefix, data):
    """ONNX nodes, graph inputs and initializers for `case`, its tensors
    and node named with `prefix`; the output is PREFIX + 'y'."""
    op = case["op"]
    names = {k: prefix + k for k in data}
    y = prefix + "y"
    attrs = {}
    if op == "matmul":
        node_op, order = "MatMul", ["a", "b"]
    elif op == "gemm":
        node_op, order = "Gemm", ["a", "b"] + (["c"] if "c" in data else [])
        attrs = {"transA": case["transA"], "transB": case["transB"],
                 "alpha": case["alpha"], "beta": case["beta"]}
    elif op == "conv":
        node_op, order = "Conv", ["x", "w"] + (["bias"] if case["bias"] else [])
        attrs = {"kernel_shape": case["w"][2:], "strides": case["strides"],
                 "pads": case["pads"], "dilations": case["dilations"],
                 "group": case.get("group", 1)}
    elif op == "convtranspose":
        node_op = "ConvTranspose"
        order = ["x", "w"] + (["bias"] if case["bias"] else [])
        attrs = {"kernel_shape": case["w"][2:], "strides": case["strides"],
                 "pads": case["pads"], "dilations": case["dilations"],
                 "output_padding": case["output_padding"],
                 "group": case["group"]}
    elif op in ("maxpool", "averagepool"):
        node_op = "MaxPool" if op == "maxpool" else "AveragePool"
        order = ["x"]
        attrs = {"kernel_shape": case["kernel"], "strides": case["strides"],
                 "pads": case["pads"], "ceil_mode": case["ceil_mode"]}
        if op == "averagepool":
            attrs["count_include_pad"] = case["count_include_pad"]
    elif op == "globalaveragepool":
        node_op, order = "GlobalAveragePool", ["x"]
    elif op == "einsum":
        node_op = "Einsum"
        order = ["x%d" % i for i in range(len(case["shapes"]))]
        attrs = {"equation": case["equation"]}
    elif op in ("rnn", "gru", "lstm"):
        node_op = op.upper()
        names["none"] = ""
        order = ["x", "w", "r", "b" if "b" in data else "none", "none",
                 "h0" if "h0" in data else "none"]
        if op == "lstm":
            order += ["c0" if "c0" in data else "none",
                      "p" if "p" in data else "none"]
        while order[-1] == "none":
            order.pop()
        attrs = {"hidden_size": case["H"], "direction": case["direction"],
                 "layout": case["layout"]}
        if op == "gru":
            attrs["linear_before_reset"] = case["linear_before_reset"]
    elif op in REDUCE_NODE:
        node_op, order = REDUCE_NODE[op], ["x"]
        attrs = {"keepdims": case["keepdims"], "axes": case["axes"]}
    elif op in ("argmax", "argmin"):
        node_op, order = {"argmax": "ArgMax", "argmin": "ArgMin"}[op], ["x"]
        attrs = {k: case[k] for k in ("axis", "keepdims", "select_last_index")}
    elif op == "gatherelements":
        node_op, order = "GatherElements", ["x", "indices"]
        attrs = {"axis": case["axis"]}
    elif op == "scatterelements":
        node_op, order = "ScatterElements", ["x", "indices", "updates"]
        attrs = {"axis": case["axis"], "reduction": case["reduction"]}
    elif op == "hardmax":
        node_op, order, attrs = "Hardmax", ["x"], {"axis": case["axis"]}
    elif op == "trilu":
        node_op, order = "Trilu", ["x", "k"]
        attrs = {"upper": case["upper"]}
        data = dict(data, k=np.array(case["k"], np.int64))
        names["k"] = prefix + "k"
    elif op == "mod":
        node_op, order, attrs = "Mod", ["x", "b"], {"fmod": 1}
    elif op == "cumsum":
        node_op, order = "CumSum", ["x", "axis"]
        attrs = {"exclusive": case["exclusive"], "reverse": case["reverse"]}
        data = dict(data, axis=np.array(case["axis"], np.int64))
        names["axis"] = prefix + "axis"
    elif op in ("depthtospace", "spacetodepth"):
        node_op = "DepthToSpace" if op == "depthtospace" else "SpaceToDepth"
        order, attrs = ["x"], {"blocksize": case["blocksize"]}
        if op == "depthtospace":
            attrs["mode"] = case["mode"]
    elif op == "instancenorm":
        node_op, order = "InstanceNormalization", ["x", "scale", "bias"]
        attrs = {"epsilon": case["epsilon"]}
    elif op in UNARY_ATTRIBUTES:
        node_op, order = op, ["x"]
        attrs = {k: case[k] for k in UNARY_ATTRIBUTES[op]}
    elif op.startswith("reduce"):
        node_op = {"reducesum": "ReduceSum", "reducemean": "ReduceMean",
                   "reducemax": "ReduceMax"}[op]
        order = ["x"]
        attrs = {"keepdims": case["keepdims"]}
        if op == "reducesum":  # opset 13+: axes are an input
            data = dict(data, axes=np.array(case["axes"], np.int64))
            names["axes"] = prefix + "axes"
            order = ["x", "axes"]
        else:
            attrs["axes"] = case["axes"]
    elif op in ("softmax", "logsoftmax"):
        node_op = "Softmax" if op == "softmax" else "LogSoftmax"
        order, attrs = ["x"], {"axis": case["axis"]}
    elif op == "layernorm":
        node_op, order = "LayerNormalization", ["x", "scale", "bias"]
        attrs = {"axis": case["axis"], "epsilon": case["epsilon"]}
    elif op == "slice":
        node_op, order = "Slice", ["x", "starts", "ends", "axes", "steps"]
        for key in ("starts", "ends", "axes", "steps"):
            data = dict(data, **{key: np.array(case[key], np.int64)})
            names[key] = prefix + key
    elif op == "tile":
        node_op, order = "Tile", ["x", "repeats"]
        data = dict(data, repeats=np.array(case["repeats"], np.int64))
        names["repeats"] = prefix + "repeats"
    elif op in BINARY:
        node_op, order = op, ["a", "b"]
    else:
        node_op, order = op, ["x"]
    initializer_keys = set(INITIALIZERS.get(op, ()))
    if op == "matmul" and case.get("b_initializer"):
        initializer_keys.add("b")
    initializer_keys.update(("axes", "starts", "ends", "steps", "repeats", "k"))
    if op == "cumsum":
        initializer_keys.add("axis")
    outputs = ["", y] if op in ("rnn", "gru", "lstm") else [y]
    node = helper.make_node(node_op, [names[k] for k in order], outputs,
                            name=prefix + node_op, **attrs)
    inputs, initializers, feeds = [], [], {}
    for k in order:
        if k == "none":
            continue
        if k in initializer_keys:
            initializers.append(numpy_helper.from_array(data[k], names[k]))
        else:
            inputs.append(helper.make_tensor_value_info(
                names[k], TensorProto.FLOAT if data[k].dtype.kind == "f"
                else TensorProto.INT64, list(data[k].shape)))
            feeds[names[k]] = data[k]
    return [node], inputs, initializers, feeds, y


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------


def reproducer(args, case):
    return "python3 test/python/differential.py --mpc-opt %s --case %s" % (
        shlex.quote(args.mpc_opt), shlex.quote(json.dumps(case, sort_keys=True)))


def run_tool(command):
    """(returncode, combined output); returncode None on a hang."""
    try:
        p = subprocess.run(command, capture_output=True, text=True,
                           timeout=TIMEOUT)
        return p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT


def compile_and_run(args, cases, work, tag):
    """Compiles `cases` (same precision and cpu) as one model and runs it.
    Returns ('ok', {index: output array}) or (kind, message) where kind is
    'rejected' (mpc-opt's clean error), 'error' (the executable's), 'crash'
    (a signal) or 'hang'."""
    precision, cpu = cases[0]["precision"], cases[0]["cpu"]
    nodes, inputs, initializers, outputs, feeds = [], [], [], [], {}
    for i, case in enumerate(cases):
        n, ins, inits, f, y = graph_parts(case, "c%d_" % i, make_data(case))
        nodes += n
        inputs += ins
        initializers += inits
        feeds.update(f)
        outputs.append(helper.make_tensor_value_info(
            y, TensorProto.INT64 if case["op"] in ("argmax", "argmin")
            else TensorProto.FLOAT, None))
    graph = helper.make_graph(nodes, "differential", inputs, outputs,
                              initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model = onnx.shape_inference.infer_shapes(model)
    d = os.path.join(work, tag)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    exe = os.path.join(d, "run")
    code, out = run_tool([args.mpc_opt, path, "--mode=infer",
                          "--precision=" + precision, "--cpu=" + cpu,
                          "-o", exe])
    if code is None:
        return "hang", "mpc-opt " + out
    if code != 0:
        kind = "rejected" if code == 1 and "error" in out else "crash"
        return kind, "mpc-opt exit %d: %s" % (code, out.strip()[-600:])
    command = [exe, "--output-dir", os.path.join(d, "out")]
    for name, array in feeds.items():
        np.save(os.path.join(d, name + ".npy"), array)
        command += ["--input", "%s=%s" % (name, os.path.join(d, name + ".npy"))]
    os.makedirs(os.path.join(d, "out"), exist_ok=True)
    code, out = run_tool(command)
    if code is None:
        return "hang", "executable " + out
    if code != 0:
        kind = "error" if code == 1 and "error" in out else "crash"
        return kind, "executable exit %d: %s" % (code, out.strip()[-600:])
    return "ok", {i: np.load(os.path.join(d, "out", "c%d_y.npy" % i))
                  for i in range(len(cases))}


def check_output(case, got):
    """None if `got` is right for `case`, else why not."""
    data = {k: v.astype(np.float64) if v.dtype.kind == "f" else v
            for k, v in make_data(case).items()}
    expected, k = reference(case, data)
    expected = np.asarray(expected, np.float64)
    if got.shape != expected.shape:
        return "shape %s, expected %s" % (list(got.shape), list(expected.shape))
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return "non-finite values in the output"
    scale = max(np.abs(expected).max(initial=0.0), 1e-30)
    errors = [np.abs(got - expected).max(initial=0.0) / scale]
    precision = case["precision"]
    if precision != "fp32":
        # What a cast of the inputs to the compute type rounds away.
        rounded = {key: round_to(v, precision) if v.dtype.kind == "f" else v
                   for key, v in data.items()}
        alt = np.asarray(reference(case, rounded)[0], np.float64)
        errors.append(np.abs(got - alt).max(initial=0.0) / scale)
    bound = TOLERANCE[precision] * (1 + math.sqrt(k) / 16)
    if "T" in case:
        # A recurrence rounds its hidden state to the compute type every
        # step and feeds it to the next: errors compound over the T steps.
        bound *= math.sqrt(case["T"])
    error = min(errors)
    if error <= bound:
        return None
    return "error %.3g > bound %.3g (normalised by max |ref| %.3g)" % (
        error, bound, scale)


def run_cases(args, cases, work):
    """Runs every case; returns a list of (case, failure) pairs."""
    failures = []
    groups = {}
    for case in cases:
        groups.setdefault((case["precision"], case["cpu"]), []).append(case)
    batch_id = 0
    for group in groups.values():
        for start in range(0, len(group), args.batch):
            batch = group[start:start + args.batch]
            batch_id += 1
            kind, result = compile_and_run(args, batch, work,
                                           "batch%d" % batch_id)
            if kind != "ok" and len(batch) > 1:
                # Find which cases fail alone.
                results = {}
                for i, case in enumerate(batch):
                    k, r = compile_and_run(args, [case], work,
                                           "batch%d_%d" % (batch_id, i))
                    results[i] = (k, r[0] if k == "ok" else r)
            elif kind != "ok":
                results = {0: (kind, result)}
            else:
                results = {i: ("ok", result[i]) for i in range(len(batch))}
            for i, case in enumerate(batch):
                k, r = results[i]
                if k == "ok":
                    why = check_output(case, r)
                    if why:
                        failures.append((case, "wrong numbers: " + why))
                elif k == "rejected" and case.get("may_reject"):
                    continue
                else:
                    failures.append((case, "%s: %s" % (k, r)))
    return failures


def generate(args):
    rng = np.random.default_rng(args.seed)
    families = [f for f in GENERATORS if not args.ops or f in args.ops]
    weights = np.array([WEIGHTS[f] for f in families], np.float64)
    cases = []
    for i in range(args.cases):
        family = families[int(rng.choice(len(families), p=weights / weights.sum()))]
        case = GENERATORS[family](rng)
        case["seed"] = int(rng.integers(1 << 31))
        case["precision"] = args.precisions[i % len(args.precisions)]
        case["cpu"] = args.cpu
        cases.append(case)
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mpc-opt", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--precisions", default="fp32,bf16,fp16")
    parser.add_argument("--ops", default="",
                        help="families to draw from: " + ",".join(GENERATORS))
    parser.add_argument("--cpu", default="native")
    parser.add_argument("--batch", type=int, default=24,
                        help="cases compiled together in one model")
    parser.add_argument("--work", default="")
    parser.add_argument("--case", default="",
                        help="run one case given as JSON (a reproducer)")
    args = parser.parse_args()
    args.precisions = args.precisions.split(",")
    args.ops = [o for o in args.ops.split(",") if o]
    unknown = [o for o in args.ops if o not in GENERATORS]
    if unknown:
        parser.error("unknown op families: " + ", ".join(unknown))

    cases = [json.loads(args.case)] if args.case else generate(args)
    work = args.work or tempfile.mkdtemp(prefix="mpc-differential-")
    os.makedirs(work, exist_ok=True)
    failures = run_cases(args, cases, work)
    for case, why in failures:
        print("FAIL %s %s: %s\n  reproduce: %s" % (
            case["op"], case["precision"], why, reproducer(args, case)))
    families = {}
    for case in cases:
        families[case["op"]] = families.get(case["op"], 0) + 1
    print("cases by op: " + ", ".join("%s %d" % kv for kv in sorted(families.items())))
    print("%d passed, %d failed" % (len(cases) - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

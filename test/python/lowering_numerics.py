#!/usr/bin/env python3
"""Executes mpc ops lowered by --mpc-cpu-pipeline and checks them against
numpy.

    lowering_numerics.py MPC_OPT MLIR_RUNNER RUNNER_LIB_DIR

Each case is an mpc function on random inputs (fixed seed). It is wrapped
in a `main` that prints the result, lowered with `mpc-opt
--mpc-cpu-pipeline`, run with mlir-runner, and compared with a numpy
reference computed in float64; bf16 ops are compared with the reference
rounded the way bf16 storage rounds (to nearest even), so a wrong rounding
mode or accumulation in bf16 fails.
"""
import math
import re
import subprocess
import sys
import tempfile

import numpy as np

RNG = np.random.default_rng(2026)


def bf16(x):
    """Rounds float32 values to bf16 (nearest even), returned as float32."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def tensor_type(shape, element="f32"):
    return "tensor<%sx%s>" % ("x".join(map(str, shape)), element) if shape \
        else "tensor<%s>" % element


def dense(array):
    return "dense<%s>" % np.array2string(
        np.asarray(array, np.float32), separator=", ", threshold=1 << 30,
        floatmode="unique").replace("\n", "")


def case_add_broadcast():
    x, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4,))
    body = """%0 = mpc.add %a0, %a1 : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>"""
    return [x, b], body, (3, 4), x.astype(np.float32) + b.astype(np.float32), 1e-6


def case_gelu_sigmoid_softplus():
    x = RNG.standard_normal((2, 5)) * 3
    body = """%g = mpc.gelu %a0 : tensor<2x5xf32> -> tensor<2x5xf32>
    %s = mpc.sigmoid %g : tensor<2x5xf32> -> tensor<2x5xf32>
    %0 = mpc.softplus %s : tensor<2x5xf32> -> tensor<2x5xf32>"""
    x32 = x.astype(np.float32).astype(np.float64)
    g = 0.5 * x32 * (1 + np.vectorize(math.erf)(x32 / math.sqrt(2)))
    s = 1 / (1 + np.exp(-g))
    return [x], body, (2, 5), np.log1p(np.exp(s)), 1e-5


def case_matmul_f32():
    a, b = RNG.standard_normal((2, 3, 8)), RNG.standard_normal((8, 5))
    body = """%0 = mpc.matmul %a0, %a1 : (tensor<2x3x8xf32>, tensor<8x5xf32>) -> tensor<2x3x5xf32>"""
    ref = a.astype(np.float32).astype(np.float64) @ b.astype(np.float32)
    return [a, b], body, (2, 3, 5), ref, 1e-5


def case_matmul_bf16():
    # bf16 inputs, fp32 accumulation, one rounding of the result.
    a, b = RNG.standard_normal((4, 16)), RNG.standard_normal((16, 3))
    body = """%ab = mpc.cast %a0 : tensor<4x16xf32> to tensor<4x16xbf16>
    %bb = mpc.cast %a1 : tensor<16x3xf32> to tensor<16x3xbf16>
    %m = mpc.matmul %ab, %bb {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<4x16xbf16>, tensor<16x3xbf16>) -> tensor<4x3xbf16>
    %0 = mpc.cast %m : tensor<4x3xbf16> to tensor<4x3xf32>"""
    acc = bf16(a).astype(np.float64) @ bf16(b).astype(np.float64)
    return [a, b], body, (4, 3), bf16(acc.astype(np.float32)), 0.0


def case_matmul_packed_f32():
    # Divisible shapes: B is packed into N/nr panels, A and C only
    # reshaped, the register tiles are vectorized and the blocks run on
    # OpenMP threads (--mpc-cpu-tile-and-vectorize).
    a, b = RNG.standard_normal((64, 96)), RNG.standard_normal((96, 128))
    body = """%0 = mpc.matmul %a0, %a1 : (tensor<64x96xf32>, tensor<96x128xf32>) -> tensor<64x128xf32>"""
    f = lambda v: v.astype(np.float32).astype(np.float64)
    # Relative to the size of the terms: sums of 96 products cancel.
    scale = np.abs(f(a)) @ np.abs(f(b))
    return [a, b], body, (64, 128), f(a) @ f(b), 1e-5, scale


def case_matmul_uneven_batched_f32():
    # M = 37 (prime) and N = 40 divide no preferred tile: smaller tiles are
    # chosen, never partial ones; both operands carry the batch.
    a, b = RNG.standard_normal((3, 37, 24)), RNG.standard_normal((3, 24, 40))
    body = """%0 = mpc.matmul %a0, %a1 : (tensor<3x37x24xf32>, tensor<3x24x40xf32>) -> tensor<3x37x40xf32>"""
    f = lambda v: v.astype(np.float32).astype(np.float64)
    scale = np.abs(f(a)) @ np.abs(f(b))
    return [a, b], body, (3, 37, 40), f(a) @ f(b), 1e-5, scale


def case_matmul_packed_bf16():
    # The packed, vectorized path in bf16: fp32 accumulation, one rounding.
    a, b = RNG.standard_normal((32, 64)), RNG.standard_normal((64, 64))
    body = """%ab = mpc.cast %a0 : tensor<32x64xf32> to tensor<32x64xbf16>
    %bb = mpc.cast %a1 : tensor<64x64xf32> to tensor<64x64xbf16>
    %m = mpc.matmul %ab, %bb {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<32x64xbf16>, tensor<64x64xbf16>) -> tensor<32x64xbf16>
    %0 = mpc.cast %m : tensor<32x64xbf16> to tensor<32x64xf32>"""
    acc = bf16(a).astype(np.float64) @ bf16(b).astype(np.float64)
    # fp32 accumulation (in a different order than numpy's) can land on the
    # other side of a bf16 rounding boundary: one bf16 ulp.
    return [a, b], body, (32, 64), bf16(acc.astype(np.float32)), 2.0 ** -8


def case_gemm():
    a, b, c = (RNG.standard_normal((3, 4)), RNG.standard_normal((5, 3)),
               RNG.standard_normal((5,)))
    body = """%0 = mpc.gemm %a0, %a1, %a2 {alpha = 0.5 : f32, beta = 2.0 : f32, trans_a, trans_b} : (tensor<3x4xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>"""
    f = lambda v: v.astype(np.float32).astype(np.float64)
    ref = 0.5 * (f(a).T @ f(b).T) + 2.0 * f(c)
    return [a, b, c], body, (4, 5), ref, 1e-5


def case_reductions():
    x = RNG.standard_normal((2, 3, 4))
    body = """%m = mpc.reduce_mean %a0 {axes = array<i64: 1>} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
    %x = mpc.reduce_max %m {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x1x4xf32>) -> tensor<1xf32>
    %0 = mpc.reduce_sum %a0 {axes = array<i64>} : (tensor<2x3x4xf32>) -> tensor<1x1x1xf32>"""
    f = x.astype(np.float32).astype(np.float64)
    return [x], body, (1, 1, 1), f.sum(keepdims=True), 1e-5


def case_bf16_rounding():
    # Ties round to even: 1 + 2^-8 -> 1, 1 + 3 * 2^-8 -> 1 + 2^-6.
    x = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -1.5 - 2 ** -9, 3.0e38])
    body = """%h = mpc.cast %a0 : tensor<4xf32> to tensor<4xbf16>
    %0 = mpc.cast %h : tensor<4xbf16> to tensor<4xf32>"""
    return [x], body, (4,), bf16(x.astype(np.float32)), 0.0


def case_where():
    x, y = RNG.standard_normal((3, 1)), RNG.standard_normal((1, 4))
    body = """%g = mpc.greater %a0, %a1 : (tensor<3x1xf32>, tensor<1x4xf32>) -> tensor<3x4xi1>
    %0 = mpc.where %g, %a0, %a1 : (tensor<3x4xi1>, tensor<3x1xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>"""
    f = lambda v: v.astype(np.float32)
    return [x, y], body, (3, 4), np.where(f(x) > f(y), f(x), f(y)), 0.0


def case_softmax_bf16():
    # bf16 storage, fp32 max/exp/sum, one rounding.
    x = RNG.standard_normal((3, 7)) * 4
    body = """%h = mpc.cast %a0 : tensor<3x7xf32> to tensor<3x7xbf16>
    %s = mpc.softmax %h {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<3x7xbf16>) -> tensor<3x7xbf16>
    %0 = mpc.cast %s : tensor<3x7xbf16> to tensor<3x7xf32>"""
    h = bf16(x.astype(np.float32)).astype(np.float64)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return [x], body, (3, 7), bf16((e / e.sum(axis=1, keepdims=True)).astype(np.float32)), 1e-5


def case_log_softmax():
    x = RNG.standard_normal((2, 3, 5))
    body = """%0 = mpc.log_softmax %a0 {axis = 1 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>"""
    f = x.astype(np.float32).astype(np.float64)
    m = f.max(axis=1, keepdims=True)
    ref = f - m - np.log(np.exp(f - m).sum(axis=1, keepdims=True))
    return [x], body, (2, 3, 5), ref, 1e-5


def case_layer_norm():
    x, g, b = (RNG.standard_normal((2, 3, 8)) * 2 + 1, RNG.standard_normal((8,)),
               RNG.standard_normal((8,)))
    body = """%n:3 = mpc.layer_norm %a0, %a1, %a2 {epsilon = 1.0e-5 : f32} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<2x3x1xf32>)
    %0 = mpc.relu %n#0 : tensor<2x3x8xf32> -> tensor<2x3x8xf32>"""
    f = lambda v: v.astype(np.float32).astype(np.float64)
    xf = f(x)
    mean = xf.mean(axis=-1, keepdims=True)
    var = ((xf - mean) ** 2).mean(axis=-1, keepdims=True)
    ref = (xf - mean) / np.sqrt(var + 1e-5) * f(g) + f(b)
    return [x, g, b], body, (2, 3, 8), np.maximum(ref, 0), 1e-5


def case_reshapes():
    x = RNG.standard_normal((2, 3, 4))
    body = """%f = mpc.flatten %a0 {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
    %u = mpc.unsqueeze %f {axes = array<i64: 0>} : (tensor<2x12xf32>) -> tensor<1x2x12xf32>
    %s = mpc.constant dense<[4, 6]> : tensor<2xi64>
    %r = mpc.reshape %u, %s : (tensor<1x2x12xf32>, tensor<2xi64>) -> tensor<4x6xf32>
    %0 = mpc.clip %r {min = -0.5 : f64, max = 0.5 : f64} : tensor<4x6xf32> -> tensor<4x6xf32>"""
    ref = np.clip(x.astype(np.float32).reshape(4, 6), -0.5, 0.5)
    return [x], body, (4, 6), ref, 0.0


def case_pad_constant_crop():
    x = RNG.standard_normal((3, 4))
    body = """%0 = mpc.pad %a0 {pads = array<i64: 1, -1, 0, 2>, value = 0.5} : (tensor<3x4xf32>) -> tensor<4x5xf32>"""
    ref = np.pad(x.astype(np.float32)[:, 1:], ((1, 0), (0, 2)),
                 constant_values=0.5)
    return [x], body, (4, 5), ref, 0.0


def case_pad_edge():
    x = RNG.standard_normal((3, 4))
    body = """%0 = mpc.pad %a0 {pads = array<i64: 2, 0, 1, 3>, mode = #mpc<pad_mode edge>} : (tensor<3x4xf32>) -> tensor<6x7xf32>"""
    ref = np.pad(x.astype(np.float32), ((2, 1), (0, 3)), mode="edge")
    return [x], body, (6, 7), ref, 0.0


def case_pad_reflect():
    x = RNG.standard_normal((3, 4))
    body = """%0 = mpc.pad %a0 {pads = array<i64: 2, 1, 1, 3>, mode = #mpc<pad_mode reflect>} : (tensor<3x4xf32>) -> tensor<6x8xf32>"""
    ref = np.pad(x.astype(np.float32), ((2, 1), (1, 3)), mode="reflect")
    return [x], body, (6, 8), ref, 0.0


def case_slice_strided():
    """Positive, negative and reversing steps (x[4::-2, 1:3, 1:7:3] and
    x[..., ::-1]), a prime-sized input, bounds past both ends."""
    x = RNG.standard_normal((5, 4, 7))
    body = """%s0 = mpc.slice %a0 {starts = array<i64: 4, 1, 1>, ends = array<i64: -10, 3, 7>, axes = array<i64: 0, 1, 2>, steps = array<i64: -2, 1, 3>} : (tensor<5x4x7xf32>) -> tensor<3x2x2xf32>
    %0 = mpc.slice %s0 {starts = array<i64: -1>, ends = array<i64: -9223372036854775807>, axes = array<i64: 2>, steps = array<i64: -1>} : (tensor<3x2x2xf32>) -> tensor<3x2x2xf32>"""
    ref = x.astype(np.float32)[4::-2, 1:3, 1:7:3][..., ::-1]
    return [x], body, (3, 2, 2), ref, 0.0


def case_tile():
    x = RNG.standard_normal((2, 3))
    body = """%0 = mpc.tile %a0 {repeats = array<i64: 3, 2>} : (tensor<2x3xf32>) -> tensor<6x6xf32>"""
    ref = np.tile(x.astype(np.float32), (3, 2))
    return [x], body, (6, 6), ref, 0.0


case_tile.pre_passes = "mpc-decompose"

def case_matmul_vectors():
    """A vector times a batch of matrices, then the dot product with a
    vector (mpc-decompose's row and column matrices)."""
    v, m, w = (RNG.standard_normal(s) for s in ((5,), (3, 5, 7), (7,)))
    body = """%r = mpc.matmul %a0, %a1 : (tensor<5xf32>, tensor<3x5x7xf32>) -> tensor<3x7xf32>
    %0 = mpc.matmul %r, %a2 : (tensor<3x7xf32>, tensor<7xf32>) -> tensor<3xf32>"""
    f = [a.astype(np.float32).astype(np.float64) for a in (v, m, w)]
    return [v, m, w], body, (3,), (f[0] @ f[1]) @ f[2], 1e-5


case_matmul_vectors.pre_passes = "mpc-decompose"


def case_gpu_math_approximations():
    """The math the GPU kernels compute (mpc-gpu-approximate-math: no
    libdevice) against numpy, run on the CPU."""
    x = RNG.uniform(-3, 3, (4, 8))
    y = RNG.uniform(0.5, 2.5, (4, 8))
    body = """%g = mpc.gelu %a0 : tensor<4x8xf32> -> tensor<4x8xf32>
    %t = mpc.tanh %g : tensor<4x8xf32> -> tensor<4x8xf32>
    %e = mpc.exp %t : tensor<4x8xf32> -> tensor<4x8xf32>
    %s = mpc.sigmoid %a0 : tensor<4x8xf32> -> tensor<4x8xf32>
    %l = mpc.log %s : tensor<4x8xf32> -> tensor<4x8xf32>
    %a = mpc.abs %l : tensor<4x8xf32> -> tensor<4x8xf32>
    %p = mpc.pow %a, %a1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    %0 = mpc.add %e, %p : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>"""
    x32 = x.astype(np.float32).astype(np.float64)
    y32 = y.astype(np.float32).astype(np.float64)
    g = 0.5 * x32 * (1 + np.vectorize(math.erf)(x32 / math.sqrt(2)))
    ref = np.exp(np.tanh(g)) + np.abs(np.log(1 / (1 + np.exp(-x32)))) ** y32
    return [x, y], body, (4, 8), ref, 2e-5


case_gpu_math_approximations.pre_passes = "func.func(convert-mpc-to-linalg," \
    "mpc-gpu-approximate-math)"

def case_gpu_tiled_loops():
    """The SIMT kernels' loop nests (tiled 16x16 as they are mapped to
    blocks and threads, shapes not multiples of 16) run on the CPU: softmax,
    a GELU chain, reductions, a broadcast and an fp32 matmul."""
    x = RNG.standard_normal((5, 37))
    w = RNG.standard_normal((37, 21))
    b = RNG.standard_normal((21,))
    body = """%m = mpc.matmul %a0, %a1 : (tensor<5x37xf32>, tensor<37x21xf32>) -> tensor<5x21xf32>
    %y = mpc.add %m, %a2 : (tensor<5x21xf32>, tensor<21xf32>) -> tensor<5x21xf32>
    %g = mpc.gelu %y : tensor<5x21xf32> -> tensor<5x21xf32>
    %s = mpc.softmax %g {axis = 1 : i64} : (tensor<5x21xf32>) -> tensor<5x21xf32>
    %r = mpc.reduce_mean %s {axes = array<i64: 0>, keepdims = true} : (tensor<5x21xf32>) -> tensor<1x21xf32>
    %0 = mpc.sub %s, %r : (tensor<5x21xf32>, tensor<1x21xf32>) -> tensor<5x21xf32>"""
    f = lambda v: v.astype(np.float32).astype(np.float64)
    y = f(x) @ f(w) + f(b)
    g = 0.5 * y * (1 + np.vectorize(math.erf)(y / math.sqrt(2)))
    e = np.exp(g - g.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    return [x, w, b], body, (5, 21), s - s.mean(axis=0, keepdims=True), 1e-5


case_gpu_tiled_loops.pre_passes = "mpc-gpu-tiled-loops"


def case_gpu_serial_kernels():
    """What has no parallel loop runs as one-thread kernels on the GPU: a
    full reduction to a scalar, scalar arithmetic on it, and a reduction
    over the outer axis (its parallel loop moved outermost)."""
    x = RNG.standard_normal((7, 9))
    body = """%t = mpc.reduce_sum %a0 {axes = array<i64>} : (tensor<7x9xf32>) -> tensor<1x1xf32>
    %q = mpc.mul %t, %t : (tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
    %c = mpc.reduce_max %a0 {axes = array<i64: 0>} : (tensor<7x9xf32>) -> tensor<1x9xf32>
    %s = mpc.add %q, %c : (tensor<1x1xf32>, tensor<1x9xf32>) -> tensor<1x9xf32>
    %0 = mpc.mul %a0, %s : (tensor<7x9xf32>, tensor<1x9xf32>) -> tensor<7x9xf32>"""
    f = x.astype(np.float32).astype(np.float64)
    return [x], body, (7, 9), f * (f.sum() ** 2 + f.max(axis=0)), 1e-5


case_gpu_serial_kernels.pre_passes = "mpc-gpu-tiled-loops"


def case_gpu_fused_independent_loops():
    """Independent loop nests of different shapes run as one kernel (their
    iterations end to end, each delinearized back): here the two operands'
    own elementwise work and the fills of the reduction accumulators."""
    x = RNG.standard_normal((5, 7))
    y = RNG.standard_normal((3, 4))
    body = """%a = mpc.tanh %a0 : tensor<5x7xf32> -> tensor<5x7xf32>
    %b = mpc.sigmoid %a1 : tensor<3x4xf32> -> tensor<3x4xf32>
    %sa = mpc.reduce_sum %a {axes = array<i64: 0>} : (tensor<5x7xf32>) -> tensor<1x7xf32>
    %sb = mpc.reduce_max %b {axes = array<i64>} : (tensor<3x4xf32>) -> tensor<1x1xf32>
    %c = mpc.mul %sa, %sb : (tensor<1x7xf32>, tensor<1x1xf32>) -> tensor<1x7xf32>
    %0 = mpc.add %a, %c : (tensor<5x7xf32>, tensor<1x7xf32>) -> tensor<5x7xf32>"""
    f = lambda v: v.astype(np.float32).astype(np.float64)
    a, b = np.tanh(f(x)), 1 / (1 + np.exp(-f(y)))
    return [x, y], body, (5, 7), a + a.sum(axis=0, keepdims=True) * b.max(), 1e-5


case_gpu_fused_independent_loops.pre_passes = "mpc-gpu-tiled-loops"

def case_gpu_flattened_adamw():
    """One AdamW step with loss scaling on two parameters, their state
    flattened (mpc-flatten-training-state: one buffer per kind, one update
    over each, written in place) and called from another function: the
    bias, which lies behind the weight in every flat buffer, matches
    torch.optim.AdamW's step."""
    w, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3,))
    mw, mb = RNG.standard_normal((2, 3)) * 0.1, RNG.standard_normal((3,)) * 0.1
    vw, vb = RNG.random((2, 3)) * 0.1, RNG.random((3,)) * 0.1
    gw, gb = RNG.standard_normal((2, 3)) * 8, RNG.standard_normal((3,)) * 8
    step, scale, lr, wd = 3, 8.0, 0.01, 0.1
    t = lambda shape: tensor_type(shape)
    state = [(("param", "w"), w), (("param", "b"), b), (("adam_m", "w"), mw),
             (("adam_m", "b"), mb), (("adam_v", "w"), vw),
             (("adam_v", "b"), vb)]
    slot = lambda kind, name: '{mpc.slot = #mpc.slot<%s, "%s">}' % (kind, name)
    args = ", ".join('%%s%d: %s %s' % (i, t(v.shape), slot(*n))
                     for i, (n, v) in enumerate(state))
    results = ", ".join('%s %s' % (t(v.shape), slot(*n)) for n, v in state)
    source = """func.func private @printMemrefF32(tensor<*xf32>)
func.func @kernel(%s, %%step: tensor<i64> {mpc.slot = #mpc.slot<step>}, %%scale: tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}, %%gw: tensor<2x3xf32>, %%gb: tensor<3xf32>, %%lr: tensor<f32>, %%wd: tensor<f32>) -> (%s, tensor<i64> {mpc.slot = #mpc.slot<step>}) {
  %%u:2, %%finite = mpc.unscale_gradients %%gw, %%gb, %%scale : (tensor<2x3xf32>, tensor<3xf32>, tensor<f32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<i1>)
  %%pw, %%nmw, %%nvw = mpc.adam_update %%s0, %%u#0, %%s2, %%s4, %%lr, %%step, %%wd {decoupled} : tensor<2x3xf32>, tensor<f32>, tensor<i64>
  %%pb, %%nmb, %%nvb = mpc.adam_update %%s1, %%u#1, %%s3, %%s5, %%lr, %%step, %%wd {decoupled} : tensor<3xf32>, tensor<f32>, tensor<i64>
  %%k0 = mpc.where %%finite, %%pw, %%s0 : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %%k1 = mpc.where %%finite, %%pb, %%s1 : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %%k2 = mpc.where %%finite, %%nmw, %%s2 : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %%k3 = mpc.where %%finite, %%nmb, %%s3 : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %%k4 = mpc.where %%finite, %%nvw, %%s4 : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %%k5 = mpc.where %%finite, %%nvb, %%s5 : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %%one = mpc.constant dense<1> : tensor<i64>
  %%next = mpc.add %%step, %%one : (tensor<i64>, tensor<i64>) -> tensor<i64>
  return %%k0, %%k1, %%k2, %%k3, %%k4, %%k5, %%next : %s, tensor<i64>
}
func.func @main() {
  %s
  %%r:7 = call @kernel(%s) : (%s) -> (%s, tensor<i64>)
  %%u = tensor.cast %%r#1 : tensor<3xf32> to tensor<*xf32>
  call @printMemrefF32(%%u) : (tensor<*xf32>) -> ()
  return
}
""" % (args, results, ", ".join(t(v.shape) for _, v in state),
       "\n  ".join(["%%c%d = arith.constant %s : %s" % (i, dense(v), t(v.shape))
                    for i, (_, v) in enumerate(state)] +
                   ["%%c6 = arith.constant dense<%d> : tensor<i64>" % step,
                    "%%c7 = arith.constant %s : tensor<f32>" % dense(np.float32(scale))] +
                   ["%%c8 = arith.constant %s : tensor<2x3xf32>" % dense(gw),
                    "%%c9 = arith.constant %s : tensor<3xf32>" % dense(gb),
                    "%%c10 = arith.constant %s : tensor<f32>" % dense(np.float32(lr)),
                    "%%c11 = arith.constant %s : tensor<f32>" % dense(np.float32(wd))]),
       ", ".join("%%c%d" % i for i in range(12)),
       ", ".join([t(v.shape) for _, v in state] + ["tensor<i64>", "tensor<f32>"] +
                 ["tensor<2x3xf32>", "tensor<3xf32>", "tensor<f32>", "tensor<f32>"]),
       ", ".join(t(v.shape) for _, v in state))
    f = lambda v: np.float64(np.float32(v))
    g = f(gb) / scale
    m = 0.9 * f(mb) + 0.1 * g
    v = 0.999 * f(vb) + 0.001 * g * g
    n = step + 1
    p = f(b) * (1 - lr * wd)
    p = p - lr * (m / (1 - 0.9 ** n)) / (np.sqrt(v / (1 - 0.999 ** n)) + 1e-8)
    return source, (3,), p, 1e-5


# mpc-gpu-tiled-loops without mpc-gpu-approximate-math, whose square root
# is an NVVM intrinsic the CPU cannot run.
case_gpu_flattened_adamw.pre_passes = (
    "mpc-flatten-training-state,convert-mpc-parameters-to-memref,"
    "func.func(convert-mpc-to-linalg,mpc-fuse-elementwise,canonicalize,"
    "mpc-reshape-empty-inits),"
    "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "mpc-state-in-place,mpc-strip-state-attributes,func.func(cse,canonicalize,buffer-hoisting,"
    "mpc-gpu-block-reductions,convert-linalg-to-parallel-loops,"
    "mpc-gpu-serial-kernels,mpc-gpu-fuse-independent-loops,"
    "scf-parallel-loop-tiling{parallel-loop-tile-sizes=16,16 "
    "no-min-max-bounds=true})")
case_gpu_flattened_adamw.full_source = True

CASES = [case_softmax_bf16, case_log_softmax, case_layer_norm, case_reshapes,
         case_add_broadcast, case_gelu_sigmoid_softplus, case_matmul_f32,
         case_matmul_bf16, case_gemm, case_reductions, case_bf16_rounding,
         case_where, case_matmul_packed_f32, case_matmul_uneven_batched_f32,
         case_matmul_packed_bf16, case_pad_constant_crop, case_pad_edge,
         case_pad_reflect, case_slice_strided, case_tile,
         case_matmul_vectors,
         case_gpu_math_approximations,
         case_gpu_tiled_loops, case_gpu_serial_kernels,
         case_gpu_fused_independent_loops, case_gpu_flattened_adamw]


def program(inputs, body, out_shape):
    args = ", ".join("%%a%d: %s" % (i, tensor_type(np.shape(v)))
                     for i, v in enumerate(inputs))
    consts = "\n  ".join("%%c%d = arith.constant %s : %s" % (
        i, dense(v), tensor_type(np.shape(v))) for i, v in enumerate(inputs))
    call_args = ", ".join("%%c%d" % i for i in range(len(inputs)))
    call_types = ", ".join(tensor_type(np.shape(v)) for v in inputs)
    out = tensor_type(out_shape)
    return """func.func private @printMemrefF32(tensor<*xf32>)
func.func @kernel(%s) -> %s {
    %s
    return %%0 : %s
}
func.func @main() {
  %s
  %%r = call @kernel(%s) : (%s) -> %s
  %%u = tensor.cast %%r : %s to tensor<*xf32>
  call @printMemrefF32(%%u) : (tensor<*xf32>) -> ()
  return
}
""" % (args, out, body, out, consts, call_args, call_types, out, out)


def run_on_cpu(mpc_opt, runner, lib_dir, source, pre_passes=None):
    """Lowers MLIR `source` with --mpc-cpu-pipeline, runs its @main with
    mlir-runner and returns the values it printed (printMemrefF32).
    Raises RuntimeError naming the stage that failed."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as src:
        src.write(source)
        src.flush()
        pipeline = ["--mpc-cpu-pipeline"] if not pre_passes else [
            "--pass-pipeline=builtin.module(%s,mpc-cpu-pipeline)" % pre_passes]
        lowered = subprocess.run([mpc_opt, src.name, *pipeline],
                                 capture_output=True, text=True)
    if lowered.returncode:
        raise RuntimeError("lowering failed: " + lowered.stderr[-500:])
    ran = subprocess.run(
        [runner, "-e", "main", "-entry-point-result=void",
         # libomp: parallel loops lower to OpenMP.
         "-shared-libs=%s/libmlir_c_runner_utils.so,%s/libmlir_runner_utils.so,"
         "%s/libomp.so" % (lib_dir, lib_dir, lib_dir)],
        input=lowered.stdout, capture_output=True, text=True)
    if ran.returncode:
        raise RuntimeError("run failed: " + ran.stderr[-500:])
    data = ran.stdout.split("data =", 1)[-1]
    return np.array([float(v) for v in re.findall(
        r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)", data)])


def run_model(mpc_opt, runner, lib_dir, model, shape, out_shape, precision,
              x):
    """Imports ONNX `model` with its input pinned to `shape`, decides
    `precision`, runs it on `x` on the CPU and returns its first output."""
    shape_text = "x".join(map(str, shape))
    out_text = "x".join(map(str, out_shape))
    imported = subprocess.run(
        [mpc_opt, model, "--input-shape=input:" + shape_text,
         "--precision=" + precision, "--canonicalize"],
        capture_output=True, text=True, check=True).stdout
    # Rename the model's function and add a runner entry point.
    imported = imported.replace("func.func @main(", "func.func @kernel(", 1)
    lines = imported.split("\n")
    entry = """  func.func private @printMemrefF32(tensor<*xf32>)
  func.func @main() {
    %%x = arith.constant %s : tensor<%sxf32>
    %%r = call @kernel(%%x) : (tensor<%sxf32>) -> tensor<%sxf32>
    %%u = tensor.cast %%r : tensor<%sxf32> to tensor<*xf32>
    call @printMemrefF32(%%u) : (tensor<*xf32>) -> ()
    return
  }""" % (dense(x), shape_text, shape_text, out_text, out_text)
    lines.insert(lines.index("}"), entry)
    return run_on_cpu(mpc_opt, runner, lib_dir,
                      "\n".join(lines)).reshape(out_shape)


def run_case(mpc_opt, runner, lib_dir, case):
    if getattr(case, "full_source", False):
        source, out_shape, reference, rtol, *scale = case()
    else:
        inputs, body, out_shape, reference, rtol, *scale = case()
        source = program(inputs, body, out_shape)
    try:
        values = run_on_cpu(mpc_opt, runner, lib_dir, source,
                            getattr(case, "pre_passes", None))
    except RuntimeError as e:
        return str(e)
    expected = np.asarray(reference, np.float64).reshape(-1)
    if values.shape != expected.shape:
        return "got %d values, expected %d" % (values.size, expected.size)
    # mlir-runner prints 6 significant digits (relative error up to 5e-6);
    # a bf16 rounding error is 2^-8 relative, far above that.
    magnitude = np.asarray(scale[0]).reshape(-1) if scale else np.abs(expected)
    tol = np.maximum(rtol, 1e-5) * np.maximum(magnitude, 0.1)
    bad = np.abs(values - expected) > tol
    if bad.any():
        i = int(np.argmax(bad))
        return "element %d: got %r, expected %r" % (i, values[i], expected[i])
    return None


def main():
    mpc_opt, runner, lib_dir = sys.argv[1:4]
    failures = 0
    for case in CASES:
        error = run_case(mpc_opt, runner, lib_dir, case)
        print("%-28s %s" % (case.__name__[5:], "ok" if error is None else
                            "FAIL: " + error))
        failures += error is not None
    print("%d passed, %d failed" % (len(CASES) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

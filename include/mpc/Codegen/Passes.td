//===- Passes.td - code generation for every target --------*- tablegen -*-===//
//
// Passes on linalg/tensor shared by the CPU and GPU pipelines: convolution
// lowering, elementwise fusion, in-place subsets. The target-specific
// passes are in CPU/Passes.td and GPU/Passes.td.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_CODEGEN_PASSES_TD
#define MPC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def MPCFuseElementwise
    : Pass<"mpc-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "fuse elementwise producers into consumers that do not "
                "recompute them";
  let description = [{
    Upstream's elementwise fusion (`linalg-fuse-elementwise-ops`) with a
    cost rule: a producer is fused into its consumer only when the consumer
    reads each of its elements once -- the operand's indexing map is a
    permutation of the consumer's loops. Fusing a GELU into the matmul that
    reads it would evaluate the GELU once per output column (N times); the
    rule keeps it a separate loop. `linalg.reduce` ops are generalized
    first, so their elementwise producers fuse into them too.

    A producer with several uses is fused only when recomputing it moves
    less memory than materializing it: it is elementwise, reads at most one
    operand of its own size (others are broadcasts such as per-channel
    statistics), its body is at most eight `arith` operations, and every
    use reads each element once. Each use then gets its own copy, which
    fuses: BatchNorm's `x - mean`, read by the variance's reduction and by
    the normalisation, is computed in both instead of written once and
    read twice. Anything costlier (a `math` function, a product of two
    full-size tensors) is still computed once.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::affine::AffineDialect",
  ];
}

def MPCConvToIm2Col : Pass<"mpc-conv-to-im2col", "::mlir::func::FuncOp"> {
  let summary = "rewrite 2-d convolutions as an im2col copy and a matmul";
  let description = [{
    `linalg.conv_2d_nchw_fchw` and `linalg.conv_2d_nhwc_hwcf` with static
    shapes become an im2col `linalg.generic` (each output pixel's receptive
    field laid out as a row) and a contraction over it, which
    `mpc-cpu-tile-and-vectorize` then packs, tiles and vectorizes like any
    matmul. The copy costs one pass over the image times the kernel area;
    the scalar convolution loops it replaces ran 10-50x slower than the
    vectorized matmul. With `merge-batch` (the CPU's choice) a batch of NCHW
    images is one matmul over all their receptive fields; the GPU keeps
    one per image, the batched form its tensor-core mapping takes.

    With `shifted-windows` (the CPU's choice), an NCHW convolution of stride
    1 whose output rows are wide enough needs no copy at all: computed over
    rows of the padded image's width W' instead of the output's OW, output
    pixel j = oh * W' + ow reads pixel j + kh * dh * W' + kw * dw of each
    flattened input plane, so every kernel tap (c, kh, kw) reads a
    contiguous run of the image, and the convolution is one contraction
    over (c, kh, kw) whose B operand is the image itself, shifted per tap
    (the direct form of im2col). The W' - OW extra columns of each row are
    computed and dropped; W' is at least the padded width, and the count
    of outputs a whole number of vectors: OH * W' itself, or, with a
    zero-filled accumulator, the next multiple past it (a 7 x 7 image at
    pitch 9 is 64 outputs for 63), used when that adds at most two fifths
    to the work. The image matrix this replaces is KH * KW times the
    image: written and read back through memory (a 14 x 14 batch of 64
    with 32 channels is 14 MB), it cost as much as the matmul.

    Also with `shifted-windows`, a convolution of dilation 1 whose output
    is a few taps and whose kernel is large (16 elements or more, and as
    many as the taps) is a weight gradient: the image convolved with the
    output gradient, batch and channels swapped. Each tap (y, x) is then a
    sum over the kernel flattened at the image's pitch W',
    `out[b, f] = sum over k, p of w[f, k, p] * img[b, k, p + y s W' + x s]`,
    with the kernel widened with zeros to whole vectors: both operands are
    read contiguously, a swap of batch and channels feeding either is read
    through, and the taps (up to nine) are the results of one generic that
    reads each kernel element once for all of them, each into its own
    accumulator, stacked and transposed into the result after. Used when
    the widening adds at most a quarter (ResNet-10's 7 x 7 and 4 x 4
    images trained faster with im2col). im2col copied the image KH * KW
    times for a matmul of the same work.
  }];
  let options = [
    Option<"mergeBatch", "merge-batch", "bool", /*default=*/"true",
           "NCHW batches as one [F, N*OH*OW] matmul">,
    Option<"shiftedWindows", "shifted-windows", "bool", /*default=*/"false",
           "stride-1 NCHW convolutions as contractions over shifted "
           "windows of the padded image, without an im2col copy">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::affine::AffineDialect",
  ];
}

def MPCReshapeEmptyInits
    : Pass<"mpc-reshape-empty-inits", "::mlir::func::FuncOp"> {
  let summary = "empty-tensor elimination through a reshape into a subset";
  let description = [{
    `eliminate-empty-tensors` makes the producer of a value inserted into a
    subset of a buffer (`tensor.insert_slice`,
    `bufferization.materialize_in_destination`) write into that subset
    directly, but only when the value keeps its type on the way. A value
    reshaped on its way (a gradient of shape 64x32 gathered into the flat
    gradient buffer of `mpc-flatten-training-state`, a scalar step count
    written into its one-element state buffer) would be copied instead.
    This pass handles that case: a destination-style op whose result is
    only reshaped and inserted, with a `tensor.empty` init used nowhere
    else, gets the subset itself as its init, reshaped back to the init's
    shape, when the destination is defined before the op. Bufferization
    then writes the result in place.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

#endif // MPC_CODEGEN_PASSES_TD

//===- ConvToIm2Col.cpp - convolutions as matmuls -------------------------===//

#include "mpc/Codegen/Passes.h"
#include "mpc/Conversion/MPCToLinalg/MPCToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace mpc {
#define GEN_PASS_DEF_MPCCONVTOIM2COL
#include "mpc/Codegen/Passes.h.inc"
} // namespace mpc
} // namespace mlir

using namespace mlir;

/// Converts a scalar to `type` (the convolution's accumulator) the way the
/// named op's body does: float extension or truncation.
static Value toAccumulator(OpBuilder &b, Location loc, Value v, Type type) {
  if (v.getType() == type)
    return v;
  if (v.getType().getIntOrFloatBitWidth() < type.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(b, loc, type, v);
  return arith::TruncFOp::create(b, loc, type, v);
}

/// The body of a convolution's contraction: `args` are its two operands
/// (filter and image, in either form) and the accumulator; their product
/// in the accumulator's type is added to it.
static void multiplyAccumulate(OpBuilder &b, Location loc, ValueRange args,
                               Type acc) {
  Value product =
      arith::MulFOp::create(b, loc, toAccumulator(b, loc, args[0], acc),
                            toAccumulator(b, loc, args[1], acc));
  linalg::YieldOp::create(
      b, loc, Value(arith::AddFOp::create(b, loc, product, args[2])));
}

/// Whether the image, the filter and the accumulator of `conv` are all
/// floats: the rewrites below build float multiply-adds.
static bool hasFloatOperands(linalg::Conv2DNchwFchwOp conv) {
  return llvm::all_of(conv->getOperandTypes(), [](Type type) {
    return isa<FloatType>(getElementTypeOrSelf(type));
  });
}

/// Whether every element of `values` (a convolution's strides or
/// dilations) is 1.
static bool allOnes(DenseIntElementsAttr values) {
  return llvm::all_of(values.getValues<int64_t>(),
                      [](int64_t v) { return v == 1; });
}

/// im2col for an NCHW convolution, dilations included (upstream's
/// rewriteInIm2Col takes none). Per image (`mergeBatch` false) it builds
/// the two ops upstream does: the image as [N, C*KH*KW, OH*OW] receptive
/// fields and a contraction with the [F, C*KH*KW] filter, vectorised along
/// the OH*OW output pixels. With `mergeBatch` the fields are the columns
/// of one [C*KH*KW, N*OH*OW] matrix and the convolution one matmul into
/// [F, N*OH*OW], transposed to NCHW after. Training makes convolutions
/// upstream's rewrite does not take, and ones whose per-image output is a
/// few pixels: the weight gradient is a convolution whose "output" is the
/// kernel's 3x3 taps and whose dilation is the forward stride.
static LogicalResult rewriteNchwInIm2Col(IRRewriter &rewriter,
                                         linalg::Conv2DNchwFchwOp conv,
                                         bool mergeBatch) {
  auto inputType = cast<RankedTensorType>(conv.getInputs()[0].getType());
  auto filterType = cast<RankedTensorType>(conv.getInputs()[1].getType());
  auto outputType = cast<RankedTensorType>(conv.getOutputs()[0].getType());
  Type acc = outputType.getElementType();
  if (!hasFloatOperands(conv))
    return failure();
  Location loc = conv.getLoc();
  MLIRContext *context = conv.getContext();
  int64_t n = outputType.getDimSize(0), f = outputType.getDimSize(1);
  int64_t oh = outputType.getDimSize(2), ow = outputType.getDimSize(3);
  int64_t c = filterType.getDimSize(1), kh = filterType.getDimSize(2),
          kw = filterType.getDimSize(3);
  SmallVector<int64_t> strides(conv.getStrides().getValues<int64_t>());
  SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());
  Value filter = tensor::CollapseShapeOp::create(
      rewriter, loc, conv.getInputs()[1],
      SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
  auto mulAdd = [&](OpBuilder &nb, Location l, ValueRange args) {
    multiplyAccumulate(nb, l, args, acc);
  };
  auto copy = [](OpBuilder &nb, Location l, ValueRange args) {
    linalg::YieldOp::create(nb, l, args[0]);
  };
  auto parallel = [](int64_t n) {
    return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
  };
  Type colElement = inputType.getElementType();
  // The receptive fields, gathered by one generic over (c, kh, kw) and
  // (b, oh, ow) as six loops, into the image matrix viewed with those six
  // dims (collapsed after): every index is affine in the loops, with no
  // division or remainder to recover them from a flattened row and column,
  // and the innermost loop (ow) reads the image with the stride and
  // writes contiguously, so it vectorizes. `order` places the six loops
  // in the matrix's order; the input is x[b, c, oh sh + kh dh, ow sw + kw dw].
  enum { C, KH, KW, B, OH, OW };
  const int64_t sizeOf[] = {c, kh, kw, n, oh, ow}; // by role
  auto gatherFields = [&](ArrayRef<unsigned> order,
                          ArrayRef<ReassociationIndices> groups) {
    AffineExpr dims[6]; // by role
    SmallVector<int64_t> shape;
    for (unsigned i = 0; i < 6; ++i) {
      dims[order[i]] = getAffineDimExpr(i, context);
      shape.push_back(sizeOf[order[i]]);
    }
    AffineMap input = AffineMap::get(
        6, 0,
        {dims[B], dims[C], dims[OH] * strides[0] + dims[KH] * dilations[0],
         dims[OW] * strides[1] + dims[KW] * dilations[1]},
        context);
    Value init = tensor::EmptyOp::create(rewriter, loc, shape, colElement);
    Value fields =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), conv.getInputs()[0], init,
            SmallVector<AffineMap>{input, rewriter.getMultiDimIdentityMap(6)},
            parallel(6), copy)
            .getResult(0);
    return tensor::CollapseShapeOp::create(rewriter, loc, fields, groups);
  };
  AffineExpr d0 = getAffineDimExpr(0, context), d1 = getAffineDimExpr(1, context),
             d2 = getAffineDimExpr(2, context), d3 = getAffineDimExpr(3, context);
  Value result;
  if (!mergeBatch) {
    Value output = tensor::CollapseShapeOp::create(
        rewriter, loc, conv.getOutputs()[0],
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    // cols[b, (c, kh, kw), (oh, ow)]
    Value cols = gatherFields({B, C, KH, KW, OH, OW}, {{0}, {1, 2, 3}, {4, 5}});
    // out[b, f, p] += filter[f, k] * cols[b, k, p]
    auto iterators = parallel(3);
    iterators.push_back(utils::IteratorType::reduction);
    auto matmul = linalg::GenericOp::create(
        rewriter, loc, output.getType(), ValueRange{filter, cols},
        ValueRange{output},
        SmallVector<AffineMap>{AffineMap::get(4, 0, {d1, d3}, context),
                               AffineMap::get(4, 0, {d0, d3, d2}, context),
                               AffineMap::get(4, 0, {d0, d1, d2}, context)},
        iterators, mulAdd);
    result = tensor::ExpandShapeOp::create(
        rewriter, loc, outputType, matmul.getResult(0),
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  } else {
    // cols[(c, kh, kw), (b, oh, ow)]
    Value cols = gatherFields({C, KH, KW, B, OH, OW}, {{0, 1, 2}, {3, 4, 5}});
    // The accumulator [N, F, OH, OW] as [F, N*OH*OW] and back.
    Value init = conv.getOutputs()[0];
    Value fnInit = tensor::EmptyOp::create(
        rewriter, loc, ArrayRef<int64_t>{f, n, oh, ow}, acc);
    Value fn = linalg::TransposeOp::create(rewriter, loc, init, fnInit,
                                           ArrayRef<int64_t>{1, 0, 2, 3})
                   .getResult()[0];
    Value output = tensor::CollapseShapeOp::create(
        rewriter, loc, fn, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    // out[f, q] += filter[f, k] * cols[k, q]
    auto matmul = linalg::GenericOp::create(
        rewriter, loc, output.getType(), ValueRange{filter, cols},
        ValueRange{output},
        SmallVector<AffineMap>{AffineMap::get(3, 0, {d0, d2}, context),
                               AffineMap::get(3, 0, {d2, d1}, context),
                               AffineMap::get(3, 0, {d0, d1}, context)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                         utils::IteratorType::parallel,
                                         utils::IteratorType::reduction},
        mulAdd);
    Value expanded = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({f, n, oh, ow}, acc),
        matmul.getResult(0), SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
    Value nchw = tensor::EmptyOp::create(rewriter, loc, outputType.getShape(),
                                         acc);
    result = linalg::TransposeOp::create(rewriter, loc, expanded, nchw,
                                         ArrayRef<int64_t>{1, 0, 2, 3})
                 .getResult()[0];
  }
  rewriter.replaceOp(conv, result);
  return success();
}

/// The image that `value` pads with zeros (mpc::padWithConstant's zero
/// fill with the image copied into its interior, as the Conv lowering
/// builds it), with the offsets of its interior in `low`; `value` itself,
/// at offsets 0, when it is not such a padding.
static Value paddedInterior(Value value, SmallVectorImpl<int64_t> &low) {
  low.assign(cast<RankedTensorType>(value.getType()).getRank(), 0);
  auto insert = value.getDefiningOp<tensor::InsertSliceOp>();
  if (!insert)
    return value;
  auto fill = insert.getDest().getDefiningOp<linalg::FillOp>();
  auto copy = insert.getSource().getDefiningOp<linalg::CopyOp>();
  std::optional<SmallVector<int64_t>> offsets =
      getConstantIntValues(insert.getMixedOffsets());
  if (!fill || !copy || !offsets ||
      !matchPattern(fill.value(), m_AnyZeroFloat()) ||
      !insert.hasUnitStride() || copy.getInputs().size() != 1 ||
      insert.getSourceType().getRank() != insert.getDestType().getRank())
    return value;
  low.assign(offsets->begin(), offsets->end());
  return copy.getInputs()[0];
}

/// The zero padding of `interior` (at offsets `low`) to `shape`.
static Value padWithZeros(RewriterBase &rewriter, Location loc, Value interior,
                          ArrayRef<int64_t> low, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(interior.getType());
  SmallVector<int64_t> high;
  for (auto [d, size] : llvm::enumerate(shape))
    high.push_back(size - type.getDimSize(d) - low[d]);
  Type element = type.getElementType();
  Value zero = arith::ConstantOp::create(rewriter, loc, element,
                                         rewriter.getZeroAttr(element));
  return mpc::padWithConstant(rewriter, loc, interior, low, high, zero);
}

/// `value` [N, C, H, W] widened to [N, C, rows, pitch] with zeros below and
/// to the right (none when it has that shape already). The padded image of
/// a convolution is rebuilt larger from the image instead of copied again.
static Value padBottomRight(RewriterBase &rewriter, Location loc, Value value,
                            int64_t rows, int64_t pitch) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getDimSize(2) == rows && type.getDimSize(3) == pitch)
    return value;
  SmallVector<int64_t> low;
  Value interior = paddedInterior(value, low);
  return padWithZeros(rewriter, loc, interior, low,
                      {type.getDimSize(0), type.getDimSize(1), rows, pitch});
}

/// The rows an image `height` rows high is padded to, at `pitch`, so that
/// runs of `span` elements read at offsets up to `reach` into its
/// flattened plane stay inside it: shifted windows read their outputs'
/// span at each tap's offset, windowed sums the kernel's at each tap's.
static int64_t rowsToRead(int64_t height, int64_t span, int64_t reach,
                          int64_t pitch) {
  return std::max<int64_t>(height, llvm::divideCeil(span + reach, pitch));
}

/// The row pitch W' >= `width` and the count J >= OH * W' of outputs over
/// which a stride-1 convolution with `oh` x `ow` outputs is computed as
/// shifted windows (see the pass description): J a whole number of
/// vectors, as few as there are, and at most 1.4 OH * OW. J is OH * W'
/// unless `tail` allows outputs past the last row (computed and dropped:
/// a 7 x 7 image at pitch 9 is 63 outputs, 64 with one extra, where a
/// pitch that makes 7 W' a multiple of 16 is 16). {0, 0} when there is
/// none.
static std::pair<int64_t, int64_t>
shiftedWindowShape(int64_t oh, int64_t ow, int64_t width, bool tail) {
  constexpr int64_t kVector = 16;
  std::pair<int64_t, int64_t> best = {0, 0};
  for (int64_t pitch = width; pitch <= width + kVector; ++pitch) {
    int64_t outputs = llvm::alignTo(oh * pitch, kVector);
    if ((!tail && outputs != oh * pitch) || 5 * outputs > 7 * oh * ow)
      continue;
    if (best.first == 0 || outputs < best.second)
      best = {pitch, outputs};
  }
  return best;
}

/// A stride-1 NCHW convolution as a contraction over shifted windows of
/// its padded image (see the pass description):
///   out[n, f, j] += filter[f, c, kh, kw] * x[n, c, j + kh dh W' + kw dw]
/// over the image flattened to [N, C, rows * W'], then the [N, F, OH, W']
/// result's first OW columns. The image gets the rows below it that the
/// last output row's extra columns read.
static LogicalResult
rewriteNchwAsShiftedWindows(RewriterBase &rewriter,
                            linalg::Conv2DNchwFchwOp conv) {
  auto inputType = cast<RankedTensorType>(conv.getInputs()[0].getType());
  auto filterType = cast<RankedTensorType>(conv.getInputs()[1].getType());
  auto outputType = cast<RankedTensorType>(conv.getOutputs()[0].getType());
  Type acc = outputType.getElementType();
  if (!hasFloatOperands(conv) || !allOnes(conv.getStrides()))
    return failure();
  SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());
  int64_t n = outputType.getDimSize(0), f = outputType.getDimSize(1);
  int64_t oh = outputType.getDimSize(2), ow = outputType.getDimSize(3);
  int64_t kh = filterType.getDimSize(2), kw = filterType.getDimSize(3);
  // Outputs past the last row need an accumulator that can be made
  // longer: a fill.
  auto fill = conv.getOutputs()[0].getDefiningOp<linalg::FillOp>();
  auto [pitch, outputs] =
      shiftedWindowShape(oh, ow, inputType.getDimSize(3), fill != nullptr);
  if (pitch == 0)
    return failure();
  // The last output's last tap reads (KH - 1) dh rows and (KW - 1) dw
  // columns past it.
  int64_t rows = rowsToRead(
      inputType.getDimSize(2), outputs,
      (kh - 1) * dilations[0] * pitch + (kw - 1) * dilations[1], pitch);
  Location loc = conv.getLoc();
  MLIRContext *context = conv.getContext();
  Value image = padBottomRight(rewriter, loc, conv.getInputs()[0], rows, pitch);
  Value flatImage = tensor::CollapseShapeOp::create(
      rewriter, loc, image,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});

  // The accumulator over the wide rows: a fill refilled at the new shape,
  // anything else padded with zeros.
  Value flatInit;
  if (fill) {
    flatInit = linalg::FillOp::create(
                   rewriter, loc, fill.value(),
                   Value(tensor::EmptyOp::create(
                       rewriter, loc, ArrayRef<int64_t>{n, f, outputs}, acc)))
                   .getResult(0);
  } else {
    flatInit = tensor::CollapseShapeOp::create(
        rewriter, loc,
        padBottomRight(rewriter, loc, conv.getOutputs()[0], oh, pitch),
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  }

  AffineExpr b, fo, j, c, y, x;
  bindDims(context, b, fo, j, c, y, x);
  SmallVector<AffineMap> maps = {
      AffineMap::get(6, 0, {fo, c, y, x}, context),
      AffineMap::get(6, 0,
                     {b, c, j + y * (dilations[0] * pitch) + x * dilations[1]},
                     context),
      AffineMap::get(6, 0, {b, fo, j}, context)};
  SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
  iterators.append(3, utils::IteratorType::reduction);
  auto contraction = linalg::GenericOp::create(
      rewriter, loc, flatInit.getType(),
      ValueRange{conv.getInputs()[1], flatImage}, ValueRange{flatInit}, maps,
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        multiplyAccumulate(nb, l, args, acc);
      });
  Value rowsComputed = contraction.getResult(0);
  if (outputs != oh * pitch)
    rowsComputed = tensor::ExtractSliceOp::create(
        rewriter, loc, rowsComputed,
        SmallVector<OpFoldResult>(3, rewriter.getIndexAttr(0)),
        getAsIndexOpFoldResult(context, {n, f, oh * pitch}),
        SmallVector<OpFoldResult>(3, rewriter.getIndexAttr(1)));
  Value wide = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({n, f, oh, pitch}, acc),
      rowsComputed, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  SmallVector<OpFoldResult> zeros(4, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(4, rewriter.getIndexAttr(1));
  Value result = tensor::ExtractSliceOp::create(
      rewriter, loc, wide, zeros,
      getAsIndexOpFoldResult(context, outputType.getShape()), ones);
  rewriter.replaceOp(conv, result);
  return success();
}

/// `value` [A, B, H, W] and whether it was read through a linalg.transpose
/// that swaps its first two dims: a weight gradient's convolution takes the
/// image and the output gradient with batch and channels swapped, which
/// windowed sums read in place instead.
static std::pair<Value, bool> throughBatchChannelSwap(Value value) {
  auto transpose = value.getDefiningOp<linalg::TransposeOp>();
  if (transpose && transpose.getPermutation() == ArrayRef<int64_t>{1, 0, 2, 3})
    return {transpose.getInput(), true};
  return {value, false};
}

/// The kernel's rows and pitch (rows * pitch elements each sum runs over)
/// for windowed sums of a KH x KW kernel over images `width` wide: at
/// least KH x width, and a whole number of 16 (else 8) lanes when that
/// adds at most half, so that the sums split into whole vectors.
static std::pair<int64_t, int64_t> windowedSumShape(int64_t kh, int64_t width) {
  for (int64_t multiple : {16, 8}) {
    std::pair<int64_t, int64_t> best = {0, 0};
    for (int64_t rows = kh; rows <= 2 * kh; ++rows)
      for (int64_t pitch = width; pitch <= 2 * width; ++pitch)
        if ((rows * pitch) % multiple == 0 &&
            2 * rows * pitch <= 3 * kh * width &&
            (best.first == 0 || rows * pitch < best.first * best.second))
          best = {rows, pitch};
    if (best.first != 0)
      return best;
  }
  return {kh, width};
}

/// Taps computed by one linalg.generic of windowed sums: each tap keeps a
/// register tile of partial sums (mpc-cpu-tile-and-vectorize), and nine
/// of them with two kernel rows leave room for the operands in AVX-512's
/// 32 registers.
constexpr int64_t kTapsPerSum = 9;

/// A convolution of stride s and dilation 1 whose output is a few taps
/// and whose kernel covers most of the image: a weight gradient,
///   dW[c, f, i, j] = sum over n, oh, ow of x[n, c, oh + i, ow + j]
///                                            * dy[n, f, oh, ow],
/// the image (batch and channels swapped) convolved with the output
/// gradient. Each tap (y, x) is a sum over the kernel flattened at the
/// pitch W' of the padded image:
///   out[b, f, y, x] = sum over k, p of w[f, k, p] * img[b, k, p + off]
/// with off = y s0 W' + x s1, `w` the kernel widened with zeros to
/// [F, K, KH', W'] and `img` the image padded to [B, K, rows, W'], so every
/// tap reads a contiguous run of the image and of the kernel. The taps are
/// the results of one linalg.generic (up to kTapsPerSum per generic), which
/// reads each kernel element once for all of them; a swap of batch and
/// channels feeding either operand is read through. im2col copied the
/// image KH x KW times for a matmul of the same work. A column or row the
/// widening adds multiplies a zero of `w` by image elements of the next
/// row or image: finite data gives the exact sum.
static LogicalResult rewriteNchwAsWindowedSums(RewriterBase &rewriter,
                                               linalg::Conv2DNchwFchwOp conv) {
  auto inputType = cast<RankedTensorType>(conv.getInputs()[0].getType());
  auto filterType = cast<RankedTensorType>(conv.getInputs()[1].getType());
  auto outputType = cast<RankedTensorType>(conv.getOutputs()[0].getType());
  Type acc = outputType.getElementType();
  if (!hasFloatOperands(conv) || !allOnes(conv.getDilations()))
    return failure();
  SmallVector<int64_t> strides(conv.getStrides().getValues<int64_t>());
  int64_t nb = outputType.getDimSize(0), f = outputType.getDimSize(1);
  int64_t oh = outputType.getDimSize(2), ow = outputType.getDimSize(3);
  int64_t kh = filterType.getDimSize(2), kw = filterType.getDimSize(3);
  int64_t taps = oh * ow;
  // The weight-gradient shape: taps few, the kernel larger than the taps
  // and than any forward convolution's.
  if (taps < 2 || kh * kw < 16 || kh * kw < taps)
    return failure();
  auto [kernelRows, pitch] =
      windowedSumShape(kh, std::max(inputType.getDimSize(3), kw));
  int64_t length = kernelRows * pitch;
  // Sums over more than a quarter of zeros lost to im2col's matmul: the
  // 7 x 7 and 4 x 4 images of ResNet-10 (80 for 49, 32 for 16) trained
  // slower, the 14 x 14 and 28 x 28 ones (224 for 196, 896 for 784)
  // faster.
  if (4 * length > 5 * kh * kw)
    return failure();
  int64_t rows =
      rowsToRead(inputType.getDimSize(2), length,
                 (oh - 1) * strides[0] * pitch + (ow - 1) * strides[1], pitch);

  Location loc = conv.getLoc();
  MLIRContext *context = conv.getContext();
  auto flatten = [&](Value v) {
    return tensor::CollapseShapeOp::create(
        rewriter, loc, v, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  };
  // The image, padded at the pitch, as [B, K, rows * W'] (or [K, B, ..]
  // read through the swap).
  SmallVector<int64_t> low;
  Value interior = paddedInterior(conv.getInputs()[0], low);
  auto [imageSource, imageSwapped] = throughBatchChannelSwap(interior);
  auto imageSourceType = cast<RankedTensorType>(imageSource.getType());
  Value image =
      flatten(padWithZeros(rewriter, loc, imageSource, low,
                           {imageSourceType.getDimSize(0),
                            imageSourceType.getDimSize(1), rows, pitch}));
  // The kernel widened with zeros to [F, K, KH', W'] (or [K, F, ..]).
  auto [kernelSource, kernelSwapped] =
      throughBatchChannelSwap(conv.getInputs()[1]);
  auto kernelSourceType = cast<RankedTensorType>(kernelSource.getType());
  Value kernel = flatten(
      padWithZeros(rewriter, loc, kernelSource, {0, 0, 0, 0},
                   {kernelSourceType.getDimSize(0),
                    kernelSourceType.getDimSize(1), kernelRows, pitch}));

  AffineExpr b, fo, k, p;
  bindDims(context, b, fo, k, p);
  AffineMap kernelMap =
      AffineMap::get(4, 0,
                     kernelSwapped ? ArrayRef<AffineExpr>{k, fo, p}
                                   : ArrayRef<AffineExpr>{fo, k, p},
                     context);
  AffineMap imageMap =
      AffineMap::get(4, 0,
                     imageSwapped ? ArrayRef<AffineExpr>{k, b, p}
                                  : ArrayRef<AffineExpr>{b, k, p},
                     context);
  AffineMap tapMap = AffineMap::get(4, 0, {b, fo}, context);
  SmallVector<utils::IteratorType> iterators = {
      utils::IteratorType::parallel, utils::IteratorType::parallel,
      utils::IteratorType::reduction, utils::IteratorType::reduction};
  auto imageType = cast<RankedTensorType>(image.getType());
  auto tapType = RankedTensorType::get({nb, f}, acc);
  SmallVector<OpFoldResult> one4(4, rewriter.getIndexAttr(1));
  SmallVector<OpFoldResult> tapSizes =
      getAsIndexOpFoldResult(context, {nb, f, 1, 1});
  // Each tap accumulates into a tensor of its own (slices of one tensor as
  // the outputs of one op would bufferize to copies of each), then the
  // taps are stacked as [OH * OW, B, F] and transposed into the result.
  Value init = conv.getOutputs()[0];
  auto initFill = init.getDefiningOp<linalg::FillOp>();
  Value stacked = tensor::EmptyOp::create(rewriter, loc,
                                          ArrayRef<int64_t>{taps, nb, f}, acc);
  SmallVector<OpFoldResult> one3(3, rewriter.getIndexAttr(1));
  SmallVector<OpFoldResult> stackSizes =
      getAsIndexOpFoldResult(context, {1, nb, f});
  for (int64_t first = 0; first < taps; first += kTapsPerSum) {
    int64_t count = std::min(kTapsPerSum, taps - first);
    SmallVector<Value> inputs = {kernel};
    SmallVector<Value> inits;
    for (int64_t t = first; t < first + count; ++t) {
      int64_t y = t / ow, x = t % ow;
      int64_t offset = y * strides[0] * pitch + x * strides[1];
      inputs.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, image, getAsIndexOpFoldResult(context, {0, 0, offset}),
          getAsIndexOpFoldResult(context, {imageType.getDimSize(0),
                                           imageType.getDimSize(1), length}),
          SmallVector<OpFoldResult>(3, rewriter.getIndexAttr(1))));
      Value empty =
          tensor::EmptyOp::create(rewriter, loc, tapType.getShape(), acc);
      if (initFill) {
        inits.push_back(
            linalg::FillOp::create(rewriter, loc, initFill.value(), empty)
                .getResult(0));
      } else {
        Value slot = tensor::ExtractSliceOp::create(
            rewriter, loc, tapType, init,
            getAsIndexOpFoldResult(context, {0, 0, y, x}), tapSizes, one4);
        inits.push_back(
            linalg::CopyOp::create(rewriter, loc, slot, empty).getResult(0));
      }
    }
    SmallVector<AffineMap> maps = {kernelMap};
    maps.append(count, imageMap);
    maps.append(count, tapMap);
    auto sums = linalg::GenericOp::create(
        rewriter, loc, ValueRange(inits).getTypes(), inputs, inits, maps,
        iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
          // Multiply and add may fuse into an FMA: one rounding fewer.
          auto contract = arith::FastMathFlags::contract;
          Value weight = toAccumulator(nb, l, args[0], acc);
          SmallVector<Value> sums;
          for (int64_t i = 0; i < count; ++i) {
            Value product = arith::MulFOp::create(
                nb, l, weight, toAccumulator(nb, l, args[1 + i], acc),
                contract);
            sums.push_back(arith::AddFOp::create(
                nb, l, product, args[1 + count + i], contract));
          }
          linalg::YieldOp::create(nb, l, sums);
        });
    for (auto [i, tap] : llvm::enumerate(sums.getResults()))
      stacked = tensor::InsertSliceOp::create(
          rewriter, loc, tap, stacked,
          getAsIndexOpFoldResult(context,
                                 {first + static_cast<int64_t>(i), 0, 0}),
          stackSizes, one3);
  }
  Value grid = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({oh, ow, nb, f}, acc), stacked,
      SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
  Value result =
      linalg::TransposeOp::create(
          rewriter, loc, grid,
          tensor::EmptyOp::create(rewriter, loc, outputType.getShape(), acc),
          ArrayRef<int64_t>{2, 3, 0, 1})
          .getResult()[0];
  rewriter.replaceOp(conv, result);
  return success();
}

namespace {
struct ConvToIm2Col : mpc::impl::MPCConvToIm2ColBase<ConvToIm2Col> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> convs;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp>(op) &&
          op.hasPureTensorSemantics() && op.hasDynamicShape() == false)
        convs.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : convs) {
      rewriter.setInsertionPoint(op);
      // A batch of NCHW images: one matmul over all of it. Per image, the
      // matmuls are [F, C*KH*KW] x [C*KH*KW, OH*OW], whose OH*OW rows are
      // short (a weight gradient's 3x3 taps) or not a multiple of the
      // register tile (28 x 28), and ran at 7 GFLOP/s for a 64-channel
      // 28 x 28 batch of 32 where one [F, N*OH*OW] matmul runs at 24.
      if (auto nchw = dyn_cast<linalg::Conv2DNchwFchwOp>(op.getOperation())) {
        if (shiftedWindows &&
            (succeeded(rewriteNchwAsWindowedSums(rewriter, nchw)) ||
             succeeded(rewriteNchwAsShiftedWindows(rewriter, nchw))))
          continue;
        auto type = cast<RankedTensorType>(nchw.getOutputs()[0].getType());
        if (mergeBatch && type.getDimSize(0) > 1 &&
            succeeded(rewriteNchwInIm2Col(rewriter, nchw, /*mergeBatch=*/true)))
          continue;
      }
      FailureOr<std::pair<Operation *, Operation *>> rewritten =
          TypeSwitch<Operation *,
                     FailureOr<std::pair<Operation *, Operation *>>>(op)
              .Case<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp>(
                  [&](auto conv) {
                    return linalg::rewriteInIm2Col(rewriter, conv);
                  });
      // Upstream's rewrite takes no dilations; NCHW ones get ours. Any
      // other convolution it does not take stays for the loop lowering:
      // correct, only slower.
      if (failed(rewritten))
        if (auto nchw = dyn_cast<linalg::Conv2DNchwFchwOp>(op.getOperation()))
          (void)rewriteNchwInIm2Col(rewriter, nchw, /*mergeBatch=*/false);
    }
  }
};
} // namespace

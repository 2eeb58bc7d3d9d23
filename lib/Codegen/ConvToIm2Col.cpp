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
  if (!isa<FloatType>(acc) || !isa<FloatType>(inputType.getElementType()) ||
      !isa<FloatType>(filterType.getElementType()))
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

/// `value` [N, C, H, W] widened to [N, C, rows, pitch] with zeros below and
/// to the right (none when it has that shape already). The padded image of
/// a convolution (mpc::padWithConstant's zero fill with the image copied
/// into its interior, as the Conv lowering builds it) is rebuilt larger
/// from the image instead of copied again.
static Value padBottomRight(RewriterBase &rewriter, Location loc, Value value,
                            int64_t rows, int64_t pitch) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getDimSize(2) == rows && type.getDimSize(3) == pitch)
    return value;
  Value interior = value;
  SmallVector<int64_t> low(4, 0);
  if (auto insert = value.getDefiningOp<tensor::InsertSliceOp>()) {
    auto fill = insert.getDest().getDefiningOp<linalg::FillOp>();
    auto copy = insert.getSource().getDefiningOp<linalg::CopyOp>();
    std::optional<SmallVector<int64_t>> offsets =
        getConstantIntValues(insert.getMixedOffsets());
    if (fill && copy && offsets &&
        matchPattern(fill.value(), m_AnyZeroFloat()) &&
        insert.hasUnitStride() && copy.getInputs().size() == 1) {
      interior = copy.getInputs()[0];
      low = *offsets;
    }
  }
  ArrayRef<int64_t> inner =
      cast<RankedTensorType>(interior.getType()).getShape();
  SmallVector<int64_t> shape = {type.getDimSize(0), type.getDimSize(1), rows,
                                pitch};
  SmallVector<int64_t> high;
  for (unsigned d = 0; d < 4; ++d)
    high.push_back(shape[d] - inner[d] - low[d]);
  Type element = type.getElementType();
  Value zero = arith::ConstantOp::create(rewriter, loc, element,
                                         rewriter.getZeroAttr(element));
  return mpc::padWithConstant(rewriter, loc, interior, low, high, zero);
}

/// The row pitch W' >= `width` over which a stride-1 convolution with
/// `oh` x `ow` outputs is computed as shifted windows (see the pass
/// description): OH * W' a multiple of two vectors (else of one), and W'
/// at most 1.2 OW. 0 when there is none.
static int64_t shiftedWindowPitch(int64_t oh, int64_t ow, int64_t width) {
  for (int64_t multiple : {32, 16})
    for (int64_t pitch = width; 5 * pitch <= 6 * ow; ++pitch)
      if ((oh * pitch) % multiple == 0)
        return pitch;
  return 0;
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
  if (!isa<FloatType>(acc) || !isa<FloatType>(inputType.getElementType()) ||
      !isa<FloatType>(filterType.getElementType()) ||
      llvm::any_of(conv.getStrides().getValues<int64_t>(),
                   [](int64_t s) { return s != 1; }))
    return failure();
  SmallVector<int64_t> dilations(conv.getDilations().getValues<int64_t>());
  int64_t n = outputType.getDimSize(0), f = outputType.getDimSize(1);
  int64_t oh = outputType.getDimSize(2), ow = outputType.getDimSize(3);
  int64_t kh = filterType.getDimSize(2), kw = filterType.getDimSize(3);
  int64_t pitch = shiftedWindowPitch(oh, ow, inputType.getDimSize(3));
  if (pitch == 0)
    return failure();
  // The last window's last tap reads (KW - 1) dw past the rows the
  // convolution covers.
  int64_t rows =
      std::max<int64_t>(inputType.getDimSize(2),
                        oh + (kh - 1) * dilations[0] +
                            llvm::divideCeil((kw - 1) * dilations[1], pitch));
  Location loc = conv.getLoc();
  MLIRContext *context = conv.getContext();
  Value image = padBottomRight(rewriter, loc, conv.getInputs()[0], rows, pitch);
  Value flatImage = tensor::CollapseShapeOp::create(
      rewriter, loc, image,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});

  // The accumulator over the wide rows: a fill refilled at the new shape,
  // anything else padded with zeros.
  Value init = conv.getOutputs()[0];
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    init = linalg::FillOp::create(
               rewriter, loc, fill.value(),
               Value(tensor::EmptyOp::create(
                   rewriter, loc, ArrayRef<int64_t>{n, f, oh, pitch}, acc)))
               .getResult(0);
  } else {
    init = padBottomRight(rewriter, loc, init, oh, pitch);
  }
  Value flatInit = tensor::CollapseShapeOp::create(
      rewriter, loc, init, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});

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
  Value wide = tensor::ExpandShapeOp::create(
      rewriter, loc, RankedTensorType::get({n, f, oh, pitch}, acc),
      contraction.getResult(0),
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  SmallVector<OpFoldResult> zeros(4, rewriter.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(4, rewriter.getIndexAttr(1));
  Value result = tensor::ExtractSliceOp::create(
      rewriter, loc, wide, zeros,
      getAsIndexOpFoldResult(context, outputType.getShape()), ones);
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
            succeeded(rewriteNchwAsShiftedWindows(rewriter, nchw)))
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

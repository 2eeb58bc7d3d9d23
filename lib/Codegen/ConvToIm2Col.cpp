//===- ConvToIm2Col.cpp - convolutions as matmuls -------------------------===//

#include "mpc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
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

/// im2col for an NCHW convolution with dilations, which upstream's
/// rewriteInIm2Col does not take: the same two ops it builds (the image as
/// [N, C*KH*KW, OH*OW] rows of receptive fields, a contraction with the
/// [F, C*KH*KW] filter), the taps `dilation` apart in the copy's map.
/// The weight gradient of a strided convolution is such a convolution
/// (dilated by the forward stride); as loops it was the slowest part of
/// training a CNN.
static LogicalResult rewriteDilatedInIm2Col(IRRewriter &rewriter,
                                            linalg::Conv2DNchwFchwOp conv) {
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
  Value output = tensor::CollapseShapeOp::create(
      rewriter, loc, conv.getOutputs()[0],
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  // cols[b, k, p] = x[b, k / (KH KW), (p / OW) sh + (k mod KH KW) / KW dh,
  //                    (p mod OW) sw + (k mod KW) dw]
  AffineExpr b = getAffineDimExpr(0, context), k = getAffineDimExpr(1, context),
             p = getAffineDimExpr(2, context);
  AffineExpr taps = k % (kh * kw);
  AffineMap gatherMap = AffineMap::get(
      3, 0,
      {b, k.floorDiv(kh * kw),
       p.floorDiv(ow) * strides[0] + taps.floorDiv(kw) * dilations[0],
       (p % ow) * strides[1] + (k % kw) * dilations[1]},
      context);
  Type colElement = inputType.getElementType();
  Value colsInit = tensor::EmptyOp::create(
      rewriter, loc, ArrayRef<int64_t>{n, c * kh * kw, oh * ow}, colElement);
  Value cols =
      linalg::GenericOp::create(
          rewriter, loc, colsInit.getType(), conv.getInputs()[0], colsInit,
          SmallVector<AffineMap>{gatherMap, rewriter.getMultiDimIdentityMap(3)},
          SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
          [](OpBuilder &nb, Location l, ValueRange args) {
            linalg::YieldOp::create(nb, l, args[0]);
          })
          .getResult(0);
  // out[b, f, p] += filter[f, k] * cols[b, k, p]
  AffineExpr d0 = getAffineDimExpr(0, context), d1 = getAffineDimExpr(1, context),
             d2 = getAffineDimExpr(2, context), d3 = getAffineDimExpr(3, context);
  SmallVector<AffineMap> maps = {AffineMap::get(4, 0, {d1, d3}, context),
                                 AffineMap::get(4, 0, {d0, d3, d2}, context),
                                 AffineMap::get(4, 0, {d0, d1, d2}, context)};
  auto matmul = linalg::GenericOp::create(
      rewriter, loc, output.getType(), ValueRange{filter, cols},
      ValueRange{output}, maps,
      SmallVector<utils::IteratorType>{
          utils::IteratorType::parallel, utils::IteratorType::parallel,
          utils::IteratorType::parallel, utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value product = arith::MulFOp::create(
            nb, l, toAccumulator(nb, l, args[0], acc),
            toAccumulator(nb, l, args[1], acc));
        linalg::YieldOp::create(
            nb, l, Value(arith::AddFOp::create(nb, l, product, args[2])));
      });
  Value result = tensor::ExpandShapeOp::create(
      rewriter, loc, outputType, matmul.getResult(0),
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
  rewriter.replaceOp(conv, result);
  return success();
}

namespace {
struct ConvToIm2Col : mpc::impl::MPCConvToIm2ColBase<ConvToIm2Col> {
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
          (void)rewriteDilatedInIm2Col(rewriter, nchw);
    }
  }
};
} // namespace

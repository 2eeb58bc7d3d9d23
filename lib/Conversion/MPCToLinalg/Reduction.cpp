//===- Reduction.cpp - reductions to linalg -------------------------------===//
//
// Lowering of reductions: ReduceSum, ReduceMean, ReduceMax.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

/// ReduceSum / ReduceMean / ReduceMax over `axes`, in the accumulate type.
template <typename OpTy>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    if (!isa<FloatType>(inputType.getElementType()))
      return rewriter.notifyMatchFailure(op, "integer reductions");
    int64_t rank = inputType.getRank();
    SmallVector<bool> reduced(rank, op.getAxes().empty());
    for (int64_t axis : op.getAxes())
      reduced[axis < 0 ? axis + rank : axis] = true;
    bool isMax = std::is_same_v<OpTy, ReduceMaxOp>;
    Type acc = isMax ? inputType.getElementType()
                     : accumulatorType(op, inputType.getElementType());

    SmallVector<int64_t> keptShape, dims;
    for (int64_t i = 0; i < rank; ++i) {
      if (reduced[i])
        dims.push_back(i);
      else
        keptShape.push_back(inputType.getDimSize(i));
    }
    auto accType = RankedTensorType::get(keptShape, acc);
    Value result = reduceDims(rewriter, loc, input, dims, acc, isMax);
    if (std::is_same_v<OpTy, ReduceMeanOp>) {
      Value countFloat = countElements(rewriter, loc, input, dims, acc);
      FailureOr<Value> mean = buildElementwise(
          rewriter, op, {result}, accType, nullptr,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(b, l, args[0], countFloat);
          });
      if (failed(mean))
        return failure();
      result = *mean;
    }
    auto resultType = cast<RankedTensorType>(op.getType());
    result = roundTo(rewriter, op, result,
                     RankedTensorType::get(keptShape, resultType.getElementType()));
    if (!result)
      return failure();
    if (op.getKeepdims() && !dims.empty()) {
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, result,
                                             keptDimGroups(reduced));
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mpc::populateReductionToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ReduceLowering<ReduceSumOp>, ReduceLowering<ReduceMeanOp>,
               ReduceLowering<ReduceMaxOp>>(context);
}

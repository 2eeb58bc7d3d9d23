//===- Loss.cpp - losses to linalg ----------------------------------------===//
//
// Lowering of losses and their gradients: NegativeLogLikelihoodLoss,
// SoftmaxCrossEntropyLoss.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

/// The gradients of the class losses with respect to their input:
/// softmax cross entropy's d scores = (exp(log_prob) - onehot(label)) *
/// w[label] * g / denominator; the negative log likelihood's
/// d log_prob = -onehot(label) * w[label] * g / denominator.
template <typename OpTy>
struct ClassLossGradLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpTy::Adaptor;
  static constexpr bool kThroughSoftmax =
      std::is_same_v<OpTy, SoftmaxCrossEntropyLossGradOp>;
  LogicalResult
  matchAndRewrite(OpTy op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logProb = adaptor.getLogProb(), labels = adaptor.getLabels();
    Value weights = adaptor.getWeights(), lossGrad = adaptor.getLossGrad();
    auto type = cast<RankedTensorType>(logProb.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    Type f32 = rewriter.getF32Type();
    std::optional<int64_t> ignore;
    if (auto attr = op.getIgnoreIndexAttr())
      ignore = attr.getValue().getSExtValue();
    auto labelType = cast<RankedTensorType>(labels.getType());
    int64_t labelRank = labelType.getRank();
    // Per-label weight (0 when ignored).
    auto labelWeight = [&](OpBuilder &b, Location l, Value label) {
      Type lt = label.getType();
      Value ignored = arith::ConstantOp::create(b, l, b.getI1Type(),
                                                b.getBoolAttr(false));
      if (ignore)
        ignored = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::eq, label,
            arith::ConstantOp::create(b, l, lt,
                                      b.getIntegerAttr(lt, *ignore)));
      Value w = f32Const(b, l, 1.0);
      if (weights) {
        Value safe = arith::SelectOp::create(
            b, l, ignored,
            arith::ConstantOp::create(b, l, lt, b.getIntegerAttr(lt, 0)),
            label);
        w = convertScalar(
            b, l,
            tensor::ExtractOp::create(
                b, l, weights,
                ValueRange{arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                      safe)}),
            f32);
      }
      return Value(arith::SelectOp::create(b, l, ignored, f32Const(b, l, 0.0),
                                           w));
    };
    Value perLabel =
        buildGeneric(rewriter, loc, labelType.getShape(), {f32}, {labels},
                     {rewriter.getMultiDimIdentityMap(labelRank)},
                     [&](OpBuilder &b, Location l, ValueRange args) {
                       return SmallVector<Value>{labelWeight(b, l, args[0])};
                     })[0];
    Value denominator;
    if (op.getReduction() == LossReduction::Mean) {
      SmallVector<int64_t> all =
          llvm::to_vector(llvm::seq<int64_t>(0, labelRank));
      denominator = reduceDims(rewriter, loc, perLabel, all, f32, ReductionKind::Sum);
    }
    int64_t rank = type.getRank();
    MLIRContext *context = op.getContext();
    SmallVector<AffineExpr> labelExprs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != 1)
        labelExprs.push_back(getAffineDimExpr(d, context));
    AffineMap labelMap = AffineMap::get(rank, 0, labelExprs, context);
    bool perElementGrad = op.getReduction() == LossReduction::None;
    // The log-likelihood's gradient does not read the log-probabilities.
    SmallVector<Value> inputs = {labels, perLabel, lossGrad};
    SmallVector<AffineMap> maps = {labelMap, labelMap,
                                   perElementGrad ? labelMap
                                                  : scalarMap(rewriter, rank)};
    if (denominator) {
      inputs.push_back(denominator);
      maps.push_back(scalarMap(rewriter, rank));
    }
    if (kThroughSoftmax) {
      inputs.push_back(logProb);
      maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    }
    Type resultElement = type.getElementType();
    Value result = buildGeneric(
        rewriter, loc, type.getShape(), {resultElement}, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value label = args[0], weight = args[1], grad = args[2];
          Value cls = arith::IndexCastOp::create(
              b, l, label.getType(), linalg::IndexOp::create(b, l, 1));
          Value hit =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, cls, label);
          Value onehot = arith::SelectOp::create(b, l, hit, f32Const(b, l, 1.0),
                                                 f32Const(b, l, 0.0));
          Value d;
          if constexpr (kThroughSoftmax)
            d = arith::SubFOp::create(
                b, l,
                math::ExpOp::create(b, l,
                                    convertScalar(b, l, args.back(), f32)),
                onehot);
          else
            d = arith::NegFOp::create(b, l, onehot);
          Value v = arith::MulFOp::create(b, l, d, weight);
          v = arith::MulFOp::create(b, l, v, convertScalar(b, l, grad, f32));
          if (denominator)
            v = arith::DivFOp::create(b, l, v, args[3]);
          return SmallVector<Value>{convertScalar(b, l, v, resultElement)};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The elements of `loss`, reduced as ONNX asks: none keeps them, sum adds
/// them, mean divides the sum by the sum of the per-element weights.
Value reduceLoss(OpBuilder &b, Location loc, Value loss, Value weights,
                 LossReduction reduction, Type acc) {
  if (reduction == LossReduction::None)
    return loss;
  int64_t rank = cast<RankedTensorType>(loss.getType()).getRank();
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value sum = reduceDims(b, loc, loss, all, acc, ReductionKind::Sum);
  if (reduction == LossReduction::Sum)
    return sum;
  Value weightSum = reduceDims(b, loc, weights, all, acc, ReductionKind::Sum);
  return mapGeneric(b, loc, sum, acc, {sum, weightSum},
                    {b.getMultiDimIdentityMap(0), b.getMultiDimIdentityMap(0)},
                    [](OpBuilder &nb, Location l, ValueRange args) {
                      return Value(
                          arith::DivFOp::create(nb, l, args[0], args[1]));
                    });
}

/// NegativeLogLikelihoodLoss: one generic over the target's [N, d...]
/// reads input[n, target, d...] and weight[target] (tensor.extract, the
/// class index is data), yielding -input * weight and the weight (0 where
/// the target is ignore_index, whose class index is then never read).
struct NegativeLogLikelihoodLossLowering
    : OpConversionPattern<NegativeLogLikelihoodLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NegativeLogLikelihoodLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), target = adaptor.getTarget();
    Value weight = adaptor.getWeight();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto targetType = cast<RankedTensorType>(target.getType());
    Type acc = mathType(accumulatorType(op, inputType.getElementType()));
    std::optional<int64_t> ignore;
    if (auto attr = op.getIgnoreIndexAttr())
      ignore = attr.getValue().getSExtValue();
    int64_t rank = targetType.getRank();
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < rank; ++i)
      sizes.push_back(tensor::getMixedSize(rewriter, loc, target, i));
    Value lossInit = tensor::EmptyOp::create(rewriter, loc, sizes, acc);
    Value weightInit = tensor::EmptyOp::create(rewriter, loc, sizes, acc);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto perElement = linalg::GenericOp::create(
        rewriter, loc, TypeRange{lossInit.getType(), weightInit.getType()},
        ValueRange{target}, ValueRange{lossInit, weightInit},
        SmallVector<AffineMap>{id, id, id}, iterators, "", "",
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value label = args[0];
          Type labelType = label.getType();
          Value zeroLabel = arith::ConstantOp::create(
              b, l, labelType, b.getIntegerAttr(labelType, 0));
          Value ignored = arith::ConstantOp::create(b, l, b.getI1Type(),
                                                    b.getBoolAttr(false));
          if (ignore)
            ignored = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::eq, label,
                arith::ConstantOp::create(
                    b, l, labelType, b.getIntegerAttr(labelType, *ignore)));
          Value safe = arith::SelectOp::create(b, l, ignored, zeroLabel, label);
          Value cls = arith::IndexCastOp::create(b, l, b.getIndexType(), safe);
          SmallVector<Value> indices;
          indices.push_back(linalg::IndexOp::create(b, l, 0));
          indices.push_back(cls);
          for (int64_t d = 1; d < rank; ++d)
            indices.push_back(linalg::IndexOp::create(b, l, d));
          Value logProb = convertScalar(
              b, l, tensor::ExtractOp::create(b, l, input, indices), acc);
          Value w = floatConstant(b, l, acc, 1.0);
          if (weight)
            w = convertScalar(
                b, l, tensor::ExtractOp::create(b, l, weight, ValueRange{cls}),
                acc);
          w = arith::SelectOp::create(b, l, ignored,
                                      floatConstant(b, l, acc, 0.0), w);
          Value loss = arith::NegFOp::create(
              b, l, arith::MulFOp::create(b, l, logProb, w));
          linalg::YieldOp::create(b, l, ValueRange{loss, w});
        });
    Value loss = reduceLoss(rewriter, loc, perElement.getResult(0),
                            perElement.getResult(1), op.getReduction(), acc);
    auto resultType = cast<RankedTensorType>(op.getLoss().getType());
    loss = roundTo(rewriter, op, loss, resultType);
    if (!loss)
      return failure();
    rewriter.replaceOp(op, loss);
    return success();
  }
};

/// SoftmaxCrossEntropyLoss = NegativeLogLikelihoodLoss(LogSoftmax(scores,
/// axis 1)); both are built as mpc ops and lowered by their own patterns.
struct SoftmaxCrossEntropyLossLowering
    : OpConversionPattern<SoftmaxCrossEntropyLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto logProbType = cast<RankedTensorType>(op.getLogProb().getType());
    auto logSoftmax = LogSoftmaxOp::create(
        rewriter, loc, logProbType, adaptor.getScores(),
        rewriter.getI64IntegerAttr(1), op.getPrecisionAttr());
    auto nll = NegativeLogLikelihoodLossOp::create(
        rewriter, loc, op.getLoss().getType(), logSoftmax.getResult(),
        adaptor.getLabels(), adaptor.getWeights(), op.getReductionAttr(),
        op.getIgnoreIndexAttr(), op.getPrecisionAttr());
    rewriter.replaceOp(op, ValueRange{nll.getResult(), logSoftmax.getResult()});
    return success();
  }
};

} // namespace

void mpc::populateLossToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<NegativeLogLikelihoodLossLowering,
               SoftmaxCrossEntropyLossLowering,
               ClassLossGradLowering<SoftmaxCrossEntropyLossGradOp>,
               ClassLossGradLowering<NegativeLogLikelihoodLossGradOp>>(context);
}

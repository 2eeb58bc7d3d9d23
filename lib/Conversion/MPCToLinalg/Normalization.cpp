//===- Normalization.cpp - normalisation to linalg ------------------------===//
//
// Lowering of normalisation: Softmax, LogSoftmax, LayerNormalization,
// BatchNormalization.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

/// Softmax / LogSoftmax along one axis, in the accumulate type:
/// exp(x - max) / sum(exp(x - max)), or its log.
template <typename OpTy, bool isLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    // I64Attr getters return uint64_t: go through int64_t before the sign.
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Type acc = mathType(accumulatorType(op, type.getElementType()));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reduced = reducedMap(rank, {axis}, context);
    Value max = reduceDims(rewriter, loc, x, {axis}, acc, ReductionKind::Max);
    // exp(x - max) in the accumulator type.
    Value shifted = mapGeneric(
        rewriter, loc, x, acc, {x, max}, {id, reduced},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::SubFOp::create(b, l, convertScalar(b, l, args[0], acc),
                                       args[1]);
        });
    Value exps = mapGeneric(rewriter, loc, x, acc, {shifted}, {id},
                            [&](OpBuilder &b, Location l, ValueRange args) {
                              return Value(math::ExpOp::create(b, l, args[0]));
                            });
    Value sum = reduceDims(rewriter, loc, exps, {axis}, acc, ReductionKind::Sum);
    Type resultElement = getElementTypeOrSelf(op.getType());
    Value result = mapGeneric(
        rewriter, loc, x, resultElement, {isLog ? shifted : exps, sum},
        {id, reduced}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = isLog ? Value(arith::SubFOp::create(
                                b, l, args[0], math::LogOp::create(b, l, args[1])))
                          : Value(arith::DivFOp::create(b, l, args[0], args[1]));
          return convertScalar(b, l, v, resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// LayerNorm over the dims from `axis` on: statistics in fp32, then
/// (x - mean) * invstd * scale + bias rounded to the result type.
struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> dims;
    for (int64_t i = axis; i < rank; ++i)
      dims.push_back(i);
    Type f32 = rewriter.getF32Type();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap stats = reducedMap(rank, dims, context);
    // Elements per normalised slice.
    Value n = countElements(rewriter, loc, x, dims, f32);
    Value sum = reduceDims(rewriter, loc, x, dims, f32, ReductionKind::Sum);
    Value mean = mapGeneric(rewriter, loc, sum, f32, {sum},
                            {rewriter.getMultiDimIdentityMap(rank - dims.size())},
                            [&](OpBuilder &b, Location l, ValueRange args) {
                              return Value(arith::DivFOp::create(b, l, args[0], n));
                            });
    Value centered = mapGeneric(
        rewriter, loc, x, f32, {x, mean}, {id, stats},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::SubFOp::create(b, l, convertScalar(b, l, args[0], f32),
                                       args[1]);
        });
    Value squares = mapGeneric(rewriter, loc, x, f32, {centered}, {id},
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 return Value(arith::MulFOp::create(b, l, args[0], args[0]));
                               });
    Value sumSquares = reduceDims(rewriter, loc, squares, dims, f32, ReductionKind::Sum);
    double epsilon = op.getEpsilon().convertToDouble();
    Value invStd = mapGeneric(
        rewriter, loc, sumSquares, f32, {sumSquares},
        {rewriter.getMultiDimIdentityMap(rank - dims.size())},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value variance = arith::DivFOp::create(b, l, args[0], n);
          // 1 / sqrt, not rsqrt: libm has no rsqrtf.
          Value std = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, variance,
                                          floatConstant(b, l, f32, epsilon)));
          return arith::DivFOp::create(b, l, floatConstant(b, l, f32, 1.0),
                                       std);
        });
    // Scale and bias broadcast against the normalised dims.
    auto paramMap = [&](Value param) {
      auto paramType = cast<RankedTensorType>(param.getType());
      SmallVector<AffineExpr> exprs;
      int64_t offset = rank - paramType.getRank();
      for (int64_t i = 0; i < paramType.getRank(); ++i)
        exprs.push_back(paramType.getDimSize(i) == 1 &&
                                type.getDimSize(i + offset) != 1
                            ? getAffineConstantExpr(0, context)
                            : getAffineDimExpr(i + offset, context));
      return AffineMap::get(rank, 0, exprs, context);
    };
    SmallVector<Value> inputs = {centered, invStd, adaptor.getScale()};
    SmallVector<AffineMap> maps = {id, stats, paramMap(adaptor.getScale())};
    if (Value bias = adaptor.getBias()) {
      inputs.push_back(bias);
      maps.push_back(paramMap(bias));
    }
    Type resultElement = getElementTypeOrSelf(op.getOutput().getType());
    Value y = mapGeneric(
        rewriter, loc, x, resultElement, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value v = arith::MulFOp::create(b, l, args[0], args[1]);
          v = arith::MulFOp::create(b, l, v, convertScalar(b, l, args[2], f32));
          if (args.size() > 3)
            v = arith::AddFOp::create(b, l, v, convertScalar(b, l, args[3], f32));
          return convertScalar(b, l, v, resultElement);
        });
    // The statistics results keep the normalised dims as size 1.
    SmallVector<bool> normalised(rank, false);
    for (int64_t d : dims)
      normalised[d] = true;
    auto expandStats = [&](Value v, Type resultType) -> Value {
      return tensor::ExpandShapeOp::create(rewriter, loc, resultType, v,
                                           keptDimGroups(normalised));
    };
    rewriter.replaceOp(op, {y, expandStats(mean, op.getMean().getType()),
                            expandStats(invStd, op.getInvStdDev().getType())});
    return success();
  }
};

/// BatchNorm over the channel dim. Inference normalises with the running
/// statistics; training with the batch's (population variance), and
/// updates the running ones: momentum * running + (1 - momentum) * batch,
/// all in fp32, as ONNX specifies (the batch variance unbiased for
/// PyTorch's running variance).
struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    Type f32 = rewriter.getF32Type();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel =
        AffineMap::get(rank, 0, {getAffineDimExpr(1, context)}, context);
    AffineMap vec = rewriter.getMultiDimIdentityMap(1);
    double epsilon = op.getEpsilon().convertToDouble();
    double momentum = op.getMomentum().convertToDouble();
    Value mean = adaptor.getMean(), variance = adaptor.getVariance();
    Value runningMean = mean, runningVariance = variance;
    if (op.getTraining()) {
      SmallVector<int64_t> dims = {0};
      for (int64_t i = 2; i < rank; ++i)
        dims.push_back(i);
      Value n = countElements(rewriter, loc, x, dims, f32);
      Value sum = reduceDims(rewriter, loc, x, dims, f32, ReductionKind::Sum);
      Value batchMean = mapGeneric(rewriter, loc, sum, f32, {sum}, {vec},
                                   [&](OpBuilder &b, Location l, ValueRange a) {
                                     return Value(arith::DivFOp::create(b, l, a[0], n));
                                   });
      Value squares = mapGeneric(
          rewriter, loc, x, f32, {x, batchMean}, {id, channel},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value d = arith::SubFOp::create(b, l, convertScalar(b, l, a[0], f32),
                                            a[1]);
            return arith::MulFOp::create(b, l, d, d);
          });
      Value sumSquares = reduceDims(rewriter, loc, squares, dims, f32, ReductionKind::Sum);
      Value batchVariance =
          mapGeneric(rewriter, loc, sumSquares, f32, {sumSquares}, {vec},
                     [&](OpBuilder &b, Location l, ValueRange a) {
                       return Value(arith::DivFOp::create(b, l, a[0], n));
                     });
      // ONNX updates the running variance with the batch's population
      // variance, PyTorch with the unbiased one.
      Value runningBatchVariance = batchVariance;
      if (op.getUnbiasedRunningVariance())
        runningBatchVariance = mapGeneric(
            rewriter, loc, sumSquares, f32, {sumSquares}, {vec},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value nMinusOne = arith::SubFOp::create(
                  b, l, n, floatConstant(b, l, f32, 1.0));
              return Value(arith::DivFOp::create(b, l, a[0], nMinusOne));
            });
      auto update = [&](Value running, Value batch) {
        return mapGeneric(
            rewriter, loc, running, f32, {running, batch}, {vec, vec},
            [&](OpBuilder &b, Location l, ValueRange a) -> Value {
              Value stat = a[1];
              Value keep = arith::MulFOp::create(
                  b, l, convertScalar(b, l, a[0], f32),
                  floatConstant(b, l, f32, momentum));
              Value take = arith::MulFOp::create(
                  b, l, stat, floatConstant(b, l, f32, 1.0 - momentum));
              return arith::AddFOp::create(b, l, keep, take);
            });
      };
      runningMean = update(mean, batchMean);
      runningVariance = update(variance, runningBatchVariance);
      mean = batchMean;
      variance = batchVariance;
    }
    Type resultElement = getElementTypeOrSelf(op.getOutput().getType());
    // Per channel: scale / sqrt(var + eps), once; per element a subtract
    // and a multiply-add, (x - mean) keeping the cancellation exact-ish.
    Value factor = mapGeneric(
        rewriter, loc, mean, f32, {adaptor.getScale(), variance}, {vec, vec},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value std = math::SqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, convertScalar(b, l, a[1], f32),
                                    floatConstant(b, l, f32, epsilon)));
          return arith::DivFOp::create(b, l, convertScalar(b, l, a[0], f32),
                                       std);
        });
    Value y = mapGeneric(
        rewriter, loc, x, resultElement,
        {x, factor, adaptor.getBias(), mean}, {id, channel, channel, channel},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto f = [&](Value v) { return convertScalar(b, l, v, f32); };
          Value centred = arith::SubFOp::create(b, l, f(a[0]), f(a[3]));
          Value v = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, centred, a[1]), f(a[2]));
          return convertScalar(b, l, v, resultElement);
        });
    rewriter.replaceOp(op, {y, runningMean, runningVariance});
    return success();
  }
};

} // namespace

void mpc::populateNormalizationToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<SoftmaxLowering<SoftmaxOp, false>,
               SoftmaxLowering<LogSoftmaxOp, true>, LayerNormLowering,
               BatchNormLowering>(context);
}

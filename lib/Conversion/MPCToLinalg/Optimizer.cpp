//===- Optimizer.cpp - optimizer updates and loss scaling to linalg -------===//
//
// Lowering of the optimizer and loss scaling: SGD, momentum and Adam(W)
// updates, gradient unscaling with its finite check, the loss-scale update.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

/// Reads the `lr`-like 0-d operands of an optimizer op alongside its
/// elementwise ones.
struct OptimizerOperands {
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
};

OptimizerOperands optimizerOperands(OpBuilder &b, ValueRange elementwise,
                                    ValueRange scalars, int64_t rank) {
  OptimizerOperands operands;
  for (Value v : elementwise) {
    operands.inputs.push_back(v);
    operands.maps.push_back(b.getMultiDimIdentityMap(rank));
  }
  for (Value v : scalars) {
    operands.inputs.push_back(v);
    operands.maps.push_back(scalarMap(b, rank));
  }
  return operands;
}

struct SGDUpdateLowering : OpConversionPattern<SGDUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SGDUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static fp32 tensors");
    OptimizerOperands in = optimizerOperands(
        rewriter, {adaptor.getParam(), adaptor.getGrad()},
        {adaptor.getLr(), adaptor.getWeightDecay()}, type.getRank());
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, op.getLoc(), type.getShape(), {type.getElementType()},
                in.inputs, in.maps,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value g = arith::AddFOp::create(
                      b, l, a[1], arith::MulFOp::create(b, l, a[3], a[0]));
                  return SmallVector<Value>{arith::SubFOp::create(
                      b, l, a[0], arith::MulFOp::create(b, l, a[2], g))};
                }));
    return success();
  }
};

struct MomentumUpdateLowering : OpConversionPattern<MomentumUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MomentumUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static fp32 tensors");
    double momentum = op.getMomentum().convertToDouble();
    double dampening = op.getDampening().convertToDouble();
    bool nesterov = op.getNesterov();
    Type f32 = type.getElementType();
    OptimizerOperands in = optimizerOperands(
        rewriter, {adaptor.getParam(), adaptor.getGrad(), adaptor.getBuffer()},
        {adaptor.getLr(), adaptor.getStep(), adaptor.getWeightDecay()},
        type.getRank());
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, op.getLoc(), type.getShape(), {f32, f32}, in.inputs,
                in.maps, [&](OpBuilder &b, Location l, ValueRange a) {
                  Value p = a[0], buf = a[2], lr = a[3], step = a[4];
                  Value d = arith::AddFOp::create(
                      b, l, a[1], arith::MulFOp::create(b, l, a[5], p));
                  // torch: the first step's buffer is the gradient itself.
                  Value first = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::eq, step,
                      arith::ConstantIntOp::create(b, l, step.getType(), 0));
                  Value blended = arith::AddFOp::create(
                      b, l, arith::MulFOp::create(b, l, f32Const(b, l, momentum), buf),
                      arith::MulFOp::create(b, l, f32Const(b, l, 1 - dampening), d));
                  Value newBuf = arith::SelectOp::create(b, l, first, d, blended);
                  Value update =
                      nesterov ? Value(arith::AddFOp::create(
                                     b, l, d,
                                     arith::MulFOp::create(
                                         b, l, f32Const(b, l, momentum), newBuf)))
                               : newBuf;
                  Value newP = arith::SubFOp::create(
                      b, l, p, arith::MulFOp::create(b, l, lr, update));
                  return SmallVector<Value>{newP, newBuf};
                }));
    return success();
  }
};

struct AdamUpdateLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static fp32 tensors");
    double b1 = op.getBeta1().convertToDouble();
    double b2 = op.getBeta2().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    bool decoupled = op.getDecoupled();
    Type f32 = type.getElementType();
    // The bias corrections 1 - beta^t of this step (t = step + 1), once per
    // update rather than per element: a pow per element was most of the
    // code LLVM had to compile for a model of many small parameters.
    SmallVector<Value> corrections = buildGeneric(
        rewriter, op.getLoc(), {}, {f32, f32}, {adaptor.getStep()},
        {scalarMap(rewriter, 0)}, [&](OpBuilder &b, Location l, ValueRange a) {
          Value t = arith::SIToFPOp::create(
              b, l, b.getF32Type(),
              arith::AddIOp::create(
                  b, l, a[0],
                  arith::ConstantIntOp::create(b, l, a[0].getType(), 1)));
          auto correction = [&](double beta) -> Value {
            return arith::SubFOp::create(
                b, l, f32Const(b, l, 1.0),
                math::PowFOp::create(b, l, f32Const(b, l, beta), t));
          };
          return SmallVector<Value>{correction(b1), correction(b2)};
        });
    OptimizerOperands in = optimizerOperands(
        rewriter,
        {adaptor.getParam(), adaptor.getGrad(), adaptor.getM(), adaptor.getV()},
        {adaptor.getLr(), corrections[0], corrections[1],
         adaptor.getWeightDecay()},
        type.getRank());
    rewriter.replaceOp(
        op,
        buildGeneric(
            rewriter, op.getLoc(), type.getShape(), {f32, f32, f32}, in.inputs,
            in.maps, [&](OpBuilder &b, Location l, ValueRange a) {
              Value p = a[0], g = a[1], m = a[2], v = a[3], lr = a[4];
              Value correction1 = a[5], correction2 = a[6];
              auto c = [&](double x) { return f32Const(b, l, x); };
              auto mul = [&](Value x, Value y) {
                return Value(arith::MulFOp::create(b, l, x, y));
              };
              auto add = [&](Value x, Value y) {
                return Value(arith::AddFOp::create(b, l, x, y));
              };
              auto sub = [&](Value x, Value y) {
                return Value(arith::SubFOp::create(b, l, x, y));
              };
              Value decay = a[7];
              if (decoupled)
                p = mul(p, sub(c(1.0), mul(lr, decay)));
              else
                g = add(g, mul(decay, a[0]));
              Value newM = add(mul(c(b1), m), mul(c(1 - b1), g));
              Value newV = add(mul(c(b2), v), mul(c(1 - b2), mul(g, g)));
              Value mHat = arith::DivFOp::create(b, l, newM, correction1);
              Value vHat = arith::DivFOp::create(b, l, newV, correction2);
              Value denom = add(math::SqrtOp::create(b, l, vHat), c(eps));
              Value newP =
                  sub(p, mul(lr, arith::DivFOp::create(b, l, mHat, denom)));
              return SmallVector<Value>{newP, newM, newV};
            }));
    return success();
  }
};

/// g / scale per gradient, and whether every element of every gradient is
/// finite (x * 0 == 0 fails exactly for inf and NaN). The flags are 1.0 or
/// 0.0 in f32 and reduced with `minimumf`, so that the GPU runs the check
/// as a block reduction like any other f32 reduction.
struct UnscaleGradientsLowering : OpConversionPattern<UnscaleGradientsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UnscaleGradientsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type i1 = rewriter.getI1Type(), f32 = rewriter.getF32Type();
    SmallVector<Value> results;
    Value allFinite;
    for (Value grad : adaptor.getGradients()) {
      auto type = cast<RankedTensorType>(grad.getType());
      if (!type.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shape");
      int64_t rank = type.getRank();
      Type element = type.getElementType();
      SmallVector<Value> unscaled = buildGeneric(
          rewriter, loc, type.getShape(), {element, f32},
          {grad, adaptor.getScale()},
          {rewriter.getMultiDimIdentityMap(rank), scalarMap(rewriter, rank)},
          [&](OpBuilder &b, Location l, ValueRange a) {
            Value x = convertScalar(b, l, a[0], b.getF32Type());
            Value scaled = arith::DivFOp::create(b, l, x, a[1]);
            Value zero = f32Const(b, l, 0.0);
            Value finite = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ,
                arith::MulFOp::create(b, l, x, zero), zero);
            Value flag = arith::SelectOp::create(b, l, finite,
                                                 f32Const(b, l, 1.0), zero);
            return SmallVector<Value>{convertScalar(b, l, scaled, element),
                                      flag};
          });
      results.push_back(unscaled[0]);
      // all() over the flags: their minimum is 1 when every one is.
      SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
      Value init =
          linalg::FillOp::create(
              rewriter, loc, ValueRange{f32Const(rewriter, loc, 1.0)},
              ValueRange{tensor::EmptyOp::create(
                  rewriter, loc, ArrayRef<int64_t>{}, f32)})
              .getResult(0);
      Value minimum =
          linalg::ReduceOp::create(
              rewriter, loc, ValueRange{unscaled[1]}, ValueRange{init}, dims,
              [](OpBuilder &b, Location l, ValueRange a) {
                linalg::YieldOp::create(
                    b, l, Value(arith::MinimumFOp::create(b, l, a[0], a[1])));
              })
              .getResult(0);
      Value finite = buildGeneric(
          rewriter, loc, {}, {i1}, {minimum}, {scalarMap(rewriter, 0)},
          [](OpBuilder &b, Location l, ValueRange a) {
            return SmallVector<Value>{arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ, a[0], f32Const(b, l, 1.0))};
          })[0];
      allFinite =
          allFinite
              ? buildGeneric(rewriter, loc, {}, {i1}, {allFinite, finite},
                             {scalarMap(rewriter, 0), scalarMap(rewriter, 0)},
                             [](OpBuilder &b, Location l, ValueRange a) {
                               return SmallVector<Value>{
                                   arith::AndIOp::create(b, l, a[0], a[1])};
                             })[0]
              : finite;
    }
    results.push_back(allFinite);
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct UpdateLossScaleLowering : OpConversionPattern<UpdateLossScaleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UpdateLossScaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double growth = op.getGrowthFactor().convertToDouble();
    double backoff = op.getBackoffFactor().convertToDouble();
    int64_t interval = op.getGrowthInterval();
    double maxScale = op.getMaxScale().convertToDouble();
    Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, op.getLoc(), {}, {f32, i64},
                {adaptor.getScale(), adaptor.getCleanSteps(), adaptor.getFinite()},
                {scalarMap(rewriter, 0), scalarMap(rewriter, 0),
                 scalarMap(rewriter, 0)},
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value scale = a[0], clean = a[1], finite = a[2];
                  Value zero = arith::ConstantIntOp::create(b, l, i64, 0);
                  Value next = arith::AddIOp::create(
                      b, l, clean, arith::ConstantIntOp::create(b, l, i64, 1));
                  Value grow = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::sge, next,
                      arith::ConstantIntOp::create(b, l, i64, interval));
                  Value grown = arith::MinimumFOp::create(
                      b, l,
                      arith::MulFOp::create(b, l, scale, f32Const(b, l, growth)),
                      f32Const(b, l, maxScale));
                  Value cleanScale =
                      arith::SelectOp::create(b, l, grow, grown, scale);
                  Value cleanCount =
                      arith::SelectOp::create(b, l, grow, zero, next);
                  Value backedOff =
                      arith::MulFOp::create(b, l, scale, f32Const(b, l, backoff));
                  return SmallVector<Value>{
                      arith::SelectOp::create(b, l, finite, cleanScale,
                                              backedOff),
                      arith::SelectOp::create(b, l, finite, cleanCount, zero)};
                }));
    return success();
  }
};

} // namespace

void mpc::populateOptimizerToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<SGDUpdateLowering, MomentumUpdateLowering, AdamUpdateLowering,
               UnscaleGradientsLowering, UpdateLossScaleLowering>(context);
}

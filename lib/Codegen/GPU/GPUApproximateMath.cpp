//===- GPUApproximateMath.cpp - math functions as arithmetic for GPUs -----===//

#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUAPPROXIMATEMATH
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

/// |x| by clearing the sign bit (NVVM would call libdevice's __nv_fabsf).
Value absoluteValue(OpBuilder &b, Location loc, Value x) {
  auto type = cast<FloatType>(x.getType());
  Type bits = b.getIntegerType(type.getWidth());
  Value raw = arith::BitcastOp::create(b, loc, bits, x);
  Value mask = arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(bits, APInt::getSignedMaxValue(type.getWidth())));
  return arith::BitcastOp::create(b, loc, type,
                                  arith::AndIOp::create(b, loc, raw, mask));
}

struct AbsThroughBits : OpRewritePattern<math::AbsFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::AbsFOp op,
                                PatternRewriter &rewriter) const override {
    if (!isa<FloatType>(op.getType()))
      return rewriter.notifyMatchFailure(op, "scalars only");
    rewriter.replaceOp(op, absoluteValue(rewriter, op.getLoc(), op.getOperand()));
    return success();
  }
};

/// Correctly rounded f32 square roots as NVVM's own intrinsic (sqrt.rn.f32)
/// rather than libdevice's __nv_sqrtf; rsqrt as 1 / sqrt.
template <typename OpTy>
struct SqrtThroughNVVM : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return rewriter.notifyMatchFailure(op, "scalar f32 only");
    Location loc = op.getLoc();
    Value root = LLVM::CallIntrinsicOp::create(
                     rewriter, loc, op.getType(),
                     rewriter.getStringAttr("llvm.nvvm.sqrt.rn.f"),
                     ValueRange{op.getOperand()})
                     .getResult(0);
    if (std::is_same_v<OpTy, math::RsqrtOp>)
      root = arith::DivFOp::create(
          rewriter, loc,
          arith::ConstantOp::create(rewriter, loc,
                                    rewriter.getF32FloatAttr(1.0f)),
          root);
    rewriter.replaceOp(op, root);
    return success();
  }
};

/// floor/ceil/trunc of f32 (and narrower) through an i32 round trip: exact,
/// because every float of magnitude 2^23 or more is already an integer.
/// NVVM would call libdevice's __nv_floorf for them.
template <typename OpTy>
struct RoundThroughInteger : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<FloatType>(op.getType());
    if (!type || type.getWidth() > 32)
      return rewriter.notifyMatchFailure(op, "scalar f32 or narrower only");
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Type i32 = rewriter.getI32Type();
    auto constant = [&](double v) {
      return arith::ConstantOp::create(rewriter, loc,
                                       rewriter.getFloatAttr(type, v));
    };
    Value truncated = arith::SIToFPOp::create(
        rewriter, loc, type, arith::FPToSIOp::create(rewriter, loc, i32, x));
    Value result = truncated;
    if (std::is_same_v<OpTy, math::FloorOp>) {
      Value above = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OGT,
                                          truncated, x);
      result = arith::SelectOp::create(
          rewriter, loc, above,
          arith::SubFOp::create(rewriter, loc, truncated, constant(1)),
          truncated);
    } else if (std::is_same_v<OpTy, math::CeilOp>) {
      Value below = arith::CmpFOp::create(rewriter, loc, arith::CmpFPredicate::OLT,
                                          truncated, x);
      result = arith::SelectOp::create(
          rewriter, loc, below,
          arith::AddFOp::create(rewriter, loc, truncated, constant(1)),
          truncated);
    }
    // Large magnitudes (and NaN, inf) are their own result.
    Value small = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OLT,
        absoluteValue(rewriter, loc, x), constant(8388608.0));
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, small, result, x);
    return success();
  }
};

struct GPUApproximateMath
    : mpc::impl::MPCGPUApproximateMathBase<GPUApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // pow, fpowi, ... in terms of exp/log and friends, then those as
    // polynomials (f16/bf16 functions evaluated in f32).
    math::populateExpansionPatterns(patterns, {});
    populateMathF32ExpansionPatterns(patterns, [](StringRef) { return true; });
    populateMathPolynomialApproximationPatterns(patterns,
                                                [](StringRef) { return true; });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // The approximations themselves use floor (exp's range reduction).
    RewritePatternSet rounding(&getContext());
    rounding.add<RoundThroughInteger<math::FloorOp>,
                 RoundThroughInteger<math::CeilOp>,
                 RoundThroughInteger<math::TruncOp>, AbsThroughBits,
                 SqrtThroughNVVM<math::SqrtOp>, SqrtThroughNVVM<math::RsqrtOp>>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(rounding))))
      return signalPassFailure();
  }
};

} // namespace

//===- OptimizeCasts.cpp - fewer and smaller casts ------------------------===//
//
// Cleans up after cast insertion and after any pass that adds casts:
// merges duplicates, folds exact chains (and inexact ones on request),
// folds casts of constants, and moves casts across data-movement ops to
// the side where the tensor is smaller (before an Expand, after a Slice).
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCOPTIMIZECASTS
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

/// Elements of a static tensor type, or nullopt when a dim is dynamic.
std::optional<int64_t> staticElements(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return std::nullopt;
  return tensor.getNumElements();
}

/// Data-movement ops a cast commutes with: one tensor operand (the first)
/// whose element type the single result shares, exact in any precision.
bool isMovableDataOp(Operation *op) {
  return isa<SliceOp, GatherOp, ExpandOp, TransposeOp, ReshapeOp, FlattenOp,
             SqueezeOp, UnsqueezeOp, IdentityOp>(op) &&
         op->getNumResults() == 1 && op->getRegions().empty();
}

/// Marks a clear op as computing in `element` after a cast moved across it.
void updateDecision(Operation *op, Type element) {
  auto decision = op->getAttrOfType<DecisionAttr>(kDecisionAttrName);
  if (!decision)
    return;
  bool low = !element.isF32();
  if (decision.getLow() == low)
    return;
  op->setAttr(kDecisionAttrName,
              DecisionAttr::get(op->getContext(), decision.getPrecisionClass(),
                                low,
                                (decision.getReason() +
                                 "; moved cast across it (fewer bytes)")
                                    .str()));
}

/// Clones `dataOp` reading `input` (of another element type).
Value rebuildDataOp(PatternRewriter &rewriter, Operation *dataOp, Value input) {
  Operation *clone = rewriter.clone(*dataOp);
  clone->setOperand(0, input);
  Type element = getElementTypeOrSelf(input);
  auto resultType = cast<RankedTensorType>(clone->getResult(0).getType());
  clone->getResult(0).setType(resultType.clone(element));
  updateDecision(clone, element);
  return clone->getResult(0);
}

/// cast(expand(x)) -> expand(cast(x)) when x is smaller than the result.
struct HoistCastAboveGrowingOp : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp castOp,
                                PatternRewriter &rewriter) const override {
    Operation *dataOp = castOp.getInput().getDefiningOp();
    if (!dataOp || !isMovableDataOp(dataOp) || !dataOp->hasOneUse() ||
        dataOp->getParentRegion() != castOp->getParentRegion())
      return failure();
    auto in = staticElements(dataOp->getOperand(0).getType());
    auto out = staticElements(dataOp->getResult(0).getType());
    if (!in || !out || *in >= *out)
      return failure();
    Value input = dataOp->getOperand(0);
    auto inputType = cast<RankedTensorType>(input.getType());
    rewriter.setInsertionPoint(dataOp);
    Value newCast = CastOp::create(
        rewriter, castOp.getLoc(),
        inputType.clone(getElementTypeOrSelf(castOp.getType())), input);
    Value moved = rebuildDataOp(rewriter, dataOp, newCast);
    rewriter.replaceOp(castOp, moved);
    return success();
  }
};

/// slice(cast(x)) -> cast(slice(x)) when the result is smaller than x.
struct SinkCastBelowShrinkingOp : RewritePattern {
  SinkCastBelowShrinkingOp(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}
  LogicalResult matchAndRewrite(Operation *dataOp,
                                PatternRewriter &rewriter) const override {
    if (!isMovableDataOp(dataOp) || dataOp->getNumOperands() == 0)
      return failure();
    auto castOp = dataOp->getOperand(0).getDefiningOp<CastOp>();
    if (!castOp || !castOp->hasOneUse() ||
        castOp->getParentRegion() != dataOp->getParentRegion())
      return failure();
    auto in = staticElements(dataOp->getOperand(0).getType());
    auto out = staticElements(dataOp->getResult(0).getType());
    if (!in || !out || *out >= *in)
      return failure();
    rewriter.setInsertionPoint(dataOp);
    Value moved = rebuildDataOp(rewriter, dataOp, castOp.getInput());
    auto resultType = cast<RankedTensorType>(dataOp->getResult(0).getType());
    Value newCast = CastOp::create(rewriter, castOp.getLoc(), resultType, moved);
    rewriter.replaceOp(dataOp, newCast);
    rewriter.eraseOp(castOp);
    return success();
  }
};

/// cast(cast(x : A -> B) : B -> A) -> x, which skips B's rounding: only
/// with allow-excess-precision (exact chains fold without it).
struct FoldRoundTrip : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp castOp,
                                PatternRewriter &rewriter) const override {
    auto producer = castOp.getInput().getDefiningOp<CastOp>();
    if (!producer || producer.getInput().getType() != castOp.getType())
      return failure();
    rewriter.replaceOp(castOp, producer.getInput());
    return success();
  }
};

struct OptimizeCasts : mpc::impl::MPCOptimizeCastsBase<OptimizeCasts> {
  using Base::Base;

  void runOnOperation() override {
    // Identical casts of one value: keep the first.
    getOperation().walk([&](Operation *op) {
      for (Value result : op->getResults())
        mergeDuplicateCasts(result);
    });
    getOperation().walk([&](Block *block) {
      for (BlockArgument arg : block->getArguments())
        mergeDuplicateCasts(arg);
    });

    RewritePatternSet patterns(&getContext());
    patterns.add<HoistCastAboveGrowingOp, SinkCastBelowShrinkingOp>(
        &getContext());
    if (allowExcessPrecision)
      patterns.add<FoldRoundTrip>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }

  static void mergeDuplicateCasts(Value value) {
    llvm::SmallDenseMap<Type, CastOp> first;
    for (Operation *user : llvm::make_early_inc_range(value.getUsers())) {
      auto castOp = dyn_cast<CastOp>(user);
      if (!castOp)
        continue;
      auto [it, inserted] = first.try_emplace(castOp.getType(), castOp);
      if (inserted)
        continue;
      CastOp kept = it->second;
      if (castOp->getBlock() != kept->getBlock())
        continue;
      if (castOp->isBeforeInBlock(kept)) {
        kept.getResult().replaceAllUsesWith(castOp.getResult());
        kept->erase();
        it->second = castOp;
      } else {
        castOp.getResult().replaceAllUsesWith(kept.getResult());
        castOp->erase();
      }
    }
  }
};

} // namespace

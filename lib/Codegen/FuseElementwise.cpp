//===- FuseElementwise.cpp - elementwise fusion without recomputation -----===//
//
// Upstream's elementwise fusion with a cost rule. Reductions are generics
// here, so their elementwise producers fuse into them; and a cheap
// elementwise op read by several consumers is copied into each instead of
// written to memory once and read back by each (memory, not arithmetic,
// bounds these loops on a CPU).
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace mpc {
#define GEN_PASS_DEF_MPCFUSEELEMENTWISE
#include "mpc/Codegen/Passes.h.inc"
} // namespace mpc
} // namespace mlir

using namespace mlir;

/// Whether the owner of `operand`, a generic, reads it as an input and
/// each of its elements exactly once.
static bool readsEachElementOnce(OpOperand &operand) {
  auto consumer = dyn_cast<linalg::GenericOp>(operand.getOwner());
  return consumer && consumer.isDpsInput(&operand) &&
         consumer.getMatchingIndexingMap(&operand).isPermutation();
}

/// Fuse when the producer has no other use and the consumer reads each of
/// its elements exactly once.
static bool fusesWithoutRecomputation(OpOperand *fusedOperand) {
  Operation *producer = fusedOperand->get().getDefiningOp();
  return producer && producer->hasOneUse() &&
         readsEachElementOnce(*fusedOperand);
}

/// The most scalar operations an elementwise op may have to be recomputed
/// by each of its consumers: a subtraction of the mean, a scale, a ReLU's
/// compare and select, a rounding to bf16 and back.
static constexpr int64_t kMaxRecomputedOps = 8;

/// Whether recomputing `op` in each consumer moves less memory than
/// computing it once: `op` is elementwise, has one result, reads at most
/// one operand of its own size (the rest are broadcasts: per-channel
/// statistics, scalars), and its body is a few arith operations. Each
/// consumer then reads that one operand instead of `op`'s result, and
/// `op`'s pass (a read and a write) disappears.
static bool isCheapToRecompute(linalg::GenericOp op) {
  if (op.getNumResults() != 1 || op.getNumLoops() == 0 ||
      op.getNumReductionLoops() != 0 || !op.hasPureTensorSemantics())
    return false;
  int64_t fullSize = 0;
  for (OpOperand *input : op.getDpsInputOperands()) {
    // Broadcasts of kept unit dims read index 0 there: (0, d1, 0, 0).
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return false;
    if (map.isPermutation())
      ++fullSize;
  }
  if (fullSize > 1)
    return false;
  // The output's old value must not be read: each copy gets a fresh one.
  if (llvm::any_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
        return op.payloadUsesValueFromOperand(&init);
      }))
    return false;
  int64_t count = 0;
  for (Operation &scalar : op.getBlock()->without_terminator()) {
    if (!isa<arith::ArithDialect>(scalar.getDialect()) ||
        ++count > kMaxRecomputedOps)
      return false;
  }
  return true;
}

/// Gives each consumer of a cheap, multiply used elementwise op its own
/// copy (see isCheapToRecompute), when every consumer will fuse it.
/// Returns whether anything was copied.
static bool copyCheapProducers(func::FuncOp function) {
  SmallVector<linalg::GenericOp> candidates;
  function.walk([&](linalg::GenericOp op) {
    if (!op->hasOneUse() && !op->use_empty() && isCheapToRecompute(op) &&
        llvm::all_of(op->getResult(0).getUses(), readsEachElementOnce))
      candidates.push_back(op);
  });
  IRRewriter rewriter(function.getContext());
  for (linalg::GenericOp op : candidates) {
    SmallVector<OpOperand *> uses = llvm::map_to_vector(
        op->getResult(0).getUses(), [](OpOperand &use) { return &use; });
    for (OpOperand *use : llvm::drop_begin(uses)) {
      rewriter.setInsertionPoint(op);
      Operation *copy = rewriter.clone(*op);
      rewriter.modifyOpInPlace(use->getOwner(),
                               [&] { use->set(copy->getResult(0)); });
    }
  }
  return !candidates.empty();
}

namespace {
struct FuseElementwise
    : mpc::impl::MPCFuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    func::FuncOp function = getOperation();
    // Reductions as generics, which the fusion patterns fuse into.
    IRRewriter rewriter(context);
    SmallVector<linalg::ReduceOp> reductions;
    function.walk([&](linalg::ReduceOp op) { reductions.push_back(op); });
    for (linalg::ReduceOp op : reductions) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    FrozenRewritePatternSet frozen(std::move(patterns));
    // Fused ops may in turn be cheap producers of several consumers. The
    // rounds are bounded; what each consumer recomputes is bounded by
    // kMaxRecomputedOps either way.
    for (int round = 0; round < 4; ++round) {
      if (failed(applyPatternsGreedily(function, frozen)))
        return signalPassFailure();
      if (!copyCheapProducers(function))
        break;
    }
    if (failed(applyPatternsGreedily(function, frozen)))
      return signalPassFailure();
  }
};
} // namespace

//===- FuseElementwise.cpp - elementwise fusion without recomputation -----===//

#include "mpc/Codegen/Passes.h"

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

/// Fuse when the producer has no other use and the consumer reads each of
/// its elements exactly once.
static bool fusesWithoutRecomputation(OpOperand *fusedOperand) {
  Operation *producer = fusedOperand->get().getDefiningOp();
  if (!producer || !producer->hasOneUse())
    return false;
  auto consumer = dyn_cast<linalg::LinalgOp>(fusedOperand->getOwner());
  return consumer &&
         consumer.getMatchingIndexingMap(fusedOperand).isPermutation();
}

namespace {
struct FuseElementwise
    : mpc::impl::MPCFuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns,
                                                 fusesWithoutRecomputation);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace

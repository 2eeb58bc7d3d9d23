//===- ConvToIm2Col.cpp - convolutions as matmuls -------------------------===//

#include "mpc/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace mpc {
#define GEN_PASS_DEF_MPCCONVTOIM2COL
#include "mpc/Codegen/Passes.h.inc"
} // namespace mpc
} // namespace mlir

using namespace mlir;

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
      // A convolution the rewrite does not take (dilations, say) stays
      // for the loop lowering; that is correct, only slower.
      (void)rewritten;
    }
  }
};
} // namespace

//===- GPUCheckHostLoops.cpp - no loop nest left behind on the host -------===//

#include "mpc/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUCHECKHOSTLOOPS
#include "mpc/Codegen/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

struct GPUCheckHostLoops
    : mpc::impl::MPCGPUCheckHostLoopsBase<GPUCheckHostLoops> {
  void runOnOperation() override {
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return WalkResult::skip();
      if (isa<scf::ParallelOp, scf::ForOp, linalg::LinalgOp>(op)) {
        op->emitError("loop nest not mapped to the GPU (it would run on the "
                      "host over device memory)");
        signalPassFailure();
        return WalkResult::skip();
      }
      auto effects = dyn_cast<MemoryEffectOpInterface>(op);
      if (effects && (effects.hasEffect<MemoryEffects::Read>() ||
                      effects.hasEffect<MemoryEffects::Write>())) {
        op->emitError("memory access left on the host (every buffer is in "
                      "device memory)");
        signalPassFailure();
      }
      return WalkResult::advance();
    });
  }
};

} // namespace

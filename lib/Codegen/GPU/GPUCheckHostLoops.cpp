//===- GPUCheckHostLoops.cpp - no loop nest left behind on the host -------===//

#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUCHECKHOSTLOOPS
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

struct GPUCheckHostLoops
    : mpc::impl::MPCGPUCheckHostLoopsBase<GPUCheckHostLoops> {
  /// Kernels take memrefs as bare pointers (mpc-gpu-pipeline), which needs
  /// static shapes, strides and offsets.
  void checkKernelOperands(gpu::LaunchOp launch) {
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(launch.getBody(), captured);
    for (Value value : captured) {
      auto type = dyn_cast<MemRefType>(value.getType());
      if (!type)
        continue;
      SmallVector<int64_t> strides;
      int64_t offset;
      if (type.hasStaticShape() &&
          succeeded(type.getStridesAndOffset(strides, offset)) &&
          ShapedType::isStatic(offset) &&
          llvm::none_of(strides, ShapedType::isDynamic))
        continue;
      launch.emitError() << "kernel operand of type " << type
                         << " has a dynamic shape or layout; kernels take "
                            "memrefs as bare pointers (pin the shapes, e.g. "
                            "with --input-shape)";
      signalPassFailure();
      return;
    }
  }

  void runOnOperation() override {
    getOperation()->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
        checkKernelOperands(launch);
        return WalkResult::skip();
      }
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

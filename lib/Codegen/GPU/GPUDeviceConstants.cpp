//===- GPUDeviceConstants.cpp - constants live in the kernels' module -----===//
//
// A model's weights (inference) and initial values (training init) are
// `memref.global` constants. The host's copy is useless to a kernel, so
// every use inside a loop nest or launch reads the global itself: the
// kernel outlining then carries the global into the GPU module and PTX
// holds it as initialised `.global` data, uploaded once with the module.
// A function result that is a global gets a copy kernel into a fresh
// buffer, so that every result lives in device memory.
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/LoopUtils.h"
#include "mpc/Codegen/GPU/Passes.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUDEVICECONSTANTS
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

struct GPUDeviceConstants
    : mpc::impl::MPCGPUDeviceConstantsBase<GPUDeviceConstants> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    // Results first: their copy loops read the global inside a loop nest,
    // which the sinking below then covers.
    func.walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        auto global = operand.get().getDefiningOp<memref::GetGlobalOp>();
        if (!global)
          continue;
        auto type = cast<MemRefType>(global.getType());
        Value copy = memref::AllocOp::create(b, ret.getLoc(), type);
        mpc::buildParallelCopy(b, ret.getLoc(), global, copy);
        operand.set(copy);
      }
    });
    SmallVector<memref::GetGlobalOp> hostGlobals;
    func.walk([&](memref::GetGlobalOp op) {
      if (!op->getParentOfType<gpu::LaunchOp>() &&
          !op->getParentOfType<scf::ParallelOp>())
        hostGlobals.push_back(op);
    });
    for (memref::GetGlobalOp global : hostGlobals) {
      for (OpOperand &use : llvm::make_early_inc_range(global->getUses())) {
        Operation *user = use.getOwner();
        if (!user->getParentOfType<gpu::LaunchOp>() &&
            !user->getParentOfType<scf::ParallelOp>())
          continue;
        OpBuilder b(user);
        use.set(b.clone(*global)->getResult(0));
      }
      if (global->use_empty())
        global.erase();
    }
  }
};

} // namespace

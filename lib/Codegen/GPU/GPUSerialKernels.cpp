//===- GPUSerialKernels.cpp - host leftovers become one-thread kernels ----===//
//
// After `convert-linalg-to-parallel-loops` a few computations still sit in
// the host function: 0-d generics (scalar loads, arithmetic and stores),
// full reductions shorter than a block reduction (an `scf.for`), and the
// `memref.copy` ops bufferization made. Every buffer lives in device
// memory, so none of them may run on the host. Copies become parallel
// loop nests; the rest is grouped into runs that each become one
// one-iteration `scf.parallel`, i.e. a one-thread kernel after mapping.
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/LoopUtils.h"
#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUSERIALKERNELS
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

/// Whether `op` (or anything nested in it) reads or writes memory.
bool touchesMemory(Operation *op) {
  WalkResult result = op->walk([](Operation *nested) {
    auto effects = dyn_cast<MemoryEffectOpInterface>(nested);
    if (!effects)
      return isMemoryEffectFree(nested) ? WalkResult::advance()
                                        : WalkResult::interrupt();
    if (effects.hasEffect<MemoryEffects::Read>() ||
        effects.hasEffect<MemoryEffects::Write>())
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Ops that order device work: a run of serial work may not move across
/// them. Calls run on the host (runtime functions, printers in tests).
bool isDeviceWorkBoundary(Operation *op) {
  if (isa<scf::ParallelOp, gpu::LaunchOp, CallOpInterface>(op) ||
      op->hasTrait<OpTrait::IsTerminator>())
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  return effects && effects.hasEffect<MemoryEffects::Free>();
}

struct GPUSerialKernels
    : mpc::impl::MPCGPUSerialKernelsBase<GPUSerialKernels> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &body = func.getBody().front();
    for (auto copy :
         llvm::make_early_inc_range(body.getOps<memref::CopyOp>())) {
      OpBuilder b(copy);
      mpc::buildParallelCopy(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }

    llvm::SetVector<Operation *> run;
    auto dependsOnRun = [&](Operation *op) {
      return llvm::any_of(op->getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return def && run.contains(def);
      });
    };
    for (Operation &op : llvm::make_early_inc_range(body)) {
      bool boundary = isDeviceWorkBoundary(&op);
      if (!boundary && (touchesMemory(&op) ||
                        (isMemoryEffectFree(&op) && dependsOnRun(&op)))) {
        if (op.getNumRegions() != 0 &&
            op.walk([](scf::ParallelOp) { return WalkResult::interrupt(); })
                .wasInterrupted()) {
          op.emitError("host control flow around parallel loop nests is not "
                       "supported on the GPU");
          return signalPassFailure();
        }
        run.insert(&op);
        continue;
      }
      if (boundary && failed(wrap(run)))
        return signalPassFailure();
    }
    // The function ends in a terminator, a boundary: every run is wrapped.
  }

  /// Moves the ops of `run` into one one-iteration scf.parallel placed
  /// where the last of them was; host ops in between keep their places
  /// (they neither touch memory nor use the run's values).
  LogicalResult wrap(llvm::SetVector<Operation *> &run) {
    if (run.empty())
      return success();
    for (Operation *op : run)
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers()) {
          Operation *owner = op->getBlock()->findAncestorOpInBlock(*user);
          if (!run.contains(owner))
            return op->emitError("a value computed from device memory is "
                                 "used by the host (")
                   << *user << ")";
        }
    Operation *last = run.back();
    OpBuilder b(last->getContext());
    b.setInsertionPointAfter(last);
    Location loc = run.front()->getLoc();
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    auto serial = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                          ValueRange{one}, ValueRange{one});
    Operation *terminator = serial.getBody()->getTerminator();
    for (Operation *op : run)
      op->moveBefore(terminator);
    run.clear();
    return success();
  }
};

} // namespace

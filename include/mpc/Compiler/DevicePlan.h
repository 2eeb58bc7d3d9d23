//===- DevicePlan.h - what a CUDA program launches and allocates -*- C++ -*-===//

#ifndef MPC_COMPILER_DEVICEPLAN_H
#define MPC_COMPILER_DEVICEPLAN_H

#include "mpc/Target/Executable/Executable.h"

#include "mlir/IR/BuiltinOps.h"

#include <vector>

namespace mlir {
namespace mpc {

/// An entry function of the program and the function it became.
struct PlannedEntry {
  std::string function;
  const EntryPoint *entry;
};

/// Bytes of low-precision parameter copies one call of the busiest entry
/// makes, read from the mpc IR (casts of parameter state) before lowering.
int64_t lowPrecisionParameterCopyBytes(mlir::ModuleOp module,
                                       const std::vector<PlannedEntry> &entries);

/// The device arena a CUDA build needs (after buildGPUKernelPipeline),
/// in the runtime's 256-byte granules: `scratch`, per entry function its
/// uploaded inputs other than training state and every buffer its host
/// code allocates (the lowering's alignment padding included), the largest
/// function's total; `state`, every training-state value the entry points
/// take or return, once by name (it stays on the device). Fails (with an
/// error naming the buffer) on a dynamically sized buffer.
struct CUDAArena {
  int64_t scratch = 0, state = 0;
};
mlir::FailureOr<CUDAArena>
cudaArena(mlir::ModuleOp module, const std::vector<PlannedEntry> &entries);

/// Writes the device plan of `module` (after buildGPUKernelPipeline): per
/// entry function the kernels it launches (on tensor cores or not), the
/// tensor-core FLOPs and its device buffers by precision; the state (fp32
/// master weights, optimizer state), inputs and low-precision parameter
/// copies; what crosses host and device per step; `arena` (cudaArena's).
/// `path` "-" prints a table, anything else gets JSON (atomically).
mlir::LogicalResult writeDevicePlan(mlir::ModuleOp module,
                                    const std::vector<PlannedEntry> &entries,
                                    int64_t parameterCopyBytes,
                                    const CUDAArena &arena,
                                    llvm::StringRef chip, llvm::StringRef path,
                                    llvm::raw_ostream &errors);

} // namespace mpc
} // namespace mlir

#endif

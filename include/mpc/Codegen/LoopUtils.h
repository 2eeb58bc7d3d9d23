//===- LoopUtils.h - loop nests the GPU passes build ------------*- C++ -*-===//

#ifndef MPC_CODEGEN_LOOPUTILS_H
#define MPC_CODEGEN_LOOPUTILS_H

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::mpc {

/// Copies `source` into `target` (same shape, any strides) with an
/// `scf.parallel` over the shape, which the GPU mapping makes a kernel; a
/// rank-0 copy is a one-iteration loop.
scf::ParallelOp buildParallelCopy(OpBuilder &b, Location loc, Value source,
                                  Value target);

} // namespace mlir::mpc

#endif // MPC_CODEGEN_LOOPUTILS_H

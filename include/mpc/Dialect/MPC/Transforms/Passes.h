//===- Passes.h - mpc dialect passes ----------------------------*- C++ -*-===//
//
// Declarations and registration of the mpc passes (generated from
// Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_TRANSFORMS_PASSES_H
#define MPC_DIALECT_MPC_TRANSFORMS_PASSES_H

#include "mpc/Dialect/MPC/IR/MPCDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace mpc {

/// The batch variance training-mode BatchNorm folds into its running
/// variance (mpc-build-training's `running-variance`). ONNX specifies the
/// population variance; PyTorch, whose exports carry the ONNX form,
/// computes the unbiased one, and its users expect its eval numbers.
enum class RunningVarianceEstimate {
  /// Unbiased when the model's producer is PyTorch, else population.
  Auto,
  Population,
  Unbiased,
};

#define GEN_PASS_DECL
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"

} // namespace mpc
} // namespace mlir

#endif // MPC_DIALECT_MPC_TRANSFORMS_PASSES_H

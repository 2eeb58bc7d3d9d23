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

#define GEN_PASS_DECL
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"

} // namespace mpc
} // namespace mlir

#endif // MPC_DIALECT_MPC_TRANSFORMS_PASSES_H

//===- Passes.h - mpc code generation passes --------------------*- C++ -*-===//

#ifndef MPC_CODEGEN_PASSES_H
#define MPC_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace mpc {

#define GEN_PASS_DECL
#include "mpc/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Codegen/Passes.h.inc"

} // namespace mpc
} // namespace mlir

#endif // MPC_CODEGEN_PASSES_H

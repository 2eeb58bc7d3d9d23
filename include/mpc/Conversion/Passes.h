//===- Passes.h - mpc conversion passes -------------------------*- C++ -*-===//

#ifndef MPC_CONVERSION_PASSES_H
#define MPC_CONVERSION_PASSES_H

#include "mpc/Conversion/MPCToLinalg/MPCToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace mpc {

#define GEN_PASS_DECL
#include "mpc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Conversion/Passes.h.inc"

} // namespace mpc
} // namespace mlir

#endif // MPC_CONVERSION_PASSES_H

//===- MPCDialect.h - mpc dialect -------------------------------*- C++ -*-===//
//
// The mpc dialect: an ONNX-level tensor IR for mixed-precision training.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_IR_MPCDIALECT_H
#define MPC_DIALECT_MPC_IR_MPCDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"

#include "mpc/ABI/ProgramABI.h"

namespace mlir::mpc {
/// The spellings of mpc/ABI/ProgramABI.h's enums in the attributes that
/// carry them.
FailureOr<::mpc_abi::StateKind> parseStateKind(AsmParser &parser);
FailureOr<::mpc_abi::ValueRole> parseValueRole(AsmParser &parser);

/// Removes the training-state contract's attributes (`mpc.slot`,
/// `mpc.state_kind`, `mpc.role`, the module's `mpc.state_layout`) once a
/// build has read them, before it is lowered to LLVM.
void stripStateAttributes(Operation *module);
} // namespace mlir::mpc

#include "mpc/Dialect/MPC/IR/MPCOpsDialect.h.inc"
#include "mpc/Dialect/MPC/IR/MPCOpsEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mpc/Dialect/MPC/IR/MPCOpsAttributes.h.inc"

#endif // MPC_DIALECT_MPC_IR_MPCDIALECT_H

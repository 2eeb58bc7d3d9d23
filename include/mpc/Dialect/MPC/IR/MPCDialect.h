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

#include "mpc/Dialect/MPC/IR/MPCOpsDialect.h.inc"
#include "mpc/Dialect/MPC/IR/MPCOpsEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mpc/Dialect/MPC/IR/MPCOpsAttributes.h.inc"

#endif // MPC_DIALECT_MPC_IR_MPCDIALECT_H

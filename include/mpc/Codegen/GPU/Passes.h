//===- Passes.h - mpc GPU code generation passes ----------------*- C++ -*-===//

#ifndef MPC_CODEGEN_GPU_PASSES_H
#define MPC_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace mpc {

#define GEN_PASS_DECL
#include "mpc/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mpc/Codegen/GPU/Passes.h.inc"

} // namespace mpc
} // namespace mlir

#endif // MPC_CODEGEN_GPU_PASSES_H

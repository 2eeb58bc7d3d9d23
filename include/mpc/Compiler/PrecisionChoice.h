//===- PrecisionChoice.h - what --precision=auto picks ----------*- C++ -*-===//
//
// --precision=auto picks the lowest precision that is faster where the
// program runs: bf16 where the target multiplies bf16 natively, else fp16
// with loss scaling on a GPU that multiplies fp16 natively, else fp32
// (issue #24). "Natively" is about the code mpc generates, not only the
// instruction set: a CPU with AVX512-BF16 whose kernels mpc still widens
// to f32 gains nothing from bf16.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_COMPILER_PRECISIONCHOICE_H
#define MPC_COMPILER_PRECISIONCHOICE_H

#include "mpc/Target/Executable/Executable.h"

namespace mlir {
namespace mpc {

struct CompileOptions;

/// The precision for `options`' targets (the CPU `cpu`, and CUDA at
/// `options.gpuArch` when `options.targetCUDA`) and the reason, one
/// sentence naming the deciding target.
PrecisionChoice choosePrecision(const CompileOptions &options,
                                const CPUTarget &cpu);

} // namespace mpc
} // namespace mlir

#endif // MPC_COMPILER_PRECISIONCHOICE_H

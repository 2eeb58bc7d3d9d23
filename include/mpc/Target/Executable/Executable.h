//===- Executable.h - native inference programs -----------------*- C++ -*-===//
//
// Turns a module lowered to the LLVM dialect into an object file (LLVM's
// TargetMachine for the host CPU) and, linked with mpc's runtime by the
// system compiler, into an executable.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_TARGET_EXECUTABLE_EXECUTABLE_H
#define MPC_TARGET_EXECUTABLE_EXECUTABLE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir {
namespace mpc {

/// One input or output of the program: ONNX name, numpy dtype, shape.
struct ProgramValue {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

struct ProgramSignature {
  std::vector<ProgramValue> inputs, outputs;
};

/// Reads the signature of `func` (static shapes, .npy-representable
/// element types) and marks it for a C interface; errors name the value.
FailureOr<ProgramSignature> prepareEntryPoint(ModuleOp module,
                                              llvm::StringRef function);

/// What to write: LLVM IR text, an object file, or an executable.
enum class EmitKind { LLVMIR, Object, Executable };

/// The CPU a program is compiled for.
struct CPUTarget {
  std::string triple, cpu, features;
  /// f32 lanes in the widest vector register: 16 with AVX-512, 8 with AVX.
  int64_t vectorWidth = 4;
};

/// `native` (the host CPU and all its features) or an LLVM CPU name such as
/// `x86-64-v3` (AVX2 + FMA) or `znver4`; an unknown name is an error listing
/// the common choices.
FailureOr<CPUTarget> resolveCPUTarget(llvm::StringRef name,
                                      llvm::raw_ostream &errors);

/// Translates `module` (LLVM dialect), optimises it for `target` and writes
/// `output` atomically.
LogicalResult emitProgram(ModuleOp module, const ProgramSignature &signature,
                          const CPUTarget &target, EmitKind kind,
                          llvm::StringRef output, llvm::raw_ostream &errors);

} // namespace mpc
} // namespace mlir

#endif // MPC_TARGET_EXECUTABLE_EXECUTABLE_H

//===- Executable.h - native inference programs -----------------*- C++ -*-===//
//
// Turns a module lowered to the LLVM dialect into an object file (LLVM's
// TargetMachine for the host CPU) and, linked with mpc's runtime by the
// system compiler, into an executable.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_TARGET_EXECUTABLE_EXECUTABLE_H
#define MPC_TARGET_EXECUTABLE_EXECUTABLE_H

#include "mpc/ABI/ProgramABI.h"
#include "mpc/Target/ONNX/ONNXExporter.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace mpc {

/// One input or output of a compiled function: name (ONNX name, or the
/// training-state slot's qualified name such as "param:fc1.weight"), what
/// it is for, numpy dtype, shape.
struct ProgramValue {
  std::string name;
  ::mpc_abi::ValueRole role = ::mpc_abi::ValueRole::Input;
  /// Training state (`mpc.slot`), carried from step to step: its kind and
  /// the weight a per-parameter slot belongs to.
  std::optional<::mpc_abi::StateKind> kind;
  std::string parameter;
  std::string dtype;
  std::vector<int64_t> shape;
  bool isState() const { return kind.has_value(); }
};

/// A function compiled with a C interface (`_mlir_ciface_KERNEL`).
struct EntryPoint {
  std::string kernel;
  std::vector<ProgramValue> inputs, outputs;
};

/// Reads the signature of `function` (static shapes, .npy-representable
/// element types), renames it `kernelName` and marks it for a C interface;
/// errors name the value.
FailureOr<EntryPoint> prepareEntryPoint(ModuleOp module,
                                        llvm::StringRef function,
                                        llvm::StringRef kernelName);

/// A training program's entry points and what its runtime needs to know.
/// The program's precision and, when --precision=auto chose it, why.
struct PrecisionChoice {
  std::string precision = "fp32";
  /// Empty when the user named the precision.
  std::string reason;
};

struct TrainingProgram {
  EntryPoint init, train, eval;
  PrecisionChoice precision;
  std::string optimizer, loss;
  float defaultLR = 1e-3f, defaultWeightDecay = 0.0f;
  /// Gradient clipping's defaults; 0: not compiled in.
  float defaultClipGradNorm = 0.0f, defaultClipGradValue = 0.0f;
  /// Gradient accumulation's default K; 1: not compiled in.
  int64_t defaultAccumulate = 1;
  /// Loss scaling ("none", "static" or "dynamic") and its initial scale.
  std::string lossScaling = "none";
  double initialLossScale = 1.0;
  ONNXWeightTemplate onnx;
};

/// The C++ source of a program's `main` and files it embeds (`.incbin`,
/// written beside it at link time).
struct GeneratedMain {
  std::string source;
  std::vector<std::pair<std::string, std::string>> embeddedFiles;
};

/// The training state's region (mpc-flatten-training-state), the same for
/// every build: the runtime owns it (host memory, or the device's), the
/// compiled functions take each kind of state as a flat buffer at its
/// offset and update it in place.
struct StateLayout {
  /// The region's size, in whole arena granules.
  uint64_t bytes = 0;
  /// Byte offsets of each slot (by qualified name) and of each kind.
  std::map<std::string, uint64_t> slotOffsets;
  std::map<::mpc_abi::StateKind, uint64_t> kindOffsets;
  /// Elements of each kind's flat buffer.
  std::map<::mpc_abi::StateKind, int64_t> kindSizes;
  /// The kinds each function (by kernel name) takes as flat buffers, in
  /// argument order, before its other inputs; it returns no state.
  std::map<std::string, std::vector<::mpc_abi::StateKind>> kindsOf;
};

/// Which builds of the functions a binary carries: the CPU's (named as
/// the entry point says) and CUDA's (the same names + "_cuda"; their
/// inputs are uploaded to and results downloaded from device memory).
struct ProgramBuilds {
  bool cpu = true, cuda = false;
  /// The most device memory one call of a CUDA function uses (its inputs
  /// other than training state and every buffer it allocates, 256-byte
  /// aligned); the training state has its own region.
  uint64_t cudaArenaBytes = 0;
  StateLayout state;
};

/// The suffix of a function's CUDA build.
inline constexpr llvm::StringLiteral kCUDAKernelSuffix = "_cuda";

/// The program descriptor (mpc/ABI/ProgramABI.h's contract, format
/// `kDescriptorVersion`): every function's arguments and results with
/// their roles, dtypes and shapes, the training state's slots, the
/// optimizer and its defaults, precision, loss scaling and the builds.
/// Embedded in the binary, printed by `--describe` and read by the runtime
/// and python/mpc; docs/Architecture.md describes its fields.
llvm::json::Value describeInferenceProgram(const EntryPoint &entry,
                                           const PrecisionChoice &precision,
                                           const std::string &programName,
                                           const ProgramBuilds &builds);
llvm::json::Value describeTrainingProgram(const TrainingProgram &program,
                                          const std::string &programName,
                                          const ProgramBuilds &builds);

/// `main` of an inference program: the runtime's `runProgram` on its
/// descriptor and `entry`'s kernels.
GeneratedMain generateInferenceMain(const EntryPoint &entry,
                                    const PrecisionChoice &precision,
                                    const std::string &programName,
                                    const ProgramBuilds &builds);

/// `main` of a training binary: the runtime's `runProgram` on its
/// descriptor, kernels and ONNX template.
GeneratedMain generateTrainingMain(const TrainingProgram &program,
                                   const std::string &programName,
                                   const ProgramBuilds &builds);

/// What to write: LLVM IR text, an object file, or an executable.
enum class EmitKind { LLVMIR, Object, Executable };

/// The CPU a program is compiled for.
struct CPUTarget {
  std::string triple, cpu, features;
  /// f32 lanes in the widest vector register: 16 with AVX-512, 8 with AVX.
  int64_t vectorWidth = 4;
  /// Native bf16 dot products (AVX512-BF16's vdpbf16ps, AMX-BF16) and
  /// fp16 arithmetic (AVX512-FP16); F16C only converts.
  bool bf16DotProducts = false, fp16Arithmetic = false;
};

/// `native` (the host CPU and all its features) or an LLVM CPU name such as
/// `x86-64-v3` (AVX2 + FMA) or `znver4`; an unknown name is an error listing
/// the common choices.
FailureOr<CPUTarget> resolveCPUTarget(llvm::StringRef name,
                                      llvm::raw_ostream &errors);

/// Translates `modules` (LLVM dialect; a CPU build and/or a CUDA build
/// whose host code embeds its PTX), optimises them for `target` and writes
/// `output` atomically. LLVM IR and object files take one module.
LogicalResult emitProgram(llvm::ArrayRef<ModuleOp> modules,
                          const GeneratedMain &main, const CPUTarget &target,
                          EmitKind kind, llvm::StringRef output,
                          llvm::raw_ostream &errors);

} // namespace mpc
} // namespace mlir

#endif // MPC_TARGET_EXECUTABLE_EXECUTABLE_H

//===- Compiler.h - ONNX model to training or inference program -*- C++ -*-===//
//
// The whole compiler as one call: import, the training program, precision,
// lowering for the CPU and/or CUDA, and the program written atomically.
// mpc-opt's flags only fill in CompileOptions; tests and other front ends
// call compileModel the same way.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_COMPILER_COMPILER_H
#define MPC_COMPILER_COMPILER_H

#include "mpc/Compiler/Pipelines.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Target/ONNX/ONNXImporter.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/LLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace mlir {
namespace mpc {

/// What the compiled program does.
enum class ProgramKind {
  /// train_step, eval_step and init in a training binary.
  Training,
  /// The forward function in an inference program.
  Inference,
};

/// What is written to the output path.
enum class OutputKind {
  /// The CPU build (or the only build) in the LLVM dialect.
  MLIR,
  LLVMIR,
  Object,
  /// A linked program with its generated main.
  Executable,
  /// Every kernel of the CUDA build as one PTX module.
  PTX,
};

struct CompileOptions {
  std::string modelPath;
  std::string outputPath;
  ProgramKind program = ProgramKind::Training;
  OutputKind output = OutputKind::Executable;
  ONNXImportOptions import;

  /// fp32 (no precision pipeline), bf16 or fp16.
  std::string precision = "fp32";
  std::string policyFile;
  std::string precisionAlgorithm = "global";
  bool strict = false;
  /// The precision report: FILE.html, FILE (JSON), "-" (table) or none.
  std::string precisionReport;

  bool targetCPU = true;
  bool targetCUDA = false;
  /// An LLVM CPU name, `native`, `x86-64-v3` or `x86-64-v4`.
  std::string cpu = "native";
  std::string gpuArch = "sm_80";
  /// The CUDA build's device plan: FILE (JSON), "-" (table) or none.
  std::string devicePlan;
  /// Line tables from the ops' locations (ONNX node names as files).
  bool debugInfo = false;

  // The training program (ProgramKind::Training).
  std::string loss = "cross-entropy";
  std::string lossOutput;
  std::string optimizer = "adamw";
  float learningRate = 1e-3f;
  /// Negative: the optimizer's default (0.01 for adamw, else 0).
  float weightDecay = -1.0f;
  float momentum = 0.9f;
  bool nesterov = false;
  /// Gradient clipping's defaults (0: none, and no runtime flag either).
  float clipGradNorm = 0.0f, clipGradValue = 0.0f;
  /// Micro-batches per update, the binary's default (1: no accumulation
  /// compiled in, and no runtime flag either).
  int64_t accumulate = 1;
  RunningVarianceEstimate runningVariance = RunningVarianceEstimate::Auto;
  /// auto (dynamic for fp16, none otherwise), dynamic, static or none.
  std::string lossScaling = "auto";
  float lossScaleInit = 65536.0f;
  int64_t lossScaleGrowthInterval = 2000;

  /// One line per finished stage with its wall time, on the error stream.
  bool verbose = false;
  /// Prefixes the messages that are not about the model ("mpc-opt: error:").
  std::string toolName = "mpc-opt";
};

/// The precision pipeline's options for a low `options.precision`.
void populatePrecisionPipelineOptions(const CompileOptions &options,
                                      PrecisionPipelineOptions &pipeline);

/// Compiles `options.modelPath` into `options.outputPath`. Problems with
/// the model are reported to `errors` as `MODEL: error: node 'NAME' (op):
/// reason`, others as `TOOL: error: ...`; nothing is written on failure.
/// The pass managers take the MLIR command-line options that are
/// registered (-mlir-print-ir-after-all, -mlir-timing, ...).
LogicalResult compileModel(const CompileOptions &options,
                           const DialectRegistry &registry,
                           llvm::raw_ostream &errors);

} // namespace mpc
} // namespace mlir

#endif // MPC_COMPILER_COMPILER_H

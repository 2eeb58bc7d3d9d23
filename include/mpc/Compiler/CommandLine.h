//===- CommandLine.h - the compiler's options as command-line flags -*- C++ -*-===//
//
// mpc's compiler flags (import, precision, targets, the training program)
// registered with LLVM's command line and bound to the fields of one
// CompileOptions, the way MlirOptMainConfig::registerCLOptions does for the
// opt driver's flags. A driver registers them, parses its command line and
// asks for the options; it spells no flag itself.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_COMPILER_COMMANDLINE_H
#define MPC_COMPILER_COMMANDLINE_H

#include "mpc/Compiler/Compiler.h"
#include "mpc/Compiler/Pipelines.h"

#include <memory>

namespace mlir {
namespace mpc {

/// Registers the compiler's flags; call before parsing the command line.
void registerCompileCLOptions();

/// The command line's options for compiling `modelPath` into `outputPath`
/// as `program`; failure (reported to `errors`) on a flag value or a flag
/// combination the compiler does not take.
FailureOr<CompileOptions> compileOptionsFromCL(StringRef modelPath,
                                               StringRef outputPath,
                                               ProgramKind program,
                                               llvm::raw_ostream &errors);

/// The import flags alone (--input-shape, --trainable-constants), for a
/// driver that imports a model and runs passes on it.
FailureOr<ONNXImportOptions> importOptionsFromCL(llvm::raw_ostream &errors);

/// The precision flags as the precision pipeline's options, for a driver
/// that runs the pipeline in front of its own passes: null for fp32 (no
/// pipeline); failure (reported) on a bad --precision, or a policy or
/// report with fp32. Pass options cannot be copied; a shared pointer can.
FailureOr<std::shared_ptr<PrecisionPipelineOptions>>
precisionPipelineOptionsFromCL(llvm::raw_ostream &errors);

} // namespace mpc
} // namespace mlir

#endif // MPC_COMPILER_COMMANDLINE_H

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

#include "llvm/ADT/StringSet.h"

#include <memory>

namespace llvm::cl {
class Option;
} // namespace llvm::cl

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

/// A pass's error is one line naming the node and the problem: MLIR's
/// default of appending the whole module as "see current operation" is
/// turned off unless --mlir-print-op-on-diagnostic or -v asks for it. Call
/// after parsing, before a context is made.
void printOpOnDiagnosticOnlyWhenAsked();

/// What --help shows. The tool links all of LLVM, whose backends register
/// some 1,200 options statically; listed by --help they would bury mpc's
/// own (issue #24). mpc's categories come first, then the opt driver's
/// (MLIR's options and the passes); LLVM's go to --help-hidden, still
/// accepted.
class HelpLayout {
public:
  /// First thing in main: every option registered by then is LLVM's own.
  HelpLayout();
  /// After MLIR's and mpc's options are registered, before the command
  /// line is parsed. `driverOptions` are the driver's own static options
  /// (kept visible, with mpc's program options).
  void apply(llvm::ArrayRef<llvm::cl::Option *> driverOptions);

private:
  llvm::StringSet<> llvmOptions;
};

} // namespace mpc
} // namespace mlir

#endif // MPC_COMPILER_COMMANDLINE_H

//===- Registration.h - what an mpc tool registers ---------------*- C++ -*-===//
//
// The dialects, extensions, translations, passes and pipelines the compiler
// is built from, registered in one place so that every tool (mpc-opt, a
// test driver, an embedding front end) reads and runs the same IR.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_COMPILER_REGISTRATION_H
#define MPC_COMPILER_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace mlir {
namespace mpc {

/// The mpc dialect and every upstream dialect with its external interface
/// models (tiling, bufferization, subset ops, LLVM conversion) and LLVM IR
/// translations: the lowering pipelines are built from upstream passes,
/// gpu-module-to-binary translates kernels, and an opt driver reads any IR.
void registerCompilerDialects(DialectRegistry &registry);

/// Every upstream pass and mpc's passes and named pipelines.
void registerCompilerPasses();

/// The opt driver's command-line options (MLIR's context, printer, pass
/// manager, timing and debug-counter options, and the pass list), which
/// registerAndParseCLIOptions would register only as it parses: registered
/// earlier so that HelpLayout can group them. Registering twice is
/// harmless.
void registerOptDriverCLOptions(DialectRegistry &registry);

} // namespace mpc
} // namespace mlir

#endif // MPC_COMPILER_REGISTRATION_H

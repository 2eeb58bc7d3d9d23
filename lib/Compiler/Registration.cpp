//===- Registration.cpp - what an mpc tool registers ----------------------===//

#include "mpc/Compiler/Registration.h"
#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Codegen/GPU/Passes.h"
#include "mpc/Codegen/Passes.h"
#include "mpc/Compiler/Pipelines.h"
#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Debug/Counter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

using namespace mlir;

void mpc::registerCompilerDialects(DialectRegistry &registry) {
  registry.insert<MPCDialect>();
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
}

void mpc::registerCompilerPasses() {
  registerAllPasses();
  registerMPCPasses();
  registerMPCConversionPasses();
  registerMPCCodegenPasses();
  registerMPCCPUCodegenPasses();
  registerMPCGPUCodegenPasses();
  registerMPCPipelines();
}

void mpc::registerOptDriverCLOptions(DialectRegistry &registry) {
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  tracing::DebugCounter::registerCLOptions();
  MlirOptMainConfig::registerCLOptions(registry);
}

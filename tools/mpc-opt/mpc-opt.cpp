//===- mpc-opt.cpp - the mpc driver ---------------------------------------===//
//
// An MLIR opt driver with mpc's dialect and passes. Given an ONNX model
// (`model.onnx`) it first imports it; the imported module then goes through
// the same pass pipeline and printing as any MLIR input.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Target/ONNX/ONNXImporter.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

static llvm::cl::OptionCategory importCategory("ONNX import options");

static llvm::cl::list<std::string> inputShapes(
    "input-shape",
    llvm::cl::desc("Pin a graph input's shape: NAME:32x3x224x224 (repeatable)"),
    llvm::cl::cat(importCategory));

/// Imports an ONNX model and runs the opt pipeline on the result.
static int runOnONNXModel(StringRef inputFilename, StringRef outputFilename,
                          DialectRegistry &registry) {
  mpc::ONNXImportOptions options;
  for (const std::string &spec : inputShapes) {
    std::string error = mpc::parseInputShapeOption(spec, options);
    if (!error.empty()) {
      llvm::errs() << "mpc-opt: error: " << error << "\n";
      return 1;
    }
  }
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      mpc::importONNXModel(inputFilename, &context, options, llvm::errs());
  if (!module)
    return 1;

  // Hand the module to the opt machinery as bytecode: compact (parameters
  // stay binary), lossless (locations included), and it reuses every
  // mlir-opt feature unchanged.
  std::string bytecode;
  llvm::raw_string_ostream stream(bytecode);
  if (failed(writeBytecodeToFile(*module, stream))) {
    llvm::errs() << inputFilename << ": error: cannot serialise the module\n";
    return 1;
  }
  std::string error;
  auto output = openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << "mpc-opt: error: " << error << "\n";
    return 1;
  }
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (failed(MlirOptMain(output->os(),
                         llvm::MemoryBuffer::getMemBufferCopy(bytecode,
                                                              inputFilename),
                         registry, config)))
    return 1; // The output file is removed: no partial output.
  output->keep();
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  DialectRegistry registry;
  registry.insert<mpc::MPCDialect, func::FuncDialect>();
  mpc::registerMPCPasses();
  registerTransformsPasses();

  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv,
      "mpc-opt: the mpc mixed-precision compiler driver\n\n"
      "  mpc-opt model.onnx [passes] [-o out.mlir]   import an ONNX model\n"
      "  mpc-opt input.mlir [passes] [-o out.mlir]   run passes on MLIR\n",
      registry);
  if (mpc::isONNXModelPath(inputFilename))
    return runOnONNXModel(inputFilename, outputFilename, registry);
  return asMainReturnCode(
      MlirOptMain(argc, argv, inputFilename, outputFilename, registry));
}

//===- mpc-opt.cpp - the mpc driver ---------------------------------------===//
//
// An MLIR opt driver with mpc's dialect and passes. Given an ONNX model
// (`model.onnx`) it first imports it; the imported module then goes through
// the same pass pipeline and printing as any MLIR input. Compiling a model
// into a program is the compiler library's (mpc/Compiler/Compiler.h): this
// file only turns flags into its options.
//
//===----------------------------------------------------------------------===//

#include "mpc/Compiler/CommandLine.h"
#include "mpc/Compiler/Compiler.h"
#include "mpc/Compiler/Registration.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionReport.h"
#include "mpc/Support/AtomicFile.h"
#include "mpc/Target/ONNX/ONNXImporter.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;

static llvm::cl::opt<std::string> modeFlag(
    "mode",
    llvm::cl::desc(
        "train: compile an ONNX model into a training binary; infer: into an "
        "inference program; opt: run the given passes and print IR. Default: "
        "train for an ONNX model with -o FILE (not .mlir, not /dev/null) and "
        "no passes, else opt"),
    llvm::cl::init("auto"));
static llvm::cl::opt<std::string> renderReportFlag(
    "render-report",
    llvm::cl::desc("Render a saved JSON precision report as the HTML page "
                   "(-o FILE.html) and stop"),
    llvm::cl::init(""));

/// Adds the precision pipeline the flags ask for in front of the passes
/// given on the command line.
static LogicalResult addDriverPipeline(MlirOptMainConfig &config) {
  auto precision = mpc::precisionPipelineOptionsFromCL(llvm::errs());
  if (failed(precision))
    return failure();
  if (!*precision)
    return success();
  MlirOptMainConfig userPasses = config;
  config.setPassPipelineSetupFn([userPasses, options = *precision](
                                     PassManager &pm) {
    mpc::buildPrecisionPipeline(pm, *options);
    return userPasses.setupPassPipeline(pm);
  });
  return success();
}

/// Writes `path` through `write` atomically (temp file + rename): a failing
/// write leaves no file. Returns the exit status.
static int writeOutputAtomically(
    StringRef path, llvm::function_ref<LogicalResult(raw_ostream &)> write) {
  std::string error;
  if (succeeded(mpc::writeFileAtomically(path, write, error)))
    return 0;
  if (!error.empty())
    llvm::errs() << "mpc-opt: error: " << error << "\n";
  return 1;
}

/// Runs the opt pipeline (the driver's flags, then the passes given) on
/// `input` and writes the result atomically: a failing run leaves no
/// output file.
static int runOpt(std::unique_ptr<llvm::MemoryBuffer> input,
                  StringRef outputFilename, DialectRegistry &registry) {
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (failed(addDriverPipeline(config)))
    return 1;
  return writeOutputAtomically(outputFilename, [&](raw_ostream &os) {
    return MlirOptMain(os, std::move(input), registry, config);
  });
}

/// --mode=train/infer: the flags as compile options, then the compiler.
static int compileProgram(StringRef inputFilename, StringRef outputFilename,
                          mpc::ProgramKind program,
                          const DialectRegistry &registry) {
  FailureOr<mpc::CompileOptions> options = mpc::compileOptionsFromCL(
      inputFilename, outputFilename, program, llvm::errs());
  if (failed(options))
    return 1;
  return failed(mpc::compileModel(*options, registry, llvm::errs())) ? 1 : 0;
}

/// --mode=opt on an ONNX model: imports it and runs the opt pipeline on
/// the result.
static int runOptOnONNXModel(StringRef inputFilename, StringRef outputFilename,
                             DialectRegistry &registry) {
  FailureOr<mpc::ONNXImportOptions> options =
      mpc::importOptionsFromCL(llvm::errs());
  if (failed(options))
    return 1;
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      mpc::importONNXModel(inputFilename, &context, *options, llvm::errs());
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
  return runOpt(llvm::MemoryBuffer::getMemBufferCopy(bytecode, inputFilename),
                outputFilename, registry);
}

/// MLIR input: what mlir-opt does, with the driver's precision flags.
static int runOnMLIR(StringRef inputFilename, StringRef outputFilename,
                     DialectRegistry &registry) {
  std::string error;
  auto input = openInputFile(inputFilename, &error);
  if (!input) {
    llvm::errs() << "mpc-opt: error: " << error << "\n";
    return 1;
  }
  return runOpt(std::move(input), outputFilename, registry);
}

/// Whether the command line names a pass or pipeline (`--mpc-foo`,
/// `--pass-pipeline=...`).
static bool hasPassOnCommandLine(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    StringRef arg(argv[i]);
    if (!arg.consume_front("-"))
      continue;
    arg.consume_front("-");
    StringRef name = arg.take_until([](char c) { return c == '=' || c == '{'; });
    if (name == "pass-pipeline" || PassInfo::lookup(name) ||
        PassPipelineInfo::lookup(name))
      return true;
  }
  return false;
}

/// --render-report: the page of a report saved as JSON, written atomically.
static int renderReport(StringRef reportPath, StringRef outputFilename) {
  auto buffer = llvm::MemoryBuffer::getFile(reportPath);
  if (!buffer) {
    llvm::errs() << "mpc-opt: error: cannot read '" << reportPath
                 << "': " << buffer.getError().message() << "\n";
    return 1;
  }
  llvm::Expected<mpc::report::Report> report =
      mpc::report::readJSON((*buffer)->getBuffer());
  if (!report) {
    llvm::errs() << "mpc-opt: error: " << reportPath
                 << ": not a precision report: "
                 << llvm::toString(report.takeError()) << "\n";
    return 1;
  }
  return writeOutputAtomically(outputFilename, [&](raw_ostream &os) {
    mpc::report::writeHTML(os, *report);
    return success();
  });
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  mpc::HelpLayout help;
  DialectRegistry registry;
  mpc::registerCompilerDialects(registry);
  mpc::registerCompilerPasses();
  mpc::registerCompileCLOptions();
  mpc::registerOptDriverCLOptions(registry);
  help.apply({&modeFlag, &renderReportFlag});

  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv,
      "mpc-opt: the mpc mixed-precision compiler driver\n\n"
      "  mpc-opt model.onnx [passes] [-o out.mlir]   import an ONNX model\n"
      "  mpc-opt input.mlir [passes] [-o out.mlir]   run passes on MLIR\n",
      registry);
  mpc::printOpOnDiagnosticOnlyWhenAsked();
  if (!renderReportFlag.empty())
    return renderReport(renderReportFlag, outputFilename);
  // Like cc -o, the output's directory must exist; say so before any work
  // (the linker would otherwise fail on its temporary file's name).
  if (outputFilename != "-") {
    StringRef directory = llvm::sys::path::parent_path(outputFilename);
    if (!directory.empty() && !llvm::sys::fs::is_directory(directory)) {
      llvm::errs() << "mpc-opt: error: cannot write '" << outputFilename
                   << "': directory '" << directory << "' does not exist\n";
      return 1;
    }
  }
  std::string mode = modeFlag;
  if (mode != "auto" && mode != "opt" && mode != "infer" && mode != "train") {
    llvm::errs() << "mpc-opt: error: --mode must be train, infer or opt, got '"
                 << mode << "'\n";
    return 1;
  }
  if (mpc::isONNXModelPath(inputFilename)) {
    if (mode == "auto") {
      // `mpc-opt model.onnx -o train_model` is the main job; anything that
      // asks for IR (passes, a .mlir output, stdout) is opt.
      bool asksForIR = outputFilename == "-" || outputFilename == "/dev/null" ||
                       StringRef(outputFilename).ends_with(".mlir") ||
                       StringRef(outputFilename).ends_with(".mlirbc") ||
                       hasPassOnCommandLine(argc, argv);
      mode = asksForIR ? "opt" : "train";
    }
    if (mode == "opt")
      return runOptOnONNXModel(inputFilename, outputFilename, registry);
    return compileProgram(inputFilename, outputFilename,
                          mode == "train" ? mpc::ProgramKind::Training
                                          : mpc::ProgramKind::Inference,
                          registry);
  }
  if (mode == "auto")
    mode = "opt";
  if (mode != "opt") {
    llvm::errs() << "mpc-opt: error: --mode=" << modeFlag
                 << " takes an ONNX model\n";
    return 1;
  }
  return runOnMLIR(inputFilename, outputFilename, registry);
}

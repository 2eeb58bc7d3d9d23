//===- mpc-opt.cpp - the mpc driver ---------------------------------------===//
//
// An MLIR opt driver with mpc's dialect and passes. Given an ONNX model
// (`model.onnx`) it first imports it; the imported module then goes through
// the same pass pipeline and printing as any MLIR input. Compiling a model
// into a program is the compiler library's (mpc/Compiler/Compiler.h): this
// file only turns flags into its options.
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Codegen/GPU/Passes.h"
#include "mpc/Codegen/Passes.h"
#include "mpc/Compiler/Compiler.h"
#include "mpc/Compiler/Pipelines.h"
#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionReport.h"
#include "mpc/Support/AtomicFile.h"
#include "mpc/Target/ONNX/ONNXImporter.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;

static llvm::cl::OptionCategory importCategory("ONNX import options");

static llvm::cl::list<std::string> inputShapes(
    "input-shape",
    llvm::cl::desc("Pin a graph input's shape: NAME:32x3x224x224 (repeatable)"),
    llvm::cl::cat(importCategory));

static llvm::cl::OptionCategory precisionCategory("Mixed precision options");

static llvm::cl::opt<std::string> precisionFlag(
    "precision",
    llvm::cl::desc("Compute precision: fp32 (no change), bf16 or fp16; runs "
                   "the precision pipeline before any other pass"),
    llvm::cl::init("fp32"), llvm::cl::cat(precisionCategory));
static llvm::cl::opt<std::string>
    policyFlag("policy", llvm::cl::desc("JSON precision policy file"),
               llvm::cl::init(""), llvm::cl::cat(precisionCategory));
static llvm::cl::opt<std::string> algorithmFlag(
    "precision-algorithm",
    llvm::cl::desc("global (min-cut over cast bytes) or greedy (TF-style)"),
    llvm::cl::init("global"), llvm::cl::cat(precisionCategory));
static llvm::cl::opt<bool>
    strictFlag("strict", llvm::cl::desc("Unknown op types are errors"),
               llvm::cl::init(false), llvm::cl::cat(precisionCategory));
static llvm::cl::opt<std::string> reportFlag(
    "precision-report",
    llvm::cl::desc("Write the precision report: FILE.html (a page with the "
                   "graph), FILE (JSON) or - (table)"),
    llvm::cl::init(""), llvm::cl::cat(precisionCategory));
static llvm::cl::opt<std::string> renderReportFlag(
    "render-report",
    llvm::cl::desc("Render a saved JSON precision report as the HTML page "
                   "(-o FILE.html) and stop"),
    llvm::cl::init(""), llvm::cl::cat(precisionCategory));

static llvm::cl::OptionCategory programCategory("Program options");
static llvm::cl::opt<std::string> modeFlag(
    "mode",
    llvm::cl::desc(
        "train: compile an ONNX model into a training binary; infer: into an "
        "inference program; opt: run the given passes and print IR. Default: "
        "train for an ONNX model with -o FILE (not .mlir, not /dev/null) and "
        "no passes, else opt"),
    llvm::cl::init("auto"), llvm::cl::cat(programCategory));
static llvm::cl::opt<std::string> emitFlag(
    "emit",
    llvm::cl::desc("with --mode=train/infer: mlir (LLVM dialect), llvm (LLVM "
                   "IR), obj or exe (default); ptx with --target=cuda (all "
                   "kernels as one PTX module)"),
    llvm::cl::init("exe"), llvm::cl::cat(programCategory));
static llvm::cl::opt<std::string> targetFlag(
    "target",
    llvm::cl::desc("cpu (default), cuda (NVIDIA GPU kernels, PTX launched "
                   "through the CUDA driver; --emit=ptx writes the PTX) or "
                   "cpu,cuda (a binary with both; --device picks at run "
                   "time)"),
    llvm::cl::init("cpu"), llvm::cl::cat(programCategory));
static llvm::cl::opt<std::string> gpuArchFlag(
    "gpu-arch", llvm::cl::desc("with --target=cuda: sm_80 (default) or sm_90"),
    llvm::cl::init("sm_80"), llvm::cl::cat(programCategory));
static llvm::cl::opt<std::string> devicePlanFlag(
    "device-plan",
    llvm::cl::desc("with --target=cuda: write the device plan (kernels per "
                   "step, tensor-core FLOPs, device bytes): FILE (JSON) or - "
                   "(table)"),
    llvm::cl::init(""), llvm::cl::cat(programCategory));
static llvm::cl::opt<bool> debugInfoFlag(
    "debug-info",
    llvm::cl::desc("with --mode=train/infer: line tables from the ops' "
                   "locations, so that perf or gdb attribute the machine code "
                   "to ops (compile an .mlir file to get its line numbers)"),
    llvm::cl::init(false));

static llvm::cl::opt<std::string> cpuFlag(
    "cpu",
    llvm::cl::desc("CPU the program runs on: native (default), x86-64-v3 "
                   "(AVX2), x86-64-v4 (AVX-512) or an LLVM CPU name"),
    llvm::cl::init("native"), llvm::cl::cat(programCategory));
static llvm::cl::opt<bool>
    verboseFlag("v", llvm::cl::desc("Print each compilation stage and its time"),
                llvm::cl::init(false), llvm::cl::cat(programCategory));

static llvm::cl::OptionCategory trainingCategory("Training options");
static llvm::cl::opt<std::string> lossFlag(
    "loss",
    llvm::cl::desc("model (the model's own loss output), cross-entropy "
                   "(integer labels on logits) or mse"),
    llvm::cl::init("cross-entropy"), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<std::string> lossOutputFlag(
    "loss-output",
    llvm::cl::desc("the output the loss attaches to (default: the only one)"),
    llvm::cl::init(""), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<std::string> optimizerFlag(
    "optimizer", llvm::cl::desc("sgd, momentum, adam or adamw"),
    llvm::cl::init("adamw"), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<float> lrFlag(
    "lr", llvm::cl::desc("default learning rate of the binary"),
    llvm::cl::init(1e-3f), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<float> weightDecayFlag(
    "weight-decay",
    llvm::cl::desc("default weight decay (0.01 for adamw, else 0)"),
    llvm::cl::init(-1.0f), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<float> momentumFlag(
    "momentum", llvm::cl::desc("momentum factor (--optimizer=momentum)"),
    llvm::cl::init(0.9f), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<bool> nesterovFlag(
    "nesterov", llvm::cl::desc("Nesterov momentum (--optimizer=momentum)"),
    llvm::cl::init(false), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<int64_t> batchSizeFlag(
    "batch-size",
    llvm::cl::desc("batch size for inputs with a dynamic first dim "
                   "(--mode=train; --input-shape pins others)"),
    llvm::cl::init(32), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<bool> trainableConstantsFlag(
    "trainable-constants",
    llvm::cl::desc("float Constant nodes of rank > 0 become trainable "
                   "parameters, like initializers (for exporters such as "
                   "Paddle2ONNX that write weights as Constant nodes); "
                   "--save-onnx writes them back as initializers"),
    llvm::cl::init(false), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<mpc::RunningVarianceEstimate> runningVarianceFlag(
    "bn-running-variance",
    llvm::cl::desc("the batch variance training-mode BatchNorm folds into "
                   "its running variance"),
    llvm::cl::values(
        clEnumValN(mpc::RunningVarianceEstimate::Auto, "auto",
                   "unbiased when PyTorch exported the model (its "
                   "BatchNorm's), else population (ONNX's)"),
        clEnumValN(mpc::RunningVarianceEstimate::Population, "population",
                   "divided by n, as ONNX specifies"),
        clEnumValN(mpc::RunningVarianceEstimate::Unbiased, "unbiased",
                   "divided by n - 1, as PyTorch computes")),
    llvm::cl::init(mpc::RunningVarianceEstimate::Auto),
    llvm::cl::cat(trainingCategory));
static llvm::cl::opt<std::string> lossScalingFlag(
    "loss-scaling",
    llvm::cl::desc("auto (dynamic for fp16, none otherwise), dynamic, static "
                   "or none"),
    llvm::cl::init("auto"), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<float> lossScaleInitFlag(
    "loss-scale-init", llvm::cl::desc("initial loss scale"),
    llvm::cl::init(65536.0f), llvm::cl::cat(trainingCategory));
static llvm::cl::opt<int64_t> lossScaleGrowthIntervalFlag(
    "loss-scale-growth-interval",
    llvm::cl::desc("clean steps before the loss scale doubles"),
    llvm::cl::init(2000), llvm::cl::cat(trainingCategory));

/// The precision pipeline the driver flags ask for; failure (reported) on
/// a bad --precision.
static FailureOr<std::shared_ptr<mpc::PrecisionPipelineOptions>>
precisionOptionsFromFlags() {
  if (precisionFlag != "bf16" && precisionFlag != "fp16") {
    llvm::errs() << "mpc-opt: error: --precision must be fp32, bf16 or fp16, "
                    "got '"
                 << precisionFlag << "'\n";
    return failure();
  }
  // Pass options are not copyable; a shared pointer to them is.
  auto options = std::make_shared<mpc::PrecisionPipelineOptions>();
  options->precision = precisionFlag;
  options->policy = policyFlag;
  options->algorithm = algorithmFlag;
  options->strict = strictFlag;
  options->report = reportFlag;
  return options;
}

/// Adds the precision pipeline the driver flags ask for in front of the
/// passes given on the command line.
static LogicalResult addDriverPipeline(MlirOptMainConfig &config) {
  if (precisionFlag == "fp32") {
    if (!reportFlag.empty() || !policyFlag.empty()) {
      llvm::errs() << "mpc-opt: error: --precision-report and --policy need "
                      "--precision=bf16 or --precision=fp16\n";
      return failure();
    }
    return success();
  }
  auto options = precisionOptionsFromFlags();
  if (failed(options))
    return failure();
  MlirOptMainConfig userPasses = config;
  config.setPassPipelineSetupFn([userPasses, options = *options](
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
  FailureOr<mpc::AtomicOutputFile> output =
      mpc::AtomicOutputFile::open(path, error);
  if (failed(output)) {
    llvm::errs() << "mpc-opt: error: " << error << "\n";
    return 1;
  }
  if (failed(write(output->os())))
    return 1;
  if (failed(output->commit(error))) {
    llvm::errs() << "mpc-opt: error: " << error << "\n";
    return 1;
  }
  return 0;
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

/// The builds --target asks for.
struct TargetBuilds {
  bool cpu = false, cuda = false;
};

static FailureOr<TargetBuilds> targetBuildsFromFlag() {
  TargetBuilds builds;
  SmallVector<StringRef> names;
  StringRef(targetFlag).split(names, ',');
  for (StringRef name : names) {
    if (name == "cpu" && !builds.cpu)
      builds.cpu = true;
    else if (name == "cuda" && !builds.cuda)
      builds.cuda = true;
    else {
      llvm::errs() << "mpc-opt: error: --target must be cpu, cuda or "
                      "cpu,cuda, got '"
                   << targetFlag << "'\n";
      return failure();
    }
  }
  return builds;
}

/// The output kind --emit asks for; failure (reported) on a bad flag
/// combination or a missing -o.
static FailureOr<mpc::OutputKind> outputKindFromFlags(StringRef outputFilename,
                                                      const TargetBuilds &builds) {
  if (outputFilename == "-" && emitFlag != "mlir" && emitFlag != "llvm") {
    llvm::errs() << "mpc-opt: error: compiling a program needs -o FILE\n";
    return failure();
  }
  if (builds.cuda && gpuArchFlag != "sm_80" && gpuArchFlag != "sm_90") {
    llvm::errs() << "mpc-opt: error: --gpu-arch must be sm_80 or sm_90, got '"
                 << gpuArchFlag << "'\n";
    return failure();
  }
  if ((emitFlag == "ptx" || !devicePlanFlag.empty()) && !builds.cuda) {
    llvm::errs() << "mpc-opt: error: " << (emitFlag == "ptx" ? "--emit=ptx"
                                                             : "--device-plan")
                 << " needs --target=cuda\n";
    return failure();
  }
  if (emitFlag != "exe" && builds.cpu && builds.cuda) {
    llvm::errs() << "mpc-opt: error: --emit=" << emitFlag
                 << " writes one build; --target=cpu,cuda makes executables "
                    "only\n";
    return failure();
  }
  std::optional<mpc::OutputKind> kind =
      llvm::StringSwitch<std::optional<mpc::OutputKind>>(emitFlag)
          .Case("mlir", mpc::OutputKind::MLIR)
          .Case("llvm", mpc::OutputKind::LLVMIR)
          .Case("obj", mpc::OutputKind::Object)
          .Case("exe", mpc::OutputKind::Executable)
          .Case("ptx", mpc::OutputKind::PTX)
          .Default(std::nullopt);
  if (!kind) {
    llvm::errs() << "mpc-opt: error: --emit must be mlir, llvm, obj, exe or "
                    "ptx, got '"
                 << emitFlag << "'\n";
    return failure();
  }
  return *kind;
}

/// --mode=train/infer: the flags as compile options, then the compiler.
static int compileProgram(StringRef inputFilename, StringRef outputFilename,
                          mpc::ProgramKind program,
                          const DialectRegistry &registry) {
  mpc::CompileOptions options;
  options.modelPath = inputFilename.str();
  options.outputPath = outputFilename.str();
  options.program = program;
  for (const std::string &spec : inputShapes) {
    std::string error = mpc::parseInputShapeOption(spec, options.import);
    if (!error.empty()) {
      llvm::errs() << "mpc-opt: error: " << error << "\n";
      return 1;
    }
  }
  if (program == mpc::ProgramKind::Training)
    options.import.batchSize = batchSizeFlag;
  options.import.trainableConstants = trainableConstantsFlag;
  FailureOr<TargetBuilds> builds = targetBuildsFromFlag();
  if (failed(builds))
    return 1;
  FailureOr<mpc::OutputKind> output =
      outputKindFromFlags(outputFilename, *builds);
  if (failed(output))
    return 1;
  if (precisionFlag != "fp32" && precisionFlag != "bf16" &&
      precisionFlag != "fp16") {
    llvm::errs() << "mpc-opt: error: --precision must be fp32, bf16 or fp16, "
                    "got '"
                 << precisionFlag << "'\n";
    return 1;
  }
  options.output = *output;
  options.targetCPU = builds->cpu;
  options.targetCUDA = builds->cuda;
  options.precision = precisionFlag;
  options.policyFile = policyFlag;
  options.precisionAlgorithm = algorithmFlag;
  options.strict = strictFlag;
  options.precisionReport = reportFlag;
  options.cpu = cpuFlag;
  options.gpuArch = gpuArchFlag;
  options.devicePlan = devicePlanFlag;
  options.debugInfo = debugInfoFlag;
  options.loss = lossFlag;
  options.lossOutput = lossOutputFlag;
  options.optimizer = optimizerFlag;
  options.learningRate = lrFlag;
  options.weightDecay = weightDecayFlag;
  options.momentum = momentumFlag;
  options.nesterov = nesterovFlag;
  options.runningVariance = runningVarianceFlag;
  options.lossScaling = lossScalingFlag;
  options.lossScaleInit = lossScaleInitFlag;
  options.lossScaleGrowthInterval = lossScaleGrowthIntervalFlag;
  options.verbose = verboseFlag;
  return failed(mpc::compileModel(options, registry, llvm::errs())) ? 1 : 0;
}

/// --mode=opt on an ONNX model: imports it and runs the opt pipeline on
/// the result.
static int runOptOnONNXModel(StringRef inputFilename, StringRef outputFilename,
                             DialectRegistry &registry) {
  mpc::ONNXImportOptions options;
  for (const std::string &spec : inputShapes) {
    std::string error = mpc::parseInputShapeOption(spec, options);
    if (!error.empty()) {
      llvm::errs() << "mpc-opt: error: " << error << "\n";
      return 1;
    }
  }
  options.trainableConstants = trainableConstantsFlag;
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
  DialectRegistry registry;
  registry.insert<mpc::MPCDialect>();
  // Every upstream dialect with its external interface models (tiling,
  // bufferization, subset ops, LLVM conversion): the lowering pipelines
  // are built from upstream passes, and a normal opt driver reads any IR.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels (NVVM, GPU) to LLVM IR.
  registerAllToLLVMIRTranslations(registry);
  registerAllPasses();
  mpc::registerMPCPasses();
  mpc::registerMPCConversionPasses();
  mpc::registerMPCCodegenPasses();
  mpc::registerMPCCPUCodegenPasses();
  mpc::registerMPCGPUCodegenPasses();
  mpc::registerMPCPipelines();

  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv,
      "mpc-opt: the mpc mixed-precision compiler driver\n\n"
      "  mpc-opt model.onnx [passes] [-o out.mlir]   import an ONNX model\n"
      "  mpc-opt input.mlir [passes] [-o out.mlir]   run passes on MLIR\n",
      registry);
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

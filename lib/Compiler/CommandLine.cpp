//===- CommandLine.cpp - the compiler's options as command-line flags -----===//

#include "mpc/Compiler/CommandLine.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ManagedStatic.h"

#include <cmath>
#include <sstream>

using namespace mlir;
using namespace mlir::mpc;
namespace cl = llvm::cl;

namespace {

/// The flags, each stored in the field of `options` it sets; the few whose
/// spelling is not the option's type (--target, --emit, --input-shape), and
/// --batch-size, which only a training program takes, are kept apart and
/// converted by compileOptionsFromCL. Registered on
/// construction, which registerCompileCLOptions triggers.
struct CompileCLOptions {
  CompileOptions options;
  std::string target = "cpu";
  std::string emit = "exe";
  int64_t trainingBatchSize = 32;

  cl::OptionCategory importCategory{"mpc: ONNX import"};
  cl::list<std::string> inputShapes{
      "input-shape",
      cl::desc("Pin a graph input's shape: NAME:32x3x224x224 (repeatable)"),
      cl::cat(importCategory)};
  cl::opt<bool, true> trainableConstants{
      "trainable-constants",
      cl::desc("float Constant nodes of rank > 0 become trainable "
               "parameters, like initializers (for exporters such as "
               "Paddle2ONNX that write weights as Constant nodes); "
               "--save-onnx writes them back as initializers"),
      cl::location(options.import.trainableConstants),
      cl::cat(importCategory)};

  cl::OptionCategory precisionCategory{"mpc: mixed precision"};
  cl::opt<std::string, true> precision{
      "precision",
      cl::desc("Compute precision: fp32 (no change), bf16, fp16, or auto "
               "(bf16 where the target computes it natively, else fp16 with "
               "loss scaling on a GPU, else fp32; the choice and its reason "
               "are printed and kept in the descriptor); runs the precision "
               "pipeline before any other pass"),
      cl::location(options.precision), cl::cat(precisionCategory)};
  cl::opt<std::string, true> policy{"policy",
                                    cl::desc("JSON precision policy file"),
                                    cl::location(options.policyFile),
                                    cl::cat(precisionCategory)};
  cl::opt<std::string, true> algorithm{
      "precision-algorithm",
      cl::desc("global (min-cut over cast bytes) or greedy (TF-style)"),
      cl::location(options.precisionAlgorithm), cl::cat(precisionCategory)};
  cl::opt<bool, true> strict{"strict", cl::desc("Unknown op types are errors"),
                             cl::location(options.strict),
                             cl::cat(precisionCategory)};
  cl::opt<std::string, true> report{
      "precision-report",
      cl::desc("Write the precision report: FILE.html (a page with the "
               "graph), FILE (JSON) or - (table)"),
      cl::location(options.precisionReport), cl::cat(precisionCategory)};

  cl::OptionCategory programCategory{"mpc: program"};
  cl::opt<std::string, true> emitFlag{
      "emit",
      cl::desc("with --mode=train/infer: mlir (LLVM dialect), llvm (LLVM "
               "IR), obj or exe (default); ptx with --target=cuda (all "
               "kernels as one PTX module)"),
      cl::location(emit), cl::cat(programCategory)};
  cl::opt<std::string, true> targetFlag{
      "target",
      cl::desc("cpu (default), cuda (NVIDIA GPU kernels, PTX launched "
               "through the CUDA driver; --emit=ptx writes the PTX) or "
               "cpu,cuda (a binary with both; --device picks at run time)"),
      cl::location(target), cl::cat(programCategory)};
  cl::opt<std::string, true> gpuArch{
      "gpu-arch", cl::desc("with --target=cuda: sm_80 (default) or sm_90"),
      cl::location(options.gpuArch), cl::cat(programCategory)};
  cl::opt<std::string, true> devicePlan{
      "device-plan",
      cl::desc("with --target=cuda: write the device plan (kernels per "
               "step, tensor-core FLOPs, device bytes): FILE (JSON) or - "
               "(table)"),
      cl::location(options.devicePlan), cl::cat(programCategory)};
  cl::opt<bool, true> debugInfo{
      "debug-info",
      cl::desc("with --mode=train/infer: line tables from the ops' "
               "locations, so that perf or gdb attribute the machine code "
               "to ops (compile an .mlir file to get its line numbers)"),
      cl::location(options.debugInfo), cl::cat(programCategory)};
  cl::opt<std::string, true> cpu{
      "cpu",
      cl::desc("CPU the program runs on: native (default), x86-64-v3 "
               "(AVX2), x86-64-v4 (AVX-512) or an LLVM CPU name"),
      cl::location(options.cpu), cl::cat(programCategory)};
  cl::opt<bool, true> verbose{
      "v", cl::desc("Print each compilation stage and its time"),
      cl::location(options.verbose), cl::cat(programCategory)};

  cl::OptionCategory trainingCategory{"mpc: training"};
  cl::opt<std::string, true> loss{
      "loss",
      cl::desc("model (the model's own loss output), cross-entropy "
               "(integer labels on logits) or mse"),
      cl::location(options.loss), cl::cat(trainingCategory)};
  cl::opt<std::string, true> lossOutput{
      "loss-output",
      cl::desc("the output the loss attaches to (default: the only one)"),
      cl::location(options.lossOutput), cl::cat(trainingCategory)};
  cl::opt<std::string, true> optimizer{
      "optimizer", cl::desc("sgd, momentum, adam or adamw"),
      cl::location(options.optimizer), cl::cat(trainingCategory)};
  cl::opt<float, true> learningRate{
      "lr", cl::desc("default learning rate of the binary"),
      cl::location(options.learningRate), cl::cat(trainingCategory)};
  cl::opt<float, true> clipGradNorm{
      "clip-grad-norm",
      cl::desc("clip the gradients' global L2 norm to this, after unscaling "
               "(clip_grad_norm_; the binary's default, its --clip-grad-norm "
               "overrides it)"),
      cl::location(options.clipGradNorm), cl::cat(trainingCategory)};
  cl::opt<float, true> clipGradValue{
      "clip-grad-value",
      cl::desc("clip every gradient element to [-v, v], after unscaling "
               "(clip_grad_value_; the binary's default)"),
      cl::location(options.clipGradValue), cl::cat(trainingCategory)};
  cl::opt<int64_t, true> accumulate{
      "accumulate",
      cl::desc("sum the gradients of K micro-batches (each of --batch-size) "
               "before one update, GradScaler-style under loss scaling; the "
               "binary's default K, its --accumulate overrides it"),
      cl::value_desc("K"), cl::location(options.accumulate),
      cl::cat(trainingCategory)};
  cl::opt<float, true> weightDecay{
      "weight-decay", cl::desc("default weight decay (0.01 for adamw, else 0)"),
      cl::location(options.weightDecay), cl::cat(trainingCategory)};
  cl::opt<float, true> momentum{
      "momentum", cl::desc("momentum factor (--optimizer=momentum)"),
      cl::location(options.momentum), cl::cat(trainingCategory)};
  cl::opt<bool, true> nesterov{
      "nesterov", cl::desc("Nesterov momentum (--optimizer=momentum)"),
      cl::location(options.nesterov), cl::cat(trainingCategory)};
  cl::opt<int64_t, true> batchSize{
      "batch-size",
      cl::desc("batch size for inputs with a dynamic first dim "
               "(--mode=train; --input-shape pins others)"),
      cl::location(trainingBatchSize), cl::cat(trainingCategory)};
  cl::opt<RunningVarianceEstimate, true> runningVariance{
      "bn-running-variance",
      cl::desc("the batch variance training-mode BatchNorm folds into its "
               "running variance"),
      cl::values(
          clEnumValN(RunningVarianceEstimate::Auto, "auto",
                     "unbiased when PyTorch exported the model (its "
                     "BatchNorm's), else population (ONNX's)"),
          clEnumValN(RunningVarianceEstimate::Population, "population",
                     "divided by n, as ONNX specifies"),
          clEnumValN(RunningVarianceEstimate::Unbiased, "unbiased",
                     "divided by n - 1, as PyTorch computes")),
      cl::location(options.runningVariance), cl::cat(trainingCategory)};
  cl::opt<std::string, true> lossScaling{
      "loss-scaling",
      cl::desc("auto (dynamic for fp16, none otherwise), dynamic, static or "
               "none"),
      cl::location(options.lossScaling), cl::cat(trainingCategory)};
  cl::opt<float, true> lossScaleInit{
      "loss-scale-init", cl::desc("initial loss scale"),
      cl::location(options.lossScaleInit), cl::cat(trainingCategory)};
  cl::opt<int64_t, true> lossScaleGrowthInterval{
      "loss-scale-growth-interval",
      cl::desc("clean steps before the loss scale doubles"),
      cl::location(options.lossScaleGrowthInterval),
      cl::cat(trainingCategory)};
};

} // namespace

static llvm::ManagedStatic<CompileCLOptions> clOptions;

void mpc::registerCompileCLOptions() { *clOptions; }

static raw_ostream &error(raw_ostream &errors) {
  return errors << clOptions->options.toolName << ": error: ";
}

/// The builds --target names, into `options`.
static LogicalResult parseTargets(StringRef spelling, CompileOptions &options,
                                  raw_ostream &errors) {
  options.targetCPU = options.targetCUDA = false;
  SmallVector<StringRef> names;
  spelling.split(names, ',');
  for (StringRef name : names) {
    bool &build = name == "cuda" ? options.targetCUDA : options.targetCPU;
    if ((name != "cpu" && name != "cuda") || build) {
      error(errors) << "--target must be cpu, cuda or cpu,cuda, got '"
                    << spelling << "'\n";
      return failure();
    }
    build = true;
  }
  return success();
}

/// --emit, checked against the builds and the output path.
static LogicalResult parseOutputKind(StringRef emit, CompileOptions &options,
                                     raw_ostream &errors) {
  if (options.outputPath == "-" && emit != "mlir" && emit != "llvm") {
    error(errors) << "compiling a program needs -o FILE\n";
    return failure();
  }
  if (options.targetCUDA && options.gpuArch != "sm_80" &&
      options.gpuArch != "sm_90") {
    error(errors) << "--gpu-arch must be sm_80 or sm_90, got '"
                  << options.gpuArch << "'\n";
    return failure();
  }
  if ((emit == "ptx" || !options.devicePlan.empty()) && !options.targetCUDA) {
    error(errors) << (emit == "ptx" ? "--emit=ptx" : "--device-plan")
                  << " needs --target=cuda\n";
    return failure();
  }
  if (emit != "exe" && options.targetCPU && options.targetCUDA) {
    error(errors) << "--emit=" << emit
                  << " writes one build; --target=cpu,cuda makes executables "
                     "only\n";
    return failure();
  }
  std::optional<OutputKind> kind =
      llvm::StringSwitch<std::optional<OutputKind>>(emit)
          .Case("mlir", OutputKind::MLIR)
          .Case("llvm", OutputKind::LLVMIR)
          .Case("obj", OutputKind::Object)
          .Case("exe", OutputKind::Executable)
          .Case("ptx", OutputKind::PTX)
          .Default(std::nullopt);
  if (!kind) {
    error(errors) << "--emit must be mlir, llvm, obj, exe or ptx, got '"
                  << emit << "'\n";
    return failure();
  }
  options.output = *kind;
  return success();
}

/// --precision is one the compiler has, and the precision-only flags come
/// with a low precision.
static LogicalResult checkPrecision(const CompileOptions &options,
                                    raw_ostream &errors) {
  if (options.precision != "fp32" && options.precision != "bf16" &&
      options.precision != "fp16" && options.precision != "auto") {
    error(errors) << "--precision must be fp32, bf16, fp16 or auto, got '"
                  << options.precision << "'\n";
    return failure();
  }
  if (options.precision == "fp32" &&
      (!options.precisionReport.empty() || !options.policyFile.empty())) {
    error(errors) << "--precision-report and --policy need "
                     "--precision=bf16 or --precision=fp16\n";
    return failure();
  }
  return success();
}

/// The training flags' values, each named: a bad one would otherwise be
/// replaced by a default (--lr=-1) or surface as another flag's error
/// (--batch-size=0 as an --input-shape one).
static LogicalResult checkTrainingFlags(const CompileOptions &options,
                                        int64_t batchSize,
                                        raw_ostream &errors) {
  auto bad = [&](StringRef flag, StringRef need, double value) {
    std::ostringstream text; // 0.001, -1: as the user wrote them
    text << value;
    error(errors) << "--" << flag << " must be " << need << ", got "
                  << text.str() << "\n";
    return failure();
  };
  if (batchSize < 1)
    return bad("batch-size", "at least 1", double(batchSize));
  if (!(options.learningRate > 0) || !std::isfinite(options.learningRate))
    return bad("lr", "a positive number", double(options.learningRate));
  // -1 is "the optimizer's default" (0.01 for AdamW, else 0).
  if (options.weightDecay != -1.0f &&
      (!(options.weightDecay >= 0) || !std::isfinite(options.weightDecay)))
    return bad("weight-decay", "0 or more", double(options.weightDecay));
  if (!(options.clipGradNorm >= 0) || !std::isfinite(options.clipGradNorm))
    return bad("clip-grad-norm", "0 (none) or a positive number",
               double(options.clipGradNorm));
  if (!(options.clipGradValue >= 0) || !std::isfinite(options.clipGradValue))
    return bad("clip-grad-value", "0 (none) or a positive number",
               double(options.clipGradValue));
  if (options.accumulate < 1)
    return bad("accumulate", "at least 1 (1: no accumulation)",
               double(options.accumulate));
  if (!(options.momentum >= 0) || !(options.momentum < 1))
    return bad("momentum", "in [0, 1)", double(options.momentum));
  if (!(options.lossScaleInit > 0) || !std::isfinite(options.lossScaleInit))
    return bad("loss-scale-init", "a positive number",
               double(options.lossScaleInit));
  if (options.lossScaleGrowthInterval < 1)
    return bad("loss-scale-growth-interval", "at least 1",
               double(options.lossScaleGrowthInterval));
  return success();
}

//===----------------------------------------------------------------------===//
// --help
//===----------------------------------------------------------------------===//

/// Category names sort upper case first: LLVM's "Generic Options" (--help,
/// --version) stays on top, then "General options" (the input and -o),
/// then these.
static cl::OptionCategory optDriverCategory(
    "opt driver: MLIR's options and passes (LLVM's options: --help-hidden)");

void mpc::printOpOnDiagnosticOnlyWhenAsked() {
  auto &registered = cl::getRegisteredOptions();
  auto it = registered.find("mlir-print-op-on-diagnostic");
  if (it == registered.end() || it->second->getNumOccurrences() ||
      clOptions->options.verbose)
    return;
  // MLIR declares it as cl::opt<bool> (registerMLIRContextCLOptions).
  static_cast<cl::opt<bool> *>(it->second)->setValue(false);
}

mpc::HelpLayout::HelpLayout() {
  for (const auto &entry : cl::getRegisteredOptions())
    llvmOptions.insert(entry.first);
}

void mpc::HelpLayout::apply(ArrayRef<cl::Option *> driverOptions) {
  registerCompileCLOptions();
  for (cl::Option *option : driverOptions)
    option->addCategory(clOptions->programCategory);
  auto isMPC = [&](cl::Option *option) {
    return llvm::any_of(option->Categories, [&](cl::OptionCategory *c) {
      return c == &clOptions->importCategory ||
             c == &clOptions->precisionCategory ||
             c == &clOptions->programCategory ||
             c == &clOptions->trainingCategory;
    });
  };
  auto isGeneric = [](cl::Option *option) {
    return llvm::any_of(option->Categories, [](cl::OptionCategory *c) {
      return c->getName() == "Generic Options";
    });
  };
  for (const auto &entry : cl::getRegisteredOptions()) {
    cl::Option *option = entry.second;
    if (isMPC(option) || isGeneric(option) ||
        option->getOptionHiddenFlag() != cl::NotHidden)
      continue;
    if (llvmOptions.contains(entry.first))
      option->setHiddenFlag(cl::Hidden);
    else
      option->addCategory(optDriverCategory);
  }
}

FailureOr<ONNXImportOptions> mpc::importOptionsFromCL(raw_ostream &errors) {
  ONNXImportOptions import = clOptions->options.import;
  for (const std::string &spec : clOptions->inputShapes) {
    std::string message = parseInputShapeOption(spec, import);
    if (!message.empty()) {
      error(errors) << message << "\n";
      return failure();
    }
  }
  return import;
}

FailureOr<CompileOptions> mpc::compileOptionsFromCL(StringRef modelPath,
                                                    StringRef outputPath,
                                                    ProgramKind program,
                                                    raw_ostream &errors) {
  CompileOptions options = clOptions->options;
  options.modelPath = modelPath.str();
  options.outputPath = outputPath.str();
  options.program = program;
  FailureOr<ONNXImportOptions> import = importOptionsFromCL(errors);
  if (failed(import))
    return failure();
  options.import = *import;
  // Only a training program pins dynamic batch dimensions to --batch-size;
  // an inference program keeps them (it runs at any batch size).
  if (program == ProgramKind::Training) {
    if (failed(checkTrainingFlags(options, clOptions->trainingBatchSize,
                                  errors)))
      return failure();
    options.import.batchSize = clOptions->trainingBatchSize;
  }
  if (failed(parseTargets(clOptions->target, options, errors)) ||
      failed(parseOutputKind(clOptions->emit, options, errors)) ||
      failed(checkPrecision(options, errors)))
    return failure();
  return options;
}

FailureOr<std::shared_ptr<PrecisionPipelineOptions>>
mpc::precisionPipelineOptionsFromCL(raw_ostream &errors) {
  const CompileOptions &options = clOptions->options;
  if (failed(checkPrecision(options, errors)))
    return failure();
  if (options.precision == "auto") {
    error(errors) << "--precision=auto chooses for the targets of a program "
                     "(-o FILE); running passes, name bf16 or fp16\n";
    return failure();
  }
  if (options.precision == "fp32")
    return std::shared_ptr<PrecisionPipelineOptions>();
  auto pipeline = std::make_shared<PrecisionPipelineOptions>();
  populatePrecisionPipelineOptions(options, *pipeline);
  return pipeline;
}

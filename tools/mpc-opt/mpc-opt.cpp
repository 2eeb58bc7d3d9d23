//===- mpc-opt.cpp - the mpc driver ---------------------------------------===//
//
// An MLIR opt driver with mpc's dialect and passes. Given an ONNX model
// (`model.onnx`) it first imports it; the imported module then goes through
// the same pass pipeline and printing as any MLIR input.
//
//===----------------------------------------------------------------------===//

#include "DevicePlan.h"
#include "mpc/Codegen/Passes.h"
#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/Transforms/Pipelines.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionReport.h"
#include "mpc/Support/AtomicFile.h"
#include "mpc/Target/Executable/Executable.h"
#include "mpc/Target/ONNX/ONNXImporter.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include <chrono>
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"

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

namespace {
/// `-v`: one line per finished stage with its wall time.
class StageTimer {
public:
  void done(StringRef stage) {
    auto now = std::chrono::steady_clock::now();
    if (verboseFlag)
      llvm::errs() << llvm::formatv(
          "mpc-opt: {0,-40} {1,8:f3} s\n", stage,
          std::chrono::duration<double>(now - start).count());
    start = now;
  }

private:
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};
} // namespace
static StageTimer stageTimer;

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

/// Line tables take file/line locations; an ONNX import's ops have their
/// node names, which become the file names (line 1), so that a profile's
/// source lines read as ONNX nodes.
static void nameLocationsAsFiles(ModuleOp module) {
  module.walk([](Operation *op) {
    auto name = dyn_cast<NameLoc>(op->getLoc());
    if (name && isa<UnknownLoc>(name.getChildLoc()))
      op->setLoc(NameLoc::get(
          name.getName(),
          FileLineColLoc::get(name.getName(), /*line=*/1, /*column=*/1)));
  });
}

/// The --emit kind; failure (reported) on a bad flag or a missing -o.
static FailureOr<mpc::EmitKind> emitKindFromFlags(StringRef outputFilename) {
  if (outputFilename == "-" && emitFlag != "mlir" && emitFlag != "llvm") {
    llvm::errs() << "mpc-opt: error: compiling a program needs -o FILE\n";
    return failure();
  }
  FailureOr<TargetBuilds> builds = targetBuildsFromFlag();
  if (failed(builds))
    return failure();
  if (builds->cuda && gpuArchFlag != "sm_80" && gpuArchFlag != "sm_90") {
    llvm::errs() << "mpc-opt: error: --gpu-arch must be sm_80 or sm_90, got '"
                 << gpuArchFlag << "'\n";
    return failure();
  }
  if ((emitFlag == "ptx" || !devicePlanFlag.empty()) && !builds->cuda) {
    llvm::errs() << "mpc-opt: error: " << (emitFlag == "ptx" ? "--emit=ptx"
                                                             : "--device-plan")
                 << " needs --target=cuda\n";
    return failure();
  }
  if (emitFlag != "exe" && builds->cpu && builds->cuda) {
    llvm::errs() << "mpc-opt: error: --emit=" << emitFlag
                 << " writes one build; --target=cpu,cuda makes executables "
                    "only\n";
    return failure();
  }
  if (emitFlag == "llvm")
    return mpc::EmitKind::LLVMIR;
  if (emitFlag == "obj")
    return mpc::EmitKind::Object;
  if (emitFlag == "exe" || emitFlag == "mlir" || emitFlag == "ptx")
    return mpc::EmitKind::Executable; // mlir and ptx: written by lowerAndEmit
  llvm::errs() << "mpc-opt: error: --emit must be mlir, llvm, obj, exe or "
                  "ptx, got '"
               << emitFlag << "'\n";
  return failure();
}

/// The CUDA build of the prepared module: kernels to PTX, the host side
/// to the LLVM dialect over the CUDA runtime, entry functions renamed with
/// the CUDA suffix. Writes the device plan when asked; sets the arena size.
static LogicalResult
lowerCUDABuild(ModuleOp module, const std::vector<mpc_opt::PlannedEntry> &entries,
               int64_t parameterCopyBytes, mpc::ProgramBuilds &builds) {
  PassManager kernels(module.getContext());
  if (failed(applyPassManagerCLOptions(kernels)))
    return failure();
  mpc::buildGPUKernelPipeline(kernels);
  if (failed(kernels.run(module)))
    return failure();
  // The state region's layout and the kinds each function takes, for the
  // generated wrappers and the runtime.
  if (auto layout = module->getAttrOfType<DictionaryAttr>("mpc.state_layout")) {
    constexpr uint64_t kF32Bytes = 4;
    for (NamedAttribute slot : layout.getAs<DictionaryAttr>("slots"))
      builds.cudaStateSlotOffsets[slot.getName().str()] =
          cast<IntegerAttr>(slot.getValue()).getInt() * kF32Bytes;
    for (NamedAttribute kind : layout.getAs<DictionaryAttr>("kinds"))
      builds.cudaStateKindOffsets[kind.getName().str()] =
          cast<IntegerAttr>(kind.getValue()).getInt() * kF32Bytes;
    for (const mpc_opt::PlannedEntry &planned : entries) {
      auto function =
          module.lookupSymbol<func::FuncOp>(planned.entry->kernel);
      if (!function)
        continue;
      std::vector<std::string> &kinds =
          builds.cudaStateKindsOf[planned.entry->kernel];
      for (unsigned i = 0; i < function.getNumArguments(); ++i)
        if (auto kind =
                function.getArgAttrOfType<StringAttr>(i, "mpc.state_kind")) {
          kinds.push_back(kind.str());
          builds.cudaStateKindSizes[kind.str()] =
              cast<MemRefType>(function.getArgument(i).getType())
                  .getNumElements();
        }
    }
  }
  FailureOr<mpc_opt::CUDAArena> arena = mpc_opt::cudaArena(module, entries);
  if (failed(arena))
    return failure();
  if (!devicePlanFlag.empty() &&
      failed(mpc_opt::writeDevicePlan(module, entries, parameterCopyBytes,
                                      *arena, gpuArchFlag, devicePlanFlag,
                                      llvm::errs())))
    return failure();
  builds.cudaArenaBytes = arena->scratch;
  builds.cudaStateBytes = arena->state;
  mpc::stripStateAttributes(module);
  // The CPU build (if any) keeps the entry names; the CUDA build's get the
  // suffix, so that both link into one binary.
  for (const mpc_opt::PlannedEntry &planned : entries) {
    auto function = module.lookupSymbol<func::FuncOp>(planned.entry->kernel);
    if (!function)
      continue;
    auto renamed = StringAttr::get(
        module.getContext(), planned.entry->kernel + mpc::kCUDAKernelSuffix);
    if (failed(SymbolTable::replaceAllSymbolUses(function, renamed, module)))
      return failure();
    function.setSymName(renamed);
  }
  PassManager lower(module.getContext());
  if (failed(applyPassManagerCLOptions(lower)))
    return failure();
  mpc::GPUPipelineOptions gpuOptions;
  gpuOptions.chip = gpuArchFlag;
  mpc::buildGPUSerializePipeline(lower, gpuOptions);
  if (emitFlag != "ptx")
    mpc::buildGPUHostPipeline(lower);
  if (failed(lower.run(module)))
    return failure();
  stageTimer.done("lower to PTX (" + gpuArchFlag + ")");
  return success();
}

/// Lowers the prepared module for what --target asks (CPU, CUDA or both)
/// and writes what --emit asks for.
static int lowerAndEmit(
    ModuleOp module, const mpc::CPUTarget &cpu, mpc::EmitKind kind,
    StringRef outputFilename, const std::vector<mpc_opt::PlannedEntry> &entries,
    llvm::function_ref<mpc::GeneratedMain(const mpc::ProgramBuilds &)>
        makeMain) {
  TargetBuilds targets = *targetBuildsFromFlag();
  mpc::ProgramBuilds builds;
  builds.cpu = targets.cpu;
  builds.cuda = targets.cuda;
  SmallVector<ModuleOp> lowered;
  OwningOpRef<ModuleOp> cudaModule;
  if (targets.cuda) {
    int64_t copyBytes =
        mpc_opt::lowPrecisionParameterCopyBytes(module, entries);
    cudaModule = targets.cpu ? module.clone() : OwningOpRef<ModuleOp>();
    ModuleOp cudaBuild = targets.cpu ? *cudaModule : module;
    if (failed(lowerCUDABuild(cudaBuild, entries, copyBytes, builds)))
      return 1;
    if (emitFlag == "ptx") {
      std::string ptx;
      for (auto binary : cudaBuild.getOps<gpu::BinaryOp>())
        for (Attribute object : binary.getObjects())
          ptx += cast<gpu::ObjectAttr>(object).getObject().getValue().str();
      if (ptx.empty()) {
        llvm::errs() << "mpc-opt: error: the program has no kernels\n";
        return 1;
      }
      return writeOutputAtomically(outputFilename, [&](raw_ostream &os) {
        os << ptx;
        return success();
      });
    }
    lowered.push_back(cudaBuild);
  }
  if (targets.cpu) {
    PassManager lower(module.getContext());
    if (failed(applyPassManagerCLOptions(lower)))
      return 1;
    mpc::stripStateAttributes(module);
    if (debugInfoFlag)
      nameLocationsAsFiles(module);
    mpc::CPUPipelineOptions cpuOptions;
    cpuOptions.vectorWidth = cpu.vectorWidth;
    cpuOptions.debugInfo = debugInfoFlag;
    mpc::buildCPUPipeline(lower, cpuOptions);
    if (failed(lower.run(module)))
      return 1;
    stageTimer.done("lower to LLVM dialect (" + cpu.cpu + ")");
    lowered.insert(lowered.begin(), module);
  }
  if (emitFlag == "mlir") {
    return writeOutputAtomically(outputFilename, [&](raw_ostream &os) {
      lowered.front().print(os);
      return success();
    });
  }
  if (failed(mpc::emitProgram(lowered, makeMain(builds), cpu, kind,
                              outputFilename, llvm::errs())))
    return 1;
  stageTimer.done(kind == mpc::EmitKind::Executable ? "LLVM codegen and link"
                                                    : "LLVM codegen");
  return 0;
}

/// --mode=infer: import, decide precisions, lower for the CPU, emit.
static int compileInferenceProgram(OwningOpRef<ModuleOp> module,
                                   StringRef outputFilename) {
  FailureOr<mpc::EmitKind> kind = emitKindFromFlags(outputFilename);
  if (failed(kind))
    return 1;
  FailureOr<mpc::CPUTarget> cpu = mpc::resolveCPUTarget(cpuFlag, llvm::errs());
  if (failed(cpu))
    return 1;
  PassManager pm(module->getContext());
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  pm.addPass(mpc::createMPCDecompose());
  if (precisionFlag != "fp32") {
    auto options = precisionOptionsFromFlags();
    if (failed(options))
      return 1;
    mpc::buildPrecisionPipeline(pm, **options);
  }
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(*module)))
    return 1;
  stageTimer.done(precisionFlag == "fp32" ? "canonicalize"
                                          : "precision (" + precisionFlag + ")");
  FailureOr<mpc::EntryPoint> entry =
      mpc::prepareEntryPoint(*module, "main", "mpc_program");
  if (failed(entry))
    return 1;
  return lowerAndEmit(*module, *cpu, *kind, outputFilename,
                      {{entry->kernel, &*entry}},
                      [&](const mpc::ProgramBuilds &builds) {
                        return mpc::generateInferenceMain(
                            *entry,
                            llvm::sys::path::filename(outputFilename).str(),
                            builds);
                      });
}

/// --mode=train: import, training program, loss scaling, precision over
/// the whole program, lowering, and the training binary.
static int compileTrainingProgram(OwningOpRef<ModuleOp> module,
                                  StringRef modelPath,
                                  StringRef outputFilename) {
  FailureOr<mpc::EmitKind> kind = emitKindFromFlags(outputFilename);
  if (failed(kind))
    return 1;
  FailureOr<mpc::CPUTarget> cpu = mpc::resolveCPUTarget(cpuFlag, llvm::errs());
  if (failed(cpu))
    return 1;
  if (precisionFlag != "fp32" && precisionFlag != "bf16" &&
      precisionFlag != "fp16") {
    llvm::errs() << "mpc-opt: error: --precision must be fp32, bf16 or fp16, "
                    "got '"
                 << precisionFlag << "'\n";
    return 1;
  }
  std::string scaling = lossScalingFlag;
  if (scaling == "auto")
    scaling = precisionFlag == "fp16" ? "dynamic" : "none";

  MLIRContext *context = module->getContext();
  PassManager pm(context);
  if (failed(applyPassManagerCLOptions(pm)))
    return 1;
  mpc::MPCBuildTrainingOptions training;
  training.loss = lossFlag;
  training.output = lossOutputFlag;
  training.optimizer = optimizerFlag;
  training.learningRate = lrFlag;
  training.weightDecay = weightDecayFlag;
  training.momentum = momentumFlag;
  training.nesterov = nesterovFlag;
  training.runningVariance = runningVarianceFlag;
  pm.addPass(mpc::createMPCDecompose());
  pm.addPass(mpc::createMPCBuildTraining(training));
  mpc::MPCLossScalingOptions lossScaling;
  lossScaling.mode = scaling;
  lossScaling.initScale = lossScaleInitFlag;
  lossScaling.growthInterval = lossScaleGrowthIntervalFlag;
  pm.addPass(mpc::createMPCLossScaling(lossScaling));
  if (failed(pm.run(*module)))
    return 1;
  // The forward function served as the template; the binary has no use
  // for it.
  module->lookupSymbol<func::FuncOp>("main").erase();
  stageTimer.done("training program (" + optimizerFlag + ", loss scaling " +
                  scaling + ")");

  PassManager precision(context);
  if (failed(applyPassManagerCLOptions(precision)))
    return 1;
  if (precisionFlag != "fp32") {
    auto options = precisionOptionsFromFlags();
    if (failed(options))
      return 1;
    mpc::buildPrecisionPipeline(precision, **options);
  }
  precision.addPass(createCanonicalizerPass());
  if (failed(precision.run(*module)))
    return 1;
  stageTimer.done(precisionFlag == "fp32" ? "canonicalize"
                                          : "precision (" + precisionFlag + ")");

  mpc::TrainingProgram program;
  auto train = module->lookupSymbol<func::FuncOp>("train_step");
  auto optimizer = train->getAttrOfType<DictionaryAttr>("mpc.optimizer");
  program.precision = precisionFlag;
  program.optimizer = optimizer.getAs<StringAttr>("name").str();
  program.loss = optimizer.getAs<StringAttr>("loss").str();
  program.defaultLR =
      optimizer.getAs<FloatAttr>("lr").getValue().convertToFloat();
  program.defaultWeightDecay =
      optimizer.getAs<FloatAttr>("weight_decay").getValue().convertToFloat();
  // The eval step's state (parameters, running statistics) is what the
  // written model holds.
  std::vector<std::string> modelState;
  auto eval = module->lookupSymbol<func::FuncOp>("eval_step");
  for (unsigned i = 0; i < eval.getNumArguments(); ++i)
    if (auto state = eval.getArgAttrOfType<StringAttr>(i, "mpc.state"))
      modelState.push_back(state.getValue().str());
  FailureOr<mpc::ONNXWeightTemplate> onnx =
      mpc::buildONNXWeightTemplate(modelPath, modelState,
                                   trainableConstantsFlag, llvm::errs());
  if (failed(onnx))
    return 1;
  program.onnx = std::move(*onnx);
  for (auto [function, kernel, entry] :
       {std::tuple<StringRef, StringRef, mpc::EntryPoint *>{
            "init", "mpc_init", &program.init},
        {"train_step", "mpc_train_step", &program.train},
        {"eval_step", "mpc_eval_step", &program.eval}}) {
    FailureOr<mpc::EntryPoint> prepared =
        mpc::prepareEntryPoint(*module, function, kernel);
    if (failed(prepared))
      return 1;
    *entry = std::move(*prepared);
  }
  std::vector<mpc_opt::PlannedEntry> entries = {
      {program.init.kernel, &program.init},
      {program.train.kernel, &program.train},
      {program.eval.kernel, &program.eval}};
  return lowerAndEmit(*module, *cpu, *kind, outputFilename, entries,
                      [&](const mpc::ProgramBuilds &builds) {
                        return mpc::generateTrainingMain(
                            program,
                            llvm::sys::path::filename(outputFilename).str(),
                            builds);
                      });
}

/// Imports an ONNX model and runs the opt pipeline on the result.
static int runOnONNXModel(StringRef inputFilename, StringRef outputFilename,
                          StringRef mode, DialectRegistry &registry) {
  mpc::ONNXImportOptions options;
  for (const std::string &spec : inputShapes) {
    std::string error = mpc::parseInputShapeOption(spec, options);
    if (!error.empty()) {
      llvm::errs() << "mpc-opt: error: " << error << "\n";
      return 1;
    }
  }
  if (mode == "train")
    options.batchSize = batchSizeFlag;
  options.trainableConstants = trainableConstantsFlag;
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> module =
      mpc::importONNXModel(inputFilename, &context, options, llvm::errs());
  if (!module)
    return 1;
  stageTimer.done("import " + llvm::sys::path::filename(inputFilename).str());
  // Compiling a program: diagnostics read `model.onnx: error: ...`, like
  // the import's (the messages name the node where there is one).
  std::optional<ScopedDiagnosticHandler> programDiagnostics;
  if (mode == "infer" || mode == "train") {
    context.printOpOnDiagnostic(false);
    programDiagnostics.emplace(&context, [&](Diagnostic &diag) {
      StringRef kind = diag.getSeverity() == DiagnosticSeverity::Error
                           ? "error"
                       : diag.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
      // Ops keep their ONNX node's name as location: a lowering or
      // verifier error then says which node it is about.
      std::string node;
      diag.getLocation()->walk([&](Location loc) {
        if (auto name = dyn_cast<NameLoc>(loc); name && node.empty())
          node = name.getName().str();
        return WalkResult::advance();
      });
      // As the importer writes it: node 'NAME' (op): reason.
      std::string message = diag.str();
      if (!node.empty() &&
          !StringRef(message).contains("node '" + node + "'")) {
        StringRef text = message, opName;
        if (text.starts_with("'") && text.drop_front().contains("' op ")) {
          opName = text.drop_front().split("' op ").first;
          text = text.drop_front().split("' op ").second;
        }
        message = "node '" + node + "'" +
                  (opName.empty() ? std::string()
                                  : " (" + opName.str() + ")") +
                  ": " + text.str();
      }
      llvm::errs() << inputFilename << ": " << kind << ": " << message
                   << "\n";
      for (const Diagnostic &note : diag.getNotes())
        llvm::errs() << inputFilename << ": note: " << note.str() << "\n";
      return success();
    });
  }
  if (mode == "infer")
    return compileInferenceProgram(std::move(module), outputFilename);
  if (mode == "train")
    return compileTrainingProgram(std::move(module), inputFilename,
                                  outputFilename);

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
    return runOnONNXModel(inputFilename, outputFilename, mode, registry);
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

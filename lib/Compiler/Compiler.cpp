//===- Compiler.cpp - ONNX model to training or inference program ---------===//

#include "mpc/Compiler/Compiler.h"
#include "mpc/Compiler/DevicePlan.h"
#include "mpc/Compiler/Pipelines.h"
#include "mpc/Compiler/PrecisionChoice.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Support/AtomicFile.h"
#include "mpc/Target/Executable/Executable.h"
#include "mpc/Target/ONNX/ONNXExporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

#include <chrono>

using namespace mlir;
using namespace mlir::mpc;

namespace {

/// `verbose`: one line per finished stage with its wall time.
class StageTimer {
public:
  explicit StageTimer(bool verbose, llvm::raw_ostream &os)
      : verbose(verbose), os(os) {}
  void done(const llvm::Twine &stage) {
    auto now = std::chrono::steady_clock::now();
    if (verbose)
      os << llvm::formatv("mpc-opt: {0,-40} {1,8:f3} s\n", stage.str(),
                          std::chrono::duration<double>(now - start).count());
    start = now;
  }

private:
  bool verbose;
  llvm::raw_ostream &os;
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
};

/// One compilation: the options, where messages go, and the stage timers:
/// `-v`'s lines, and MLIR's timing manager (`-mlir-timing`), in which each
/// stage is a scope with its passes nested.
class Compilation {
public:
  Compilation(const CompileOptions &options, llvm::raw_ostream &errors)
      : options(options), errors(errors), timer(options.verbose, errors) {
    applyDefaultTimingManagerCLOptions(timing);
    root = timing.getRootScope();
  }

  LogicalResult run(const DialectRegistry &registry);

private:
  llvm::raw_ostream &error() {
    return errors << options.toolName << ": error: ";
  }
  /// A pass manager over `context` with the MLIR command-line options,
  /// its passes timed in `scope`.
  FailureOr<std::unique_ptr<PassManager>> passManager(MLIRContext *context,
                                                      TimingScope &scope);
  LogicalResult writeAtomically(
      llvm::function_ref<LogicalResult(llvm::raw_ostream &)> write);
  void addPrecisionPipeline(OpPassManager &pm);
  void precisionDone();

  LogicalResult compileInference(ModuleOp module, const CPUTarget &cpu);
  LogicalResult compileTraining(ModuleOp module, const CPUTarget &cpu);
  LogicalResult
  lowerAndEmit(ModuleOp module, const CPUTarget &cpu,
               const std::vector<PlannedEntry> &entries,
               llvm::function_ref<GeneratedMain(const ProgramBuilds &)> makeMain);
  LogicalResult layOutState(ModuleOp module,
                            const std::vector<PlannedEntry> &entries,
                            StateLayout &state);
  LogicalResult lowerCUDABuild(ModuleOp module,
                               const std::vector<PlannedEntry> &entries,
                               int64_t parameterCopyBytes,
                               ProgramBuilds &builds);

  /// A copy: --precision=auto is resolved into it once the targets are
  /// known.
  CompileOptions options;
  /// The precision and, when auto chose it, why.
  PrecisionChoice precisionChoice;
  llvm::raw_ostream &errors;
  StageTimer timer;
  DefaultTimingManager timing;
  TimingScope root;
};

} // namespace

FailureOr<std::unique_ptr<PassManager>>
Compilation::passManager(MLIRContext *context, TimingScope &scope) {
  auto pm = std::make_unique<PassManager>(context);
  if (failed(applyPassManagerCLOptions(*pm)))
    return failure();
  if (timing.isEnabled())
    pm->enableTiming(scope);
  return pm;
}

LogicalResult Compilation::writeAtomically(
    llvm::function_ref<LogicalResult(llvm::raw_ostream &)> write) {
  std::string message;
  if (succeeded(writeFileAtomically(options.outputPath, write, message)))
    return success();
  if (!message.empty())
    error() << message << "\n";
  return failure();
}

void Compilation::addPrecisionPipeline(OpPassManager &pm) {
  if (options.precision != "fp32") {
    PrecisionPipelineOptions precision;
    populatePrecisionPipelineOptions(options, precision);
    buildPrecisionPipeline(pm, precision);
  }
  pm.addPass(createCanonicalizerPass());
}

void Compilation::precisionDone() {
  timer.done(options.precision == "fp32"
                 ? std::string("canonicalize")
                 : "precision (" + options.precision + ")");
}

/// Line tables take file/line locations; an ONNX import's ops have their
/// node names, which become the file names (line 1), so that a profile's
/// source lines read as ONNX nodes.
static void nameLocationsAsFiles(ModuleOp module) {
  module.walk([](Operation *op) {
    // A training step's added ops carry their part around the node's
    // name: its gradient is file "/fc2/Gemm (grad)".
    Location loc = op->getLoc();
    TrainingPart part = getTrainingPart(loc);
    if (auto fused = dyn_cast<FusedLoc>(loc);
        fused && part != TrainingPart::Forward && fused.getLocations().size())
      loc = fused.getLocations().front();
    auto name = dyn_cast<NameLoc>(loc);
    if (!name || !isa<UnknownLoc>(name.getChildLoc()))
      return;
    std::string file = nameWithTrainingPart(name.getName(), part);
    Location named = NameLoc::get(
        name.getName(), FileLineColLoc::get(op->getContext(), file,
                                            /*line=*/1, /*column=*/1));
    op->setLoc(part == TrainingPart::Forward ? named
                                             : withTrainingPart(named, part));
  });
}

/// Lays the training state out as one region (mpc-flatten-training-state),
/// for every build alike, and records the layout and the kinds each entry
/// function takes, for the generated wrappers and the runtime.
LogicalResult Compilation::layOutState(ModuleOp module,
                                       const std::vector<PlannedEntry> &entries,
                                       StateLayout &state) {
  TimingScope scope = root.nest("state layout");
  FailureOr<std::unique_ptr<PassManager>> pm =
      passManager(module.getContext(), scope);
  if (failed(pm))
    return failure();
  (*pm)->addPass(createMPCFlattenTrainingState());
  if (failed((*pm)->run(module)))
    return failure();
  auto layout =
      module->getAttrOfType<StateLayoutAttr>(MPCDialect::kStateLayoutAttrName);
  if (!layout)
    return success(); // no training state (an inference program)
  constexpr uint64_t kUnit = ::mpc_abi::kStateUnitBytes;
  constexpr uint64_t kGranule = ::mpc_abi::kArenaGranuleBytes;
  state.bytes = llvm::alignTo(layout.getElements() * kUnit, kGranule);
  for (SlotRangeAttr slot : layout.getSlots())
    state.slotOffsets[slot.getSlot().getQualifiedName()] =
        slot.getOffset() * kUnit;
  for (KindRangeAttr kind : layout.getKinds()) {
    state.kindOffsets[kind.getKind()] = kind.getOffset() * kUnit;
    state.kindSizes[kind.getKind()] = kind.getSize();
  }
  for (const PlannedEntry &planned : entries) {
    auto function = module.lookupSymbol<func::FuncOp>(planned.entry->kernel);
    if (!function)
      continue;
    std::vector<::mpc_abi::StateKind> &kinds =
        state.kindsOf[planned.entry->kernel];
    for (unsigned i = 0; i < function.getNumArguments(); ++i)
      if (auto kind = function.getArgAttrOfType<StateKindAttr>(
              i, MPCDialect::kStateKindAttrName))
        kinds.push_back(kind.getKind());
  }
  return success();
}

/// The CUDA build of the prepared module: kernels to PTX, the host side
/// to the LLVM dialect over the CUDA runtime, entry functions renamed with
/// the CUDA suffix. Writes the device plan when asked; sets the arena size.
LogicalResult
Compilation::lowerCUDABuild(ModuleOp module,
                            const std::vector<PlannedEntry> &entries,
                            int64_t parameterCopyBytes, ProgramBuilds &builds) {
  TimingScope kernelScope = root.nest("GPU kernels");
  FailureOr<std::unique_ptr<PassManager>> kernels =
      passManager(module.getContext(), kernelScope);
  if (failed(kernels))
    return failure();
  buildGPUKernelPipeline(**kernels);
  if (failed((*kernels)->run(module)))
    return failure();
  FailureOr<CUDAArena> arena = cudaArena(module, entries);
  if (failed(arena))
    return failure();
  if (!options.devicePlan.empty() &&
      failed(writeDevicePlan(module, entries, parameterCopyBytes, *arena,
                             options.gpuArch, options.devicePlan, errors)))
    return failure();
  builds.cudaArenaBytes = arena->scratch;
  stripStateAttributes(module);
  // The CPU build (if any) keeps the entry names; the CUDA build's get the
  // suffix, so that both link into one binary.
  for (const PlannedEntry &planned : entries) {
    auto function = module.lookupSymbol<func::FuncOp>(planned.entry->kernel);
    if (!function)
      continue;
    auto renamed = StringAttr::get(module.getContext(),
                                   planned.entry->kernel + kCUDAKernelSuffix);
    if (failed(SymbolTable::replaceAllSymbolUses(function, renamed, module)))
      return failure();
    function.setSymName(renamed);
  }
  kernelScope.stop();
  TimingScope ptxScope = root.nest("lower to PTX");
  FailureOr<std::unique_ptr<PassManager>> lower =
      passManager(module.getContext(), ptxScope);
  if (failed(lower))
    return failure();
  GPUPipelineOptions gpuOptions;
  gpuOptions.chip = options.gpuArch;
  buildGPUSerializePipeline(**lower, gpuOptions);
  if (options.output != OutputKind::PTX)
    buildGPUHostPipeline(**lower);
  if (failed((*lower)->run(module)))
    return failure();
  timer.done("lower to PTX (" + options.gpuArch + ")");
  return success();
}

/// Lowers the prepared module for the targets asked (CPU, CUDA or both)
/// and writes the output asked for.
LogicalResult Compilation::lowerAndEmit(
    ModuleOp module, const CPUTarget &cpu,
    const std::vector<PlannedEntry> &entries,
    llvm::function_ref<GeneratedMain(const ProgramBuilds &)> makeMain) {
  ProgramBuilds builds;
  builds.cpu = options.targetCPU;
  builds.cuda = options.targetCUDA;
  if (failed(layOutState(module, entries, builds.state)))
    return failure();
  SmallVector<ModuleOp> lowered;
  OwningOpRef<ModuleOp> cudaModule;
  if (options.targetCUDA) {
    int64_t copyBytes = lowPrecisionParameterCopyBytes(module, entries);
    cudaModule = options.targetCPU ? module.clone() : OwningOpRef<ModuleOp>();
    ModuleOp cudaBuild = options.targetCPU ? *cudaModule : module;
    if (failed(lowerCUDABuild(cudaBuild, entries, copyBytes, builds)))
      return failure();
    if (options.output == OutputKind::PTX) {
      std::string ptx;
      for (auto binary : cudaBuild.getOps<gpu::BinaryOp>())
        for (Attribute object : binary.getObjects())
          ptx += cast<gpu::ObjectAttr>(object).getObject().getValue().str();
      if (ptx.empty()) {
        error() << "the program has no kernels\n";
        return failure();
      }
      return writeAtomically([&](llvm::raw_ostream &os) {
        os << ptx;
        return success();
      });
    }
    lowered.push_back(cudaBuild);
  }
  if (options.targetCPU) {
    TimingScope cpuScope = root.nest("lower to LLVM dialect");
    FailureOr<std::unique_ptr<PassManager>> lower =
        passManager(module.getContext(), cpuScope);
    if (failed(lower))
      return failure();
    if (options.debugInfo)
      nameLocationsAsFiles(module);
    CPUPipelineOptions cpuOptions;
    cpuOptions.vectorWidth = cpu.vectorWidth;
    cpuOptions.debugInfo = options.debugInfo;
    buildCPUPipeline(**lower, cpuOptions);
    if (failed((*lower)->run(module)))
      return failure();
    timer.done("lower to LLVM dialect (" + cpu.cpu + ")");
    lowered.insert(lowered.begin(), module);
  }
  if (options.output == OutputKind::MLIR)
    return writeAtomically([&](llvm::raw_ostream &os) {
      lowered.front().print(os);
      return success();
    });
  EmitKind kind = options.output == OutputKind::LLVMIR ? EmitKind::LLVMIR
                  : options.output == OutputKind::Object
                      ? EmitKind::Object
                      : EmitKind::Executable;
  TimingScope codegenScope = root.nest("LLVM codegen");
  if (failed(emitProgram(lowered, makeMain(builds), cpu, kind,
                         options.outputPath, errors)))
    return failure();
  codegenScope.stop();
  timer.done(kind == EmitKind::Executable ? "LLVM codegen and link"
                                          : "LLVM codegen");
  return success();
}

/// Inference: decide precisions, lower, emit.
LogicalResult Compilation::compileInference(ModuleOp module,
                                            const CPUTarget &cpu) {
  TimingScope scope = root.nest("precision");
  FailureOr<std::unique_ptr<PassManager>> pm =
      passManager(module.getContext(), scope);
  if (failed(pm))
    return failure();
  (*pm)->addPass(createMPCDecompose());
  addPrecisionPipeline(**pm);
  if (failed((*pm)->run(module)))
    return failure();
  scope.stop();
  precisionDone();
  FailureOr<EntryPoint> entry =
      prepareEntryPoint(module, "main", "mpc_program");
  if (failed(entry))
    return failure();
  std::string programName =
      llvm::sys::path::filename(options.outputPath).str();
  return lowerAndEmit(module, cpu, {{entry->kernel, &*entry}},
                      [&](const ProgramBuilds &builds) {
                        return generateInferenceMain(*entry, precisionChoice,
                                                     programName, builds);
                      });
}

/// Training: the training program, loss scaling, precision over the whole
/// program, lowering, and the training binary.
LogicalResult Compilation::compileTraining(ModuleOp module,
                                           const CPUTarget &cpu) {
  std::string scaling = options.lossScaling;
  if (scaling == "auto")
    scaling = options.precision == "fp16" ? "dynamic" : "none";

  MLIRContext *context = module.getContext();
  TimingScope trainingScope = root.nest("training program");
  FailureOr<std::unique_ptr<PassManager>> pm =
      passManager(context, trainingScope);
  if (failed(pm))
    return failure();
  TrainingPipelineOptions training;
  training.loss = options.loss;
  training.output = options.lossOutput;
  training.optimizer = options.optimizer;
  training.learningRate = options.learningRate;
  training.clipGradNorm = options.clipGradNorm;
  training.clipGradValue = options.clipGradValue;
  training.accumulate = options.accumulate;
  training.weightDecay = options.weightDecay;
  training.momentum = options.momentum;
  training.nesterov = options.nesterov;
  training.runningVariance = options.runningVariance;
  training.lossScaling = scaling;
  training.lossScaleInit = options.lossScaleInit;
  training.lossScaleGrowthInterval = options.lossScaleGrowthInterval;
  buildTrainingPipeline(**pm, training);
  if (failed((*pm)->run(module)))
    return failure();
  // The forward function served as the template; the binary has no use
  // for it.
  module.lookupSymbol<func::FuncOp>("main").erase();
  trainingScope.stop();
  timer.done("training program (" + options.optimizer + ", loss scaling " +
             scaling + ")");

  TimingScope precisionScope = root.nest("precision");
  FailureOr<std::unique_ptr<PassManager>> precision =
      passManager(context, precisionScope);
  if (failed(precision))
    return failure();
  addPrecisionPipeline(**precision);
  if (failed((*precision)->run(module)))
    return failure();
  precisionScope.stop();
  precisionDone();

  TrainingProgram program;
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  auto optimizer = train->getAttrOfType<DictionaryAttr>("mpc.optimizer");
  program.precision = precisionChoice;
  program.lossScaling = scaling;
  program.initialLossScale = scaling == "none" ? 1.0 : options.lossScaleInit;
  program.optimizer = optimizer.getAs<StringAttr>("name").str();
  program.loss = optimizer.getAs<StringAttr>("loss").str();
  program.defaultLR =
      optimizer.getAs<FloatAttr>("lr").getValue().convertToFloat();
  program.defaultWeightDecay =
      optimizer.getAs<FloatAttr>("weight_decay").getValue().convertToFloat();
  // Present only where clipping is compiled in.
  auto clipDefault = [&](StringRef key) {
    auto value = optimizer.getAs<FloatAttr>(key);
    return value ? value.getValue().convertToFloat() : 0.0f;
  };
  program.defaultClipGradNorm = clipDefault("clip_grad_norm");
  program.defaultClipGradValue = clipDefault("clip_grad_value");
  if (auto accumulate = optimizer.getAs<IntegerAttr>("accumulate"))
    program.defaultAccumulate = accumulate.getInt();
  // The eval step's state (parameters, running statistics) is what the
  // written model holds.
  std::vector<ONNXStateSlot> modelState;
  auto eval = module.lookupSymbol<func::FuncOp>("eval_step");
  for (unsigned i = 0; i < eval.getNumArguments(); ++i)
    if (auto slot = eval.getArgAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName))
      modelState.push_back(
          {slot.getParameter().str(), slot.getQualifiedName()});
  FailureOr<ONNXWeightTemplate> onnx = buildONNXWeightTemplate(
      options.modelPath, modelState, options.import.trainableConstants,
      errors);
  if (failed(onnx))
    return failure();
  program.onnx = std::move(*onnx);
  for (auto [function, kernel, entry] :
       {std::tuple<StringRef, StringRef, EntryPoint *>{"init", "mpc_init",
                                                       &program.init},
        {"train_step", "mpc_train_step", &program.train},
        {"eval_step", "mpc_eval_step", &program.eval}}) {
    FailureOr<EntryPoint> prepared =
        prepareEntryPoint(module, function, kernel);
    if (failed(prepared))
      return failure();
    *entry = std::move(*prepared);
  }
  std::vector<PlannedEntry> entries = {{program.init.kernel, &program.init},
                                       {program.train.kernel, &program.train},
                                       {program.eval.kernel, &program.eval}};
  std::string programName =
      llvm::sys::path::filename(options.outputPath).str();
  return lowerAndEmit(module, cpu, entries, [&](const ProgramBuilds &builds) {
    return generateTrainingMain(program, programName, builds);
  });
}

LogicalResult Compilation::run(const DialectRegistry &registry) {
  MLIRContext context(registry);
  TimingScope importScope = root.nest("import");
  OwningOpRef<ModuleOp> module =
      importONNXModel(options.modelPath, &context, options.import, errors);
  if (!module)
    return failure();
  importScope.stop();
  timer.done("import " + llvm::sys::path::filename(options.modelPath));
  FailureOr<CPUTarget> cpu = resolveCPUTarget(options.cpu, errors);
  if (failed(cpu))
    return failure();
  if (options.precision == "auto") {
    precisionChoice = choosePrecision(options, *cpu);
    options.precision = precisionChoice.precision;
    errors << options.toolName << ": --precision=auto: " << options.precision
           << ": " << precisionChoice.reason << "\n";
    if (options.precision == "fp32" &&
        (!options.precisionReport.empty() || !options.policyFile.empty())) {
      error() << "--precision-report and --policy need a low precision, and "
                 "--precision=auto chose fp32 for this target; name bf16 or "
                 "fp16 to use them\n";
      return failure();
    }
  } else {
    precisionChoice.precision = options.precision;
  }
  // Diagnostics read `model.onnx: error: ...`, like the import's (the
  // messages name the node where there is one).
  context.printOpOnDiagnostic(false);
  ScopedDiagnosticHandler diagnostics(&context, [&](Diagnostic &diag) {
    StringRef kind = diag.getSeverity() == DiagnosticSeverity::Error ? "error"
                     : diag.getSeverity() == DiagnosticSeverity::Warning
                         ? "warning"
                         : "note";
    // Ops keep their ONNX node's name as location: a lowering or verifier
    // error then says which node it is about.
    std::string node;
    diag.getLocation()->walk([&](Location loc) {
      if (auto name = dyn_cast<NameLoc>(loc); name && node.empty())
        node = name.getName().str();
      return WalkResult::advance();
    });
    // As the importer writes it: node 'NAME' (op): reason.
    std::string message = diag.str();
    if (!node.empty() && !StringRef(message).contains("node '" + node + "'")) {
      StringRef text = message, opName;
      if (text.starts_with("'") && text.drop_front().contains("' op ")) {
        opName = text.drop_front().split("' op ").first;
        text = text.drop_front().split("' op ").second;
      }
      message = "node '" + node + "'" +
                (opName.empty() ? std::string() : " (" + opName.str() + ")") +
                ": " + text.str();
    }
    errors << options.modelPath << ": " << kind << ": " << message << "\n";
    for (const Diagnostic &note : diag.getNotes())
      errors << options.modelPath << ": note: " << note.str() << "\n";
    return success();
  });
  return options.program == ProgramKind::Training
             ? compileTraining(*module, *cpu)
             : compileInference(*module, *cpu);
}

void mpc::populatePrecisionPipelineOptions(
    const CompileOptions &options, PrecisionPipelineOptions &pipeline) {
  pipeline.precision = options.precision;
  pipeline.policy = options.policyFile;
  pipeline.algorithm = options.precisionAlgorithm;
  pipeline.strict = options.strict;
  pipeline.report = options.precisionReport;
}

LogicalResult mpc::compileModel(const CompileOptions &options,
                                const DialectRegistry &registry,
                                llvm::raw_ostream &errors) {
  return Compilation(options, errors).run(registry);
}

//===- Executable.cpp - native inference programs -------------------------===//
//
// The kernel is the model's function with a C interface
// (`_mlir_ciface_mpc_program`, memref descriptors). A generated C++ `main`
// describes the inputs and outputs to the runtime and calls the kernel;
// the system C++ compiler (recorded at configure time) links it with the
// object file and the runtime library.
//
//===----------------------------------------------------------------------===//

#include "mpc/Target/Executable/Executable.h"
#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Support/AtomicFile.h"
#include "mpc/Support/OutputTarget.h"
#include "Config.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Transforms/Utils/SplitModule.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace mlir::mpc;

/// The model function's name in the program (its C interface is
/// `_mlir_ciface_mpc_program`).
static constexpr llvm::StringLiteral kKernelName = "mpc_program";

/// The numpy dtype of an element type ("" for those .npy cannot hold:
/// numpy has no bf16). Unsigned before signless: isInteger(w) matches any
/// signedness.
static std::string dtypeOf(Type element) {
  if (element.isF32())
    return "<f4";
  if (element.isF16())
    return "<f2";
  if (element.isF64())
    return "<f8";
  if (element.isInteger(1))
    return "|b1";
  if (element.isUnsignedInteger())
    switch (element.getIntOrFloatBitWidth()) {
    case 8: return "|u1";
    case 16: return "<u2";
    case 32: return "<u4";
    case 64: return "<u8";
    default: return "";
    }
  if (element.isSignlessInteger())
    switch (element.getIntOrFloatBitWidth()) {
    case 8: return "|i1";
    case 16: return "<i2";
    case 32: return "<i4";
    case 64: return "<i8";
    default: return "";
    }
  return "";
}

static std::string cTypeOf(const std::string &dtype) {
  static const llvm::StringMap<const char *> types = {
      {"<f4", "float"},    {"<f2", "uint16_t"}, {"<f8", "double"},
      {"<i8", "int64_t"},  {"<i4", "int32_t"},  {"<i2", "int16_t"},
      {"|i1", "int8_t"},   {"<u8", "uint64_t"}, {"<u4", "uint32_t"},
      {"<u2", "uint16_t"}, {"|u1", "uint8_t"},  {"|b1", "uint8_t"}};
  auto it = types.find(dtype);
  return it == types.end() ? "uint8_t" : it->second;
}

FailureOr<EntryPoint> mpc::prepareEntryPoint(ModuleOp module,
                                             StringRef function,
                                             StringRef kernelName) {
  auto func = module.lookupSymbol<func::FuncOp>(function);
  if (!func)
    return module.emitError() << "no function @" << function << " to compile",
           failure();
  EntryPoint entry;
  entry.kernel = kernelName.str();
  using ::mpc_abi::ValueRole;
  auto collect = [&](TypeRange types, auto attrOf,
                     std::vector<ProgramValue> &values,
                     StringRef kind) -> LogicalResult {
    for (auto [i, type] : llvm::enumerate(types)) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      ProgramValue value;
      value.role = kind == "input" ? ValueRole::Input : ValueRole::Output;
      if (auto role = dyn_cast_or_null<RoleAttr>(
              attrOf(i, MPCDialect::kRoleAttrName)))
        value.role = role.getRole();
      // Training state is named by its slot ("param:fc1.weight"), other
      // values by their ONNX name.
      if (auto slot = dyn_cast_or_null<SlotAttr>(
              attrOf(i, MPCDialect::kSlotAttrName))) {
        value.name = slot.getQualifiedName();
        value.role = ValueRole::State;
        value.kind = slot.getKind();
        value.parameter = slot.getParameter().str();
      } else if (auto name = dyn_cast_or_null<StringAttr>(
                     attrOf(i, "mpc.name"))) {
        value.name = name.str();
      } else {
        value.name = (kind + Twine(i)).str();
      }
      if (!tensor || !tensor.hasStaticShape())
        return func.emitError() << kind << " '" << value.name << "' has type "
                                << type
                                << "; executables need static shapes (pin "
                                   "them with --input-shape)";
      value.dtype = dtypeOf(tensor.getElementType());
      if (value.dtype.empty())
        return func.emitError() << kind << " '" << value.name
                                << "' has element type "
                                << tensor.getElementType()
                                << ", which .npy files cannot carry";
      value.shape = std::vector<int64_t>(tensor.getShape());
      values.push_back(std::move(value));
    }
    return success();
  };
  auto argAttr = [&](unsigned i, StringRef name) {
    return func.getArgAttr(i, name);
  };
  auto resultAttr = [&](unsigned i, StringRef name) {
    return func.getResultAttr(i, name);
  };
  if (failed(collect(func.getArgumentTypes(), argAttr, entry.inputs,
                     "input")) ||
      failed(collect(func.getResultTypes(), resultAttr, entry.outputs,
                     "output")))
    return failure();
  if (entry.outputs.empty())
    return func.emitError() << "the program has no outputs", failure();
  // The names are read; the lowering has no use for them (and would warn
  // about attributes it does not know). The state's stay until the
  // builds are lowered: the CUDA build lays the state out by them
  // (stripStateAttributes).
  for (StringRef attr :
       {StringRef("mpc.name"), StringRef(MPCDialect::kRoleAttrName)}) {
    auto name = StringAttr::get(func.getContext(), attr);
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.removeArgAttr(i, name);
    for (unsigned i = 0; i < func.getNumResults(); ++i)
      func.removeResultAttr(i, name);
  }
  // `main` belongs to the generated C++ entry point; the kernels get names
  // of their own.
  if (failed(SymbolTable::replaceAllSymbolUses(
          func, StringAttr::get(module.getContext(), kernelName), module)))
    return failure();
  func.setSymName(kernelName);
  func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                UnitAttr::get(module.getContext()));
  return entry;
}


/// A C++ string literal for `text`.
static std::string quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

static std::string descriptorType(const ProgramValue &value) {
  return "Memref<" + cTypeOf(value.dtype) + ", " +
         std::to_string(value.shape.size()) + ">";
}

/// The prologue every generated main starts with: the memref descriptor.
static void writeMainPrologue(raw_ostream &os) {
  os << "// Generated by mpc-opt: the entry point of a compiled model.\n"
     << "#include \"mpc/Runtime/CUDA.h\"\n"
     << "#include \"mpc/Runtime/Host.h\"\n"
     << "#include \"mpc/Runtime/Runtime.h\"\n#include <cstdint>\n"
     << "#include <cstdlib>\n#include <cstring>\n#include <set>\n\n"
     << "template <typename T, int N> struct Memref {\n"
     << "  T *allocated; T *aligned; int64_t offset;\n"
     << "  int64_t sizes[N]; int64_t strides[N];\n};\n"
     << "template <typename T> struct Memref<T, 0> {\n"
     << "  T *allocated; T *aligned; int64_t offset;\n};\n\n";
}

/// The descriptor (C++ initializer) of the row-major array `value` at the
/// pointer expression `data`.
static std::string descriptor(const ProgramValue &v, const std::string &data) {
  std::string text;
  llvm::raw_string_ostream d(text);
  std::string type = cTypeOf(v.dtype);
  d << descriptorType(v) << "{(" << type << " *)" << data << ", (" << type
    << " *)" << data << ", 0";
  if (!v.shape.empty()) {
    d << ", {";
    llvm::interleaveComma(v.shape, d);
    d << "}, {";
    std::vector<int64_t> strides(v.shape.size(), 1);
    for (int i = (int)v.shape.size() - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * v.shape[i + 1];
    llvm::interleaveComma(strides, d);
    d << "}";
  }
  d << "}";
  return text;
}

/// A build of the program's functions: the suffix of its kernels' names
/// and the namespace of mpc's runtime (mpc/Runtime/Host.h, CUDA.h) that
/// moves its data.
struct Build {
  StringRef suffix;
  StringRef runtime;
};
static constexpr Build kCPUBuild{"", "host"}, kCUDABuild{kCUDAKernelSuffix,
                                                         "cuda"};

/// `static void call_KERNEL[_cuda](inputs, outputs)`, the same for every
/// build: the inputs are handed to the build's memory (uploaded to the
/// device arena, or the host arrays themselves), training state is
/// synchronised into its slots in the state region (copied only when the
/// host holds newer values), the kernel takes one flat buffer per state
/// kind and updates it in place, the results are copied out and the state
/// results are the slots themselves, fetched when the host needs them.
/// `out`'s arrays are reused: a training loop hands back the previous
/// step's arrays, whose storage has the right size, so a step allocates
/// and zeroes nothing here.
static void writeWrapper(raw_ostream &os, const EntryPoint &entry,
                         const StateLayout &state, const Build &build) {
  std::string kernel = entry.kernel + build.suffix.str();
  std::string rt = "mpc::runtime::" + build.runtime.str() + "::";
  ArrayRef<::mpc_abi::StateKind> kinds;
  if (auto it = state.kindsOf.find(entry.kernel); it != state.kindsOf.end())
    kinds = it->second;
  bool hasState =
      llvm::any_of(entry.inputs, [](const auto &v) { return v.isState(); }) ||
      llvm::any_of(entry.outputs, [](const auto &v) { return v.isState(); });
  if (hasState && kinds.empty())
    llvm::report_fatal_error("@" + Twine(entry.kernel) +
                             " has training state but no state layout "
                             "(mpc-flatten-training-state did not run)");
  std::vector<size_t> results;
  for (auto [i, out] : llvm::enumerate(entry.outputs))
    if (!out.isState())
      results.push_back(i);
  std::string resultsType;
  if (results.size() == 1) {
    resultsType = descriptorType(entry.outputs[results[0]]);
  } else if (results.size() > 1) {
    resultsType = "Results_" + kernel;
    os << "struct " << resultsType << " {\n";
    for (auto [r, i] : llvm::enumerate(results))
      os << "  " << descriptorType(entry.outputs[i]) << " r" << r << ";\n";
    os << "};\n";
  }
  os << "extern \"C\" void _mlir_ciface_" << kernel << "(";
  llvm::ListSeparator comma;
  if (!resultsType.empty())
    os << comma << resultsType << " *";
  for (size_t k = 0; k < kinds.size(); ++k)
    os << comma << "Memref<float, 1> *";
  for (const ProgramValue &in : entry.inputs)
    if (!in.isState())
      os << comma << descriptorType(in) << " *";
  os << ");\n\n";
  os << "static void call_" << kernel
     << "(const std::vector<const mpc::runtime::Array *> &in,\n"
     << "    std::vector<mpc::runtime::Array> &out) {\n"
     << "  " << rt << "beginCall();\n";
  if (!kinds.empty())
    os << "  char *state = static_cast<char *>(" << rt << "stateRegion());\n";
  for (auto [i, in] : llvm::enumerate(entry.inputs))
    if (in.isState())
      os << "  " << rt << "stateInput(" << quoted(in.name) << ", *in[" << i
         << "]);\n";
  for (auto [k, kind] : llvm::enumerate(kinds)) {
    uint64_t offset = state.kindOffsets.at(kind);
    os << "  auto k" << k << " = Memref<float, 1>{(float *)(state + " << offset
       << "), (float *)(state + " << offset << "), 0, {"
       << state.kindSizes.at(kind) << "}, {1}};\n";
  }
  for (auto [i, in] : llvm::enumerate(entry.inputs)) {
    if (in.isState())
      continue;
    std::string data = "in[" + std::to_string(i) + "]->data";
    os << "  void *p" << i << " = " << rt << "upload(" << data << ".data(), "
       << data << ".size());\n";
    os << "  auto a" << i << " = " << descriptor(in, "p" + std::to_string(i))
       << ";\n";
  }
  if (!resultsType.empty())
    os << "  " << resultsType << " results;\n";
  os << "  _mlir_ciface_" << kernel << "(";
  llvm::ListSeparator args;
  if (!resultsType.empty())
    os << args << "&results";
  for (size_t k = 0; k < kinds.size(); ++k)
    os << args << "&k" << k;
  for (auto [i, in] : llvm::enumerate(entry.inputs))
    if (!in.isState())
      os << args << "&a" << i;
  os << ");\n  out.resize(" << entry.outputs.size() << ");\n";
  auto result = [&](size_t r) {
    return results.size() > 1 ? "results.r" + std::to_string(r)
                              : std::string("results");
  };
  unsigned next = 0;
  for (auto [i, o] : llvm::enumerate(entry.outputs)) {
    os << "  {\n    mpc::runtime::Array &o = out[" << i << "];\n"
       << "    o.dtype = " << quoted(o.dtype) << ";\n    o.shape = {";
    llvm::interleaveComma(o.shape, os);
    os << "};\n"
       << "    o.data.resize(o.elements() * "
       << "mpc::runtime::Array::itemSize(o.dtype));\n";
    if (o.isState()) {
      os << "    " << rt << "stateOutput(" << quoted(o.name) << ", o);\n";
    } else {
      std::string r = result(next++);
      os << "    " << rt << "download(o.data.data(), " << r << ".aligned + "
         << r << ".offset, o.data.size());\n";
    }
    os << "  }\n";
  }
  // The results' buffers are the caller's to release once copied out
  // (the CPU's ownership-based deallocation clones any result it does not
  // own; the CUDA arena's are reclaimed by the next call). Each once: two
  // results may share one buffer, and none is an input's.
  if (!results.empty()) {
    os << "  std::set<void *> owned;\n";
    for (size_t r = 0; r < results.size(); ++r)
      os << "  owned.insert((void *)" << result(r) << ".allocated);\n";
    for (auto [i, in] : llvm::enumerate(entry.inputs))
      if (!in.isState())
        os << "  owned.erase((void *)a" << i << ".allocated);\n";
    os << "  for (void *buffer : owned)\n    " << rt
       << "releaseResult(buffer);\n";
  }
  os << "  " << rt << "endCall();\n}\n\n";
}

/// The wrappers of `entry`'s builds.
static void writeEntryWrappers(raw_ostream &os, const EntryPoint &entry,
                               const ProgramBuilds &builds) {
  if (builds.cpu)
    writeWrapper(os, entry, builds.state, kCPUBuild);
  if (builds.cuda)
    writeWrapper(os, entry, builds.state, kCUDABuild);
}

//===----------------------------------------------------------------------===//
// The program descriptor
//===----------------------------------------------------------------------===//

static llvm::json::Value describeValue(const ProgramValue &value) {
  llvm::json::Object object{
      {"name", value.name},
      {"role", std::string(::mpc_abi::spelling(value.role))},
      {"dtype", value.dtype},
      {"shape", llvm::json::Array(value.shape)},
  };
  if (value.kind) {
    object["kind"] = std::string(::mpc_abi::spelling(*value.kind));
    if (!value.parameter.empty())
      object["parameter"] = value.parameter;
  }
  return object;
}

static llvm::json::Value describeValues(const std::vector<ProgramValue> &values) {
  llvm::json::Array array;
  for (const ProgramValue &value : values)
    array.push_back(describeValue(value));
  return array;
}

static llvm::json::Value describeEntry(const EntryPoint &entry) {
  return llvm::json::Object{{"kernel", entry.kernel},
                            {"arguments", describeValues(entry.inputs)},
                            {"results", describeValues(entry.outputs)}};
}

static llvm::json::Value describeBuilds(const ProgramBuilds &builds) {
  llvm::json::Value cuda = nullptr;
  if (builds.cuda)
    cuda = llvm::json::Object{{"arena_bytes", int64_t(builds.cudaArenaBytes)}};
  return llvm::json::Object{{"cpu", builds.cpu}, {"cuda", std::move(cuda)}};
}

/// The training state's region: its size and each slot's byte offset.
static llvm::json::Value describeState(const StateLayout &state) {
  llvm::json::Object offsets;
  for (const auto &[slot, offset] : state.slotOffsets)
    offsets[slot] = int64_t(offset);
  return llvm::json::Object{{"bytes", int64_t(state.bytes)},
                            {"offsets", std::move(offsets)}};
}

/// "precision_choice": why --precision=auto chose it; null when the user
/// named the precision.
static llvm::json::Value describeChoice(const PrecisionChoice &precision) {
  if (precision.reason.empty())
    return nullptr;
  return llvm::json::Object{{"requested", "auto"},
                            {"reason", precision.reason}};
}

llvm::json::Value mpc::describeInferenceProgram(const EntryPoint &entry,
                                                const PrecisionChoice &precision,
                                                const std::string &programName,
                                                const ProgramBuilds &builds) {
  return llvm::json::Object{
      {"version", ::mpc_abi::kDescriptorVersion},
      {"program", programName},
      {"kind", "inference"},
      {"precision", precision.precision},
      {"precision_choice", describeChoice(precision)},
      {"functions", llvm::json::Object{{"main", describeEntry(entry)}}},
      {"builds", describeBuilds(builds)},
  };
}

llvm::json::Value mpc::describeTrainingProgram(const TrainingProgram &program,
                                               const std::string &programName,
                                               const ProgramBuilds &builds) {
  llvm::json::Array weights;
  for (const ONNXTrainableWeight &w : program.onnx.weights)
    weights.push_back(llvm::json::Object{{"name", w.name},
                                         {"slot", w.stateName},
                                         {"data_type", w.dataType},
                                         {"dims", llvm::json::Array(w.dims)}});
  llvm::json::Value scaling = nullptr;
  if (program.lossScaling != "none")
    scaling = llvm::json::Object{{"mode", program.lossScaling},
                                 {"initial_scale", program.initialLossScale}};
  return llvm::json::Object{
      {"version", ::mpc_abi::kDescriptorVersion},
      {"program", programName},
      {"kind", "training"},
      {"precision", program.precision.precision},
      {"precision_choice", describeChoice(program.precision)},
      {"loss", program.loss},
      {"loss_scaling", std::move(scaling)},
      {"optimizer",
       llvm::json::Object{{"name", program.optimizer},
                          {"lr", double(program.defaultLR)},
                          {"weight_decay", double(program.defaultWeightDecay)},
                          {"clip_grad_norm", double(program.defaultClipGradNorm)},
                          {"clip_grad_value",
                           double(program.defaultClipGradValue)},
                          {"accumulate", program.defaultAccumulate}}},
      {"functions", llvm::json::Object{{"init", describeEntry(program.init)},
                                       {"train_step", describeEntry(program.train)},
                                       {"eval_step", describeEntry(program.eval)}}},
      {"onnx_weights", std::move(weights)},
      {"state", describeState(builds.state)},
      {"builds", describeBuilds(builds)},
  };
}

/// Embeds `file` (written beside the generated source at link time) as
/// the byte range [`symbol`, `symbol`_end).
static void embedFile(raw_ostream &os, GeneratedMain &main, StringRef symbol,
                      StringRef file, std::string contents) {
  main.embeddedFiles.push_back({file.str(), std::move(contents)});
  os << "asm(\".section .rodata\\n.balign 16\\n" << symbol << ":\\n"
     << ".incbin \\\"@WORKDIR@/" << file << "\\\"\\n" << symbol
     << "_end:\\n.previous\\n\");\n"
     << "extern \"C\" const char " << symbol << "[], " << symbol << "_end[];\n";
}

/// The descriptor, embedded, and `main`'s first lines: the program handed
/// to the runtime with its kernels by name.
static void writeProgramStart(raw_ostream &os, GeneratedMain &main,
                              const llvm::json::Value &descriptor,
                              ArrayRef<const EntryPoint *> entries,
                              const ProgramBuilds &builds) {
  embedFile(os, main, "mpc_program_descriptor", "program.json",
            llvm::formatv("{0:2}\n", descriptor).str());
  os << "\nint main(int argc, char **argv) {\n"
     << "  mpc::runtime::EmbeddedProgram program;\n"
     << "  program.descriptor = std::string(mpc_program_descriptor, "
        "mpc_program_descriptor_end);\n";
  for (const EntryPoint *entry : entries)
    os << "  program.kernels.push_back({" << quoted(entry->kernel) << ", "
       << (builds.cpu ? "call_" + entry->kernel : std::string("nullptr"))
       << ", "
       << (builds.cuda ? "call_" + entry->kernel + kCUDAKernelSuffix.str()
                       : std::string("nullptr"))
       << "});\n";
}

GeneratedMain mpc::generateInferenceMain(const EntryPoint &entry,
                                         const PrecisionChoice &precision,
                                         const std::string &programName,
                                         const ProgramBuilds &builds) {
  GeneratedMain main;
  llvm::raw_string_ostream os(main.source);
  writeMainPrologue(os);
  writeEntryWrappers(os, entry, builds);
  writeProgramStart(os, main,
                    describeInferenceProgram(entry, precision, programName,
                                             builds),
                    {&entry}, builds);
  os << "  return mpc::runtime::runProgram(argc, argv, program);\n}\n";
  return main;
}

GeneratedMain mpc::generateTrainingMain(const TrainingProgram &program,
                                        const std::string &programName,
                                        const ProgramBuilds &builds) {
  GeneratedMain main;
  llvm::raw_string_ostream os(main.source);
  writeMainPrologue(os);
  for (const EntryPoint *entry : {&program.init, &program.train, &program.eval})
    writeEntryWrappers(os, *entry, builds);
  // The ONNX model the trained weights are written into, as two blobs
  // (see ONNXExporter.h).
  embedFile(os, main, "mpc_onnx_model_prefix", "onnx_model_prefix.bin",
            program.onnx.modelPrefix);
  embedFile(os, main, "mpc_onnx_graph_body", "onnx_graph_body.bin",
            program.onnx.graphBody);
  writeProgramStart(os, main,
                    describeTrainingProgram(program, programName, builds),
                    {&program.init, &program.train, &program.eval}, builds);
  os << "  program.onnxModelPrefix = std::string(mpc_onnx_model_prefix, "
        "mpc_onnx_model_prefix_end);\n"
     << "  program.onnxGraphBody = std::string(mpc_onnx_graph_body, "
        "mpc_onnx_graph_body_end);\n"
     << "  return mpc::runtime::runProgram(argc, argv, program);\n}\n";
  return main;
}

/// The LLVM target for `triple` (the host's), or null with an error.
static const llvm::Target *lookupTarget(const llvm::Triple &triple,
                                        raw_ostream &errors) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    errors << "mpc-opt: error: " << error << "\n";
  return target;
}

static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const CPUTarget &cpu, raw_ostream &errors) {
  llvm::Triple triple(cpu.triple);
  const llvm::Target *target = lookupTarget(triple, errors);
  if (!target)
    return nullptr;
  llvm::TargetOptions options;
  // Multiply-adds become FMAs (one rounding, as in BLAS and PyTorch's
  // kernels); the contractions' accumulation order is already explicit.
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu.cpu, cpu.features, options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    errors << "mpc-opt: error: no target machine for " << cpu.triple << "\n";
  return machine;
}

FailureOr<CPUTarget> mpc::resolveCPUTarget(StringRef name,
                                           raw_ostream &errors) {
  CPUTarget cpu;
  cpu.triple = llvm::sys::getProcessTriple();
  if (name == "native") {
    cpu.cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures features;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.getKey(), feature.getValue());
    cpu.features = features.getString();
  } else {
    cpu.cpu = name.str();
  }
  llvm::Triple triple(cpu.triple);
  const llvm::Target *target = lookupTarget(triple, errors);
  if (!target)
    return failure();
  // Checked on a generic subtarget first: LLVM warns about, then ignores,
  // an unknown CPU name.
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target->createMCSubtargetInfo(triple, "", ""));
  if (!generic || !generic->isCPUStringValid(cpu.cpu)) {
    errors << "mpc-opt: error: unknown CPU '" << name << "' for "
           << cpu.triple
           << " (try native, x86-64-v2, x86-64-v3 for AVX2, x86-64-v4 for "
              "AVX-512, or an LLVM CPU name such as znver3)\n";
    return failure();
  }
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, cpu.cpu, cpu.features));
  cpu.bf16DotProducts = subtarget->checkFeatures("+avx512bf16") ||
                        subtarget->checkFeatures("+amx-bf16");
  cpu.fp16Arithmetic = subtarget->checkFeatures("+avx512fp16");
  if (subtarget->checkFeatures("+avx512f"))
    cpu.vectorWidth = 16;
  else if (subtarget->checkFeatures("+avx"))
    cpu.vectorWidth = 8;
  return cpu;
}

/// Long straight-line functions are glue: an entry point whose loop nests
/// were outlined (mpc-outline-loop-nests) allocates, calls and frees, and
/// its C-interface wrapper and the init function move hundreds of memref
/// descriptors in and out. Optimizing them gains nothing at run time, while
/// instruction scheduling and the aggregate handling of the selection DAG
/// are superlinear in a block's length: a MobileNet's three such functions
/// took 23 s of code generation optimized and 3.6 s unoptimized. They are
/// compiled like -O0 (optnone, which needs noinline).
static void compileGlueWithoutOptimization(llvm::Module &module) {
  constexpr unsigned kGlueInstructions = 2000;
  for (llvm::Function &function : module) {
    if (function.isDeclaration() || function.size() != 1 ||
        function.getInstructionCount() < kGlueInstructions ||
        function.hasFnAttribute(llvm::Attribute::AlwaysInline))
      continue;
    function.addFnAttr(llvm::Attribute::OptimizeNone);
    function.addFnAttr(llvm::Attribute::NoInline);
  }
}

/// Translates `module` to LLVM IR for `machine`, not yet optimized.
static std::unique_ptr<llvm::Module>
translate(ModuleOp module, llvm::LLVMContext &llvmContext,
          llvm::TargetMachine &machine, raw_ostream &errors) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  // The CUDA build's gpu.binary and launches become the embedded PTX and
  // runtime calls.
  registerGPUDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule) {
    errors << "mpc-opt: error: cannot translate the program to LLVM IR\n";
    return nullptr;
  }
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  compileGlueWithoutOptimization(*llvmModule);
  return llvmModule;
}

/// Runs LLVM's -O3 pipeline for `machine` over `module`.
static LogicalResult optimize(llvm::Module &module,
                              llvm::TargetMachine &machine,
                              std::string &error) {
  if (llvm::Error e = makeOptimizingTransformer(3, 0, &machine)(&module)) {
    error = llvm::toString(std::move(e));
    return failure();
  }
  return success();
}

/// Translates `module` to LLVM IR optimised for `machine`.
static std::unique_ptr<llvm::Module>
translateAndOptimize(ModuleOp module, llvm::LLVMContext &llvmContext,
                     llvm::TargetMachine &machine, raw_ostream &errors) {
  std::unique_ptr<llvm::Module> llvmModule =
      translate(module, llvmContext, machine, errors);
  std::string error;
  if (!llvmModule || failed(optimize(*llvmModule, machine, error))) {
    if (!error.empty())
      errors << "mpc-opt: error: " << error << "\n";
    return nullptr;
  }
  return llvmModule;
}

/// Writes `module` as an object file for `machine` to `path`.
static LogicalResult emitObject(llvm::Module &module,
                                llvm::TargetMachine &machine, StringRef path,
                                std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream object(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return failure();
  }
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, object, nullptr,
                                  llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return failure();
  }
  passes.run(module);
  return success();
}

/// Optimizes and compiles `module` into object files under `workDir`
/// named after `stem`, appended to `objectPaths`. A program of many
/// functions (mpc-outline-loop-nests gives a MobileNet's training step a
/// few thousand) is split into one partition per core, each optimized and
/// compiled on its own thread in its own LLVM context: the loop nests call
/// no one but the runtime, so the partitions lose no inlining. LLVM's
/// optimizer and code generator take most of a compile.
static LogicalResult
compileToObjects(std::unique_ptr<llvm::Module> module, const CPUTarget &cpu,
                 StringRef workDir, const Twine &stem,
                 SmallVectorImpl<std::string> &objectPaths,
                 raw_ostream &errors) {
  constexpr size_t kFunctionsPerPartition = 64;
  size_t functions = llvm::count_if(
      *module, [](const llvm::Function &f) { return !f.isDeclaration(); });
  unsigned partitions = std::min<size_t>(
      llvm::hardware_concurrency().compute_thread_count(),
      std::max<size_t>(1, functions / kFunctionsPerPartition));
  auto objectPath = [&](unsigned part) {
    SmallString<128> path(workDir);
    llvm::sys::path::append(path, stem + "." + Twine(part) + ".o");
    return path.str().str();
  };
  if (partitions <= 1) {
    std::unique_ptr<llvm::TargetMachine> machine =
        createTargetMachine(cpu, errors);
    if (!machine)
      return failure();
    std::string error;
    std::string path = objectPath(0);
    if (failed(optimize(*module, *machine, error)) ||
        failed(emitObject(*module, *machine, path, error))) {
      errors << "mpc-opt: error: " << error << "\n";
      return failure();
    }
    objectPaths.push_back(path);
    return success();
  }
  // Each partition travels to its thread as bitcode: LLVM contexts are not
  // shared between threads.
  SmallVector<SmallString<0>> bitcode;
  llvm::SplitModule(*module, partitions, [&](std::unique_ptr<llvm::Module> part) {
    bitcode.emplace_back();
    llvm::raw_svector_ostream os(bitcode.back());
    llvm::WriteBitcodeToFile(*part, os);
  });
  module.reset();
  SmallVector<std::unique_ptr<llvm::TargetMachine>> machines;
  for (size_t i = 0; i < bitcode.size(); ++i) {
    machines.push_back(createTargetMachine(cpu, errors));
    if (!machines.back())
      return failure();
  }
  SmallVector<std::string> failures(bitcode.size());
  llvm::DefaultThreadPool pool(
      llvm::hardware_concurrency(static_cast<unsigned>(bitcode.size())));
  for (size_t i = 0; i < bitcode.size(); ++i) {
    objectPaths.push_back(objectPath(i));
    pool.async([&, i, path = objectPaths.back()] {
      llvm::LLVMContext context;
      llvm::Expected<std::unique_ptr<llvm::Module>> part = llvm::parseBitcodeFile(
          llvm::MemoryBufferRef(StringRef(bitcode[i].data(), bitcode[i].size()),
                                "partition"),
          context);
      if (!part) {
        failures[i] = llvm::toString(part.takeError());
        return;
      }
      if (succeeded(optimize(**part, *machines[i], failures[i])))
        (void)emitObject(**part, *machines[i], path, failures[i]);
    });
  }
  pool.wait();
  for (const std::string &failure : failures)
    if (!failure.empty()) {
      errors << "mpc-opt: error: " << failure << "\n";
      return mlir::failure();
    }
  return success();
}

LogicalResult mpc::emitProgram(ArrayRef<ModuleOp> modules,
                               const GeneratedMain &main, const CPUTarget &cpu,
                               EmitKind kind, StringRef output,
                               raw_ostream &errors) {
  if (kind != EmitKind::Executable && modules.size() != 1) {
    errors << "mpc-opt: error: --emit=llvm and --emit=obj write one build; "
              "compile --target=cpu and --target=cuda separately\n";
    return failure();
  }
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(cpu, errors);
  if (!machine)
    return failure();

  std::string error;
  if (kind == EmitKind::LLVMIR) {
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        translateAndOptimize(modules.front(), llvmContext, *machine, errors);
    if (!llvmModule)
      return failure();
    if (succeeded(writeFileAtomically(
            output,
            [&](raw_ostream &os) {
              llvmModule->print(os, nullptr);
              return success();
            },
            error)))
      return success();
    errors << "mpc-opt: error: " << error << "\n";
    return failure();
  }

  // Objects go to a temporary directory unless one is the output.
  SmallString<128> workDir;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("mpc-build", workDir)) {
    errors << "mpc-opt: error: cannot create a temporary directory: "
           << ec.message() << "\n";
    return failure();
  }
  llvm::scope_exit cleanup(
      [&] { llvm::sys::fs::remove_directories(workDir); });
  SmallVector<std::string> objectPaths;
  if (kind == EmitKind::Object) {
    // One object file: one partition.
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        translateAndOptimize(modules.front(), llvmContext, *machine, errors);
    if (!llvmModule)
      return failure();
    SmallString<128> objectPath(workDir);
    llvm::sys::path::append(objectPath, "kernel.o");
    if (failed(emitObject(*llvmModule, *machine, objectPath, error))) {
      errors << "mpc-opt: error: " << error << "\n";
      return failure();
    }
    objectPaths.push_back(objectPath.str().str());
  } else {
    for (auto [i, module] : llvm::enumerate(modules)) {
      llvm::LLVMContext llvmContext;
      std::unique_ptr<llvm::Module> llvmModule =
          translate(module, llvmContext, *machine, errors);
      if (!llvmModule ||
          failed(compileToObjects(std::move(llvmModule), cpu, workDir,
                                  "kernel" + Twine(i), objectPaths, errors)))
        return failure();
    }
  }
  // Written through a symlink; a device or FIFO (-o /dev/null) gets the
  // bytes, never a rename over it.
  mpc_files::OutputTarget target = mpc_files::resolveOutputTarget(output.str());
  auto writeDirectly = [&](StringRef built) -> LogicalResult {
    auto bytes = llvm::MemoryBuffer::getFile(built);
    std::error_code ec;
    llvm::raw_fd_ostream os(output, ec);
    if (bytes && !ec) {
      os << (*bytes)->getBuffer();
      os.flush();
      if (!os.has_error())
        return success();
      os.clear_error();
    }
    errors << "mpc-opt: error: cannot write '" << output << "'\n";
    return failure();
  };
  if (kind == EmitKind::Object) {
    if (target.direct)
      return writeDirectly(objectPaths.front());
    SmallString<128> temp(target.path);
    temp += ".tmp";
    if (llvm::sys::fs::copy_file(objectPaths.front(), temp) ||
        llvm::sys::fs::rename(temp, target.path)) {
      llvm::sys::fs::remove(temp);
      errors << "mpc-opt: error: cannot write '" << output << "'\n";
      return failure();
    }
    return success();
  }

  // Link: the generated main, the kernel and the runtime.
  SmallString<128> mainPath(workDir);
  llvm::sys::path::append(mainPath, "main.cpp");
  {
    std::error_code ec;
    llvm::raw_fd_ostream source(mainPath, ec, llvm::sys::fs::OF_Text);
    if (ec) {
      errors << "mpc-opt: error: cannot write '" << mainPath
             << "': " << ec.message() << "\n";
      return failure();
    }
    // Embedded files are assembled from the work directory.
    std::string text = main.source;
    for (size_t at = text.find("@WORKDIR@"); at != std::string::npos;
         at = text.find("@WORKDIR@", at))
      text.replace(at, 9, workDir.str().str());
    source << text;
  }
  for (const auto &[name, contents] : main.embeddedFiles) {
    SmallString<128> path(workDir);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    llvm::raw_fd_ostream file(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      errors << "mpc-opt: error: cannot write '" << path
             << "': " << ec.message() << "\n";
      return failure();
    }
    file << contents;
  }
  std::string compiler = MPC_CXX_COMPILER;
  if (!llvm::sys::fs::can_execute(compiler)) {
    auto found = llvm::sys::findProgramByName("c++");
    if (!found) {
      errors << "mpc-opt: error: no C++ compiler to link the program ('"
             << compiler << "' from configure time is gone and 'c++' is not "
                            "on PATH)\n";
      return failure();
    }
    compiler = *found;
  }
  // Beside the destination, so that the rename is atomic; in the work
  // directory when the bytes are copied to a device instead.
  SmallString<128> linked(target.direct ? workDir.str().str() : target.path);
  if (target.direct)
    llvm::sys::path::append(linked, "program");
  else
    linked += ".tmp-link";
  SmallString<128> logPath(workDir);
  llvm::sys::path::append(logPath, "link.log");
  std::string includeFlag = std::string("-I") + MPC_INCLUDE_DIR;
  std::string openmpRPath =
      std::string("-Wl,-rpath,") + MPC_OPENMP_LIBRARY_DIR;
  SmallVector<StringRef> args = {compiler, "-O2", includeFlag, mainPath};
  for (const std::string &object : objectPaths)
    args.push_back(object);
  // -ldl: the CUDA runtime dlopens the driver.
  args.append({MPC_RUNTIME_LIBRARY, MPC_OPENMP_LIBRARY, openmpRPath, "-lm",
               "-ldl", "-o", linked});
  std::optional<StringRef> redirects[] = {std::nullopt, logPath.str(),
                                          logPath.str()};
  int rc = llvm::sys::ExecuteAndWait(compiler, args, std::nullopt, redirects);
  if (rc != 0) {
    auto log = llvm::MemoryBuffer::getFile(logPath);
    errors << "mpc-opt: error: linking the program failed (" << compiler
           << " exited " << rc << ")\n"
           << (log ? (*log)->getBuffer() : "") << "\n";
    llvm::sys::fs::remove(linked);
    return failure();
  }
  if (target.direct)
    return writeDirectly(linked);
  if (std::error_code ec = llvm::sys::fs::rename(linked, target.path)) {
    llvm::sys::fs::remove(linked);
    errors << "mpc-opt: error: cannot write '" << output
           << "': " << ec.message() << "\n";
    return failure();
  }
  return success();
}

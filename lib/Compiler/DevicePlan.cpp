//===- DevicePlan.cpp - what a CUDA program launches and allocates --------===//

#include "mpc/Compiler/DevicePlan.h"

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Support/AtomicFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

using namespace mlir;

namespace {

int64_t dtypeBytes(llvm::StringRef dtype) {
  // numpy dtype strings: "<f4", "<f2", "<i8", "|b1", "<V2" (bf16) ...
  int64_t bytes = 0;
  if (dtype.size() > 2)
    dtype.drop_front(2).getAsInteger(10, bytes);
  return bytes;
}

int64_t valueBytes(const mpc::ProgramValue &value) {
  int64_t n = dtypeBytes(value.dtype);
  for (int64_t dim : value.shape)
    n *= dim;
  return n;
}

int64_t memrefBytes(MemRefType type) {
  if (!type.hasStaticShape())
    return 0;
  return type.getNumElements() *
         std::max<int64_t>(type.getElementTypeBitWidth() / 8, 1);
}

struct FunctionPlan {
  std::string name;
  int64_t kernels = 0, tensorCoreKernels = 0, stagedKernels = 0;
  double tensorCoreFlops = 0;
  int64_t fp32Buffers = 0, lowBuffers = 0, otherBuffers = 0;
};

} // namespace

int64_t mpc::lowPrecisionParameterCopyBytes(
    ModuleOp module, const std::vector<PlannedEntry> &entries) {
  // Per step: the function that makes the most copies (the training step).
  int64_t most = 0;
  for (const PlannedEntry &planned : entries) {
    auto function = module.lookupSymbol<func::FuncOp>(planned.function);
    if (!function)
      continue;
    int64_t bytes = 0;
    function.walk([&](mpc::CastOp castOp) {
      auto arg = dyn_cast<BlockArgument>(castOp.getInput());
      if (!arg || arg.getOwner() != &function.getBody().front() ||
          arg.getArgNumber() >= planned.entry->inputs.size())
        return;
      const mpc::ProgramValue &value = planned.entry->inputs[arg.getArgNumber()];
      if (value.kind != ::mpc_abi::StateKind::Param)
        return;
      auto type = cast<RankedTensorType>(castOp.getType());
      bytes += type.getNumElements() *
               std::max<int64_t>(type.getElementTypeBitWidth() / 8, 1);
    });
    most = std::max(most, bytes);
  }
  return most;
}

/// The CUDA runtime's allocation granule (the compiler/runtime contract).
/// cuda-binary.test checks that the arena the runtime reserves is the one
/// planned here.
constexpr int64_t kArenaGranule = ::mpc_abi::kArenaGranuleBytes;

/// `bytes` rounded up to the CUDA runtime's allocation granule.
static int64_t granules(int64_t bytes) {
  return (std::max<int64_t>(bytes, 1) + kArenaGranule - 1) / kArenaGranule *
         kArenaGranule;
}

FailureOr<mpc::CUDAArena>
mpc::cudaArena(ModuleOp module, const std::vector<PlannedEntry> &entries) {
  CUDAArena arena;
  for (const PlannedEntry &planned : entries) {
    auto function = module.lookupSymbol<func::FuncOp>(planned.entry->kernel);
    if (!function)
      continue;
    int64_t bytes = 0;
    for (const mpc::ProgramValue &input : planned.entry->inputs)
      if (!input.isState())
        bytes += granules(valueBytes(input));
    WalkResult walk = function.walk([&](memref::AllocOp alloc) {
      if (alloc->getParentOfType<gpu::LaunchOp>())
        return WalkResult::advance();
      if (!alloc.getType().hasStaticShape()) {
        alloc.emitError("a dynamically sized device buffer: the CUDA "
                        "runtime's arena is planned from static sizes");
        return WalkResult::interrupt();
      }
      // finalize-memref-to-llvm over-allocates by the alignment it then
      // rounds the pointer up to.
      int64_t padding = alloc.getAlignment().value_or(0);
      bytes += granules(memrefBytes(alloc.getType()) + padding);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    arena.scratch = std::max(arena.scratch, bytes);
  }
  // The CUDA build keeps the state in one region (mpc-flatten-training-state).
  if (auto layout = module->getAttrOfType<mpc::StateLayoutAttr>(
          mpc::MPCDialect::kStateLayoutAttrName))
    arena.state = granules(layout.getElements() * ::mpc_abi::kStateUnitBytes);
  return arena;
}

LogicalResult mpc::writeDevicePlan(ModuleOp module,
                                       const std::vector<PlannedEntry> &entries,
                                       int64_t parameterCopyBytes,
                                       const CUDAArena &arena,
                                       llvm::StringRef chip,
                                       llvm::StringRef path,
                                       llvm::raw_ostream &errors) {
  std::vector<FunctionPlan> functions;
  for (const PlannedEntry &planned : entries) {
    FunctionPlan plan;
    plan.name = planned.entry->kernel;
    auto function = module.lookupSymbol<func::FuncOp>(planned.entry->kernel);
    if (!function)
      function = module.lookupSymbol<func::FuncOp>(planned.function);
    if (!function)
      continue;
    function.walk([&](gpu::LaunchOp launch) {
      ++plan.kernels;
      if (auto flops = launch->getAttrOfType<IntegerAttr>(
              "mpc.tensor_core_flops")) {
        ++plan.tensorCoreKernels;
        plan.tensorCoreFlops += flops.getInt();
        auto staging =
            launch->getAttrOfType<StringAttr>("mpc.operand_staging");
        if (staging && staging.getValue() == "shared")
          ++plan.stagedKernels;
      }
    });
    function.walk([&](memref::AllocOp alloc) {
      MemRefType type = alloc.getType();
      Type element = type.getElementType();
      int64_t bytes = memrefBytes(type);
      if (element.isF32())
        plan.fp32Buffers += bytes;
      else if (element.isBF16() || element.isF16())
        plan.lowBuffers += bytes;
      else
        plan.otherBuffers += bytes;
    });
    functions.push_back(plan);
  }
  // State and inputs, from the entry points' signatures (the training
  // step's, which carry everything the other functions use).
  int64_t masterWeights = 0, optimizerState = 0, otherState = 0, inputs = 0;
  const mpc::EntryPoint *widest = nullptr;
  for (const PlannedEntry &planned : entries)
    if (!widest || planned.entry->inputs.size() > widest->inputs.size())
      widest = planned.entry;
  if (widest)
    for (const mpc::ProgramValue &value : widest->inputs) {
      using ::mpc_abi::StateKind;
      int64_t bytes = valueBytes(value);
      if (!value.isState())
        inputs += bytes;
      else if (value.kind == StateKind::Param)
        masterWeights += bytes;
      else if (value.kind == StateKind::AdamM ||
               value.kind == StateKind::AdamV ||
               value.kind == StateKind::Momentum)
        optimizerState += bytes;
      else
        otherState += bytes;
    }
  // What crosses between host and device per call of that function: the
  // state stays on the device (mpc/Runtime/CUDA.h).
  int64_t stepDownloads = 0;
  if (widest)
    for (const mpc::ProgramValue &value : widest->outputs)
      if (!value.isState())
        stepDownloads += valueBytes(value);
  int64_t peakBuffers = 0;
  for (const FunctionPlan &plan : functions)
    peakBuffers = std::max(peakBuffers, plan.fp32Buffers + plan.lowBuffers +
                                            plan.otherBuffers);

  std::string error;
  FailureOr<mpc::AtomicOutputFile> output =
      mpc::AtomicOutputFile::open(path, error);
  if (failed(output)) {
    errors << "mpc-opt: error: " << error << "\n";
    return failure();
  }
  llvm::raw_ostream &os = output->os();
  if (path == "-") {
    os << "device plan (" << chip << ")\n";
    os << llvm::formatv("{0,-18} {1,8} {2,13} {3,18} {4,14} {5,14}\n",
                        "function", "kernels", "tensor-core", "tensor-core FLOPs",
                        "fp32 buffers", "low buffers");
    for (const FunctionPlan &plan : functions)
      os << llvm::formatv("{0,-18} {1,8} {2,13} {3,18} {4,14} {5,14}\n",
                          plan.name, plan.kernels, plan.tensorCoreKernels,
                          (int64_t)plan.tensorCoreFlops, plan.fp32Buffers,
                          plan.lowBuffers);
    for (const FunctionPlan &plan : functions)
      if (plan.tensorCoreKernels)
        os << plan.name << ": " << plan.stagedKernels << " of "
           << plan.tensorCoreKernels
           << " tensor-core kernels stage operands in shared memory "
              "(cp.async); the rest have rows not 4-byte aligned\n";
    os << "fp32 master weights: " << masterWeights << " bytes\n"
       << "low-precision parameter copies: " << parameterCopyBytes
       << " bytes per step\n"
       << "optimizer state: " << optimizerState << " bytes\n"
       << "other state: " << otherState << " bytes\n"
       << "inputs per call: " << inputs << " bytes\n"
       << "peak step buffers (activations, gradients, copies): "
       << peakBuffers << " bytes\n"
       << "device memory (state + inputs + peak buffers): "
       << masterWeights + optimizerState + otherState + inputs + peakBuffers
       << " bytes\n"
       << "host<->device per call of " << (widest ? widest->kernel : "")
       << ": " << inputs << " bytes up, " << stepDownloads
       << " bytes down (state stays on the device)\n"
       << "device arena (reserved once): " << arena.scratch
       << " bytes for a call's buffers + " << arena.state
       << " bytes of training state\n";
  } else {
    llvm::json::OStream json(os, 2);
    json.object([&] {
      json.attribute("gpu_arch", chip);
      json.attributeArray("functions", [&] {
        for (const FunctionPlan &plan : functions)
          json.object([&] {
            json.attribute("name", plan.name);
            json.attribute("kernels", plan.kernels);
            json.attribute("tensor_core_kernels", plan.tensorCoreKernels);
            json.attribute("tensor_core_staged_kernels", plan.stagedKernels);
            json.attribute("tensor_core_flops", plan.tensorCoreFlops);
            json.attribute("fp32_buffer_bytes", plan.fp32Buffers);
            json.attribute("low_precision_buffer_bytes", plan.lowBuffers);
            json.attribute("other_buffer_bytes", plan.otherBuffers);
          });
      });
      json.attribute("fp32_master_weight_bytes", masterWeights);
      json.attribute("low_precision_parameter_copy_bytes", parameterCopyBytes);
      json.attribute("optimizer_state_bytes", optimizerState);
      json.attribute("other_state_bytes", otherState);
      json.attribute("input_bytes", inputs);
      json.attribute("peak_buffer_bytes", peakBuffers);
      json.attribute("device_bytes", masterWeights + optimizerState +
                                         otherState + inputs + peakBuffers);
      json.attribute("step_upload_bytes", inputs);
      json.attribute("step_download_bytes", stepDownloads);
      json.attribute("arena_bytes", arena.scratch + arena.state);
      json.attribute("arena_state_bytes", arena.state);
    });
    os << "\n";
  }
  if (failed(output->commit(error))) {
    errors << "mpc-opt: error: " << error << "\n";
    return failure();
  }
  return success();
}

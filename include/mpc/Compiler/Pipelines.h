//===- Pipelines.h - mpc pass pipelines -------------------------*- C++ -*-===//
//
// The compiler's stages as typed pass pipelines, each also registered by
// name so that `mpc-opt --mpc-...-pipeline` reproduces it on its own.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_COMPILER_PIPELINES_H
#define MPC_COMPILER_PIPELINES_H

#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
namespace mpc {

struct TrainingPipelineOptions
    : public PassPipelineOptions<TrainingPipelineOptions> {
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("model, cross-entropy or mse"),
                           llvm::cl::init("cross-entropy")};
  Option<std::string> output{
      *this, "output",
      llvm::cl::desc("the output the loss attaches to (default: the only one)"),
      llvm::cl::init("")};
  Option<std::string> optimizer{*this, "optimizer",
                                llvm::cl::desc("sgd, momentum, adam or adamw"),
                                llvm::cl::init("adamw")};
  Option<float> learningRate{*this, "lr",
                             llvm::cl::desc("default learning rate"),
                             llvm::cl::init(1e-3f)};
  Option<float> weightDecay{
      *this, "weight-decay",
      llvm::cl::desc("default weight decay (0.01 for adamw, else 0)"),
      llvm::cl::init(-1.0f)};
  Option<float> clipGradNorm{
      *this, "clip-grad-norm",
      llvm::cl::desc("default max global gradient norm (0: no clipping)"),
      llvm::cl::init(0.0f)};
  Option<float> clipGradValue{
      *this, "clip-grad-value",
      llvm::cl::desc("default gradient clip value (0: no clipping)"),
      llvm::cl::init(0.0f)};
  Option<int64_t> accumulate{
      *this, "accumulate",
      llvm::cl::desc("micro-batches whose gradients sum before one update "
                     "(1: none)"),
      llvm::cl::init(1)};
  Option<float> momentum{*this, "momentum",
                         llvm::cl::desc("momentum factor (momentum)"),
                         llvm::cl::init(0.9f)};
  Option<bool> nesterov{*this, "nesterov",
                        llvm::cl::desc("Nesterov momentum (momentum)"),
                        llvm::cl::init(false)};
  Option<RunningVarianceEstimate> runningVariance{
      *this, "running-variance",
      llvm::cl::desc("the batch variance training-mode BatchNorm folds into "
                     "its running variance"),
      llvm::cl::values(
          clEnumValN(RunningVarianceEstimate::Auto, "auto",
                     "unbiased when PyTorch exported the model, else "
                     "population"),
          clEnumValN(RunningVarianceEstimate::Population, "population",
                     "ONNX's: divided by n"),
          clEnumValN(RunningVarianceEstimate::Unbiased, "unbiased",
                     "PyTorch's: divided by n - 1")),
      llvm::cl::init(RunningVarianceEstimate::Auto)};
  Option<std::string> lossScaling{
      *this, "loss-scaling", llvm::cl::desc("dynamic, static or none"),
      llvm::cl::init("none")};
  Option<float> lossScaleInit{*this, "loss-scale-init",
                              llvm::cl::desc("initial loss scale"),
                              llvm::cl::init(65536.0f)};
  Option<int64_t> lossScaleGrowthInterval{
      *this, "loss-scale-growth-interval",
      llvm::cl::desc("clean steps before the loss scale doubles"),
      llvm::cl::init(2000)};
};

/// decompose -> build-training (train_step, eval_step, init) -> loss
/// scaling. The forward @main stays: it is the template the others were
/// built from.
void buildTrainingPipeline(OpPassManager &pm,
                           const TrainingPipelineOptions &options);

struct PrecisionPipelineOptions
    : public PassPipelineOptions<PrecisionPipelineOptions> {
  Option<std::string> precision{*this, "precision",
                                llvm::cl::desc("bf16 or fp16"),
                                llvm::cl::init("bf16")};
  Option<std::string> policy{*this, "policy",
                             llvm::cl::desc("JSON policy file"),
                             llvm::cl::init("")};
  Option<std::string> algorithm{*this, "algorithm",
                                llvm::cl::desc("global or greedy"),
                                llvm::cl::init("global")};
  Option<bool> strict{*this, "strict",
                      llvm::cl::desc("unknown op types are errors"),
                      llvm::cl::init(false)};
  Option<std::string> report{
      *this, "report",
      llvm::cl::desc("precision report file ('-' for a table, empty: none)"),
      llvm::cl::init("")};
};

/// assign-precision -> insert-casts -> optimize-casts [-> report].
void buildPrecisionPipeline(OpPassManager &pm,
                            const PrecisionPipelineOptions &options);

struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes of the target's vector registers (8: AVX2, "
                     "16: AVX-512); sizes the register tiles"),
      llvm::cl::init(8)};
  Option<bool> debugInfo{
      *this, "debug-info",
      llvm::cl::desc("line tables from the ops' locations (an .mlir input's "
                     "lines, an ONNX import's node names): profilers and "
                     "debuggers attribute the machine code to ops"),
      llvm::cl::init(false)};
};

/// mpc (with explicit precisions) -> training state as one flat region
/// updated in place, as on the GPU -> linalg -> tiled, vectorized and
/// bufferized loops (parallel ones as OpenMP) -> LLVM dialect, for the CPU.
/// bf16 conversions are expanded to integer bit operations (round to
/// nearest even), so no compiler runtime is needed.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("NVIDIA architecture the PTX is for: sm_80 or sm_90"),
      llvm::cl::init("sm_80")};
};

/// mpc (with explicit precisions) -> linalg -> bufferized; bf16/f16 matmuls
/// as tensor-core kernels (mpc-gpu-matmul-to-mma), every other loop nest a
/// SIMT kernel (parallel loops tiled 16x16 and mapped to blocks and
/// threads); kernels outlined into one gpu.module, lowered through NVVM and
/// serialized to PTX by LLVM's NVPTX backend (gpu-module-to-binary,
/// format=isa). The host side stays gpu.launch_func on memrefs. Kernels
/// take memrefs as bare pointers (their shapes and strides are static, as
/// every compiled program's are), which keeps launches small.
void buildGPUPipeline(OpPassManager &pm, const GPUPipelineOptions &options);

/// The two halves of buildGPUPipeline: up to kernels as gpu.launch in the
/// host functions (where the device plan is read), and from there to PTX.
void buildGPUKernelPipeline(OpPassManager &pm);
/// The first part of buildGPUKernelPipeline: bufferized, tensor-core
/// matmuls as gpu.launch, every other loop nest as scf.parallel tiled 16x16
/// (before mapping to blocks and threads).
void buildGPUTiledLoopsPipeline(OpPassManager &pm);
void buildGPUSerializePipeline(OpPassManager &pm,
                               const GPUPipelineOptions &options);

/// After buildGPUPipeline: the host functions to the LLVM dialect. Their
/// buffers come from `_mlir_memref_to_llvm_alloc` and launches become
/// `mgpu*` calls, both implemented by mpc's CUDA runtime
/// (mpc/Runtime/CUDA.h); the gpu.binary stays for the LLVM IR translation
/// to embed.
void buildGPUHostPipeline(OpPassManager &pm);

/// Registers `mpc-training-pipeline`, `mpc-precision-pipeline`, `mpc-cpu-pipeline`,
/// `mpc-gpu-pipeline` (and its stages) and `mpc-gpu-host-to-llvm`.
void registerMPCPipelines();

} // namespace mpc
} // namespace mlir

#endif // MPC_COMPILER_PIPELINES_H

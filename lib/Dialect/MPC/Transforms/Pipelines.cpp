//===- Pipelines.cpp - mpc pass pipelines ---------------------------------===//

#include "mpc/Dialect/MPC/Transforms/Pipelines.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::mpc;

void mpc::buildPrecisionPipeline(OpPassManager &pm,
                                 const PrecisionPipelineOptions &options) {
  MPCAssignPrecisionOptions assign;
  assign.precision = options.precision;
  assign.policyFile = options.policy;
  assign.algorithm = options.algorithm;
  assign.strict = options.strict;
  pm.addPass(createMPCAssignPrecision(assign));
  pm.addPass(createMPCInsertCasts());
  pm.addPass(createMPCOptimizeCasts());
  if (!options.report.empty()) {
    MPCPrecisionReportOptions report;
    report.outputFile = options.report;
    pm.addPass(createMPCPrecisionReport(report));
  }
}

namespace {

/// Parses `stages` (textual pass pipeline) into `pm`; every stage is one of
/// ours or upstream's, so a parse failure is a build defect.
void addStages(OpPassManager &pm, StringRef stages, StringRef pipeline) {
  if (failed(parsePassPipeline(stages, pm)))
    llvm::report_fatal_error(llvm::Twine(pipeline) +
                             ": a stage is not registered");
}

/// Tensors to buffers, the same for every target: whole-program, function
/// boundaries with plain (identity-layout) memrefs the runtimes pass.
constexpr const char *kBufferizeStages =
    "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},";

} // namespace

void mpc::buildCPUPipeline(OpPassManager &pm,
                           const CPUPipelineOptions &options) {
  // Stages by name, so each can be run and tested on its own from mpc-opt.
  // A register tile of 4 rows x 2 vectors: measured best on AVX-512 and
  // AVX2 (bench/matmul_vs_openblas.py).
  std::string tile = "mpc-cpu-tile-and-vectorize{register-tile=4," +
                     std::to_string(2 * options.vectorWidth) +
                     " vector-width=" + std::to_string(options.vectorWidth) +
                     "}";
  std::string stages =
      "convert-mpc-parameters-to-memref,"
      "func.func(convert-mpc-to-linalg,"
      "mpc-conv-to-im2col{shifted-windows=true},canonicalize,"
      "mpc-fuse-elementwise," +
      tile +
      ",canonicalize,"
      "loop-invariant-subset-hoisting,canonicalize)," +
      kBufferizeStages +
      "func.func(cse,canonicalize,buffer-hoisting,convert-linalg-to-loops),"
      "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
      "func.func(mpc-lower-strided-copies,scf-forall-to-parallel),"
      "mpc-outline-loop-nests,"
      "convert-scf-to-openmp,canonicalize,"
      "func.func(lower-vector-multi-reduction{lowering-strategy=inner-"
      "reduction},"
      "convert-vector-to-scf{full-unroll=true}),"
      "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
      "arith-expand{include-bf16=true},convert-math-to-funcs,convert-math-to-"
      "libm,"
      "convert-vector-to-llvm{vector-contract-lowering=outerproduct "
      "reassociate-fp-reductions=true},convert-ub-to-llvm,"
      "finalize-memref-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,"
      "convert-openmp-to-llvm,"
      "convert-cf-to-llvm,convert-func-to-llvm,convert-index-to-llvm,"
      "reconcile-unrealized-casts";
  if (options.debugInfo)
    stages += ",ensure-debug-info-scope-on-llvm-func{emission-kind="
              "LineTablesOnly}";
  addStages(pm, stages, "mpc-cpu-pipeline");
}

void mpc::buildGPUTiledLoopsPipeline(OpPassManager &pm) {
  // The training state is flat buffers, one per slot kind, that the
  // optimizer updates in place with one kernel; the gradients are gathered
  // into a flat buffer their producers write directly
  // (mpc-reshape-empty-inits). CSE and canonicalization after
  // bufferization fold the copies of a buffer onto itself that in-place
  // subset insertions leave.
  std::string stages =
      "mpc-flatten-training-state,convert-mpc-parameters-to-memref,"
      "func.func(convert-mpc-to-linalg,mpc-conv-to-im2col{merge-batch=false},"
      "mpc-fuse-elementwise,canonicalize,mpc-reshape-empty-inits),"
      "eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "mpc-state-in-place,"
      "func.func(cse,canonicalize,buffer-hoisting,mpc-gpu-matmul-to-mma,mpc-gpu-block-reductions,"
      "mpc-gpu-approximate-math,"
      "convert-linalg-to-parallel-loops,mpc-gpu-serial-kernels,"
      "mpc-gpu-device-constants,mpc-gpu-fuse-independent-loops,"
      "scf-parallel-loop-tiling{parallel-loop-tile-sizes=16,16 no-min-max-bounds=true})";
  addStages(pm, stages, "mpc-gpu-pipeline");
}

void mpc::buildGPUKernelPipeline(OpPassManager &pm) {
  buildGPUTiledLoopsPipeline(pm);
  // Tiles to blocks, points in a tile to threads.
  addStages(pm,
            "func.func(gpu-map-parallel-loops,convert-parallel-loops-to-gpu,"
            "mpc-gpu-check-host-loops)",
            "mpc-gpu-pipeline");
}

void mpc::buildGPUSerializePipeline(OpPassManager &pm,
                                    const GPUPipelineOptions &options) {
  // sm_90 needs PTX ISA 7.8 or newer; LLVM's default (7.0) suits sm_80.
  std::string features = options.chip == "sm_90" ? " features=+ptx80" : "";
  std::string stages =
      "gpu-kernel-outlining,mpc-gpu-merge-kernel-modules,"
      "nvvm-attach-target{chip=" + options.chip.getValue() + features + "},"
      "gpu.module(mpc-gpu-lower-all-reduce,convert-nvgpu-to-nvvm,"
      "convert-scf-to-cf,"
      "expand-strided-metadata,lower-affine,"
      "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=true},canonicalize,cse,"
      "reconcile-unrealized-casts),"
      "gpu-module-to-binary{format=isa}";
  addStages(pm, stages, "mpc-gpu-pipeline");
}

void mpc::buildGPUHostPipeline(OpPassManager &pm) {
  // Buffers first, with the generic allocation functions the CUDA runtime
  // implements over its device arena (gpu-to-llvm would lower them to
  // malloc); then launches become mgpu* runtime calls.
  std::string stages =
      "expand-strided-metadata,lower-affine,"
      "finalize-memref-to-llvm{use-generic-functions=true},"
      "gpu-to-llvm{use-bare-pointers-for-kernels=true},convert-scf-to-cf,"
      "convert-ub-to-llvm,convert-arith-to-llvm,"
      "convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
      "reconcile-unrealized-casts";
  addStages(pm, stages, "mpc-gpu-host-to-llvm");
}

void mpc::buildGPUPipeline(OpPassManager &pm,
                           const GPUPipelineOptions &options) {
  buildGPUKernelPipeline(pm);
  buildGPUSerializePipeline(pm, options);
}

void mpc::registerMPCPipelines() {
  PassPipelineRegistration<>(
      "mpc-gpu-tiled-loops",
      "the GPU pipeline up to the tiled parallel loops it maps to blocks and "
      "threads (runs on the CPU too: the kernels' arithmetic cross-checked)",
      buildGPUTiledLoopsPipeline);
  PassPipelineRegistration<GPUPipelineOptions>(
      "mpc-gpu-pipeline",
      "lower mpc to PTX kernels for NVIDIA GPUs (tensor-core matmuls, SIMT "
      "loops), embedded as a gpu.binary",
      buildGPUPipeline);
  PassPipelineRegistration<>(
      "mpc-gpu-host-to-llvm",
      "lower the host side of mpc-gpu-pipeline's output to the LLVM dialect: "
      "buffers from the CUDA runtime's device arena, launches as calls of "
      "the runtime",
      buildGPUHostPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "mpc-cpu-pipeline",
      "lower mpc to the LLVM dialect for the CPU (linalg, bufferization, "
      "loops)",
      buildCPUPipeline);
  PassPipelineRegistration<PrecisionPipelineOptions>(
      "mpc-precision-pipeline",
      "decide per-op precision, insert and optimise casts, optionally report",
      buildPrecisionPipeline);
}

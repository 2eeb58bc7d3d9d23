//===- Pipelines.cpp - mpc pass pipelines ---------------------------------===//
//
// Every pipeline is built from typed pass constructors, so a renamed or
// missing pass is a build error, not a run-time parse failure.
//
//===----------------------------------------------------------------------===//

#include "mpc/Compiler/Pipelines.h"
#include "mpc/Codegen/CPU/Passes.h"
#include "mpc/Codegen/GPU/Passes.h"
#include "mpc/Codegen/Passes.h"
#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::mpc;

void mpc::buildTrainingPipeline(OpPassManager &pm,
                                const TrainingPipelineOptions &options) {
  MPCBuildTrainingOptions training;
  training.loss = options.loss;
  training.output = options.output;
  training.optimizer = options.optimizer;
  training.learningRate = options.learningRate;
  training.weightDecay = options.weightDecay;
  training.clipGradNorm = options.clipGradNorm;
  training.clipGradValue = options.clipGradValue;
  training.accumulate = options.accumulate;
  training.momentum = options.momentum;
  training.nesterov = options.nesterov;
  training.runningVariance = options.runningVariance;
  pm.addPass(createMPCDecompose());
  pm.addPass(createMPCBuildTraining(training));
  MPCLossScalingOptions lossScaling;
  lossScaling.mode = options.lossScaling;
  lossScaling.initScale = options.lossScaleInit;
  lossScaling.growthInterval = options.lossScaleGrowthInterval;
  pm.addPass(createMPCLossScaling(lossScaling));
}

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

/// Tensors to buffers, the same for every target: whole-program, function
/// boundaries with plain (identity-layout) memrefs the runtimes pass.
static void addBufferization(OpPassManager &pm) {
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
}

void mpc::buildCPUPipeline(OpPassManager &pm,
                           const CPUPipelineOptions &options) {
  pm.addPass(createMPCFlattenTrainingState());
  pm.addPass(createConvertMPCParametersToMemRef());
  {
    OpPassManager &functions = pm.nest<func::FuncOp>();
    functions.addPass(createConvertMPCToLinalg());
    MPCConvToIm2ColOptions im2col;
    im2col.shiftedWindows = true;
    functions.addPass(createMPCConvToIm2Col(im2col));
    functions.addPass(createCanonicalizerPass());
    functions.addPass(createMPCFuseElementwise());
  }
  // The training state's updates write into the state itself before
  // tiling, so that the tiled optimizer reads each tile from the loop it
  // writes (mpc-cpu-tile-and-vectorize), which bufferizes in place. On the
  // module, where function arguments are writable.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  {
    OpPassManager &functions = pm.nest<func::FuncOp>();
    // A register tile of 4 rows x 2 vectors: measured best on AVX-512 and
    // AVX2 (bench/matmul_vs_openblas.py).
    MPCCPUTileAndVectorizeOptions tile;
    tile.registerTile = {4, 2 * options.vectorWidth};
    tile.vectorWidth = options.vectorWidth;
    functions.addPass(createMPCCPUTileAndVectorize(tile));
    functions.addPass(createCanonicalizerPass());
    functions.addPass(createLoopInvariantSubsetHoistingPass());
    functions.addPass(createCanonicalizerPass());
  }
  addBufferization(pm);
  {
    // Folds the loops that carry a state buffer they update in place into
    // that buffer, which mpc-state-in-place then sees returned.
    OpPassManager &functions = pm.nest<func::FuncOp>();
    functions.addPass(createCSEPass());
    functions.addPass(createCanonicalizerPass());
  }
  pm.addPass(createMPCStateInPlace());
  pm.addPass(createMPCStripStateAttributes());
  {
    OpPassManager &functions = pm.nest<func::FuncOp>();
    functions.addPass(bufferization::createBufferHoistingPass());
    functions.addPass(createConvertLinalgToLoopsPass());
  }
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  {
    OpPassManager &functions = pm.nest<func::FuncOp>();
    functions.addPass(createMPCLowerStridedCopies());
    functions.addPass(createForallToParallelLoopPass());
  }
  pm.addPass(createMPCOutlineLoopNests());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createCanonicalizerPass());
  {
    OpPassManager &functions = pm.nest<func::FuncOp>();
    functions.addPass(vector::createLowerVectorMultiReductionPass(
        vector::VectorMultiReductionLowering::InnerReduction));
    functions.addPass(createConvertVectorToSCFPass(
        VectorTransferToSCFOptions().enableFullUnroll()));
  }
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // bf16 conversions as integer bit operations (round to nearest even), so
  // no compiler runtime is needed for them.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLibmPass());
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.vectorContractLowering =
      vector::VectorContractLowering::OuterProduct;
  vectorToLLVM.reassociateFPReductions = true;
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (options.debugInfo) {
    LLVM::DIScopeForLLVMFuncOpPassOptions scopes;
    scopes.emissionKind = LLVM::DIEmissionKind::LineTablesOnly;
    pm.addPass(LLVM::createDIScopeForLLVMFuncOpPass(scopes));
  }
}

void mpc::buildGPUTiledLoopsPipeline(OpPassManager &pm) {
  // The training state is flat buffers, one per slot kind, that the
  // optimizer updates in place with one kernel; the gradients are gathered
  // into a flat buffer their producers write directly
  // (mpc-reshape-empty-inits). CSE and canonicalization after
  // bufferization fold the copies of a buffer onto itself that in-place
  // subset insertions leave.
  pm.addPass(createMPCFlattenTrainingState());
  pm.addPass(createConvertMPCParametersToMemRef());
  {
    OpPassManager &functions = pm.nest<func::FuncOp>();
    functions.addPass(createConvertMPCToLinalg());
    MPCConvToIm2ColOptions im2col;
    im2col.mergeBatch = false;
    functions.addPass(createMPCConvToIm2Col(im2col));
    functions.addPass(createMPCFuseElementwise());
    functions.addPass(createCanonicalizerPass());
    functions.addPass(createMPCReshapeEmptyInits());
  }
  addBufferization(pm);
  pm.addPass(createMPCStateInPlace());
  OpPassManager &functions = pm.nest<func::FuncOp>();
  functions.addPass(createCSEPass());
  functions.addPass(createCanonicalizerPass());
  functions.addPass(bufferization::createBufferHoistingPass());
  functions.addPass(createMPCGPUMatmulToMMA());
  functions.addPass(createMPCGPUBlockReductions());
  functions.addPass(createMPCGPUApproximateMath());
  functions.addPass(createConvertLinalgToParallelLoopsPass());
  functions.addPass(createMPCGPUSerialKernels());
  functions.addPass(createMPCGPUDeviceConstants());
  functions.addPass(createMPCGPUFuseIndependentLoops());
  functions.addPass(createParallelLoopTilingPass({16, 16},
                                                 /*noMinMaxBounds=*/true));
}

void mpc::buildGPUKernelPipeline(OpPassManager &pm) {
  buildGPUTiledLoopsPipeline(pm);
  // Tiles to blocks, points in a tile to threads.
  OpPassManager &functions = pm.nest<func::FuncOp>();
  functions.addPass(createGpuMapParallelLoopsPass());
  functions.addPass(createConvertParallelLoopToGpuPass());
  functions.addPass(createMPCGPUCheckHostLoops());
}

void mpc::buildGPUSerializePipeline(OpPassManager &pm,
                                    const GPUPipelineOptions &options) {
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createMPCGPUMergeKernelModules());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  // sm_90 needs PTX ISA 7.8 or newer; LLVM's default (7.0) suits sm_80.
  if (options.chip == "sm_90")
    target.features = "+ptx80";
  pm.addPass(createGpuNVVMAttachTarget(target));
  {
    OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
    kernels.addPass(createMPCGPULowerAllReduce());
    kernels.addPass(createConvertNVGPUToNVVMPass());
    kernels.addPass(createSCFToControlFlowPass());
    kernels.addPass(memref::createExpandStridedMetadataPass());
    kernels.addPass(createLowerAffinePass());
    ConvertGpuOpsToNVVMOpsOptions nvvm;
    nvvm.useBarePtrCallConv = true;
    kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
    kernels.addPass(createCanonicalizerPass());
    kernels.addPass(createCSEPass());
    kernels.addPass(createReconcileUnrealizedCastsPass());
  }
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void mpc::buildGPUHostPipeline(OpPassManager &pm) {
  // Buffers first, with the generic allocation functions the CUDA runtime
  // implements over its device arena (gpu-to-llvm would lower them to
  // malloc); then launches become mgpu* runtime calls.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  GpuToLLVMConversionPassOptions gpuToLLVM;
  gpuToLLVM.kernelBarePtrCallConv = true;
  pm.addPass(createGpuToLLVMConversionPass(gpuToLLVM));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mpc::buildGPUPipeline(OpPassManager &pm,
                           const GPUPipelineOptions &options) {
  buildGPUKernelPipeline(pm);
  buildGPUSerializePipeline(pm, options);
}

void mpc::registerMPCPipelines() {
  PassPipelineRegistration<TrainingPipelineOptions>(
      "mpc-training-pipeline",
      "turn the imported forward function into the training program: "
      "decompose, train_step/eval_step/init with the optimizer, loss scaling",
      buildTrainingPipeline);
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

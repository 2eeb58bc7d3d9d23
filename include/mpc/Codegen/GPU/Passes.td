//===- Passes.td - GPU code generation ---------------------*- tablegen -*-===//
//
// Loops shaped for an NVIDIA GPU: tensor-core matmuls, block reductions,
// serial and fused kernels, device constants, kernel modules merged.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_CODEGEN_GPU_PASSES_TD
#define MPC_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def MPCGPUMatmulToMMA : Pass<"mpc-gpu-matmul-to-mma", "::mlir::func::FuncOp"> {
  let summary = "run bf16/fp16 matmuls on tensor cores (mma.sync)";
  let description = [{
    After bufferization, `linalg.matmul` and `linalg.batch_matmul` on
    memrefs with bf16 or f16 operands and an f32 accumulator become a
    `gpu.launch` in which each warp computes a 16x8 tile of the result with
    `nvvm.mma.sync` m16n8k16 (row-major A, column-major B, f32 accumulate),
    stepping K by 16. A block of 8 warps owns a 32x32 tile: per K step its
    threads copy the block's slices of A (32x16) and B (16x32) into shared
    memory with `nvgpu.device_async_copy` (cp.async, 4 bytes per thread,
    zero-filled past the matrix), double-buffered so the next step's copies
    overlap this step's MMAs, and each lane reads its fragment elements
    from shared memory in the PTX fragment layout, packing bf16/f16 pairs
    into 32-bit registers. Operands whose rows are not 4-byte aligned (odd
    strides or offsets) get a kernel of one warp per 16x8 tile that loads
    its fragments from global memory instead; each launch records which
    (`mpc.operand_staging` = "shared" or "global"). Reads beyond the matrix give 0 and
    stores beyond it are skipped, so any M, N, K work. The accumulator
    starts from the output's contents (linalg semantics: C += A B).

    Other low-precision contractions (transposed or generic forms, dynamic
    shapes) are left to the SIMT loops with a warning naming them.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def MPCGPUApproximateMath
    : Pass<"mpc-gpu-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "replace math functions by arithmetic, so kernels need no "
                "libdevice";
  let description = [{
    NVVM lowers most math functions to calls into CUDA's libdevice
    (`__nv_powf`, `__nv_logf`, ...), which is part of the CUDA toolkit, not
    of LLVM; PTX with such calls does not assemble without it. Upstream's
    polynomial approximations (exp, log, log1p, tanh, erf, sin, cos, ...,
    accurate to a few ulp in f32) and `math-expand-ops` (pow as exp/log)
    make every function plain arithmetic first; floor/ceil/trunc go
    through an exact i32 round trip, fabs clears the sign bit, and sqrt is
    NVVM's correctly rounded `llvm.nvvm.sqrt.rn.f`. Run before outlining;
    it rewrites kernel bodies still inside `gpu.launch`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::LLVM::LLVMDialect",
  ];
}

def MPCGPUBlockReductions
    : Pass<"mpc-gpu-block-reductions", "::mlir::func::FuncOp"> {
  let summary = "run long reductions as one thread block per output element";
  let description = [{
    After bufferization, a linalg op with one reduction loop of at least
    `min-size` iterations (softmax's max and sum, layer norm's moments,
    losses, the finite check) becomes a `gpu.launch` with one block of 256
    threads per output element: each thread folds a strided slice of the
    reduction with the op's own payload from the combiner's identity, then
    `gpu.all_reduce` (warp shuffles and shared memory, lowered by
    `mpc-gpu-lower-all-reduce`) combines the threads and thread 0 folds the
    total into the output. Shorter reductions (and those with several
    reduction loops) stay one thread per output element; their parallel
    loops are interchanged outermost so that each thread folds the
    reduction loops itself instead of a host loop around a kernel. A long reduction whose payload is not one recognised f32
    combiner (add, mul, maximum, minimum) stays too, with a warning.
  }];
  let options = [
    Option<"minSize", "min-size", "int64_t", /*default=*/"64",
           "shortest reduction mapped to a thread block">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::affine::AffineDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def MPCGPULowerAllReduce
    : Pass<"mpc-gpu-lower-all-reduce", "::mlir::gpu::GPUModuleOp"> {
  let summary = "lower gpu.all_reduce to shuffles, barriers and shared memory";
  let description = [{
    Upstream's all-reduce rewrite (`populateGpuAllReducePatterns`) on the
    outlined kernels: warp reductions with `gpu.shuffle`, one value per
    warp in a workgroup buffer, a barrier, and a final warp reduction.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def MPCGPUSerialKernels
    : Pass<"mpc-gpu-serial-kernels", "::mlir::func::FuncOp"> {
  let summary = "turn the host work left after linalg-to-loops into loop "
                "nests the GPU mapping takes";
  let description = [{
    `convert-linalg-to-parallel-loops` leaves some computations without a
    parallel loop: 0-d computations (the loss-scale update, the step
    counter), full reductions too short for a block reduction (a sequential
    `scf.for`), and `memref.copy` from bufferization. On the host they
    would read and write device memory. This pass turns each `memref.copy`
    into a parallel copy loop nest and wraps each run of the remaining
    memory-touching host ops (with the pure ops that consume their values)
    into a one-iteration `scf.parallel`, which becomes a one-thread kernel.

    A value computed from device memory that the host itself needs later
    (a dynamic allocation size, say) cannot move to the device: that is an
    error naming the op.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def MPCGPUDeviceConstants
    : Pass<"mpc-gpu-device-constants", "::mlir::func::FuncOp"> {
  let summary = "read constants (weights, initial values) from the kernels' "
                "module instead of host memory";
  let description = [{
    Every use of a host `memref.get_global` inside a loop nest or a
    `gpu.launch` reads the global there instead, so that kernel outlining
    carries the global into the GPU module and the PTX holds it as
    initialised `.global` data (uploaded once, with the module). A function
    result that is a global is copied into a fresh buffer by a parallel
    copy loop nest, so that every result is in device memory. Host uses
    that are not loop nests (a global passed to a call) stay as they are;
    `mpc-gpu-check-host-loops` rejects host memory accesses after mapping.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def MPCGPUFuseIndependentLoops
    : Pass<"mpc-gpu-fuse-independent-loops", "::mlir::func::FuncOp"> {
  let summary = "run consecutive independent parallel loop nests as one "
                "kernel";
  let description = [{
    Consecutive `scf.parallel` nests (static bounds from 0, step 1, no
    reductions) of which none writes a buffer another reads or writes
    become one 1-D `scf.parallel` over their iterations laid end to end;
    each iteration runs, under an `scf.if` on its range, the body of the
    nest it falls in on that nest's delinearized indices. The optimizer
    update of every parameter becomes one kernel this way (multi-tensor
    apply), and so do other independent elementwise nests. Buffers are
    compared through views; distinct function arguments are taken to be
    distinct buffers, as mpc's runtimes pass them. Only ops that do not
    touch memory (constants, views, allocations) may sit between the nests
    of a group, and a group's kernel parameters (every memref and scalar
    its bodies use, 8 bytes each: mpc-gpu-pipeline passes memrefs to
    kernels as bare pointers) stay within `max-parameter-bytes`.
  }];
  let options = [
    Option<"maxLoops", "max-loops", "int64_t", /*default=*/"128",
           "most loop nests in one kernel (each thread tests every range)">,
    Option<"maxParameterBytes", "max-parameter-bytes", "int64_t",
           /*default=*/"4096",
           "most bytes of kernel parameters (memref descriptors, scalars) "
           "a fused kernel may take: PTX before ISA 8.1 allows 4352">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def MPCGPUCheckHostLoops
    : Pass<"mpc-gpu-check-host-loops", "::mlir::func::FuncOp"> {
  let summary = "fail on loop nests left on the host after GPU mapping";
  let description = [{
    `convert-parallel-loops-to-gpu` leaves loops it cannot map where they
    are, which would run on the host over device memory. Any loop nest
    (`scf.parallel`, `scf.for`, linalg op) and any read or write of memory
    left outside a kernel is an error naming it. So is a kernel operand
    with a dynamic shape, stride or offset: mpc-gpu-pipeline passes
    memrefs to kernels as bare pointers.
  }];
}

def MPCGPUMergeKernelModules
    : Pass<"mpc-gpu-merge-kernel-modules", "::mlir::ModuleOp"> {
  let summary = "gather all outlined kernels into one gpu.module";
  let description = [{
    `gpu-kernel-outlining` makes one `gpu.module` per kernel; a program's
    kernels are loaded together, so they go into one module (one PTX
    module, one `cuModuleLoadData`). Each kernel is renamed after the
    module it came from (those names are unique) and every
    `gpu.launch_func` is pointed at its new home. What the kernels
    reference besides (constant globals, helper functions) was cloned from
    the host module by the outlining, once per kernel module: one copy
    under its own name is kept. Every kernel's workgroup (shared-memory)
    buffers get 16-byte alignment (`llvm.align`): cp.async writes 4 to 16
    bytes at a time, and the NVVM lowering would align a bf16 buffer to 2.
  }];
  let options = [
    Option<"moduleName", "name", "std::string", /*default=*/"\"mpc_kernels\"",
           "name of the merged gpu.module">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // MPC_CODEGEN_GPU_PASSES_TD

//===- Passes.td - mpc code generation passes --------------*- tablegen -*-===//
//
// Passes on linalg/vector/scf that shape the loops for a target: tiling for
// threads, caches and registers, and vectorisation.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_CODEGEN_PASSES_TD
#define MPC_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def MPCCPUTileAndVectorize
    : Pass<"mpc-cpu-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "tile contractions for threads and registers, vectorize them";
  let description = [{
    Every statically shaped contraction (`linalg.matmul`, `batch_matmul`,
    `generic` contractions, bf16/fp16 ones with their fp32 accumulation
    included) is tiled three times:

    1. an `scf.forall` over blocks of the batch, M and N dimensions, one
       block per task, which the OpenMP lowering spreads over the cores;
    2. `scf.for` loops over register tiles of `register-tile` (M x N),
       N outermost so a panel of B stays in cache while the rows of A
       stream past it;
    3. an `scf.for` over K one step at a time,

    and each register tile is vectorized into a `vector.contract` whose
    accumulator, once subset hoisting moves it out of the K loop, stays in
    registers for the whole K loop. Tile sizes are lowered to divisors of
    the dimensions (so no tile is partial and no vector needs a mask); a
    contraction whose shapes are dynamic, or that has more than one M, N or
    K dimension, is left to the scalar loop lowering, with a remark when
    `report-skipped` is set.

    Statically shaped elementwise ops (every loop parallel, every operand
    read contiguously along the innermost loop or broadcast along it, no
    i1 operand, not a plain copy) have their contiguous loops collapsed
    into one (a per-channel operand [1, C, 1, 1] is read as [C] first, so
    [N, C, H, W] becomes [N, C, H*W]), get the `scf.forall` over their
    outer dimension (over whole vectors when that is the collapsed loop)
    and are vectorized along the innermost loop: `vector-width` lanes per
    step where that divides it, else the largest divisor of at least half
    the width (a power of two for 16-bit floats), so that no vector needs
    a mask. Reductions get their parallel loops outermost and the
    `scf.forall` over the outer one, so they run on all cores too. A sum
    (every result an `addf` into its accumulator) whose innermost loop is
    reduced and read contiguously is vectorized along it: a short row (up
    to four vectors, the only loop reduced) as one vector added up across
    its lanes; otherwise the innermost loop is split into (length / lanes,
    lanes) and the lanes become a parallel dim of a [..., lanes]
    accumulator that stays in registers across the other reduced loops
    (BatchNorm's statistics over N, H and W), then a small second sum adds
    the lanes up. A sum with several results and a parallel loop that some
    input does not read (windowed sums: the image is the same for every
    output channel) keeps one vector of lanes per result and a register
    tile of several rows along that loop (as many as fit in three
    quarters of the vector registers), and its outermost reduced loop is
    split into blocks whose slices of the inputs fit in 256 KiB of cache,
    so that the rows of the tile find the shared input there.
  }];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::affine::AffineDialect",
  ];
  let options = [
    ListOption<"registerTile", "register-tile", "int64_t",
               "preferred M x N register tile of a contraction">,
    ListOption<"parallelTile", "parallel-tile", "int64_t",
               "preferred M x N block of a contraction per task">,
    Option<"minParallelWork", "min-parallel-work", "int64_t",
           /*default=*/"32768",
           "elements an elementwise op needs before it is split across "
           "threads (smaller ones are not worth a fork)">,
    Option<"minPackedRows", "min-packed-rows", "int64_t", /*default=*/"128",
           "rows (M) a contraction needs before its B operand is packed "
           "into register-tile panels (fewer rows reuse B too little to pay "
           "for the copy); a B read across its rows (N not its innermost "
           "dim) is packed whatever M">,
    Option<"reportSkipped", "report-skipped", "bool", /*default=*/"false",
           "emit a remark for each contraction left untiled, with the reason">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "lanes of an elementwise op's vectors (f32 lanes of the target's "
           "vector registers)">,
  ];
}

def MPCFuseElementwise
    : Pass<"mpc-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "fuse elementwise producers into consumers that do not "
                "recompute them";
  let description = [{
    Upstream's elementwise fusion (`linalg-fuse-elementwise-ops`) with a
    cost rule: a producer is fused into its consumer only when the consumer
    reads each of its elements once -- the operand's indexing map is a
    permutation of the consumer's loops. Fusing a GELU into the matmul that
    reads it would evaluate the GELU once per output column (N times); the
    rule keeps it a separate loop. `linalg.reduce` ops are generalized
    first, so their elementwise producers fuse into them too.

    A producer with several uses is fused only when recomputing it moves
    less memory than materializing it: it is elementwise, reads at most one
    operand of its own size (others are broadcasts such as per-channel
    statistics), its body is at most eight `arith` operations, and every
    use reads each element once. Each use then gets its own copy, which
    fuses: BatchNorm's `x - mean`, read by the variance's reduction and by
    the normalisation, is computed in both instead of written once and
    read twice. Anything costlier (a `math` function, a product of two
    full-size tensors) is still computed once.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::affine::AffineDialect",
  ];
}

def MPCConvToIm2Col : Pass<"mpc-conv-to-im2col", "::mlir::func::FuncOp"> {
  let summary = "rewrite 2-d convolutions as an im2col copy and a matmul";
  let description = [{
    `linalg.conv_2d_nchw_fchw` and `linalg.conv_2d_nhwc_hwcf` with static
    shapes become an im2col `linalg.generic` (each output pixel's receptive
    field laid out as a row) and a contraction over it, which
    `mpc-cpu-tile-and-vectorize` then packs, tiles and vectorizes like any
    matmul. The copy costs one pass over the image times the kernel area;
    the scalar convolution loops it replaces ran 10-50x slower than the
    vectorized matmul. With `merge-batch` (the CPU's choice) a batch of NCHW
    images is one matmul over all their receptive fields; the GPU keeps
    one per image, the batched form its tensor-core mapping takes.

    With `shifted-windows` (the CPU's choice), an NCHW convolution of stride
    1 whose output rows are wide enough needs no copy at all: computed over
    rows of the padded image's width W' instead of the output's OW, output
    pixel j = oh * W' + ow reads pixel j + kh * dh * W' + kw * dw of each
    flattened input plane, so every kernel tap (c, kh, kw) reads a
    contiguous run of the image, and the convolution is one contraction
    over (c, kh, kw) whose B operand is the image itself, shifted per tap
    (the direct form of im2col). The W' - OW extra columns of each row are
    computed and dropped; W' is at least the padded width, and the count
    of outputs a whole number of vectors: OH * W' itself, or, with a
    zero-filled accumulator, the next multiple past it (a 7 x 7 image at
    pitch 9 is 64 outputs for 63), used when that adds at most two fifths
    to the work. The image matrix this replaces is KH * KW times the
    image: written and read back through memory (a 14 x 14 batch of 64
    with 32 channels is 14 MB), it cost as much as the matmul.

    Also with `shifted-windows`, a convolution of dilation 1 whose output
    is a few taps and whose kernel is large (16 elements or more, and as
    many as the taps) is a weight gradient: the image convolved with the
    output gradient, batch and channels swapped. Each tap (y, x) is then a
    sum over the kernel flattened at the image's pitch W',
    `out[b, f] = sum over k, p of w[f, k, p] * img[b, k, p + y s W' + x s]`,
    with the kernel widened with zeros to whole vectors: both operands are
    read contiguously, a swap of batch and channels feeding either is read
    through, and the taps (up to nine) are the results of one generic that
    reads each kernel element once for all of them, each into its own
    accumulator, stacked and transposed into the result after. Used when
    the widening adds at most a quarter (ResNet-10's 7 x 7 and 4 x 4
    images trained faster with im2col). im2col copied the image KH * KW
    times for a matmul of the same work.
  }];
  let options = [
    Option<"mergeBatch", "merge-batch", "bool", /*default=*/"true",
           "NCHW batches as one [F, N*OH*OW] matmul">,
    Option<"shiftedWindows", "shifted-windows", "bool", /*default=*/"false",
           "stride-1 NCHW convolutions as contractions over shifted "
           "windows of the padded image, without an im2col copy">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::affine::AffineDialect",
  ];
}

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

def MPCLowerStridedCopies
    : Pass<"mpc-lower-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "after bufferization: copies between strided buffers as "
                "loops, the large ones parallel";
  let description = [{
    A `memref.copy` between buffers that are not both contiguous (a
    concatenation's operand written into its slice, a strided slice
    materialized) lowers to the runtime's `memrefCopy`, which copies one
    element at a time through index arithmetic and `memcpy`, on one
    thread. This pass rewrites each such copy with a static shape as loops
    that LLVM compiles and vectorizes: the dims contiguous in both buffers
    are collapsed first (a [64, 128, 4, 4] block into a slice of a
    [64, 256, 4, 4] buffer is 64 rows of 2048), and a copy of at least
    `min-parallel-elements` elements whose outer dim has more than one
    row is an `scf.parallel` over it, which the OpenMP lowering spreads
    over the cores. Contiguous copies stay `memref.copy` (one `memcpy`).
  }];
  let options = [
    Option<"minParallelElements", "min-parallel-elements", "int64_t",
           /*default=*/"32768",
           "copies of at least this many elements run in parallel">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def MPCOutlineLoopNests : Pass<"mpc-outline-loop-nests", "::mlir::ModuleOp"> {
  let summary = "give each loop nest of a long function a function of its own";
  let description = [{
    A training step is one function with a loop nest per op of the model,
    forward and backward: thousands for a MobileNet. LLVM's optimizer and
    code generator are superlinear in a function's size (dominator-tree
    updates, scalar evolution's walks up the dominator chain for loop
    guards), and such a step took minutes to compile. In a function with
    at least `min-nests` top-level ops that have regions (loop nests, after
    bufferization), each such op moves into a private `noinline` function
    of its own, called in its place: the values it uses from above become
    arguments, except constants, which are cloned (loop bounds and sizes
    stay constants for LLVM's vectorizer), and its results are returned.
    Smaller functions are left as they are.
  }];
  let options = [
    Option<"minNests", "min-nests", "int64_t", /*default=*/"64",
           "outline only in functions with at least this many loop nests">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def MPCStateInPlace : Pass<"mpc-state-in-place", "::mlir::ModuleOp"> {
  let summary = "after bufferization: training state is updated in place; "
                "drop it from the results";
  let description = [{
    `mpc-flatten-training-state` returns each kind of training state a
    function writes (`mpc.state_kind` results) so that bufferization can
    update the kind's buffer, the argument of the same kind, in place.
    After one-shot bufferization each such result must be that argument:
    the results are dropped, so the runtime passes the state buffers and
    reads the state from them, and calls in the module read the buffers
    they passed. A returned buffer that is not the argument (bufferization
    copied the state) is an error: the runtime would read stale state.
  }];
}

def MPCReshapeEmptyInits
    : Pass<"mpc-reshape-empty-inits", "::mlir::func::FuncOp"> {
  let summary = "empty-tensor elimination through a reshape into a subset";
  let description = [{
    `eliminate-empty-tensors` makes the producer of a value inserted into a
    subset of a buffer (`tensor.insert_slice`,
    `bufferization.materialize_in_destination`) write into that subset
    directly, but only when the value keeps its type on the way. A value
    reshaped on its way (a gradient of shape 64x32 gathered into the flat
    gradient buffer of `mpc-flatten-training-state`, a scalar step count
    written into its one-element state buffer) would be copied instead.
    This pass handles that case: a destination-style op whose result is
    only reshaped and inserted, with a `tensor.empty` init used nowhere
    else, gets the subset itself as its init, reshaped back to the init's
    shape, when the destination is defined before the op. Bufferization
    then writes the result in place.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

#endif // MPC_CODEGEN_PASSES_TD

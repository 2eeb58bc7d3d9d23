//===- Passes.td - CPU code generation ---------------------*- tablegen -*-===//
//
// Loops shaped for a CPU: tiling for threads, caches and registers,
// vectorisation, strided copies as loops, loop nests outlined.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_CODEGEN_CPU_PASSES_TD
#define MPC_CODEGEN_CPU_PASSES_TD

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

#endif // MPC_CODEGEN_CPU_PASSES_TD

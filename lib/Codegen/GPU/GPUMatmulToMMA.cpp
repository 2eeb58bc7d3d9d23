//===- GPUMatmulToMMA.cpp - bf16/fp16 matmuls on tensor cores -------------===//
//
// Each warp computes a 16x8 output tile with mma.sync m16n8k16 over K.
// Staged kernels (the default): a block of 8 warps (2 x 4) owns a 32x32
// output tile; per K step of 16 its 256 threads copy the block's 32x16
// slice of A and 16x32 slice of B into shared memory with cp.async (4
// bytes each, zero-filled past the matrix), double-buffered so that the
// next step's copies overlap this step's MMAs, and the warps read their
// fragments from shared memory. Where a row of A or B is not 4-byte
// aligned (odd strides or offsets) cp.async cannot be used, and each warp
// loads its fragments from global memory directly. The launch says which
// (`mpc.operand_staging`: "shared" or "global"; the device plan counts
// them).
//
// The fragment
// layouts are PTX's (ISA, "Matrix fragments for mma.m16n8k16"): with
// group = lane / 4 and pair = lane % 4,
//   A (16x16, row): a0 = A[g][2p..2p+1],   a1 = A[g+8][2p..2p+1],
//                   a2 = A[g][2p+8..2p+9], a3 = A[g+8][2p+8..2p+9]
//   B (16x8, col):  b0 = B[2p..2p+1][g],   b1 = B[2p+8..2p+9][g]
//   C (16x8 f32):   c0,c1 = C[g][2p..2p+1], c2,c3 = C[g+8][2p..2p+1]
// each pair of 16-bit values packed low element first into 32 bits.
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUMATMULTOMMA
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

constexpr int64_t kTileM = 16, kTileN = 8, kTileK = 16, kWarp = 32;
// The staged kernel's block tile: 2 x 4 warps of 16x8.
constexpr int64_t kWarpRows = 2, kWarpCols = 4;
constexpr int64_t kBlockM = kWarpRows * kTileM, kBlockN = kWarpCols * kTileN;
constexpr int64_t kBlockThreads = kWarpRows * kWarpCols * kWarp;

/// Whether every 2-element (4-byte) copy at an even column of `type`'s
/// innermost dimension is 4-byte aligned: unit innermost stride, even outer
/// strides and an even offset (buffers themselves are at least 4-byte
/// aligned).
bool pairsAligned(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) ||
      ShapedType::isDynamic(offset) || strides.back() != 1)
    return false;
  for (int64_t stride : ArrayRef(strides).drop_back())
    if (ShapedType::isDynamic(stride) || stride % 2 != 0)
      return false;
  return offset % 2 == 0;
}

struct Operands {
  Value a, b, c;
  bool batched;
};

/// Whether `op` computes C[b, m, n] += A[(b,) m, k] * B[(b,) k, n] with
/// the products widened to f32: the form mpc-conv-to-im2col gives a
/// convolution (the filter is A, shared by every image of the batch).
bool isBatchedContraction(linalg::GenericOp op) {
  if (op.getNumLoops() != 4 || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return false;
  using utils::IteratorType;
  if (op.getIteratorTypesArray() !=
      SmallVector<IteratorType>{IteratorType::parallel, IteratorType::parallel,
                                IteratorType::parallel, IteratorType::reduction})
    return false;
  MLIRContext *context = op.getContext();
  AffineExpr b, m, n, k;
  bindDims(context, b, m, n, k);
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(4, 0, results, context);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if ((maps[0] != map({m, k}) && maps[0] != map({b, m, k})) ||
      (maps[1] != map({k, n}) && maps[1] != map({b, k, n})) ||
      maps[2] != map({b, m, n}))
    return false;
  // yield(out + extf(a) * extf(b)), in either order.
  Block *body = op.getBlock();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2);
  Value product = add.getLhs() == out   ? add.getRhs()
                  : add.getRhs() == out ? add.getLhs()
                                        : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return false;
  auto widened = [&](Value v, BlockArgument arg) {
    auto ext = v.getDefiningOp<arith::ExtFOp>();
    return ext && ext.getIn() == arg;
  };
  Value x = mul.getLhs(), y = mul.getRhs();
  return (widened(x, body->getArgument(0)) &&
          widened(y, body->getArgument(1))) ||
         (widened(y, body->getArgument(0)) &&
          widened(x, body->getArgument(1)));
}

/// Why `op` cannot use the MMA kernel, or nothing when it can.
std::optional<std::string> unsupported(linalg::LinalgOp op, Operands &out) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
      !(generic && isBatchedContraction(generic)))
    return std::string("only linalg.matmul, linalg.batch_matmul and the "
                       "im2col convolution's contraction are mapped");
  if (!op.hasPureBufferSemantics())
    return std::string("runs after bufferization");
  // Default (non-transposed, non-broadcast) indexing maps only.
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation()))
    if (matmul.hasUserDefinedMaps())
      return std::string("user-defined indexing maps (transposes) are not "
                         "mapped yet");
  if (auto batch = dyn_cast<linalg::BatchMatmulOp>(op.getOperation()))
    if (batch.hasUserDefinedMaps())
      return std::string("user-defined indexing maps (transposes) are not "
                         "mapped yet");
  out.a = op.getDpsInputOperand(0)->get();
  out.b = op.getDpsInputOperand(1)->get();
  out.c = op.getDpsInitOperand(0)->get();
  out.batched = cast<MemRefType>(out.c.getType()).getRank() == 3;
  auto a = cast<MemRefType>(out.a.getType());
  auto b = cast<MemRefType>(out.b.getType());
  auto c = cast<MemRefType>(out.c.getType());
  if (a.getElementType() != b.getElementType() ||
      !(a.getElementType().isBF16() || a.getElementType().isF16()))
    return std::string("operands are not both bf16 or both f16");
  if (!c.getElementType().isF32())
    return std::string("the accumulator is not f32");
  if (!a.hasStaticShape() || !b.hasStaticShape() || !c.hasStaticShape())
    return std::string("dynamic shapes are not mapped yet");
  return std::nullopt;
}

struct KernelBuilder {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t y) { return y ? add(x, index(y)) : x; }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, index(y));
  }
  Value lessThan(Value x, int64_t bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x,
                                 index(bound));
  }
  Value both(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }

  /// memref[indices], or 0 where `inBounds` is false; the index is clamped
  /// so the load itself never leaves the buffer.
  Value guardedLoad(Value memref, ArrayRef<Value> indices,
                    ArrayRef<int64_t> dims, Value inBounds) {
    SmallVector<Value> clamped;
    for (auto [i, dim] : llvm::zip(indices, dims))
      clamped.push_back(arith::MinUIOp::create(b, loc, i, index(dim - 1)));
    Value value = memref::LoadOp::create(b, loc, memref, clamped);
    Value zero = arith::ConstantOp::create(
        b, loc, b.getZeroAttr(value.getType()));
    return arith::SelectOp::create(b, loc, inBounds, value, zero);
  }

  /// Two 16-bit floats as one 32-bit register, `low` in the low half.
  Value pack(Value low, Value high, Type fragment) {
    Type i16 = b.getI16Type(), i32 = b.getI32Type();
    auto widen = [&](Value v) {
      return arith::ExtUIOp::create(
          b, loc, i32, arith::BitcastOp::create(b, loc, i16, v));
    };
    Value packed = arith::OrIOp::create(
        b, loc, widen(low),
        arith::ShLIOp::create(b, loc, widen(high),
                              arith::ConstantIntOp::create(b, loc, i32, 16)));
    if (fragment == i32)
      return packed;
    return LLVM::BitcastOp::create(b, loc, fragment, packed);
  }
};

/// What both kernels share: the contraction's shapes, the fragment
/// register type, and the warp's 16x8 accumulator tile (loaded from C
/// before the K loop, stored back after it, under bounds checks).
struct Contraction {
  const Operands &m;
  MemRefType aType, bType, cType;
  int64_t batch, rows, cols, depth;
  Type element, fragment;
  bool bf16;

  Contraction(OpBuilder &b, const Operands &m)
      : m(m), aType(cast<MemRefType>(m.a.getType())),
        bType(cast<MemRefType>(m.b.getType())),
        cType(cast<MemRefType>(m.c.getType())) {
    int64_t off = m.batched ? 1 : 0;
    batch = m.batched ? cType.getDimSize(0) : 1;
    rows = cType.getDimSize(off);
    cols = cType.getDimSize(off + 1);
    depth = aType.getDimSize(aType.getRank() - 1);
    element = aType.getElementType();
    bf16 = element.isBF16();
    fragment = bf16 ? Type(b.getI32Type())
                    : Type(VectorType::get({2}, b.getF16Type()));
  }

  /// For the device plan: the tensor-core arithmetic and how the operands
  /// reach the fragments ("shared" or "global").
  void annotate(OpBuilder &b, gpu::LaunchOp launch, StringRef staging) const {
    launch->setAttr("mpc.tensor_core_flops",
                    b.getI64IntegerAttr(2 * batch * rows * cols * depth));
    launch->setAttr("mpc.operand_staging", b.getStringAttr(staging));
  }

  /// Indices of element (r, c) of `operand`, in batch `batchIndex` when
  /// the operand has one (an im2col filter is shared by the batch).
  SmallVector<Value> at(Value operand, Value batchIndex, Value r,
                        Value c) const {
    SmallVector<Value> indices;
    if (cast<MemRefType>(operand.getType()).getRank() == 3)
      indices.push_back(batchIndex);
    indices.push_back(r);
    indices.push_back(c);
    return indices;
  }

  /// This lane's four accumulator elements for the 16x8 tile whose rows
  /// start at `row0` (the lane's group already added) and whose column
  /// pair starts at `colC`.
  struct Accumulators {
    SmallVector<Value> rows, cols;
  };
  Accumulators accumulators(KernelBuilder &k, Value row0, Value colC) const {
    Value row1 = k.add(row0, 8);
    return {{row0, row0, row1, row1},
            {colC, k.add(colC, 1), colC, k.add(colC, 1)}};
  }

  SmallVector<Value> loadAccumulators(KernelBuilder &k, Value batchIndex,
                                      const Accumulators &acc) const {
    SmallVector<Value> init;
    for (int i = 0; i < 4; ++i)
      init.push_back(k.guardedLoad(
          m.c, at(m.c, batchIndex, acc.rows[i], acc.cols[i]), cType.getShape(),
          k.both(k.lessThan(acc.rows[i], rows),
                 k.lessThan(acc.cols[i], cols))));
    return init;
  }

  void storeAccumulators(KernelBuilder &k, Value batchIndex,
                         const Accumulators &acc, ValueRange values) const {
    OpBuilder &b = k.b;
    for (int i = 0; i < 4; ++i) {
      auto guard = scf::IfOp::create(
          b, k.loc,
          k.both(k.lessThan(acc.rows[i], rows), k.lessThan(acc.cols[i], cols)),
          false);
      OpBuilder::InsertionGuard insertion(b);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      memref::StoreOp::create(b, k.loc, values[i], m.c,
                              at(m.c, batchIndex, acc.rows[i], acc.cols[i]));
    }
  }
};

struct GPUMatmulToMMA : mpc::impl::MPCGPUMatmulToMMABase<GPUMatmulToMMA> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureBufferSemantics() || !linalg::isaContractionOpInterface(op))
        return;
      auto inputType = dyn_cast<ShapedType>(op.getDpsInputOperand(0)->get().getType());
      if (!inputType || !(inputType.getElementType().isBF16() ||
                          inputType.getElementType().isF16()))
        return;
      candidates.push_back(op);
    });
    for (linalg::LinalgOp op : candidates) {
      Operands operands;
      if (std::optional<std::string> why = unsupported(op, operands)) {
        op.emitWarning() << "low-precision contraction not mapped to tensor "
                            "cores (runs as SIMT loops): "
                         << *why;
        continue;
      }
      auto aType = cast<MemRefType>(operands.a.getType());
      auto bType = cast<MemRefType>(operands.b.getType());
      if (pairsAligned(aType) && pairsAligned(bType)) {
        rewriteStaged(op, operands);
        continue;
      }
      rewrite(op, operands);
    }
  }

  /// The staged kernel (see the file comment).
  void rewriteStaged(linalg::LinalgOp op, const Operands &m) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    KernelBuilder k{b, loc};
    Contraction mat(b, m);
    int64_t rows = mat.rows, cols = mat.cols, depth = mat.depth;
    Type element = mat.element;
    auto workgroup = gpu::AddressSpaceAttr::get(
        b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
    // Two buffers of each slice: one being filled while the other is read.
    auto sharedA = MemRefType::get({2, kBlockM, kTileK}, element,
                                   MemRefLayoutAttrInterface{}, workgroup);
    auto sharedB = MemRefType::get({2, kTileK, kBlockN}, element,
                                   MemRefLayoutAttrInterface{}, workgroup);

    auto launch = gpu::LaunchOp::create(
        b, loc, k.index(llvm::divideCeil(cols, kBlockN)),
        k.index(llvm::divideCeil(rows, kBlockM)), k.index(mat.batch),
        k.index(kBlockThreads), k.index(1), k.index(1),
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/ValueRange{}, TypeRange{sharedA, sharedB});
    mat.annotate(b, launch, "shared");
    Block &body = launch.getBody().front();
    b.setInsertionPointToStart(&body);
    Value tileA = launch.getWorkgroupAttributions()[0];
    Value tileB = launch.getWorkgroupAttributions()[1];
    Value thread = launch.getThreadIds().x;
    Value warp = arith::DivUIOp::create(b, loc, thread, k.index(kWarp));
    Value lane = arith::RemUIOp::create(b, loc, thread, k.index(kWarp));
    Value group = arith::DivUIOp::create(b, loc, lane, k.index(4));
    Value pair = arith::RemUIOp::create(b, loc, lane, k.index(4));
    // This warp's 16x8 tile within the block's 32x32.
    Value warpRow = k.mul(arith::DivUIOp::create(b, loc, warp,
                                                 k.index(kWarpCols)),
                          kTileM);
    Value warpCol = k.mul(arith::RemUIOp::create(b, loc, warp,
                                                 k.index(kWarpCols)),
                          kTileN);
    Value blockRow = k.mul(launch.getBlockIds().y, kBlockM);
    Value blockCol = k.mul(launch.getBlockIds().x, kBlockN);
    Value batchIndex = launch.getBlockIds().z;

    // Which pair of elements of each slice this thread copies: A's 32x16
    // slice is 32 rows of 8 pairs, B's 16x32 is 16 rows of 16 pairs.
    Value copyRowA = arith::DivUIOp::create(b, loc, thread, k.index(8));
    Value copyColA =
        k.mul(arith::RemUIOp::create(b, loc, thread, k.index(8)), 2);
    Value copyRowB = arith::DivUIOp::create(b, loc, thread, k.index(16));
    Value copyColB =
        k.mul(arith::RemUIOp::create(b, loc, thread, k.index(16)), 2);
    auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
    // Copies one pair of `source` at (r, c) (c even) into `tile`: as many
    // of its two elements as lie inside the matrix, zero-filling the rest.
    // A pair wholly outside reads nothing, from an in-bounds address.
    auto copyPair = [&](Value source, int64_t rBound, int64_t cBound, Value r,
                        Value c, Value tile, Value buffer, Value tileRow,
                        Value tileCol) {
      Value rowInside = k.lessThan(r, rBound);
      Value remaining = arith::SubIOp::create(
          b, loc, k.index(cBound),
          arith::MinUIOp::create(b, loc, c, k.index(cBound)));
      Value count = arith::SelectOp::create(
          b, loc, rowInside,
          arith::MinUIOp::create(b, loc, remaining, k.index(2)), k.index(0));
      Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                        count, k.index(0));
      Value srcRow = arith::SelectOp::create(b, loc, any, r, k.index(0));
      Value srcCol = arith::SelectOp::create(b, loc, any, c, k.index(0));
      return nvgpu::DeviceAsyncCopyOp::create(
          b, loc, tokenType, tile, ValueRange{buffer, tileRow, tileCol},
          source, mat.at(source, batchIndex, srcRow, srcCol),
          b.getIndexAttr(2), count,
          /*bypassL1=*/nullptr);
    };
    // Starts the copies of the K step at `k0` into `buffer`, as one group.
    auto stage = [&](Value k0, Value buffer) {
      Value a = copyPair(m.a, rows, depth, k.add(blockRow, copyRowA),
                         k.add(k0, copyColA), tileA, buffer, copyRowA,
                         copyColA);
      Value bCopy = copyPair(m.b, depth, cols, k.add(k0, copyRowB),
                             k.add(blockCol, copyColB), tileB, buffer,
                             copyRowB, copyColB);
      return nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType,
                                                     ValueRange{a, bCopy})
          .getResult();
    };

    // The accumulators start from C.
    Contraction::Accumulators tile = mat.accumulators(
        k, k.add(k.add(blockRow, warpRow), group),
        k.add(k.add(blockCol, warpCol), k.mul(pair, 2)));
    SmallVector<Value> init = mat.loadAccumulators(k, batchIndex, tile);

    int64_t steps = llvm::divideCeil(depth, kTileK);
    stage(k.index(0), k.index(0));
    auto loop = scf::ForOp::create(b, loc, k.index(0), k.index(steps),
                                   k.index(1), init);
    b.setInsertionPointToStart(loop.getBody());
    Value step = loop.getInductionVar();
    Value current = arith::RemUIOp::create(b, loc, step, k.index(2));
    // The next step's copies go to the other buffer (nothing past the
    // last step: an empty group keeps the count of groups in flight).
    Value nextStep = k.add(step, 1);
    auto prefetch = scf::IfOp::create(b, loc, TypeRange{tokenType},
                                      k.lessThan(nextStep, steps),
                                      /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&prefetch.getThenRegion().front());
      Value staged = stage(k.mul(nextStep, kTileK),
                           arith::SubIOp::create(b, loc, k.index(1), current));
      scf::YieldOp::create(b, loc, staged);
      b.setInsertionPointToStart(&prefetch.getElseRegion().front());
      Value empty = nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType,
                                                            ValueRange{});
      scf::YieldOp::create(b, loc, empty);
    }
    // This step's group is complete when at most the next one (just
    // committed) is still in flight; the barrier makes every thread's
    // copies visible to the others.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, prefetch.getResult(0),
                                     b.getI32IntegerAttr(1));
    gpu::BarrierOp::create(b, loc);

    Value fragRow0 = k.add(warpRow, group), fragRow1 = k.add(fragRow0, 8);
    Value kPair = k.mul(pair, 2);
    Value fragCol = k.add(warpCol, group);
    auto sharedLoad = [&](Value tile, Value r, Value c) {
      return memref::LoadOp::create(b, loc, tile, ValueRange{current, r, c})
          .getResult();
    };
    auto fragA = [&](Value r, int64_t kOffset) {
      Value c = k.add(kPair, kOffset);
      return k.pack(sharedLoad(tileA, r, c), sharedLoad(tileA, r, k.add(c, 1)),
                    mat.fragment);
    };
    auto fragB = [&](int64_t kOffset) {
      Value r = k.add(kPair, kOffset);
      return k.pack(sharedLoad(tileB, r, fragCol),
                    sharedLoad(tileB, k.add(r, 1), fragCol), mat.fragment);
    };
    SmallVector<Value> a = {fragA(fragRow0, 0), fragA(fragRow1, 0),
                            fragA(fragRow0, 8), fragA(fragRow1, 8)};
    SmallVector<Value> bFrag = {fragB(0), fragB(8)};
    SmallVector<Value> acc(loop.getRegionIterArgs());
    SmallVector<Value> next = emitMMA(b, loc, a, bFrag, acc, mat.bf16);
    // Every warp is done with this buffer before the next step's prefetch
    // overwrites it.
    gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, next);

    b.setInsertionPointAfter(loop);
    mat.storeAccumulators(k, batchIndex, tile, loop.getResults());
    gpu::TerminatorOp::create(b, loc);
    op->erase();
  }

  /// mma.sync m16n8k16 (row A, column B, f32 accumulate): the four new
  /// accumulator values.
  static SmallVector<Value> emitMMA(OpBuilder &b, Location loc,
                                    ArrayRef<Value> a, ArrayRef<Value> bFrag,
                                    ArrayRef<Value> acc, bool bf16) {
    Type f32 = b.getF32Type();
    auto resultType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), {f32, f32, f32, f32});
    auto mma = NVVM::MmaOp::create(
        b, loc, resultType, a, bFrag, acc,
        /*shape=*/std::array<int64_t, 3>{kTileM, kTileN, kTileK},
        /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
        /*multiplicandPtxTypes=*/
        std::array<NVVM::MMATypes, 2>{
            bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16,
            bf16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16},
        /*multiplicandLayouts=*/
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                       NVVM::MMALayout::col});
    SmallVector<Value> next;
    for (int64_t i = 0; i < 4; ++i)
      next.push_back(LLVM::ExtractValueOp::create(b, loc, mma.getResult(), i));
    return next;
  }

  void rewrite(linalg::LinalgOp op, const Operands &m) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    KernelBuilder k{b, loc};
    Contraction mat(b, m);
    int64_t rows = mat.rows, cols = mat.cols, depth = mat.depth;

    auto launch = gpu::LaunchOp::create(
        b, loc, k.index(llvm::divideCeil(cols, kTileN)),
        k.index(llvm::divideCeil(rows, kTileM)), k.index(mat.batch),
        k.index(kWarp), k.index(1), k.index(1));
    mat.annotate(b, launch, "global");
    b.setInsertionPointToStart(&launch.getBody().front());
    Value lane = launch.getThreadIds().x;
    Value group = arith::DivUIOp::create(b, loc, lane, k.index(4));
    Value pair = arith::RemUIOp::create(b, loc, lane, k.index(4));
    Value row0 = k.add(k.mul(launch.getBlockIds().y, kTileM), group);
    Value row1 = k.add(row0, 8);
    Value colB = k.add(k.mul(launch.getBlockIds().x, kTileN), group);
    Value batchIndex = launch.getBlockIds().z;
    auto inside = [&](Value r, int64_t rBound, Value c, int64_t cBound) {
      return k.both(k.lessThan(r, rBound), k.lessThan(c, cBound));
    };

    // The accumulators start from C.
    Contraction::Accumulators tile = mat.accumulators(
        k, row0,
        k.add(k.mul(launch.getBlockIds().x, kTileN), k.mul(pair, 2)));
    SmallVector<Value> init = mat.loadAccumulators(k, batchIndex, tile);

    auto loop = scf::ForOp::create(b, loc, k.index(0),
                                   k.index(llvm::alignTo(depth, kTileK)),
                                   k.index(kTileK), init);
    b.setInsertionPointToStart(loop.getBody());
    Value k0 = loop.getInductionVar();
    Value kPair = k.add(k0, k.mul(pair, 2));
    auto loadA = [&](Value r, Value c) {
      return k.guardedLoad(m.a, mat.at(m.a, batchIndex, r, c),
                           mat.aType.getShape(), inside(r, rows, c, depth));
    };
    auto loadB = [&](Value r, Value c) {
      return k.guardedLoad(m.b, mat.at(m.b, batchIndex, r, c),
                           mat.bType.getShape(), inside(r, depth, c, cols));
    };
    auto fragA = [&](Value r, int64_t kOffset) {
      Value c = k.add(kPair, kOffset);
      return k.pack(loadA(r, c), loadA(r, k.add(c, 1)), mat.fragment);
    };
    auto fragB = [&](int64_t kOffset) {
      Value r = k.add(kPair, kOffset);
      return k.pack(loadB(r, colB), loadB(k.add(r, 1), colB), mat.fragment);
    };
    SmallVector<Value> a = {fragA(row0, 0), fragA(row1, 0), fragA(row0, 8),
                            fragA(row1, 8)};
    SmallVector<Value> bFrag = {fragB(0), fragB(8)};
    SmallVector<Value> acc(loop.getRegionIterArgs());
    SmallVector<Value> next = emitMMA(b, loc, a, bFrag, acc, mat.bf16);
    scf::YieldOp::create(b, loc, next);

    b.setInsertionPointAfter(loop);
    mat.storeAccumulators(k, batchIndex, tile, loop.getResults());
    gpu::TerminatorOp::create(b, loc);
    op->erase();
  }
};

} // namespace

//===- CPUTileAndVectorize.cpp - loops shaped for the CPU -----------------===//
//
// Contractions get a parallel loop over blocks of the output (one task per
// block), register tiles inside it and a K loop innermost, and each register
// tile becomes one vector.contract whose accumulator lives in registers
// across the K loop. Elementwise ops are collapsed to their longest
// contiguous loop and vectorized along it inside their parallel loop, and
// so are sums along a contiguous reduced loop, with partial sums per lane.
// Other reductions get the parallel loop only.
//
//===----------------------------------------------------------------------===//

#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"

#include <numeric>

namespace mlir {
namespace mpc {
#define GEN_PASS_DEF_MPCCPUTILEANDVECTORIZE
#include "mpc/Codegen/CPU/Passes.h.inc"
} // namespace mpc
} // namespace mlir

using namespace mlir;

/// The largest multiple of `multiple` that divides `size` and is at most
/// `preferred`; `size` itself when it is smaller than `preferred`. Tiles
/// that divide their dimension are never partial, so every register tile
/// has a static shape and its vectors need no masks.
static int64_t pickTileSize(int64_t size, int64_t preferred,
                            int64_t multiple = 1) {
  if (size <= preferred)
    return size;
  for (int64_t tile = preferred - preferred % multiple; tile >= multiple;
       tile -= multiple)
    if (size % tile == 0)
      return tile;
  return multiple;
}

/// How an indexing expression depends on the loop dim being tiled.
struct TiledDimUse {
  /// False when tiling the dim would compute wrong slices (see below).
  bool tileable = true;
  /// The expression moves with the tile's offset (the dim, a positive
  /// multiple of it, its floordiv/ceildiv), rather than staying the same
  /// (`dim mod c`) or not involving the dim at all.
  bool shifts = false;
  /// Tile sizes must be multiples of this (the divisors and moduli applied
  /// to the dim).
  int64_t multiple = 1;
};

/// Linalg's tiling slices each operand at `map(offsets)` with size
/// `map(sizes - 1) + 1`, and the tiled op applies the unchanged map to
/// tile-local indices. That is right for expressions linear in the tiled
/// dim with non-negative coefficients. For `d mod c`, `d floordiv c` and
/// `d ceildiv c` it is right only when the tile is a whole number of
/// periods c: then the local `d mod c` equals the global one (and its
/// largest value is reached at the tile's last index), and the local
/// `d floordiv c` is the global one minus the tile's offset / c.
/// Anything else over the dim (a mod of a sum involving it, a negative
/// coefficient) is not tileable. im2col's gather map is the case that
/// needs this: tiling its K dim by a tile that is not a multiple of the
/// kernel window made batch-1 convolutions read the wrong pixels.
static TiledDimUse analyzeTiledDimUse(AffineExpr expr, unsigned dim) {
  TiledDimUse use;
  if (auto d = dyn_cast<AffineDimExpr>(expr)) {
    use.shifts = d.getPosition() == dim;
    return use;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return use; // a constant or a symbol
  TiledDimUse lhs = analyzeTiledDimUse(binary.getLHS(), dim);
  TiledDimUse rhs = analyzeTiledDimUse(binary.getRHS(), dim);
  use.tileable = lhs.tileable && rhs.tileable;
  use.multiple = std::lcm(lhs.multiple, rhs.multiple);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    use.shifts = lhs.shifts || rhs.shifts;
    return use;
  case AffineExprKind::Mul: {
    // Affine: one side is a constant.
    auto constant = dyn_cast<AffineConstantExpr>(binary.getRHS());
    if (!constant)
      constant = dyn_cast<AffineConstantExpr>(binary.getLHS());
    use.shifts = lhs.shifts || rhs.shifts;
    if (use.shifts && (!constant || constant.getValue() <= 0))
      use.tileable = false;
    return use;
  }
  case AffineExprKind::Mod:
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv: {
    if (!lhs.shifts)
      return use; // what it divides does not move with the tile
    auto divisor = dyn_cast<AffineConstantExpr>(binary.getRHS());
    auto lhsDim = dyn_cast<AffineDimExpr>(binary.getLHS());
    if (!divisor || divisor.getValue() <= 0 || !lhsDim) {
      use.tileable = false;
      return use;
    }
    use.multiple = std::lcm(use.multiple, divisor.getValue());
    use.shifts = expr.getKind() != AffineExprKind::Mod;
    return use;
  }
  default:
    use.tileable = false;
    return use;
  }
}

/// The multiple every tile size of loop `dim` of `op` must be for tiling
/// to be correct, or std::nullopt if no tiling of it is (see
/// analyzeTiledDimUse). Non-linear uses also need whole tiles: the caller
/// must pick a size that divides the loop's range.
static std::optional<int64_t> requiredTileMultiple(linalg::LinalgOp op,
                                                   unsigned dim,
                                                   bool &nonLinear) {
  int64_t multiple = 1;
  nonLinear = false;
  for (AffineMap map : op.getIndexingMapsArray()) {
    int64_t mapMultiple = 1;
    for (AffineExpr result : map.getResults()) {
      TiledDimUse use = analyzeTiledDimUse(result, dim);
      if (!use.tileable)
        return std::nullopt;
      mapMultiple = std::lcm(mapMultiple, use.multiple);
    }
    multiple = std::lcm(multiple, mapMultiple);
    // A non-linear map must map the origin to the origin: the slice starts
    // at map(offset) and the tiled op adds map(local index) to it.
    if (mapMultiple > 1) {
      nonLinear = true;
      SmallVector<int64_t> zeros(map.getNumDims(), 0);
      SmallVector<int64_t> origin = map.compose(zeros);
      if (llvm::any_of(origin, [](int64_t v) { return v != 0; }))
        return std::nullopt;
    }
  }
  return multiple;
}

static SmallVector<OpFoldResult> indexAttrs(OpBuilder &b,
                                            ArrayRef<int64_t> values) {
  return llvm::map_to_vector(values, [&](int64_t v) -> OpFoldResult {
    return b.getIndexAttr(v);
  });
}

/// Whether tiling `op` along any dim gives slices that hold every element
/// the tiled op reads. Each slice's size is its map evaluated at the last
/// index of every loop, which is the largest index only if each `d mod c`
/// is evaluated at the end of a whole period: every dim used non-linearly
/// must be tileable at all (see analyzeTiledDimUse) and span whole periods.
static bool slicesAreExact(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (unsigned dim = 0; dim < op.getNumLoops(); ++dim) {
    bool nonLinear;
    std::optional<int64_t> multiple = requiredTileMultiple(op, dim, nonLinear);
    if (!multiple ||
        (nonLinear && (ShapedType::isDynamic(ranges[dim]) ||
                       ranges[dim] % *multiple != 0)))
      return false;
  }
  return true;
}

/// Tiles `op` with `tileSizes` (0 = untiled) into loops of `loopType` in
/// the order `interchange`, replaces it and returns the tiled op.
static FailureOr<TilingInterface>
tileAndReplace(RewriterBase &rewriter, TilingInterface op,
               ArrayRef<int64_t> tileSizes,
               scf::SCFTilingOptions::LoopType loopType,
               ArrayRef<int64_t> interchange = {}) {
  scf::SCFTilingOptions options;
  options.setLoopType(loopType);
  options.setTileSizes(indexAttrs(rewriter, tileSizes));
  if (!interchange.empty())
    options.setInterchange(interchange);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled =
      scf::tileUsingSCF(rewriter, op, options);
  if (failed(tiled) || tiled->tiledOps.empty())
    return failure();
  rewriter.replaceOp(op, tiled->replacements);
  return cast<TilingInterface>(tiled->tiledOps.back());
}

/// The fill that `init` is, seen through reshapes, if nothing else uses it:
/// the reshapes move onto the fill's destination, so the fill's result is
/// `init` itself.
static linalg::FillOp fillOfInit(RewriterBase &rewriter, Value init) {
  Operation *reshape = init.getDefiningOp();
  if (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(reshape)) {
    auto fill = reshape->getOperand(0).getDefiningOp<linalg::FillOp>();
    if (!fill || !fill->hasOneUse() || !reshape->hasOneUse())
      return {};
    rewriter.setInsertionPoint(reshape);
    IRMapping mapping;
    mapping.map(reshape->getOperand(0), fill.getOutputs()[0]);
    Operation *destination = rewriter.clone(*reshape, mapping);
    auto reshaped = linalg::FillOp::create(rewriter, fill.getLoc(),
                                           fill.getInputs()[0],
                                           destination->getResult(0));
    // The old fill stays, unused, for the pass to erase: it may be on the
    // pass's list of ops still to visit.
    rewriter.replaceOp(reshape, reshaped.getResult(0));
    return reshaped;
  }
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && fill->hasOneUse() ? fill : linalg::FillOp();
}

/// Tiles contraction `op` into parallel blocks of `tileSizes` (no K tiling),
/// replaces it and returns the tiled op. A zero-fill of its accumulator
/// moves into the blocks: cleared per block, the accumulator is written
/// just before the block's register tiles read it, while it is in cache,
/// and by the thread that computes it; filled as a whole beforehand, it was
/// one more pass over cold memory (a ResNet's weight-gradient partial sums,
/// on one thread, with the other idle). The blocks cover the output
/// exactly (the tile sizes divide it), so every element is still filled.
static FailureOr<TilingInterface>
tileIntoBlocksFusingFill(RewriterBase &rewriter, linalg::LinalgOp op,
                         ArrayRef<int64_t> tileSizes) {
  linalg::FillOp fill;
  if (op.getNumDpsInits() == 1)
    fill = fillOfInit(rewriter, op.getDpsInits()[0]);
  FailureOr<TilingInterface> tiled =
      tileAndReplace(rewriter, cast<TilingInterface>(op.getOperation()),
                     tileSizes, scf::SCFTilingOptions::LoopType::ForallOp);
  if (failed(tiled) || !fill)
    return tiled;
  auto forall = (*tiled)->getParentOfType<scf::ForallOp>();
  auto tiledOp = cast<linalg::LinalgOp>(tiled->getOperation());
  OpOperand &blockInit = tiledOp.getDpsInitsMutable()[0];
  if (!forall || forall.getOutputs().size() != 1 ||
      forall.getOutputs()[0] != fill.getResult(0))
    return tiled;
  rewriter.modifyOpInPlace(forall, [&] {
    forall.getOutputsMutable()[0].set(fill.getOutputs()[0]);
  });
  rewriter.setInsertionPoint(tiledOp);
  Value blockFill = linalg::FillOp::create(rewriter, fill.getLoc(),
                                           fill.getInputs()[0],
                                           blockInit.get())
                        .getResult(0);
  rewriter.modifyOpInPlace(tiledOp, [&] { blockInit.set(blockFill); });
  return tiled;
}

/// Rewrites contraction `op` to work on a packed B: M is split into
/// (M/mr, mr) and N into (N/nr, nr); B is copied once into
/// [.., N/nr, K, nr], so the K x nr panel a register tile reads is
/// contiguous; A and C are only reshaped. Without packing, rows of B are a
/// row pitch apart, and at pitches like 4 KiB every row falls into the same
/// cache set: a 1024 x 1024 matmul ran at a third of the speed of a
/// 512 x 512 one. (Packing A as well measured slower: its mr rows are read
/// one element per K step either way.) The packing copy goes to `copies`.
/// Returns the packed op, or null if `op` does not have the simple form
/// (two inputs, projected-permutation maps, M and N divisible).
static linalg::GenericOp packContraction(RewriterBase &rewriter,
                                         linalg::LinalgOp op, unsigned m,
                                         unsigned n, int64_t mr, int64_t nr,
                                         SmallVectorImpl<Operation *> &copies) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1)
    return nullptr;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ranges[m] % mr != 0 || ranges[n] % nr != 0)
    return nullptr;
  unsigned rank = op.getNumLoops();
  // New iteration dims: the old ones (m and n now count blocks), then the
  // position inside a block of M and of N.
  unsigned m0 = rank, n0 = rank + 1;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  iterators.append(2, utils::IteratorType::parallel);
  MLIRContext *ctx = op->getContext();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);

  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  SmallVector<ReassociationIndices> initReassociation;
  RankedTensorType initExpandedType;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    auto type = dyn_cast<RankedTensorType>(operand.get().getType());
    if (!type || !map.isProjectedPermutation(/*allowZeroInResults=*/false))
      return nullptr;
    SmallVector<ReassociationIndices> reassociation;
    SmallVector<int64_t> shape;
    SmallVector<unsigned> dims;
    for (auto [i, result] : llvm::enumerate(map.getResults())) {
      unsigned dim = cast<AffineDimExpr>(result).getPosition();
      ReassociationIndices group = {(int64_t)shape.size()};
      if (dim == m || dim == n) {
        int64_t block = dim == m ? mr : nr;
        group.push_back(shape.size() + 1);
        shape.append({type.getDimSize(i) / block, block});
        dims.append({dim, dim == m ? m0 : n0});
      } else {
        shape.push_back(type.getDimSize(i));
        dims.push_back(dim);
      }
      reassociation.push_back(group);
    }
    Value value = operand.get();
    auto expandedType = RankedTensorType::get(shape, type.getElementType());
    if (shape.size() != (size_t)type.getRank())
      value = tensor::ExpandShapeOp::create(rewriter, loc, expandedType, value,
                                            reassociation);
    bool isInit = op.isDpsInit(&operand);
    if (isInit) {
      initReassociation = reassociation;
      initExpandedType = expandedType;
    } else if (llvm::is_contained(dims, n0)) {
      // B: the other dims, the block index, the reduction dims, the
      // position in the block -- one register tile's panel is contiguous.
      SmallVector<int64_t> order;
      auto isReduction = [&](unsigned dim) {
        return dim < rank && iterators[dim] == utils::IteratorType::reduction;
      };
      for (auto [pos, dim] : llvm::enumerate(dims))
        if (dim != m && dim != n && dim != m0 && dim != n0 && !isReduction(dim))
          order.push_back(pos);
      for (auto [pos, dim] : llvm::enumerate(dims))
        if (dim == m || dim == n)
          order.push_back(pos);
      for (auto [pos, dim] : llvm::enumerate(dims))
        if (isReduction(dim))
          order.push_back(pos);
      for (auto [pos, dim] : llvm::enumerate(dims))
        if (dim == m0 || dim == n0)
          order.push_back(pos);
      if (!llvm::equal(order, llvm::seq<int64_t>(0, order.size()))) {
        SmallVector<int64_t> packedShape;
        SmallVector<unsigned> packedDims;
        for (int64_t pos : order) {
          packedShape.push_back(shape[pos]);
          packedDims.push_back(dims[pos]);
        }
        Value empty = tensor::EmptyOp::create(rewriter, loc, packedShape,
                                              type.getElementType());
        auto copy = linalg::TransposeOp::create(rewriter, loc, value, empty,
                                                order);
        copies.push_back(copy);
        value = copy->getResult(0);
        dims = packedDims;
      }
    }
    operands.push_back(value);
    maps.push_back(AffineMap::get(
        rank + 2, 0,
        llvm::map_to_vector(dims,
                            [&](unsigned d) -> AffineExpr {
                              return getAffineDimExpr(d, ctx);
                            }),
        ctx));
  }
  auto packed = linalg::GenericOp::create(
      rewriter, loc, TypeRange{initExpandedType},
      ValueRange{operands[0], operands[1]}, ValueRange{operands[2]}, maps,
      iterators);
  rewriter.cloneRegionBefore(op->getRegion(0), packed.getRegion(),
                             packed.getRegion().end());
  Value result = tensor::CollapseShapeOp::create(
      rewriter, loc, op->getResult(0).getType(), packed.getResult(0),
      initReassociation);
  rewriter.replaceOp(op, result);
  return packed;
}

/// Whether a register tile's row of B (`nr` consecutive elements along
/// `n`) is strided in memory: B's innermost dim is not `n`. A weight
/// gradient computed transposed reads the output gradient [F, pixels] as
/// [pixels, F], a gather of F elements a plane apart per K step.
static bool readsBAcrossRows(linalg::LinalgOp op, unsigned n) {
  AffineExpr nDim = getAffineDimExpr(n, op.getContext());
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (std::optional<unsigned> position = map.getResultPosition(nDim))
      return *position + 1 != map.getNumResults();
  }
  return false;
}

/// Contractions with fewer blocks than this get their K split (enough for
/// the cores of the machines we target, and few enough partial sums).
constexpr int64_t kMinParallelBlocks = 16;

/// The number of chunks to split a reduction of `k` into: the smallest
/// divisor of `k` that is at least `wanted` and leaves chunks of 64 or
/// more, or 1 if there is none (up to 4 `wanted`).
static int64_t splitRatio(int64_t k, int64_t wanted) {
  for (int64_t ratio = std::max<int64_t>(wanted, 2); ratio <= 4 * wanted;
       ++ratio)
    if (k % ratio == 0 && k / ratio >= 64)
      return ratio;
  return 1;
}

/// Rewrites contraction `op` (C = A B, N the loop dim of B and C, M that
/// of A and C) as C^T = B^T A^T: the operands swap places, so `n`
/// becomes an M dim, and the output is computed with `m` and `n` swapped
/// in its layout (into a transposed init, transposed back after), so
/// that `m` is innermost and becomes the N dim. Returns the new
/// contraction, or null when `op` does not have that form.
static linalg::LinalgOp transposeContraction(RewriterBase &rewriter,
                                             linalg::LinalgOp op, unsigned m,
                                             unsigned n) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1 ||
      !isa<linalg::GenericOp, linalg::MatmulOp>(op))
    return nullptr;
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap map = op.getMatchingIndexingMap(init);
  if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
    return nullptr;
  std::optional<unsigned> mPos = map.getResultPosition(
      getAffineDimExpr(m, op.getContext()));
  std::optional<unsigned> nPos = map.getResultPosition(
      getAffineDimExpr(n, op.getContext()));
  if (!mPos || !nPos)
    return nullptr;
  SmallVector<int64_t> permutation =
      llvm::to_vector(llvm::seq<int64_t>(0, map.getNumResults()));
  std::swap(permutation[*mPos], permutation[*nPos]);
  SmallVector<AffineExpr> results(map.getResults());
  std::swap(results[*mPos], results[*nPos]);
  SmallVector<AffineMap> oldMaps = op.getIndexingMapsArray();
  SmallVector<AffineMap> maps = {
      oldMaps[1], oldMaps[0],
      AffineMap::get(map.getNumDims(), 0, results, op.getContext())};

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto type = cast<RankedTensorType>(init->get().getType());
  auto transposedShape = applyPermutation(type.getShape(), permutation);
  Value empty = tensor::EmptyOp::create(rewriter, loc, transposedShape,
                                        type.getElementType());
  Value transposedInit =
      linalg::TransposeOp::create(rewriter, loc, init->get(), empty,
                                  permutation)
          ->getResult(0);
  Block &body = op->getRegion(0).front();
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{transposedInit.getType()},
      ValueRange{op.getDpsInputs()[1], op.getDpsInputs()[0]},
      ValueRange{transposedInit}, maps, op.getIteratorTypesArray(),
      [&](OpBuilder &b, Location, ValueRange args) {
        IRMapping mapping;
        mapping.map(body.getArgument(0), args[1]);
        mapping.map(body.getArgument(1), args[0]);
        mapping.map(body.getArgument(2), args[2]);
        for (Operation &inner : body)
          b.clone(inner, mapping);
      });
  Value back = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                       type.getElementType());
  Value result = linalg::TransposeOp::create(rewriter, loc,
                                             generic->getResult(0), back,
                                             permutation)
                     ->getResult(0);
  rewriter.replaceOp(op, result);
  return generic;
}

/// The addf that result `i` of `op` yields when it adds into its own
/// accumulator (a sum), else null.
static arith::AddFOp accumulatingAdd(linalg::LinalgOp op, unsigned i) {
  Block *body = op.getBlock();
  auto add =
      body->getTerminator()->getOperand(i).getDefiningOp<arith::AddFOp>();
  BlockArgument accumulator = body->getArgument(op.getNumDpsInputs() + i);
  if (!add || (add.getLhs() != accumulator && add.getRhs() != accumulator))
    return {};
  return add;
}

/// Prepares a reduction that is not a contraction for the CPU: its
/// parallel loops go outermost, so that they can be split across threads
/// (BatchNorm's statistics reduce [N, C, H, W] over N, H and W, whose
/// leading N loop kept all of it on one thread), and its sums may be
/// reassociated, so that LLVM vectorizes them (an in-order float sum is
/// one add per element, each waiting for the previous). The order is
/// still fixed by the code: the same binary sums the same way every run.
/// Returns the op to parallelize.
static linalg::LinalgOp prepareReduction(RewriterBase &rewriter,
                                         linalg::LinalgOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (!llvm::is_contained(iterators, utils::IteratorType::reduction))
    return op;
  SmallVector<unsigned> order;
  for (auto [i, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::parallel)
      order.push_back(i);
  for (auto [i, iterator] : llvm::enumerate(iterators))
    if (iterator == utils::IteratorType::reduction)
      order.push_back(i);
  if (!llvm::equal(order, llvm::seq<unsigned>(0, order.size()))) {
    rewriter.setInsertionPoint(op);
    auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!generic) {
      FailureOr<linalg::GenericOp> generalized =
          linalg::generalizeNamedOp(rewriter, op);
      if (failed(generalized))
        return op;
      generic = *generalized;
    }
    FailureOr<linalg::GenericOp> interchanged =
        linalg::interchangeGenericOp(rewriter, generic, order);
    op = succeeded(interchanged) ? *interchanged : generic;
  }
  for (unsigned i = 0, e = op.getNumDpsInits(); i < e; ++i)
    if (arith::AddFOp add = accumulatingAdd(op, i))
      add.setFastmath(add.getFastmath() | arith::FastMathFlags::reassoc);
  return op;
}

/// Makes the vectorized register tiles inside `root` outer products of
/// the operands' vectors, for the outer-product lowering of
/// vector.contract. A contraction whose body widens its operands (a bf16
/// im2col matmul into f32) vectorizes as reads broadcast to the whole
/// tile with a size-1 K dim innermost, which LLVM scalarizes: the
/// broadcasts become vector.broadcast, the widening moves before them,
/// and the multiply-reduce folds into a vector.contract of the [mr, 1]
/// and [1, nr] vectors, as an f32 contraction's tile is. Then the
/// operands of every vector.contract narrower than its accumulator (bf16
/// or f16 into f32) are widened: the lowering takes one element type; the
/// FMAs are f32 either way.
static void contractRegisterTiles(RewriterBase &rewriter, Operation *root) {
  {
    RewritePatternSet patterns(root->getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateSinkVectorOpsPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    (void)applyPatternsGreedily(root, std::move(patterns));
  }
  SmallVector<vector::ContractionOp> mixed;
  root->walk([&](vector::ContractionOp contract) {
    Type acc = getElementTypeOrSelf(contract.getAccType());
    if (getElementTypeOrSelf(contract.getLhsType()) != acc ||
        getElementTypeOrSelf(contract.getRhsType()) != acc)
      mixed.push_back(contract);
  });
  for (vector::ContractionOp contract : mixed) {
    rewriter.setInsertionPoint(contract);
    Type acc = getElementTypeOrSelf(contract.getAccType());
    auto widen = [&](Value v) -> Value {
      auto type = cast<VectorType>(v.getType());
      if (type.getElementType() == acc)
        return v;
      return arith::ExtFOp::create(rewriter, contract.getLoc(),
                                   type.clone(acc), v);
    };
    Value lhs = widen(contract.getLhs()), rhs = widen(contract.getRhs());
    rewriter.modifyOpInPlace(contract, [&] {
      contract.getLhsMutable().assign(lhs);
      contract.getRhsMutable().assign(rhs);
    });
  }
}

/// Whether every indexing map of `op` is a projected permutation (each
/// operand dim one loop dim): the form upstream's contraction analysis and
/// vectorizer take.
static bool hasPermutationMaps(linalg::LinalgOp op) {
  return llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
    return map.isProjectedPermutation(/*allowZeroInResults=*/false);
  });
}

/// The batch, M, N and K dims of contraction `op`. Upstream's analysis,
/// which only counts operand dims that are single loop dims, for maps of
/// that form; for a contraction whose B reads a sum of loop dims (a
/// convolution over shifted windows reads x[n, c, j + kh W' + kw]), every
/// loop dim is classified by the operands whose maps involve it at all.
static FailureOr<linalg::ContractionDimensions>
contractionDims(linalg::LinalgOp op) {
  if (hasPermutationMaps(op))
    return linalg::inferContractionDims(op);
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0))
           .isProjectedPermutation(/*allowZeroInResults=*/false))
    return failure();
  AffineMap a = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  AffineMap b = op.getMatchingIndexingMap(op.getDpsInputOperand(1));
  AffineMap c = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  linalg::ContractionDimensions dims;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    bool inA = a.isFunctionOfDim(d), inB = b.isFunctionOfDim(d),
         inC = c.isFunctionOfDim(d);
    bool parallel = iterators[d] == utils::IteratorType::parallel;
    if (parallel && inA && inB && inC)
      dims.batch.push_back(d);
    else if (parallel && inA && inC && !inB)
      dims.m.push_back(d);
    else if (parallel && inB && inC && !inA)
      dims.n.push_back(d);
    else if (!parallel && inA && inB && !inC)
      dims.k.push_back(d);
    else
      return failure();
  }
  return dims;
}

/// Rewrites the maps of register tile `tile` so that its loops of one
/// iteration take part in no sum: there they are 0, and the tile's slices
/// start at the right offset already. A shifted-window read
/// x[n, c, j + kh W' + kw] of a tile with one tap becomes x[n, c, j], which
/// the vectorizer takes.
static void dropUnitLoopsFromSums(RewriterBase &rewriter,
                                  linalg::LinalgOp tile) {
  auto generic = dyn_cast<linalg::GenericOp>(tile.getOperation());
  if (!generic)
    return;
  SmallVector<int64_t> ranges = tile.getStaticLoopRanges();
  MLIRContext *context = tile.getContext();
  SmallVector<AffineExpr> replacements;
  for (auto [d, range] : llvm::enumerate(ranges))
    replacements.push_back(range == 1 ? getAffineConstantExpr(0, context)
                                      : getAffineDimExpr(d, context));
  SmallVector<AffineMap> maps = tile.getIndexingMapsArray();
  for (AffineMap &map : maps) {
    SmallVector<AffineExpr> results;
    for (AffineExpr result : map.getResults())
      results.push_back(isa<AffineDimExpr>(result)
                            ? result
                            : result.replaceDims(replacements));
    map = AffineMap::get(map.getNumDims(), 0, results, context);
  }
  rewriter.modifyOpInPlace(generic, [&] {
    generic.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
  });
}

/// Makes an elementwise `generic` that reads a value it also writes in
/// place (the optimizer's `ins(%state) outs(%state)`) read it through its
/// init's block argument instead. With all loops parallel and the same
/// permutation map, that argument holds exactly the input's element. Tiling
/// then reads each tile from the loop's carried tensor, not from the value
/// the loop overwrites, which bufferization could only do by copying the
/// whole state (it refuses: the state must be updated in place).
static void readInputsThroughAliasingInits(linalg::GenericOp generic) {
  if (!generic.hasPureTensorSemantics() ||
      generic.getNumReductionLoops() != 0)
    return;
  Block *body = generic.getBody();
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap inputMap = generic.getMatchingIndexingMap(input);
    if (!inputMap.isPermutation())
      continue;
    for (OpOperand &init : generic.getDpsInitsMutable()) {
      if (init.get() != input->get() ||
          generic.getMatchingIndexingMap(&init) != inputMap)
        continue;
      body->getArgument(input->getOperandNumber())
          .replaceAllUsesWith(body->getArgument(init.getOperandNumber()));
      break;
    }
  }
}

/// Whether `value` is computed by writing into `dest`: it is `dest`, or the
/// result of ops that each update their destination operand in place
/// (destination-style ops, loops carrying it, insertions).
static bool updatesInPlace(Value value, Value dest) {
  while (value != dest) {
    auto result = dyn_cast<OpResult>(value);
    if (!result)
      return false;
    Operation *op = result.getOwner();
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
      value = dps.getTiedOpOperand(result)->get();
    else if (auto loop = dyn_cast<scf::ForOp>(op))
      value = loop.getInitArgs()[result.getResultNumber()];
    else
      return false;
  }
  return true;
}

/// Drops a `materialize_in_destination` whose source already writes its
/// destination: once tiled, the optimizer's loop carries the state it
/// updates, and One-Shot Bufferize refuses to materialize a loop's result
/// into the loop's own init ("cannot avoid RaW conflict") although the
/// loop then bufferizes in place. mpc-state-in-place checks afterwards that
/// the state was indeed updated in place.
static void dropRedundantMaterializations(RewriterBase &rewriter,
                                          Operation *root) {
  root->walk([&](bufferization::MaterializeInDestinationOp materialize) {
    if (materialize.getResult() &&
        updatesInPlace(materialize.getSource(), materialize.getDest()))
      rewriter.replaceOp(materialize, materialize.getSource());
  });
}

namespace {
struct CPUTileAndVectorize
    : mpc::impl::MPCCPUTileAndVectorizeBase<CPUTileAndVectorize> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Why `op` is not tiled as a contraction, or the empty string. With
  /// `reshape`, a contraction of an unfavourable shape may first be
  /// transposed or have its K split.
  std::string tileContraction(RewriterBase &rewriter, linalg::LinalgOp op,
                              bool reshape = true);
  /// Tiles the outer parallel loop of `op` into an scf.forall and returns
  /// the op inside it (`op` itself when it is not split). With `vector` >
  /// 1, a split of the innermost loop keeps whole, equal vectors per task;
  /// a split of loop `registerDim` keeps whole register tiles of
  /// `registerTileSize` per task.
  linalg::LinalgOp parallelizeOuterLoop(RewriterBase &rewriter,
                                        linalg::LinalgOp op, int64_t vector = 1,
                                        unsigned registerDim = ~0u,
                                        int64_t registerTileSize = 1);
  /// Vectorizes elementwise `op` (see the pass description); false, with
  /// `op` untouched, when it does not have that form.
  bool vectorizeElementwise(RewriterBase &rewriter, linalg::LinalgOp op);
  /// Vectorizes sum `op`, prepared by prepareReduction, along its
  /// innermost loop (see the definition); false, with `op` untouched, when
  /// it does not have that form.
  bool vectorizeSum(RewriterBase &rewriter, linalg::LinalgOp op);
};
} // namespace

std::string CPUTileAndVectorize::tileContraction(RewriterBase &rewriter,
                                                 linalg::LinalgOp op,
                                                 bool reshape) {
  FailureOr<linalg::ContractionDimensions> dims = contractionDims(op);
  if (failed(dims))
    return "it is not a contraction";
  if (dims->m.empty() || dims->n.empty() || dims->k.empty())
    return "it has no M, N or K dimension";
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return "its shape is dynamic";
  // Every loop is tiled (by 1 for K and the outer dims), which is only
  // correct for maps linear in each (an im2col gather fused into the
  // contraction would not be).
  for (unsigned dim = 0; dim < op.getNumLoops(); ++dim) {
    bool nonLinear;
    if (!requiredTileMultiple(op, dim, nonLinear) || nonLinear)
      return "an operand's indexing map is not linear in its loops";
  }
  // The innermost M and N dims form the register tile; outer M and N dims
  // (a 3-d activation times a matrix) are stepped one at a time like batch
  // dims, and every K dim one step at a time.
  unsigned m = dims->m.back(), n = dims->n.back();
  SmallVector<unsigned> outer(dims->batch.begin(), dims->batch.end());
  outer.append(dims->m.begin(), dims->m.end() - 1);
  outer.append(dims->n.begin(), dims->n.end() - 1);
  llvm::sort(outer);
  int64_t mr = pickTileSize(ranges[m], registerTile[0]);
  // N tiles of whole vectors where N allows: a 24-wide tile of 144 is a
  // vector and a half, and its halves cost more shuffles than FMAs.
  int64_t vector = std::max<int64_t>(registerTile[1] / 2, 1);
  int64_t nr = pickTileSize(ranges[n], registerTile[1],
                            ranges[n] % vector == 0 ? vector : 1);
  int64_t mt = pickTileSize(ranges[m], parallelTile[0], mr);
  int64_t nt = pickTileSize(ranges[n], parallelTile[1], nr);
  // A small contraction is not worth a fork: one block holds all of it.
  int64_t work = 1;
  for (int64_t range : ranges)
    work *= range;
  bool parallel = work >= minParallelWork * 8;
  if (!parallel) {
    mt = ranges[m];
    nt = ranges[n];
  }

  // A contraction whose N is narrower than a register tile and whose M is
  // wider (a weight gradient [F, C*KH*KW] with C = 1 is [16, 9]) computes
  // its transpose instead: the wide dim becomes the vectorized one.
  bool permutationMaps = hasPermutationMaps(op);
  if (reshape && permutationMaps && ranges[n] < registerTile[1] &&
      ranges[m] > ranges[n]) {
    if (linalg::LinalgOp swapped = transposeContraction(rewriter, op, m, n))
      return tileContraction(rewriter, swapped); // now N > M: no loop
  }
  // Few output blocks and a long K (a weight gradient reduces over every
  // pixel of the batch into a few thousand weights): K is split into
  // chunks that run in parallel into partial sums, added after.
  int64_t blocks = (ranges[m] / mt) * (ranges[n] / nt);
  for (unsigned b : outer)
    blocks *= ranges[b];
  if (reshape && permutationMaps && parallel && blocks < kMinParallelBlocks &&
      dims->k.size() == 1) {
    int64_t k = ranges[dims->k.front()];
    int64_t ratio = splitRatio(k, llvm::divideCeil(kMinParallelBlocks, blocks));
    if (ratio > 1) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::SplitReductionResult> split = linalg::splitReduction(
          rewriter, op, [&](linalg::LinalgOp) {
            return linalg::SplitReductionOptions{ratio, /*index=*/0,
                                                 /*innerParallel=*/false};
          });
      if (succeeded(split)) {
        // The partial sums' combination is an M x N x ratio reduction:
        // small next to the contraction, left to the loop lowering.
        return tileContraction(rewriter, split->splitLinalgOp,
                               /*reshape=*/false);
      }
    }
  }

  // Packed: the block dims count register tiles and the register tile is
  // the (mr, nr) pair of new dims, left whole. Only contractions with
  // enough rows: each element of B is read by M / mr register tiles, and
  // the copy must pay for itself. A convolution's [F, C*KH*KW] x
  // [C*KH*KW, N*OH*OW] reads each column of the image matrix F = 16 to 64
  // times, and packing it (a copy as large as the image matrix, into cold
  // memory) cost the Fashion-MNIST CNN's training step a sixth of its
  // time; a 256 x 256 matmul runs 1.4x faster packed, a 1024 x 1024 one 3x.
  // The contraction's own loops, counted before packing replaces it.
  unsigned rank = op.getNumLoops();
  SmallVector<Operation *> copies;
  // B read across its rows is packed whatever M: one transposing copy
  // instead of a gather per K step of every register tile.
  linalg::GenericOp packed =
      permutationMaps && (ranges[m] >= minPackedRows || readsBAcrossRows(op, n))
          ? packContraction(rewriter, op, m, n, mr, nr, copies)
          : linalg::GenericOp();
  int64_t mStep = mr, nStep = nr;
  if (packed) {
    for (Operation *copy : copies)
      (void)parallelizeOuterLoop(rewriter, cast<linalg::LinalgOp>(copy));
    op = packed;
    mt /= mr;
    nt /= nr;
    mStep = nStep = 1;
  }
  // Let LLVM fuse the multiply-add into an FMA, as BLAS kernels do: one
  // rounding instead of two, and twice the arithmetic per instruction.
  op->walk([](Operation *scalar) {
    if (auto fastMath = dyn_cast<arith::ArithFastMathInterface>(scalar))
      if (isa<arith::MulFOp, arith::AddFOp>(scalar))
        scalar->setAttr(fastMath.getFastMathAttrName(),
                        arith::FastMathFlagsAttr::get(
                            scalar->getContext(),
                            fastMath.getFastMathFlagsAttr().getValue() |
                                arith::FastMathFlags::contract));
  });
  // Read before tiling: tiling replaces `op`, which must not be touched
  // after.
  unsigned loops = op.getNumLoops();
  SmallVector<int64_t> loopRanges = op.getStaticLoopRanges();
  SmallVector<int64_t> blockSizes(loops, 0);
  for (unsigned b : outer)
    blockSizes[b] = parallel ? 1 : loopRanges[b];
  blockSizes[m] = mt;
  blockSizes[n] = nt;
  FailureOr<TilingInterface> block =
      tileIntoBlocksFusingFill(rewriter, op, blockSizes);
  if (failed(block))
    return "tiling it into parallel blocks failed";

  // N outermost: the K x nr panel of B is reused by every row tile of A.
  SmallVector<int64_t> registerSizes(loops, 0);
  registerSizes[m] = mStep;
  registerSizes[n] = nStep;
  for (unsigned b : outer)
    registerSizes[b] = 1;
  for (unsigned k : dims->k)
    registerSizes[k] = 1;
  SmallVector<int64_t> interchange(outer.begin(), outer.end());
  interchange.append({n, m});
  interchange.append(dims->k.begin(), dims->k.end());
  for (unsigned extra = rank; extra < loops; ++extra)
    interchange.push_back(extra);
  FailureOr<TilingInterface> tile =
      tileAndReplace(rewriter, *block, registerSizes,
                     scf::SCFTilingOptions::LoopType::ForOp, interchange);
  if (failed(tile))
    return "tiling it into register tiles failed";

  if (!permutationMaps)
    dropUnitLoopsFromSums(rewriter,
                          cast<linalg::LinalgOp>(tile->getOperation()));
  rewriter.setInsertionPoint(*tile);
  Operation *registerLoop = (*tile)->getParentOp();
  FailureOr<linalg::VectorizationResult> vectorized =
      linalg::vectorize(rewriter, *tile, /*inputVectorSizes=*/{},
                        /*inputScalableVecDims=*/{}, /*vectorizeNDExtract=*/false,
                        /*flatten1DDepthwiseConv=*/false,
                        /*assumeDynamicDimsMatchVecSizes=*/false,
                        /*createNamedContraction=*/true);
  if (failed(vectorized))
    return "its register tile does not vectorize";
  rewriter.replaceOp(*tile, vectorized->replacements);
  // Packed tiles (more dims than a vector.contract is made for) stay in
  // the vectorizer's widen-multiply-reduce form, which LLVM handles well.
  if (!packed)
    contractRegisterTiles(rewriter, registerLoop);
  return "";
}

linalg::LinalgOp CPUTileAndVectorize::parallelizeOuterLoop(
    RewriterBase &rewriter, linalg::LinalgOp op, int64_t vector,
    unsigned registerDim, int64_t registerTileSize) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return op;
  int64_t elements = 1;
  for (int64_t r : ranges)
    elements *= r;
  if (elements < minParallelWork)
    return op;
  // Split the first parallel dimension with more than one iteration into
  // a few blocks per core; OpenMP balances them.
  constexpr int64_t kBlocks = 16;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<int64_t> sizes(ranges.size(), 0);
  for (auto [i, range] : llvm::enumerate(ranges)) {
    if (iterators[i] != utils::IteratorType::parallel)
      break;
    if (range < 2) {
      sizes[i] = 1;
      continue;
    }
    bool nonLinear;
    std::optional<int64_t> multiple = requiredTileMultiple(op, i, nonLinear);
    // A dim that cannot be tiled stays whole; the next parallel dim may be.
    if (!multiple)
      continue;
    if (!slicesAreExact(op))
      return op;
    int64_t size;
    if (vector > 1 && i + 1 == ranges.size()) {
      // The vectorized loop: blocks of whole vectors that divide it, so
      // that every block has the same static length. The largest divisor
      // giving at least kBlocks blocks (one vector each when the count of
      // vectors is prime: OpenMP's static schedule hands each thread a
      // contiguous run of them either way).
      if (range % vector != 0)
        continue;
      int64_t vectors = range / vector;
      int64_t chunk = llvm::divideCeil(vectors, kBlocks);
      while (vectors % chunk != 0)
        --chunk;
      size = chunk * vector;
    } else {
      int64_t step = *multiple;
      if (i == registerDim)
        step = std::lcm(step, registerTileSize);
      size = llvm::divideCeil(range, std::min(range, kBlocks));
      size = llvm::divideCeil(size, step) * step;
      // Non-linear uses and register tiles need whole tiles: the smallest
      // multiple of the step at least `size` that divides the range.
      while ((nonLinear || i == registerDim) && size < range &&
             range % size != 0)
        size += step;
    }
    if (size >= range)
      continue;
    sizes[i] = size;
    FailureOr<TilingInterface> tiled =
        tileAndReplace(rewriter, cast<TilingInterface>(op.getOperation()),
                       sizes, scf::SCFTilingOptions::LoopType::ForallOp);
    if (failed(tiled))
      return op;
    return cast<linalg::LinalgOp>(tiled->getOperation());
  }
  return op;
}

/// Whether `operand` may be merged along its dim `dim` with the dim before
/// it once bufferized: false for a slice that is partial along `dim`
/// (the interior of a padded image is a slice of its buffer; collapsing
/// it would copy it out and back).
static bool mergesWithPreviousDim(Value operand, int64_t dim) {
  auto slice = operand.getDefiningOp<tensor::ExtractSliceOp>();
  if (!slice)
    return true;
  if (slice.getSourceType().getRank() != slice.getResultType().getRank() ||
      !slice.hasUnitStride())
    return false;
  return slice.getSourceType().getDimSize(dim) ==
             slice.getResultType().getDimSize(dim) &&
         mergesWithPreviousDim(slice.getSource(), dim);
}

/// Whether `map` reads the loops `dims` (consecutive) as consecutive
/// results in the same order, or none of them. Upstream's
/// isDimSequencePreserved does not take the constant results of a
/// broadcast kept unit dim, (0, d1, 0, 0).
static bool readsContiguously(AffineMap map, ArrayRef<int64_t> dims) {
  SmallVector<std::optional<unsigned>> positions =
      llvm::map_to_vector(dims, [&](int64_t dim) {
        return map.getResultPosition(getAffineDimExpr(dim, map.getContext()));
      });
  if (llvm::none_of(positions, [](auto p) { return p.has_value(); }))
    return true;
  for (auto [i, position] : llvm::enumerate(positions))
    if (!position || *position != *positions.front() + i)
      return false;
  return true;
}

/// The groups of consecutive loops of `op`, of one iterator type, that
/// every operand indexes contiguously (or not at all), outermost first:
/// the loops that can be collapsed into one. A broadcast along the channels
/// of [N, C, H, W] (a map to (d1)) groups {N}, {C}, {H, W}.
static SmallVector<ReassociationIndices>
contiguousLoopGroups(linalg::LinalgOp op) {
  SmallVector<ReassociationIndices> groups = {{0}};
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (int64_t dim = 1, e = op.getNumLoops(); dim < e; ++dim) {
    ReassociationIndices extended = groups.back();
    extended.push_back(dim);
    // A parallel loop and a reduction loop are not one loop.
    bool merges = iterators[dim] == iterators[dim - 1];
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      merges &= readsContiguously(map, extended);
      std::optional<unsigned> position =
          map.getResultPosition(getAffineDimExpr(dim, op.getContext()));
      if (merges && position && *position > 0)
        merges = mergesWithPreviousDim(operand.get(), *position);
    }
    if (merges)
      groups.back() = extended;
    else
      groups.push_back({dim});
  }
  return groups;
}

/// Rewrites the inputs of `op` that broadcast kept unit dims (a
/// [1, C, 1, 1] statistic read as (0, d1, 0, 0)) to tensors without them,
/// read as (d1): the loops can then collapse (upstream's collapsing does
/// not take constant results).
static void dropBroadcastUnitDims(RewriterBase &rewriter,
                                  linalg::GenericOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool changed = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = maps[input->getOperandNumber()];
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type || llvm::none_of(map.getResults(), [](AffineExpr e) {
          return isa<AffineConstantExpr>(e);
        }))
      continue;
    SmallVector<AffineExpr> kept;
    SmallVector<int64_t> shape;
    SmallVector<ReassociationIndices> groups;
    ReassociationIndices pending;
    bool unitOnly = true;
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      pending.push_back(i);
      if (isa<AffineConstantExpr>(expr)) {
        unitOnly &= type.getDimSize(i) == 1;
        continue;
      }
      kept.push_back(expr);
      shape.push_back(type.getDimSize(i));
      groups.push_back(pending);
      pending.clear();
    }
    if (!unitOnly)
      continue;
    if (!groups.empty())
      groups.back().append(pending.begin(), pending.end());
    rewriter.setInsertionPoint(op);
    Value collapsed = tensor::CollapseShapeOp::create(
        rewriter, op.getLoc(), type.clone(shape), input->get(), groups);
    rewriter.modifyOpInPlace(op, [&] { input->set(collapsed); });
    maps[input->getOperandNumber()] =
        AffineMap::get(map.getNumDims(), 0, kept, op.getContext());
    changed = true;
  }
  if (changed)
    rewriter.modifyOpInPlace(op, [&] {
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
}

/// Collapses each run of loops of `op` that every operand reads
/// contiguously into one loop and returns the op that replaces it (`op`
/// itself when nothing collapses). Only generics collapse: a named op is
/// generalized first, and fails when it cannot be.
static FailureOr<linalg::LinalgOp>
collapseContiguousLoops(RewriterBase &rewriter, linalg::LinalgOp op) {
  if (contiguousLoopGroups(op).size() == op.getNumLoops())
    return op;
  rewriter.setInsertionPoint(op);
  if (!isa<linalg::GenericOp>(op.getOperation())) {
    FailureOr<linalg::GenericOp> generic =
        linalg::generalizeNamedOp(rewriter, op);
    if (failed(generic))
      return failure();
    op = *generic;
  }
  dropBroadcastUnitDims(rewriter, cast<linalg::GenericOp>(op.getOperation()));
  SmallVector<ReassociationIndices> groups = contiguousLoopGroups(op);
  bool constantResults =
      llvm::any_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return !map.isProjectedPermutation(/*allowZeroInResults=*/false);
      });
  // Upstream's collapsing crashes on a 0-d operand (a sum of everything).
  bool scalarOperand = llvm::any_of(op->getOperandTypes(), [](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    return shaped && shaped.getRank() == 0;
  });
  if (groups.size() == op.getNumLoops() || constantResults || scalarOperand)
    return op;
  FailureOr<linalg::CollapseResult> collapsed =
      linalg::collapseOpIterationDims(op, groups, rewriter);
  if (failed(collapsed))
    return op;
  rewriter.replaceOp(op, collapsed->results);
  return collapsed->collapsedOp;
}

/// Whether every operand of `op` reads its innermost loop contiguously:
/// as the last dim of the operand, or not at all (a broadcast along it).
static bool innermostLoopIsContiguous(linalg::LinalgOp op) {
  unsigned last = op.getNumLoops() - 1;
  for (AffineMap map : op.getIndexingMapsArray()) {
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return false;
    std::optional<unsigned> position =
        map.getResultPosition(getAffineDimExpr(last, op.getContext()));
    if (position && *position + 1 != map.getNumResults())
      return false;
  }
  return true;
}

/// Whether an operand of `op` has elements narrower than a byte. A vector
/// of i1 is packed bits in LLVM's memory model, a tensor of i1 one byte per
/// element in MLIR's: such operands keep scalar loads.
static bool hasSubByteOperand(linalg::LinalgOp op) {
  return llvm::any_of(op->getOperandTypes(), [](Type type) {
    Type element = getElementTypeOrSelf(type);
    return element.isIntOrFloat() && element.getIntOrFloatBitWidth() < 8;
  });
}

/// Tiles `op` into scf.for loops of `sizes` (0 = whole) and vectorizes the
/// tile; a tile that does not vectorize stays as it is, still correct.
static void vectorizeTile(RewriterBase &rewriter, linalg::LinalgOp op,
                          ArrayRef<int64_t> sizes) {
  Operation *tile = op;
  // Tiling by nothing would hand back `op` itself as its own replacement.
  if (llvm::any_of(sizes, [](int64_t size) { return size != 0; })) {
    FailureOr<TilingInterface> tiled =
        tileAndReplace(rewriter, cast<TilingInterface>(op.getOperation()),
                       sizes, scf::SCFTilingOptions::LoopType::ForOp);
    if (failed(tiled))
      return;
    tile = *tiled;
  }
  rewriter.setInsertionPoint(tile);
  FailureOr<linalg::VectorizationResult> vectorized =
      linalg::vectorize(rewriter, tile);
  if (succeeded(vectorized))
    rewriter.replaceOp(tile, vectorized->replacements);
}

bool CPUTileAndVectorize::vectorizeElementwise(RewriterBase &rewriter,
                                               linalg::LinalgOp op) {
  // A copy, vectorized or collapsed into a plain identity, folds into a
  // slice copy, which bufferizes to memref.copy of a strided slice: the
  // runtime's memrefCopy, one element at a time (the interior of a padded
  // image, on every step). Copies keep their loops.
  Block *body = op.getBlock();
  bool isCopy =
      body->getOperations().size() == 1 &&
      llvm::all_of(body->getTerminator()->getOperands(), [&](Value v) {
        auto argument = dyn_cast<BlockArgument>(v);
        return argument && argument.getOwner() == body;
      });
  if (isCopy || op.getNumLoops() == 0 || op.getNumReductionLoops() != 0 ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic) ||
      hasSubByteOperand(op) || !innermostLoopIsContiguous(op) ||
      failed(linalg::vectorizeOpPrecondition(op)))
    return false;
  // One loop per contiguous run: [N, C, H, W] with a per-channel operand
  // becomes [N, C, H*W], a plain elementwise op one long loop.
  FailureOr<linalg::LinalgOp> collapsed = collapseContiguousLoops(rewriter, op);
  if (failed(collapsed))
    return false;
  op = *collapsed;

  // Vectors of a length that divides the loop, so that every vector has
  // a static length and none needs a mask (AVX2 has no masked 16-bit
  // loads): the full width where it divides, else the largest divisor
  // below it (a 14 x 14 image is 196 = 14 x 14 lanes), unless that is
  // under half the width.
  unsigned last = op.getNumLoops() - 1;
  int64_t length = op.getStaticLoopRanges()[last];
  // 16-bit floats take a power of two lanes: LLVM promotes the selects of
  // other widths (the NaN case of the rounding to bf16) through f32 and
  // back, a libcall per lane on CPUs without bf16 conversions.
  bool halfWidth = llvm::any_of(op->getOperandTypes(), [](Type type) {
    auto element = dyn_cast<FloatType>(getElementTypeOrSelf(type));
    return element && element.getWidth() == 16;
  });
  int64_t lanes = std::min<int64_t>(length, vectorWidth);
  while (length % lanes != 0 || (halfWidth && !llvm::isPowerOf2_64(lanes)))
    --lanes;
  if (lanes < length && 2 * lanes < vectorWidth)
    lanes = 1;

  linalg::LinalgOp block = parallelizeOuterLoop(rewriter, op, lanes);
  if (lanes == 1)
    return true;
  SmallVector<int64_t> sizes(block.getNumLoops(), 1);
  sizes[last] = lanes;
  vectorizeTile(rewriter, block, sizes);
  return true;
}

/// Whether each result of `op` is a sum: its yielded value an addf of
/// its accumulator, which nothing else reads.
static bool isSum(linalg::LinalgOp op) {
  for (unsigned i = 0, e = op.getNumDpsInits(); i < e; ++i)
    if (!accumulatingAdd(op, i) ||
        !op.getBlock()->getArgument(op.getNumDpsInputs() + i).hasOneUse())
      return false;
  return true;
}

/// The lanes of a sum vectorized along a contiguous loop of `length`: the
/// whole loop when it fits in `vectors` vectors of `width` (its partial
/// sums stay in registers), else the largest multiple of `width` up to
/// that many vectors that divides it, else the largest divisor up to it.
static int64_t sumLanes(int64_t length, int64_t width, int64_t vectors = 4) {
  if (length <= vectors * width)
    return length;
  for (int64_t lanes = vectors * width; lanes >= width; lanes -= width)
    if (length % lanes == 0)
      return lanes;
  for (int64_t lanes = vectors * width; lanes > 1; --lanes)
    if (length % lanes == 0)
      return lanes;
  return 1;
}

/// The innermost parallel loop among the first `parallelLoops` of `op`
/// that some input does not read: a register tile along it reuses each
/// vector of that input once per row of the tile (windowed sums' image,
/// shared by the kernel's output channels). None when every input reads
/// every parallel loop (BatchNorm's sums).
static std::optional<unsigned> reuseLoop(linalg::LinalgOp op,
                                         unsigned parallelLoops) {
  for (unsigned d = parallelLoops; d-- > 0;)
    for (OpOperand *input : op.getDpsInputOperands())
      if (!op.getMatchingIndexingMap(input).isFunctionOfDim(d))
        return d;
  return std::nullopt;
}

/// Bytes of cache a sum's inputs may take per block of its outermost
/// reduced loop: the L2 of every x86 core we target holds it.
constexpr int64_t kReductionBlockBytes = 256 * 1024;

/// Tiles the outermost reduced loop of sum `op` (its loops: `parallelLoops`
/// parallel ones first) into blocks whose slices of the inputs fit in
/// kReductionBlockBytes, and returns the op inside the block loop (`op`
/// when the inputs fit whole). The register tiles of a sum whose inputs are
/// reused across a parallel loop (windowed sums read the image once per
/// output channel and the output gradient once per input channel) then
/// find them in cache: streamed whole per tile, a 64-image batch's output
/// gradient (1.8 MB) came from memory for each of the 16 input channels.
/// Slices and reshapes of one tensor (the taps of windowed sums) count
/// once.
static linalg::LinalgOp blockOuterReduction(RewriterBase &rewriter,
                                            linalg::LinalgOp op,
                                            unsigned parallelLoops) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (parallelLoops >= ranges.size())
    return op;
  unsigned dim = parallelLoops;
  int64_t bytesPerStep = 0;
  llvm::SmallPtrSet<Value, 4> counted;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value root = input->get();
    while (Operation *view = root.getDefiningOp()) {
      if (!isa<tensor::ExtractSliceOp, tensor::ExpandShapeOp,
               tensor::CollapseShapeOp>(view))
        break;
      root = view->getOperand(0);
    }
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type || !type.hasStaticShape() || !counted.insert(root).second)
      continue;
    int64_t bytes = type.getNumElements() *
                    llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    if (op.getMatchingIndexingMap(input).isFunctionOfDim(dim))
      bytes /= ranges[dim];
    bytesPerStep += bytes;
  }
  int64_t block = ranges[dim];
  while (block > 1 && (ranges[dim] % block != 0 ||
                       bytesPerStep * block > kReductionBlockBytes))
    --block;
  if (block == ranges[dim])
    return op;
  SmallVector<int64_t> sizes(ranges.size(), 0);
  sizes[dim] = block;
  FailureOr<TilingInterface> tiled =
      tileAndReplace(rewriter, cast<TilingInterface>(op.getOperation()), sizes,
                     scf::SCFTilingOptions::LoopType::ForOp);
  if (failed(tiled))
    return op;
  return cast<linalg::LinalgOp>(tiled->getOperation());
}

/// A sum over contiguous elements (BatchNorm's statistics and their
/// gradients reduce [N, C, H, W] over N, H and W) keeps one partial sum
/// per lane: the innermost loop, split into (length / lanes, lanes), has
/// its lanes dim made parallel into a [..., lanes] accumulator, vectorized
/// along it, whose read and write the loops over the other reduced dims
/// leave to loop-invariant-subset-hoisting (the accumulator stays in
/// registers); a second, small sum adds the lanes into the result. Left
/// to LLVM, the sum into a memref element was one scalar load, add and
/// store per element, each waiting for the last (the stores may alias the
/// inputs as far as LLVM knows): a fifth of the Fashion-MNIST CNN's step.
bool CPUTileAndVectorize::vectorizeSum(RewriterBase &rewriter,
                                       linalg::LinalgOp op) {
  unsigned loops = op.getNumLoops();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (loops == 0 || iterators.back() != utils::IteratorType::reduction ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic) ||
      hasSubByteOperand(op) ||
      !op.getBlock()->getOps<linalg::IndexOp>().empty() || !isSum(op) ||
      !innermostLoopIsContiguous(op) ||
      failed(linalg::vectorizeOpPrecondition(op)))
    return false;
  // The contiguous run the collapse below would give the innermost loop.
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t run = 1;
  SmallVector<ReassociationIndices> groups = contiguousLoopGroups(op);
  for (int64_t dim : groups.back())
    run *= ranges[dim];
  // Any lane count, unlike vectorizeElementwise's power-of-two lanes for
  // 16-bit types: a body that rounds to bf16 (a convolution's output, read
  // back) summed 14 lanes at a time measured faster than scalar sums on
  // the AVX-512 and the AVX2 path alike.
  if (2 * sumLanes(run, vectorWidth) < vectorWidth)
    return false;

  FailureOr<linalg::LinalgOp> collapsed = collapseContiguousLoops(rewriter, op);
  if (failed(collapsed))
    return false; // `op` is untouched: only a generic is rewritten.
  op = *collapsed;
  loops = op.getNumLoops();
  iterators = op.getIteratorTypesArray();
  ranges = op.getStaticLoopRanges();
  unsigned last = loops - 1;
  int64_t length = ranges[last];
  // The partial sums of one register tile stay in registers: up to three
  // quarters of them (32 with AVX-512's 16 f32 lanes, else 16), the rest
  // left to the operands. With a loop some input does not read, a tile of
  // one vector per result and several rows along that loop (windowed
  // sums: nine taps, two output channels) loads fewer vectors per FMA
  // than more lanes would.
  int64_t accumulators = (vectorWidth >= 16 ? 32 : 16) * 3 / 4;
  int64_t results = op.getNumDpsInits();
  std::optional<unsigned> reuseDim =
      results > 1 ? reuseLoop(op, op.getNumParallelLoops()) : std::nullopt;
  bool reuse = reuseDim.has_value();
  unsigned reused = reuseDim.value_or(0);
  int64_t lanes =
      sumLanes(length, vectorWidth,
               reuse ? 1 : std::clamp<int64_t>(accumulators / results, 1, 4));
  if (2 * lanes < vectorWidth) {
    // The collapse did not happen (an operand's layout); still a valid op.
    parallelizeOuterLoop(rewriter, op);
    return true;
  }

  bool split = lanes < length;
  if (!split && op.getNumReductionLoops() == 1) {
    // A sum over one short row (a softmax's, over the last dim) needs no
    // lanes kept: each row is one vector, added up across it.
    linalg::LinalgOp block = parallelizeOuterLoop(rewriter, op);
    SmallVector<int64_t> sizes(loops, 1);
    sizes[last] = 0;
    vectorizeTile(rewriter, block, sizes);
    return true;
  }

  // The split sum: loops [..., last, lane] when the run is split, else the
  // innermost loop is itself the lane loop.
  MLIRContext *context = op.getContext();
  Location loc = op.getLoc();
  unsigned lane = split ? loops : last;
  unsigned splitLoops = lane + 1;
  AffineExpr lastExpr = getAffineDimExpr(last, context);
  rewriter.setInsertionPoint(op);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    SmallVector<AffineExpr> results(map.getResults());
    Value value = input->get();
    if (split && map.getResultPosition(lastExpr)) {
      results.push_back(getAffineDimExpr(lane, context));
      auto type = cast<RankedTensorType>(value.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape.back() = length / lanes;
      shape.push_back(lanes);
      SmallVector<ReassociationIndices> groups;
      for (int64_t i = 0, e = type.getRank(); i < e; ++i)
        groups.push_back({i});
      groups.back().push_back(type.getRank());
      value = tensor::ExpandShapeOp::create(rewriter, loc, type.clone(shape),
                                            value, groups);
    }
    inputs.push_back(value);
    maps.push_back(AffineMap::get(splitLoops, 0, results, context));
  }
  SmallVector<Value> partials;
  // The combining sum's maps: the lanes' partial sums, then the results.
  SmallVector<AffineMap> laneMaps, resultMaps;
  unsigned parallelLoops = op.getNumParallelLoops();
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    auto type = cast<RankedTensorType>(init.get().getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.push_back(lanes);
    Value empty =
        tensor::EmptyOp::create(rewriter, loc, shape, type.getElementType());
    Value zero = arith::ConstantOp::create(
        rewriter, loc, rewriter.getZeroAttr(type.getElementType()));
    partials.push_back(
        linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0));
    SmallVector<AffineExpr> results(map.getResults());
    results.push_back(getAffineDimExpr(lane, context));
    maps.push_back(AffineMap::get(splitLoops, 0, results, context));
    // prepareReduction put the parallel loops first: the result's map
    // names only those, and the lanes follow them in the combining sum.
    resultMaps.push_back(
        AffineMap::get(parallelLoops + 1, 0, map.getResults(), context));
    results.back() = getAffineDimExpr(parallelLoops, context);
    laneMaps.push_back(AffineMap::get(parallelLoops + 1, 0, results, context));
  }
  SmallVector<utils::IteratorType> splitIterators = iterators;
  if (split)
    splitIterators.push_back(utils::IteratorType::parallel);
  else
    splitIterators.back() = utils::IteratorType::parallel;
  auto sum =
      linalg::GenericOp::create(rewriter, loc, ValueRange(partials).getTypes(),
                                inputs, partials, maps, splitIterators);
  rewriter.cloneRegionBefore(op->getRegion(0), sum.getRegion(),
                             sum.getRegion().begin());

  // The lanes' sums, added into the original accumulators.
  laneMaps.append(resultMaps);
  SmallVector<utils::IteratorType> combineIterators(
      parallelLoops, utils::IteratorType::parallel);
  combineIterators.push_back(utils::IteratorType::reduction);
  auto combine = linalg::GenericOp::create(
      rewriter, loc, op->getResultTypes(), sum->getResults(), op.getDpsInits(),
      laneMaps, combineIterators,
      [&](OpBuilder &b, Location bodyLoc, ValueRange args) {
        unsigned n = args.size() / 2;
        SmallVector<Value> added;
        for (unsigned i = 0; i < n; ++i)
          added.push_back(arith::AddFOp::create(
              b, bodyLoc, args[i], args[n + i], arith::FastMathFlags::reassoc));
        linalg::YieldOp::create(b, bodyLoc, added);
      });
  rewriter.replaceOp(op, combine->getResults());
  // Each row of lanes is a short sum itself (up to four vectors).
  (void)vectorizeSum(rewriter, combine);

  // The register tile's rows along the reused loop: as many as divide it
  // and fit.
  int64_t rows = 1;
  if (reuse) {
    int64_t vectors = llvm::divideCeil(lanes, vectorWidth);
    for (int64_t r = accumulators / (results * vectors); r > 1; --r)
      if (ranges[reused] % r == 0) {
        rows = r;
        break;
      }
  }
  linalg::LinalgOp block = parallelizeOuterLoop(rewriter, sum, /*vector=*/1,
                                                reuse ? reused : ~0u, rows);
  if (reuse)
    block = blockOuterReduction(rewriter, block, parallelLoops);
  SmallVector<int64_t> sizes(splitLoops, 1);
  sizes[lane] = 0;
  if (reuse)
    sizes[reused] = rows;
  vectorizeTile(rewriter, block, sizes);
  return true;
}

void CPUTileAndVectorize::runOnOperation() {
  if (registerTile.empty())
    registerTile = {4, 16};
  if (parallelTile.empty())
    parallelTile = {64, 256};
  if (registerTile.size() != 2 || parallelTile.size() != 2 ||
      llvm::any_of(registerTile, [](int64_t v) { return v <= 0; }) ||
      llvm::any_of(parallelTile, [](int64_t v) { return v <= 0; })) {
    getOperation().emitError()
        << "mpc-cpu-tile-and-vectorize: register-tile and parallel-tile take "
           "two positive sizes (M,N)";
    return signalPassFailure();
  }

  getOperation().walk(readInputsThroughAliasingInits);
  {
    // Drops the inputs no payload reads any more.
    RewritePatternSet patterns(&getContext());
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }

  // Collect first: tiling creates new linalg ops the walk must not revisit.
  SmallVector<linalg::LinalgOp> contractions, others;
  getOperation().walk([&](linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics() || op->getParentOfType<scf::ForallOp>())
      return;
    FailureOr<linalg::ContractionDimensions> dims = contractionDims(op);
    if (succeeded(dims) && !dims->m.empty() && !dims->n.empty() &&
        !dims->k.empty())
      contractions.push_back(op);
    else
      others.push_back(op);
  });

  IRRewriter rewriter(&getContext());
  for (linalg::LinalgOp op : contractions) {
    // `op` may be replaced before tiling gives up (transposed, split, or
    // tiled into blocks that then do not vectorize): remark at its place.
    Location loc = op.getLoc();
    std::string whyNot = tileContraction(rewriter, op);
    if (!whyNot.empty() && reportSkipped)
      emitRemark(loc) << "contraction left to the scalar loops: " << whyNot;
  }
  for (linalg::LinalgOp op : others) {
    // A fill now done by the blocks of the contraction it initialized:
    // erased below with the others.
    if (isa<linalg::FillOp>(op) && op->use_empty())
      continue;
    if (vectorizeElementwise(rewriter, op))
      continue;
    linalg::LinalgOp reduction = prepareReduction(rewriter, op);
    if (!vectorizeSum(rewriter, reduction))
      parallelizeOuterLoop(rewriter, reduction);
  }
  dropRedundantMaterializations(rewriter, getOperation());
  // Fills whose contractions now clear their own blocks.
  getOperation().walk([&](linalg::FillOp fill) {
    if (fill->use_empty() && fill.hasPureTensorSemantics())
      rewriter.eraseOp(fill);
  });
}

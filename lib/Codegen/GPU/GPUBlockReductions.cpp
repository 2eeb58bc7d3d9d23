//===- GPUBlockReductions.cpp - long reductions as thread blocks ----------===//

#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUBLOCKREDUCTIONS
#define GEN_PASS_DEF_MPCGPULOWERALLREDUCE
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

constexpr int64_t kBlockSize = 256;

/// The all_reduce operation and identity of a combiner, if it is one.
std::optional<std::pair<gpu::AllReduceOperation, double>>
classifyCombiner(Operation *combiner) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (isa<arith::AddFOp>(combiner))
    return std::make_pair(gpu::AllReduceOperation::ADD, 0.0);
  if (isa<arith::MulFOp>(combiner))
    return std::make_pair(gpu::AllReduceOperation::MUL, 1.0);
  if (isa<arith::MaximumFOp>(combiner))
    return std::make_pair(gpu::AllReduceOperation::MAXIMUMF, -inf);
  if (isa<arith::MaxNumFOp>(combiner))
    return std::make_pair(gpu::AllReduceOperation::MAXNUMF, -inf);
  if (isa<arith::MinimumFOp>(combiner))
    return std::make_pair(gpu::AllReduceOperation::MINIMUMF, inf);
  if (isa<arith::MinNumFOp>(combiner))
    return std::make_pair(gpu::AllReduceOperation::MINNUMF, inf);
  return std::nullopt;
}

struct GPUBlockReductions
    : mpc::impl::MPCGPUBlockReductionsBase<GPUBlockReductions> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && op.getNumReductionLoops() == 1 &&
          op.getNumDpsInits() == 1)
        candidates.push_back(op);
    });
    for (linalg::LinalgOp op : candidates)
      rewrite(op);
    // What stays a reduction runs one thread per output element: its
    // parallel loops go outermost, so that the loop conversion makes them
    // the parallel loop nest and each thread folds the reduction loops
    // itself (a reduction loop outside would stay on the host, launching
    // one kernel per iteration).
    SmallVector<linalg::LinalgOp> reductions;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && op.getNumReductionLoops() != 0 &&
          op.getNumParallelLoops() != 0)
        reductions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : reductions) {
      SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
      // interchangeGenericOp takes, for each new loop, the old loop it is.
      SmallVector<unsigned> order;
      for (auto [i, iterator] : llvm::enumerate(iterators))
        if (iterator == utils::IteratorType::parallel)
          order.push_back(i);
      for (auto [i, iterator] : llvm::enumerate(iterators))
        if (iterator != utils::IteratorType::parallel)
          order.push_back(i);
      if (llvm::is_sorted(order))
        continue;
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, op);
        if (succeeded(generalized))
          generic = *generalized;
      }
      if (!generic ||
          failed(linalg::interchangeGenericOp(rewriter, generic, order))) {
        op.emitError("cannot move the parallel loops of this reduction "
                     "outermost for the GPU");
        return signalPassFailure();
      }
    }
  }

  void rewrite(linalg::LinalgOp op) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return; // dynamic shapes: the SIMT loops handle them
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    int64_t reductionDim =
        llvm::find(iterators, utils::IteratorType::reduction) -
        iterators.begin();
    int64_t size = ranges[reductionDim];
    if (size < minSize)
      return;
    auto warn = [&](StringRef why) {
      op.emitWarning() << "reduction of " << size
                       << " elements not mapped to a thread block (runs one "
                          "thread per output element): "
                       << why;
    };
    Block *payload = op.getBlock();
    if (!payload->getOps<linalg::IndexOp>().empty())
      return warn("its payload reads loop indices");
    SmallVector<Operation *> combiners;
    Value reduced = matchReduction(op.getRegionOutputArgs(), 0, combiners);
    if (!reduced || combiners.size() != 1)
      return warn("no single combiner in its payload");
    auto kind = classifyCombiner(combiners.front());
    OpOperand *init = op.getDpsInitOperand(0);
    auto initType = dyn_cast<MemRefType>(init->get().getType());
    if (!kind || !initType || !initType.getElementType().isF32())
      return warn("only f32 add, mul, maximum and minimum are mapped");

    OpBuilder b(op);
    Location loc = op.getLoc();
    auto index = [&](int64_t v) {
      return Value(arith::ConstantIndexOp::create(b, loc, v));
    };
    int64_t outputs = 1;
    for (auto [dim, range] : llvm::enumerate(ranges))
      if ((int64_t)dim != reductionDim)
        outputs *= range;
    auto launch = gpu::LaunchOp::create(b, loc, index(outputs), index(1),
                                        index(1), index(kBlockSize), index(1),
                                        index(1));
    b.setInsertionPointToStart(&launch.getBody().front());
    // The block's output element, row-major over the parallel loops.
    SmallVector<Value> ivs(ranges.size());
    Value rest = launch.getBlockIds().x;
    for (int64_t dim = ranges.size() - 1; dim >= 0; --dim) {
      if (dim == reductionDim)
        continue;
      ivs[dim] = arith::RemUIOp::create(b, loc, rest, index(ranges[dim]));
      rest = arith::DivUIOp::create(b, loc, rest, index(ranges[dim]));
    }
    Type f32 = b.getF32Type();
    Value identity =
        arith::ConstantOp::create(b, loc, b.getFloatAttr(f32, kind->second));
    auto indicesFor = [&](OpOperand &operand) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      SmallVector<Value> indices;
      for (AffineExpr expr : map.getResults())
        indices.push_back(affine::AffineApplyOp::create(
            b, loc, AffineMap::get(map.getNumDims(), 0, expr), ivs));
      return indices;
    };

    // Each thread folds a strided slice with the op's own payload.
    auto loop = scf::ForOp::create(b, loc, launch.getThreadIds().x,
                                   index(size), index(kBlockSize),
                                   ValueRange{identity});
    b.setInsertionPointToStart(loop.getBody());
    ivs[reductionDim] = loop.getInductionVar();
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value value = input->get();
      if (isa<MemRefType>(value.getType()))
        value = memref::LoadOp::create(b, loc, value, indicesFor(*input));
      mapping.map(op.getMatchingBlockArgument(input), value);
    }
    mapping.map(op.getMatchingBlockArgument(init), loop.getRegionIterArgs()[0]);
    for (Operation &inner : payload->without_terminator())
      b.clone(inner, mapping);
    Value folded = mapping.lookup(
        cast<linalg::YieldOp>(payload->getTerminator()).getOperand(0));
    scf::YieldOp::create(b, loc, folded);

    b.setInsertionPointAfter(loop);
    Value total = gpu::AllReduceOp::create(
        b, loc, loop.getResult(0),
        gpu::AllReduceOperationAttr::get(b.getContext(), kind->first),
        /*uniform=*/true);
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        launch.getThreadIds().x, index(0));
    auto guard = scf::IfOp::create(b, loc, first, false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
    ivs[reductionDim] = index(0); // the output does not depend on it
    SmallVector<Value> outIndices = indicesFor(*init);
    Value old = memref::LoadOp::create(b, loc, init->get(), outIndices);
    Operation *combine = b.clone(*combiners.front());
    combine->setOperands({old, total});
    memref::StoreOp::create(b, loc, combine->getResult(0), init->get(),
                            outIndices);
    b.setInsertionPointAfter(guard);
    gpu::TerminatorOp::create(b, loc);
    op->erase();
  }
};

struct GPULowerAllReduce
    : mpc::impl::MPCGPULowerAllReduceBase<GPULowerAllReduce> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateGpuAllReducePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

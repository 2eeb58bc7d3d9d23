//===- ReshapeEmptyInits.cpp - empty inits replaced through reshapes ------===//

#include "mpc/Codegen/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCRESHAPEEMPTYINITS
#include "mpc/Codegen/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

struct ReshapeEmptyInits
    : mpc::impl::MPCReshapeEmptyInitsBase<ReshapeEmptyInits> {
  void runOnOperation() override;
};

/// The value a subset insertion writes and the buffer it writes into.
std::pair<Value, Value> insertionOf(Operation *op) {
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(op))
    return {insert.getSource(), insert.getDest()};
  if (auto materialize = dyn_cast<bufferization::MaterializeInDestinationOp>(op))
    if (isa<TensorType>(materialize.getDest().getType()))
      return {materialize.getSource(), materialize.getDest()};
  return {};
}

/// The subset `insertion` writes, built at `b`'s insertion point.
Value buildSubset(OpBuilder &b, Operation *insertion) {
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(insertion))
    return tensor::ExtractSliceOp::create(
        b, insert.getLoc(), insert.getSourceType(), insert.getDest(),
        insert.getMixedOffsets(), insert.getMixedSizes(),
        insert.getMixedStrides());
  return cast<bufferization::MaterializeInDestinationOp>(insertion).getDest();
}

} // namespace

void ReshapeEmptyInits::runOnOperation() {
  DominanceInfo dominance(getOperation());
  SmallVector<Operation *> insertions;
  getOperation().walk([&](Operation *op) {
    if (insertionOf(op).first)
      insertions.push_back(op);
  });
  for (Operation *insertion : insertions) {
    auto [inserted, dest] = insertionOf(insertion);
    Operation *reshape = inserted.getDefiningOp();
    if (!reshape || !inserted.hasOneUse() ||
        !isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(reshape))
      continue;
    Value produced = reshape->getOperand(0);
    auto producer = produced.getDefiningOp<DestinationStyleOpInterface>();
    if (!producer || !produced.hasOneUse())
      continue;
    OpOperand *init = producer.getTiedOpOperand(cast<OpResult>(produced));
    auto empty = init->get().getDefiningOp<tensor::EmptyOp>();
    if (!empty || !empty->hasOneUse() ||
        !dominance.properlyDominates(dest, producer))
      continue;
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(insertion))
      if (llvm::any_of(insert.getOffsets(), [&](Value offset) {
            return !dominance.properlyDominates(offset, producer);
          }))
        continue;
    // The subset, reshaped back with the same reassociation.
    OpBuilder b(producer);
    Location loc = empty.getLoc();
    Value subset = buildSubset(b, insertion);
    Value init_;
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(reshape))
      init_ = tensor::ExpandShapeOp::create(
          b, loc, empty.getType(), subset,
          collapse.getReassociationIndices());
    else
      init_ = tensor::CollapseShapeOp::create(
          b, loc, empty.getType(), subset,
          cast<tensor::ExpandShapeOp>(reshape).getReassociationIndices());
    init->set(init_);
    empty.erase();
  }
}

//===- LowerStridedCopies.cpp - strided memref.copy as loops --------------===//

#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCLOWERSTRIDEDCOPIES
#include "mpc/Codegen/CPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

struct LowerStridedCopies
    : mpc::impl::MPCLowerStridedCopiesBase<LowerStridedCopies> {
  using Base::Base;
  void runOnOperation() override;
};

/// Runs of adjacent dims that are contiguous in both `source` and
/// `target` (each dim's stride is the next one's times its size).
SmallVector<ReassociationIndices> contiguousRuns(MemRefType source,
                                                 MemRefType target) {
  auto [sourceStrides, sourceOffset] = source.getStridesAndOffset();
  auto [targetStrides, targetOffset] = target.getStridesAndOffset();
  ArrayRef<int64_t> shape = source.getShape();
  SmallVector<ReassociationIndices> runs = {{0}};
  for (int64_t d = 1; d < source.getRank(); ++d) {
    if (sourceStrides[d - 1] == sourceStrides[d] * shape[d] &&
        targetStrides[d - 1] == targetStrides[d] * shape[d])
      runs.back().push_back(d);
    else
      runs.push_back({d});
  }
  return runs;
}

/// `copy` as loops over its dims, the runs contiguous in both buffers
/// collapsed first; the outermost loop parallel when the copy has at least
/// `minParallelElements` elements and that loop more than one step.
void lowerToLoops(memref::CopyOp copy, int64_t minParallelElements) {
  OpBuilder b(copy);
  Location loc = copy.getLoc();
  Value source = copy.getSource(), target = copy.getTarget();
  auto sourceType = cast<MemRefType>(source.getType());
  auto targetType = cast<MemRefType>(target.getType());
  SmallVector<ReassociationIndices> runs =
      contiguousRuns(sourceType, targetType);
  if (runs.size() < (size_t)sourceType.getRank()) {
    source = memref::CollapseShapeOp::create(b, loc, source, runs);
    target = memref::CollapseShapeOp::create(b, loc, target, runs);
  }
  ArrayRef<int64_t> shape = cast<MemRefType>(source.getType()).getShape();
  bool parallel =
      sourceType.getNumElements() >= minParallelElements && shape[0] > 1;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> indices;
  auto body = [&](OpBuilder &inner, unsigned dim, auto &&self) -> void {
    if (dim == shape.size()) {
      Value element = memref::LoadOp::create(inner, loc, source, indices);
      memref::StoreOp::create(inner, loc, element, target, indices);
      return;
    }
    Value size = arith::ConstantIndexOp::create(inner, loc, shape[dim]);
    auto nested = [&](OpBuilder &loop, Location, ValueRange ivs) {
      indices.push_back(ivs.front());
      self(loop, dim + 1, self);
      indices.pop_back();
    };
    if (dim == 0 && parallel) {
      scf::ParallelOp::create(inner, loc, ValueRange{zero}, ValueRange{size},
                              ValueRange{one}, nested);
      return;
    }
    scf::ForOp::create(inner, loc, zero, size, one, ValueRange{},
                       [&](OpBuilder &loop, Location l, Value iv, ValueRange) {
                         nested(loop, l, iv);
                         scf::YieldOp::create(loop, l);
                       });
  };
  body(b, 0, body);
  copy.erase();
}

} // namespace

void LowerStridedCopies::runOnOperation() {
  SmallVector<memref::CopyOp> copies;
  getOperation().walk([&](memref::CopyOp copy) {
    auto sourceType = dyn_cast<MemRefType>(copy.getSource().getType());
    auto targetType = dyn_cast<MemRefType>(copy.getTarget().getType());
    // Contiguous copies are one memcpy; dynamic shapes and layouts keep
    // the runtime's general copy.
    if (!sourceType || !targetType || sourceType.getRank() == 0 ||
        !sourceType.hasStaticShape() ||
        (memref::isStaticShapeAndContiguousRowMajor(sourceType) &&
         memref::isStaticShapeAndContiguousRowMajor(targetType)))
      return;
    auto [sourceStrides, sourceOffset] = sourceType.getStridesAndOffset();
    auto [targetStrides, targetOffset] = targetType.getStridesAndOffset();
    if (llvm::any_of(sourceStrides, ShapedType::isDynamic) ||
        llvm::any_of(targetStrides, ShapedType::isDynamic))
      return;
    copies.push_back(copy);
  });
  for (memref::CopyOp copy : copies)
    lowerToLoops(copy, minParallelElements);
}

//===- LoopUtils.cpp - loop nests the GPU passes build --------------------===//

#include "mpc/Codegen/LoopUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

scf::ParallelOp mpc::buildParallelCopy(OpBuilder &b, Location loc,
                                       Value source, Value target) {
  auto type = cast<MemRefType>(source.getType());
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  int64_t loops = std::max<int64_t>(type.getRank(), 1);
  SmallVector<Value> lbs(loops, zero), steps(loops, one), ubs;
  // Static sizes as constants, so that later passes see the trip counts.
  for (int64_t d = 0; d < type.getRank(); ++d)
    ubs.push_back(type.isDynamicDim(d)
                      ? Value(memref::DimOp::create(b, loc, source, d))
                      : Value(arith::ConstantIndexOp::create(
                            b, loc, type.getDimSize(d))));
  if (type.getRank() == 0)
    ubs.push_back(one);
  return scf::ParallelOp::create(
      b, loc, lbs, ubs, steps,
      [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
        ValueRange indices = type.getRank() == 0 ? ValueRange{} : ivs;
        Value v = memref::LoadOp::create(nb, nloc, source, indices);
        memref::StoreOp::create(nb, nloc, v, target, indices);
      });
}

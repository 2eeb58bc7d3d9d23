//===- StripStateAttributes.cpp - the state contract, once read -----------===//

#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCSTRIPSTATEATTRIBUTES
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {
struct StripStateAttributes
    : mpc::impl::MPCStripStateAttributesBase<StripStateAttributes> {
  void runOnOperation() override { mpc::stripStateAttributes(getOperation()); }
};
} // namespace

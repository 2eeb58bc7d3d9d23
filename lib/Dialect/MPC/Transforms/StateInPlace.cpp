//===- StateInPlace.cpp - training state is updated in place --------------===//

#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCSTATEINPLACE
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

using mlir::mpc::MPCDialect;
using mlir::mpc::StateKindAttr;

static StateKindAttr stateKindOfResult(func::FuncOp func, unsigned i) {
  return func.getResultAttrOfType<StateKindAttr>(
      i, MPCDialect::kStateKindAttrName);
}

namespace {

struct StateInPlace : mpc::impl::MPCStateInPlaceBase<StateInPlace> {
  LogicalResult dropStateResults(func::FuncOp func);
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(dropStateResults(func)))
        return signalPassFailure();
  }
};

} // namespace

LogicalResult StateInPlace::dropStateResults(func::FuncOp func) {
  // Result i -> the argument holding the same kind.
  SmallVector<std::pair<unsigned, unsigned>> resultToArg;
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    StateKindAttr kind = stateKindOfResult(func, i);
    if (!kind)
      continue;
    std::optional<unsigned> arg;
    for (unsigned a = 0; a < func.getNumArguments(); ++a)
      if (func.getArgAttrOfType<StateKindAttr>(
              a, MPCDialect::kStateKindAttrName) == kind &&
          isa<MemRefType>(func.getArgument(a).getType()))
        arg = a;
    if (!arg || func.isExternal())
      return func.emitError("mpc-state-in-place: @")
             << func.getSymName() << " returns the '"
             << ::mpc_abi::spelling(kind.getKind())
             << "' state but takes no buffer of it (run after "
                "bufferization)";
    resultToArg.push_back({i, *arg});
  }
  if (resultToArg.empty())
    return success();
  llvm::BitVector dropped(func.getNumResults());
  for (auto [result, arg] : resultToArg)
    dropped.set(result);
  for (Block &block : func.getBody()) {
    auto ret = dyn_cast<func::ReturnOp>(block.getTerminator());
    if (!ret)
      continue;
    for (auto [result, arg] : resultToArg)
      if (ret.getOperand(result) != func.getArgument(arg))
        return ret.emitError("mpc-state-in-place: @")
               << func.getSymName() << " returns a copy of its '"
               << ::mpc_abi::spelling(
                      stateKindOfResult(func, result).getKind())
               << "' state, not the buffer it was given (bufferization "
                  "could not update it in place)";
    ret->eraseOperands(dropped);
  }
  // Calls read the buffers they passed.
  if (auto uses = SymbolTable::getSymbolUses(func, getOperation())) {
    for (const SymbolTable::SymbolUse &use : *uses) {
      auto call = dyn_cast<func::CallOp>(use.getUser());
      if (!call)
        return use.getUser()->emitError("mpc-state-in-place: @")
               << func.getSymName() << " is used other than by a call";
      SmallVector<Type> kept;
      for (auto [i, type] : llvm::enumerate(call.getResultTypes()))
        if (!dropped.test(i))
          kept.push_back(type);
      OpBuilder b(call);
      auto newCall = func::CallOp::create(b, call.getLoc(), call.getCallee(),
                                          kept, call.getOperands());
      for (auto [result, arg] : resultToArg)
        call.getResult(result).replaceAllUsesWith(call.getOperand(arg));
      unsigned next = 0;
      for (auto [i, result] : llvm::enumerate(call.getResults()))
        if (!dropped.test(i))
          result.replaceAllUsesWith(newCall.getResult(next++));
      call.erase();
    }
  }
  return func.eraseResults(dropped);
}

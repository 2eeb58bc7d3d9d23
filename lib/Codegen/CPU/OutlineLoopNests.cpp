//===- OutlineLoopNests.cpp - one function per loop nest ------------------===//

#include "mpc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCOUTLINELOOPNESTS
#include "mpc/Codegen/CPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

struct OutlineLoopNests
    : mpc::impl::MPCOutlineLoopNestsBase<OutlineLoopNests> {
  using Base::Base;
  void runOnOperation() override;
};

/// Moves `nest` into a new private, noinline function inserted before
/// `parent`, named after it, and calls it in its place.
void outline(Operation *nest, func::FuncOp parent, unsigned index,
             SymbolTable &symbols) {
  // Constants are cloned into the new function, not passed: loop bounds
  // and sizes must stay constants for LLVM.
  llvm::SetVector<Value> used;
  for (Value operand : nest->getOperands())
    used.insert(operand);
  getUsedValuesDefinedAbove(nest->getRegions(), used);
  SmallVector<Value> arguments;
  SmallVector<Operation *> constants;
  for (Value value : used) {
    Operation *def = value.getDefiningOp();
    if (def && def->hasTrait<OpTrait::ConstantLike>())
      constants.push_back(def);
    else
      arguments.push_back(value);
  }
  OpBuilder b(parent);
  auto type = b.getFunctionType(ValueRange(arguments).getTypes(),
                                nest->getResultTypes());
  auto callee = func::FuncOp::create(
      b, nest->getLoc(),
      (parent.getSymName() + "_nest" + Twine(index)).str(), type);
  callee.setPrivate();
  callee.setNoInline(true);
  symbols.insert(callee);
  Block *body = callee.addEntryBlock();
  IRMapping mapping;
  mapping.map(arguments, body->getArguments());
  OpBuilder inner = OpBuilder::atBlockEnd(body);
  for (Operation *constant : constants)
    inner.clone(*constant, mapping);
  Operation *moved = inner.clone(*nest, mapping);
  func::ReturnOp::create(inner, nest->getLoc(), moved->getResults());
  b.setInsertionPoint(nest);
  auto call = func::CallOp::create(b, nest->getLoc(), callee, arguments);
  call.setNoInline(true);
  nest->replaceAllUsesWith(call.getResults());
  nest->erase();
}

} // namespace

void OutlineLoopNests::runOnOperation() {
  ModuleOp module = getOperation();
  SymbolTable symbols(module);
  SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
  for (func::FuncOp function : functions) {
    if (function.isExternal() || !function.getBody().hasOneBlock())
      continue;
    SmallVector<Operation *> nests;
    for (Operation &op : function.getBody().front())
      if (op.getNumRegions() > 0)
        nests.push_back(&op);
    if ((int64_t)nests.size() < minNests)
      continue;
    for (auto [i, nest] : llvm::enumerate(nests))
      outline(nest, function, i, symbols);
  }
}

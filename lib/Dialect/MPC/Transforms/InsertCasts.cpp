//===- InsertCasts.cpp - materialise precision decisions ------------------===//
//
// Walks each function in order. A decided op gets its operands cast to the
// type its decision needs, its `precision` attribute, and result types
// recomputed by its own type inference (keeping the static dims the IR
// already had). Casts are created once per (value, type), right after the
// value is defined, so every reader shares them.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCINSERTCASTS
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

struct InsertCasts : mpc::impl::MPCInsertCastsBase<InsertCasts> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto lowAttr = module->getAttrOfType<TypeAttr>("mpc.low_precision");
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (!func.getBody().hasOneBlock()) {
        func.emitError() << "mpc-insert-casts expects single-block functions";
        return signalPassFailure();
      }
      bool decided = false;
      func.walk([&](Operation *op) {
        decided |= op->hasAttr(kDecisionAttrName);
        if (op != func && op->getNumRegions() > 0) {
          op->emitError() << "mpc-insert-casts does not handle ops with "
                             "regions";
          decided = false;
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (!decided)
        continue;
      if (!lowAttr) {
        func.emitError() << "has precision decisions but the module names no "
                            "low-precision type (run mpc-assign-precision)";
        return signalPassFailure();
      }
      if (failed(insertCasts(func, cast<FloatType>(lowAttr.getValue()))))
        return signalPassFailure();
    }
  }

  LogicalResult insertCasts(func::FuncOp func, FloatType lowType) {
    MLIRContext *context = func.getContext();
    OpBuilder builder(context);
    FloatType f32 = Float32Type::get(context);
    Block &body = func.getBody().front();
    llvm::DenseMap<Value, Type> originalTypes;
    llvm::DenseMap<std::pair<Value, Type>, Value> casts;

    auto castTo = [&](Value value, Type element) -> Value {
      auto type = cast<RankedTensorType>(value.getType());
      if (type.getElementType() == element)
        return value;
      Value &cached = casts[{value, element}];
      if (cached)
        return cached;
      if (Operation *producer = value.getDefiningOp())
        builder.setInsertionPointAfter(producer);
      else
        builder.setInsertionPointToStart(&body);
      cached = CastOp::create(builder, value.getLoc(), type.clone(element),
                              value);
      return cached;
    };
    auto isFloatTensor = [](Value value) {
      auto type = dyn_cast<RankedTensorType>(value.getType());
      return type && isa<FloatType>(type.getElementType());
    };

    for (Operation &op : llvm::make_early_inc_range(body)) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        if (!keepIoTypes)
          continue;
        for (auto [i, operand] : llvm::enumerate(ret.getOperands()))
          if (isFloatTensor(operand))
            ret.setOperand(i, castTo(operand, getElementTypeOrSelf(
                                                  func.getResultTypes()[i])));
        continue;
      }
      auto decision = op.getAttrOfType<DecisionAttr>(kDecisionAttrName);
      if (!decision) {
        // Ops without a decision read the types their operands had.
        for (OpOperand &operand : op.getOpOperands())
          if (auto it = originalTypes.find(operand.get());
              it != originalTypes.end() && !isa<ShapeOp>(op))
            operand.set(castTo(operand.get(), getElementTypeOrSelf(it->second)));
        continue;
      }
      FloatType target = decision.getLow() ? lowType : f32;
      for (OpOperand &operand : op.getOpOperands()) {
        switch (getOperandRole(&op, operand.getOperandNumber())) {
        case OperandRole::FollowOp:
          operand.set(castTo(operand.get(), target));
          break;
        case OperandRole::KeepFp32:
          operand.set(castTo(operand.get(), f32));
          break;
        case OperandRole::Ignore:
          break;
        }
      }
      // The precision describes the op's first (data) operand: an integer
      // Pow base with a float exponent has none.
      auto withPrecision = dyn_cast<PrecisionOpInterface>(op);
      if (withPrecision && op.getNumOperands() > 0 &&
          isFloatTensor(op.getOperand(0))) {
        // Reductions accumulate in fp32 whatever they compute in.
        FloatType accumulate = withPrecision.isAccumulating() ? f32 : target;
        withPrecision.setPrecisionAttr(
            PrecisionAttr::get(context, target, accumulate, target));
      }
      if (failed(updateResultTypes(&op, originalTypes)))
        return failure();
    }
    if (!keepIoTypes) {
      auto ret = cast<func::ReturnOp>(body.getTerminator());
      func.setFunctionType(FunctionType::get(
          context, func.getArgumentTypes(), ret.getOperandTypes()));
    }
    return success();
  }

  /// Re-infers result element types after operands and precision changed;
  /// the shapes keep the static dims the IR already had.
  LogicalResult updateResultTypes(Operation *op,
                                  llvm::DenseMap<Value, Type> &originalTypes) {
    auto infer = dyn_cast<InferTypeOpInterface>(op);
    if (!infer) {
      // Ops without type inference keep their types (assign-precision
      // leaves them as they are); their operands were cast back above.
      return success();
    }
    SmallVector<Type> inferred;
    if (failed(infer.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
            op->getRegions(), inferred)))
      return failure();
    for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
      auto old = cast<RankedTensorType>(result.getType());
      Type element = getElementTypeOrSelf(type);
      if (old.getElementType() == element)
        continue;
      originalTypes.try_emplace(result, old);
      result.setType(old.clone(element));
    }
    return success();
  }
};

} // namespace

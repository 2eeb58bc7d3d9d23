//===- LossScaling.cpp - loss scaling of the training step, as ops --------===//
//
// Scaling the loss by S is scaling its gradient seed by S: every gradient
// is then S times too large, which keeps small fp16 gradients from
// flushing to zero. Before the optimizer the gradients are divided by S in
// fp32 and checked for inf/NaN in one pass; a step with a non-finite
// gradient keeps the old state (it is skipped) and backs the scale off.
// With gradient accumulation, all of this happens once per window, at the
// update, on the window's summed gradient (GradScaler's step and update).
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCLOSSSCALING
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

using ::mpc_abi::StateKind;

/// The slot kind of `train`'s argument `i`, if it is state.
static std::optional<StateKind> slotKindOf(func::FuncOp train, unsigned i) {
  if (auto slot = train.getArgAttrOfType<SlotAttr>(i, MPCDialect::kSlotAttrName))
    return slot.getKind();
  return std::nullopt;
}

static Value scalarF32(OpBuilder &b, Location loc, double value) {
  return createScalarConstant(b, loc, b.getF32Type(), value);
}

/// Counters (steps, skipped steps) are i64: an f32 stops counting at 2^24.
static Value scalarI64(OpBuilder &b, Location loc, int64_t value) {
  return createScalarConstant(b, loc, b.getI64Type(), value);
}

/// The number of leading arguments (and results) that are training state.
static unsigned countStateArguments(func::FuncOp func) {
  unsigned n = 0;
  while (n < func.getNumArguments() &&
         func.getArgAttrOfType<SlotAttr>(n, MPCDialect::kSlotAttrName))
    ++n;
  return n;
}

namespace {
class LossScaling : public mpc::impl::MPCLossScalingBase<LossScaling> {
public:
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

void LossScaling::runOnOperation() {
  ModuleOp module = getOperation();
  if (mode != "dynamic" && mode != "static" && mode != "none") {
    module.emitError() << "mpc-loss-scaling: mode must be dynamic, static or "
                          "none, got '"
                       << mode << "'";
    return signalPassFailure();
  }
  if (mode == "none")
    return;
  if (!(initScale > 0) || !(growthFactor >= 1) || !(backoffFactor > 0) ||
      !(backoffFactor < 1) || growthInterval < 1 || !(maxScale >= initScale)) {
    module.emitError()
        << "mpc-loss-scaling: needs init > 0, growth-factor >= 1, 0 < "
           "backoff-factor < 1, growth-interval >= 1 and max >= init";
    return signalPassFailure();
  }
  auto train = module.lookupSymbol<func::FuncOp>("train_step");
  auto init = module.lookupSymbol<func::FuncOp>("init");
  if (!train || !init) {
    module.emitError("mpc-loss-scaling: no @train_step / @init (run "
                     "--mpc-build-training first)");
    return signalPassFailure();
  }
  ConstantOp seed;
  SmallVector<Operation *> updates;
  train.walk([&](Operation *op) {
    if (op->hasAttr("mpc.loss_seed"))
      seed = cast<ConstantOp>(op);
    if (isa<SGDUpdateOp, MomentumUpdateOp, AdamUpdateOp>(op))
      updates.push_back(op);
  });
  if (!seed || updates.empty()) {
    train.emitError("mpc-loss-scaling: @train_step has no loss-gradient seed "
                    "or no optimizer update (was it built by "
                    "--mpc-build-training?)");
    return signalPassFailure();
  }
  for (unsigned i = 0; i < train.getNumArguments(); ++i)
    if (slotKindOf(train, i) == StateKind::LossScale) {
      train.emitError("mpc-loss-scaling: @train_step is already loss-scaled");
      return signalPassFailure();
    }

  OpBuilder b(module.getContext());
  Location loc = withTrainingPart(train.getLoc(), TrainingPart::LossScaling);
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  auto counter = RankedTensorType::get({}, b.getI64Type());
  unsigned numState = countStateArguments(train);
  // The new state: scale, clean steps, skipped steps (the counters i64).
  static constexpr StateKind kinds[] = {StateKind::LossScale,
                                        StateKind::LossScaleCleanSteps,
                                        StateKind::SkippedSteps};
  for (unsigned i = 0; i < 3; ++i) {
    DictionaryAttr attrs = b.getDictionaryAttr(
        b.getNamedAttr(MPCDialect::kSlotAttrName,
                       SlotAttr::get(b.getContext(), kinds[i], "")));
    RankedTensorType type = i == 0 ? scalar : counter;
    if (failed(train.insertArgument(numState + i, type, attrs, loc)) ||
        failed(train.insertResult(numState + i, type, attrs)) ||
        failed(init.insertResult(numState + i, type, attrs)))
      return signalPassFailure();
  }
  Block &block = train.getBody().front();
  Value scale = block.getArgument(numState);
  Value clean = block.getArgument(numState + 1);
  Value skipped = block.getArgument(numState + 2);

  // The seed becomes the scale: d(S * loss)/d loss.
  seed.getResult().replaceAllUsesWith(scale);
  seed.erase();

  // Unscale every gradient the optimizer reads, with one finite check.
  b.setInsertionPoint(updates.front());
  SmallVector<Value> gradients = llvm::map_to_vector(
      updates, [](Operation *op) { return op->getOperand(1); });
  SmallVector<Type> gradTypes =
      llvm::map_to_vector(gradients, [](Value v) { return v.getType(); });
  auto unscale = UnscaleGradientsOp::create(
      b, loc, gradTypes, RankedTensorType::get({}, b.getI1Type()), gradients,
      scale);
  for (auto [op, unscaled] : llvm::zip(updates, unscale.getUnscaled()))
    op->setOperand(1, unscaled);
  Value finite = unscale.getFinite();

  // With accumulation, the micro-batches that do not end the window
  // change neither the scale nor the counters.
  Value apply;
  for (unsigned i = 0; i < train.getNumArguments(); ++i)
    if (auto role = train.getArgAttrOfType<RoleAttr>(
            i, MPCDialect::kRoleAttrName);
        role && role.getRole() == ::mpc_abi::ValueRole::ApplyUpdate)
      apply = block.getArgument(i);
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  b.setInsertionPoint(ret);
  if (apply)
    apply = GreaterOp::create(b, loc, apply, scalarF32(b, loc, 0.5));
  auto atUpdate = [&](Value updated, Value old) -> Value {
    return apply ? WhereOp::create(b, loc, apply, updated, old).getResult()
                 : updated;
  };

  // A step with a non-finite gradient keeps the old state, except the
  // Dropout counter (the step that follows draws new masks) and the
  // accumulators: a micro-batch's overflow stays in the window's sum, so
  // that the update skips the whole window, and the update clears them.
  SmallVector<Value> results(ret.getOperands());
  for (unsigned i = 0; i < numState; ++i) {
    std::optional<StateKind> kind = slotKindOf(train, i);
    if (kind == StateKind::DropoutRng || kind == StateKind::GradAccum)
      continue;
    results[i] =
        WhereOp::create(b, loc, finite, results[i], block.getArgument(i));
  }
  Value newScale = scale, newClean = clean;
  if (mode == "dynamic") {
    auto update = UpdateLossScaleOp::create(
        b, loc, scale, clean, finite, b.getF32FloatAttr(growthFactor),
        b.getF32FloatAttr(backoffFactor),
        b.getI64IntegerAttr(growthInterval), b.getF32FloatAttr(maxScale));
    newScale = atUpdate(update.getNewScale(), scale);
    newClean = atUpdate(update.getNewCleanSteps(), clean);
  }
  Value newSkipped = atUpdate(
      WhereOp::create(
          b, loc, finite, skipped,
          AddOp::create(b, loc, skipped, scalarI64(b, loc, 1), nullptr)),
      skipped);
  // The function type already has the three new results; the return
  // gets them in the same place.
  results.insert(results.begin() + numState, {newScale, newClean, newSkipped});
  ret->setOperands(results);

  // @init: the initial scale, no clean or skipped steps.
  auto initRet = cast<func::ReturnOp>(init.getBody().front().getTerminator());
  b.setInsertionPoint(initRet);
  SmallVector<Value> initial(initRet.getOperands());
  initial.insert(initial.begin() + numState,
                 {scalarF32(b, loc, initScale), scalarI64(b, loc, 0),
                  scalarI64(b, loc, 0)});
  initRet->setOperands(initial);
}

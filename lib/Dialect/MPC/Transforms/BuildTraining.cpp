//===- BuildTraining.cpp - forward function -> training program -----------===//
//
// @main becomes @train_step (forward, loss, reverse-mode gradients, the
// optimizer update), @eval_step and @init. The training state (fp32 master
// weights, optimizer slots, step count) is passed in and returned by
// @train_step, so the runtime owns it and can checkpoint it by name.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCBUILDTRAINING
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

using ::mpc_abi::StateKind;
using ::mpc_abi::ValueRole;

static constexpr llvm::StringLiteral kNameAttr = "mpc.name";

/// `node 'NAME' (mpc.op)` for diagnostics, from the ONNX node's location.
static std::string describeNode(Operation *op) {
  std::string text;
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    text = "node '" + name.getName().str() + "' (";
  else
    text = "(";
  return text + op->getName().getStringRef().str() + ")";
}

static Value zerosLike(OpBuilder &b, Location loc, RankedTensorType type) {
  return ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0.0)));
}

static Value scalarF32(OpBuilder &b, Location loc, double value) {
  return createScalarConstant(b, loc, b.getF32Type(), value);
}

/// Clips `grads` (the optimizer's operands) as torch.nn.utils'
/// clip_grad_value_ and then clip_grad_norm_ do; either threshold may be
/// null. The thresholds are multiplied by the loss-gradient seed, which
/// loss scaling replaces by the scale: clipping scaled gradients at scaled
/// thresholds is clipping the unscaled ones, so the unscale, its finite
/// check and the skip of a non-finite step are untouched. Returns the
/// global L2 norm before norm clipping, unscaled (null without maxNorm).
static Value clipGradients(OpBuilder &b, Location loc, Block &block,
                           SmallVectorImpl<Value> &grads, Value maxNorm,
                           Value clipValue) {
  Value seed;
  for (Operation &op : block)
    if (op.hasAttr("mpc.loss_seed"))
      seed = op.getResult(0);
  assert(seed && "the gradients were built from a seed");
  auto mul = [&](Value x, Value y) {
    return MulOp::create(b, loc, x, y, nullptr).getResult();
  };
  if (clipValue) {
    Value bound = mul(clipValue, seed);
    Value negated = SubOp::create(b, loc, scalarF32(b, loc, 0.0), bound,
                                  nullptr);
    for (Value &g : grads)
      g = MinOp::create(b, loc, MaxOp::create(b, loc, g, negated, nullptr),
                        bound, nullptr);
  }
  if (!maxNorm)
    return Value();
  Value sumOfSquares;
  for (Value g : grads) {
    Value squares = ReduceSumOp::create(b, loc, mul(g, g), ArrayRef<int64_t>{},
                                        /*keepdims=*/false, nullptr);
    sumOfSquares = sumOfSquares ? AddOp::create(b, loc, sumOfSquares, squares,
                                                nullptr)
                                      .getResult()
                                : squares;
  }
  Value norm = SqrtOp::create(b, loc, sumOfSquares, nullptr);
  // clip_grad_norm_'s coefficient max_norm / (norm + 1e-6), at most 1; for
  // scaled gradients max_norm * S / (norm_S + 1e-6 * S), the same.
  Value denominator = AddOp::create(
      b, loc, norm, mul(scalarF32(b, loc, 1e-6), seed), nullptr);
  Value coefficient = MinOp::create(
      b, loc, DivOp::create(b, loc, mul(maxNorm, seed), denominator, nullptr),
      scalarF32(b, loc, 1.0), nullptr);
  for (Value &g : grads)
    g = mul(g, coefficient);
  return DivOp::create(b, loc, norm, seed, nullptr);
}

/// Tags the ops of `block` after `mark` (all of them without one) as
/// `part`, keeping a part they have (a clipping op made with the optimizer
/// location stays clipping): the precision report and the line tables then
/// tell `/fc2/Gemm`'s gradient from `/fc2/Gemm`. The gradient rules build
/// their ops at the forward op's location, the loss's included, so those
/// become backward.
static void tagOpsAfter(Block &block, Operation *mark, TrainingPart part) {
  for (Operation *op = mark ? mark->getNextNode() : &block.front(); op;
       op = op->getNextNode()) {
    TrainingPart current = getTrainingPart(op->getLoc());
    if (current == TrainingPart::Forward ||
        (part == TrainingPart::Backward && current == TrainingPart::Loss))
      op->setLoc(withTrainingPart(op->getLoc(), part));
  }
}

/// The last op of `block`, where the next part starts after.
static Operation *lastOp(Block &block) {
  return block.empty() ? nullptr : &block.back();
}

/// Counters (steps, skipped steps) are i64: an f32 stops counting at 2^24.
static Value scalarI64(OpBuilder &b, Location loc, int64_t value) {
  return createScalarConstant(b, loc, b.getI64Type(), value);
}

namespace {

/// One slot of the training state.
struct StateSlot {
  SlotAttr slot; // #mpc.slot<adam_m, "fc1.weight">, #mpc.slot<step>
  RankedTensorType type;
};

class BuildTraining : public mpc::impl::MPCBuildTrainingBase<BuildTraining> {
public:
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult validateOptions(ModuleOp module);
  /// Clones @main's body into `block` with the parameters named in
  /// `stateValues` read from those values; returns @main's outputs. With
  /// `updatedStats` (training) it receives each running statistic's new
  /// value and Dropout draws from `dropoutKey`; without (evaluation),
  /// training-mode BatchNorm uses its running statistics and Dropout is
  /// the identity.
  SmallVector<Value> cloneForward(OpBuilder &b, func::FuncOp main,
                                  ValueRange inputs,
                                  const llvm::StringMap<Value> &stateValues,
                                  llvm::StringMap<Value> *updatedStats);
  /// The parameters and running statistics by name, from their values in
  /// state order.
  llvm::StringMap<Value> stateByName(ValueRange paramValues,
                                     ValueRange statValues);
  /// The parameters training-mode BatchNorm keeps its running statistics
  /// in (non-trainable state the forward pass updates).
  LogicalResult collectRunningStatistics(ModuleOp module, func::FuncOp main);
  /// The mean loss, or with `perSample` one loss per sample (per element
  /// of the label) for evaluation, which masks padded samples out.
  FailureOr<Value> buildLoss(OpBuilder &b, Location loc, Value output,
                             Value label, bool perSample = false);
  /// Reverse mode from `loss` back to `params`; one gradient per param.
  FailureOr<SmallVector<Value>> buildGradients(OpBuilder &b, Block &block,
                                               Value loss, ValueRange params);
  /// Slot kinds of the optimizer, besides the parameter itself.
  SmallVector<StateKind> slotKinds() const;

  SmallVector<ParameterOp> params;
  SmallVector<ParameterOp> runningStats;
  /// The random key of this step's Dropout masks, when the model has
  /// training-mode Dropout.
  Value dropoutKey;
  uint64_t dropoutStreams = 0;
  /// Whether training-mode BatchNorm folds the unbiased batch variance
  /// into its running variance (the `running-variance` option resolved).
  bool unbiasedRunningVariance = false;
  unsigned outputIndex = 0;
  Type labelType;
};

} // namespace

LogicalResult BuildTraining::validateOptions(ModuleOp module) {
  if (loss != "model" && loss != "cross-entropy" && loss != "mse")
    return module.emitError() << "mpc-build-training: loss must be model, "
                                 "cross-entropy or mse, got '"
                              << loss << "'";
  if (optimizer != "sgd" && optimizer != "momentum" && optimizer != "adam" &&
      optimizer != "adamw")
    return module.emitError() << "mpc-build-training: optimizer must be sgd, "
                                 "momentum, adam or adamw, got '"
                              << optimizer << "'";
  return success();
}

SmallVector<StateKind> BuildTraining::slotKinds() const {
  if (optimizer == "momentum")
    return {StateKind::Momentum};
  if (optimizer == "adam" || optimizer == "adamw")
    return {StateKind::AdamM, StateKind::AdamV};
  return {};
}

LogicalResult BuildTraining::collectRunningStatistics(ModuleOp module,
                                                     func::FuncOp main) {
  SymbolTable symbols(module);
  llvm::DenseMap<ParameterOp, Operation *> owner;
  WalkResult walk = main.walk([&](BatchNormOp bn) -> WalkResult {
    if (!bn.getTraining())
      return WalkResult::advance();
    for (Value stat : {bn.getMean(), bn.getVariance()}) {
      auto get = stat.getDefiningOp<GetParameterOp>();
      auto parameter =
          get ? symbols.lookup<ParameterOp>(get.getName()) : ParameterOp();
      if (!parameter) {
        bn.emitError() << "mpc-build-training: " << describeNode(bn)
                       << " runs in training mode but its running "
                          "statistics are not initializers; they cannot be "
                          "kept as training state";
        return WalkResult::interrupt();
      }
      auto [it, added] = owner.try_emplace(parameter, bn);
      if (!added) {
        bn.emitError() << "mpc-build-training: " << describeNode(bn)
                       << " and " << describeNode(it->second)
                       << " both update the running statistic '"
                       << parameter.getSymName()
                       << "'; a statistic has one BatchNorm node";
        return WalkResult::interrupt();
      }
      if (parameter.getTrainable()) {
        bn.emitError() << "mpc-build-training: running statistic '"
                       << parameter.getSymName() << "' of "
                       << describeNode(bn) << " is also a trainable weight";
        return WalkResult::interrupt();
      }
      runningStats.push_back(parameter);
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

llvm::StringMap<Value>
BuildTraining::stateByName(ValueRange paramValues,
                           ValueRange statValues) {
  llvm::StringMap<Value> byName;
  for (auto [param, value] : llvm::zip_equal(params, paramValues))
    byName[param.getSymName()] = value;
  for (auto [stat, value] : llvm::zip_equal(runningStats, statValues))
    byName[stat.getSymName()] = value;
  return byName;
}

SmallVector<Value> BuildTraining::cloneForward(
    OpBuilder &b, func::FuncOp main, ValueRange inputs,
    const llvm::StringMap<Value> &stateValues,
    llvm::StringMap<Value> *updatedStats) {
  IRMapping mapping;
  mapping.map(main.getArguments(), inputs);
  bool inference = !updatedStats;
  SmallVector<Value> outputs;
  for (Operation &op : main.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands())
        outputs.push_back(mapping.lookupOrDefault(v));
      continue;
    }
    if (auto get = dyn_cast<GetParameterOp>(op)) {
      auto it = stateValues.find(get.getName());
      if (it != stateValues.end()) {
        mapping.map(get.getResult(), it->second);
        continue;
      }
    }
    Operation *clone = b.clone(op, mapping);
    if (auto bn = dyn_cast<BatchNormOp>(clone); bn && bn.getTraining()) {
      if (inference) {
        bn.setTraining(false);
      } else {
        bn.setUnbiasedRunningVariance(unbiasedRunningVariance);
        auto original = cast<BatchNormOp>(op);
        auto nameOf = [](Value stat) {
          return stat.getDefiningOp<GetParameterOp>().getName();
        };
        (*updatedStats)[nameOf(original.getMean())] = bn.getRunningMean();
        (*updatedStats)[nameOf(original.getVariance())] =
            bn.getRunningVariance();
      }
    }
    if (auto dropout = dyn_cast<DropoutOp>(clone);
        dropout && dropout.getTraining()) {
      if (inference) {
        dropout.setTraining(false);
      } else {
        // One stream per Dropout node: layers draw different masks.
        dropout.getKeyMutable().assign(dropoutKey);
        dropout.setStream(dropoutStreams++);
      }
    }
  }
  return outputs;
}

FailureOr<Value> BuildTraining::buildLoss(OpBuilder &b, Location loc,
                                          Value output, Value label,
                                          bool perSample) {
  if (loss == "model")
    return output;
  if (loss == "cross-entropy")
    return SoftmaxCrossEntropyLossOp::create(
               b, loc, output, label,
               /*weights=*/nullptr,
               perSample ? LossReduction::None : LossReduction::Mean,
               /*ignore_index=*/nullptr,
               /*precision=*/nullptr)
        .getLoss();
  Value diff = SubOp::create(b, loc, output, label, nullptr);
  Value square = MulOp::create(b, loc, diff, diff, nullptr);
  auto type = cast<RankedTensorType>(square.getType());
  if (perSample && type.getRank() <= 1)
    return square;
  SmallVector<int64_t> axes;
  if (perSample)
    axes = llvm::to_vector(llvm::seq<int64_t>(1, type.getRank()));
  else
    axes = llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
  return ReduceMeanOp::create(b, loc, square, axes,
                              /*keepdims=*/false, nullptr)
      .getOutput();
}

FailureOr<SmallVector<Value>>
BuildTraining::buildGradients(OpBuilder &b, Block &block, Value lossValue,
                              ValueRange paramValues) {
  // Activity: the float values that depend on a trainable parameter.
  llvm::DenseSet<Value> active(paramValues.begin(), paramValues.end());
  SmallVector<Operation *> forward;
  for (Operation &op : block) {
    forward.push_back(&op);
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      for (Value r : op.getResults())
        if (isa<FloatType>(getElementTypeOrSelf(r)))
          active.insert(r);
  }
  if (!active.contains(lossValue)) {
    emitError(lossValue.getLoc())
        << "mpc-build-training: the loss does not depend on any trainable "
           "parameter";
    return failure();
  }

  b.setInsertionPointToEnd(&block);
  Location loc = lossValue.getLoc();
  // d loss / d loss = 1; loss scaling replaces this seed by the scale.
  Value seed = scalarF32(b, loc, 1.0);
  seed.getDefiningOp()->setAttr("mpc.loss_seed", b.getUnitAttr());
  DenseMap<Value, Value> grads;
  grads[lossValue] = seed;

  for (Operation *op : llvm::reverse(forward)) {
    if (llvm::none_of(op->getResults(),
                      [&](Value r) { return grads.count(r); }))
      continue;
    if (llvm::none_of(op->getOperands(),
                      [&](Value v) { return active.contains(v); }))
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule) {
      op->emitError() << "mpc-build-training: " << describeNode(op)
                      << " lies between a trainable parameter and the loss "
                         "but has no gradient rule";
      return failure();
    }
    SmallVector<Value> resultGrads = llvm::map_to_vector(
        op->getResults(), [&](Value r) { return grads.lookup(r); });
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradients(b, resultGrads, operandGrads)))
      return failure();
    for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!grad || !active.contains(operand))
        continue;
      Value &slot = grads[operand];
      slot = slot ? AddOp::create(b, op->getLoc(), slot, grad, nullptr)
                        .getResult()
                  : grad;
    }
  }
  // Training that cannot change the loss is a mistake in the model or the
  // loss choice, not a program to build (its loss scaling has no gradient
  // to scale).
  if (!params.empty() && llvm::none_of(paramValues, [&](Value value) {
        return grads.lookup(value) != nullptr;
      })) {
    params.front()->getParentOfType<ModuleOp>().emitError()
        << "mpc-build-training: no trainable parameter affects the loss ("
        << params.size() << " parameter" << (params.size() == 1 ? "" : "s")
        << ", e.g. '" << params.front().getSymName()
        << "'); check the loss output";
    return failure();
  }
  SmallVector<Value> result;
  for (auto [param, value] : llvm::zip(params, paramValues)) {
    Value grad = grads.lookup(value);
    if (!grad) {
      param.emitWarning() << "trainable parameter '" << param.getSymName()
                          << "' does not affect the loss; its gradient is 0";
      grad = zerosLike(b, loc, cast<RankedTensorType>(value.getType()));
    }
    result.push_back(grad);
  }
  return result;
}

void BuildTraining::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(validateOptions(module)))
    return signalPassFailure();
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main) {
    module.emitError("mpc-build-training: no @main forward function");
    return signalPassFailure();
  }
  for (StringRef name : {"train_step", "eval_step", "init"})
    if (module.lookupSymbol(name)) {
      module.emitError() << "mpc-build-training: the module already has @"
                         << name;
      return signalPassFailure();
    }
  FunctionType mainType = main.getFunctionType();
  auto argName = [&](unsigned i) {
    auto name = main.getArgAttrOfType<StringAttr>(i, kNameAttr);
    return name ? name.str() : "input" + std::to_string(i);
  };
  for (auto [i, type] : llvm::enumerate(mainType.getInputs()))
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        !tensor || !tensor.hasStaticShape()) {
      main.emitError() << "mpc-build-training: input '" << argName(i)
                       << "' has type " << type
                       << "; training programs need static shapes (pin them "
                          "with --input-shape)";
      return signalPassFailure();
    }

  // The output the loss attaches to.
  SmallVector<std::string> outputNames;
  for (unsigned i = 0; i < mainType.getNumResults(); ++i) {
    auto name = main.getResultAttrOfType<StringAttr>(i, kNameAttr);
    outputNames.push_back(name ? name.str() : "output" + std::to_string(i));
  }
  if (output.empty()) {
    if (outputNames.size() != 1) {
      main.emitError() << "mpc-build-training: the model has "
                       << outputNames.size()
                       << " outputs; choose the one the loss attaches to "
                          "with output=NAME";
      return signalPassFailure();
    }
    outputIndex = 0;
  } else {
    auto it = llvm::find(outputNames, output);
    if (it == outputNames.end()) {
      main.emitError() << "mpc-build-training: no output named '" << output
                       << "' (outputs: " << llvm::join(outputNames, ", ")
                       << ")";
      return signalPassFailure();
    }
    outputIndex = it - outputNames.begin();
  }
  auto outputType =
      dyn_cast<RankedTensorType>(mainType.getResult(outputIndex));
  if (!outputType || !isa<FloatType>(outputType.getElementType()) ||
      !outputType.hasStaticShape()) {
    main.emitError() << "mpc-build-training: output '"
                     << outputNames[outputIndex] << "' has type "
                     << mainType.getResult(outputIndex)
                     << "; the loss needs a statically shaped float tensor";
    return signalPassFailure();
  }
  if (loss == "model" && outputType.getRank() != 0) {
    main.emitError() << "mpc-build-training: loss=model needs output '"
                     << outputNames[outputIndex]
                     << "' to be the model's scalar loss, it has type "
                     << outputType;
    return signalPassFailure();
  }
  if (loss == "cross-entropy") {
    if (outputType.getRank() < 2) {
      main.emitError() << "mpc-build-training: cross-entropy needs logits "
                          "[N, C, ...], output '"
                       << outputNames[outputIndex] << "' has type "
                       << outputType;
      return signalPassFailure();
    }
    SmallVector<int64_t> shape(outputType.getShape());
    shape.erase(shape.begin() + 1);
    labelType = RankedTensorType::get(shape, IntegerType::get(&getContext(), 64));
  } else if (loss == "mse") {
    labelType = outputType;
  }

  // Trainable parameters read by @main, in module order.
  llvm::SetVector<StringRef> used;
  main.walk([&](GetParameterOp get) { used.insert(get.getName()); });
  for (auto param : module.getOps<ParameterOp>())
    if (param.getTrainable() && used.contains(param.getSymName()))
      params.push_back(param);
  if (params.empty()) {
    // Exporters such as Paddle2ONNX write weights as Constant nodes.
    int64_t floatConstants = 0;
    main.walk([&](ConstantOp constant) {
      auto type = dyn_cast<RankedTensorType>(constant.getType());
      floatConstants += type && type.getRank() > 0 &&
                        isa<FloatType>(type.getElementType());
    });
    InFlightDiagnostic diag = main.emitError(
        "mpc-build-training: the model has no trainable parameters");
    if (floatConstants > 0)
      diag << " (it has " << floatConstants
           << " float constant tensors: weights written as Constant nodes "
              "train with --trainable-constants)";
    return signalPassFailure();
  }

  if (failed(collectRunningStatistics(module, main)))
    return signalPassFailure();
  unbiasedRunningVariance =
      runningVariance == RunningVarianceEstimate::Unbiased;
  if (runningVariance == RunningVarianceEstimate::Auto)
    if (auto producer =
            module->getAttrOfType<StringAttr>("mpc.onnx.producer"))
      unbiasedRunningVariance = producer.getValue().starts_with("pytorch");
  if (unbiasedRunningVariance) {
    // n / (n - 1) needs two values per channel (PyTorch refuses to train
    // such a BatchNorm too).
    WalkResult tooFew = main.walk([&](BatchNormOp bn) {
      auto type = cast<RankedTensorType>(bn.getInput().getType());
      if (!bn.getTraining() || !type.hasStaticShape() ||
          type.getNumElements() != type.getDimSize(1))
        return WalkResult::advance();
      bn.emitError() << "mpc-build-training: " << describeNode(bn)
                     << " normalises one value per channel (input " << type
                     << "): its unbiased running variance is undefined; "
                        "use a larger batch or --bn-running-variance="
                        "population";
      return WalkResult::interrupt();
    });
    if (tooFew.wasInterrupted())
      return signalPassFailure();
  }
  for (ParameterOp stat : runningStats)
    if (!stat.getType().getElementType().isF32()) {
      stat.emitError() << "mpc-build-training: running statistic '"
                       << stat.getSymName() << "' has type " << stat.getType()
                       << "; running statistics are kept in f32";
      return signalPassFailure();
    }

  OpBuilder b(module.getContext());
  Location loc = main.getLoc();
  // The loss the pass adds is node "loss" in diagnostics and the report,
  // and a policy matches it by that name.
  Location lossLoc = NameLoc::get(b.getStringAttr("loss"), loc);
  Type f32Scalar = RankedTensorType::get({}, b.getF32Type());
  SmallVector<StateKind> kinds = slotKinds();
  MLIRContext *context = module.getContext();
  auto slotOf = [&](StateKind kind, StringRef parameter = "") {
    return SlotAttr::get(context, kind, parameter);
  };
  auto role = [&](ValueRole role) { return RoleAttr::get(context, role); };

  // The state: parameters, each optimizer slot kind, the running
  // statistics, then the step.
  SmallVector<StateSlot> state;
  for (ParameterOp p : params)
    state.push_back({slotOf(StateKind::Param, p.getSymName()), p.getType()});
  for (StateKind kind : kinds)
    for (ParameterOp p : params)
      state.push_back({slotOf(kind, p.getSymName()), p.getType()});
  // Gradient accumulation sums in fp32 whatever the gradient's precision,
  // as torch.autocast's fp32 .grad does.
  bool accumulating = accumulate > 1;
  unsigned firstAccumulator = state.size();
  if (accumulating)
    for (ParameterOp p : params)
      state.push_back({slotOf(StateKind::GradAccum, p.getSymName()),
                       p.getType().clone(b.getF32Type())});
  unsigned firstStat = state.size();
  for (ParameterOp p : runningStats)
    state.push_back({slotOf(StateKind::Stat, p.getSymName()), p.getType()});
  // Training-mode Dropout draws its masks from a counter the runtime seeds
  // (--seed) and every step advances, kept with the state so that a
  // resumed run draws the masks an uninterrupted one would.
  bool hasDropout = false;
  main.walk([&](DropoutOp op) { hasDropout |= op.getTraining(); });
  std::optional<unsigned> rngSlot;
  if (hasDropout) {
    rngSlot = state.size();
    state.push_back({slotOf(StateKind::DropoutRng),
                     RankedTensorType::get({}, b.getI64Type())});
  }
  state.push_back(
      {slotOf(StateKind::Step), RankedTensorType::get({}, b.getI64Type())});

  if (!(clipGradNorm >= 0) || !(clipGradValue >= 0)) {
    module.emitError("mpc-build-training: clip-grad-norm and clip-grad-value "
                     "must be 0 (none) or positive");
    return signalPassFailure();
  }
  if (accumulate < 1) {
    module.emitError() << "mpc-build-training: accumulate must be 1 (none) "
                          "or more micro-batches, got "
                       << int64_t(accumulate);
    return signalPassFailure();
  }
  // @train_step(state..., inputs..., [labels], lr, weight_decay,
  //             [max_grad_norm], [grad_clip_value],
  //             [accumulation_steps, apply_update])
  //   -> (state..., loss, [grad_norm])
  bool clipNorm = clipGradNorm > 0, clipValue = clipGradValue > 0;
  SmallVector<Type> argTypes, resultTypes;
  for (const StateSlot &slot : state)
    argTypes.push_back(slot.type);
  llvm::append_range(argTypes, mainType.getInputs());
  if (labelType)
    argTypes.push_back(labelType);
  unsigned firstHyper = argTypes.size();
  unsigned numHyper = 2 + (clipNorm ? 1 : 0) + (clipValue ? 1 : 0) +
                      (accumulating ? 2 : 0);
  argTypes.append(numHyper, f32Scalar);
  for (const StateSlot &slot : state)
    resultTypes.push_back(slot.type);
  resultTypes.push_back(f32Scalar);
  if (clipNorm)
    resultTypes.push_back(f32Scalar);
  b.setInsertionPointToEnd(module.getBody());
  auto train = func::FuncOp::create(b, loc, "train_step",
                                    b.getFunctionType(argTypes, resultTypes));
  Block *block = train.addEntryBlock();
  unsigned numState = state.size(), numInputs = mainType.getNumInputs();
  for (unsigned i = 0; i < numState; ++i) {
    train.setArgAttr(i, MPCDialect::kSlotAttrName, state[i].slot);
    train.setResultAttr(i, MPCDialect::kSlotAttrName, state[i].slot);
  }
  for (unsigned i = 0; i < numInputs; ++i)
    train.setArgAttr(numState + i, kNameAttr, b.getStringAttr(argName(i)));
  if (labelType) {
    train.setArgAttr(numState + numInputs, kNameAttr, b.getStringAttr(label));
    train.setArgAttr(numState + numInputs, MPCDialect::kRoleAttrName,
                     role(ValueRole::Label));
  }
  // The hyperparameters, runtime inputs after the data.
  SmallVector<std::pair<StringRef, ValueRole>> hyper = {
      {"lr", ValueRole::LearningRate}, {"weight_decay", ValueRole::WeightDecay}};
  if (clipNorm)
    hyper.push_back({"max_grad_norm", ValueRole::MaxGradNorm});
  if (clipValue)
    hyper.push_back({"grad_clip_value", ValueRole::GradClipValue});
  if (accumulating) {
    hyper.push_back({"accumulation_steps", ValueRole::AccumulationSteps});
    hyper.push_back({"apply_update", ValueRole::ApplyUpdate});
  }
  for (auto [i, entry] : llvm::enumerate(hyper)) {
    train.setArgAttr(firstHyper + i, kNameAttr, b.getStringAttr(entry.first));
    train.setArgAttr(firstHyper + i, MPCDialect::kRoleAttrName,
                     role(entry.second));
  }
  // What the runtime needs to know about the program: the optimizer's
  // name (the binary checks --optimizer against it) and its defaults,
  // PyTorch's.
  float decay = weightDecay >= 0 ? float(weightDecay)
                                 : (optimizer == "adamw" ? 0.01f : 0.0f);
  float defaultLR = learningRate > 0 ? float(learningRate) : 1e-3f;
  SmallVector<NamedAttribute> optimizerInfo = {
      b.getNamedAttr("name", b.getStringAttr(optimizer)),
      b.getNamedAttr("lr", b.getF32FloatAttr(defaultLR)),
      b.getNamedAttr("weight_decay", b.getF32FloatAttr(decay)),
      b.getNamedAttr("loss", b.getStringAttr(loss))};
  // The clipping defaults, where clipping is compiled in.
  if (clipNorm)
    optimizerInfo.push_back(
        b.getNamedAttr("clip_grad_norm", b.getF32FloatAttr(clipGradNorm)));
  if (clipValue)
    optimizerInfo.push_back(
        b.getNamedAttr("clip_grad_value", b.getF32FloatAttr(clipGradValue)));
  if (accumulating)
    optimizerInfo.push_back(
        b.getNamedAttr("accumulate", b.getI64IntegerAttr(accumulate)));
  train->setAttr("mpc.optimizer", b.getDictionaryAttr(optimizerInfo));
  train.setResultAttr(numState, kNameAttr, b.getStringAttr("loss"));
  train.setResultAttr(numState, MPCDialect::kRoleAttrName,
                      role(ValueRole::Loss));
  if (clipNorm) {
    train.setResultAttr(numState + 1, kNameAttr, b.getStringAttr("grad_norm"));
    train.setResultAttr(numState + 1, MPCDialect::kRoleAttrName,
                        role(ValueRole::GradNorm));
  }

  b.setInsertionPointToStart(block);
  ValueRange args = block->getArguments();
  ValueRange paramArgs = args.take_front(params.size());
  ValueRange inputArgs = args.slice(numState, numInputs);
  Value labelArg = labelType ? args[numState + numInputs] : Value();
  Value lr = args[firstHyper];
  Value decayArg = args[firstHyper + 1];
  Value maxNormArg = clipNorm ? args[firstHyper + 2] : Value();
  Value clipValueArg = clipValue ? args[firstHyper + 2 + (clipNorm ? 1 : 0)]
                                 : Value();
  Value accumulationSteps = accumulating ? args[firstHyper + numHyper - 2]
                                         : Value();
  Value applyArg = accumulating ? args[firstHyper + numHyper - 1] : Value();
  Value step = args[numState - 1];
  llvm::StringMap<Value> updatedStats;
  if (rngSlot)
    dropoutKey = args[*rngSlot];
  SmallVector<Value> outputs = cloneForward(
      b, main, inputArgs,
      stateByName(paramArgs, args.slice(firstStat, runningStats.size())),
      &updatedStats);
  Operation *mark = lastOp(*block);
  FailureOr<Value> lossValue = buildLoss(b, lossLoc, outputs[outputIndex], labelArg);
  if (failed(lossValue))
    return signalPassFailure();
  tagOpsAfter(*block, mark, TrainingPart::Loss);
  mark = lastOp(*block);
  FailureOr<SmallVector<Value>> grads =
      buildGradients(b, *block, *lossValue, paramArgs);
  if (failed(grads))
    return signalPassFailure();
  tagOpsAfter(*block, mark, TrainingPart::Backward);
  mark = lastOp(*block);

  b.setInsertionPointToEnd(block);
  // Accumulation: the window's sum so far plus this micro-batch's
  // gradient; the update reads its mean.
  SmallVector<Value> accumulated;
  Value apply;
  if (accumulating) {
    apply = GreaterOp::create(b, loc, applyArg, scalarF32(b, loc, 0.5));
    Value reciprocal =
        DivOp::create(b, loc, scalarF32(b, loc, 1.0), accumulationSteps,
                      nullptr);
    for (auto [i, grad] : llvm::enumerate(*grads)) {
      Value sum = AddOp::create(b, params[i].getLoc(),
                                args[firstAccumulator + i], grad, nullptr);
      accumulated.push_back(sum);
      grad = MulOp::create(b, params[i].getLoc(), sum, reciprocal, nullptr);
    }
    tagOpsAfter(*block, mark, TrainingPart::Accumulation);
    mark = lastOp(*block);
  }
  Value gradNorm;
  if (clipNorm || clipValue) {
    gradNorm = clipGradients(b, loc, *block, *grads, maxNormArg, clipValueArg);
    tagOpsAfter(*block, mark, TrainingPart::Clipping);
    mark = lastOp(*block);
  }

  // The optimizer, in fp32 on the master weights.
  unsigned numParams = params.size();
  SmallVector<Value> newState(numState);
  for (unsigned i = 0; i < numParams; ++i) {
    Value param = args[i], grad = (*grads)[i];
    Location ploc = params[i].getLoc();
    if (optimizer == "sgd") {
      newState[i] = SGDUpdateOp::create(b, ploc, param, grad, lr, decayArg);
    } else if (optimizer == "momentum") {
      auto update = MomentumUpdateOp::create(
          b, ploc, param, grad, args[numParams + i], lr, step, decayArg,
          b.getF32FloatAttr(momentum), b.getF32FloatAttr(0.0f),
          nesterov ? b.getUnitAttr() : nullptr);
      newState[i] = update.getNewParam();
      newState[numParams + i] = update.getNewBuffer();
    } else {
      auto update = AdamUpdateOp::create(
          b, ploc, param, grad, args[numParams + i], args[2 * numParams + i],
          lr, step, decayArg, b.getF32FloatAttr(beta1),
          b.getF32FloatAttr(beta2), b.getF32FloatAttr(epsilon),
          optimizer == "adamw" ? b.getUnitAttr() : nullptr);
      newState[i] = update.getNewParam();
      newState[numParams + i] = update.getNewM();
      newState[2 * numParams + i] = update.getNewV();
    }
  }
  for (auto [i, stat] : llvm::enumerate(runningStats))
    newState[firstStat + i] = updatedStats.lookup(stat.getSymName());
  if (rngSlot)
    newState[*rngSlot] =
        AddOp::create(b, loc, args[*rngSlot], scalarI64(b, loc, 1), nullptr);
  newState[numState - 1] =
      AddOp::create(b, loc, step, scalarI64(b, loc, 1), nullptr);
  if (accumulating) {
    // A micro-batch that does not end the window changes no weight,
    // optimizer slot or step count; the one that does clears the sums.
    for (unsigned i = 0; i < firstAccumulator; ++i)
      newState[i] = WhereOp::create(b, loc, apply, newState[i], args[i]);
    newState[numState - 1] =
        WhereOp::create(b, loc, apply, newState[numState - 1], step);
    for (unsigned i = 0; i < numParams; ++i)
      newState[firstAccumulator + i] = WhereOp::create(
          b, params[i].getLoc(), apply,
          zerosLike(b, loc, state[firstAccumulator + i].type), accumulated[i]);
  }
  tagOpsAfter(*block, mark, TrainingPart::Optimizer);
  SmallVector<Value> results(newState);
  results.push_back(*lossValue);
  if (clipNorm)
    results.push_back(gradNorm);
  func::ReturnOp::create(b, loc, results);
  // Rules build every operand's gradient; those nothing reads (the input
  // of the first layer, say) go.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*block)))
    if (isOpTriviallyDead(&op))
      op.erase();

  // @eval_step(params..., stats..., inputs..., [labels]) -> (loss, output):
  // the loss per sample where it has one, so that the runtime can mask
  // padding.
  SmallVector<Type> evalArgs;
  for (ParameterOp p : params)
    evalArgs.push_back(p.getType());
  for (ParameterOp p : runningStats)
    evalArgs.push_back(p.getType());
  unsigned numEvalState = params.size() + runningStats.size();
  llvm::append_range(evalArgs, mainType.getInputs());
  if (labelType)
    evalArgs.push_back(labelType);
  SmallVector<Type> evalResults = {f32Scalar, outputType};
  b.setInsertionPointToEnd(module.getBody());
  auto eval = func::FuncOp::create(b, loc, "eval_step",
                                   b.getFunctionType(evalArgs, evalResults));
  Block *evalBlock = eval.addEntryBlock();
  for (unsigned i = 0; i < numParams; ++i)
    eval.setArgAttr(i, MPCDialect::kSlotAttrName, state[i].slot);
  for (unsigned i = 0; i < runningStats.size(); ++i)
    eval.setArgAttr(numParams + i, MPCDialect::kSlotAttrName,
                    state[firstStat + i].slot);
  for (unsigned i = 0; i < numInputs; ++i)
    eval.setArgAttr(numEvalState + i, kNameAttr, b.getStringAttr(argName(i)));
  if (labelType) {
    eval.setArgAttr(numEvalState + numInputs, kNameAttr,
                    b.getStringAttr(label));
    eval.setArgAttr(numEvalState + numInputs, MPCDialect::kRoleAttrName,
                    role(ValueRole::Label));
  }
  eval.setResultAttr(0, kNameAttr, b.getStringAttr("loss"));
  eval.setResultAttr(0, MPCDialect::kRoleAttrName, role(ValueRole::Loss));
  eval.setResultAttr(1, kNameAttr, b.getStringAttr(outputNames[outputIndex]));
  eval.setResultAttr(1, MPCDialect::kRoleAttrName, role(ValueRole::Output));
  b.setInsertionPointToStart(evalBlock);
  ValueRange evalArgValues = evalBlock->getArguments();
  SmallVector<Value> evalOutputs = cloneForward(
      b, main, evalArgValues.slice(numEvalState, numInputs),
      stateByName(evalArgValues.take_front(numParams),
                  evalArgValues.slice(numParams, runningStats.size())),
      /*updatedStats=*/nullptr);
  Operation *evalMark = lastOp(*evalBlock);
  FailureOr<Value> evalLoss =
      buildLoss(b, lossLoc, evalOutputs[outputIndex],
                labelType ? evalArgValues.back() : Value(),
                /*perSample=*/true);
  if (failed(evalLoss))
    return signalPassFailure();
  tagOpsAfter(*evalBlock, evalMark, TrainingPart::Loss);
  eval.setFunctionType(b.getFunctionType(
      evalArgs, {evalLoss->getType(), outputType}));
  func::ReturnOp::create(b, loc,
                         ValueRange{*evalLoss, evalOutputs[outputIndex]});
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*evalBlock)))
    if (isOpTriviallyDead(&op))
      op.erase();

  // @init() -> (state...): the initializers, zero slots, step 0.
  b.setInsertionPointToEnd(module.getBody());
  auto init = func::FuncOp::create(
      b, loc, "init",
      b.getFunctionType({}, ArrayRef<Type>(resultTypes).take_front(numState)));
  for (unsigned i = 0; i < numState; ++i)
    init.setResultAttr(i, MPCDialect::kSlotAttrName, state[i].slot);
  b.setInsertionPointToStart(init.addEntryBlock());
  SmallVector<Value> initial;
  for (ParameterOp p : params)
    initial.push_back(
        GetParameterOp::create(b, loc, p.getType(), p.getSymName()));
  for (unsigned i = numParams; i < firstStat; ++i)
    initial.push_back(zerosLike(b, loc, state[i].type));
  for (ParameterOp p : runningStats)
    initial.push_back(
        GetParameterOp::create(b, loc, p.getType(), p.getSymName()));
  if (rngSlot)
    initial.push_back(scalarI64(b, loc, 0));
  initial.push_back(scalarI64(b, loc, 0));
  func::ReturnOp::create(b, loc, initial);
}

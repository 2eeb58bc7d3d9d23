//===- PrecisionPolicy.cpp - op classes and user policies -----------------===//
//
// The default lists follow TensorFlow's automatic mixed precision and
// PyTorch's autocast: contractions run low with fp32 accumulation;
// transcendental functions, reductions, normalisations and losses need
// fp32's range and precision; elementwise arithmetic follows its
// neighbours; data movement is exact in any precision.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/Transforms/PrecisionPolicy.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Interfaces/CallInterfaces.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace mlir;
using namespace mlir::mpc;

std::string mpc::getONNXOpType(Operation *op) {
  // Declared by each op in ODS (`onnxOpType`); mpc's own ops, and ops of
  // other dialects, are known by their name.
  if (auto onnx = dyn_cast<ONNXOpInterface>(op))
    if (StringRef type = onnx.getONNXOpType(); !type.empty())
      return type.str();
  return op->getName().getStringRef().str();
}

std::string mpc::getNodeName(Operation *op) {
  if (auto nameLoc = dyn_cast<NameLoc>(op->getLoc()))
    return nameLoc.getName().str();
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc()))
    for (Location loc : fused.getLocations())
      if (auto nameLoc = dyn_cast<NameLoc>(loc))
        return nameLoc.getName().str();
  return "";
}

StringRef mpc::stringifyClassSource(ClassSource source) {
  switch (source) {
  case ClassSource::DefaultList:
    return "default";
  case ClassSource::PolicyFile:
    return "policy";
  case ClassSource::Unknown:
    return "unknown op type";
  }
  return "";
}

PrecisionPolicy PrecisionPolicy::getDefault() {
  PrecisionPolicy policy;
  auto add = [&](PrecisionClass cls, std::initializer_list<StringRef> types) {
    for (StringRef type : types)
      policy.classes[type] = {cls, ClassSource::DefaultList};
  };
  add(PrecisionClass::Allow, {"MatMul", "Gemm", "Conv", "ConvTranspose",
                              "Einsum", "LSTM", "GRU", "RNN", "Attention"});
  add(PrecisionClass::Deny,
      {"Exp", "Pow", "Log", "Reciprocal", "Softmax", "LogSoftmax", "ReduceSum",
       "ReduceMean", "ReduceProd", "ReduceL2", "ReduceLogSumExp", "CumSum",
       "LayerNormalization", "GroupNormalization", "LpNormalization",
       "SoftmaxCrossEntropyLoss", "SoftmaxCrossEntropyLossGrad",
       // An embedding's gradient sums the rows of repeated tokens, in
       // fp32: autocast leaves embeddings (and so their backward) on the
       // fp32 table.
       "GatherGrad", "NegativeLogLikelihoodLoss",
       "NegativeLogLikelihoodLossGrad", "MSE", "MeanSquaredError", "Range",
       "Resize",
       // autocast's fp32 list (tan, asin, acos, sinh, cosh) and, beyond
       // it, the inverse hyperbolic functions: logarithms of sums that lose
       // everything in 8 mantissa bits near their branch points.
       "Tan", "Asin", "Acos", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh"});
  // The optimizer and the loss-scale bookkeeping work on the fp32 master
  // weights and fp32 gradients: that is what master weights are for.
  add(PrecisionClass::Deny, {"SGDUpdate", "MomentumUpdate", "AdamUpdate",
                             "UnscaleGradients", "UpdateLossScale"});
  add(PrecisionClass::Infer,
      {"Add", "Sub", "Mul", "Div", "Sqrt", "Erf", "Gelu", "Sigmoid", "Tanh",
       "Softplus", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish",
       "AveragePool", "GlobalAveragePool", "BatchNormalization",
       // Bounded, well conditioned on the ranges models feed them; autocast
       // leaves them in their input's type.
       "Sin", "Cos", "Atan", "Mod"});
  // Exact in any precision: data movement, selection, sign and comparisons
  // (TensorFlow's clear list).
  add(PrecisionClass::Clear,
      {"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat",
       "Slice", "Gather", "Expand", "Relu", "MaxPool", "MaxPoolGrad", "Max", "Min", "Where",
       "Identity", "Dropout", "Neg", "Abs", "ReduceMax", "Pad", "Split",
       "Tile", "Equal", "Less", "Greater", "GreaterOrEqual", "LessOrEqual",
       "ReduceMin", "ArgMax", "ArgMin", "Ceil", "Floor", "Round", "Sign",
       "GatherElements", "ScatterElements", "GatherND", "ScatterND", "IsNaN", "IsInf", "And", "Or",
       "Xor", "Not", "BitShift"});
  return policy;
}

std::optional<std::pair<PrecisionClass, ClassSource>>
PrecisionPolicy::lookup(StringRef opType) const {
  auto it = classes.find(opType);
  if (it == classes.end())
    return std::nullopt;
  return it->second;
}

const PrecisionPolicy::NodePin *
PrecisionPolicy::findPin(StringRef nodeName) const {
  for (const NodePin &pin : pins)
    if (pin.glob.match(nodeName))
      return &pin;
  return nullptr;
}

/// Renders a json::Path position like `$.nodes["/enc/*"]`.
static std::string describePath(const llvm::json::Path::Root &root) {
  // LLVM words the root position "when parsing $" and others "at $.x".
  std::string message = llvm::toString(root.getError());
  size_t at = message.rfind(" when parsing $");
  if (at != std::string::npos)
    message.replace(at, strlen(" when parsing"), " at");
  return message;
}

FailureOr<PrecisionPolicy>
PrecisionPolicy::load(StringRef path,
                      function_ref<void(const Twine &)> emitError) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer) {
    emitError("policy file '" + path + "': cannot open: " +
              buffer.getError().message());
    return failure();
  }
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json) {
    emitError("policy file '" + path + "': invalid JSON: " +
              llvm::toString(json.takeError()));
    return failure();
  }

  PrecisionPolicy policy = getDefault();
  llvm::json::Path::Root root("$");
  llvm::json::Path top(root);
  auto fail = [&]() -> FailureOr<PrecisionPolicy> {
    emitError("policy file '" + path + "': " + describePath(root));
    return failure();
  };
  const llvm::json::Object *object = json->getAsObject();
  if (!object) {
    top.report("expected an object");
    return fail();
  }
  static const std::pair<StringRef, PrecisionClass> classKeys[] = {
      {"allow", PrecisionClass::Allow},
      {"deny", PrecisionClass::Deny},
      {"infer", PrecisionClass::Infer},
      {"clear", PrecisionClass::Clear}};
  for (const auto &[key, value] : *object) {
    llvm::json::Path keyPath = top.field(key);
    const auto *classKey =
        llvm::find_if(classKeys, [&](auto &entry) { return entry.first == StringRef(key); });
    if (classKey != std::end(classKeys)) {
      const llvm::json::Array *types = value.getAsArray();
      if (!types) {
        keyPath.report("expected an array of op types");
        return fail();
      }
      for (auto [i, type] : llvm::enumerate(*types)) {
        std::optional<StringRef> name = type.getAsString();
        if (!name || name->empty()) {
          keyPath.index(i).report("expected an op type name");
          return fail();
        }
        policy.classes[*name] = {classKey->second, ClassSource::PolicyFile};
      }
    } else if (key == "nodes") {
      const llvm::json::Object *nodes = value.getAsObject();
      if (!nodes) {
        keyPath.report("expected an object mapping node names to \"fp32\" "
                       "or \"low\"");
        return fail();
      }
      // json::Object is unordered; sort for a deterministic first match.
      std::vector<std::pair<std::string, const llvm::json::Value *>> entries;
      for (const auto &[pattern, precision] : *nodes)
        entries.push_back({pattern.str(), &precision});
      llvm::sort(entries, [](auto &a, auto &b) { return a.first < b.first; });
      for (const auto &[pattern, precision] : entries) {
        llvm::json::Path pinPath = keyPath.field(pattern);
        std::optional<StringRef> value = precision->getAsString();
        if (!value || (*value != "fp32" && *value != "low")) {
          pinPath.report("expected \"fp32\" or \"low\"");
          return fail();
        }
        NodePin &pin = policy.pins.emplace_back();
        pin.pattern = pattern;
        pin.low = *value == "low";
        auto glob = llvm::GlobPattern::create(pin.pattern);
        if (!glob) {
          emitError("policy file '" + path + "': at $.nodes." + pattern +
                    ": invalid glob: " + llvm::toString(glob.takeError()));
          return failure();
        }
        pin.glob = std::move(*glob);
      }
    } else {
      keyPath.report("unknown key (expected allow, deny, infer, clear or "
                     "nodes)");
      return fail();
    }
  }
  return policy;
}

static bool isFloatTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && isa<FloatType>(tensor.getElementType());
}

bool mpc::isPrecisionDecided(Operation *op) {
  // Ops whose types the model fixes, and the function's own structure.
  if (isa<ConstantOp, GetParameterOp, ParameterOp, CastOp, ConvertOp, ShapeOp>(
          op) ||
      op->hasTrait<OpTrait::IsTerminator>() || isa<CallOpInterface>(op) ||
      op->getNumRegions() > 0)
    return false;
  return llvm::any_of(op->getOperandTypes(), isFloatTensor) ||
         llvm::any_of(op->getResultTypes(), isFloatTensor);
}

OperandRole mpc::getOperandRole(Operation *op, unsigned index) {
  if (!isFloatTensor(op->getOperand(index).getType()))
    return OperandRole::Ignore;
  // BatchNorm keeps its per-channel parameters and statistics in fp32 (as
  // cuDNN and PyTorch's autocast do); only the activations go low.
  if (isa<BatchNormOp>(op) && index > 0)
    return OperandRole::KeepFp32;
  return OperandRole::FollowOp;
}

bool mpc::resultFollowsOp(Operation *op, unsigned index) {
  if (!isFloatTensor(op->getResult(index).getType()))
    return false;
  // Normalisation statistics are accumulated and kept in fp32.
  if (isa<BatchNormOp, LayerNormOp>(op) && index > 0)
    return false;
  return true;
}

FloatType mpc::parseLowPrecisionType(MLIRContext *context,
                                     StringRef precision) {
  if (precision == "bf16")
    return BFloat16Type::get(context);
  if (precision == "fp16" || precision == "f16")
    return Float16Type::get(context);
  return nullptr;
}

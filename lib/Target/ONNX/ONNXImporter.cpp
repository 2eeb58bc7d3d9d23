//===- ONNXImporter.cpp - ONNX model to mpc dialect -----------------------===//
//
// Loads and validates a ModelProto (size limits, opset range, checker,
// ONNX shape inference), turns initializers into parameters and graph
// inputs into function arguments, and dispatches each node to its handler.
// Errors never abort: every one is reported with the node's name and op
// type, all unsupported ops of a model in one run.
//
//===----------------------------------------------------------------------===//

#include "mpc/Target/ONNX/ONNXImporter.h"
#include "NodeImporter.h"

#include "mpc/Dialect/MPC/IR/MPCDialect.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include <functional>
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"


using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::onnx_import;

static constexpr int64_t kMinOpset = 9;
static constexpr int64_t kMaxKnownOpset = 17;
/// Constants with more elements than this are stored as resource blobs so
/// printed IR stays small.
static constexpr int64_t kInlineConstantLimit = 64;

bool mpc::isONNXModelPath(StringRef path) {
  return path.ends_with_insensitive(".onnx") ||
         path.ends_with_insensitive(".pb");
}

std::string mpc::parseInputShapeOption(StringRef spec,
                                       ONNXImportOptions &options) {
  auto [name, dims] = spec.rsplit(':');
  if (name.empty() || !spec.contains(':'))
    return ("--input-shape '" + spec +
            "' must be NAME:DIMS, e.g. input:32x3x224x224")
        .str();
  std::vector<int64_t> shape;
  if (!dims.empty()) {
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t dim;
      if (part.getAsInteger(10, dim) || dim < 0)
        return ("--input-shape '" + spec + "': '" + part +
                "' is not a non-negative dimension")
            .str();
      shape.push_back(dim);
    }
  }
  options.inputShapes[name] = std::move(shape);
  return {};
}

//===----------------------------------------------------------------------===//
// Element types and tensors
//===----------------------------------------------------------------------===//

static Type convertElementType(int32_t dataType, MLIRContext *ctx) {
  Builder b(ctx);
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::INT8:
    return b.getIntegerType(8);
  case onnx::TensorProto::INT16:
    return b.getIntegerType(16);
  case onnx::TensorProto::INT32:
    return b.getIntegerType(32);
  case onnx::TensorProto::INT64:
    return b.getIntegerType(64);
  case onnx::TensorProto::UINT8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case onnx::TensorProto::UINT16:
    return b.getIntegerType(16, false);
  case onnx::TensorProto::UINT32:
    return b.getIntegerType(32, false);
  case onnx::TensorProto::UINT64:
    return b.getIntegerType(64, false);
  default:
    return nullptr;
  }
}

static std::string dataTypeName(int32_t dataType) {
  if (onnx::TensorProto::DataType_IsValid(dataType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(dataType));
  return "data type " + std::to_string(dataType);
}

namespace mlir::mpc::onnx_import {

/// Imports the main graph of one model.
class GraphImporter {
public:
  GraphImporter(MLIRContext *ctx, StringRef modelPath,
                const ONNXImportOptions &options, std::string &nodePrefix,
                llvm::StringSet<> declaredShapes)
      : ctx(ctx), builder(ctx), modelPath(modelPath), options(options),
        nodePrefix(nodePrefix), declaredShapes(std::move(declaredShapes)) {}

  OwningOpRef<ModuleOp> import(onnx::ModelProto &model);

  OpBuilder &getBuilder() { return builder; }

  enum class Storage { Auto, Resource, Dense };
  /// Reads a TensorProto (inline or external data) into an elements
  /// attribute: a resource blob for large tensors (or always/never).
  FailureOr<ElementsAttr> readTensor(const onnx::TensorProto &tensor,
                                     Location loc,
                                     Storage storage = Storage::Auto);

  /// The value known at import time of ONNX value `name` (a constant, a
  /// folded computation or an initializer), or null.
  DenseElementsAttr getConstantValue(Value value, StringRef name);

private:
  FailureOr<RankedTensorType> convertValueType(const onnx::ValueInfoProto &info,
                                               Location loc, bool isInput);
  LogicalResult importInitializers(const onnx::GraphProto &graph);
  LogicalResult importNode(const onnx::NodeProto &node, unsigned index);
  /// Imports `graph`'s nodes in order; one error per failing node, its
  /// consumers skipped.
  LogicalResult importNodes(const onnx::GraphProto &graph);
  /// The value of ONNX name `name`: a node's output, a graph input, or an
  /// initializer materialised at its first use; null when undefined.
  FailureOr<Value> lookupValue(const std::string &name);
  LogicalResult refineResultTypes(const onnx::NodeProto &node,
                                  NodeImporter &importer);

  MLIRContext *ctx;
  OpBuilder builder;
  std::string modelPath;
  const ONNXImportOptions &options;
  /// "node 'NAME' (OpType): " while a node imports: every diagnostic of
  /// its handler, of op inference and of verifiers gets it.
  std::string &nodePrefix;
  ModuleOp module;
  /// The function's entry block and the last op of its prologue (the
  /// initializers, materialised in order of first use).
  Block *entry = nullptr;
  Operation *lastPrologueOp = nullptr;
  /// Outputs of nodes that failed: their consumers (in subgraphs too) are
  /// skipped silently so that one error is reported once, not once per
  /// downstream node.
  llvm::StringSet<> poisoned;
  int64_t opset = 0;

  llvm::StringMap<Value> values;
  /// Named outputs a node does not produce, with the reason; a use of one
  /// is an error.
  llvm::StringMap<std::string> unavailable;
  llvm::StringMap<const onnx::TypeProto *> valueTypes;
  /// Values whose shape the model itself declares (value_info, outputs),
  /// as opposed to shapes ONNX's shape inference added on import.
  llvm::StringSet<> declaredShapes;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  /// Parameters are declared lazily at first use, in the function entry.
  llvm::StringMap<Value> parameterValues;
  llvm::StringSet<> usedSymbolNames;

  friend class NodeImporter;
  friend FailureOr<SmallVector<Value>>
  importSubgraph(NodeImporter &n, const onnx::GraphProto &graph);
};

} // namespace mlir::mpc::onnx_import

FailureOr<ElementsAttr> GraphImporter::readTensor(const onnx::TensorProto &tensor,
                                                  Location loc,
                                                  Storage storage) {
  Type element = convertElementType(tensor.data_type(), ctx);
  if (!element)
    return emitError(loc) << "tensor '" << tensor.name()
                          << "' has unsupported element type "
                          << dataTypeName(tensor.data_type()),
           failure();
  if (tensor.segment().begin() != 0 || tensor.has_segment())
    return emitError(loc) << "tensor '" << tensor.name()
                          << "' is segmented, which is not supported",
           failure();
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0 || (dim > 0 && count > (int64_t(1) << 40) / dim))
      return emitError(loc) << "tensor '" << tensor.name()
                            << "' has an invalid shape",
             failure();
    shape.push_back(dim);
    count *= dim;
  }
  auto type = RankedTensorType::get(shape, element);
  unsigned bits = element.getIntOrFloatBitWidth();
  size_t byteWidth = bits == 1 ? 1 : bits / 8;

  // Gather the little-endian bytes of every element.
  std::vector<char> bytes;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    FailureOr<std::vector<char>> data = readExternalData(modelPath, tensor, loc);
    if (failed(data))
      return failure();
    bytes = std::move(*data);
  } else if (tensor.has_raw_data()) {
    bytes.assign(tensor.raw_data().begin(), tensor.raw_data().end());
  } else {
    auto append = [&](auto value, size_t width) {
      const char *p = reinterpret_cast<const char *>(&value);
      bytes.insert(bytes.end(), p, p + width);
    };
    switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      for (float v : tensor.float_data())
        append(v, 4);
      break;
    case onnx::TensorProto::DOUBLE:
      for (double v : tensor.double_data())
        append(v, 8);
      break;
    case onnx::TensorProto::INT64:
      for (int64_t v : tensor.int64_data())
        append(v, 8);
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      for (uint64_t v : tensor.uint64_data())
        append(v, byteWidth);
      break;
    default:
      // int32_data holds every narrower type, fp16/bf16 as their bits.
      for (int32_t v : tensor.int32_data())
        append(v, byteWidth);
      break;
    }
  }
  if ((int64_t)bytes.size() != count * (int64_t)byteWidth)
    return emitError(loc) << "tensor '" << tensor.name() << "' holds "
                          << bytes.size() << " bytes but its shape and type "
                          << type << " need " << count * byteWidth,
           failure();

  if (bits == 1) {
    SmallVector<bool> values;
    for (char c : bytes)
      values.push_back(c != 0);
    return ElementsAttr(DenseElementsAttr::get(type, values));
  }
  if (storage == Storage::Resource ||
      (storage == Storage::Auto && count > kInlineConstantLimit)) {
    std::string blobName = tensor.name().empty() ? "tensor" : tensor.name();
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(bytes.data(), bytes.size()),
        std::max<size_t>(byteWidth, 4));
    return ElementsAttr(
        DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
  }
  return ElementsAttr(DenseElementsAttr::getFromRawBuffer(
      type, ArrayRef<char>(bytes.data(), bytes.size())));
}

DenseElementsAttr GraphImporter::getConstantValue(Value value,
                                                  StringRef name) {
  DenseElementsAttr attr;
  if (matchPattern(value, m_Constant(&attr)))
    return attr;
  // Float initializers are parameters, but a node may read one as an
  // attribute-like input (Clip bounds, Resize scales).
  auto it = initializers.find(name);
  if (it == initializers.end())
    return {};
  FailureOr<ElementsAttr> tensor =
      readTensor(*it->second, value.getLoc(), Storage::Dense);
  if (failed(tensor))
    return {};
  return dyn_cast<DenseElementsAttr>(*tensor);
}

FailureOr<RankedTensorType>
GraphImporter::convertValueType(const onnx::ValueInfoProto &info, Location loc,
                                bool isInput) {
  if (!info.type().has_tensor_type())
    return emitError(loc) << "graph " << (isInput ? "input" : "output") << " '"
                          << info.name()
                          << "' is not a tensor (sequences, maps and optionals "
                             "are not supported)",
           failure();
  const auto &tensorType = info.type().tensor_type();
  Type element = convertElementType(tensorType.elem_type(), ctx);
  if (!element)
    return emitError(loc) << "graph " << (isInput ? "input" : "output") << " '"
                          << info.name() << "' has unsupported element type "
                          << dataTypeName(tensorType.elem_type()),
           failure();
  // Pinned shapes were checked against the declared ones before ONNX shape
  // inference ran (see importONNXModel).
  auto pinned = options.inputShapes.find(info.name());
  if (isInput && pinned != options.inputShapes.end()) {
    const std::vector<int64_t> &dims = pinned->second;
    return RankedTensorType::get(dims, element);
  }
  if (!tensorType.has_shape())
    return emitError(loc) << "graph " << (isInput ? "input" : "output") << " '"
                          << info.name()
                          << "' has unknown rank; pin it with --input-shape="
                          << info.name() << ":DIMS",
           failure();
  SmallVector<int64_t> shape;
  for (const auto &dim : tensorType.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  return RankedTensorType::get(shape, element);
}

//===----------------------------------------------------------------------===//
// NodeImporter
//===----------------------------------------------------------------------===//

OpBuilder &NodeImporter::getBuilder() { return graph.getBuilder(); }

FailureOr<Value> NodeImporter::requiredInput(unsigned i) {
  if (Value v = input(i))
    return v;
  return error() << "input " << i << " is required", failure();
}

const onnx::AttributeProto *NodeImporter::attr(StringRef attrName) const {
  for (const auto &a : node.attribute())
    if (a.name() == attrName)
      return &a;
  return nullptr;
}

std::optional<int64_t> NodeImporter::getInt(StringRef attrName) const {
  if (const auto *a = attr(attrName))
    return a->i();
  return std::nullopt;
}

std::optional<float> NodeImporter::getFloat(StringRef attrName) const {
  if (const auto *a = attr(attrName))
    return a->f();
  return std::nullopt;
}

std::optional<SmallVector<int64_t>>
NodeImporter::getInts(StringRef attrName) const {
  if (const auto *a = attr(attrName))
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  return std::nullopt;
}

std::optional<SmallVector<float>>
NodeImporter::getFloats(StringRef attrName) const {
  if (const auto *a = attr(attrName))
    return SmallVector<float>(a->floats().begin(), a->floats().end());
  return std::nullopt;
}

std::optional<std::string> NodeImporter::getString(StringRef attrName) const {
  if (const auto *a = attr(attrName))
    return a->s();
  return std::nullopt;
}

Attribute NodeImporter::i64Array(ArrayRef<int64_t> values) {
  return DenseI64ArrayAttr::get(getContext(), values);
}

FailureOr<DenseElementsAttr> NodeImporter::constantInput(unsigned i,
                                                         StringRef what) {
  Value v = input(i);
  if (!v)
    return error() << what << " (input " << i << ") is missing", failure();
  if (DenseElementsAttr attr = graph.getConstantValue(v, node.input(i)))
    return attr;
  return error() << what << " (input " << i
                 << ") must be a constant or initializer; values computed at "
                    "run time are not supported",
         failure();
}

DenseElementsAttr NodeImporter::tryConstantInput(unsigned i) {
  Value v = input(i);
  return v ? graph.getConstantValue(v, node.input(i)) : DenseElementsAttr();
}

FailureOr<SmallVector<int64_t>> NodeImporter::constantInts(unsigned i,
                                                           StringRef what) {
  FailureOr<DenseElementsAttr> attr = constantInput(i, what);
  if (failed(attr))
    return failure();
  if (!isa<IntegerType>(attr->getElementType()))
    return error() << what << " must be integers", failure();
  SmallVector<int64_t> values;
  for (const APInt &v : attr->getValues<APInt>())
    values.push_back(attr->getElementType().isUnsignedInteger()
                         ? (int64_t)v.getZExtValue()
                         : v.getSExtValue());
  return values;
}

FailureOr<SmallVector<double>> NodeImporter::constantFloats(unsigned i,
                                                            StringRef what) {
  FailureOr<DenseElementsAttr> attr = constantInput(i, what);
  if (failed(attr))
    return failure();
  SmallVector<double> values;
  if (isa<FloatType>(attr->getElementType())) {
    for (const APFloat &v : attr->getValues<APFloat>()) {
      bool lost;
      APFloat d = v;
      d.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(d.convertToDouble());
    }
  } else {
    for (const APInt &v : attr->getValues<APInt>())
      values.push_back((double)v.getSExtValue());
  }
  return values;
}

LogicalResult NodeImporter::setProperties(OperationState &state,
                                          OpaqueProperties properties) {
  if (state.attributes.empty())
    return success();
  auto emit = [&]() { return emitError(loc); };
  return state.name.getRegisteredInfo()->setOpPropertiesFromAttribute(
      state.name, properties, state.attributes.getDictionary(getContext()),
      emit);
}

FailureOr<Operation *> NodeImporter::finishCreate(OperationState &state) {
  Operation *op = getBuilder().create(state);
  if (failed(mlir::verify(op, /*verifyRecursively=*/false))) {
    op->erase();
    return failure();
  }
  return op;
}

FailureOr<Operation *>
NodeImporter::createWithTypes(StringRef opName, ValueRange operands,
                              TypeRange resultTypes,
                              ArrayRef<NamedAttribute> attributes) {
  OperationState state(loc, opName);
  state.addOperands(operands);
  state.addAttributes(attributes);
  state.addTypes(resultTypes);
  return finishCreate(state);
}

//===----------------------------------------------------------------------===//
// GraphImporter
//===----------------------------------------------------------------------===//

/// A symbol name for a parameter, unique within the module.
static std::string uniqueSymbolName(StringRef name, llvm::StringSet<> &used) {
  std::string base = name.empty() ? "param" : name.str();
  std::string candidate = base;
  for (int i = 1; used.contains(candidate); ++i)
    candidate = base + "_" + std::to_string(i);
  used.insert(candidate);
  return candidate;
}

LogicalResult GraphImporter::importInitializers(const onnx::GraphProto &graph) {
  bool ok = true;
  for (const auto &tensor : graph.initializer()) {
    if (tensor.name().empty()) {
      emitError(UnknownLoc::get(ctx)) << "an initializer has no name";
      ok = false;
      continue;
    }
    if (!initializers.try_emplace(tensor.name(), &tensor).second) {
      emitError(NameLoc::get(StringAttr::get(ctx, tensor.name())))
          << "initializer '" << tensor.name() << "' is defined twice";
      ok = false;
    }
  }
  for (const auto &sparse : graph.sparse_initializer()) {
    emitError(NameLoc::get(StringAttr::get(ctx, sparse.values().name())))
        << "sparse initializer '" << sparse.values().name()
        << "' is not supported";
    ok = false;
  }
  return success(ok);
}

/// Materialises an initializer at its first use: float tensors become
/// trainable fp32 parameters (held as resource blobs), other tensors
/// constants.
static FailureOr<Value> materializeInitializer(GraphImporter &importer,
                                               const onnx::TensorProto &tensor,
                                               ModuleOp module, Block &entry,
                                               Operation *&lastPrologueOp,
                                               llvm::StringSet<> &usedNames) {
  MLIRContext *ctx = module.getContext();
  Location loc = NameLoc::get(StringAttr::get(ctx, tensor.name()));
  Type element = convertElementType(tensor.data_type(), ctx);
  bool isFloat = element && isa<FloatType>(element);
  bool needsWidening = element && (element.isF16() || element.isBF16());
  FailureOr<ElementsAttr> value = importer.readTensor(
      tensor, loc,
      needsWidening ? GraphImporter::Storage::Dense
      : isFloat     ? GraphImporter::Storage::Resource
                    : GraphImporter::Storage::Auto);
  if (failed(value))
    return failure();
  OpBuilder &builder = importer.getBuilder();
  OpBuilder::InsertionGuard guard(builder);
  // Initializers go to the function's prologue, in order of first use.
  auto toPrologue = [&] {
    if (lastPrologueOp)
      builder.setInsertionPointAfter(lastPrologueOp);
    else
      builder.setInsertionPointToStart(&entry);
  };
  if (!isFloat) {
    toPrologue();
    auto constant = ConstantOp::create(builder, loc, *value);
    lastPrologueOp = constant;
    return constant.getResult();
  }

  // fp32 master copies: fp16/bf16 initializers widen exactly to fp32 and
  // are cast back where used, so the model's arithmetic is unchanged.
  auto type = cast<RankedTensorType>(value->getType());
  ElementsAttr stored = *value;
  bool widened = false;
  if (needsWidening) {
    auto f32Type = RankedTensorType::get(type.getShape(),
                                         Float32Type::get(ctx));
    std::vector<float> widenedValues;
    widenedValues.reserve(type.getNumElements());
    for (APFloat v : cast<DenseElementsAttr>(*value).getValues<APFloat>()) {
      bool lost;
      v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
      widenedValues.push_back(v.convertToFloat());
    }
    stored = DenseResourceElementsAttr::get(
        f32Type, tensor.name(),
        HeapAsmResourceBlob::allocateAndCopyInferAlign(
            ArrayRef<float>(widenedValues)));
    widened = true;
  }
  std::string symbol = uniqueSymbolName(tensor.name(), usedNames);
  builder.setInsertionPoint(&module.getBody()->back());
  auto parameter = ParameterOp::create(builder, loc, symbol, stored,
                                       /*trainable=*/type.getRank() > 0);
  toPrologue();
  Value result = GetParameterOp::create(builder, loc, parameter.getType(),
                                        parameter.getSymName());
  lastPrologueOp = result.getDefiningOp();
  if (widened) {
    result = CastOp::create(builder, loc, type, result);
    lastPrologueOp = result.getDefiningOp();
  }
  return result;
}

FailureOr<Value> GraphImporter::lookupValue(const std::string &name) {
  // Initializers are materialised at first use so unused ones (common in
  // exported models) do not become parameters.
  if (Value v = values.lookup(name))
    return v;
  auto it = initializers.find(name);
  if (it == initializers.end())
    return Value();
  FailureOr<Value> v = materializeInitializer(
      *this, *it->second, module, *entry, lastPrologueOp, usedSymbolNames);
  if (failed(v))
    return failure();
  values[name] = *v;
  return *v;
}

LogicalResult GraphImporter::importNodes(const onnx::GraphProto &graph) {
  Builder b(ctx);
  bool ok = true;
  for (const auto &[index, node] : llvm::enumerate(graph.node())) {
    bool nodeOk = true;
    if (llvm::any_of(node.input(), [&](const std::string &input) {
          return poisoned.contains(input);
        })) {
      for (const std::string &output : node.output())
        poisoned.insert(output);
      ok = false;
      continue;
    }
    for (const std::string &input : node.input()) {
      if (input.empty())
        continue;
      if (auto it = unavailable.find(input); it != unavailable.end()) {
        std::string name = node.name().empty()
                               ? node.op_type() + "_" + std::to_string(index)
                               : node.name();
        emitError(NameLoc::get(b.getStringAttr(name)))
            << "node '" << name << "' (" << node.op_type()
            << "): input " << it->second;
        nodeOk = false;
        continue;
      }
      FailureOr<Value> v = lookupValue(input);
      if (failed(v)) {
        nodeOk = false;
      } else if (!*v) {
        std::string name = node.name().empty()
                               ? node.op_type() + "_" + std::to_string(index)
                               : node.name();
        emitError(NameLoc::get(b.getStringAttr(name)))
            << "node '" << name << "' (" << node.op_type() << "): input '"
            << input
            << "' is not produced by an earlier node, an initializer or a "
               "graph input";
        nodeOk = false;
      }
    }
    if (!nodeOk || failed(importNode(node, index))) {
      ok = false;
      for (const std::string &output : node.output())
        poisoned.insert(output);
    }
  }
  return success(ok);
}

OwningOpRef<ModuleOp> GraphImporter::import(onnx::ModelProto &model) {
  const onnx::GraphProto &graph = model.graph();
  for (const auto &import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx")
      opset = import.version();

  Location fileLoc = FileLineColLoc::get(ctx, modelPath, 0, 0);
  OwningOpRef<ModuleOp> owned = ModuleOp::create(fileLoc);
  module = *owned;
  Builder b(ctx);
  module->setAttr("mpc.onnx.opset", b.getI64IntegerAttr(opset));
  module->setAttr("mpc.onnx.ir_version",
                  b.getI64IntegerAttr(model.ir_version()));
  if (!model.producer_name().empty())
    module->setAttr("mpc.onnx.producer",
                    b.getStringAttr(model.producer_name() +
                                    (model.producer_version().empty()
                                         ? ""
                                         : " " + model.producer_version())));
  if (!graph.name().empty())
    module->setAttr("mpc.onnx.graph", b.getStringAttr(graph.name()));

  if (failed(importInitializers(graph)))
    return nullptr;

  // Shapes ONNX shape inference found, to refine the dialect's own.
  for (const auto &info : graph.value_info())
    valueTypes[info.name()] = &info.type();
  for (const auto &info : graph.output())
    valueTypes[info.name()] = &info.type();

  // Graph inputs that are not initializers become function arguments (old
  // models also list initializers as inputs).
  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  bool ok = true;
  for (const auto &input : graph.input()) {
    if (initializers.count(input.name()))
      continue;
    Location loc = NameLoc::get(b.getStringAttr(input.name()));
    FailureOr<RankedTensorType> type = convertValueType(input, loc, true);
    if (failed(type)) {
      ok = false;
      continue;
    }
    argTypes.push_back(*type);
    args.push_back(&input);
  }
  for (const auto &pinned : options.inputShapes)
    if (llvm::none_of(args, [&](const onnx::ValueInfoProto *info) {
          return info->name() == pinned.getKey();
        })) {
      emitError(fileLoc) << "--input-shape names '" << pinned.getKey()
                         << "', which is not a graph input";
      ok = false;
    }
  if (!ok)
    return nullptr;

  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, fileLoc, options.functionName,
                                   b.getFunctionType(argTypes, {}));
  entry = func.addEntryBlock();
  for (auto [i, info] : llvm::enumerate(args)) {
    BlockArgument arg = entry->getArgument(i);
    arg.setLoc(NameLoc::get(b.getStringAttr(info->name())));
    func.setArgAttr(i, "mpc.name", b.getStringAttr(info->name()));
    values[info->name()] = arg;
  }
  builder.setInsertionPointToEnd(entry);

  if (failed(importNodes(graph)))
    ok = false;
  if (!ok)
    return nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const auto &output : graph.output()) {
    if (auto it = unavailable.find(output.name()); it != unavailable.end()) {
      emitError(fileLoc) << "graph output " << it->second;
      return nullptr;
    }
    FailureOr<Value> v = lookupValue(output.name());
    if (failed(v))
      return nullptr;
    if (!*v) {
      emitError(fileLoc) << "graph output '" << output.name()
                         << "' is not produced by any node";
      return nullptr;
    }
    results.push_back(*v);
    resultTypes.push_back(v->getType());
  }
  func::ReturnOp::create(builder, fileLoc, results);
  // Initializers read only as attributes (Clip bounds, Slice starts) leave
  // unused prologue ops and parameters behind.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry)))
    if (isa<GetParameterOp, ConstantOp, CastOp>(op) && op.use_empty())
      op.erase();
  // One walk for all parameters (a symbol-use query per parameter would
  // walk the function once each).
  llvm::DenseSet<StringAttr> readParameters;
  func.walk([&](GetParameterOp get) {
    readParameters.insert(get.getNameAttr().getAttr());
  });
  for (auto parameter :
       llvm::make_early_inc_range(module.getOps<ParameterOp>()))
    if (!readParameters.contains(parameter.getSymNameAttr()))
      parameter.erase();
  // BatchNormalization's running statistics are state, not weights: the
  // optimizer must not update them.
  SymbolTable symbols(module);
  func.walk([&](BatchNormOp bn) {
    for (Value stat : {bn.getMean(), bn.getVariance()}) {
      if (auto cast = stat.getDefiningOp<CastOp>())
        stat = cast.getInput();
      if (auto get = stat.getDefiningOp<GetParameterOp>())
        if (auto parameter = symbols.lookup<ParameterOp>(get.getName()))
          parameter.setTrainable(false);
    }
  });
  func.setFunctionType(b.getFunctionType(argTypes, resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "mpc.name", b.getStringAttr(output.name()));
  return owned;
}

/// Whether `node` is a pooling op with ceil_mode set.
static bool isCeilModePool(const onnx::NodeProto &node) {
  if (node.op_type() != "MaxPool" && node.op_type() != "AveragePool")
    return false;
  for (const auto &attr : node.attribute())
    if (attr.name() == "ceil_mode")
      return attr.i() != 0;
  return false;
}

/// Meets the dialect's inferred type with ONNX's: static dims from either.
/// A static dim the model declares that the op does not produce is an
/// error. Where only ONNX's shape inference disagrees, the dialect's dim
/// stands: Debian's ONNX (1.12) infers some shapes differently from
/// onnxruntime (pooling with ceil_mode), and the dialect's inference is
/// the one the tests check against onnxruntime.
LogicalResult GraphImporter::refineResultTypes(const onnx::NodeProto &node,
                                               NodeImporter &importer) {
  for (auto [i, constResult] : llvm::enumerate(importer.getResults())) {
    Value result = constResult;
    if (!result || i >= (size_t)node.output_size())
      continue;
    const onnx::TypeProto *onnxType = valueTypes.lookup(node.output(i));
    auto type = dyn_cast<RankedTensorType>(result.getType());
    if (!onnxType || !type || !onnxType->has_tensor_type() ||
        !onnxType->tensor_type().has_shape())
      continue;
    const auto &shape = onnxType->tensor_type().shape();
    if (shape.dim_size() != type.getRank())
      return importer.error()
             << "output '" << node.output(i) << "': ONNX declares rank "
             << shape.dim_size() << " but the op produces " << type;
    Type declared = convertElementType(onnxType->tensor_type().elem_type(), ctx);
    if (declared && declared != type.getElementType())
      return importer.error()
             << "output '" << node.output(i) << "': ONNX declares element type "
             << declared << " but the op produces " << type;
    SmallVector<int64_t> dims(type.getShape());
    bool changed = false;
    for (int d = 0; d < shape.dim_size(); ++d) {
      if (!shape.dim(d).has_dim_value())
        continue;
      int64_t onnxDim = shape.dim(d).dim_value();
      if (ShapedType::isDynamic(dims[d])) {
        dims[d] = onnxDim;
        changed = true;
      } else if (dims[d] != onnxDim) {
        if (!declaredShapes.contains(node.output(i)))
          continue;
        // Exporters built on ONNX's inference before 1.16 declare the
        // extra ceil_mode window that PyTorch and onnxruntime drop.
        if (d >= 2 && onnxDim == dims[d] + 1 && isCeilModePool(node)) {
          emitWarning(importer.getLoc())
              << "output '" << node.output(i) << "': the model declares dim "
              << d << " = " << onnxDim << ", a ceil_mode window that starts "
              << "in the trailing padding; onnxruntime and PyTorch drop it, "
              << "and so does mpc (dim " << d << " = " << dims[d] << ")";
          continue;
        }
        return importer.error()
               << "output '" << node.output(i) << "' has shape " << type
               << " but the model declares dim " << d << " = " << onnxDim;
      }
    }
    if (!changed)
      continue;
    // Only the op's own results are refined in place; a value forwarded
    // from elsewhere (a folded identity) keeps its type.
    if (Operation *def = result.getDefiningOp();
        def && def->getLoc() == importer.getLoc())
      result.setType(RankedTensorType::get(dims, type.getElementType()));
  }
  return success();
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node,
                                        unsigned index) {
  std::string name = node.name().empty()
                         ? node.op_type() + "_" + std::to_string(index)
                         : node.name();
  Location loc = NameLoc::get(StringAttr::get(ctx, name));
  SmallVector<Value> inputs;
  for (const std::string &input : node.input())
    inputs.push_back(input.empty() ? Value() : values.lookup(input));

  const auto &handlers = getOpHandlers();
  auto handler = handlers.find(node.op_type());
  // Unsupported ops were all reported before import started.
  if (handler == handlers.end())
    return failure();

  NodeImporter importer(*this, node, name, loc, opset, std::move(inputs));
  nodePrefix = "node '" + name + "' (" + node.op_type() + "): ";
  llvm::scope_exit clearPrefix([&] { nodePrefix.clear(); });
  if (failed(handler->second(importer)))
    return failure();
  ArrayRef<Value> results = importer.getResults();
  for (int i = 0; i < node.output_size(); ++i) {
    if (node.output(i).empty() || (i < (int)results.size() && results[i]))
      continue;
    if (std::optional<std::string> reason = importer.getUnsupportedOutput(i)) {
      unavailable[node.output(i)] = "'" + node.output(i) + "' (output " +
                                    std::to_string(i) + " of node '" + name +
                                    "'): " + *reason;
      continue;
    }
    return importer.error() << "output " << i << " ('" << node.output(i)
                            << "') is not supported",
           failure();
  }
  if (failed(refineResultTypes(node, importer)))
    return failure();
  // Fold eagerly so shape arithmetic (Shape -> Gather -> Concat) becomes
  // constants that later Reshapes can read.
  SmallVector<Value> folded(results.begin(), results.end());
  folded.resize(node.output_size());
  if (results.size() == 1 && results[0])
    if (Operation *def = results[0].getDefiningOp();
        def && def->getNumResults() == 1 && !isa<ConstantOp>(def)) {
      SmallVector<Value> replacement;
      if (succeeded(builder.tryFold(def, replacement)) &&
          !replacement.empty() && replacement[0] != results[0]) {
        folded[0] = replacement[0];
        if (def->use_empty())
          def->erase();
      }
    }
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty() && folded[i]) {
      if (values.count(node.output(i)))
        return importer.error() << "output '" << node.output(i)
                                << "' is already defined",
               failure();
      values[node.output(i)] = folded[i];
    }
  return success();
}

OwningOpRef<ModuleOp> mpc::importONNXModel(StringRef path,
                                           MLIRContext *context,
                                           const ONNXImportOptions &givenOptions,
                                           llvm::raw_ostream &errorStream) {
  // Batch pinning (below) adds to the pinned shapes.
  ONNXImportOptions options = givenOptions;
  context->loadDialect<MPCDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(context, path, 0, 0);

  // Every diagnostic of the import is printed as `PATH: error: message`;
  // node-level messages already name the node and op type.
  unsigned errors = 0;
  std::string nodePrefix;
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
    const char *kind = diag.getSeverity() == DiagnosticSeverity::Error
                           ? "error"
                       : diag.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      ++errors;
    std::string message = diag.str();
    if (StringRef(message).starts_with("node '"))
      errorStream << path << ": " << kind << ": " << message << "\n";
    else
      errorStream << path << ": " << kind << ": " << nodePrefix << message
                  << "\n";
    for (const Diagnostic &note : diag.getNotes())
      errorStream << path << ": note: " << note.str() << "\n";
    return success();
  });
  auto nodeError = [&](const onnx::NodeProto &node, int index) {
    std::string name = node.name().empty()
                           ? node.op_type() + "_" + std::to_string(index)
                           : node.name();
    return std::move(emitError(NameLoc::get(StringAttr::get(context, name)))
                     << "node '" << name << "' (" << node.op_type() << "): ");
  };

  onnx::ModelProto model;
  if (failed(loadModel(path, model, fileLoc)))
    return nullptr;
  if (options.trainableConstants)
    onnx_import::promoteFloatConstants(model);

  // Opset of the default domain.
  int64_t opset = -1;
  for (const auto &import : model.opset_import())
    if (import.domain().empty() || import.domain() == "ai.onnx")
      opset = import.version();
  if (opset < 0 && model.ir_version() < 3)
    opset = 1;
  if (opset < 0) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX "
                          "domain";
    return nullptr;
  }

  // Every unsupported op of the model, in one run.
  const auto &handlers = getOpHandlers();
  bool ok = true;
  // Subgraphs (If's branches) are imported inline: their ops too.
  std::function<void(const onnx::GraphProto &)> checkGraph =
      [&](const onnx::GraphProto &graph) {
  for (const auto &[index, node] : llvm::enumerate(graph.node())) {
    for (const auto &attr : node.attribute()) {
      if (attr.has_g())
        checkGraph(attr.g());
      for (const auto &g : attr.graphs())
        checkGraph(g);
    }
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (!defaultDomain) {
      nodeError(node, index) << "operator of domain '" << node.domain()
                             << "' is not supported";
      ok = false;
    } else if (!handlers.count(node.op_type())) {
      nodeError(node, index) << "unsupported operator";
      ok = false;
    } else if (opset > kMaxKnownOpset) {
      std::optional<int64_t> changed =
          getFirstUnsupportedOpsetAfter17(node.op_type());
      if (changed && *changed <= opset) {
        nodeError(node, index)
            << "opset " << *changed
            << " changed this operator's semantics; mpc supports it up to "
               "opset "
            << *changed - 1 << " (the model uses opset " << opset << ")";
        ok = false;
      }
    }
  }
      };
  checkGraph(model.graph());
  if (!ok)
    return nullptr;

  // External data paths are checked before ONNX's checker, which would
  // follow them and report a misleading error.
  for (const auto &tensor : model.graph().initializer())
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL &&
        failed(onnx_import::resolveExternalDataPath(
            path, tensor, NameLoc::get(StringAttr::get(context, tensor.name())))))
      ok = false;
  if (!ok)
    return nullptr;

  // ONNX's checker knows IR versions up to 8 and opsets up to 17; newer
  // models are checked by the importer alone.
  if (model.ir_version() <= 8 && opset <= kMaxKnownOpset) {
    try {
      onnx::checker::CheckerContext checkerContext;
      checkerContext.set_ir_version(model.ir_version());
      std::unordered_map<std::string, int> opsets;
      for (const auto &import : model.opset_import())
        opsets[import.domain()] = import.version();
      checkerContext.set_opset_imports(opsets);
      SmallString<256> dir(path);
      llvm::sys::path::remove_filename(dir);
      checkerContext.set_model_dir(dir.empty() ? "." : dir.str().str());
      onnx::checker::LexicalScopeContext lexicalScope;
      onnx::checker::check_graph(model.graph(), checkerContext, lexicalScope);
    } catch (const std::exception &e) {
      emitError(fileLoc) << "invalid ONNX model: " << e.what();
      return nullptr;
    }
  }

  // Older opsets are upgraded with ONNX's own version converter, which
  // trusts its input to be valid: it runs after the checker.
  if (opset < kMinOpset) {
    try {
      model = onnx::version_conversion::ConvertVersion(model, kMinOpset);
      opset = kMinOpset;
    } catch (const std::exception &e) {
      emitError(fileLoc) << "opset " << opset
                         << " is older than 9 and ONNX's version converter "
                            "could not upgrade it: "
                         << e.what();
      return nullptr;
    }
  }

  // A dynamic leading (batch) dim is pinned to `batchSize` when asked,
  // for inputs whose other dims are all known.
  if (options.batchSize > 0) {
    llvm::StringSet<> initializerNames;
    for (const auto &tensor : model.graph().initializer())
      initializerNames.insert(tensor.name());
    for (const auto &input : model.graph().input()) {
      if (options.inputShapes.count(input.name()) ||
          initializerNames.contains(input.name()) ||
          !input.type().has_tensor_type() ||
          !input.type().tensor_type().has_shape())
        continue;
      const auto &shape = input.type().tensor_type().shape();
      if (shape.dim_size() == 0 || shape.dim(0).has_dim_value())
        continue;
      std::vector<int64_t> dims = {options.batchSize};
      bool known = true;
      for (int i = 1; i < shape.dim_size(); ++i) {
        known &= shape.dim(i).has_dim_value();
        dims.push_back(shape.dim(i).dim_value());
      }
      if (known)
        options.inputShapes[input.name()] = std::move(dims);
    }
  }

  // Pin user-given input shapes before ONNX shape inference runs, so it
  // propagates them.
  for (auto &input : *model.mutable_graph()->mutable_input()) {
    auto it = options.inputShapes.find(input.name());
    if (it == options.inputShapes.end() || !input.type().has_tensor_type())
      continue;
    const std::vector<int64_t> &dims = it->second;
    auto *shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
    if (input.type().tensor_type().has_shape() &&
        shape->dim_size() != (int)dims.size()) {
      emitError(fileLoc) << "--input-shape for '" << input.name() << "' has "
                         << dims.size() << " dims but the input has rank "
                         << shape->dim_size();
      ok = false;
      continue;
    }
    for (int i = 0; i < shape->dim_size(); ++i) {
      const auto &dim = shape->dim(i);
      if (dim.has_dim_value() && dim.dim_value() != dims[i]) {
        emitError(fileLoc) << "--input-shape for '" << input.name()
                           << "' sets dim " << i << " to " << dims[i]
                           << " but the model fixes it to " << dim.dim_value();
        ok = false;
      }
    }
    shape->clear_dim();
    for (int64_t d : it->second)
      shape->add_dim()->set_dim_value(d);
  }
  if (!ok)
    return nullptr;
  llvm::StringSet<> declaredShapes;
  for (const auto *infos : {&model.graph().value_info(), &model.graph().output()})
    for (const auto &info : *infos)
      if (info.type().has_tensor_type() && info.type().tensor_type().has_shape())
        declaredShapes.insert(info.name());
  if (opset <= kMaxKnownOpset) {
    try {
      onnx::ShapeInferenceOptions inferenceOptions{
          /*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true};
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                         inferenceOptions);
    } catch (const std::exception &e) {
      // The dialect's own inference still runs; ONNX's only refines it.
      emitWarning(fileLoc) << "ONNX shape inference failed, using mpc's own: "
                           << e.what();
    }
  }

  GraphImporter importer(context, path, options, nodePrefix,
                         std::move(declaredShapes));
  OwningOpRef<ModuleOp> module = importer.import(model);
  if (!module || errors)
    return nullptr;
  if (failed(mlir::verify(*module))) 
    return nullptr;
  return module;
}

FailureOr<SmallVector<Value>>
onnx_import::importSubgraph(NodeImporter &n, const onnx::GraphProto &graph) {
  GraphImporter &g = n.getGraph();
  // The nodes inside set their own prefix; the enclosing node's returns.
  std::string enclosingPrefix = g.nodePrefix;
  llvm::scope_exit restorePrefix([&] { g.nodePrefix = enclosingPrefix; });
  if (graph.input_size())
    return n.error() << Twine("subgraphs with inputs (Loop and Scan bodies) are "
                         "not supported"),
           failure();
  if (failed(g.importInitializers(graph)))
    return failure();
  for (const auto &info : graph.value_info())
    g.valueTypes[info.name()] = &info.type();
  for (const auto &info : graph.output())
    g.valueTypes[info.name()] = &info.type();
  if (failed(g.importNodes(graph)))
    return failure();
  SmallVector<Value> outputs;
  for (const auto &output : graph.output()) {
    FailureOr<Value> v = g.lookupValue(output.name());
    if (failed(v))
      return failure();
    if (!*v) {
      g.nodePrefix = enclosingPrefix;
      return n.error() << "subgraph output '" << output.name()
                       << "' is not produced by any node",
             failure();
    }
    outputs.push_back(*v);
  }
  return outputs;
}

/// If: a condition known at import time (after shape pinning and folding)
/// imports only the branch taken; one computed at run time imports both
/// branches and selects their outputs, which must then have one type.
LogicalResult onnx_import::importIfNode(NodeImporter &n) {
  FailureOr<Value> condition = n.requiredInput(0);
  if (failed(condition))
    return failure();
  const onnx::AttributeProto *thenBranch = n.attr("then_branch");
  const onnx::AttributeProto *elseBranch = n.attr("else_branch");
  if (!thenBranch || !thenBranch->has_g() || !elseBranch ||
      !elseBranch->has_g())
    return n.unsupported("then_branch and else_branch graphs are required");
  auto conditionType = cast<RankedTensorType>(condition->getType());
  if (!conditionType.hasStaticShape() || conditionType.getNumElements() != 1)
    return n.unsupported("the condition must hold one element");
  if (DenseElementsAttr known = n.tryConstantInput(0)) {
    bool taken = *known.value_begin<bool>();
    FailureOr<SmallVector<Value>> outputs =
        importSubgraph(n, taken ? thenBranch->g() : elseBranch->g());
    if (failed(outputs))
      return failure();
    n.setResults(*outputs);
    return success();
  }
  FailureOr<SmallVector<Value>> thenOutputs = importSubgraph(n, thenBranch->g());
  if (failed(thenOutputs))
    return failure();
  FailureOr<SmallVector<Value>> elseOutputs = importSubgraph(n, elseBranch->g());
  if (failed(elseOutputs))
    return failure();
  if (thenOutputs->size() != elseOutputs->size())
    return n.unsupported("the branches have " + Twine(thenOutputs->size()) +
                         " and " + Twine(elseOutputs->size()) + " outputs");
  Value scalar = *condition;
  if (conditionType.getRank() != 0) {
    FailureOr<ReshapeOp> reshaped = n.create<ReshapeOp>(
        {*condition, shapeConstant(n.getBuilder(), n.getLoc(), {})});
    if (failed(reshaped))
      return failure();
    scalar = reshaped->getResult();
  }
  SmallVector<Value> results;
  for (auto [i, pair] : llvm::enumerate(llvm::zip(*thenOutputs, *elseOutputs))) {
    auto [onTrue, onFalse] = pair;
    auto trueType = cast<RankedTensorType>(onTrue.getType());
    auto falseType = cast<RankedTensorType>(onFalse.getType());
    if (trueType != falseType || !trueType.hasStaticShape())
      return n.error() << "output " << i << ": the branches give " << trueType
                       << " and " << falseType
                       << "; an If whose condition is computed at run time "
                          "runs both branches and selects, so both must give "
                          "one static type",
             failure();
    FailureOr<WhereOp> selected =
        n.create<WhereOp>({scalar, onTrue, onFalse});
    if (failed(selected))
      return failure();
    results.push_back(selected->getResult());
  }
  n.setResults(results);
  return success();
}

FailureOr<DenseElementsAttr> NodeImporter::getTensor(StringRef attrName) {
  const onnx::AttributeProto *a = attr(attrName);
  if (!a || !a->has_t())
    return error() << "attribute '" << attrName << "' must be a tensor",
           failure();
  FailureOr<ElementsAttr> tensor = graph.readTensor(a->t(), loc);
  if (failed(tensor))
    return failure();
  auto dense = dyn_cast<DenseElementsAttr>(*tensor);
  if (!dense)
    return error() << "attribute '" << attrName << "' is not a dense tensor",
           failure();
  return dense;
}

LogicalResult onnx_import::importConstantNode(NodeImporter &n) {
  Builder b(n.getContext());
  ElementsAttr value;
  if (const auto *a = n.attr("value")) {
    FailureOr<ElementsAttr> tensor =
        n.getGraph().readTensor(a->t(), n.getLoc());
    if (failed(tensor))
      return failure();
    value = *tensor;
  } else if (auto f = n.getFloat("value_float")) {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   *f);
  } else if (auto fs = n.getFloats("value_floats")) {
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)fs->size()}, b.getF32Type()),
        ArrayRef<float>(*fs));
  } else if (auto i = n.getInt("value_int")) {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                   *i);
  } else if (auto is = n.getInts("value_ints")) {
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)is->size()}, b.getI64Type()),
        ArrayRef<int64_t>(*is));
  } else if (n.attr("sparse_value")) {
    return n.unsupported("sparse constants are not supported");
  } else if (n.attr("value_string") || n.attr("value_strings")) {
    return n.unsupported("string constants are not supported");
  } else {
    return n.unsupported("has no value attribute");
  }
  FailureOr<ConstantOp> op =
      n.create<ConstantOp>({}, {n.named("value", value)});
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

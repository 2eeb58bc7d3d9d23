//===- MPCOps.cpp - mpc op verification, shape inference, folding ---------===//
//
// Result types follow ONNX's shape inference rules; dynamic dims propagate
// as `?`. Folders cover the integer shape arithmetic that exporters emit
// around Reshape (Shape -> Gather -> Unsqueeze -> Concat), so that pinning
// the input shapes turns such chains into constants.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::mpc;

static constexpr int64_t kDynamic = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

FailureOr<int64_t> mpc::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return failure();
  return axis < 0 ? axis + rank : axis;
}

bool mpc::areRefinedTypes(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [in, act] : llvm::zip(inferred, actual)) {
    auto inTensor = dyn_cast<RankedTensorType>(in);
    auto actTensor = dyn_cast<RankedTensorType>(act);
    if (!inTensor || !actTensor) {
      if (in != act)
        return false;
      continue;
    }
    if (inTensor.getElementType() != actTensor.getElementType() ||
        inTensor.getRank() != actTensor.getRank())
      return false;
    for (auto [a, b] : llvm::zip(inTensor.getShape(), actTensor.getShape()))
      if (!ShapedType::isDynamic(a) && a != b)
        return false;
  }
  return true;
}

LogicalResult mpc::broadcastShapes(ArrayRef<int64_t> lhs,
                                   ArrayRef<int64_t> rhs,
                                   SmallVectorImpl<int64_t> &result) {
  size_t rank = std::max(lhs.size(), rhs.size());
  result.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t b = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (a == b)
      result[i] = a;
    else if (a == 1)
      result[i] = b;
    else if (b == 1)
      result[i] = a;
    else if (ShapedType::isDynamic(a))
      result[i] = b;
    else if (ShapedType::isDynamic(b))
      result[i] = a;
    else
      return failure();
  }
  return success();
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "[";
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (ShapedType::isDynamic(d))
          os << "?";
        else
          os << d;
      },
      ", ");
  os << "]";
  return s;
}

static Type elementTypeOf(Value value) { return getElementTypeOrSelf(value); }

LogicalResult mpc::inferElementwiseTypes(std::optional<Location> loc,
                                         ValueRange operands,
                                         PrecisionAttr precision,
                                         Type resultElementType,
                                         SmallVectorImpl<Type> &inferred) {
  Type first = elementTypeOf(operands.front());
  SmallVector<int64_t> shape(
      cast<RankedTensorType>(operands.front().getType()).getShape());
  for (Value operand : operands.drop_front()) {
    auto type = cast<RankedTensorType>(operand.getType());
    if (type.getElementType() != first)
      return emitOptionalError(loc, "operand element types differ: ", first,
                               " and ", type.getElementType());
    SmallVector<int64_t> next;
    if (failed(broadcastShapes(shape, type.getShape(), next)))
      return emitOptionalError(loc, "operand shapes ", shapeString(shape),
                               " and ", shapeString(type.getShape()),
                               " are not broadcastable");
    shape = std::move(next);
  }
  Type element = resultElementType;
  if (!element)
    element = precision ? Type(precision.getResult()) : first;
  inferred.push_back(RankedTensorType::get(shape, element));
  return success();
}

LogicalResult mpc::inferReductionTypes(std::optional<Location> loc,
                                       Type inputType, ArrayRef<int64_t> axes,
                                       bool keepdims, PrecisionAttr precision,
                                       SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(inputType);
  int64_t rank = input.getRank();
  llvm::SmallSet<int64_t, 4> reduced;
  for (int64_t axis : axes) {
    FailureOr<int64_t> normalized = normalizeAxis(axis, rank);
    if (failed(normalized))
      return emitOptionalError(loc, "reduction axis ", axis,
                               " is out of range for rank ", rank);
    if (!reduced.insert(*normalized).second)
      return emitOptionalError(loc, "reduction axis ", axis, " is repeated");
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    bool isReduced = axes.empty() || reduced.contains(i);
    if (!isReduced)
      shape.push_back(input.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  Type element =
      precision ? Type(precision.getResult()) : input.getElementType();
  inferred.push_back(RankedTensorType::get(shape, element));
  return success();
}

LogicalResult mpc::inferArgReductionTypes(std::optional<Location> loc,
                                          Type inputType, int64_t axis,
                                          bool keepdims,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(inputType);
  FailureOr<int64_t> normalized = normalizeAxis(axis, input.getRank());
  if (failed(normalized))
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             input.getRank());
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < input.getRank(); ++i) {
    if (i != *normalized)
      shape.push_back(input.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  inferred.push_back(
      RankedTensorType::get(shape, IntegerType::get(input.getContext(), 64)));
  return success();
}

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (failed(normalizeAxis(adaptor.getAxis(), input.getRank())))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  PrecisionAttr precision = adaptor.getPrecisionAttr();
  inferred.push_back(
      precision ? input.clone(precision.getResult()) : Type(input));
  return success();
}

bool CumSumOp::isAccumulating() { return true; }

/// The result element type of a floating-point compute op.
static Type computeResultElementType(Type operandElement,
                                     PrecisionAttr precision) {
  return precision ? Type(precision.getResult()) : operandElement;
}

PrecisionAttr mpc::getDefaultPrecision(Operation *op) {
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<FloatType>(elementTypeOf(operand)))
      return PrecisionAttr::get(op->getContext(), type, type, type);
  return nullptr;
}

LogicalResult mpc::verifyPrecisionOp(Operation *op) {
  auto precision = op->getAttrOfType<PrecisionAttr>("precision");
  if (!precision)
    return success();
  if (op->getNumOperands() == 0 ||
      !isa<FloatType>(elementTypeOf(op->getOperand(0))))
    return op->emitOpError("has a precision but no floating-point input");
  if (elementTypeOf(op->getOperand(0)) != precision.getCompute())
    return op->emitOpError("input element type ")
           << elementTypeOf(op->getOperand(0))
           << " does not match the compute type " << precision.getCompute();
  if (op->getNumResults() > 0 &&
      elementTypeOf(op->getResult(0)) != precision.getResult())
    return op->emitOpError("result element type ")
           << elementTypeOf(op->getResult(0))
           << " does not match the precision's result type "
           << precision.getResult();
  return success();
}

/// Reads a constant 1-d integer tensor (e.g. a Reshape shape).
static std::optional<SmallVector<int64_t>> getConstantIntValues(Value value) {
  DenseIntElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  return llvm::to_vector(llvm::map_range(
      attr.getValues<APInt>(), [](const APInt &v) { return v.getSExtValue(); }));
}

/// Reads a 1-d integer shape vector whose entries may be partly known: a
/// constant, or a Concat of constants and run-time pieces (as exporters
/// build `[batch, 5, 16]`). Unknown entries are std::nullopt.
static std::optional<SmallVector<std::optional<int64_t>>>
getPartialConstantInts(Value value) {
  if (auto values = getConstantIntValues(value))
    return llvm::to_vector(llvm::map_range(
        *values, [](int64_t v) { return std::optional<int64_t>(v); }));
  auto concat = value.getDefiningOp<ConcatOp>();
  if (!concat)
    return std::nullopt;
  SmallVector<std::optional<int64_t>> entries;
  for (Value piece : concat.getInputs()) {
    auto type = cast<RankedTensorType>(piece.getType());
    if (type.getRank() != 1 || !type.hasStaticShape())
      return std::nullopt;
    if (auto values = getConstantIntValues(piece))
      for (int64_t v : *values)
        entries.push_back(v);
    else
      entries.append(type.getDimSize(0), std::nullopt);
  }
  return entries;
}

/// Shared checks for windowed ops (conv, pooling).
static LogicalResult verifyWindow(std::optional<Location> loc,
                                  RankedTensorType input,
                                  ArrayRef<int64_t> kernel,
                                  ArrayRef<int64_t> strides,
                                  ArrayRef<int64_t> pads,
                                  ArrayRef<int64_t> dilations,
                                  AutoPad autoPad) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || spatial > 3)
    return emitOptionalError(loc, "expects 1 to 3 spatial dims, got input rank ",
                             input.getRank());
  if ((int64_t)kernel.size() != spatial)
    return emitOptionalError(loc, "kernel_shape has ", kernel.size(),
                             " entries for ", spatial, " spatial dims");
  if ((int64_t)strides.size() != spatial)
    return emitOptionalError(loc, "strides has ", strides.size(),
                             " entries for ", spatial, " spatial dims");
  if ((int64_t)dilations.size() != spatial)
    return emitOptionalError(loc, "dilations has ", dilations.size(),
                             " entries for ", spatial, " spatial dims");
  if ((int64_t)pads.size() != 2 * spatial)
    return emitOptionalError(loc, "pads has ", pads.size(), " entries for ",
                             spatial, " spatial dims (expected ", 2 * spatial,
                             ")");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }) ||
      llvm::any_of(kernel, [](int64_t k) { return k < 1; }))
    return emitOptionalError(
        loc, "kernel_shape, strides and dilations must be positive");
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "pads must be non-negative");
  (void)autoPad;
  return success();
}

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Output size of a windowed op along one spatial dim (ONNX's formulas).
static int64_t windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                int64_t padBegin, int64_t padEnd,
                                int64_t dilation, AutoPad autoPad,
                                bool ceilMode) {
  if (ShapedType::isDynamic(in))
    return kDynamic;
  int64_t effectiveKernel = (kernel - 1) * dilation + 1;
  switch (autoPad) {
  case AutoPad::SameUpper:
  case AutoPad::SameLower:
    return ceilDiv(in, stride);
  case AutoPad::Valid:
    return ceilDiv(in - effectiveKernel + 1, stride);
  case AutoPad::NotSet:
    break;
  }
  int64_t span = in + padBegin + padEnd - effectiveKernel;
  if (span < 0)
    return 0;
  if (!ceilMode)
    return span / stride + 1;
  // ceil_mode's extra window must start inside the input or its leading
  // padding, as PyTorch and onnxruntime compute it (ONNX's shape inference
  // before 1.16 kept a window lying wholly in the trailing padding).
  int64_t size = ceilDiv(span, stride) + 1;
  if ((size - 1) * stride >= in + padBegin)
    --size;
  return size;
}

static LogicalResult inferWindowShape(std::optional<Location> loc,
                                      RankedTensorType input,
                                      int64_t channels,
                                      ArrayRef<int64_t> kernel,
                                      ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations,
                                      AutoPad autoPad, bool ceilMode,
                                      SmallVectorImpl<int64_t> &shape) {
  if (failed(verifyWindow(loc, input, kernel, strides, pads, dilations,
                          autoPad)))
    return failure();
  int64_t spatial = input.getRank() - 2;
  shape.assign({input.getDimSize(0), channels});
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t size = windowOutputSize(input.getDimSize(i + 2), kernel[i],
                                    strides[i], pads[i], pads[i + spatial],
                                    dilations[i], autoPad, ceilMode);
    if (!ShapedType::isDynamic(size) && size <= 0)
      return emitOptionalError(loc, "window of size ", kernel[i],
                               " does not fit spatial dim ", i, " of input ",
                               shapeString(input.getShape()));
    shape.push_back(size);
  }
  return success();
}

static bool dimsMismatch(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult ClipOp::verify() {
  if (getMin() && getMax() &&
      getMin()->convertToDouble() > getMax()->convertToDouble())
    return emitOpError("min ") << getMin()->convertToDouble()
                               << " is greater than max "
                               << getMax()->convertToDouble();
  return success();
}

LogicalResult ModOp::verify() {
  if (isa<FloatType>(getElementTypeOrSelf(getLhs())) && !getFmod())
    return emitOpError("on floats needs fmod (ONNX Mod allows only fmod=1 "
                       "for floating-point types)");
  return success();
}

LogicalResult PowOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  auto lhs = cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rhs = cast<RankedTensorType>(adaptor.getRhs().getType());
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(lhs.getShape(), rhs.getShape(), shape)))
    return emitOptionalError(loc, "operand shapes ",
                             shapeString(lhs.getShape()), " and ",
                             shapeString(rhs.getShape()),
                             " are not broadcastable");
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(lhs.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto onTrue = cast<RankedTensorType>(adaptor.getOnTrue().getType());
  auto onFalse = cast<RankedTensorType>(adaptor.getOnFalse().getType());
  if (onTrue.getElementType() != onFalse.getElementType())
    return emitOptionalError(loc, "branch element types differ: ",
                             onTrue.getElementType(), " and ",
                             onFalse.getElementType());
  SmallVector<int64_t> shape(
      cast<RankedTensorType>(adaptor.getCondition().getType()).getShape());
  for (RankedTensorType type : {onTrue, onFalse}) {
    SmallVector<int64_t> next;
    if (failed(broadcastShapes(shape, type.getShape(), next)))
      return emitOptionalError(loc, "operand shapes are not broadcastable: ",
                               shapeString(shape), " and ",
                               shapeString(type.getShape()));
    shape = std::move(next);
  }
  inferred.push_back(RankedTensorType::get(shape, onTrue.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions, convolutions, pooling
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto lhs = cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rhs = cast<RankedTensorType>(adaptor.getRhs().getType());
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "operand element types differ: ",
                             lhs.getElementType(), " and ",
                             rhs.getElementType());
  if (lhs.getRank() < 1 || rhs.getRank() < 1)
    return emitOptionalError(loc, "operands must have rank >= 1");
  // numpy semantics: a 1-d lhs is a row vector, a 1-d rhs a column vector,
  // and the added dim is dropped from the result.
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (dimsMismatch(k1, k2))
    return emitOptionalError(loc, "contracting dims differ: ",
                             shapeString(lhs.getShape()), " x ",
                             shapeString(rhs.getShape()));
  SmallVector<int64_t> batch;
  if (failed(broadcastShapes(ArrayRef(a).drop_back(2),
                             ArrayRef(b).drop_back(2), batch)))
    return emitOptionalError(loc, "batch dims are not broadcastable: ",
                             shapeString(lhs.getShape()), " x ",
                             shapeString(rhs.getShape()));
  SmallVector<int64_t> shape = batch;
  if (lhs.getRank() > 1)
    shape.push_back(a[a.size() - 2]);
  if (rhs.getRank() > 1)
    shape.push_back(b.back());
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(lhs.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

bool MatMulOp::isAccumulating() { return true; }

LogicalResult GemmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto a = cast<RankedTensorType>(adaptor.getA().getType());
  auto b = cast<RankedTensorType>(adaptor.getB().getType());
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOptionalError(loc, "A and B must be 2-d, got ",
                             shapeString(a.getShape()), " and ",
                             shapeString(b.getShape()));
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(loc, "operand element types differ: ",
                             a.getElementType(), " and ", b.getElementType());
  bool transA = adaptor.getTransA(), transB = adaptor.getTransB();
  int64_t m = a.getDimSize(transA ? 1 : 0), k1 = a.getDimSize(transA ? 0 : 1);
  int64_t k2 = b.getDimSize(transB ? 1 : 0), n = b.getDimSize(transB ? 0 : 1);
  if (dimsMismatch(k1, k2))
    return emitOptionalError(loc, "contracting dims differ: ", k1, " and ",
                             k2);
  SmallVector<int64_t> shape = {m, n};
  if (Value c = adaptor.getC()) {
    auto cType = cast<RankedTensorType>(c.getType());
    SmallVector<int64_t> broadcast;
    // C broadcasts unidirectionally: it may not grow the result.
    if (cType.getRank() > 2 ||
        failed(broadcastShapes(shape, cType.getShape(), broadcast)) ||
        llvm::any_of(llvm::zip(shape, broadcast), [](auto pair) {
          return dimsMismatch(std::get<0>(pair), std::get<1>(pair));
        }))
      return emitOptionalError(loc, "C of shape ",
                               shapeString(cType.getShape()),
                               " does not broadcast to ", shapeString(shape));
  }
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(a.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

bool GemmOp::isAccumulating() { return true; }

LogicalResult ConvOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  if (weight.getRank() != input.getRank())
    return emitOptionalError(loc, "weight rank ", weight.getRank(),
                             " differs from input rank ", input.getRank());
  int64_t group = adaptor.getGroup();
  if (group < 1)
    return emitOptionalError(loc, "group must be positive");
  if (!ShapedType::isDynamic(input.getDimSize(1)) &&
      !ShapedType::isDynamic(weight.getDimSize(1)) &&
      input.getDimSize(1) != weight.getDimSize(1) * group)
    return emitOptionalError(loc, "input has ", input.getDimSize(1),
                             " channels but weight expects ",
                             weight.getDimSize(1), " x group ", group);
  ArrayRef<int64_t> kernel = adaptor.getKernelShape();
  for (auto [i, k] : llvm::enumerate(kernel))
    if (i + 2 < (size_t)weight.getRank() &&
        dimsMismatch(k, weight.getDimSize(i + 2)))
      return emitOptionalError(loc, "kernel_shape ", shapeString(kernel),
                               " differs from weight shape ",
                               shapeString(weight.getShape()));
  if (Value bias = adaptor.getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 ||
        dimsMismatch(biasType.getDimSize(0), weight.getDimSize(0)))
      return emitOptionalError(loc, "bias of shape ",
                               shapeString(biasType.getShape()),
                               " does not match ", weight.getDimSize(0),
                               " output channels");
  }
  SmallVector<int64_t> shape;
  if (failed(inferWindowShape(loc, input, weight.getDimSize(0), kernel,
                              adaptor.getStrides(), adaptor.getPads(),
                              adaptor.getDilations(), adaptor.getAutoPad(),
                              /*ceilMode=*/false, shape)))
    return failure();
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(input.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

bool ConvOp::isAccumulating() { return true; }

LogicalResult ConvTransposeOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  if (weight.getRank() != input.getRank())
    return emitOptionalError(loc, "weight rank ", weight.getRank(),
                             " differs from input rank ", input.getRank());
  int64_t group = adaptor.getGroup();
  if (group < 1)
    return emitOptionalError(loc, "group must be positive");
  if (dimsMismatch(input.getDimSize(1), weight.getDimSize(0)))
    return emitOptionalError(loc, "input has ", input.getDimSize(1),
                             " channels but weight has ", weight.getDimSize(0));
  ArrayRef<int64_t> kernel = adaptor.getKernelShape();
  ArrayRef<int64_t> strides = adaptor.getStrides();
  ArrayRef<int64_t> pads = adaptor.getPads();
  ArrayRef<int64_t> dilations = adaptor.getDilations();
  ArrayRef<int64_t> outputPadding = adaptor.getOutputPadding();
  if (failed(verifyWindow(loc, input, kernel, strides, pads, dilations,
                          AutoPad::NotSet)))
    return failure();
  int64_t spatial = input.getRank() - 2;
  if ((int64_t)outputPadding.size() != spatial)
    return emitOptionalError(loc, "output_padding has ", outputPadding.size(),
                             " entries for ", spatial, " spatial dims");
  int64_t outChannels = ShapedType::isDynamic(weight.getDimSize(1))
                            ? kDynamic
                            : weight.getDimSize(1) * group;
  SmallVector<int64_t> shape = {input.getDimSize(0), outChannels};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2);
    if (ShapedType::isDynamic(in)) {
      shape.push_back(kDynamic);
      continue;
    }
    int64_t size = strides[i] * (in - 1) + outputPadding[i] +
                   (kernel[i] - 1) * dilations[i] + 1 - pads[i] -
                   pads[i + spatial];
    if (size <= 0)
      return emitOptionalError(loc, "output spatial dim ", i,
                               " would be empty");
    shape.push_back(size);
  }
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(input.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

bool ConvTransposeOp::isAccumulating() { return true; }

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  SmallVector<int64_t> shape;
  if (input.getRank() < 3)
    return emitOptionalError(loc, "expects 1 to 3 spatial dims, got input rank ",
                             input.getRank());
  if (failed(inferWindowShape(loc, input, input.getDimSize(1),
                              adaptor.getKernelShape(), adaptor.getStrides(),
                              adaptor.getPads(), adaptor.getDilations(),
                              adaptor.getAutoPad(), adaptor.getCeilMode(),
                              shape)))
    return failure();
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(input.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

LogicalResult MaxPoolGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto grad = cast<RankedTensorType>(adaptor.getGrad().getType());
  ArrayRef<int64_t> kernel = adaptor.getKernelShape();
  if (input.getRank() != 4 || grad.getRank() != 4 || kernel.size() != 2 ||
      !input.hasStaticShape() || !grad.hasStaticShape())
    return emitOptionalError(loc, "expects static [N, C, H, W] input and "
                                  "grad and a 2-d kernel");
  for (int64_t d = 0; d < 4; ++d) {
    int64_t window = d < 2 ? 1 : kernel[d - 2];
    if (window < 1 || grad.getDimSize(d) * window != input.getDimSize(d))
      return emitOptionalError(loc, "the kernel's windows must tile the "
                                    "input: input ", input, ", grad ", grad);
  }
  inferred.push_back(RankedTensorType::get(
      input.getShape(), computeResultElementType(grad.getElementType(),
                                                 adaptor.getPrecisionAttr())));
  return success();
}

LogicalResult AveragePoolOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() < 3)
    return emitOptionalError(loc, "expects 1 to 3 spatial dims, got input rank ",
                             input.getRank());
  SmallVector<int64_t> dilations(input.getRank() - 2, 1);
  SmallVector<int64_t> shape;
  if (failed(inferWindowShape(loc, input, input.getDimSize(1),
                              adaptor.getKernelShape(), adaptor.getStrides(),
                              adaptor.getPads(), dilations,
                              adaptor.getAutoPad(), adaptor.getCeilMode(),
                              shape)))
    return failure();
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(input.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

bool AveragePoolOp::isAccumulating() { return true; }

LogicalResult GlobalAveragePoolOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() < 3)
    return emitOptionalError(loc, "expects an input of rank >= 3, got ",
                             input.getRank());
  SmallVector<int64_t> shape = {input.getDimSize(0), input.getDimSize(1)};
  shape.append(input.getRank() - 2, 1);
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(input.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

bool GlobalAveragePoolOp::isAccumulating() { return true; }

//===----------------------------------------------------------------------===//
// Normalisation, softmax, reductions, losses
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferSoftmax(std::optional<Location> loc, Adaptor adaptor,
                                  SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (failed(normalizeAxis(adaptor.getAxis(), input.getRank())))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  inferred.push_back(RankedTensorType::get(
      input.getShape(), computeResultElementType(input.getElementType(),
                                                 adaptor.getPrecisionAttr())));
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  return inferSoftmax(loc, adaptor, inferred);
}
bool SoftmaxOp::isAccumulating() { return true; }

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &inferred) {
  return inferSoftmax(loc, adaptor, inferred);
}
bool LogSoftmaxOp::isAccumulating() { return true; }

bool ReduceSumOp::isAccumulating() { return true; }
bool ReduceMeanOp::isAccumulating() { return true; }
bool ReduceMaxOp::isAccumulating() { return false; }
bool ReduceMinOp::isAccumulating() { return false; }
bool ReduceProdOp::isAccumulating() { return true; }

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  ArrayRef<int64_t> normalized = input.getShape().drop_front(*axis);
  for (Value param : {adaptor.getScale(), adaptor.getBias()}) {
    if (!param)
      continue;
    auto type = cast<RankedTensorType>(param.getType());
    SmallVector<int64_t> broadcast;
    if (type.getRank() > (int64_t)normalized.size() ||
        failed(broadcastShapes(normalized, type.getShape(), broadcast)))
      return emitOptionalError(loc, "scale/bias of shape ",
                               shapeString(type.getShape()),
                               " does not broadcast to the normalised dims ",
                               shapeString(normalized));
  }
  inferred.push_back(RankedTensorType::get(
      input.getShape(), computeResultElementType(input.getElementType(),
                                                 adaptor.getPrecisionAttr())));
  SmallVector<int64_t> statsShape(input.getShape().take_front(*axis));
  statsShape.append(input.getRank() - *axis, 1);
  auto statsType =
      RankedTensorType::get(statsShape, Float32Type::get(input.getContext()));
  inferred.push_back(statsType);
  inferred.push_back(statsType);
  return success();
}
bool LayerNormOp::isAccumulating() { return true; }

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() < 2)
    return emitOptionalError(loc, "expects an input of rank >= 2, got ",
                             input.getRank());
  int64_t channels = input.getDimSize(1);
  for (Value param : {adaptor.getScale(), adaptor.getBias(), adaptor.getMean(),
                      adaptor.getVariance()}) {
    auto type = cast<RankedTensorType>(param.getType());
    if (type.getRank() != 1 || dimsMismatch(type.getDimSize(0), channels))
      return emitOptionalError(loc, "per-channel operand of shape ",
                               shapeString(type.getShape()),
                               " does not match ", channels, " channels");
  }
  auto statsType = cast<RankedTensorType>(adaptor.getMean().getType());
  inferred.push_back(RankedTensorType::get(
      input.getShape(), computeResultElementType(input.getElementType(),
                                                 adaptor.getPrecisionAttr())));
  inferred.push_back(statsType);
  inferred.push_back(statsType);
  return success();
}
bool BatchNormOp::isAccumulating() { return true; }

/// Shared by both losses: scores/input [N, C, d...], labels [N, d...].
static LogicalResult inferLossShape(std::optional<Location> loc,
                                    RankedTensorType scores,
                                    RankedTensorType labels, Value weights,
                                    LossReduction reduction,
                                    SmallVectorImpl<int64_t> &lossShape) {
  if (scores.getRank() < 2)
    return emitOptionalError(loc, "scores must have rank >= 2 [N, C, ...]");
  if (labels.getRank() != scores.getRank() - 1)
    return emitOptionalError(loc, "labels of shape ",
                             shapeString(labels.getShape()),
                             " do not match scores of shape ",
                             shapeString(scores.getShape()));
  SmallVector<int64_t> expected = {scores.getDimSize(0)};
  llvm::append_range(expected, scores.getShape().drop_front(2));
  for (auto [a, b] : llvm::zip(expected, labels.getShape()))
    if (dimsMismatch(a, b))
      return emitOptionalError(loc, "labels of shape ",
                               shapeString(labels.getShape()),
                               " do not match scores of shape ",
                               shapeString(scores.getShape()));
  if (weights) {
    auto type = cast<RankedTensorType>(weights.getType());
    if (type.getRank() != 1 || dimsMismatch(type.getDimSize(0),
                                            scores.getDimSize(1)))
      return emitOptionalError(loc, "class weights of shape ",
                               shapeString(type.getShape()), " do not match ",
                               scores.getDimSize(1), " classes");
  }
  if (reduction == LossReduction::None)
    lossShape = expected;
  return success();
}

LogicalResult SoftmaxCrossEntropyLossOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto scores = cast<RankedTensorType>(adaptor.getScores().getType());
  auto labels = cast<RankedTensorType>(adaptor.getLabels().getType());
  SmallVector<int64_t> lossShape;
  if (failed(inferLossShape(loc, scores, labels, adaptor.getWeights(),
                            adaptor.getReduction(), lossShape)))
    return failure();
  Type element = computeResultElementType(scores.getElementType(),
                                          adaptor.getPrecisionAttr());
  inferred.push_back(RankedTensorType::get(lossShape, element));
  inferred.push_back(RankedTensorType::get(scores.getShape(), element));
  return success();
}
bool SoftmaxCrossEntropyLossOp::isAccumulating() { return true; }

/// The gradient of a class loss (softmax cross entropy, negative log
/// likelihood) with respect to its [N, C, d...] input has the input's
/// type; `loss_grad` must have the loss's shape.
template <typename AdaptorTy>
static LogicalResult inferClassLossGradType(std::optional<Location> loc,
                                            AdaptorTy adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto logProb = cast<RankedTensorType>(adaptor.getLogProb().getType());
  auto labels = cast<RankedTensorType>(adaptor.getLabels().getType());
  SmallVector<int64_t> lossShape;
  if (failed(inferLossShape(loc, logProb, labels, adaptor.getWeights(),
                            adaptor.getReduction(), lossShape)))
    return failure();
  auto lossGrad = cast<RankedTensorType>(adaptor.getLossGrad().getType());
  if (lossGrad.getShape() != ArrayRef<int64_t>(lossShape))
    return emitOptionalError(loc, "loss_grad has shape ", lossGrad,
                             ", the loss has ", lossShape.size(), " dims");
  inferred.push_back(logProb);
  return success();
}

LogicalResult SoftmaxCrossEntropyLossGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  return inferClassLossGradType(loc, adaptor, inferred);
}
bool SoftmaxCrossEntropyLossGradOp::isAccumulating() { return true; }

LogicalResult NegativeLogLikelihoodLossGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  return inferClassLossGradType(loc, adaptor, inferred);
}
bool NegativeLogLikelihoodLossGradOp::isAccumulating() { return true; }

LogicalResult GatherGradOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &inferred) {
  auto grad = cast<RankedTensorType>(adaptor.getGrad().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  if (grad.getRank() != 3 || indices.getRank() != 1)
    return emitOptionalError(loc, "expects grad [O, K, I] and indices [K], "
                                  "got ", grad, " and ", indices);
  if (grad.getDimSize(1) != indices.getDimSize(0))
    return emitOptionalError(loc, "grad has ", grad.getDimSize(1),
                             " gathered rows, indices ", indices.getDimSize(0));
  int64_t rows = static_cast<int64_t>(adaptor.getNumRows());
  if (rows < 1)
    return emitOptionalError(loc, "num_rows must be positive, got ", rows);
  inferred.push_back(RankedTensorType::get(
      {grad.getDimSize(0), rows, grad.getDimSize(2)},
      computeResultElementType(grad.getElementType(),
                               adaptor.getPrecisionAttr())));
  return success();
}
bool GatherGradOp::isAccumulating() { return true; }

LogicalResult UnscaleGradientsOp::verify() {
  if (getGradients().getTypes() != getUnscaled().getTypes())
    return emitOpError("unscaled gradients must have the gradients' types");
  return success();
}

LogicalResult NegativeLogLikelihoodLossOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto target = cast<RankedTensorType>(adaptor.getTarget().getType());
  SmallVector<int64_t> lossShape;
  if (failed(inferLossShape(loc, input, target, adaptor.getWeight(),
                            adaptor.getReduction(), lossShape)))
    return failure();
  inferred.push_back(RankedTensorType::get(
      lossShape, computeResultElementType(input.getElementType(),
                                          adaptor.getPrecisionAttr())));
  return success();
}
bool NegativeLogLikelihoodLossOp::isAccumulating() { return true; }

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  inferred.push_back(RankedTensorType::get(
      input.getShape(), computeResultElementType(input.getElementType(),
                                                 adaptor.getPrecisionAttr())));
  inferred.push_back(
      RankedTensorType::get(input.getShape(), IntegerType::get(context, 1)));
  return success();
}

LogicalResult DropoutOp::verify() {
  float ratio = getRatio().convertToFloat();
  if (ratio < 0.0f || ratio >= 1.0f)
    return emitOpError("ratio ") << ratio << " is outside [0, 1)";
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

LogicalResult IdentityOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

OpFoldResult IdentityOp::fold(FoldAdaptor) { return getInput(); }

static std::pair<int64_t, int64_t> shapeRange(int64_t rank, int64_t start,
                                              std::optional<int64_t> end);

/// Resolves ONNX Reshape's 0 (copy input dim) and -1 (infer) entries.
static LogicalResult resolveReshape(std::optional<Location> loc,
                                    RankedTensorType input,
                                    ArrayRef<int64_t> requested,
                                    bool allowZero,
                                    SmallVectorImpl<int64_t> &shape) {
  int64_t inferredIndex = -1;
  shape.clear();
  for (auto [i, dim] : llvm::enumerate(requested)) {
    if (dim == -1) {
      if (inferredIndex >= 0)
        return emitOptionalError(loc, "shape ", shapeString(requested),
                                 " has more than one -1");
      inferredIndex = i;
      shape.push_back(kDynamic);
    } else if (dim == 0 && !allowZero) {
      if ((int64_t)i >= input.getRank())
        return emitOptionalError(loc, "shape ", shapeString(requested),
                                 " copies dim ", i, " of a rank-",
                                 input.getRank(), " input");
      shape.push_back(input.getDimSize(i));
    } else if (dim < 0) {
      return emitOptionalError(loc, "shape ", shapeString(requested),
                               " has a negative dim");
    } else {
      shape.push_back(dim);
    }
  }
  if (!input.hasStaticShape())
    return success();
  int64_t total = input.getNumElements();
  int64_t known = 1;
  for (auto [i, dim] : llvm::enumerate(shape))
    if ((int64_t)i != inferredIndex) {
      if (ShapedType::isDynamic(dim))
        return success();
      known *= dim;
    }
  if (inferredIndex >= 0) {
    if (known == 0 || total % known != 0)
      return emitOptionalError(loc, "cannot reshape ",
                               shapeString(input.getShape()), " to ",
                               shapeString(requested));
    shape[inferredIndex] = total / known;
  } else if (known != total) {
    return emitOptionalError(loc, "cannot reshape ",
                             shapeString(input.getShape()), " (", total,
                             " elements) to ", shapeString(requested));
  }
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto shapeType = cast<RankedTensorType>(adaptor.getShape().getType());
  SmallVector<int64_t> shape;
  if (auto requested = getConstantIntValues(adaptor.getShape())) {
    if (failed(resolveReshape(loc, input, *requested, adaptor.getAllowzero(),
                              shape)))
      return failure();
  } else if (auto partial = getPartialConstantInts(adaptor.getShape())) {
    // Known entries other than 0 and -1 are the result dims; the rest are
    // decided at run time.
    for (std::optional<int64_t> entry : *partial)
      shape.push_back(entry && *entry > 0 ? *entry : kDynamic);
  } else if (shapeType.hasStaticShape()) {
    shape.assign(shapeType.getDimSize(0), kDynamic);
  } else {
    return emitOptionalError(
        loc, "the rank of the result is unknown: the shape operand has a "
             "dynamic length");
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  auto resultType = cast<RankedTensorType>(getType());
  if (getInput().getType() == resultType && resultType.hasStaticShape())
    return getInput();
  if (auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    if (resultType.hasStaticShape())
      return input.reshape(resultType);
  return {};
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank();
  int64_t axis = adaptor.getAxis();
  if (axis < -rank || axis > rank)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             rank);
  if (axis < 0)
    axis += rank;
  auto product = [](ArrayRef<int64_t> dims) {
    int64_t p = 1;
    for (int64_t d : dims) {
      if (ShapedType::isDynamic(d))
        return kDynamic;
      p *= d;
    }
    return p;
  };
  inferred.push_back(RankedTensorType::get(
      {product(input.getShape().take_front(axis)),
       product(input.getShape().drop_front(axis))},
      input.getElementType()));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != input.getRank())
    return emitOptionalError(loc, "perm has ", perm.size(),
                             " entries for rank ", input.getRank());
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank() || seen[p])
      return emitOptionalError(loc, "perm ", shapeString(perm),
                               " is not a permutation");
    seen[p] = true;
    shape.push_back(input.getDimSize(p));
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if ((int64_t)i != p)
      return {};
  return getInput();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "needs at least one input");
  auto first = cast<RankedTensorType>(adaptor.getInputs().front().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), first.getRank());
  if (failed(axis))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", first.getRank());
  SmallVector<int64_t> shape(first.getShape());
  shape[*axis] = 0;
  for (Value input : adaptor.getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOptionalError(loc, "inputs differ in rank or element type: ",
                               first, " and ", type);
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t d = type.getDimSize(i);
      if (i == *axis) {
        shape[i] = (ShapedType::isDynamic(d) || ShapedType::isDynamic(shape[i]))
                       ? kDynamic
                       : shape[i] + d;
      } else if (dimsMismatch(shape[i], d)) {
        return emitOptionalError(loc, "inputs differ in dim ", i, ": ", first,
                                 " and ", type);
      } else if (ShapedType::isDynamic(shape[i])) {
        shape[i] = d;
      }
    }
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  // Only 1-d constants: the shape vectors exporters assemble for Reshape.
  auto resultType = cast<RankedTensorType>(getType());
  if (resultType.getRank() != 1 || !resultType.hasStaticShape())
    return {};
  SmallVector<Attribute> values;
  for (Attribute operand : adaptor.getInputs()) {
    auto dense = dyn_cast_if_present<DenseElementsAttr>(operand);
    if (!dense)
      return {};
    llvm::append_range(values, dense.getValues<Attribute>());
  }
  return DenseElementsAttr::get(resultType, values);
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  int64_t total = 0;
  for (int64_t size : adaptor.getSizes()) {
    if (size < 0)
      return emitOptionalError(loc, "split sizes must be non-negative");
    total += size;
  }
  if (dimsMismatch(total, input.getDimSize(*axis)))
    return emitOptionalError(loc, "split sizes ",
                             shapeString(adaptor.getSizes()), " sum to ",
                             total, " but the dim has size ",
                             input.getDimSize(*axis));
  for (int64_t size : adaptor.getSizes()) {
    SmallVector<int64_t> shape(input.getShape());
    shape[*axis] = size;
    inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  }
  return success();
}

/// ONNX Slice's clamping for one axis of static size `dim`.
int64_t mpc::sliceBoundary(int64_t dim, int64_t index, int64_t step) {
  if (index < 0)
    index += dim;
  return step > 0 ? std::clamp<int64_t>(index, 0, dim)
                  : std::clamp<int64_t>(index, -1, dim - 1);
}

static int64_t sliceSize(int64_t dim, int64_t start, int64_t end,
                         int64_t step) {
  if (ShapedType::isDynamic(dim))
    return kDynamic;
  int64_t s = sliceBoundary(dim, start, step),
          e = sliceBoundary(dim, end, step);
  int64_t size = step > 0 ? ceilDiv(e - s, step) : ceilDiv(s - e, -step);
  return std::max<int64_t>(size, 0);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> starts = adaptor.getStarts(), ends = adaptor.getEnds(),
                    axes = adaptor.getAxes(), steps = adaptor.getSteps();
  if (starts.size() != ends.size() || starts.size() != axes.size() ||
      starts.size() != steps.size())
    return emitOptionalError(loc,
                             "starts, ends, axes and steps differ in length");
  SmallVector<int64_t> shape(input.getShape());
  SmallVector<bool> seen(input.getRank(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> axis = normalizeAxis(axes[i], input.getRank());
    if (failed(axis))
      return emitOptionalError(loc, "slice axis ", axes[i],
                               " is out of range for rank ", input.getRank());
    if (seen[*axis])
      return emitOptionalError(loc, "slice axis ", axes[i], " is repeated");
    seen[*axis] = true;
    if (steps[i] == 0)
      return emitOptionalError(loc, "slice step must not be 0");
    shape[*axis] = sliceSize(input.getDimSize(*axis), starts[i], ends[i],
                             steps[i]);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      cast<RankedTensorType>(getType()).hasStaticShape() &&
      llvm::all_of(getSteps(), [](int64_t s) { return s == 1; }))
    return getInput();
  // Constant 1-d slices (pieces of shape vectors).
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  auto resultType = cast<RankedTensorType>(getType());
  if (!input || resultType.getRank() != 1 || !resultType.hasStaticShape() ||
      getStarts().size() != 1)
    return {};
  int64_t dim = input.getNumElements();
  int64_t step = getSteps()[0];
  int64_t start = sliceBoundary(dim, getStarts()[0], step);
  auto values = llvm::to_vector(input.getValues<Attribute>());
  SmallVector<Attribute> sliced;
  for (int64_t i = 0, idx = start; i < resultType.getDimSize(0);
       ++i, idx += step)
    sliced.push_back(values[idx]);
  return DenseElementsAttr::get(resultType, sliced);
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  SmallVector<bool> squeezed(input.getRank(), false);
  if (adaptor.getAxes().empty()) {
    for (int64_t i = 0; i < input.getRank(); ++i) {
      if (ShapedType::isDynamic(input.getDimSize(i)))
        return emitOptionalError(
            loc, "squeeze without axes needs a static shape, got ",
            shapeString(input.getShape()));
      squeezed[i] = input.getDimSize(i) == 1;
    }
  }
  for (int64_t axis : adaptor.getAxes()) {
    FailureOr<int64_t> normalized = normalizeAxis(axis, input.getRank());
    if (failed(normalized))
      return emitOptionalError(loc, "squeeze axis ", axis,
                               " is out of range for rank ", input.getRank());
    if (dimsMismatch(input.getDimSize(*normalized), 1))
      return emitOptionalError(loc, "cannot squeeze dim ", axis, " of size ",
                               input.getDimSize(*normalized));
    squeezed[*normalized] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < input.getRank(); ++i)
    if (!squeezed[i])
      shape.push_back(input.getDimSize(i));
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

/// Folds a reshaping op (squeeze, unsqueeze) of a constant.
static OpFoldResult foldConstantReshape(Attribute input, Type resultType) {
  auto dense = dyn_cast_if_present<DenseElementsAttr>(input);
  auto tensorType = cast<RankedTensorType>(resultType);
  if (!dense || !tensorType.hasStaticShape())
    return {};
  return dense.reshape(tensorType);
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  return foldConstantReshape(adaptor.getInput(), getType());
}

LogicalResult UnsqueezeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank() + adaptor.getAxes().size();
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : adaptor.getAxes()) {
    FailureOr<int64_t> normalized = normalizeAxis(axis, rank);
    if (failed(normalized))
      return emitOptionalError(loc, "unsqueeze axis ", axis,
                               " is out of range for result rank ", rank);
    if (inserted[*normalized])
      return emitOptionalError(loc, "unsqueeze axis ", axis, " is repeated");
    inserted[*normalized] = true;
  }
  SmallVector<int64_t> shape;
  int64_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted[i] ? 1 : input.getDimSize(next++));
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  return foldConstantReshape(adaptor.getInput(), getType());
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  SmallVector<int64_t> shape(input.getShape().take_front(*axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, input.getShape().drop_front(*axis + 1));
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  if (indices.getRank() != input.getRank())
    return emitOptionalError(loc, "indices have rank ", indices.getRank(),
                             ", the input ", input.getRank(),
                             " (GatherElements needs the same rank)");
  if (failed(normalizeAxis(adaptor.getAxis(), input.getRank())))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  inferred.push_back(
      RankedTensorType::get(indices.getShape(), input.getElementType()));
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  auto updates = cast<RankedTensorType>(adaptor.getUpdates().getType());
  if (indices.getRank() != input.getRank() ||
      failed(verifyCompatibleShape(indices.getShape(), updates.getShape())))
    return emitOptionalError(
        loc, "indices ", indices, " and updates ", updates,
        " must have one shape, of the input's rank ", input.getRank());
  if (updates.getElementType() != input.getElementType())
    return emitOptionalError(loc, "updates have element type ",
                             updates.getElementType(), ", the input ",
                             input.getElementType());
  if (failed(normalizeAxis(adaptor.getAxis(), input.getRank())))
    return emitOptionalError(loc, "axis ", int64_t(adaptor.getAxis()),
                             " is out of range for rank ", input.getRank());
  inferred.push_back(input);
  return success();
}

LogicalResult ScatterElementsOp::verify() {
  if (getReduction() != ScatterReduction::None &&
      getElementTypeOrSelf(getInput()).isInteger(1))
    return emitOpError("reduction '")
           << stringifyScatterReduction(getReduction())
           << "' on booleans is not defined";
  return success();
}

LogicalResult GatherNDOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  int64_t batch = static_cast<int64_t>(adaptor.getBatchDims());
  int64_t q = indices.getRank(), r = input.getRank();
  if (q < 1 || ShapedType::isDynamic(indices.getDimSize(q - 1)))
    return emitOptionalError(loc, "indices need a static last dim (the "
                                  "index tuple's length)");
  int64_t k = indices.getDimSize(q - 1);
  if (batch < 0 || batch >= std::min(q, r) || batch + k > r)
    return emitOptionalError(loc, "index tuples of length ", k, " with ",
                             batch, " batch dims do not fit input ", input);
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  llvm::append_range(shape, input.getShape().drop_front(batch + k));
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  auto updates = cast<RankedTensorType>(adaptor.getUpdates().getType());
  int64_t q = indices.getRank();
  if (q < 1 || ShapedType::isDynamic(indices.getDimSize(q - 1)) ||
      indices.getDimSize(q - 1) > input.getRank())
    return emitOptionalError(loc, "indices ", indices,
                             " need a static last dim no longer than the "
                             "input's rank");
  int64_t k = indices.getDimSize(q - 1);
  SmallVector<int64_t> expected(indices.getShape().drop_back());
  llvm::append_range(expected, input.getShape().drop_front(k));
  if (failed(verifyCompatibleShape(expected, updates.getShape())) ||
      updates.getElementType() != input.getElementType())
    return emitOptionalError(loc, "updates ", updates, " do not match input ",
                             input, " and indices ", indices);
  inferred.push_back(input);
  return success();
}

/// The dims a Shape op reports, kDynamic where unknown (so that a static
/// dim picked out of a partly dynamic shape still folds).
static std::optional<SmallVector<int64_t>> getShapeOpDims(Value value) {
  auto shape = value.getDefiningOp<ShapeOp>();
  if (!shape)
    return std::nullopt;
  auto input = cast<RankedTensorType>(shape.getInput().getType());
  auto [start, end] = shapeRange(input.getRank(), shape.getStart(), shape.getEnd());
  return SmallVector<int64_t>(input.getShape().slice(start, end - start));
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  // Constant gathers from 1-d tensors: picking dims out of a shape vector.
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  auto indices = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getIndices());
  auto resultType = cast<RankedTensorType>(getType());
  if (!indices || !resultType.hasStaticShape())
    return {};
  if (!input && getAxis() == 0) {
    // Static dims of a partly dynamic shape: Gather(Shape(x), i).
    std::optional<SmallVector<int64_t>> dims = getShapeOpDims(getInput());
    if (!dims)
      return {};
    SmallVector<int64_t> picked;
    for (const APInt &index : indices.getValues<APInt>()) {
      int64_t i = index.getSExtValue();
      if (i < 0)
        i += dims->size();
      if (i < 0 || i >= (int64_t)dims->size() ||
          ShapedType::isDynamic((*dims)[i]))
        return {};
      picked.push_back((*dims)[i]);
    }
    return DenseIntElementsAttr::get(resultType, picked);
  }
  if (!input || input.getType().getRank() != 1)
    return {};
  int64_t dim = input.getNumElements();
  auto values = llvm::to_vector(input.getValues<Attribute>());
  SmallVector<Attribute> gathered;
  for (const APInt &index : indices.getValues<APInt>()) {
    int64_t i = index.getSExtValue();
    if (i < 0)
      i += dim;
    if (i < 0 || i >= dim)
      return {};
    gathered.push_back(values[i]);
  }
  return DenseElementsAttr::get(resultType, gathered);
}

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto shapeType = cast<RankedTensorType>(adaptor.getShape().getType());
  SmallVector<int64_t> shape;
  if (auto requested = getConstantIntValues(adaptor.getShape())) {
    if (failed(broadcastShapes(input.getShape(), *requested, shape)))
      return emitOptionalError(loc, "cannot expand ",
                               shapeString(input.getShape()), " to ",
                               shapeString(*requested));
  } else if (shapeType.hasStaticShape()) {
    shape.assign(std::max<int64_t>(shapeType.getDimSize(0), input.getRank()),
                 kDynamic);
  } else {
    return emitOptionalError(
        loc, "the rank of the result is unknown: the shape operand has a "
             "dynamic length");
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> repeats = adaptor.getRepeats();
  if ((int64_t)repeats.size() != input.getRank())
    return emitOptionalError(loc, "repeats has ", repeats.size(),
                             " entries for rank ", input.getRank());
  SmallVector<int64_t> shape;
  for (auto [dim, repeat] : llvm::zip(input.getShape(), repeats)) {
    if (repeat < 1)
      return emitOptionalError(loc, "repeats must be positive; got ", repeat);
    shape.push_back(ShapedType::isDynamic(dim) ? kDynamic : dim * repeat);
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = input.getRank();
  if ((int64_t)pads.size() != 2 * rank)
    return emitOptionalError(loc, "pads has ", pads.size(),
                             " entries for rank ", rank, " (expected ",
                             2 * rank, ")");
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = input.getDimSize(i);
    int64_t size = ShapedType::isDynamic(d) ? kDynamic
                                            : d + pads[i] + pads[i + rank];
    if (!ShapedType::isDynamic(size) && size < 0)
      return emitOptionalError(loc, "negative pads remove more than dim ", i,
                               " holds");
    shape.push_back(size);
  }
  Type element = isa<FloatType>(input.getElementType())
                     ? computeResultElementType(input.getElementType(),
                                                adaptor.getPrecisionAttr())
                     : input.getElementType();
  inferred.push_back(RankedTensorType::get(shape, element));
  return success();
}

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> sizes = adaptor.getSizes();
  ArrayRef<float> scales = adaptor.getScales();
  if ((int64_t)sizes.size() != input.getRank() ||
      (int64_t)scales.size() != input.getRank())
    return emitOptionalError(loc, "sizes and scales need one entry per dim (",
                             input.getRank(), ")");
  if (llvm::any_of(scales, [](float s) { return !(s > 0.0f); }))
    return emitOptionalError(loc, "scales must be positive");
  SmallVector<int64_t> shape;
  for (int64_t size : sizes)
    shape.push_back(size < 0 ? kDynamic : size);
  inferred.push_back(RankedTensorType::get(
      shape, computeResultElementType(input.getElementType(),
                                      adaptor.getPrecisionAttr())));
  return success();
}

/// ONNX Shape's clamped [start, end) range for a tensor of `rank`.
static std::pair<int64_t, int64_t> shapeRange(int64_t rank, int64_t start,
                                              std::optional<int64_t> end) {
  auto clampIndex = [&](int64_t i) {
    return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank);
  };
  int64_t s = clampIndex(start), e = clampIndex(end.value_or(rank));
  return {s, std::max(s, e)};
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto [start, end] =
      shapeRange(input.getRank(), adaptor.getStart(), adaptor.getEnd());
  inferred.push_back(
      RankedTensorType::get({end - start}, IntegerType::get(context, 64)));
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto input = cast<RankedTensorType>(getInput().getType());
  auto [start, end] = shapeRange(input.getRank(), getStart(), getEnd());
  ArrayRef<int64_t> dims = input.getShape().slice(start, end - start);
  if (ShapedType::isDynamicShape(dims))
    return {};
  return DenseIntElementsAttr::get(cast<RankedTensorType>(getType()), dims);
}

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  auto type = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  if (!type)
    return emitOptionalError(loc, "value must be a ranked tensor");
  inferred.push_back(type);
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult ConvertOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // Integer-to-integer conversions of constants (shape arithmetic).
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  auto resultType = cast<RankedTensorType>(getType());
  auto intType = dyn_cast<IntegerType>(resultType.getElementType());
  if (!input || !intType)
    return {};
  bool isUnsigned = input.getElementType().isUnsignedInteger();
  return input.mapValues(intType, [&](const APInt &v) {
    // ONNX Cast to bool: nonzero is true (not the low bit).
    if (intType.getWidth() == 1)
      return APInt(1, !v.isZero());
    return isUnsigned ? v.zextOrTrunc(intType.getWidth())
                      : v.sextOrTrunc(intType.getWidth());
  });
}

//===----------------------------------------------------------------------===//
// Integer constant folding of elementwise arithmetic (shape computations)
//===----------------------------------------------------------------------===//

/// Folds `lhs op rhs` when both are integer constants of the same shape or
/// one is a splat; returns null otherwise (floats are left for the runtime,
/// whose rounding mpc controls).
static Attribute foldIntegerBinary(Attribute lhs, Attribute rhs,
                                   Type resultType,
                                   function_ref<std::optional<APInt>(
                                       const APInt &, const APInt &)> fn) {
  auto a = dyn_cast_if_present<DenseIntElementsAttr>(lhs);
  auto b = dyn_cast_if_present<DenseIntElementsAttr>(rhs);
  auto type = cast<RankedTensorType>(resultType);
  if (!a || !b || !type.hasStaticShape() ||
      !isa<IntegerType>(type.getElementType()))
    return {};
  int64_t n = type.getNumElements();
  auto valueAt = [&](DenseIntElementsAttr attr, int64_t i) {
    return attr.isSplat() ? attr.getSplatValue<APInt>()
                          : attr.getValues<APInt>()[i];
  };
  if ((!a.isSplat() && a.getNumElements() != n) ||
      (!b.isSplat() && b.getNumElements() != n))
    return {};
  SmallVector<APInt> values;
  for (int64_t i = 0; i < n; ++i) {
    std::optional<APInt> v = fn(valueAt(a, i), valueAt(b, i));
    if (!v)
      return {};
    values.push_back(*v);
  }
  return DenseIntElementsAttr::get(type, values);
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldIntegerBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                           [](const APInt &a, const APInt &b) {
                             return std::optional<APInt>(a + b);
                           });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldIntegerBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                           [](const APInt &a, const APInt &b) {
                             return std::optional<APInt>(a - b);
                           });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldIntegerBinary(adaptor.getLhs(), adaptor.getRhs(), getType(),
                           [](const APInt &a, const APInt &b) {
                             return std::optional<APInt>(a * b);
                           });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  // ONNX integer Div truncates toward zero, as APInt::sdiv does.
  return foldIntegerBinary(
      adaptor.getLhs(), adaptor.getRhs(), getType(),
      [](const APInt &a, const APInt &b) -> std::optional<APInt> {
        if (b.isZero())
          return std::nullopt;
        return a.sdiv(b);
      });
}

//===----------------------------------------------------------------------===//
// mpc's own ops
//===----------------------------------------------------------------------===//

bool CastOp::areCastCompatible(TypeRange inputs, TypeRange outputs) {
  if (inputs.size() != 1 || outputs.size() != 1)
    return false;
  auto in = dyn_cast<RankedTensorType>(inputs.front());
  auto out = dyn_cast<RankedTensorType>(outputs.front());
  return in && out && isa<FloatType>(in.getElementType()) &&
         isa<FloatType>(out.getElementType()) &&
         succeeded(verifyCompatibleShape(in.getShape(), out.getShape()));
}

/// Whether every value of `src` (subnormals included) is exactly a value of
/// `dst`, so that src -> dst -> src is the identity.
static bool widensExactly(const llvm::fltSemantics &src,
                          const llvm::fltSemantics &dst) {
  using llvm::APFloatBase;
  int srcPrecision = APFloatBase::semanticsPrecision(src);
  int dstPrecision = APFloatBase::semanticsPrecision(dst);
  // The exponent of the smallest subnormal is minExponent - precision + 1.
  int64_t srcTiny = APFloatBase::semanticsMinExponent(src) - srcPrecision + 1;
  int64_t dstTiny = APFloatBase::semanticsMinExponent(dst) - dstPrecision + 1;
  return dstPrecision >= srcPrecision &&
         APFloatBase::semanticsMaxExponent(dst) >=
             APFloatBase::semanticsMaxExponent(src) &&
         dstTiny <= srcTiny;
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // Constants convert at compile time, rounding to nearest even as the
  // run-time cast does.
  if (auto constant =
          dyn_cast_if_present<DenseFPElementsAttr>(adaptor.getInput())) {
    auto element = cast<FloatType>(getElementTypeOrSelf(getType()));
    return constant.mapValues(element, [&](const APFloat &value) {
      APFloat converted = value;
      bool lostInfo;
      converted.convert(element.getFloatSemantics(),
                        APFloat::rmNearestTiesToEven, &lostInfo);
      return converted.bitcastToAPInt();
    });
  }
  // x -> wider -> back to x's type is exact: widening loses nothing. The
  // reverse (f32 -> bf16 -> f32) rounds and is left to mpc-optimize-casts.
  if (auto producer = getInput().getDefiningOp<CastOp>()) {
    Value source = producer.getInput();
    auto sourceElement = cast<FloatType>(getElementTypeOrSelf(source));
    auto middleElement = cast<FloatType>(getElementTypeOrSelf(producer));
    if (source.getType() == getType() &&
        widensExactly(sourceElement.getFloatSemantics(),
                      middleElement.getFloatSemantics()))
      return source;
  }
  return {};
}

LogicalResult ParameterOp::verify() {
  if (!isa<RankedTensorType>(getValue().getType()))
    return emitOpError("value must be a ranked tensor, got ")
           << getValue().getType();
  return success();
}

LogicalResult
GetParameterOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto parameter =
      symbolTable.lookupNearestSymbolFrom<ParameterOp>(*this, getNameAttr());
  if (!parameter)
    return emitOpError("'") << getName() << "' does not name an mpc.parameter";
  if (parameter.getType() != getType())
    return emitOpError("result type ")
           << getType() << " does not match parameter '" << getName()
           << "' of type " << parameter.getType();
  return success();
}

#include "mpc/Dialect/MPC/IR/MPCInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "mpc/Dialect/MPC/IR/MPCOps.cpp.inc"

Value mpc::createScalarConstant(OpBuilder &b, Location loc, Type element,
                                double value) {
  auto type = RankedTensorType::get({}, element);
  Attribute scalar = isa<FloatType>(element)
                         ? Attribute(b.getFloatAttr(element, value))
                         : Attribute(b.getIntegerAttr(element, int64_t(value)));
  return ConstantOp::create(b, loc, DenseElementsAttr::get(type, scalar));
}

Location mpc::withTrainingPart(Location loc, TrainingPart part) {
  MLIRContext *context = loc.getContext();
  // Retagging replaces the part: the name inside stays.
  if (auto fused = dyn_cast<FusedLoc>(loc);
      fused && isa_and_present<TrainingPartAttr>(fused.getMetadata()))
    return FusedLoc::get(context, fused.getLocations(),
                         TrainingPartAttr::get(context, part));
  return FusedLoc::get(context, {loc}, TrainingPartAttr::get(context, part));
}

std::string mpc::nameWithTrainingPart(StringRef name, TrainingPart part) {
  // The loss is node "loss" already.
  if (part == TrainingPart::Forward ||
      (part == TrainingPart::Loss && !name.empty()))
    return name.str();
  std::string text = part == TrainingPart::Backward
                         ? "grad"
                         : stringifyTrainingPart(part).str();
  std::replace(text.begin(), text.end(), '_', ' ');
  return name.empty() ? "(" + text + ")" : name.str() + " (" + text + ")";
}

TrainingPart mpc::getTrainingPart(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (auto part = dyn_cast_or_null<TrainingPartAttr>(fused.getMetadata()))
      return part.getValue();
  return TrainingPart::Forward;
}

/// Folds an integer comparison (signed, or unsigned for unsigned operands).
static OpFoldResult foldIntegerCompare(Attribute lhs, Attribute rhs,
                                       Value lhsValue, Type resultType,
                                       function_ref<bool(int)> holds) {
  bool isUnsigned = getElementTypeOrSelf(lhsValue).isUnsignedInteger();
  return foldIntegerBinary(
      lhs, rhs, resultType, [&](const APInt &a, const APInt &b) {
        int order = isUnsigned ? (a.ult(b) ? -1 : a == b ? 0 : 1)
                               : (a.slt(b) ? -1 : a == b ? 0 : 1);
        return std::optional<APInt>(APInt(1, holds(order)));
      });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldIntegerCompare(adaptor.getLhs(), adaptor.getRhs(), getLhs(),
                            getType(), [](int order) { return order == 0; });
}
OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldIntegerCompare(adaptor.getLhs(), adaptor.getRhs(), getLhs(),
                            getType(), [](int order) { return order < 0; });
}
OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldIntegerCompare(adaptor.getLhs(), adaptor.getRhs(), getLhs(),
                            getType(), [](int order) { return order > 0; });
}
OpFoldResult LessOrEqualOp::fold(FoldAdaptor adaptor) {
  return foldIntegerCompare(adaptor.getLhs(), adaptor.getRhs(), getLhs(),
                            getType(), [](int order) { return order <= 0; });
}
OpFoldResult GreaterOrEqualOp::fold(FoldAdaptor adaptor) {
  return foldIntegerCompare(adaptor.getLhs(), adaptor.getRhs(), getLhs(),
                            getType(), [](int order) { return order >= 0; });
}

//===- Utils.cpp - helpers shared by the mpc-to-linalg patterns -----------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;

namespace mlir::mpc::lowering {

bool isLowFloat(Type type) { return type.isBF16() || type.isF16(); }

/// The type scalar math runs in: fp32 for the 16-bit floats.
Type mathType(Type element) {
  return isLowFloat(element) ? Float32Type::get(element.getContext()) : element;
}

Value convertScalar(OpBuilder &b, Location loc, Value value, Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  // arith takes signless integers only: ONNX's uint32 (ui32) and the like
  // are viewed as signless of their width here and converted back after.
  if (auto fromInt = dyn_cast<IntegerType>(from); fromInt && !fromInt.isSignless()) {
    auto signless = b.getIntegerType(fromInt.getWidth());
    Value view = UnrealizedConversionCastOp::create(b, loc, signless, value)
                     .getResult(0);
    if (fromInt.isUnsigned() && isa<FloatType>(to))
      return arith::UIToFPOp::create(b, loc, to, view);
    if (fromInt.isUnsigned() && isa<IntegerType>(to) &&
        to.getIntOrFloatBitWidth() > fromInt.getWidth())
      return convertScalar(
          b, loc, arith::ExtUIOp::create(b, loc, b.getIntegerType(
                                                     to.getIntOrFloatBitWidth()),
                                         view),
          to);
    return convertScalar(b, loc, view, to);
  }
  if (auto toInt = dyn_cast<IntegerType>(to); toInt && !toInt.isSignless()) {
    auto signless = b.getIntegerType(toInt.getWidth());
    Value result =
        isa<FloatType>(from) && toInt.isUnsigned()
            ? Value(arith::FPToUIOp::create(b, loc, signless, value))
            : convertScalar(b, loc, value, signless);
    return UnrealizedConversionCastOp::create(b, loc, to, result).getResult(0);
  }
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  // f16 <-> bf16: same width, neither extends the other; through f32 (both
  // convert to it exactly).
  if (fromFloat && toFloat && fromFloat.getWidth() == toFloat.getWidth())
    return arith::TruncFOp::create(
        b, loc, to, arith::ExtFOp::create(b, loc, b.getF32Type(), value));
  if (fromFloat && toFloat)
    return fromFloat.getWidth() < toFloat.getWidth()
               ? Value(arith::ExtFOp::create(b, loc, to, value))
               : Value(arith::TruncFOp::create(b, loc, to, value));
  if (fromFloat)
    return to.isUnsignedInteger() || to.isInteger(1)
               ? Value(arith::FPToUIOp::create(b, loc, to, value))
               : Value(arith::FPToSIOp::create(b, loc, to, value));
  bool fromUnsigned = from.isUnsignedInteger() || from.isInteger(1);
  if (toFloat)
    return fromUnsigned ? Value(arith::UIToFPOp::create(b, loc, to, value))
                        : Value(arith::SIToFPOp::create(b, loc, to, value));
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth == toWidth)
    return arith::BitcastOp::create(b, loc, to, value);
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(b, loc, to, value);
  return fromUnsigned ? Value(arith::ExtUIOp::create(b, loc, to, value))
                      : Value(arith::ExtSIOp::create(b, loc, to, value));
}

/// An empty tensor of `type`; dynamic dims are read from `sources` (the
/// first source whose aligned dim is dynamic, right-aligned as in ONNX
/// broadcasting).
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange sources) {
  SmallVector<Value> dynamicSizes;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (!type.isDynamicDim(d))
      continue;
    Value size;
    for (Value source : sources) {
      auto sourceType = cast<RankedTensorType>(source.getType());
      int64_t sd = d - (type.getRank() - sourceType.getRank());
      if (sd >= 0 && sourceType.isDynamicDim(sd)) {
        size = tensor::DimOp::create(b, loc, source, sd);
        break;
      }
    }
    if (!size)
      return nullptr;
    dynamicSizes.push_back(size);
  }
  return tensor::EmptyOp::create(b, loc, type.getShape(),
                                 type.getElementType(), dynamicSizes);
}


FailureOr<Value> buildElementwise(ConversionPatternRewriter &rewriter,
                                  Operation *op, ValueRange operands,
                                  RankedTensorType resultType,
                                  Type computeType, ScalarFn body) {
  Location loc = op->getLoc();
  MLIRContext *context = op->getContext();
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps;
  for (Value operand : operands) {
    auto type = cast<RankedTensorType>(operand.getType());
    int64_t offset = rank - type.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t resultDim = resultType.getDimSize(i + offset);
      // Static size-1 dims broadcast; dynamic dims are taken to match the
      // result (ONNX models broadcast through static 1s).
      if (type.getDimSize(i) == 1 && resultDim != 1)
        exprs.push_back(getAffineConstantExpr(0, context));
      else
        exprs.push_back(getAffineDimExpr(i + offset, context));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, context));
  }
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(rewriter, loc, resultType, operands);
  if (!init)
    return rewriter.notifyMatchFailure(op, "cannot size a dynamic result dim");
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  Type resultElement = resultType.getElementType();
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{resultType}, operands, ValueRange{init}, maps,
      iterators, /*doc=*/"", /*libraryCall=*/"",
      [&](OpBuilder &b, Location nestedLoc, ValueRange args) {
        SmallVector<Value> scalars;
        for (Value arg : args.drop_back())
          scalars.push_back(computeType && isa<FloatType>(arg.getType())
                                ? convertScalar(b, nestedLoc, arg, computeType)
                                : arg);
        Value result = body(b, nestedLoc, scalars);
        linalg::YieldOp::create(
            b, nestedLoc, convertScalar(b, nestedLoc, result, resultElement));
      });
  return generic.getResult(0);
}

/// The number of elements of `tensor` over `dims`, as a `floatType` scalar
/// (the divisor of means).
Value countElements(OpBuilder &b, Location loc, Value tensor,
                    ArrayRef<int64_t> dims, Type floatType) {
  Value count = arith::ConstantOp::create(b, loc, b.getIndexType(),
                                          b.getIndexAttr(1));
  for (int64_t d : dims)
    count = arith::MulIOp::create(b, loc, count,
                                  tensor::DimOp::create(b, loc, tensor, d));
  return arith::UIToFPOp::create(
      b, loc, floatType,
      arith::IndexCastUIOp::create(b, loc, b.getI64Type(), count));
}

/// Reassociation re-expanding a tensor whose `reduced` dims were dropped
/// back to rank `reduced.size()` with those dims as size 1: each kept dim
/// groups with the reduced dims after it; leading reduced dims join the
/// first group (none kept: a 0-d tensor expands to all ones).
SmallVector<ReassociationIndices> keptDimGroups(ArrayRef<bool> reduced) {
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices leading;
  for (int64_t i = 0, e = reduced.size(); i < e; ++i) {
    if (!reduced[i]) {
      ReassociationIndices group = leading;
      leading.clear();
      group.push_back(i);
      groups.push_back(group);
    } else if (groups.empty()) {
      leading.push_back(i);
    } else {
      groups.back().push_back(i);
    }
  }
  return groups;
}

/// The `strides`/`dilations` attribute form of linalg's named conv and
/// pooling ops.
DenseIntElementsAttr i64Vector(Builder &b, ArrayRef<int64_t> values) {
  return DenseIntElementsAttr::get(
      RankedTensorType::get({(int64_t)values.size()}, b.getI64Type()), values);
}

/// A tensor of `sizes` filled with `value` (its element type the value's).
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   TypedAttr value) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, value.getType());
  Value scalar = arith::ConstantOp::create(b, loc, value);
  return linalg::FillOp::create(b, loc, ValueRange{scalar}, ValueRange{empty})
      .getResult(0);
}

/// Reduces `input` over `dims` (sum or max) into a tensor of the kept dims
/// in `acc`, each element converted to `acc` first.
Value reduceDims(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> dims, Type acc, ReductionKind kind) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> keptSizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!llvm::is_contained(dims, i))
      keptSizes.push_back(tensor::getMixedSize(b, loc, input, i));
  double inf = std::numeric_limits<double>::infinity();
  TypedAttr initValue;
  switch (kind) {
  case ReductionKind::Sum:
    initValue = b.getZeroAttr(acc);
    break;
  case ReductionKind::Prod:
    initValue = b.getFloatAttr(acc, 1.0);
    break;
  case ReductionKind::Max:
    initValue = b.getFloatAttr(acc, -inf);
    break;
  case ReductionKind::Min:
    initValue = b.getFloatAttr(acc, inf);
    break;
  }
  Value init = filledTensor(b, loc, keptSizes, initValue);
  return linalg::ReduceOp::create(
             b, loc, ValueRange{input}, ValueRange{init}, dims,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = convertScalar(nb, l, args[0], acc);
               Value r;
               switch (kind) {
               case ReductionKind::Sum:
                 r = arith::AddFOp::create(nb, l, x, args[1]);
                 break;
               case ReductionKind::Prod:
                 r = arith::MulFOp::create(nb, l, x, args[1]);
                 break;
               case ReductionKind::Max:
                 r = arith::MaximumFOp::create(nb, l, x, args[1]);
                 break;
               case ReductionKind::Min:
                 r = arith::MinimumFOp::create(nb, l, x, args[1]);
                 break;
               }
               linalg::YieldOp::create(nb, l, r);
             })
      .getResult(0);
}

/// Replaces `op` by `result`, or fails if building it failed.
LogicalResult replaceWithResult(ConversionPatternRewriter &rewriter,
                                Operation *op, FailureOr<Value> result) {
  if (failed(result))
    return failure();
  rewriter.replaceOp(op, *result);
  return success();
}

Value floatConstant(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

/// The accumulator type of a contraction or reduction.
Type accumulatorType(Operation *op, Type element) {
  if (auto withPrecision = dyn_cast<PrecisionOpInterface>(op))
    if (auto precision = withPrecision.getPrecisionAttr())
      return precision.getAccumulate();
  return element;
}

/// A zero-filled accumulator of `type` sized like `sources`.
Value zeroAccumulator(OpBuilder &b, Location loc, RankedTensorType type,
                      ArrayRef<OpFoldResult> sizes) {
  return filledTensor(b, loc, sizes, b.getZeroAttr(type.getElementType()));
}

/// Rounds an accumulator tensor to the result element type.
Value roundTo(ConversionPatternRewriter &rewriter, Operation *op, Value acc,
              RankedTensorType resultType) {
  if (getElementTypeOrSelf(acc) == resultType.getElementType())
    return acc;
  FailureOr<Value> rounded = buildElementwise(
      rewriter, op, {acc}, resultType, nullptr,
      [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  return succeeded(rounded) ? *rounded : Value();
}

/// The indexing map reading a tensor reduced over `dims` from inside a
/// generic over the full `rank` (the reduced dims are dropped).
AffineMap reducedMap(int64_t rank, ArrayRef<int64_t> dims,
                     MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(dims, i))
      exprs.push_back(getAffineDimExpr(i, context));
  return AffineMap::get(rank, 0, exprs, context);
}

/// A generic over `like`'s shape reading `inputs` through `maps` (one per
/// input), writing `resultElement`.
Value mapGeneric(OpBuilder &b, Location loc, Value like, Type resultElement,
                 ValueRange inputs, ArrayRef<AffineMap> maps,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  auto likeType = cast<RankedTensorType>(like.getType());
  int64_t rank = likeType.getRank();
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(tensor::getMixedSize(b, loc, like, i));
  Value init = tensor::EmptyOp::create(b, loc, sizes, resultElement);
  SmallVector<AffineMap> allMaps(maps.begin(), maps.end());
  allMaps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
             allMaps, iterators, "", "",
             [&](OpBuilder &nb, Location l, ValueRange args) {
               linalg::YieldOp::create(nb, l, body(nb, l, args.drop_back()));
             })
      .getResult(0);
}

/// Pads the spatial dims of an NC... tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, TypedAttr value) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  auto type = cast<RankedTensorType>(input.getType());
  int64_t spatial = type.getRank() - 2;
  SmallVector<int64_t> low(2, 0), high(2, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    low.push_back(pads[i]);
    high.push_back(pads[i + spatial]);
  }
  return padWithConstant(b, loc, input, low, high,
                         arith::ConstantOp::create(b, loc, value));
}

/// A generic over `shape`'s iteration space with `inputs` read through
/// `maps`, producing one result per element type in `resultElements`.
SmallVector<Value> buildGeneric(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
    ArrayRef<Type> resultElements, ValueRange inputs, ArrayRef<AffineMap> maps,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = shape.size();
  SmallVector<Value> inits;
  SmallVector<Type> types;
  SmallVector<AffineMap> allMaps(maps.begin(), maps.end());
  for (Type element : resultElements) {
    inits.push_back(tensor::EmptyOp::create(b, loc, shape, element));
    types.push_back(RankedTensorType::get(shape, element));
    allMaps.push_back(b.getMultiDimIdentityMap(rank));
  }
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, types, inputs, inits, allMaps, iterators, "", "",
      [&](OpBuilder &nb, Location l, ValueRange args) {
        linalg::YieldOp::create(nb, l,
                                body(nb, l, args.take_front(inputs.size())));
      });
  return SmallVector<Value>(generic.getResults());
}

/// The map reading a 0-d tensor from any iteration space.
AffineMap scalarMap(OpBuilder &b, int64_t rank) {
  return AffineMap::get(rank, 0, {}, b.getContext());
}

Value f32Const(OpBuilder &b, Location loc, double v) {
  return floatConstant(b, loc, b.getF32Type(), v);
}

} // namespace mlir::mpc::lowering

//===- MPCToLinalg.cpp - lower mpc compute ops to linalg ------------------===//
//
// Precision is already explicit in the IR when this runs (mpc.cast at every
// boundary, #mpc.precision on ops): element types say how values are
// stored; the precision's accumulate type is what contractions and
// reductions sum in. Scalar functions of bf16/fp16 ops are evaluated in
// fp32 and rounded once, so every op rounds exactly like its reference.
//
//===----------------------------------------------------------------------===//

#include "mpc/Conversion/MPCToLinalg/MPCToLinalg.h"
#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

namespace mlir::mpc {
#define GEN_PASS_DEF_CONVERTMPCTOLINALG
#include "mpc/Conversion/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

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

/// Builds `linalg.generic` computing `body` elementwise over broadcast
/// operands. The body receives the operands' scalars already converted to
/// `computeType` (when given) and returns the result scalar, converted to
/// the result element type afterwards.
using ScalarFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

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
                 ArrayRef<int64_t> dims, Type acc, bool isMax) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<OpFoldResult> keptSizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!llvm::is_contained(dims, i))
      keptSizes.push_back(tensor::getMixedSize(b, loc, input, i));
  TypedAttr initValue =
      isMax ? TypedAttr(b.getFloatAttr(acc,
                                       -std::numeric_limits<double>::infinity()))
            : TypedAttr(b.getZeroAttr(acc));
  Value init = filledTensor(b, loc, keptSizes, initValue);
  return linalg::ReduceOp::create(
             b, loc, ValueRange{input}, ValueRange{init}, dims,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = convertScalar(nb, l, args[0], acc);
               Value r = isMax
                             ? Value(arith::MaximumFOp::create(nb, l, x, args[1]))
                             : Value(arith::AddFOp::create(nb, l, x, args[1]));
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

/// Unary float ops: the scalar function, evaluated in fp32 for 16-bit
/// types.
template <typename OpTy>
struct UnaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using Fn = std::function<Value(OpBuilder &, Location, Value, OpTy)>;
  UnaryLowering(MLIRContext *context, Fn fn)
      : OpConversionPattern<OpTy>(context), fn(std::move(fn)) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = getElementTypeOrSelf(adaptor.getInput());
    if (!isa<FloatType>(element))
      return rewriter.notifyMatchFailure(op, "integer operands");
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getInput()}, resultType, mathType(element),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return fn(b, loc, args[0], op);
        }));
  }
  Fn fn;
};

/// Binary ops with float and integer forms.
template <typename OpTy, typename FloatOp, typename SignedOp,
          typename UnsignedOp = SignedOp>
struct BinaryLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = getElementTypeOrSelf(adaptor.getLhs());
    bool isFloat = isa<FloatType>(element);
    bool isUnsigned = element.isUnsignedInteger();
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getLhs(), adaptor.getRhs()},
        cast<RankedTensorType>(op.getType()), mathType(element),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          if (isFloat)
            return FloatOp::create(b, loc, args[0], args[1]);
          // Arith works on signless integers.
          Type signless = b.getIntegerType(element.getIntOrFloatBitWidth());
          auto cast = [&](Value v) {
            return v.getType() == signless
                       ? v
                       : Value(UnrealizedConversionCastOp::create(
                                   b, loc, signless, v)
                                   .getResult(0));
          };
          Value value =
              isUnsigned
                  ? Value(UnsignedOp::create(b, loc, cast(args[0]), cast(args[1])))
                  : Value(SignedOp::create(b, loc, cast(args[0]), cast(args[1])));
          return value.getType() == element
                     ? value
                     : UnrealizedConversionCastOp::create(b, loc, element, value)
                           .getResult(0);
        }));
  }
};

/// Comparisons produce i1.
template <typename OpTy>
struct CompareLowering : OpConversionPattern<OpTy> {
  CompareLowering(MLIRContext *context, arith::CmpFPredicate fpred,
                  arith::CmpIPredicate spred, arith::CmpIPredicate upred)
      : OpConversionPattern<OpTy>(context), fpred(fpred), spred(spred),
        upred(upred) {}
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = getElementTypeOrSelf(adaptor.getLhs());
    if (element.isUnsignedInteger() || element.isSignedInteger())
      return rewriter.notifyMatchFailure(op, "signed/unsigned integers");
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getLhs(), adaptor.getRhs()},
        cast<RankedTensorType>(op.getType()), mathType(element),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          if (isa<FloatType>(args[0].getType()))
            return arith::CmpFOp::create(b, loc, fpred, args[0], args[1]);
          return arith::CmpIOp::create(b, loc, spred, args[0], args[1]);
        }));
  }
  arith::CmpFPredicate fpred;
  arith::CmpIPredicate spred, upred;
};

struct WhereLowering : OpConversionPattern<WhereOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(WhereOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op,
        {adaptor.getCondition(), adaptor.getOnTrue(), adaptor.getOnFalse()},
        cast<RankedTensorType>(op.getType()), nullptr,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
        }));
  }
};

/// mpc.cast (precision boundary) and mpc.convert (ONNX Cast).
template <typename OpTy>
struct ConvertLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type from = getElementTypeOrSelf(adaptor.getInput());
    Type to = getElementTypeOrSelf(op.getType());
    if (!from.isIntOrFloat() || !to.isIntOrFloat())
      return rewriter.notifyMatchFailure(op, "not a scalar element type");
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getInput()},
        cast<RankedTensorType>(op.getType()), nullptr,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          // Float to bool is a comparison with zero (ONNX Cast).
          if (to.isInteger(1) && isa<FloatType>(from))
            return arith::CmpFOp::create(
                b, loc, arith::CmpFPredicate::UNE, args[0],
                floatConstant(b, loc, from, 0.0));
          return convertScalar(b, loc, args[0], to);
        }));
  }
};

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op.getType().getElementType().isSignlessIntOrFloat() &&
        !isa<FloatType>(op.getType().getElementType()))
      return rewriter.notifyMatchFailure(op, "signed/unsigned integers");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getType(),
                                                   cast<TypedAttr>(op.getValue()));
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Value init = emptyTensor(rewriter, op.getLoc(), resultType, {});
    if (!init) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t p : op.getPerm())
        sizes.push_back(tensor::getMixedSize(rewriter, op.getLoc(),
                                            adaptor.getInput(), p));
      init = tensor::EmptyOp::create(rewriter, op.getLoc(), sizes,
                                     resultType.getElementType());
    }
    auto transpose = linalg::TransposeOp::create(
        rewriter, op.getLoc(), adaptor.getInput(), init, op.getPerm());
    rewriter.replaceOp(op, transpose.getResult());
    return success();
  }
};

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

/// MatMul: 2-d x 2-d, N-d x 2-d (the leading dims folded into rows) and
/// equal-batch N-d x N-d. Other forms (1-d operands, broadcast batches)
/// are reported.
struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type acc = accumulatorType(op, lhsType.getElementType());
    int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
    if (lhsRank < 2 || rhsRank < 2)
      return rewriter.notifyMatchFailure(op, "1-d operands");

    if (rhsRank == 2) {
      // Fold the leading dims of lhs into rows: [..., M, K] -> [B*M, K].
      Value lhs2d = lhs;
      SmallVector<ReassociationIndices> fold;
      if (lhsRank > 2) {
        ReassociationIndices rows;
        for (int64_t i = 0; i < lhsRank - 1; ++i)
          rows.push_back(i);
        fold = {rows, {lhsRank - 1}};
        lhs2d = tensor::CollapseShapeOp::create(rewriter, loc, lhs, fold);
      }
      SmallVector<OpFoldResult> sizes = {
          tensor::getMixedSize(rewriter, loc, lhs2d, 0),
          tensor::getMixedSize(rewriter, loc, rhs, 1)};
      auto accType = RankedTensorType::get(
          {cast<RankedTensorType>(lhs2d.getType()).getDimSize(0),
           rhsType.getDimSize(1)},
          acc);
      Value init = zeroAccumulator(rewriter, loc, accType, sizes);
      Value product = linalg::MatmulOp::create(rewriter, loc, TypeRange{accType},
                                               ValueRange{lhs2d, rhs},
                                               ValueRange{init})
                          .getResult(0);
      if (lhsRank > 2) {
        auto expanded = RankedTensorType::get(resultType.getShape(), acc);
        product = tensor::ExpandShapeOp::create(rewriter, loc, expanded,
                                                product, fold);
      }
      Value result = roundTo(rewriter, op, product, resultType);
      if (!result)
        return failure();
      rewriter.replaceOp(op, result);
      return success();
    }

    if (lhsRank != rhsRank ||
        lhsType.getShape().drop_back(2) != rhsType.getShape().drop_back(2)) {
      // numpy batch broadcasting: both sides become the result's batch
      // shape (a copy; batched matmuls with broadcast batches are rare
      // outside attention, where the batches already agree).
      ArrayRef<int64_t> batchShape = resultType.getShape().drop_back(2);
      if (ShapedType::isDynamicShape(batchShape) ||
          !lhsType.hasStaticShape() || !rhsType.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic broadcast batches");
      auto broadcastTo = [&](Value v, RankedTensorType type) -> Value {
        SmallVector<int64_t> shape(batchShape);
        llvm::append_range(shape, type.getShape().take_back(2));
        auto target = RankedTensorType::get(shape, type.getElementType());
        FailureOr<Value> copy = buildElementwise(
            rewriter, op, {v}, target, nullptr,
            [](OpBuilder &, Location, ValueRange args) { return args[0]; });
        return failed(copy) ? Value() : *copy;
      };
      lhs = broadcastTo(lhs, lhsType);
      rhs = broadcastTo(rhs, rhsType);
      if (!lhs || !rhs)
        return failure();
      lhsType = cast<RankedTensorType>(lhs.getType());
      rhsType = cast<RankedTensorType>(rhs.getType());
      lhsRank = rhsRank = lhsType.getRank();
    }
    if (ShapedType::isDynamicShape(lhsType.getShape().drop_back(2)))
      return rewriter.notifyMatchFailure(op, "dynamic batches");
    // Fold the batch dims into one: [B..., M, K] -> [B, M, K].
    SmallVector<ReassociationIndices> fold;
    ReassociationIndices batch;
    for (int64_t i = 0; i < lhsRank - 2; ++i)
      batch.push_back(i);
    fold = {batch, {lhsRank - 2}, {lhsRank - 1}};
    Value lhs3d = lhsRank > 3
                      ? Value(tensor::CollapseShapeOp::create(rewriter, loc, lhs, fold))
                      : lhs;
    Value rhs3d = lhsRank > 3
                      ? Value(tensor::CollapseShapeOp::create(rewriter, loc, rhs, fold))
                      : rhs;
    auto lhs3dType = cast<RankedTensorType>(lhs3d.getType());
    auto rhs3dType = cast<RankedTensorType>(rhs3d.getType());
    auto accType = RankedTensorType::get(
        {lhs3dType.getDimSize(0), lhs3dType.getDimSize(1),
         rhs3dType.getDimSize(2)},
        acc);
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, lhs3d, 0),
        tensor::getMixedSize(rewriter, loc, lhs3d, 1),
        tensor::getMixedSize(rewriter, loc, rhs3d, 2)};
    Value init = zeroAccumulator(rewriter, loc, accType, sizes);
    Value product =
        linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{accType},
                                      ValueRange{lhs3d, rhs3d}, ValueRange{init})
            .getResult(0);
    if (lhsRank > 3)
      product = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get(resultType.getShape(), acc),
          product, fold);
    Value result = roundTo(rewriter, op, product, resultType);
    if (!result)
      return failure();
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Gemm: alpha * op(A) op(B) + beta * C, accumulated in the precision's
/// accumulate type and rounded once.
struct GemmLowering : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value a = adaptor.getA(), b = adaptor.getB();
    auto transposed = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      auto resultType = RankedTensorType::get(
          {type.getDimSize(1), type.getDimSize(0)}, type.getElementType());
      Value init = tensor::EmptyOp::create(
          rewriter, loc,
          SmallVector<OpFoldResult>{tensor::getMixedSize(rewriter, loc, v, 1),
                                    tensor::getMixedSize(rewriter, loc, v, 0)},
          type.getElementType());
      (void)resultType;
      return linalg::TransposeOp::create(rewriter, loc, v, init,
                                         ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    if (op.getTransA())
      a = transposed(a);
    if (op.getTransB())
      b = transposed(b);
    auto resultType = cast<RankedTensorType>(op.getType());
    Type acc = accumulatorType(op, getElementTypeOrSelf(a));
    auto accType = RankedTensorType::get(resultType.getShape(), acc);
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, a, 0),
        tensor::getMixedSize(rewriter, loc, b, 1)};
    Value init = zeroAccumulator(rewriter, loc, accType, sizes);
    Value product =
        linalg::MatmulOp::create(rewriter, loc, TypeRange{accType},
                                 ValueRange{a, b}, ValueRange{init})
            .getResult(0);
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    SmallVector<Value> operands = {product};
    if (Value c = adaptor.getC())
      operands.push_back(c);
    bool hasC = operands.size() == 2;
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, operands, resultType, acc,
        [&](OpBuilder &builder, Location l, ValueRange args) -> Value {
          Value v = args[0];
          if (alpha != 1.0)
            v = arith::MulFOp::create(builder, l, v,
                                      floatConstant(builder, l, acc, alpha));
          if (hasC) {
            Value c = args[1];
            if (beta != 1.0)
              c = arith::MulFOp::create(builder, l, c,
                                        floatConstant(builder, l, acc, beta));
            v = arith::AddFOp::create(builder, l, v, c);
          }
          return v;
        }));
  }
};

/// ReduceSum / ReduceMean / ReduceMax over `axes`, in the accumulate type.
template <typename OpTy>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    if (!isa<FloatType>(inputType.getElementType()))
      return rewriter.notifyMatchFailure(op, "integer reductions");
    int64_t rank = inputType.getRank();
    SmallVector<bool> reduced(rank, op.getAxes().empty());
    for (int64_t axis : op.getAxes())
      reduced[axis < 0 ? axis + rank : axis] = true;
    bool isMax = std::is_same_v<OpTy, ReduceMaxOp>;
    Type acc = isMax ? inputType.getElementType()
                     : accumulatorType(op, inputType.getElementType());

    SmallVector<int64_t> keptShape, dims;
    for (int64_t i = 0; i < rank; ++i) {
      if (reduced[i])
        dims.push_back(i);
      else
        keptShape.push_back(inputType.getDimSize(i));
    }
    auto accType = RankedTensorType::get(keptShape, acc);
    Value result = reduceDims(rewriter, loc, input, dims, acc, isMax);
    if (std::is_same_v<OpTy, ReduceMeanOp>) {
      Value countFloat = countElements(rewriter, loc, input, dims, acc);
      FailureOr<Value> mean = buildElementwise(
          rewriter, op, {result}, accType, nullptr,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(b, l, args[0], countFloat);
          });
      if (failed(mean))
        return failure();
      result = *mean;
    }
    auto resultType = cast<RankedTensorType>(op.getType());
    result = roundTo(rewriter, op, result,
                     RankedTensorType::get(keptShape, resultType.getElementType()));
    if (!result)
      return failure();
    if (op.getKeepdims() && !dims.empty()) {
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, result,
                                             keptDimGroups(reduced));
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

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

/// Softmax / LogSoftmax along one axis, in the accumulate type:
/// exp(x - max) / sum(exp(x - max)), or its log.
template <typename OpTy, bool isLog>
struct SoftmaxLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    // I64Attr getters return uint64_t: go through int64_t before the sign.
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Type acc = mathType(accumulatorType(op, type.getElementType()));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reduced = reducedMap(rank, {axis}, context);
    Value max = reduceDims(rewriter, loc, x, {axis}, acc, /*isMax=*/true);
    // exp(x - max) in the accumulator type.
    Value shifted = mapGeneric(
        rewriter, loc, x, acc, {x, max}, {id, reduced},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::SubFOp::create(b, l, convertScalar(b, l, args[0], acc),
                                       args[1]);
        });
    Value exps = mapGeneric(rewriter, loc, x, acc, {shifted}, {id},
                            [&](OpBuilder &b, Location l, ValueRange args) {
                              return Value(math::ExpOp::create(b, l, args[0]));
                            });
    Value sum = reduceDims(rewriter, loc, exps, {axis}, acc, /*isMax=*/false);
    Type resultElement = getElementTypeOrSelf(op.getType());
    Value result = mapGeneric(
        rewriter, loc, x, resultElement, {isLog ? shifted : exps, sum},
        {id, reduced}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = isLog ? Value(arith::SubFOp::create(
                                b, l, args[0], math::LogOp::create(b, l, args[1])))
                          : Value(arith::DivFOp::create(b, l, args[0], args[1]));
          return convertScalar(b, l, v, resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// LayerNorm over the dims from `axis` on: statistics in fp32, then
/// (x - mean) * invstd * scale + bias rounded to the result type.
struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> dims;
    for (int64_t i = axis; i < rank; ++i)
      dims.push_back(i);
    Type f32 = rewriter.getF32Type();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap stats = reducedMap(rank, dims, context);
    // Elements per normalised slice.
    Value n = countElements(rewriter, loc, x, dims, f32);
    Value sum = reduceDims(rewriter, loc, x, dims, f32, false);
    Value mean = mapGeneric(rewriter, loc, sum, f32, {sum},
                            {rewriter.getMultiDimIdentityMap(rank - dims.size())},
                            [&](OpBuilder &b, Location l, ValueRange args) {
                              return Value(arith::DivFOp::create(b, l, args[0], n));
                            });
    Value centered = mapGeneric(
        rewriter, loc, x, f32, {x, mean}, {id, stats},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return arith::SubFOp::create(b, l, convertScalar(b, l, args[0], f32),
                                       args[1]);
        });
    Value squares = mapGeneric(rewriter, loc, x, f32, {centered}, {id},
                               [&](OpBuilder &b, Location l, ValueRange args) {
                                 return Value(arith::MulFOp::create(b, l, args[0], args[0]));
                               });
    Value sumSquares = reduceDims(rewriter, loc, squares, dims, f32, false);
    double epsilon = op.getEpsilon().convertToDouble();
    Value invStd = mapGeneric(
        rewriter, loc, sumSquares, f32, {sumSquares},
        {rewriter.getMultiDimIdentityMap(rank - dims.size())},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value variance = arith::DivFOp::create(b, l, args[0], n);
          // 1 / sqrt, not rsqrt: libm has no rsqrtf.
          Value std = math::SqrtOp::create(
              b, l, arith::AddFOp::create(b, l, variance,
                                          floatConstant(b, l, f32, epsilon)));
          return arith::DivFOp::create(b, l, floatConstant(b, l, f32, 1.0),
                                       std);
        });
    // Scale and bias broadcast against the normalised dims.
    auto paramMap = [&](Value param) {
      auto paramType = cast<RankedTensorType>(param.getType());
      SmallVector<AffineExpr> exprs;
      int64_t offset = rank - paramType.getRank();
      for (int64_t i = 0; i < paramType.getRank(); ++i)
        exprs.push_back(paramType.getDimSize(i) == 1 &&
                                type.getDimSize(i + offset) != 1
                            ? getAffineConstantExpr(0, context)
                            : getAffineDimExpr(i + offset, context));
      return AffineMap::get(rank, 0, exprs, context);
    };
    SmallVector<Value> inputs = {centered, invStd, adaptor.getScale()};
    SmallVector<AffineMap> maps = {id, stats, paramMap(adaptor.getScale())};
    if (Value bias = adaptor.getBias()) {
      inputs.push_back(bias);
      maps.push_back(paramMap(bias));
    }
    Type resultElement = getElementTypeOrSelf(op.getOutput().getType());
    Value y = mapGeneric(
        rewriter, loc, x, resultElement, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value v = arith::MulFOp::create(b, l, args[0], args[1]);
          v = arith::MulFOp::create(b, l, v, convertScalar(b, l, args[2], f32));
          if (args.size() > 3)
            v = arith::AddFOp::create(b, l, v, convertScalar(b, l, args[3], f32));
          return convertScalar(b, l, v, resultElement);
        });
    // The statistics results keep the normalised dims as size 1.
    SmallVector<bool> normalised(rank, false);
    for (int64_t d : dims)
      normalised[d] = true;
    auto expandStats = [&](Value v, Type resultType) -> Value {
      return tensor::ExpandShapeOp::create(rewriter, loc, resultType, v,
                                           keptDimGroups(normalised));
    };
    rewriter.replaceOp(op, {y, expandStats(mean, op.getMean().getType()),
                            expandStats(invStd, op.getInvStdDev().getType())});
    return success();
  }
};

/// Reshape-like ops with a static result: collapse to 1-d, expand to the
/// result (row-major order is what ONNX's reshapes keep).
template <typename OpTy>
struct StaticReshapeLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getOperands()[0];
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    if (!inputType.hasStaticShape() || !resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic reshapes");
    auto all = [](int64_t rank) {
      ReassociationIndices group;
      for (int64_t i = 0; i < rank; ++i)
        group.push_back(i);
      return rank == 0 ? SmallVector<ReassociationIndices>{}
                       : SmallVector<ReassociationIndices>{group};
    };
    // A 0-d side is one element: the other side is all ones, reached by
    // one reshape with no groups (through 1-d, a 0-d input would stay 0-d
    // and its expansion would get a group it has no dim for).
    if (inputType.getRank() == 0 || resultType.getRank() == 0) {
      Value result =
          inputType.getRank() == 0
              ? Value(tensor::ExpandShapeOp::create(
                    rewriter, loc, resultType, input,
                    SmallVector<ReassociationIndices>{}))
              : Value(tensor::CollapseShapeOp::create(
                    rewriter, loc, resultType, input,
                    SmallVector<ReassociationIndices>{}));
      rewriter.replaceOp(op, result);
      return success();
    }
    Value flat = input;
    if (inputType.getRank() != 1)
      flat = tensor::CollapseShapeOp::create(rewriter, loc, input,
                                             all(inputType.getRank()));
    Value result = flat;
    if (resultType.getRank() != 1)
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, flat,
                                             all(resultType.getRank()));
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Ops that are the identity at inference: Identity, and Dropout outside
/// training (whose mask is all true).
struct IdentityLowering : OpConversionPattern<IdentityOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(IdentityOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (op.getTraining())
      return lowerTraining(op, adaptor, rewriter);
    auto maskType = cast<RankedTensorType>(op.getMask().getType());
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < maskType.getRank(); ++i)
      sizes.push_back(
          tensor::getMixedSize(rewriter, op.getLoc(), adaptor.getInput(), i));
    Value mask = filledTensor(rewriter, op.getLoc(), sizes,
                              rewriter.getBoolAttr(true));
    rewriter.replaceOp(op, {adaptor.getInput(), mask});
    return success();
  }

  /// The mask from SplitMix64's output function of key * golden +
  /// stream * c + linear index: a counter-based generator, so every
  /// element is independent of the order (and the thread) it is computed
  /// in. The top 24 bits of the hash against ratio * 2^24 keep an element
  /// with probability 1 - ratio (to 2^-24).
  static LogicalResult lowerTraining(DropoutOp op, OpAdaptor adaptor,
                                     ConversionPatternRewriter &rewriter) {
    Location loc = op.getLoc();
    if (!adaptor.getKey())
      return op.emitOpError(
          "in training mode draws a random mask and needs a key: it runs "
          "in a training program (mpc-build-training), not in inference");
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    if (!type.hasStaticShape())
      return op.emitOpError("in training mode needs a static shape");
    int64_t rank = type.getRank();
    Type i64 = rewriter.getI64Type(), f32 = rewriter.getF32Type();
    Type element = type.getElementType();
    double ratio = op.getRatio().convertToDouble();
    auto i64Constant = [&](OpBuilder &b, Location l, uint64_t v) {
      return Value(arith::ConstantOp::create(
          b, l, b.getIntegerAttr(i64, static_cast<int64_t>(v))));
    };
    Value key = tensor::ExtractOp::create(rewriter, loc, adaptor.getKey(),
                                          ValueRange{});
    Value base = arith::AddIOp::create(
        rewriter, loc,
        arith::MulIOp::create(rewriter, loc, key,
                              i64Constant(rewriter, loc, 0x9E3779B97F4A7C15ull)),
        i64Constant(rewriter, loc,
                    uint64_t(op.getStream()) * 0xD1B54A32D192ED03ull));
    Value output = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                           element);
    Value mask = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         rewriter.getI1Type());
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * type.getDimSize(d + 1);
    uint64_t threshold = uint64_t(std::llround(ratio * double(1 << 24)));
    double scale = 1.0 / (1.0 - ratio);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{output.getType(), mask.getType()},
        ValueRange{x}, ValueRange{output, mask}, {id, id, id},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        "", "", [&](OpBuilder &b, Location l, ValueRange args) {
          Value linear = i64Constant(b, l, 0);
          for (int64_t d = 0; d < rank; ++d) {
            Value index = arith::IndexCastOp::create(
                b, l, i64, linalg::IndexOp::create(b, l, d));
            linear = arith::AddIOp::create(
                b, l, linear,
                arith::MulIOp::create(b, l, index,
                                      i64Constant(b, l, strides[d])));
          }
          Value z = arith::AddIOp::create(b, l, base, linear);
          auto mix = [&](Value v, uint64_t shift, uint64_t multiplier) {
            Value x = arith::XOrIOp::create(
                b, l, v, arith::ShRUIOp::create(b, l, v, i64Constant(b, l, shift)));
            return multiplier
                       ? Value(arith::MulIOp::create(
                             b, l, x, i64Constant(b, l, multiplier)))
                       : x;
          };
          z = mix(z, 30, 0xBF58476D1CE4E5B9ull);
          z = mix(z, 27, 0x94D049BB133111EBull);
          z = mix(z, 31, 0);
          Value draw =
              arith::ShRUIOp::create(b, l, z, i64Constant(b, l, 40));
          Value keep = arith::CmpIOp::create(b, l, arith::CmpIPredicate::uge,
                                             draw, i64Constant(b, l, threshold));
          Value scaled = arith::MulFOp::create(
              b, l, convertScalar(b, l, args[0], f32),
              floatConstant(b, l, f32, scale));
          Value kept = arith::SelectOp::create(
              b, l, keep, scaled, floatConstant(b, l, f32, 0.0));
          linalg::YieldOp::create(
              b, l, ValueRange{convertScalar(b, l, kept, element), keep});
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Slice with positive steps on static sliced dims: tensor.extract_slice
/// after ONNX's clamping. Negative steps and dynamic sliced dims are
/// reported.
/// Slice: a strided tensor.extract_slice. A negative step reads, from
/// its start down, the same elements a positive one reads from the
/// last of them up; those axes are then reversed by a copy whose input
/// map runs backwards (size - 1 - d).
struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    auto resultType = cast<RankedTensorType>(op.getType());
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes, strides(rank, rewriter.getIndexAttr(1));
    for (int64_t i = 0; i < rank; ++i)
      sizes.push_back(tensor::getMixedSize(rewriter, loc, input, i));
    SmallVector<int64_t> reversed;
    for (auto [start, axis, step] :
         llvm::zip(op.getStarts(), op.getAxes(), op.getSteps())) {
      int64_t a = axis < 0 ? axis + rank : axis;
      int64_t dim = type.getDimSize(a);
      if (ShapedType::isDynamic(dim) || resultType.isDynamicDim(a))
        return rewriter.notifyMatchFailure(op, "dynamic sliced dims");
      int64_t read = resultType.getDimSize(a);
      int64_t first = sliceBoundary(dim, start, step);
      if (step < 0 && read > 0) {
        first += (read - 1) * step;
        reversed.push_back(a);
      }
      offsets[a] = rewriter.getIndexAttr(read > 0 ? first : 0);
      sizes[a] = rewriter.getIndexAttr(read);
      strides[a] = rewriter.getIndexAttr(std::abs(step));
    }
    Value sliced = tensor::ExtractSliceOp::create(rewriter, loc, resultType,
                                                  input, offsets, sizes,
                                                  strides);
    if (reversed.empty()) {
      rewriter.replaceOp(op, sliced);
      return success();
    }
    SmallVector<AffineExpr> reads;
    for (int64_t d = 0; d < rank; ++d) {
      AffineExpr e = rewriter.getAffineDimExpr(d);
      reads.push_back(llvm::is_contained(reversed, d)
                          ? resultType.getDimSize(d) - 1 - e
                          : e);
    }
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, reads, ctx),
                                   rewriter.getMultiDimIdentityMap(rank)};
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    rewriter.replaceOpWithNewOp<linalg::GenericOp>(
        op, resultType, sliced, init, maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &b, Location loc, ValueRange args) {
          linalg::YieldOp::create(b, loc, args[0]);
        });
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    int64_t rank = cast<RankedTensorType>(op.getType()).getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    rewriter.replaceOpWithNewOp<tensor::ConcatOp>(op, op.getType(), axis,
                                                  adaptor.getInputs());
    return success();
  }
};

} // namespace

// Static shapes get the padding value everywhere and the input copied into
// the interior by an ordinary elementwise op, which the CPU and GPU
// pipelines parallelize and vectorize like any other and which writes the
// padded buffer in place. tensor.pad bufferizes to a strided memref.copy
// instead: one element at a time through the runtime's memrefCopy, on one
// thread (a ResNet's padding copies were a tenth of its training step, with
// the other core idle).
Value mpc::padWithConstant(OpBuilder &b, Location loc, Value input,
                           ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                           Value padValue) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (auto [d, size] : llvm::enumerate(type.getShape()))
    shape.push_back(ShapedType::isDynamic(size) ? size
                                                : size + low[d] + high[d]);
  auto paddedType = RankedTensorType::get(shape, type.getElementType());
  MLIRContext *context = b.getContext();
  SmallVector<OpFoldResult> offsets = getAsIndexOpFoldResult(context, low);
  if (!type.hasStaticShape())
    return tensor::PadOp::create(b, loc, paddedType, input, offsets,
                                 getAsIndexOpFoldResult(context, high),
                                 padValue);
  Value filled =
      linalg::FillOp::create(
          b, loc, padValue,
          Value(tensor::EmptyOp::create(b, loc, shape, type.getElementType())))
          .getResult(0);
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(context, type.getShape());
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  Value interior =
      tensor::ExtractSliceOp::create(b, loc, filled, offsets, sizes, strides);
  Value copied = linalg::CopyOp::create(b, loc, input, interior).getResult(0);
  return tensor::InsertSliceOp::create(b, loc, copied, filled, offsets, sizes,
                                       strides);
}

namespace {

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

/// Conv with 2 spatial dims: pad, linalg.conv_2d_nchw_fchw (group 1) or
/// conv_2d_ngchw_gfchw over the channels split into groups (grouped and
/// depthwise convolutions), accumulating in the precision's accumulate
/// type, bias, one rounding.
struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (inputType.getRank() != 4 || op.getAutoPad() != AutoPad::NotSet)
      return rewriter.notifyMatchFailure(
          op, "only 2-d convolutions with explicit pads");
    int64_t group = op.getGroup();
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    if (group > 1 && (inputType.isDynamicDim(1) || !weightType.hasStaticShape()))
      return rewriter.notifyMatchFailure(op, "grouped with dynamic channels");
    Type acc = accumulatorType(op, inputType.getElementType());
    Value input = padSpatial(rewriter, loc, adaptor.getInput(), op.getPads(),
                             rewriter.getZeroAttr(inputType.getElementType()));
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < 4; ++i)
      sizes.push_back(resultType.isDynamicDim(i)
                          ? OpFoldResult(tensor::getMixedSize(
                                rewriter, loc, adaptor.getInput(), i))
                          : OpFoldResult(rewriter.getIndexAttr(
                                resultType.getDimSize(i))));
    if (resultType.isDynamicDim(2) || resultType.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims");
    auto accType = RankedTensorType::get(resultType.getShape(), acc);
    SmallVector<NamedAttribute> windowAttrs = {
        rewriter.getNamedAttr("strides", i64Vector(rewriter, op.getStrides())),
        rewriter.getNamedAttr("dilations",
                              i64Vector(rewriter, op.getDilations()))};
    Value conv;
    if (group == 1) {
      Value init = zeroAccumulator(rewriter, loc, accType, sizes);
      conv = linalg::Conv2DNchwFchwOp::create(
                 rewriter, loc, TypeRange{accType},
                 ValueRange{input, adaptor.getWeight()}, ValueRange{init},
                 windowAttrs)
                 .getResult(0);
    } else {
      // [N, G*C, H, W] -> [N, G, C, H, W]; [G*F, C, kh, kw] ->
      // [G, F, C, kh, kw]; the result [N, G, F, OH, OW] -> [N, G*F, OH, OW].
      auto paddedType = cast<RankedTensorType>(input.getType());
      int64_t channels = paddedType.getDimSize(1);
      int64_t filters = weightType.getDimSize(0);
      SmallVector<int64_t> groupedInput = {paddedType.getDimSize(0), group,
                                           channels / group,
                                           paddedType.getDimSize(2),
                                           paddedType.getDimSize(3)};
      SmallVector<int64_t> groupedWeight = {group, filters / group,
                                            weightType.getDimSize(1),
                                            weightType.getDimSize(2),
                                            weightType.getDimSize(3)};
      SmallVector<int64_t> groupedResult = {
          resultType.getDimSize(0), group, filters / group,
          resultType.getDimSize(2), resultType.getDimSize(3)};
      SmallVector<ReassociationIndices> splitDim1 = {{0}, {1, 2}, {3}, {4}};
      SmallVector<ReassociationIndices> splitDim0 = {{0, 1}, {2}, {3}, {4}};
      Value groupedIn = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(groupedInput, paddedType.getElementType()),
          input, splitDim1);
      Value groupedW = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(groupedWeight, weightType.getElementType()),
          adaptor.getWeight(), splitDim0);
      SmallVector<OpFoldResult> groupedSizes = {sizes[0]};
      groupedSizes.push_back(rewriter.getIndexAttr(group));
      groupedSizes.push_back(rewriter.getIndexAttr(filters / group));
      groupedSizes.append({sizes[2], sizes[3]});
      Value init = zeroAccumulator(
          rewriter, loc, RankedTensorType::get(groupedResult, acc),
          groupedSizes);
      Value grouped =
          linalg::Conv2DNgchwGfchwOp::create(
              rewriter, loc, TypeRange{init.getType()},
              ValueRange{groupedIn, groupedW}, ValueRange{init}, windowAttrs)
              .getResult(0);
      conv = tensor::CollapseShapeOp::create(rewriter, loc, accType, grouped,
                                             splitDim1);
    }
    SmallVector<Value> operands = {conv};
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(4)};
    if (Value bias = adaptor.getBias()) {
      operands.push_back(bias);
      maps.push_back(AffineMap::get(
          4, 0, {getAffineDimExpr(1, op.getContext())}, op.getContext()));
    }
    Type resultElement = resultType.getElementType();
    Value result = mapGeneric(
        rewriter, loc, conv, resultElement, operands, maps,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value v = args[0];
          if (args.size() > 1)
            v = arith::AddFOp::create(b, l, v, convertScalar(b, l, args[1], acc));
          return convertScalar(b, l, v, resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// MaxPool with 2 spatial dims: -inf padding, linalg.pooling_nchw_max.
struct MaxPoolLowering : OpConversionPattern<MaxPoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = inputType.getElementType();
    if (inputType.getRank() != 4 || op.getAutoPad() != AutoPad::NotSet ||
        !isa<FloatType>(element) || resultType.isDynamicDim(2) ||
        resultType.isDynamicDim(3))
      return rewriter.notifyMatchFailure(op, "only static 2-d float pooling "
                                             "with explicit pads");
    // ceil_mode windows may run past the input: pad the end so the last
    // window exists (with -inf it never wins).
    SmallVector<int64_t> pads(op.getPads());
    for (int64_t i = 0; i < 2; ++i) {
      int64_t needed = (resultType.getDimSize(i + 2) - 1) * op.getStrides()[i] +
                       (op.getKernelShape()[i] - 1) * op.getDilations()[i] + 1;
      int64_t have = inputType.getDimSize(i + 2) + pads[i] + pads[i + 2];
      if (!ShapedType::isDynamic(inputType.getDimSize(i + 2)) && needed > have)
        pads[i + 2] += needed - have;
    }
    Value input = padSpatial(
        rewriter, loc, adaptor.getInput(), pads,
        rewriter.getFloatAttr(element, -std::numeric_limits<double>::infinity()));
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, adaptor.getInput(), 0),
        tensor::getMixedSize(rewriter, loc, adaptor.getInput(), 1),
        rewriter.getIndexAttr(resultType.getDimSize(2)),
        rewriter.getIndexAttr(resultType.getDimSize(3))};
    Value init = filledTensor(
        rewriter, loc, sizes,
        rewriter.getFloatAttr(element, -std::numeric_limits<double>::infinity()));
    Value window = tensor::EmptyOp::create(rewriter, loc, op.getKernelShape(),
                                           element);
    Value pooled =
        linalg::PoolingNchwMaxOp::create(
            rewriter, loc, TypeRange{init.getType()}, ValueRange{input, window},
            ValueRange{init},
            {rewriter.getNamedAttr("strides", i64Vector(rewriter, op.getStrides())),
             rewriter.getNamedAttr("dilations", i64Vector(rewriter, op.getDilations()))})
            .getResult(0);
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

/// MaxPoolGrad: the input viewed as [N, C, OH, KH, OW, KW] (its windows
/// tile it); one generic finds each window's first maximum in scan order
/// (a reduction over KH, KW carrying the value and its position), a
/// second writes the gradient where the position matches: two passes
/// over the input, each parallel and contiguous.
struct MaxPoolGradLowering : OpConversionPattern<MaxPoolGradOp> {
  /// The scan position row * width + col (i32) of the window element at
  /// loop dims `row` and `col`.
  static Value windowPosition(OpBuilder &b, Location l, unsigned row,
                              unsigned col, int64_t width) {
    Value r = linalg::IndexOp::create(b, l, row);
    Value c = linalg::IndexOp::create(b, l, col);
    Value w = arith::ConstantIndexOp::create(b, l, width);
    Value position =
        arith::AddIOp::create(b, l, arith::MulIOp::create(b, l, r, w), c);
    return arith::IndexCastOp::create(b, l, b.getI32Type(), position);
  }

  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MaxPoolGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput(), dy = adaptor.getGrad();
    auto xType = cast<RankedTensorType>(x.getType());
    auto dyType = cast<RankedTensorType>(dy.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> kernel = op.getKernelShape();
    int64_t n = dyType.getDimSize(0), c = dyType.getDimSize(1),
            oh = dyType.getDimSize(2), ow = dyType.getDimSize(3);
    SmallVector<int64_t> windows = {n, c, oh, kernel[0], ow, kernel[1]};
    SmallVector<ReassociationIndices> split = {{0}, {1}, {2, 3}, {4, 5}};
    Value x6 = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get(windows, xType.getElementType()), x, split);
    auto dims = [&](ArrayRef<unsigned> targets) {
      return AffineMap::getMultiDimMapWithTargets(6, targets, context);
    };
    Type math = mathType(xType.getElementType());
    SmallVector<OpFoldResult> pooledSizes =
        getAsIndexOpFoldResult(context, {n, c, oh, ow});
    Value lowest = filledTensor(
        rewriter, loc, pooledSizes,
        rewriter.getFloatAttr(math, -std::numeric_limits<double>::infinity()));
    Value first =
        filledTensor(rewriter, loc, pooledSizes, rewriter.getI32IntegerAttr(0));
    // Loops (n, c, oh, ow, kh, kw): the window's elements in scan order.
    SmallVector<utils::IteratorType> reduceIterators(
        4, utils::IteratorType::parallel);
    reduceIterators.append(2, utils::IteratorType::reduction);
    auto argmax = linalg::GenericOp::create(
        rewriter, loc, TypeRange{lowest.getType(), first.getType()},
        ValueRange{x6}, ValueRange{lowest, first},
        SmallVector<AffineMap>{dims({0, 1, 2, 4, 3, 5}), dims({0, 1, 2, 3}),
                               dims({0, 1, 2, 3})},
        reduceIterators, "", "",
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = convertScalar(b, l, args[0], math);
          Value position = windowPosition(b, l, 4, 5, kernel[1]);
          // PyTorch: the first element greater than all before it, or NaN.
          Value greater =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, v, args[1]);
          Value nan = arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, v, v);
          Value better = arith::OrIOp::create(b, l, greater, nan);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, better, v, args[1]),
                         arith::SelectOp::create(b, l, better, position,
                                                 args[2])});
        });
    Type resultElement = resultType.getElementType();
    Value empty6 = tensor::EmptyOp::create(rewriter, loc, windows, resultElement);
    Value zero = arith::ConstantOp::create(
        rewriter, loc, rewriter.getFloatAttr(resultElement, 0.0));
    // Loops (n, c, oh, kh, ow, kw): the input's order.
    auto routed = linalg::GenericOp::create(
        rewriter, loc, TypeRange{empty6.getType()},
        ValueRange{argmax.getResult(1), dy}, ValueRange{empty6},
        SmallVector<AffineMap>{dims({0, 1, 2, 4}), dims({0, 1, 2, 4}),
                               rewriter.getMultiDimIdentityMap(6)},
        SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel), "",
        "", [&](OpBuilder &b, Location l, ValueRange args) {
          Value position = windowPosition(b, l, 3, 5, kernel[1]);
          Value here = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                             position, args[0]);
          linalg::YieldOp::create(
              b, l,
              Value(arith::SelectOp::create(
                  b, l, here, convertScalar(b, l, args[1], resultElement),
                  zero)));
        });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, resultType, routed.getResult(0), split);
    return success();
  }
};

/// GlobalAveragePool: the mean over the spatial dims, accumulated in fp32
/// (or the accumulate type), kept as size-1 dims.
struct GlobalAveragePoolLowering : OpConversionPattern<GlobalAveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalAveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    SmallVector<int64_t> dims;
    for (int64_t i = 2; i < rank; ++i)
      dims.push_back(i);
    Type acc = mathType(accumulatorType(op, type.getElementType()));
    if (!acc.isF32() && !acc.isF64())
      acc = rewriter.getF32Type();
    Value sum = reduceDims(rewriter, loc, x, dims, acc, false);
    Value n = countElements(rewriter, loc, x, dims, acc);
    Type resultElement = getElementTypeOrSelf(op.getType());
    Value mean = mapGeneric(rewriter, loc, sum, resultElement, {sum},
                            {rewriter.getMultiDimIdentityMap(2)},
                            [&](OpBuilder &b, Location l, ValueRange args) {
                              return convertScalar(
                                  b, l, arith::DivFOp::create(b, l, args[0], n),
                                  resultElement);
                            });
    SmallVector<ReassociationIndices> groups = {{0}, {1}};
    for (int64_t i = 2; i < rank; ++i)
      groups.back().push_back(i);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, op.getType(), mean,
                                                       groups);
    return success();
  }
};

/// BatchNorm over the channel dim. Inference normalises with the running
/// statistics; training with the batch's (population variance), and
/// updates the running ones: momentum * running + (1 - momentum) * batch,
/// all in fp32, as ONNX specifies (the batch variance unbiased for
/// PyTorch's running variance).
struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    Value x = adaptor.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t rank = type.getRank();
    Type f32 = rewriter.getF32Type();
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap channel =
        AffineMap::get(rank, 0, {getAffineDimExpr(1, context)}, context);
    AffineMap vec = rewriter.getMultiDimIdentityMap(1);
    double epsilon = op.getEpsilon().convertToDouble();
    double momentum = op.getMomentum().convertToDouble();
    Value mean = adaptor.getMean(), variance = adaptor.getVariance();
    Value runningMean = mean, runningVariance = variance;
    if (op.getTraining()) {
      SmallVector<int64_t> dims = {0};
      for (int64_t i = 2; i < rank; ++i)
        dims.push_back(i);
      Value n = countElements(rewriter, loc, x, dims, f32);
      Value sum = reduceDims(rewriter, loc, x, dims, f32, false);
      Value batchMean = mapGeneric(rewriter, loc, sum, f32, {sum}, {vec},
                                   [&](OpBuilder &b, Location l, ValueRange a) {
                                     return Value(arith::DivFOp::create(b, l, a[0], n));
                                   });
      Value squares = mapGeneric(
          rewriter, loc, x, f32, {x, batchMean}, {id, channel},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value d = arith::SubFOp::create(b, l, convertScalar(b, l, a[0], f32),
                                            a[1]);
            return arith::MulFOp::create(b, l, d, d);
          });
      Value sumSquares = reduceDims(rewriter, loc, squares, dims, f32, false);
      Value batchVariance =
          mapGeneric(rewriter, loc, sumSquares, f32, {sumSquares}, {vec},
                     [&](OpBuilder &b, Location l, ValueRange a) {
                       return Value(arith::DivFOp::create(b, l, a[0], n));
                     });
      // ONNX updates the running variance with the batch's population
      // variance, PyTorch with the unbiased one.
      Value runningBatchVariance = batchVariance;
      if (op.getUnbiasedRunningVariance())
        runningBatchVariance = mapGeneric(
            rewriter, loc, sumSquares, f32, {sumSquares}, {vec},
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value nMinusOne = arith::SubFOp::create(
                  b, l, n, floatConstant(b, l, f32, 1.0));
              return Value(arith::DivFOp::create(b, l, a[0], nMinusOne));
            });
      auto update = [&](Value running, Value batch) {
        return mapGeneric(
            rewriter, loc, running, f32, {running, batch}, {vec, vec},
            [&](OpBuilder &b, Location l, ValueRange a) -> Value {
              Value stat = a[1];
              Value keep = arith::MulFOp::create(
                  b, l, convertScalar(b, l, a[0], f32),
                  floatConstant(b, l, f32, momentum));
              Value take = arith::MulFOp::create(
                  b, l, stat, floatConstant(b, l, f32, 1.0 - momentum));
              return arith::AddFOp::create(b, l, keep, take);
            });
      };
      runningMean = update(mean, batchMean);
      runningVariance = update(variance, runningBatchVariance);
      mean = batchMean;
      variance = batchVariance;
    }
    Type resultElement = getElementTypeOrSelf(op.getOutput().getType());
    // Per channel: scale / sqrt(var + eps), once; per element a subtract
    // and a multiply-add, (x - mean) keeping the cancellation exact-ish.
    Value factor = mapGeneric(
        rewriter, loc, mean, f32, {adaptor.getScale(), variance}, {vec, vec},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value std = math::SqrtOp::create(
              b, l,
              arith::AddFOp::create(b, l, convertScalar(b, l, a[1], f32),
                                    floatConstant(b, l, f32, epsilon)));
          return arith::DivFOp::create(b, l, convertScalar(b, l, a[0], f32),
                                       std);
        });
    Value y = mapGeneric(
        rewriter, loc, x, resultElement,
        {x, factor, adaptor.getBias(), mean}, {id, channel, channel, channel},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto f = [&](Value v) { return convertScalar(b, l, v, f32); };
          Value centred = arith::SubFOp::create(b, l, f(a[0]), f(a[3]));
          Value v = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, centred, a[1]), f(a[2]));
          return convertScalar(b, l, v, resultElement);
        });
    rewriter.replaceOp(op, {y, runningMean, runningVariance});
    return success();
  }
};

/// AveragePool with 2 spatial dims: windowed sums of the zero-padded input
/// divided by the number of elements each window counts — the same
/// pooling over ones padded with 1 (count_include_pad) or 0, so windows
/// clipped by padding or ceil_mode divide correctly.
struct AveragePoolLowering : OpConversionPattern<AveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(x.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (inputType.getRank() != 4 || op.getAutoPad() != AutoPad::NotSet ||
        !inputType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "only static 2-d pooling with "
                                             "explicit pads");
    Type f32 = rewriter.getF32Type();
    ArrayRef<int64_t> pads = op.getPads();
    // ceil_mode windows past the padded input: extra zero padding that
    // never counts.
    SmallVector<int64_t> extra(2, 0);
    for (int64_t i = 0; i < 2; ++i) {
      int64_t needed = (resultType.getDimSize(i + 2) - 1) * op.getStrides()[i] +
                       op.getKernelShape()[i];
      int64_t have = inputType.getDimSize(i + 2) + pads[i] + pads[i + 2];
      extra[i] = std::max<int64_t>(0, needed - have);
    }
    auto pool = [&](Value input, double padValue) -> Value {
      Value padded = padSpatial(rewriter, loc, input, pads,
                                rewriter.getFloatAttr(f32, padValue));
      padded = padSpatial(rewriter, loc, padded,
                          {0, 0, extra[0], extra[1]},
                          rewriter.getFloatAttr(f32, 0.0));
      auto outType = RankedTensorType::get(resultType.getShape(), f32);
      Value init = zeroAccumulator(
          rewriter, loc, outType,
          llvm::map_to_vector(resultType.getShape(), [&](int64_t d) {
            return OpFoldResult(rewriter.getIndexAttr(d));
          }));
      Value window =
          tensor::EmptyOp::create(rewriter, loc, op.getKernelShape(), f32);
      SmallVector<int64_t> ones = {1, 1};
      return linalg::PoolingNchwSumOp::create(
                 rewriter, loc, TypeRange{outType}, ValueRange{padded, window},
                 ValueRange{init},
                 {rewriter.getNamedAttr("strides", i64Vector(rewriter, op.getStrides())),
                  rewriter.getNamedAttr("dilations", i64Vector(rewriter, ones))})
          .getResult(0);
    };
    // The input in fp32, and a tensor of ones shaped like it.
    Value input = mapGeneric(rewriter, loc, x, f32, {x},
                             {rewriter.getMultiDimIdentityMap(4)},
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return convertScalar(b, l, a[0], f32);
                             });
    Value ones = mapGeneric(rewriter, loc, x, f32, {}, {},
                            [&](OpBuilder &b, Location l, ValueRange) {
                              return floatConstant(b, l, f32, 1.0);
                            });
    Value sums = pool(input, 0.0);
    Value counts = pool(ones, op.getCountIncludePad() ? 1.0 : 0.0);
    Type resultElement = resultType.getElementType();
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    Value result = mapGeneric(
        rewriter, loc, sums, resultElement, {sums, counts}, {id, id},
        [&](OpBuilder &b, Location l, ValueRange a) {
          return convertScalar(b, l, arith::DivFOp::create(b, l, a[0], a[1]),
                               resultElement);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Pow: float bases via math.powf in fp32 for 16-bit types (an integer or
/// other-typed exponent converted to the base's math type); integer bases
/// and exponents via math.ipowi.
struct PowLowering : OpConversionPattern<PowOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PowOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = getElementTypeOrSelf(adaptor.getLhs());
    Type exponentElement = getElementTypeOrSelf(adaptor.getRhs());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (isa<FloatType>(element))
      return replaceWithResult(rewriter, op, buildElementwise(
          rewriter, op, {adaptor.getLhs(), adaptor.getRhs()}, resultType,
          mathType(element),
          [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
            Value exponent = convertScalar(b, loc, args[1], mathType(element));
            return math::PowFOp::create(b, loc, args[0], exponent);
          }));
    if (element.isSignlessInteger() && exponentElement == element)
      return replaceWithResult(rewriter, op, buildElementwise(
          rewriter, op, {adaptor.getLhs(), adaptor.getRhs()}, resultType,
          nullptr, [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
            return math::IPowIOp::create(b, loc, args[0], args[1]);
          }));
    return rewriter.notifyMatchFailure(op, "integer base with another "
                                           "exponent type");
  }
};

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

/// ONNX Pad. Negative pads crop first; constant mode is tensor.pad; edge
/// and reflect read the input at a clamped or mirrored index (a gather in a
/// linalg.generic over the result).
struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; })) {
      if (!type.hasStaticShape())
        return op.emitOpError("negative pads of a dynamic shape are not "
                              "supported");
      SmallVector<int64_t> offsets, sizes, strides(rank, 1);
      for (int64_t d = 0; d < rank; ++d) {
        offsets.push_back(std::max<int64_t>(0, -pads[d]));
        sizes.push_back(type.getDimSize(d) - offsets.back() -
                        std::max<int64_t>(0, -pads[rank + d]));
      }
      MLIRContext *context = op.getContext();
      input = tensor::ExtractSliceOp::create(
          rewriter, loc, input, getAsIndexOpFoldResult(context, offsets),
          getAsIndexOpFoldResult(context, sizes),
          getAsIndexOpFoldResult(context, strides));
      type = cast<RankedTensorType>(input.getType());
    }
    SmallVector<int64_t> low, high;
    for (int64_t d = 0; d < rank; ++d) {
      low.push_back(std::max<int64_t>(0, pads[d]));
      high.push_back(std::max<int64_t>(0, pads[rank + d]));
    }
    Type element = type.getElementType();
    if (op.getMode() == PadMode::Constant) {
      double value = op.getValue().convertToDouble();
      TypedAttr padAttr =
          isa<FloatType>(element)
              ? TypedAttr(rewriter.getFloatAttr(element, value))
              : TypedAttr(rewriter.getIntegerAttr(element, (int64_t)value));
      Value padValue = arith::ConstantOp::create(rewriter, loc, padAttr);
      Value padded = padWithConstant(rewriter, loc, input, low, high, padValue);
      if (padded.getType() != resultType)
        padded = tensor::CastOp::create(rewriter, loc, resultType, padded);
      rewriter.replaceOp(op, padded);
      return success();
    }
    bool reflect = op.getMode() == PadMode::Reflect;
    if (!type.hasStaticShape() || !resultType.hasStaticShape())
      return op.emitOpError("edge and reflect padding need static shapes");
    for (int64_t d = 0; d < rank; ++d) {
      int64_t dim = type.getDimSize(d);
      if (dim == 0 && (low[d] || high[d]))
        return op.emitOpError("cannot pad an empty dim in ")
               << stringifyPadMode(op.getMode()) << " mode";
      if (reflect && (low[d] >= dim || high[d] >= dim) && (low[d] || high[d]))
        return op.emitOpError("reflect pads of dim ")
               << d << " must be smaller than its size " << dim;
    }
    Value result = buildGeneric(
        rewriter, loc, resultType.getShape(), {element}, {}, {},
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> indices;
          auto index = [&](int64_t v) {
            return Value(arith::ConstantIndexOp::create(b, l, v));
          };
          for (int64_t d = 0; d < rank; ++d) {
            int64_t last = type.getDimSize(d) - 1;
            Value i = arith::SubIOp::create(b, l, linalg::IndexOp::create(b, l, d),
                                            index(low[d]));
            if (reflect) {
              // Mirror without repeating the edge: -1 -> 1, last+1 -> last-1.
              Value below = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, i, index(0));
              i = arith::SelectOp::create(
                  b, l, below, arith::SubIOp::create(b, l, index(0), i), i);
              Value above = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::sgt, i, index(last));
              i = arith::SelectOp::create(
                  b, l, above,
                  arith::SubIOp::create(b, l, index(2 * last), i), i);
            } else {
              i = arith::MaxSIOp::create(b, l, i, index(0));
              i = arith::MinSIOp::create(b, l, i, index(last));
            }
            indices.push_back(i);
          }
          return SmallVector<Value>{
              tensor::ExtractOp::create(b, l, input, indices)};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The gradients of the class losses with respect to their input:
/// softmax cross entropy's d scores = (exp(log_prob) - onehot(label)) *
/// w[label] * g / denominator; the negative log likelihood's
/// d log_prob = -onehot(label) * w[label] * g / denominator.
template <typename OpTy>
struct ClassLossGradLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpTy::Adaptor;
  static constexpr bool kThroughSoftmax =
      std::is_same_v<OpTy, SoftmaxCrossEntropyLossGradOp>;
  LogicalResult
  matchAndRewrite(OpTy op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value logProb = adaptor.getLogProb(), labels = adaptor.getLabels();
    Value weights = adaptor.getWeights(), lossGrad = adaptor.getLossGrad();
    auto type = cast<RankedTensorType>(logProb.getType());
    if (!type.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    Type f32 = rewriter.getF32Type();
    std::optional<int64_t> ignore;
    if (auto attr = op.getIgnoreIndexAttr())
      ignore = attr.getValue().getSExtValue();
    auto labelType = cast<RankedTensorType>(labels.getType());
    int64_t labelRank = labelType.getRank();
    // Per-label weight (0 when ignored).
    auto labelWeight = [&](OpBuilder &b, Location l, Value label) {
      Type lt = label.getType();
      Value ignored = arith::ConstantOp::create(b, l, b.getI1Type(),
                                                b.getBoolAttr(false));
      if (ignore)
        ignored = arith::CmpIOp::create(
            b, l, arith::CmpIPredicate::eq, label,
            arith::ConstantOp::create(b, l, lt,
                                      b.getIntegerAttr(lt, *ignore)));
      Value w = f32Const(b, l, 1.0);
      if (weights) {
        Value safe = arith::SelectOp::create(
            b, l, ignored,
            arith::ConstantOp::create(b, l, lt, b.getIntegerAttr(lt, 0)),
            label);
        w = convertScalar(
            b, l,
            tensor::ExtractOp::create(
                b, l, weights,
                ValueRange{arith::IndexCastOp::create(b, l, b.getIndexType(),
                                                      safe)}),
            f32);
      }
      return Value(arith::SelectOp::create(b, l, ignored, f32Const(b, l, 0.0),
                                           w));
    };
    Value perLabel =
        buildGeneric(rewriter, loc, labelType.getShape(), {f32}, {labels},
                     {rewriter.getMultiDimIdentityMap(labelRank)},
                     [&](OpBuilder &b, Location l, ValueRange args) {
                       return SmallVector<Value>{labelWeight(b, l, args[0])};
                     })[0];
    Value denominator;
    if (op.getReduction() == LossReduction::Mean) {
      SmallVector<int64_t> all =
          llvm::to_vector(llvm::seq<int64_t>(0, labelRank));
      denominator = reduceDims(rewriter, loc, perLabel, all, f32, false);
    }
    int64_t rank = type.getRank();
    MLIRContext *context = op.getContext();
    SmallVector<AffineExpr> labelExprs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != 1)
        labelExprs.push_back(getAffineDimExpr(d, context));
    AffineMap labelMap = AffineMap::get(rank, 0, labelExprs, context);
    bool perElementGrad = op.getReduction() == LossReduction::None;
    // The log-likelihood's gradient does not read the log-probabilities.
    SmallVector<Value> inputs = {labels, perLabel, lossGrad};
    SmallVector<AffineMap> maps = {labelMap, labelMap,
                                   perElementGrad ? labelMap
                                                  : scalarMap(rewriter, rank)};
    if (denominator) {
      inputs.push_back(denominator);
      maps.push_back(scalarMap(rewriter, rank));
    }
    if (kThroughSoftmax) {
      inputs.push_back(logProb);
      maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    }
    Type resultElement = type.getElementType();
    Value result = buildGeneric(
        rewriter, loc, type.getShape(), {resultElement}, inputs, maps,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value label = args[0], weight = args[1], grad = args[2];
          Value cls = arith::IndexCastOp::create(
              b, l, label.getType(), linalg::IndexOp::create(b, l, 1));
          Value hit =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, cls, label);
          Value onehot = arith::SelectOp::create(b, l, hit, f32Const(b, l, 1.0),
                                                 f32Const(b, l, 0.0));
          Value d;
          if constexpr (kThroughSoftmax)
            d = arith::SubFOp::create(
                b, l,
                math::ExpOp::create(b, l,
                                    convertScalar(b, l, args.back(), f32)),
                onehot);
          else
            d = arith::NegFOp::create(b, l, onehot);
          Value v = arith::MulFOp::create(b, l, d, weight);
          v = arith::MulFOp::create(b, l, v, convertScalar(b, l, grad, f32));
          if (denominator)
            v = arith::DivFOp::create(b, l, v, args[3]);
          return SmallVector<Value>{convertScalar(b, l, v, resultElement)};
        })[0];
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Reads the `lr`-like 0-d operands of an optimizer op alongside its
/// elementwise ones.
struct OptimizerOperands {
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
};

OptimizerOperands optimizerOperands(OpBuilder &b, ValueRange elementwise,
                                    ValueRange scalars, int64_t rank) {
  OptimizerOperands operands;
  for (Value v : elementwise) {
    operands.inputs.push_back(v);
    operands.maps.push_back(b.getMultiDimIdentityMap(rank));
  }
  for (Value v : scalars) {
    operands.inputs.push_back(v);
    operands.maps.push_back(scalarMap(b, rank));
  }
  return operands;
}

struct SGDUpdateLowering : OpConversionPattern<SGDUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SGDUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static fp32 tensors");
    OptimizerOperands in = optimizerOperands(
        rewriter, {adaptor.getParam(), adaptor.getGrad()},
        {adaptor.getLr(), adaptor.getWeightDecay()}, type.getRank());
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, op.getLoc(), type.getShape(), {type.getElementType()},
                in.inputs, in.maps,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value g = arith::AddFOp::create(
                      b, l, a[1], arith::MulFOp::create(b, l, a[3], a[0]));
                  return SmallVector<Value>{arith::SubFOp::create(
                      b, l, a[0], arith::MulFOp::create(b, l, a[2], g))};
                }));
    return success();
  }
};

struct MomentumUpdateLowering : OpConversionPattern<MomentumUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MomentumUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static fp32 tensors");
    double momentum = op.getMomentum().convertToDouble();
    double dampening = op.getDampening().convertToDouble();
    bool nesterov = op.getNesterov();
    Type f32 = type.getElementType();
    OptimizerOperands in = optimizerOperands(
        rewriter, {adaptor.getParam(), adaptor.getGrad(), adaptor.getBuffer()},
        {adaptor.getLr(), adaptor.getStep(), adaptor.getWeightDecay()},
        type.getRank());
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, op.getLoc(), type.getShape(), {f32, f32}, in.inputs,
                in.maps, [&](OpBuilder &b, Location l, ValueRange a) {
                  Value p = a[0], buf = a[2], lr = a[3], step = a[4];
                  Value d = arith::AddFOp::create(
                      b, l, a[1], arith::MulFOp::create(b, l, a[5], p));
                  // torch: the first step's buffer is the gradient itself.
                  Value first = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::eq, step,
                      arith::ConstantIntOp::create(b, l, step.getType(), 0));
                  Value blended = arith::AddFOp::create(
                      b, l, arith::MulFOp::create(b, l, f32Const(b, l, momentum), buf),
                      arith::MulFOp::create(b, l, f32Const(b, l, 1 - dampening), d));
                  Value newBuf = arith::SelectOp::create(b, l, first, d, blended);
                  Value update =
                      nesterov ? Value(arith::AddFOp::create(
                                     b, l, d,
                                     arith::MulFOp::create(
                                         b, l, f32Const(b, l, momentum), newBuf)))
                               : newBuf;
                  Value newP = arith::SubFOp::create(
                      b, l, p, arith::MulFOp::create(b, l, lr, update));
                  return SmallVector<Value>{newP, newBuf};
                }));
    return success();
  }
};

struct AdamUpdateLowering : OpConversionPattern<AdamUpdateOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AdamUpdateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getParam().getType());
    if (!type.hasStaticShape() || !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "needs static fp32 tensors");
    double b1 = op.getBeta1().convertToDouble();
    double b2 = op.getBeta2().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    bool decoupled = op.getDecoupled();
    Type f32 = type.getElementType();
    // The bias corrections 1 - beta^t of this step (t = step + 1), once per
    // update rather than per element: a pow per element was most of the
    // code LLVM had to compile for a model of many small parameters.
    SmallVector<Value> corrections = buildGeneric(
        rewriter, op.getLoc(), {}, {f32, f32}, {adaptor.getStep()},
        {scalarMap(rewriter, 0)}, [&](OpBuilder &b, Location l, ValueRange a) {
          Value t = arith::SIToFPOp::create(
              b, l, b.getF32Type(),
              arith::AddIOp::create(
                  b, l, a[0],
                  arith::ConstantIntOp::create(b, l, a[0].getType(), 1)));
          auto correction = [&](double beta) -> Value {
            return arith::SubFOp::create(
                b, l, f32Const(b, l, 1.0),
                math::PowFOp::create(b, l, f32Const(b, l, beta), t));
          };
          return SmallVector<Value>{correction(b1), correction(b2)};
        });
    OptimizerOperands in = optimizerOperands(
        rewriter,
        {adaptor.getParam(), adaptor.getGrad(), adaptor.getM(), adaptor.getV()},
        {adaptor.getLr(), corrections[0], corrections[1],
         adaptor.getWeightDecay()},
        type.getRank());
    rewriter.replaceOp(
        op,
        buildGeneric(
            rewriter, op.getLoc(), type.getShape(), {f32, f32, f32}, in.inputs,
            in.maps, [&](OpBuilder &b, Location l, ValueRange a) {
              Value p = a[0], g = a[1], m = a[2], v = a[3], lr = a[4];
              Value correction1 = a[5], correction2 = a[6];
              auto c = [&](double x) { return f32Const(b, l, x); };
              auto mul = [&](Value x, Value y) {
                return Value(arith::MulFOp::create(b, l, x, y));
              };
              auto add = [&](Value x, Value y) {
                return Value(arith::AddFOp::create(b, l, x, y));
              };
              auto sub = [&](Value x, Value y) {
                return Value(arith::SubFOp::create(b, l, x, y));
              };
              Value decay = a[7];
              if (decoupled)
                p = mul(p, sub(c(1.0), mul(lr, decay)));
              else
                g = add(g, mul(decay, a[0]));
              Value newM = add(mul(c(b1), m), mul(c(1 - b1), g));
              Value newV = add(mul(c(b2), v), mul(c(1 - b2), mul(g, g)));
              Value mHat = arith::DivFOp::create(b, l, newM, correction1);
              Value vHat = arith::DivFOp::create(b, l, newV, correction2);
              Value denom = add(math::SqrtOp::create(b, l, vHat), c(eps));
              Value newP =
                  sub(p, mul(lr, arith::DivFOp::create(b, l, mHat, denom)));
              return SmallVector<Value>{newP, newM, newV};
            }));
    return success();
  }
};

/// g / scale per gradient, and whether every element of every gradient is
/// finite (x * 0 == 0 fails exactly for inf and NaN). The flags are 1.0 or
/// 0.0 in f32 and reduced with `minimumf`, so that the GPU runs the check
/// as a block reduction like any other f32 reduction.
struct UnscaleGradientsLowering : OpConversionPattern<UnscaleGradientsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UnscaleGradientsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type i1 = rewriter.getI1Type(), f32 = rewriter.getF32Type();
    SmallVector<Value> results;
    Value allFinite;
    for (Value grad : adaptor.getGradients()) {
      auto type = cast<RankedTensorType>(grad.getType());
      if (!type.hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shape");
      int64_t rank = type.getRank();
      Type element = type.getElementType();
      SmallVector<Value> unscaled = buildGeneric(
          rewriter, loc, type.getShape(), {element, f32},
          {grad, adaptor.getScale()},
          {rewriter.getMultiDimIdentityMap(rank), scalarMap(rewriter, rank)},
          [&](OpBuilder &b, Location l, ValueRange a) {
            Value x = convertScalar(b, l, a[0], b.getF32Type());
            Value scaled = arith::DivFOp::create(b, l, x, a[1]);
            Value zero = f32Const(b, l, 0.0);
            Value finite = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ,
                arith::MulFOp::create(b, l, x, zero), zero);
            Value flag = arith::SelectOp::create(b, l, finite,
                                                 f32Const(b, l, 1.0), zero);
            return SmallVector<Value>{convertScalar(b, l, scaled, element),
                                      flag};
          });
      results.push_back(unscaled[0]);
      // all() over the flags: their minimum is 1 when every one is.
      SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, rank));
      Value init =
          linalg::FillOp::create(
              rewriter, loc, ValueRange{f32Const(rewriter, loc, 1.0)},
              ValueRange{tensor::EmptyOp::create(
                  rewriter, loc, ArrayRef<int64_t>{}, f32)})
              .getResult(0);
      Value minimum =
          linalg::ReduceOp::create(
              rewriter, loc, ValueRange{unscaled[1]}, ValueRange{init}, dims,
              [](OpBuilder &b, Location l, ValueRange a) {
                linalg::YieldOp::create(
                    b, l, Value(arith::MinimumFOp::create(b, l, a[0], a[1])));
              })
              .getResult(0);
      Value finite = buildGeneric(
          rewriter, loc, {}, {i1}, {minimum}, {scalarMap(rewriter, 0)},
          [](OpBuilder &b, Location l, ValueRange a) {
            return SmallVector<Value>{arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OEQ, a[0], f32Const(b, l, 1.0))};
          })[0];
      allFinite =
          allFinite
              ? buildGeneric(rewriter, loc, {}, {i1}, {allFinite, finite},
                             {scalarMap(rewriter, 0), scalarMap(rewriter, 0)},
                             [](OpBuilder &b, Location l, ValueRange a) {
                               return SmallVector<Value>{
                                   arith::AndIOp::create(b, l, a[0], a[1])};
                             })[0]
              : finite;
    }
    results.push_back(allFinite);
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct UpdateLossScaleLowering : OpConversionPattern<UpdateLossScaleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UpdateLossScaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    double growth = op.getGrowthFactor().convertToDouble();
    double backoff = op.getBackoffFactor().convertToDouble();
    int64_t interval = op.getGrowthInterval();
    double maxScale = op.getMaxScale().convertToDouble();
    Type f32 = rewriter.getF32Type(), i64 = rewriter.getI64Type();
    rewriter.replaceOp(
        op, buildGeneric(
                rewriter, op.getLoc(), {}, {f32, i64},
                {adaptor.getScale(), adaptor.getCleanSteps(), adaptor.getFinite()},
                {scalarMap(rewriter, 0), scalarMap(rewriter, 0),
                 scalarMap(rewriter, 0)},
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value scale = a[0], clean = a[1], finite = a[2];
                  Value zero = arith::ConstantIntOp::create(b, l, i64, 0);
                  Value next = arith::AddIOp::create(
                      b, l, clean, arith::ConstantIntOp::create(b, l, i64, 1));
                  Value grow = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::sge, next,
                      arith::ConstantIntOp::create(b, l, i64, interval));
                  Value grown = arith::MinimumFOp::create(
                      b, l,
                      arith::MulFOp::create(b, l, scale, f32Const(b, l, growth)),
                      f32Const(b, l, maxScale));
                  Value cleanScale =
                      arith::SelectOp::create(b, l, grow, grown, scale);
                  Value cleanCount =
                      arith::SelectOp::create(b, l, grow, zero, next);
                  Value backedOff =
                      arith::MulFOp::create(b, l, scale, f32Const(b, l, backoff));
                  return SmallVector<Value>{
                      arith::SelectOp::create(b, l, finite, cleanScale,
                                              backedOff),
                      arith::SelectOp::create(b, l, finite, cleanCount, zero)};
                }));
    return success();
  }
};

/// The elements of `loss`, reduced as ONNX asks: none keeps them, sum adds
/// them, mean divides the sum by the sum of the per-element weights.
Value reduceLoss(OpBuilder &b, Location loc, Value loss, Value weights,
                 LossReduction reduction, Type acc) {
  if (reduction == LossReduction::None)
    return loss;
  int64_t rank = cast<RankedTensorType>(loss.getType()).getRank();
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value sum = reduceDims(b, loc, loss, all, acc, /*isMax=*/false);
  if (reduction == LossReduction::Sum)
    return sum;
  Value weightSum = reduceDims(b, loc, weights, all, acc, /*isMax=*/false);
  return mapGeneric(b, loc, sum, acc, {sum, weightSum},
                    {b.getMultiDimIdentityMap(0), b.getMultiDimIdentityMap(0)},
                    [](OpBuilder &nb, Location l, ValueRange args) {
                      return Value(
                          arith::DivFOp::create(nb, l, args[0], args[1]));
                    });
}

/// NegativeLogLikelihoodLoss: one generic over the target's [N, d...]
/// reads input[n, target, d...] and weight[target] (tensor.extract, the
/// class index is data), yielding -input * weight and the weight (0 where
/// the target is ignore_index, whose class index is then never read).
struct NegativeLogLikelihoodLossLowering
    : OpConversionPattern<NegativeLogLikelihoodLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NegativeLogLikelihoodLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), target = adaptor.getTarget();
    Value weight = adaptor.getWeight();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto targetType = cast<RankedTensorType>(target.getType());
    Type acc = mathType(accumulatorType(op, inputType.getElementType()));
    std::optional<int64_t> ignore;
    if (auto attr = op.getIgnoreIndexAttr())
      ignore = attr.getValue().getSExtValue();
    int64_t rank = targetType.getRank();
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < rank; ++i)
      sizes.push_back(tensor::getMixedSize(rewriter, loc, target, i));
    Value lossInit = tensor::EmptyOp::create(rewriter, loc, sizes, acc);
    Value weightInit = tensor::EmptyOp::create(rewriter, loc, sizes, acc);
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto perElement = linalg::GenericOp::create(
        rewriter, loc, TypeRange{lossInit.getType(), weightInit.getType()},
        ValueRange{target}, ValueRange{lossInit, weightInit},
        SmallVector<AffineMap>{id, id, id}, iterators, "", "",
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value label = args[0];
          Type labelType = label.getType();
          Value zeroLabel = arith::ConstantOp::create(
              b, l, labelType, b.getIntegerAttr(labelType, 0));
          Value ignored = arith::ConstantOp::create(b, l, b.getI1Type(),
                                                    b.getBoolAttr(false));
          if (ignore)
            ignored = arith::CmpIOp::create(
                b, l, arith::CmpIPredicate::eq, label,
                arith::ConstantOp::create(
                    b, l, labelType, b.getIntegerAttr(labelType, *ignore)));
          Value safe = arith::SelectOp::create(b, l, ignored, zeroLabel, label);
          Value cls = arith::IndexCastOp::create(b, l, b.getIndexType(), safe);
          SmallVector<Value> indices;
          indices.push_back(linalg::IndexOp::create(b, l, 0));
          indices.push_back(cls);
          for (int64_t d = 1; d < rank; ++d)
            indices.push_back(linalg::IndexOp::create(b, l, d));
          Value logProb = convertScalar(
              b, l, tensor::ExtractOp::create(b, l, input, indices), acc);
          Value w = floatConstant(b, l, acc, 1.0);
          if (weight)
            w = convertScalar(
                b, l, tensor::ExtractOp::create(b, l, weight, ValueRange{cls}),
                acc);
          w = arith::SelectOp::create(b, l, ignored,
                                      floatConstant(b, l, acc, 0.0), w);
          Value loss = arith::NegFOp::create(
              b, l, arith::MulFOp::create(b, l, logProb, w));
          linalg::YieldOp::create(b, l, ValueRange{loss, w});
        });
    Value loss = reduceLoss(rewriter, loc, perElement.getResult(0),
                            perElement.getResult(1), op.getReduction(), acc);
    auto resultType = cast<RankedTensorType>(op.getLoss().getType());
    loss = roundTo(rewriter, op, loss, resultType);
    if (!loss)
      return failure();
    rewriter.replaceOp(op, loss);
    return success();
  }
};

/// SoftmaxCrossEntropyLoss = NegativeLogLikelihoodLoss(LogSoftmax(scores,
/// axis 1)); both are built as mpc ops and lowered by their own patterns.
struct SoftmaxCrossEntropyLossLowering
    : OpConversionPattern<SoftmaxCrossEntropyLossOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxCrossEntropyLossOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto logProbType = cast<RankedTensorType>(op.getLogProb().getType());
    auto logSoftmax = LogSoftmaxOp::create(
        rewriter, loc, logProbType, adaptor.getScores(),
        rewriter.getI64IntegerAttr(1), op.getPrecisionAttr());
    auto nll = NegativeLogLikelihoodLossOp::create(
        rewriter, loc, op.getLoss().getType(), logSoftmax.getResult(),
        adaptor.getLabels(), adaptor.getWeights(), op.getReductionAttr(),
        op.getIgnoreIndexAttr(), op.getPrecisionAttr());
    rewriter.replaceOp(op, ValueRange{nll.getResult(), logSoftmax.getResult()});
    return success();
  }
};

/// A Gather index as an `index`, negative ones counted from the end of a
/// dim of `size`.
static Value gatherIndex(OpBuilder &b, Location loc, Value index, Value size) {
  index = arith::IndexCastOp::create(b, loc, b.getIndexType(), index);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, zero);
  return arith::SelectOp::create(
      b, loc, negative, arith::AddIOp::create(b, loc, index, size), index);
}

/// Gather along `axis`: one generic over the result reads the index
/// (negative ones count from the end) and extracts the input element.
struct GatherLowering : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic result shape");
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += inputType.getRank();
    int64_t indexRank = indicesType.getRank();
    int64_t rank = resultType.getRank();
    MLIRContext *context = op.getContext();
    // The result's dims [axis, axis + indexRank) walk the indices.
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(getAffineDimExpr(axis + i, context));
    AffineMap indexMap = AffineMap::get(rank, 0, indexExprs, context);
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    int64_t axisSize = inputType.getDimSize(axis);
    auto gather = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{indices},
        ValueRange{init},
        SmallVector<AffineMap>{indexMap, rewriter.getMultiDimIdentityMap(rank)},
        iterators, "", "", [&](OpBuilder &b, Location l, ValueRange args) {
          Value size =
              ShapedType::isDynamic(axisSize)
                  ? Value(tensor::DimOp::create(b, l, input, axis))
                  : Value(arith::ConstantIndexOp::create(b, l, axisSize));
          Value index = gatherIndex(b, l, args[0], size);
          SmallVector<Value> at;
          for (int64_t d = 0; d < axis; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          at.push_back(index);
          for (int64_t d = axis + indexRank; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(b, l,
                                  Value(tensor::ExtractOp::create(b, l, input,
                                                                  at)));
        });
    rewriter.replaceOp(op, gather.getResult(0));
    return success();
  }
};

/// The scatter-add of an embedding's gradient: a loop over the gathered
/// rows that adds each [O, I] slice of the gradient into its row of the
/// zero-filled table, in the accumulator type. Rows are visited in order,
/// so repeated indices accumulate deterministically; the slice add is a
/// vectorisable generic, and bufferization updates the table in place
/// (the slice read and written at the same offsets). A loop rather than
/// one generic: every row of the result would otherwise have to scan all
/// K indices (a one-hot matmul, O(V K I) instead of O(K I)).
struct GatherGradLowering : OpConversionPattern<GatherGradOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value grad = adaptor.getGrad(), indices = adaptor.getIndices();
    auto gradType = cast<RankedTensorType>(grad.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!gradType.hasStaticShape())
      return op.emitOpError("needs static shapes");
    int64_t outer = gradType.getDimSize(0), count = gradType.getDimSize(1);
    int64_t inner = gradType.getDimSize(2);
    int64_t rows = resultType.getDimSize(1);
    Type acc = mathType(accumulatorType(op, gradType.getElementType()));
    Value table = zeroAccumulator(
        rewriter, loc, RankedTensorType::get(resultType.getShape(), acc),
        getAsIndexOpFoldResult(op.getContext(), resultType.getShape()));
    auto sliceType = RankedTensorType::get({outer, inner}, acc);
    auto gradSliceType =
        RankedTensorType::get({outer, inner}, gradType.getElementType());
    auto index = [&](OpBuilder &b, int64_t v) {
      return Value(arith::ConstantIndexOp::create(b, loc, v));
    };
    SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(outer),
                                       rewriter.getIndexAttr(1),
                                       rewriter.getIndexAttr(inner)};
    SmallVector<OpFoldResult> unit(3, rewriter.getIndexAttr(1));
    auto loop = scf::ForOp::create(
        rewriter, loc, index(rewriter, 0), index(rewriter, count),
        index(rewriter, 1), ValueRange{table},
        [&](OpBuilder &b, Location l, Value k, ValueRange iter) {
          Value row = gatherIndex(
              b, l, tensor::ExtractOp::create(b, l, indices, ValueRange{k}),
              index(b, rows));
          Value inRange = arith::AndIOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, row,
                                    index(b, 0)),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, row,
                                    index(b, rows)));
          auto added = scf::IfOp::create(
              b, l, inRange,
              [&](OpBuilder &t, Location tl) {
                SmallVector<OpFoldResult> at = {t.getIndexAttr(0), row,
                                                t.getIndexAttr(0)};
                SmallVector<OpFoldResult> from = {t.getIndexAttr(0), k,
                                                  t.getIndexAttr(0)};
                Value current = tensor::ExtractSliceOp::create(
                    t, tl, sliceType, iter[0], at, sizes, unit);
                Value update = tensor::ExtractSliceOp::create(
                    t, tl, gradSliceType, grad, from, sizes, unit);
                AffineMap id = t.getMultiDimIdentityMap(2);
                Value sum =
                    linalg::GenericOp::create(
                        t, tl, TypeRange{sliceType}, ValueRange{update},
                        ValueRange{current}, SmallVector<AffineMap>{id, id},
                        SmallVector<utils::IteratorType>(
                            2, utils::IteratorType::parallel),
                        "", "",
                        [&](OpBuilder &g, Location gl, ValueRange a) {
                          linalg::YieldOp::create(
                              g, gl,
                              Value(arith::AddFOp::create(
                                  g, gl, convertScalar(g, gl, a[0], acc),
                                  a[1])));
                        })
                        .getResult(0);
                scf::YieldOp::create(
                    t, tl,
                    Value(tensor::InsertSliceOp::create(t, tl, sum, iter[0],
                                                        at, sizes, unit)));
              },
              [&](OpBuilder &e, Location el) {
                scf::YieldOp::create(e, el, iter[0]);
              });
          scf::YieldOp::create(b, l, added.getResult(0));
        });
    Value result = roundTo(rewriter, op, loop.getResult(0), resultType);
    if (!result)
      return failure();
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Expand with a static result shape: a broadcasting copy.
struct ExpandLowering : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic result shape");
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getInput()}, resultType, nullptr,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; }));
  }
};

/// Split: one extract_slice per piece.
struct SplitLowering : OpConversionPattern<SplitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += type.getRank();
    SmallVector<Value> pieces;
    int64_t offset = 0;
    for (auto [size, result] : llvm::zip(op.getSizes(), op.getOutputs())) {
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        sizes.push_back(tensor::getMixedSize(rewriter, loc, input, d));
      offsets[axis] = rewriter.getIndexAttr(offset);
      sizes[axis] = rewriter.getIndexAttr(size);
      SmallVector<OpFoldResult> strides(type.getRank(),
                                        rewriter.getIndexAttr(1));
      pieces.push_back(tensor::ExtractSliceOp::create(
          rewriter, loc, cast<RankedTensorType>(result.getType()), input,
          offsets, sizes, strides));
      offset += size;
    }
    rewriter.replaceOp(op, pieces);
    return success();
  }
};

struct ConvertMPCToLinalg
    : mpc::impl::ConvertMPCToLinalgBase<ConvertMPCToLinalg> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect>();
    target.addIllegalDialect<MPCDialect>();
    target.addLegalOp<GetParameterOp, ParameterOp, UnrealizedConversionCastOp>();
    RewritePatternSet patterns(context);
    populateMPCToLinalgConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mpc::populateMPCToLinalgConversionPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  auto unary = [&](auto tag, auto fn) {
    using OpTy = decltype(tag);
    patterns.add<UnaryLowering<OpTy>>(
        context, [fn](OpBuilder &b, Location l, Value x, OpTy op) {
          return fn(b, l, x, op);
        });
  };
  unary(SqrtOp(), [](OpBuilder &b, Location l, Value x, SqrtOp) -> Value {
    return math::SqrtOp::create(b, l, x);
  });
  unary(ExpOp(), [](OpBuilder &b, Location l, Value x, ExpOp) -> Value {
    return math::ExpOp::create(b, l, x);
  });
  unary(LogOp(), [](OpBuilder &b, Location l, Value x, LogOp) -> Value {
    return math::LogOp::create(b, l, x);
  });
  unary(ErfOp(), [](OpBuilder &b, Location l, Value x, ErfOp) -> Value {
    return math::ErfOp::create(b, l, x);
  });
  unary(TanhOp(), [](OpBuilder &b, Location l, Value x, TanhOp) -> Value {
    return math::TanhOp::create(b, l, x);
  });
  unary(ReciprocalOp(),
        [](OpBuilder &b, Location l, Value x, ReciprocalOp) -> Value {
          return arith::DivFOp::create(
              b, l, floatConstant(b, l, x.getType(), 1.0), x);
        });
  unary(SigmoidOp(), [](OpBuilder &b, Location l, Value x, SigmoidOp) -> Value {
    // 1 / (1 + exp(-x))
    Value one = floatConstant(b, l, x.getType(), 1.0);
    Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, x));
    return arith::DivFOp::create(b, l, one, arith::AddFOp::create(b, l, one, e));
  });
  unary(SoftplusOp(),
        [](OpBuilder &b, Location l, Value x, SoftplusOp) -> Value {
          // max(x, 0) + log1p(exp(-|x|)): no overflow for large x.
          Value zero = floatConstant(b, l, x.getType(), 0.0);
          Value e = math::ExpOp::create(
              b, l, arith::NegFOp::create(b, l, math::AbsFOp::create(b, l, x)));
          return arith::AddFOp::create(b, l,
                                       arith::MaximumFOp::create(b, l, x, zero),
                                       math::Log1pOp::create(b, l, e));
        });
  unary(HardSwishOp(),
        [](OpBuilder &b, Location l, Value x, HardSwishOp) -> Value {
          Type t = x.getType();
          Value g = arith::AddFOp::create(
              b, l, arith::MulFOp::create(b, l, x, floatConstant(b, l, t, 1.0 / 6)),
              floatConstant(b, l, t, 0.5));
          g = arith::MinimumFOp::create(
              b, l, arith::MaximumFOp::create(b, l, g, floatConstant(b, l, t, 0.0)),
              floatConstant(b, l, t, 1.0));
          return arith::MulFOp::create(b, l, x, g);
        });
  unary(HardSigmoidOp(),
        [](OpBuilder &b, Location l, Value x, HardSigmoidOp op) -> Value {
          Type t = x.getType();
          Value g = arith::AddFOp::create(
              b, l,
              arith::MulFOp::create(
                  b, l, x,
                  floatConstant(b, l, t, op.getAlpha().convertToDouble())),
              floatConstant(b, l, t, op.getBeta().convertToDouble()));
          return arith::MinimumFOp::create(
              b, l, arith::MaximumFOp::create(b, l, g, floatConstant(b, l, t, 0.0)),
              floatConstant(b, l, t, 1.0));
        });
  unary(LeakyReluOp(),
        [](OpBuilder &b, Location l, Value x, LeakyReluOp op) -> Value {
          Type t = x.getType();
          Value scaled = arith::MulFOp::create(
              b, l, x, floatConstant(b, l, t, op.getAlpha().convertToDouble()));
          Value positive = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OGT, x, floatConstant(b, l, t, 0.0));
          return arith::SelectOp::create(b, l, positive, x, scaled);
        });
  unary(GeluOp(), [](OpBuilder &b, Location l, Value x, GeluOp op) -> Value {
    Type t = x.getType();
    Value half = floatConstant(b, l, t, 0.5);
    Value one = floatConstant(b, l, t, 1.0);
    Value inner;
    if (op.getApproximate() == GeluApproximation::Tanh) {
      // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
      Value x3 = arith::MulFOp::create(b, l, x, arith::MulFOp::create(b, l, x, x));
      Value poly = arith::AddFOp::create(
          b, l, x,
          arith::MulFOp::create(b, l, x3, floatConstant(b, l, t, 0.044715)));
      inner = math::TanhOp::create(
          b, l,
          arith::MulFOp::create(b, l, poly,
                                floatConstant(b, l, t, std::sqrt(2.0 / M_PI))));
    } else {
      inner = math::ErfOp::create(
          b, l, arith::MulFOp::create(b, l, x,
                                      floatConstant(b, l, t, M_SQRT1_2)));
    }
    return arith::MulFOp::create(
        b, l, arith::MulFOp::create(b, l, half, x),
        arith::AddFOp::create(b, l, one, inner));
  });
  patterns.add<BinaryLowering<AddOp, arith::AddFOp, arith::AddIOp>,
               BinaryLowering<SubOp, arith::SubFOp, arith::SubIOp>,
               BinaryLowering<MulOp, arith::MulFOp, arith::MulIOp>,
               BinaryLowering<DivOp, arith::DivFOp, arith::DivSIOp,
                              arith::DivUIOp>,
               BinaryLowering<MaxOp, arith::MaximumFOp, arith::MaxSIOp,
                              arith::MaxUIOp>,
               BinaryLowering<MinOp, arith::MinimumFOp, arith::MinSIOp,
                              arith::MinUIOp>>(context);
  patterns.add<CompareLowering<EqualOp>>(context, arith::CmpFPredicate::OEQ,
                                         arith::CmpIPredicate::eq,
                                         arith::CmpIPredicate::eq);
  patterns.add<CompareLowering<LessOp>>(context, arith::CmpFPredicate::OLT,
                                        arith::CmpIPredicate::slt,
                                        arith::CmpIPredicate::ult);
  patterns.add<CompareLowering<GreaterOp>>(context, arith::CmpFPredicate::OGT,
                                           arith::CmpIPredicate::sgt,
                                           arith::CmpIPredicate::ugt);
  unary(ReluOp(), [](OpBuilder &b, Location l, Value x, ReluOp) -> Value {
    return arith::MaximumFOp::create(b, l, x, floatConstant(b, l, x.getType(), 0.0));
  });
  unary(NegOp(), [](OpBuilder &b, Location l, Value x, NegOp) -> Value {
    return arith::NegFOp::create(b, l, x);
  });
  unary(AbsOp(), [](OpBuilder &b, Location l, Value x, AbsOp) -> Value {
    return math::AbsFOp::create(b, l, x);
  });
  unary(ClipOp(), [](OpBuilder &b, Location l, Value x, ClipOp op) -> Value {
    if (auto min = op.getMin())
      x = arith::MaximumFOp::create(
          b, l, x, floatConstant(b, l, x.getType(), min->convertToDouble()));
    if (auto max = op.getMax())
      x = arith::MinimumFOp::create(
          b, l, x, floatConstant(b, l, x.getType(), max->convertToDouble()));
    return x;
  });
  patterns.add<SoftmaxLowering<SoftmaxOp, false>,
               SoftmaxLowering<LogSoftmaxOp, true>, LayerNormLowering,
               StaticReshapeLowering<ReshapeOp>, StaticReshapeLowering<FlattenOp>,
               StaticReshapeLowering<SqueezeOp>,
               StaticReshapeLowering<UnsqueezeOp>, IdentityLowering,
               DropoutLowering, SliceLowering, PadLowering, ConcatLowering, ConvLowering,
               MaxPoolLowering, AveragePoolLowering, GlobalAveragePoolLowering,
               BatchNormLowering>(
      context);
  patterns
      .add<WhereLowering, ConvertLowering<CastOp>, ConvertLowering<ConvertOp>,
           ConstantLowering, TransposeLowering, MatMulLowering, GemmLowering,
           ReduceLowering<ReduceSumOp>, ReduceLowering<ReduceMeanOp>,
           ReduceLowering<ReduceMaxOp>, NegativeLogLikelihoodLossLowering,
           SoftmaxCrossEntropyLossLowering, GatherLowering, ExpandLowering,
           SplitLowering, PowLowering,
           ClassLossGradLowering<SoftmaxCrossEntropyLossGradOp>,
           ClassLossGradLowering<NegativeLogLikelihoodLossGradOp>,
           GatherGradLowering, MaxPoolGradLowering, SGDUpdateLowering,
           MomentumUpdateLowering, AdamUpdateLowering, UnscaleGradientsLowering,
           UpdateLossScaleLowering>(context);
}

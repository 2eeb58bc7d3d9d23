//===- Elementwise.cpp - elementwise ops to linalg ------------------------===//
//
// Lowering of elementwise ops: unary math, binary arithmetic with ONNX
// broadcasting, comparisons, Where, casts, constants, Pow and Dropout.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

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
          // Integer to bool likewise: nonzero is true (a truncation would
          // keep only the low bit: 2 would be false).
          if (to.isInteger(1) && !from.isInteger(1)) {
            Value x = args[0];
            Type signless = b.getIntegerType(from.getIntOrFloatBitWidth());
            if (x.getType() != signless)
              x = UnrealizedConversionCastOp::create(b, loc, signless, x)
                      .getResult(0);
            return arith::CmpIOp::create(
                b, loc, arith::CmpIPredicate::ne, x,
                arith::ConstantOp::create(b, loc, b.getIntegerAttr(signless, 0)));
          }
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

/// Sign: -1, 0 or 1 (NaN for NaN, as numpy); integers by comparisons.
struct SignLowering : OpConversionPattern<SignOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SignOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = getElementTypeOrSelf(adaptor.getInput());
    if (element.isUnsignedInteger() || element.isSignedInteger())
      return rewriter.notifyMatchFailure(op, "signed/unsigned integers");
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getInput()}, cast<RankedTensorType>(op.getType()),
        mathType(element), [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = args[0];
          Type t = x.getType();
          if (isa<FloatType>(t)) {
            Value zero = floatConstant(b, l, t, 0.0);
            Value positive = arith::SelectOp::create(
                b, l,
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x, zero),
                floatConstant(b, l, t, 1.0), zero);
            Value negative = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OLT, x, zero);
            Value sign = arith::SelectOp::create(
                b, l, negative, floatConstant(b, l, t, -1.0), positive);
            // NaN stays NaN.
            Value isNaN =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
            return arith::SelectOp::create(b, l, isNaN, x, sign);
          }
          auto constant = [&](int64_t v) {
            return Value(arith::ConstantOp::create(b, l, b.getIntegerAttr(t, v)));
          };
          Value positive = arith::SelectOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sgt, x,
                                    constant(0)),
              constant(1), constant(0));
          return arith::SelectOp::create(
              b, l,
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, x,
                                    constant(0)),
              constant(-1), positive);
        }));
  }
};

/// Arith works on signless integers: casts a scalar of a signed/unsigned
/// integer type to signless and back.
static Value toSignless(OpBuilder &b, Location loc, Value v) {
  Type t = v.getType();
  if (!t.isUnsignedInteger() && !t.isSignedInteger())
    return v;
  return UnrealizedConversionCastOp::create(
             b, loc, b.getIntegerType(t.getIntOrFloatBitWidth()), v)
      .getResult(0);
}
static Value fromSignless(OpBuilder &b, Location loc, Value v, Type to) {
  if (v.getType() == to)
    return v;
  return UnrealizedConversionCastOp::create(b, loc, to, v).getResult(0);
}

/// Mod: remf for floats (fmod); for integers remsi/remui, and without
/// fmod the remainder moved to the divisor's sign (Python's %).
struct ModLowering : OpConversionPattern<ModOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ModOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = getElementTypeOrSelf(adaptor.getLhs());
    bool isUnsigned = element.isUnsignedInteger();
    bool fmod = op.getFmod();
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getLhs(), adaptor.getRhs()},
        cast<RankedTensorType>(op.getType()), mathType(element),
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          if (isa<FloatType>(args[0].getType()))
            return arith::RemFOp::create(b, l, args[0], args[1]);
          Value x = toSignless(b, l, args[0]), y = toSignless(b, l, args[1]);
          if (isUnsigned)
            return fromSignless(b, l, arith::RemUIOp::create(b, l, x, y),
                                element);
          Value r = arith::RemSIOp::create(b, l, x, y);
          if (!fmod) {
            Value zero = arith::ConstantOp::create(
                b, l, b.getIntegerAttr(r.getType(), 0));
            Value nonzero =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, r, zero);
            Value signsDiffer = arith::XOrIOp::create(
                b, l,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, r, zero),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, y, zero));
            r = arith::SelectOp::create(
                b, l, arith::AndIOp::create(b, l, nonzero, signsDiffer),
                arith::AddIOp::create(b, l, r, y), r);
          }
          return fromSignless(b, l, r, element);
        }));
  }
};

struct BitShiftLowering : OpConversionPattern<BitShiftOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BitShiftOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type element = getElementTypeOrSelf(adaptor.getLhs());
    bool left = op.getLeft();
    unsigned width = element.getIntOrFloatBitWidth();
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getLhs(), adaptor.getRhs()},
        cast<RankedTensorType>(op.getType()), nullptr,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = toSignless(b, l, args[0]), n = toSignless(b, l, args[1]);
          Value shifted = left ? Value(arith::ShLIOp::create(b, l, x, n))
                               : Value(arith::ShRUIOp::create(b, l, x, n));
          // A shift by the width or more is poison in LLVM; ONNX (and
          // onnxruntime) give 0.
          Value tooFar = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::uge, n,
              arith::ConstantOp::create(b, l, b.getIntegerAttr(n.getType(), width)));
          Value zero =
              arith::ConstantOp::create(b, l, b.getIntegerAttr(x.getType(), 0));
          return fromSignless(b, l,
                              arith::SelectOp::create(b, l, tooFar, zero, shifted),
                              element);
        }));
  }
};

template <typename OpTy, typename ArithOp>
struct LogicalLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getLhs(), adaptor.getRhs()},
        cast<RankedTensorType>(op.getType()), nullptr,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          return ArithOp::create(b, l, args[0], args[1]);
        }));
  }
};

struct NotLowering : OpConversionPattern<NotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getInput()}, cast<RankedTensorType>(op.getType()),
        nullptr, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value one = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          return arith::XOrIOp::create(b, l, args[0], one);
        }));
  }
};

/// IsNaN and IsInf: float classification, in the stored type (exact).
template <typename OpTy>
struct FloatClassLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return replaceWithResult(rewriter, op, buildElementwise(
        rewriter, op, {adaptor.getInput()}, cast<RankedTensorType>(op.getType()),
        nullptr, [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = args[0];
          if constexpr (std::is_same_v<OpTy, IsNaNOp>) {
            return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
          } else {
            double inf = std::numeric_limits<double>::infinity();
            Value result = arith::ConstantOp::create(b, l, b.getBoolAttr(false));
            if (op.getDetectPositive())
              result = arith::OrIOp::create(
                  b, l, result,
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x,
                                        floatConstant(b, l, x.getType(), inf)));
            if (op.getDetectNegative())
              result = arith::OrIOp::create(
                  b, l, result,
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x,
                                        floatConstant(b, l, x.getType(), -inf)));
            return result;
          }
        }));
  }
};

} // namespace

void mpc::populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
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
#define MPC_MATH_UNARY(Op, MathOp)                                             \
  unary(Op(), [](OpBuilder &b, Location l, Value x, Op) -> Value {            \
    return MathOp::create(b, l, x);                                            \
  });
  MPC_MATH_UNARY(SinOp, math::SinOp)
  MPC_MATH_UNARY(CosOp, math::CosOp)
  MPC_MATH_UNARY(TanOp, math::TanOp)
  MPC_MATH_UNARY(AsinOp, math::AsinOp)
  MPC_MATH_UNARY(AcosOp, math::AcosOp)
  MPC_MATH_UNARY(AtanOp, math::AtanOp)
  MPC_MATH_UNARY(SinhOp, math::SinhOp)
  MPC_MATH_UNARY(CoshOp, math::CoshOp)
  MPC_MATH_UNARY(AsinhOp, math::AsinhOp)
  MPC_MATH_UNARY(AcoshOp, math::AcoshOp)
  MPC_MATH_UNARY(AtanhOp, math::AtanhOp)
  MPC_MATH_UNARY(CeilOp, math::CeilOp)
  MPC_MATH_UNARY(FloorOp, math::FloorOp)
  MPC_MATH_UNARY(RoundOp, math::RoundEvenOp)
#undef MPC_MATH_UNARY
  patterns.add<CompareLowering<GreaterOrEqualOp>>(
      context, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
      arith::CmpIPredicate::uge);
  patterns.add<CompareLowering<LessOrEqualOp>>(
      context, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
      arith::CmpIPredicate::ule);
  patterns.add<SignLowering, ModLowering, BitShiftLowering,
               LogicalLowering<AndOp, arith::AndIOp>,
               LogicalLowering<OrOp, arith::OrIOp>,
               LogicalLowering<XorOp, arith::XOrIOp>, NotLowering,
               FloatClassLowering<IsNaNOp>, FloatClassLowering<IsInfOp>>(
      context);
  patterns.add<WhereLowering, ConvertLowering<CastOp>, ConvertLowering<ConvertOp>,
               ConstantLowering, PowLowering, DropoutLowering>(context);
}

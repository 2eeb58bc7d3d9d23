//===- Reduction.cpp - reductions to linalg -------------------------------===//
//
// Lowering of reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin,
// ReduceProd, and the index reductions ArgMax and ArgMin.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

/// ReduceSum / ReduceMean / ReduceProd over `axes`, in the accumulate type;
/// ReduceMax / ReduceMin in the element type (exact).
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
    ReductionKind kind = std::is_same_v<OpTy, ReduceMaxOp>   ? ReductionKind::Max
                         : std::is_same_v<OpTy, ReduceMinOp> ? ReductionKind::Min
                         : std::is_same_v<OpTy, ReduceProdOp>
                             ? ReductionKind::Prod
                             : ReductionKind::Sum;
    bool exact = kind == ReductionKind::Max || kind == ReductionKind::Min;
    Type acc = exact ? inputType.getElementType()
                     : accumulatorType(op, inputType.getElementType());

    SmallVector<int64_t> keptShape, dims;
    for (int64_t i = 0; i < rank; ++i) {
      if (reduced[i])
        dims.push_back(i);
      else
        keptShape.push_back(inputType.getDimSize(i));
    }
    auto accType = RankedTensorType::get(keptShape, acc);
    Value result = reduceDims(rewriter, loc, input, dims, acc, kind);
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

/// ArgMax / ArgMin: one generic reducing `axis` into a (value, index) pair.
/// An element replaces the pair when it is strictly better (or as good,
/// with select_last_index), or when it is the first NaN: NaN wins as in
/// numpy and onnxruntime.
template <typename OpTy>
struct ArgReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, ArgMaxOp>;
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    Type element = inputType.getElementType();
    if (!isa<FloatType>(element) && !element.isSignlessInteger())
      return rewriter.notifyMatchFailure(op, "signed/unsigned integers");
    int64_t rank = inputType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> keptShape;
    SmallVector<bool> reduced(rank, false);
    reduced[axis] = true;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        keptShape.push_back(inputType.getDimSize(i));
    SmallVector<OpFoldResult> keptSizes;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        keptSizes.push_back(tensor::getMixedSize(rewriter, loc, input, i));
    TypedAttr worst;
    if (auto floatType = dyn_cast<FloatType>(element)) {
      worst = rewriter.getFloatAttr(
          floatType, isMax ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity());
    } else {
      unsigned width = element.getIntOrFloatBitWidth();
      worst = rewriter.getIntegerAttr(
          element, isMax ? APInt::getSignedMinValue(width)
                         : APInt::getSignedMaxValue(width));
    }
    Type i64 = rewriter.getI64Type();
    Value bestInit = filledTensor(rewriter, loc, keptSizes, worst);
    Value indexInit =
        filledTensor(rewriter, loc, keptSizes, rewriter.getI64IntegerAttr(0));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap kept = reducedMap(rank, {axis}, op.getContext());
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    bool last = op.getSelectLastIndex();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{bestInit.getType(), indexInit.getType()},
        ValueRange{input}, ValueRange{bestInit, indexInit},
        SmallVector<AffineMap>{id, kept, kept}, iterators, "", "",
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], best = args[1];
          Value index = arith::IndexCastOp::create(
              b, l, i64, linalg::IndexOp::create(b, l, axis));
          Value better;
          if (isa<FloatType>(element)) {
            auto predicate = isMax ? (last ? arith::CmpFPredicate::OGE
                                           : arith::CmpFPredicate::OGT)
                                   : (last ? arith::CmpFPredicate::OLE
                                           : arith::CmpFPredicate::OLT);
            better = arith::CmpFOp::create(b, l, predicate, x, best);
            Value xNaN =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
            Value bestNaN = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::UNO, best, best);
            Value firstNaN = arith::AndIOp::create(
                b, l, xNaN,
                arith::XOrIOp::create(
                    b, l, bestNaN,
                    arith::ConstantOp::create(b, l, b.getBoolAttr(true))));
            better = arith::OrIOp::create(b, l, better, firstNaN);
            // The first element always initialises the pair (all -inf or
            // +inf elements then still give index 0).
          } else {
            auto predicate = isMax ? (last ? arith::CmpIPredicate::sge
                                           : arith::CmpIPredicate::sgt)
                                   : (last ? arith::CmpIPredicate::sle
                                           : arith::CmpIPredicate::slt);
            better = arith::CmpIOp::create(b, l, predicate, x, best);
          }
          Value isFirst = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq, index,
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0)));
          Value take = arith::OrIOp::create(b, l, better, isFirst);
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, take, x, best),
                         arith::SelectOp::create(b, l, take, index, args[2])});
        });
    Value result = generic.getResult(1);
    auto resultType = cast<RankedTensorType>(op.getType());
    if (op.getKeepdims())
      result = tensor::ExpandShapeOp::create(rewriter, loc, resultType, result,
                                             keptDimGroups(reduced));
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// CumSum: a loop along `axis` carrying the running sum of one slice (in
/// the accumulate type), each step writing its slice of the result; the
/// slices are vectorisable elementwise generics.
struct CumSumLowering : OpConversionPattern<CumSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CumSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!inputType.hasStaticShape())
      return op.emitOpError("needs static shapes");
    Type element = inputType.getElementType();
    if (!isa<FloatType>(element) && !element.isSignlessInteger())
      return rewriter.notifyMatchFailure(op, "signed/unsigned integers");
    int64_t rank = inputType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    int64_t length = inputType.getDimSize(axis);
    Type acc = isa<FloatType>(element)
                   ? mathType(accumulatorType(op, element))
                   : element;
    SmallVector<int64_t> sliceShape(inputType.getShape());
    sliceShape[axis] = 1;
    auto accSliceType = RankedTensorType::get(sliceShape, acc);
    auto inSliceType = RankedTensorType::get(sliceShape, element);
    auto outSliceType =
        RankedTensorType::get(sliceShape, resultType.getElementType());
    SmallVector<OpFoldResult> sizes =
        getAsIndexOpFoldResult(op.getContext(), sliceShape);
    SmallVector<OpFoldResult> unit(rank, rewriter.getIndexAttr(1));
    Value running = filledTensor(rewriter, loc, sizes, rewriter.getZeroAttr(acc));
    Value result = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                           resultType.getElementType());
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    SmallVector<utils::IteratorType> parallel(rank,
                                              utils::IteratorType::parallel);
    auto index = [&](OpBuilder &b, Location l, int64_t v) {
      return Value(arith::ConstantIndexOp::create(b, l, v));
    };
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    auto loop = scf::ForOp::create(
        rewriter, loc, index(rewriter, loc, 0), index(rewriter, loc, length),
        index(rewriter, loc, 1), ValueRange{running, result},
        [&](OpBuilder &b, Location l, Value step, ValueRange iter) {
          Value at = reverse ? Value(arith::SubIOp::create(
                                   b, l, index(b, l, length - 1), step))
                             : step;
          SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
          offsets[axis] = at;
          Value slice = tensor::ExtractSliceOp::create(
              b, l, inSliceType, input, offsets, sizes, unit);
          auto add = [&](Value sum) {
            return linalg::GenericOp::create(
                       b, l, TypeRange{accSliceType}, ValueRange{slice},
                       ValueRange{sum}, SmallVector<AffineMap>{id, id},
                       parallel, "", "",
                       [&](OpBuilder &g, Location gl, ValueRange a) {
                         Value x = convertScalar(g, gl, a[0], acc);
                         Value s = isa<FloatType>(acc)
                                       ? Value(arith::AddFOp::create(g, gl, x, a[1]))
                                       : Value(arith::AddIOp::create(g, gl, x, a[1]));
                         linalg::YieldOp::create(g, gl, s);
                       })
                .getResult(0);
          };
          auto round = [&](Value written) {
            return linalg::GenericOp::create(
                  b, l, TypeRange{outSliceType}, ValueRange{written},
                  ValueRange{tensor::EmptyOp::create(
                      b, l, sliceShape, resultType.getElementType())},
                  SmallVector<AffineMap>{id, id}, parallel, "", "",
                  [&](OpBuilder &g, Location gl, ValueRange a) {
                    linalg::YieldOp::create(
                        g, gl, convertScalar(g, gl, a[0],
                                             resultType.getElementType()));
                  })
                  .getResult(0);
          };
          // The exclusive sum is written out before the running sum is
          // updated in place (so the loop-carried buffer stays one buffer).
          Value before = iter[0], updated;
          auto write = [&](Value sum) {
            updated = tensor::InsertSliceOp::create(b, l, round(sum), iter[1],
                                                    offsets, sizes, unit);
          };
          if (exclusive)
            write(before);
          Value after = add(before);
          if (!exclusive)
            write(after);
          scf::YieldOp::create(b, l, ValueRange{after, updated});
        });
    rewriter.replaceOp(op, loop.getResult(1));
    return success();
  }
};

} // namespace

void mpc::populateReductionToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<ReduceLowering<ReduceSumOp>, ReduceLowering<ReduceMeanOp>,
               ReduceLowering<ReduceMaxOp>, ReduceLowering<ReduceMinOp>,
               ReduceLowering<ReduceProdOp>, ArgReduceLowering<ArgMaxOp>,
               ArgReduceLowering<ArgMinOp>, CumSumLowering>(context);
}

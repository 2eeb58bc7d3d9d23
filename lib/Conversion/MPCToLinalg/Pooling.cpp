//===- Pooling.cpp - pooling to linalg ------------------------------------===//
//
// Lowering of pooling: MaxPool (and its gradient), AveragePool,
// GlobalAveragePool.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

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
    Value sum = reduceDims(rewriter, loc, x, dims, acc, ReductionKind::Sum);
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

} // namespace

void mpc::populatePoolingToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<MaxPoolLowering, MaxPoolGradLowering, AveragePoolLowering,
               GlobalAveragePoolLowering>(context);
}

//===- Contraction.cpp - contractions to linalg ---------------------------===//
//
// Lowering of contractions: MatMul, Gemm and Conv, accumulating in the
// precision's accumulate type.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

namespace {

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

} // namespace

void mpc::populateContractionToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<MatMulLowering, GemmLowering, ConvLowering>(context);
}

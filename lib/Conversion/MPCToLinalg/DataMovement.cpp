//===- DataMovement.cpp - data movement to linalg -------------------------===//
//
// Lowering of data movement: transpose, reshapes, slices, concatenation,
// padding, gathers, expand and split.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::lowering;

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

/// An index of GatherElements/ScatterElements as an `index` into a dim of
/// `size`: negative ones counted from the end, then clamped into range so
/// that an invalid index (undefined in ONNX) never reads or writes outside
/// the tensor.
static Value elementIndex(OpBuilder &b, Location loc, Value index, Value size) {
  Value i = gatherIndex(b, loc, index, size);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value maxIndex = arith::SubIOp::create(
      b, loc, size, arith::ConstantIndexOp::create(b, loc, 1));
  return arith::MinSIOp::create(b, loc,
                                arith::MaxSIOp::create(b, loc, i, zero),
                                maxIndex);
}

/// A scattered update combined with the element it lands on, in the
/// element type's math type and rounded once.
static Value combineScattered(OpBuilder &b, Location loc,
                              ScatterReduction reduction, Type element,
                              Value old, Value update) {
  Type math = mathType(element);
  Value x = convertScalar(b, loc, old, math);
  Value u = convertScalar(b, loc, update, math);
  Value value;
  switch (reduction) {
  case ScatterReduction::Add:
    value = arith::AddFOp::create(b, loc, x, u);
    break;
  case ScatterReduction::Mul:
    value = arith::MulFOp::create(b, loc, x, u);
    break;
  case ScatterReduction::Max:
    value = arith::MaximumFOp::create(b, loc, x, u);
    break;
  case ScatterReduction::Min:
    value = arith::MinimumFOp::create(b, loc, x, u);
    break;
  case ScatterReduction::None:
    value = u;
    break;
  }
  return convertScalar(b, loc, value, element);
}

/// A row-major loop nest over the static `shape`, carrying the tensor
/// `init` that each step updates (the scatters' element-by-element form).
static scf::LoopNest buildScatterLoopNest(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Value init,
    function_ref<scf::ValueVector(OpBuilder &, Location, ValueRange,
                                  ValueRange)>
        body) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> lower(shape.size(), zero), steps(shape.size(), one),
      upper;
  for (int64_t size : shape)
    upper.push_back(arith::ConstantIndexOp::create(b, loc, size));
  return scf::buildLoopNest(b, loc, lower, upper, steps, ValueRange{init},
                            body);
}

/// GatherElements: one generic over the indices reads each index and
/// extracts the input element at the same position with `axis` replaced.
struct GatherElementsLowering : OpConversionPattern<GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic result shape");
    int64_t rank = resultType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    auto gather = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{indices},
        ValueRange{init}, SmallVector<AffineMap>{id, id},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        "", "", [&](OpBuilder &b, Location l, ValueRange args) {
          Value size = tensor::DimOp::create(b, l, input, axis);
          SmallVector<Value> at;
          for (int64_t d = 0; d < rank; ++d)
            at.push_back(d == axis ? elementIndex(b, l, args[0], size)
                                   : Value(linalg::IndexOp::create(b, l, d)));
          linalg::YieldOp::create(
              b, l, Value(tensor::ExtractOp::create(b, l, input, at)));
        });
    rewriter.replaceOp(op, gather.getResult(0));
    return success();
  }
};

/// ScatterElements: a loop nest over the indices in row-major order, each
/// step writing (or combining into) one element of the copy of the input,
/// so repeated indices apply in order. Combining reductions work in the
/// element type's math type, rounded once per update.
struct ScatterElementsLowering : OpConversionPattern<ScatterElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScatterElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value indices = adaptor.getIndices(), updates = adaptor.getUpdates();
    auto indicesType = cast<RankedTensorType>(indices.getType());
    if (!indicesType.hasStaticShape())
      return op.emitOpError("needs static shapes");
    Type element = getElementTypeOrSelf(adaptor.getInput());
    ScatterReduction reduction = op.getReduction();
    if (reduction != ScatterReduction::None && !isa<FloatType>(element))
      return rewriter.notifyMatchFailure(op, "integer reductions");
    int64_t rank = indicesType.getRank();
    int64_t axis = static_cast<int64_t>(op.getAxis());
    if (axis < 0)
      axis += rank;
    Value size = tensor::DimOp::create(rewriter, loc, adaptor.getInput(), axis);
    scf::LoopNest nest = buildScatterLoopNest(
        rewriter, loc, indicesType.getShape(), adaptor.getInput(),
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange iter) -> scf::ValueVector {
          Value index = tensor::ExtractOp::create(b, l, indices, ivs);
          Value update = tensor::ExtractOp::create(b, l, updates, ivs);
          SmallVector<Value> at(ivs.begin(), ivs.end());
          at[axis] = elementIndex(b, l, index, size);
          if (reduction != ScatterReduction::None)
            update = combineScattered(b, l, reduction, element,
                                      tensor::ExtractOp::create(b, l, iter[0], at),
                                      update);
          return {tensor::InsertOp::create(b, l, update, iter[0], at)};
        });
    rewriter.replaceOp(op, nest.results.front());
    return success();
  }
};

/// GatherND: one generic over the result; each element reads its index
/// tuple from `indices` and extracts the input element.
struct GatherNDLowering : OpConversionPattern<GatherNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    auto resultType = cast<RankedTensorType>(op.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    if (!resultType.hasStaticShape() || !indicesType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes");
    int64_t rank = resultType.getRank();
    int64_t batch = static_cast<int64_t>(op.getBatchDims());
    int64_t q = indicesType.getRank();
    int64_t k = indicesType.getDimSize(q - 1);
    int64_t inputRank = cast<RankedTensorType>(input.getType()).getRank();
    Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                         resultType.getElementType());
    auto gather = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        "", "", [&](OpBuilder &b, Location l, ValueRange) {
          // Result dims: the indices' leading q - 1, then the slice's.
          SmallVector<Value> tuple;
          for (int64_t d = 0; d < q - 1; ++d)
            tuple.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<Value> at(tuple.begin(), tuple.begin() + batch);
          for (int64_t m = 0; m < k; ++m) {
            SmallVector<Value> where = tuple;
            where.push_back(arith::ConstantIndexOp::create(b, l, m));
            Value size = tensor::DimOp::create(b, l, input, batch + m);
            at.push_back(elementIndex(
                b, l, tensor::ExtractOp::create(b, l, indices, where), size));
          }
          for (int64_t d = batch + k; d < inputRank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, q - 1 + d - batch - k));
          linalg::YieldOp::create(
              b, l, Value(tensor::ExtractOp::create(b, l, input, at)));
        });
    rewriter.replaceOp(op, gather.getResult(0));
    return success();
  }
};

/// ScatterND: a loop nest over the updates in row-major order (index
/// tuples outermost), each step writing or combining one element.
struct ScatterNDLowering : OpConversionPattern<ScatterNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScatterNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices(),
          updates = adaptor.getUpdates();
    auto updatesType = cast<RankedTensorType>(updates.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    if (!updatesType.hasStaticShape() || !indicesType.hasStaticShape())
      return op.emitOpError("needs static shapes");
    Type element = getElementTypeOrSelf(input);
    ScatterReduction reduction = op.getReduction();
    if (reduction != ScatterReduction::None && !isa<FloatType>(element))
      return rewriter.notifyMatchFailure(op, "integer reductions");
    int64_t q = indicesType.getRank();
    int64_t k = indicesType.getDimSize(q - 1);
    scf::LoopNest nest = buildScatterLoopNest(
        rewriter, loc, updatesType.getShape(), input,
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange iter) -> scf::ValueVector {
          SmallVector<Value> tuple(ivs.begin(), ivs.begin() + (q - 1));
          SmallVector<Value> at;
          for (int64_t m = 0; m < k; ++m) {
            SmallVector<Value> where = tuple;
            where.push_back(arith::ConstantIndexOp::create(b, l, m));
            Value size = tensor::DimOp::create(b, l, input, m);
            at.push_back(elementIndex(
                b, l, tensor::ExtractOp::create(b, l, indices, where), size));
          }
          at.append(ivs.begin() + (q - 1), ivs.end());
          Value update = tensor::ExtractOp::create(b, l, updates, ivs);
          if (reduction != ScatterReduction::None)
            update = combineScattered(b, l, reduction, element,
                                      tensor::ExtractOp::create(b, l, iter[0], at),
                                      update);
          return {tensor::InsertOp::create(b, l, update, iter[0], at)};
        });
    rewriter.replaceOp(op, nest.results.front());
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

} // namespace

void mpc::populateDataMovementToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<TransposeLowering, StaticReshapeLowering<ReshapeOp>,
               StaticReshapeLowering<FlattenOp>, StaticReshapeLowering<SqueezeOp>,
               StaticReshapeLowering<UnsqueezeOp>, IdentityLowering,
               SliceLowering, PadLowering, ConcatLowering, GatherLowering,
               GatherGradLowering, ExpandLowering, SplitLowering,
               GatherElementsLowering, ScatterElementsLowering,
               GatherNDLowering, ScatterNDLowering>(context);
}

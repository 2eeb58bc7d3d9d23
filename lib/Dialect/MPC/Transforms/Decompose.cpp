//===- Decompose.cpp - ops as compositions of better-supported ops --------===//
//
// Rewrites ops whose forms have no lowering or gradient of their own into
// ops that have both, before the training program and the precision
// decisions see them:
//  - 1-d Conv, ConvTranspose, MaxPool and AveragePool become their 2-d
//    forms over a unit height (what PyTorch's cuDNN path does too), so one
//    im2col lowering and one set of gradient rules serve both; a 3-d Conv
//    becomes one 2-d convolution over gathered depth windows;
//  - 3-d MaxPool and AveragePool become a 2-d pooling over each depth
//    plane and one over the depth (box windows are separable);
//  - ConvTranspose (1-d to 3-d) becomes the convolution it is the
//    transpose of (buildTransposedConv, shared with the convolution's
//    input gradient), so its forward pass and both its gradients are
//    convolutions (a 3-d one a 3-d convolution, made 2-d as above);
//  - Resize becomes, per resized axis, gathers of the 1, 2 or 4 source
//    elements each output reads (nearest, linear, cubic: all separable)
//    weighted by constant coefficients; its gradient is then the
//    gathers' scatter-add, in fp32, with no dense interpolation matrix;
//  - Tile becomes a broadcast over inserted unit dims and a reshape;
//  - MatMul's 1-d operands become one-row or one-column matrices.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCDECOMPOSE
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

//===----------------------------------------------------------------------===//
// 1-d windows as 2-d ones
//===----------------------------------------------------------------------===//

/// A 1-d windowed op (input [N, C, W]) rewritten as its 2-d form over
/// [N, C, 1, W]: `liftedOperands` are unsqueezed at dim 2 (the input, and
/// the weight of a convolution), the window attributes get a leading unit
/// entry, and the result is squeezed back.
template <typename OpTy>
struct LiftOneDimWindow : OpRewritePattern<OpTy> {
  LiftOneDimWindow(MLIRContext *context, unsigned numLiftedOperands)
      : OpRewritePattern<OpTy>(context),
        numLiftedOperands(numLiftedOperands) {}

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (tensorTypeOf(op->getOperand(0)).getRank() != 3)
      return rewriter.notifyMatchFailure(op, "not 1-d");
    Location loc = op.getLoc();
    NamedAttrList attrs(op->getAttrDictionary());
    auto prepend = [&](StringRef name, int64_t unit) {
      if (auto array = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(name))) {
        SmallVector<int64_t> values = {unit};
        llvm::append_range(values, array.asArrayRef());
        attrs.set(name, rewriter.getDenseI64ArrayAttr(values));
      }
    };
    for (StringRef name : {"kernel_shape", "strides", "dilations"})
      prepend(name, 1);
    prepend("output_padding", 0);
    if (auto pads = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("pads"))) {
      if (pads.size() != 2)
        return rewriter.notifyMatchFailure(op, "pads of another rank");
      attrs.set("pads", rewriter.getDenseI64ArrayAttr(
                            {0, pads[0], 0, pads[1]}));
    }
    SmallVector<Value> operands(op->getOperands());
    for (unsigned i = 0; i < numLiftedOperands; ++i)
      operands[i] = UnsqueezeOp::create(rewriter, loc, operands[i],
                                        ArrayRef<int64_t>{2});
    auto lifted = OpTy::create(rewriter, loc, operands, attrs.getAttrs());
    rewriter.replaceOpWithNewOp<SqueezeOp>(op, lifted->getResult(0),
                                           ArrayRef<int64_t>{2});
    return success();
  }

  unsigned numLiftedOperands;
};

//===----------------------------------------------------------------------===//
// 3-d pooling as two 2-d ones
//===----------------------------------------------------------------------===//

/// A 3-d max or average pooling of [N, C, D, H, W] as a 2-d pooling over
/// (H, W) of [N, C*D, H, W], then one over (D, unit) of
/// [N, C, D, OH*OW]. A box window is the product of its per-axis windows,
/// so the maximum is the maximum of the per-plane maxima, and the mean
/// the mean of the per-plane means with the divisor (window or valid
/// count, ceil_mode's clipped windows included) the product of the
/// per-axis ones. Each max stage keeps its window's first maximum, so a
/// tie goes to the lowest depth and, in it, the first (h, w): the
/// element PyTorch's 3-d scan picks.
template <typename OpTy>
struct Pool3dAsPool2d : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto inputType = tensorTypeOf(op.getInput());
    auto resultType = tensorTypeOf(op.getOutput());
    if (inputType.getRank() != 5)
      return rewriter.notifyMatchFailure(op, "not 3-d");
    if (!inputType.hasStaticShape() || !resultType.hasStaticShape() ||
        op.getAutoPad() != AutoPad::NotSet)
      return rewriter.notifyMatchFailure(op, "dynamic shapes or auto_pad");
    Location loc = op.getLoc();
    ArrayRef<int64_t> x = inputType.getShape(), y = resultType.getShape();
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      pads = op.getPads();
    // Each stage is the op itself with 2-d window attributes; the others
    // (ceil_mode, count_include_pad, precision) carry over.
    auto pool = [&](Value input, ArrayRef<int64_t> windowKernel,
                    ArrayRef<int64_t> windowStrides,
                    ArrayRef<int64_t> windowPads,
                    ArrayRef<int64_t> windowDilations) {
      NamedAttrList attrs(op->getAttrDictionary());
      attrs.set("kernel_shape", rewriter.getDenseI64ArrayAttr(windowKernel));
      attrs.set("strides", rewriter.getDenseI64ArrayAttr(windowStrides));
      attrs.set("pads", rewriter.getDenseI64ArrayAttr(windowPads));
      if (attrs.get("dilations"))
        attrs.set("dilations", rewriter.getDenseI64ArrayAttr(windowDilations));
      return OpTy::create(rewriter, loc, ValueRange{input}, attrs.getAttrs())
          ->getResult(0);
    };
    SmallVector<int64_t> dilations = {1, 1, 1};
    if (auto attr = op->template getAttrOfType<DenseI64ArrayAttr>("dilations"))
      dilations.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    Value planes = pool(reshapeTo(rewriter, loc, op.getInput(),
                                  {x[0], x[1] * x[2], x[3], x[4]}),
                        {kernel[1], kernel[2]}, {strides[1], strides[2]},
                        {pads[1], pads[2], pads[4], pads[5]},
                        {dilations[1], dilations[2]});
    Value depth =
        pool(reshapeTo(rewriter, loc, planes, {x[0], x[1], x[2], y[3] * y[4]}),
             {kernel[0], 1}, {strides[0], 1}, {pads[0], 0, pads[3], 0},
             {dilations[0], 1});
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, depth, y));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// 3-d convolutions as 2-d ones
//===----------------------------------------------------------------------===//

/// A 3-d convolution as one 2-d convolution: the depth windows of the
/// (depth-padded) input are gathered, [N, OD, KD, G, C/G, H, W], the
/// output depth folded into the batch and the depth taps into each
/// group's channels, [N*OD, G*KD*C/G, H, W]; the weight
/// [F, C/G, KD, KH, KW] becomes [F, KD*C/G, KH, KW] to match. One im2col
/// matmul with K = KD*C/G*KH*KW, as the 3-d one would be, and gradients
/// from the 2-d rules and the gather's scatter-add.
struct Conv3dAsConv2d : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    auto inputType = tensorTypeOf(op.getInput());
    auto weightType = tensorTypeOf(op.getWeight());
    auto resultType = tensorTypeOf(op.getOutput());
    if (inputType.getRank() != 5)
      return rewriter.notifyMatchFailure(op, "not 3-d");
    if (!inputType.hasStaticShape() || !weightType.hasStaticShape() ||
        !resultType.hasStaticShape() || op.getAutoPad() != AutoPad::NotSet)
      return rewriter.notifyMatchFailure(op, "dynamic shapes or auto_pad");
    Location loc = op.getLoc();
    ArrayRef<int64_t> x = inputType.getShape(), w = weightType.getShape();
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();
    int64_t n = x[0], c = x[1], d = x[2], h = x[3], wd = x[4];
    int64_t f = w[0], cg = w[1], kd = w[2];
    int64_t g = op.getGroup();
    int64_t od = resultType.getDimSize(2);
    Value input = op.getInput();
    if (pads[0] != 0 || pads[3] != 0) {
      input = PadOp::create(rewriter, loc, input,
                            ArrayRef<int64_t>{0, 0, pads[0], 0, 0, 0, 0,
                                              pads[3], 0, 0},
                            PadMode::Constant, llvm::APFloat(0.0), nullptr);
      d += pads[0] + pads[3];
    }
    // [N, C, D', H, W] -> [N, D', G, C/G, H, W], then window (o, k) of
    // the depth reads o * stride + k * dilation.
    Value depthMajor =
        reshapeTo(rewriter, loc,
                  TransposeOp::create(rewriter, loc, input,
                                      ArrayRef<int64_t>{0, 2, 1, 3, 4}),
                  {n, d, g, c / g, h, wd});
    SmallVector<int64_t> windows;
    for (int64_t o = 0; o < od; ++o)
      for (int64_t k = 0; k < kd; ++k)
        windows.push_back(o * strides[0] + k * dilations[0]);
    Value indices = ConstantOp::create(
        rewriter, loc,
        DenseIntElementsAttr::get(
            RankedTensorType::get({od, kd}, rewriter.getI64Type()), windows));
    Value gathered = GatherOp::create(rewriter, loc, depthMajor, indices, 1);
    Value columns =
        reshapeTo(rewriter, loc,
                  TransposeOp::create(rewriter, loc, gathered,
                                      ArrayRef<int64_t>{0, 1, 3, 2, 4, 5, 6}),
                  {n * od, g * kd * (c / g), h, wd});
    Value weight =
        reshapeTo(rewriter, loc,
                  TransposeOp::create(rewriter, loc, op.getWeight(),
                                      ArrayRef<int64_t>{0, 2, 1, 3, 4}),
                  {f, kd * cg, w[3], w[4]});
    Value conv = ConvOp::create(
        rewriter, loc, columns, weight, op.getBias(),
        ArrayRef<int64_t>{w[3], w[4]},
        ArrayRef<int64_t>{strides[1], strides[2]},
        ArrayRef<int64_t>{pads[1], pads[2], pads[4], pads[5]},
        ArrayRef<int64_t>{dilations[1], dilations[2]}, g, AutoPad::NotSet,
        nullptr);
    auto convType = tensorTypeOf(conv);
    Value unfolded =
        reshapeTo(rewriter, loc, conv,
                  {n, od, f, convType.getDimSize(2), convType.getDimSize(3)});
    rewriter.replaceOpWithNewOp<TransposeOp>(op, unfolded,
                                             ArrayRef<int64_t>{0, 2, 1, 3, 4});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// ConvTranspose as a convolution
//===----------------------------------------------------------------------===//

struct ConvTransposeAsConv : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvTransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inputType = tensorTypeOf(op.getInput());
    auto resultType = tensorTypeOf(op.getOutput());
    // 3-d: a 3-d convolution, which Conv3dAsConv2d then makes 2-d.
    if (inputType.getRank() != 4 && inputType.getRank() != 5)
      return rewriter.notifyMatchFailure(op, "not 2-d or 3-d");
    if (!tensorTypeOf(op.getWeight()).hasStaticShape() ||
        ShapedType::isDynamicShape(inputType.getShape().drop_front(2)) ||
        ShapedType::isDynamicShape(resultType.getShape().drop_front(2)))
      return rewriter.notifyMatchFailure(op, "dynamic spatial dims or weight");
    // ONNX: output o reads the full transposed convolution at o + pad
    // begin; output_padding only lengthens the output (zeros plus bias).
    SmallVector<int64_t> outSize(resultType.getShape().drop_front(2));
    Value result = buildTransposedConv(
        rewriter, op.getLoc(), op.getInput(), op.getWeight(), op.getBias(),
        op.getGroup(), op.getStrides(), op.getDilations(),
        op.getPads().take_front(outSize.size()), outSize);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Resize as per-axis gathers
//===----------------------------------------------------------------------===//

/// The source elements and weights of each output position along one
/// axis: `indices[t][o]` and `weights[t][o]` for tap t.
struct AxisTaps {
  SmallVector<SmallVector<int64_t>> indices;
  SmallVector<SmallVector<double>> weights;

  bool isIdentity() const {
    if (indices.size() != 1)
      return false;
    for (auto [o, i] : llvm::enumerate(indices[0]))
      if ((int64_t)o != i)
        return false;
    return true;
  }
};

/// ONNX's coordinate transform: where output position `o` reads.
double sourceCoordinate(ResizeOp op, int64_t o, int64_t in, int64_t out,
                        double scale) {
  switch (op.getCoordinateTransform()) {
  case CoordinateTransform::HalfPixel:
    return (o + 0.5) / scale - 0.5;
  case CoordinateTransform::PytorchHalfPixel:
    return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  case CoordinateTransform::AlignCorners: {
    // The resized length is in * scale, unrounded (ONNX's reference: a
    // 0.6 downsample of 4 elements maps with length 2.4, not 2).
    double length = in * scale;
    return out == 1 ? 0.0 : o * double(in - 1) / (length - 1);
  }
  case CoordinateTransform::Asymmetric:
  case CoordinateTransform::TfCropAndResize:
    return o / scale;
  }
  llvm_unreachable("unknown coordinate transform");
}

int64_t roundNearest(NearestMode mode, double x) {
  double lower = std::floor(x);
  bool half = x - lower == 0.5;
  switch (mode) {
  case NearestMode::RoundPreferFloor:
    return half ? lower : std::floor(x + 0.5);
  case NearestMode::RoundPreferCeil:
    return std::floor(x + 0.5); // a half rounds up already
  case NearestMode::Floor:
    return lower;
  case NearestMode::Ceil:
    return std::ceil(x);
  }
  llvm_unreachable("unknown nearest mode");
}

/// ONNX's reference Resize along one axis: out-of-range neighbours read
/// the edge element, or (cubic with exclude_outside) drop out with the
/// remaining coefficients renormalised.
AxisTaps axisTaps(ResizeOp op, int64_t in, int64_t out, double scale) {
  AxisTaps taps;
  unsigned count = op.getMode() == ResizeMode::Nearest  ? 1
                   : op.getMode() == ResizeMode::Linear ? 2
                                                        : 4;
  taps.indices.assign(count, SmallVector<int64_t>(out));
  taps.weights.assign(count, SmallVector<double>(out));
  double a = op.getCubicCoeffA().convertToDouble();
  auto clampIndex = [&](int64_t i) {
    return std::clamp<int64_t>(i, 0, in - 1);
  };
  for (int64_t o = 0; o < out; ++o) {
    double x = sourceCoordinate(op, o, in, out, scale);
    if (count == 1) {
      taps.indices[0][o] = clampIndex(roundNearest(op.getNearestMode(), x));
      taps.weights[0][o] = 1.0;
      continue;
    }
    int64_t base = std::floor(x);
    double r = x - base;
    SmallVector<double> coefficients;
    SmallVector<int64_t> neighbours;
    if (count == 2) {
      coefficients = {1.0 - r, r};
      neighbours = {base, base + 1};
    } else {
      // Keys' cubic convolution kernel with coefficient A, as ONNX.
      auto far = [&](double d) {
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
      };
      auto near = [&](double d) {
        return ((a + 2) * d - (a + 3)) * d * d + 1;
      };
      coefficients = {far(r + 1), near(r), near(1 - r), far(2 - r)};
      neighbours = {base - 1, base, base + 1, base + 2};
    }
    if (op.getExcludeOutside()) {
      double kept = 0;
      for (auto [i, c] : llvm::zip(neighbours, coefficients))
        if (i < 0 || i >= in)
          c = 0;
        else
          kept += c;
      for (double &c : coefficients)
        c /= kept;
    }
    for (unsigned t = 0; t < count; ++t) {
      taps.indices[t][o] = clampIndex(neighbours[t]);
      taps.weights[t][o] = coefficients[t];
    }
  }
  return taps;
}

struct ResizeAsGathers : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ResizeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getCoordinateTransform() == CoordinateTransform::TfCropAndResize)
      return rewriter.notifyMatchFailure(op, "tf_crop_and_resize");
    Location loc = op.getLoc();
    auto inputType = tensorTypeOf(op.getInput());
    auto resultType = tensorTypeOf(op.getOutput());
    int64_t rank = inputType.getRank();
    Type element = inputType.getElementType();
    ArrayRef<float> scales = op.getScales();
    // An axis of scale 1 that keeps its size is the identity under every
    // coordinate transform; every other axis needs static sizes.
    auto unchanged = [&](int64_t axis) {
      return scales[axis] == 1.0f &&
             inputType.getDimSize(axis) == resultType.getDimSize(axis);
    };
    for (int64_t axis = 0; axis < rank; ++axis)
      if (!unchanged(axis) && (inputType.isDynamicDim(axis) ||
                               resultType.isDynamicDim(axis)))
        return rewriter.notifyMatchFailure(op, "dynamic resized dim");
    Value value = op.getInput();
    for (int64_t axis = 0; axis < rank; ++axis) {
      if (unchanged(axis))
        continue;
      int64_t in = inputType.getDimSize(axis);
      int64_t out = resultType.getDimSize(axis);
      AxisTaps taps = axisTaps(op, in, out, scales[axis]);
      if (taps.isIdentity() && in == out)
        continue;
      // The weights broadcast along the trailing dims: [out, 1, ..., 1].
      SmallVector<int64_t> weightShape(rank - axis, 1);
      weightShape[0] = out;
      auto weightType = RankedTensorType::get(weightShape, element);
      Value sum;
      for (auto [indices, weights] : llvm::zip(taps.indices, taps.weights)) {
        Value gathered = GatherOp::create(
            rewriter, loc, value, shapeConstant(rewriter, loc, indices), axis);
        if (taps.indices.size() > 1) {
          SmallVector<Attribute> coefficients;
          for (double w : weights)
            coefficients.push_back(rewriter.getFloatAttr(element, w));
          Value weight = ConstantOp::create(
              rewriter, loc, DenseElementsAttr::get(weightType, coefficients));
          gathered = MulOp::create(rewriter, loc, gathered, weight, nullptr);
          sum = sum ? AddOp::create(rewriter, loc, sum, gathered, nullptr)
                          .getResult()
                    : gathered;
        } else {
          sum = gathered;
        }
      }
      value = sum;
    }
    rewriter.replaceOp(op, value);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Vectors in matrix products as matrices
//===----------------------------------------------------------------------===//

/// MatMul with a 1-d operand, as numpy defines it: a 1-d lhs is a matrix
/// of one row, a 1-d rhs one of one column, and that unit dim is dropped
/// from the product; the matrix product's lowering and gradient serve.
struct MatMulVectorAsMatrix : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Value lhs = op.getLhs(), rhs = op.getRhs();
    bool lhsVector = tensorTypeOf(lhs).getRank() == 1;
    bool rhsVector = tensorTypeOf(rhs).getRank() == 1;
    if (!lhsVector && !rhsVector)
      return rewriter.notifyMatchFailure(op, "no 1-d operand");
    Location loc = op.getLoc();
    if (lhsVector)
      lhs = UnsqueezeOp::create(rewriter, loc, lhs, ArrayRef<int64_t>{0});
    if (rhsVector)
      rhs = UnsqueezeOp::create(rewriter, loc, rhs, ArrayRef<int64_t>{1});
    Value product = MatMulOp::create(rewriter, loc, lhs, rhs,
                                     op.getPrecisionAttr());
    int64_t rank = tensorTypeOf(product).getRank();
    SmallVector<int64_t> unitDims;
    if (lhsVector)
      unitDims.push_back(rank - 2);
    if (rhsVector)
      unitDims.push_back(rank - 1);
    rewriter.replaceOpWithNewOp<SqueezeOp>(op, product, unitDims);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Tile as a broadcast
//===----------------------------------------------------------------------===//

/// Tile of [d_0, ..., d_{r-1}] by repeats k: a unit dim is inserted
/// before each repeated dim, broadcast to k_i ([.., k_i, d_i, ..]), and
/// each pair merged by a reshape ([.., k_i d_i, ..]): row-major, copy j of
/// dim i is then elements j d_i .. (j+1) d_i - 1, which is Tile. The
/// gradient is the broadcast's, a sum over the copies.
struct TileAsExpand : OpRewritePattern<TileOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TileOp op,
                                PatternRewriter &rewriter) const override {
    Value input = op.getInput();
    if (llvm::all_of(op.getRepeats(), [](int64_t k) { return k == 1; })) {
      rewriter.replaceOp(op, input);
      return success();
    }
    auto inputType = tensorTypeOf(input);
    if (!inputType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    Location loc = op.getLoc();
    SmallVector<int64_t> unitAxes, broadcastShape;
    for (auto [i, repeat] : llvm::enumerate(op.getRepeats())) {
      if (repeat != 1) {
        unitAxes.push_back(broadcastShape.size());
        broadcastShape.push_back(repeat);
      }
      broadcastShape.push_back(inputType.getDimSize(i));
    }
    Value lifted = UnsqueezeOp::create(rewriter, loc, input, unitAxes);
    Value broadcast = ExpandOp::create(
        rewriter, loc, lifted, shapeConstant(rewriter, loc, broadcastShape));
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, broadcast,
                                     tensorTypeOf(op.getOutput())));
    return success();
  }
};

struct MPCDecomposePass : mpc::impl::MPCDecomposeBase<MPCDecomposePass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<LiftOneDimWindow<ConvOp>, LiftOneDimWindow<ConvTransposeOp>>(
        context, /*numLiftedOperands=*/2);
    patterns.add<LiftOneDimWindow<MaxPoolOp>, LiftOneDimWindow<AveragePoolOp>>(
        context, /*numLiftedOperands=*/1);
    patterns.add<Conv3dAsConv2d, ConvTransposeAsConv, ResizeAsGathers,
                 TileAsExpand, MatMulVectorAsMatrix, Pool3dAsPool2d<MaxPoolOp>,
                 Pool3dAsPool2d<AveragePoolOp>>(context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // What is left has no lowering: say which form, naming the node.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (auto convTranspose = dyn_cast<ConvTransposeOp>(op))
        return convTranspose.emitOpError(
                   "is supported with 1 to 3 spatial dims and static "
                   "shapes; this one has input ")
                   << convTranspose.getInput().getType(),
               WalkResult::interrupt();
      if (auto resize = dyn_cast<ResizeOp>(op))
        return resize.emitOpError(
                   "is supported with static resized dims and a coordinate "
                   "transform other than tf_crop_and_resize; this one maps ")
                   << resize.getInput().getType() << " to "
                   << resize.getOutput().getType(),
               WalkResult::interrupt();
      if (auto tile = dyn_cast<TileOp>(op))
        return tile.emitOpError("is supported with a static input shape; "
                                "this one has input ")
                   << tile.getInput().getType(),
               WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

//===- MPCGradients.cpp - vector-Jacobian products of mpc ops -------------===//
//
// One rule per op (GradientOpInterface). Rules build mpc ops, so the
// backward program goes through the same precision decisions, casts and
// lowering as the forward one. Shapes in training programs are static
// (the driver pins them), so reshapes back to an operand's shape use
// constant shapes.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::mpc;

namespace {

RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Sums a gradient shaped like a broadcast result down to the shape of the
/// operand that was broadcast (ONNX rules: leading dims added, size-1 dims
/// stretched).
Value unbroadcast(OpBuilder &b, Location loc, Value grad,
                  RankedTensorType operandType) {
  auto gradType = tensorTypeOf(grad);
  if (gradType.getShape() == operandType.getShape())
    return grad;
  int64_t offset = gradType.getRank() - operandType.getRank();
  SmallVector<int64_t> axes;
  for (int64_t d = 0; d < gradType.getRank(); ++d)
    if (d < offset || (operandType.getDimSize(d - offset) == 1 &&
                       gradType.getDimSize(d) != 1))
      axes.push_back(d);
  Value sum = ReduceSumOp::create(b, loc, grad, axes, /*keepdims=*/true,
                                  /*precision=*/nullptr);
  return reshapeTo(b, loc, sum, operandType);
}

/// Fails when the training program would need a gradient of a tensor with
/// dynamic dims (the rules reshape with constant shapes).
LogicalResult requireStatic(Operation *op) {
  for (Type type : op->getOperandTypes())
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && !tensor.hasStaticShape())
      return op->emitOpError("gradient needs static shapes (pin them with "
                             "--input-shape); operand type ")
             << type;
  return success();
}

/// The windowed ops' rules (convolution, pooling) cover 2 spatial dims
/// with explicit pads; other forms are errors naming `what` and the form.
static LogicalResult requireExplicit2d(Operation *op, Value input,
                                       AutoPad autoPad, StringRef what) {
  if (failed(requireStatic(op)))
    return failure();
  int64_t rank = tensorTypeOf(input).getRank();
  if (rank != 4)
    return op->emitOpError("gradient of ")
           << what << " with " << rank - 2
           << " spatial dims is not implemented (2-d only)";
  if (autoPad != AutoPad::NotSet)
    return op->emitOpError("gradient of ")
           << what << " with auto_pad is not implemented (explicit pads only)";
  return success();
}

SmallVector<int64_t> invertPermutation(ArrayRef<int64_t> perm) {
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  return inverse;
}

/// Swaps the last two dims.
Value transposeLast2(OpBuilder &b, Location loc, Value value) {
  int64_t rank = tensorTypeOf(value).getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return TransposeOp::create(b, loc, value, perm);
}

} // namespace

Value mpc::shapeConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
  return ConstantOp::create(b, loc, DenseIntElementsAttr::get(type, shape));
}

Value mpc::reshapeTo(OpBuilder &b, Location loc, Value value,
                     RankedTensorType type) {
  return reshapeTo(b, loc, value, type.getShape());
}

Value mpc::reshapeTo(OpBuilder &b, Location loc, Value value,
                     ArrayRef<int64_t> shape) {
  if (tensorTypeOf(value).getShape() == shape)
    return value;
  return ReshapeOp::create(b, loc, value, shapeConstant(b, loc, shape));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(unbroadcast(b, getLoc(), grads[0], tensorTypeOf(getLhs())));
  out.push_back(unbroadcast(b, getLoc(), grads[0], tensorTypeOf(getRhs())));
  return success();
}

LogicalResult SubOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  out.push_back(unbroadcast(b, loc, grads[0], tensorTypeOf(getLhs())));
  out.push_back(unbroadcast(b, loc, NegOp::create(b, loc, grads[0], nullptr),
                            tensorTypeOf(getRhs())));
  return success();
}

LogicalResult MulOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  Value g = grads[0];
  out.push_back(unbroadcast(b, loc, MulOp::create(b, loc, g, getRhs(), nullptr),
                            tensorTypeOf(getLhs())));
  out.push_back(unbroadcast(b, loc, MulOp::create(b, loc, g, getLhs(), nullptr),
                            tensorTypeOf(getRhs())));
  return success();
}

LogicalResult DivOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  Value g = grads[0];
  // d(l/r) = g/r, -g * l / r^2 = -g * out / r.
  out.push_back(unbroadcast(b, loc, DivOp::create(b, loc, g, getRhs(), nullptr),
                            tensorTypeOf(getLhs())));
  Value ratio = DivOp::create(b, loc, getOutput(), getRhs(), nullptr);
  Value dr = NegOp::create(b, loc, MulOp::create(b, loc, g, ratio, nullptr),
                           nullptr);
  out.push_back(unbroadcast(b, loc, dr, tensorTypeOf(getRhs())));
  return success();
}

LogicalResult NegOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(NegOp::create(b, getLoc(), grads[0], nullptr));
  return success();
}

LogicalResult ReluOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // Where the input is positive the gradient passes; at 0 it is 0, as in
  // PyTorch.
  Location loc = getLoc();
  Type element = getElementTypeOrSelf(getInput());
  Value zero = createScalarConstant(b, loc, element, 0.0);
  Value positive = GreaterOp::create(b, loc, getInput(), zero);
  Value zeroGrad = createScalarConstant(b, loc, getElementTypeOrSelf(grads[0]), 0.0);
  out.push_back(WhereOp::create(b, loc, positive, grads[0], zeroGrad));
  return success();
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  // g * y * (1 - y)
  Location loc = getLoc();
  Value y = getOutput();
  Value one = createScalarConstant(b, loc, getElementTypeOrSelf(y), 1.0);
  Value slope = MulOp::create(b, loc, y, SubOp::create(b, loc, one, y, nullptr),
                              nullptr);
  out.push_back(MulOp::create(b, loc, grads[0], slope, nullptr));
  return success();
}

LogicalResult TanhOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // g * (1 - y^2)
  Location loc = getLoc();
  Value y = getOutput();
  Value one = createScalarConstant(b, loc, getElementTypeOrSelf(y), 1.0);
  Value slope = SubOp::create(b, loc, one,
                              MulOp::create(b, loc, y, y, nullptr), nullptr);
  out.push_back(MulOp::create(b, loc, grads[0], slope, nullptr));
  return success();
}

LogicalResult ExpOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(MulOp::create(b, getLoc(), grads[0], getOutput(), nullptr));
  return success();
}

LogicalResult LogOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(DivOp::create(b, getLoc(), grads[0], getInput(), nullptr));
  return success();
}

LogicalResult SqrtOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // g / (2 y)
  Location loc = getLoc();
  Value two = createScalarConstant(b, loc, getElementTypeOrSelf(getOutput()), 2.0);
  out.push_back(DivOp::create(
      b, loc, grads[0], MulOp::create(b, loc, two, getOutput(), nullptr),
      nullptr));
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

/// The gradients of `lhs @ rhs`, both of rank 2 or more, given the
/// result's gradient `g`: dA = G B^T and dB = A^T G, each summed over the
/// batch dims its operand was broadcast along.
static void buildMatMulGradients(OpBuilder &b, Location loc, Value g,
                                 Value lhs, Value rhs,
                                 SmallVectorImpl<Value> &out) {
  auto lhsType = tensorTypeOf(lhs), rhsType = tensorTypeOf(rhs);
  Value dLhs = MatMulOp::create(b, loc, g, transposeLast2(b, loc, rhs), nullptr);
  out.push_back(unbroadcast(b, loc, dLhs, lhsType));
  if (rhsType.getRank() == 2 && lhsType.getRank() > 2) {
    // [.., M, K] x [K, N]: fold the leading dims into rows, dB = A^T G.
    int64_t k = lhsType.getShape().back();
    int64_t n = rhsType.getShape().back();
    int64_t rows = lhsType.getNumElements() / k;
    auto a2 = RankedTensorType::get({rows, k}, lhsType.getElementType());
    auto g2 = RankedTensorType::get({rows, n}, tensorTypeOf(g).getElementType());
    out.push_back(MatMulOp::create(
        b, loc, TransposeOp::create(b, loc, reshapeTo(b, loc, lhs, a2),
                                    ArrayRef<int64_t>{1, 0}),
        reshapeTo(b, loc, g, g2), nullptr));
    return;
  }
  Value dRhs = MatMulOp::create(b, loc, transposeLast2(b, loc, lhs), g, nullptr);
  out.push_back(unbroadcast(b, loc, dRhs, rhsType));
}

LogicalResult MatMulOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // 1-d operands are made matrices by mpc-decompose.
  if (tensorTypeOf(getLhs()).getRank() < 2 ||
      tensorTypeOf(getRhs()).getRank() < 2)
    return emitOpError("gradient of a matmul with a 1-d operand is not "
                       "implemented (mpc-decompose makes it a matrix)");
  buildMatMulGradients(b, getLoc(), grads[0], getLhs(), getRhs(), out);
  return success();
}

/// The spatial dims (2 and on) of an [N, C, spatial...] tensor reversed:
/// the kernel of the input gradient's correlation.
static Value flipSpatial(OpBuilder &b, Location loc, Value value) {
  int64_t rank = tensorTypeOf(value).getRank();
  for (int64_t axis = 2; axis < rank; ++axis) {
    int64_t size = tensorTypeOf(value).getDimSize(axis);
    SmallVector<int64_t> reversed;
    for (int64_t i = size - 1; i >= 0; --i)
      reversed.push_back(i);
    value = GatherOp::create(b, loc, value, shapeConstant(b, loc, reversed),
                             axis);
  }
  return value;
}

/// The spatial dims (2 and on) of `value` sliced to [starts, starts + sizes).
static Value cropSpatial(OpBuilder &b, Location loc, Value value,
                         ArrayRef<int64_t> starts, ArrayRef<int64_t> sizes) {
  auto type = tensorTypeOf(value);
  SmallVector<int64_t> ends, axes, steps;
  bool whole = true;
  for (auto [i, start] : llvm::enumerate(starts)) {
    whole &= start == 0 && type.getDimSize(i + 2) == sizes[i];
    ends.push_back(start + sizes[i]);
    axes.push_back(i + 2);
    steps.push_back(1);
  }
  if (whole)
    return value;
  return SliceOp::create(b, loc, value, starts, ends, axes, steps);
}

/// `value` [N, C, D...] with strides-1 zeros between its elements along
/// each spatial dim: [N, C, (D-1)*s+1...], so that element d lands where a
/// window of stride s starts. Built as [N, C, D, 1, ...] padded to the
/// strides, reshaped and cropped.
static Value insertZeros(OpBuilder &b, Location loc, Value value,
                         ArrayRef<int64_t> strides) {
  if (llvm::all_of(strides, [](int64_t s) { return s == 1; }))
    return value;
  auto type = tensorTypeOf(value);
  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<int64_t> interleaved(shape.take_front(2)),
      zeroed(shape.take_front(2)), kept;
  SmallVector<int64_t> padEnds = {0, 0};
  for (auto [i, stride] : llvm::enumerate(strides)) {
    int64_t size = shape[i + 2];
    interleaved.append({size, 1});
    padEnds.append({0, stride - 1});
    zeroed.push_back(size * stride);
    kept.push_back((size - 1) * stride + 1);
  }
  SmallVector<int64_t> pads(interleaved.size(), 0);
  pads.append(padEnds);
  value = PadOp::create(b, loc, reshapeTo(b, loc, value, interleaved), pads,
                        PadMode::Constant, llvm::APFloat(0.0), nullptr);
  value = reshapeTo(b, loc, value, zeroed);
  return cropSpatial(b, loc, value, SmallVector<int64_t>(strides.size(), 0),
                     kept);
}

/// A zero tensor of `shape` with `like`'s element type.
static Value zerosLike(OpBuilder &b, Location loc, Value like,
                       ArrayRef<int64_t> shape) {
  Type element = getElementTypeOrSelf(like);
  auto type = RankedTensorType::get(shape, element);
  return ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getFloatAttr(element, 0.0)));
}

/// Interleaves the phases of a strided output: `phases` [N, C, Q...] in
/// row-major order of their offsets r (r_i < strides_i) become the
/// [N, C, Q_i * s_i...] tensor whose element q * s + r is phase r's
/// element q, cropped to `sizes`. Stacked along C, then one transpose:
/// [N, (s...), C, Q...] -> [N, C, (Q_i, s_i)...].
static Value interleavePhases(OpBuilder &b, Location loc,
                              ArrayRef<Value> phases, ArrayRef<int64_t> strides,
                              ArrayRef<int64_t> sizes) {
  auto type = tensorTypeOf(phases.front());
  int64_t spatial = strides.size();
  int64_t n = type.getDimSize(0), c = type.getDimSize(1);
  Value stacked = phases.size() == 1
                      ? phases.front()
                      : ConcatOp::create(b, loc, phases, /*axis=*/1);
  SmallVector<int64_t> split = {n};
  split.append(strides.begin(), strides.end());
  split.push_back(c);
  SmallVector<int64_t> perm = {0, spatial + 1}, merged = {n, c};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t q = type.getDimSize(i + 2);
    split.push_back(q);
    perm.append({spatial + 2 + i, 1 + i});
    merged.push_back(q * strides[i]);
  }
  Value spread =
      TransposeOp::create(b, loc, reshapeTo(b, loc, stacked, split), perm);
  return cropSpatial(b, loc, reshapeTo(b, loc, spread, merged),
                     SmallVector<int64_t>(spatial, 0), sizes);
}

/// Calls `body` with each phase offset r (0 <= r_i < strides_i), in
/// row-major order.
static void forEachPhase(ArrayRef<int64_t> strides,
                         function_ref<void(ArrayRef<int64_t>)> body) {
  SmallVector<int64_t> r(strides.size(), 0);
  while (true) {
    body(r);
    int64_t i = strides.size() - 1;
    while (i >= 0 && ++r[i] == strides[i])
      r[i--] = 0;
    if (i < 0)
      return;
  }
}

Value mpc::buildTransposedConv(OpBuilder &b, Location loc, Value input,
                               Value weight, Value bias, int64_t group,
                               ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> dilations,
                               ArrayRef<int64_t> cropBegin,
                               ArrayRef<int64_t> outSize) {
  auto weightType = tensorTypeOf(weight);
  SmallVector<int64_t> kernel(weightType.getShape().drop_front(2));
  int64_t spatial = kernel.size();
  int64_t f = weightType.getDimSize(0), cg = weightType.getDimSize(1);
  int64_t fg = f / group;
  // The weight per group with its channel dims swapped:
  // [G*F/G, C/G, k...] -> [G, F/G, C/G, k...] -> [G, C/G, F/G, k...] ->
  // [G*C/G, F/G, k...], flipped.
  SmallVector<int64_t> grouped = {group, fg, cg};
  grouped.append(kernel);
  SmallVector<int64_t> swap = {0, 2, 1};
  for (int64_t i = 0; i < spatial; ++i)
    swap.push_back(3 + i);
  SmallVector<int64_t> swappedShape = {group * cg, fg};
  swappedShape.append(kernel);
  Value swapped = reshapeTo(
      b, loc,
      TransposeOp::create(b, loc, reshapeTo(b, loc, weight, grouped), swap),
      swappedShape);
  Value flipped = flipSpatial(b, loc, swapped);
  SmallVector<int64_t> ones(spatial, 1);
  auto inputType = tensorTypeOf(input);

  if (llvm::any_of(strides, [](int64_t s) { return s > 1; }) &&
      llvm::all_of(dilations, [](int64_t d) { return d == 1; })) {
    // Sub-pixel phases: output position o = q s + r only meets kernel taps
    // k = k0 + j s with k0 = (r + cropBegin) mod s, at input q + c - j
    // (c = (r + cropBegin - k0) / s). So phase r is a stride-1
    // correlation of the input with the flipped taps k0, k0 + s, ..., and
    // the phases together do exactly the transposed convolution's
    // multiply-adds, where the correlation of the input with s - 1 zeros
    // between its elements spends s^d times as many on those zeros.
    SmallVector<int64_t> phaseSize;
    for (int64_t i = 0; i < spatial; ++i)
      phaseSize.push_back(llvm::divideCeil(outSize[i], strides[i]));
    SmallVector<int64_t> phaseShape = {inputType.getDimSize(0), group * cg};
    phaseShape.append(phaseSize);
    SmallVector<Value> phases;
    forEachPhase(strides, [&](ArrayRef<int64_t> r) {
      SmallVector<int64_t> tapStart, tapEnd, tapStep, readStart, readSize,
          padBegin, padEnd, axes, taps;
      bool reads = true;
      for (int64_t i = 0; i < spatial; ++i) {
        int64_t s = strides[i], k = kernel[i], q = phaseSize[i];
        int64_t k0 = (r[i] + cropBegin[i]) % s;
        int64_t count = k0 < k ? llvm::divideCeil(k - k0, s) : 0;
        int64_t c = (r[i] + cropBegin[i] - k0) / s;
        // Phase element q reads input q + e + t for tap t of `count`.
        int64_t e = c - count + 1;
        int64_t length = inputType.getDimSize(i + 2);
        int64_t first = std::max<int64_t>(0, e);
        int64_t last = std::min<int64_t>(length, e + q + count - 1);
        reads &= count > 0 && last > first;
        // Tap j of the phase is flipped tap k - 1 - k0 - (count - 1 - j) s.
        tapStart.push_back(k - 1 - k0 - (count - 1) * s);
        tapEnd.push_back(k - k0);
        tapStep.push_back(s);
        taps.push_back(count);
        readStart.push_back(first);
        readSize.push_back(last - first);
        padBegin.push_back(std::max<int64_t>(0, -e));
        padEnd.push_back(q + count - 1 - padBegin.back() - (last - first));
        axes.push_back(i + 2);
      }
      if (!reads) {
        phases.push_back(zerosLike(b, loc, input, phaseShape));
        return;
      }
      Value taken =
          SliceOp::create(b, loc, flipped, tapStart, tapEnd, axes, tapStep);
      Value read = cropSpatial(b, loc, input, readStart, readSize);
      SmallVector<int64_t> pads(padBegin);
      pads.append(padEnd);
      phases.push_back(ConvOp::create(b, loc, read, taken, /*bias=*/nullptr,
                                      taps, ones, pads, ones, group,
                                      AutoPad::NotSet, nullptr));
    });
    Value result = interleavePhases(b, loc, phases, strides, outSize);
    if (!bias)
      return result;
    SmallVector<int64_t> biasShape = {group * cg};
    biasShape.append(ones);
    return AddOp::create(b, loc, result, reshapeTo(b, loc, bias, biasShape),
                         nullptr);
  }

  // The full transposed convolution of `input` is the correlation of
  // `input` with stride-1 zeros between its elements and the weight
  // flipped, with its channel dims swapped; it is built from convolutions
  // so it shares their lowering and tensor cores. Full position f of
  // output position o is o + cropBegin: the convolution's begin padding
  // is reach - cropBegin (cropped after where negative), its end padding
  // what the last output needs (positions no window reached get zeros).
  // Dilated and strided at once, the zeros stay: phases would need the
  // taps of each residue of k d modulo s.
  Value z = insertZeros(b, loc, input, strides);
  auto zType = tensorTypeOf(z);
  SmallVector<int64_t> convPads(2 * spatial), crop(spatial);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t reach = dilations[i] * (kernel[i] - 1);
    int64_t begin = reach - cropBegin[i];
    crop[i] = std::max<int64_t>(0, -begin);
    convPads[i] = std::max<int64_t>(0, begin);
    int64_t length = zType.getDimSize(i + 2);
    convPads[i + spatial] = std::max<int64_t>(0, crop[i] + outSize[i] + reach -
                                                     length - convPads[i]);
  }
  Value full = ConvOp::create(b, loc, z, flipped, bias, kernel, ones, convPads,
                              dilations, group, AutoPad::NotSet, nullptr);
  return cropSpatial(b, loc, full, crop, outSize);
}

LogicalResult ConvOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  if (failed(requireExplicit2d(*this, getInput(), getAutoPad(),
                               "a convolution")))
    return failure();
  auto inputType = tensorTypeOf(getInput());
  Location loc = getLoc();
  Value dy = grads[0];
  auto weightType = tensorTypeOf(getWeight());
  auto dyType = tensorTypeOf(dy);
  ArrayRef<int64_t> strides = getStrides(), dilations = getDilations(),
                    pads = getPads();
  SmallVector<int64_t> kernel(weightType.getShape().drop_front(2));
  SmallVector<int64_t> spatial(inputType.getShape().drop_front(2));
  SmallVector<int64_t> outSpatial(dyType.getShape().drop_front(2));
  SmallVector<int64_t> swapNC = {1, 0, 2, 3};
  // Grouped convolutions (depthwise: a group per channel) differentiate
  // into grouped convolutions: with G groups of C/G input and F/G output
  // channels, both backward convolutions below have G groups too.
  int64_t g = getGroup(), n = inputType.getDimSize(0);
  int64_t cg = inputType.getDimSize(1) / g, fg = weightType.getDimSize(0) / g;
  auto shaped = [&](Value v, ArrayRef<int64_t> shape) {
    return reshapeTo(b, loc, v,
                     RankedTensorType::get(shape, getElementTypeOrSelf(v)));
  };

  // dX: the transposed convolution of dY with the forward pads cropped.
  out.push_back(buildTransposedConv(b, loc, dy, getWeight(),
                                    /*bias=*/nullptr, g, strides, dilations,
                                    pads.take_front(2), spatial));

  // dW[f,c,i,j] = sum over n and the output positions of dY[n,f,oh,ow] *
  // Xpad[n,c,oh*s+i*d,ow*s+j*d]: a convolution of X with channels and batch
  // swapped by dY likewise, strides and dilations exchanged, cropped to the
  // kernel (rows of the padded input no window used add nothing).
  // With groups: X [N, G*C/G, H, W] -> [C/G, G*N, H, W] (the group's
  // channel as batch, its batch as channels) and dY [N, G*F/G, ..] ->
  // [G*F/G, N, ..], a G-group convolution giving [C/G, G*F/G, kh, kw].
  // Ungrouped, both are a plain swap of the first two dims, which the CPU
  // lowering recognises and reads through instead of copying
  // (mpc-conv-to-im2col's windowed sums).
  auto swapBatchChannels = [&](Value x) {
    auto type = tensorTypeOf(x);
    int64_t h = type.getDimSize(2), w = type.getDimSize(3);
    if (g == 1)
      return Value(TransposeOp::create(b, loc, x, swapNC));
    return shaped(TransposeOp::create(b, loc, shaped(x, {n, g, cg, h, w}),
                                      ArrayRef<int64_t>{2, 1, 0, 3, 4}),
                  {cg, g * n, h, w});
  };
  Value dyt;
  if (g == 1) {
    dyt = TransposeOp::create(b, loc, dy, swapNC);
  } else {
    dyt =
        shaped(TransposeOp::create(
                   b, loc, shaped(dy, {n, g, fg, outSpatial[0], outSpatial[1]}),
                   ArrayRef<int64_t>{1, 2, 0, 3, 4}),
               {g * fg, n, outSpatial[0], outSpatial[1]});
  }
  SmallVector<int64_t> ones = {1, 1};
  Value dw;
  if (llvm::any_of(strides, [](int64_t s) { return s > 1; }) &&
      llvm::all_of(dilations, [](int64_t d) { return d == 1; })) {
    // Sub-pixel phases: taps i = a + s i' only read Xpad rows a + s u, so
    // phase (a, b) of the kernel is a stride-1 convolution of that
    // subsampled image by dY. dY as a kernel of dilation s would spend
    // s^2 times the multiply-adds on the zeros between its taps (and
    // compute taps past the kernel that the crop then drops).
    // Xpad with the forward pads, as far as the last window reads.
    SmallVector<int64_t> padded(8, 0);
    for (int64_t i = 0; i < 2; ++i) {
      padded[2 + i] = pads[i];
      padded[6 + i] =
          std::max<int64_t>(0, (outSpatial[i] - 1) * strides[i] + kernel[i] -
                                   pads[i] - spatial[i]);
    }
    Value xpad = getInput();
    if (llvm::any_of(padded, [](int64_t p) { return p != 0; }))
      xpad = PadOp::create(b, loc, xpad, padded, PadMode::Constant,
                           llvm::APFloat(0.0), nullptr);
    SmallVector<int64_t> most;
    for (int64_t i = 0; i < 2; ++i)
      most.push_back(llvm::divideCeil(kernel[i], strides[i]));
    SmallVector<int64_t> phaseShape = {cg, g * fg};
    phaseShape.append(most);
    SmallVector<Value> phases;
    forEachPhase(strides, [&](ArrayRef<int64_t> r) {
      SmallVector<int64_t> starts, ends, taps, tail(8, 0);
      for (int64_t i = 0; i < 2; ++i) {
        int64_t count = r[i] < kernel[i]
                            ? llvm::divideCeil(kernel[i] - r[i], strides[i])
                            : 0;
        taps.push_back(count);
        starts.push_back(r[i]);
        ends.push_back(r[i] + (outSpatial[i] + count - 2) * strides[i] + 1);
        tail[6 + i] = most[i] - count;
      }
      if (taps[0] == 0 || taps[1] == 0) {
        phases.push_back(zerosLike(b, loc, dy, phaseShape));
        return;
      }
      Value image = SliceOp::create(b, loc, xpad, starts, ends,
                                    ArrayRef<int64_t>{2, 3}, strides);
      Value phase = ConvOp::create(b, loc, swapBatchChannels(image), dyt,
                                   /*bias=*/nullptr, outSpatial, ones,
                                   ArrayRef<int64_t>{0, 0, 0, 0}, ones, g,
                                   AutoPad::NotSet, nullptr);
      if (llvm::any_of(tail, [](int64_t p) { return p != 0; }))
        phase = PadOp::create(b, loc, phase, tail, PadMode::Constant,
                              llvm::APFloat(0.0), nullptr);
      phases.push_back(phase);
    });
    dw = interleavePhases(b, loc, phases, strides, kernel);
  } else {
    dw = ConvOp::create(b, loc, swapBatchChannels(getInput()), dyt,
                        /*bias=*/nullptr, outSpatial, dilations, pads, strides,
                        g, AutoPad::NotSet, nullptr);
    dw = cropSpatial(b, loc, dw, {0, 0}, kernel);
  }
  out.push_back(TransposeOp::create(b, loc, dw, swapNC));

  if (getBias())
    out.push_back(ReduceSumOp::create(b, loc, dy, ArrayRef<int64_t>{0, 2, 3},
                                      /*keepdims=*/false,
                                      /*precision=*/nullptr));
  return success();
}

LogicalResult GemmOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  Value g = grads[0], a = getA(), bm = getB();
  bool transA = getTransA(), transB = getTransB();
  APFloat alpha = getAlphaAttr().getValue();
  APFloat zero(0.0f);
  // Y = alpha op(A) op(B) + beta C. Each operand's gradient is one gemm
  // with the transposes arranged so no explicit transpose is needed.
  Value dA = transA ? GemmOp::create(b, loc, bm, g, nullptr, alpha, zero,
                                     transB, /*trans_b=*/true, nullptr)
                    : GemmOp::create(b, loc, g, bm, nullptr, alpha, zero,
                                     /*trans_a=*/false, !transB, nullptr);
  Value dB = transB ? GemmOp::create(b, loc, g, a, nullptr, alpha, zero,
                                     /*trans_a=*/true, transA, nullptr)
                    : GemmOp::create(b, loc, a, g, nullptr, alpha, zero,
                                     !transA, /*trans_b=*/false, nullptr);
  out.push_back(dA);
  out.push_back(dB);
  if (Value c = getC()) {
    Value dC = g;
    if (!getBetaAttr().getValue().isExactlyValue(1.0))
      dC = MulOp::create(
          b, loc, g,
          createScalarConstant(b, loc, getElementTypeOrSelf(g),
                         getBetaAttr().getValueAsDouble()),
          nullptr);
    out.push_back(unbroadcast(b, loc, dC, tensorTypeOf(c)));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Normalisations, reductions, losses
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  // y * (g - sum(g * y, axis))
  Location loc = getLoc();
  Value y = getOutput(), g = grads[0];
  int64_t axis = static_cast<int64_t>(getAxis());
  Value gy = MulOp::create(b, loc, g, y, nullptr);
  Value sum = ReduceSumOp::create(b, loc, gy, ArrayRef<int64_t>{axis},
                                  /*keepdims=*/true, nullptr);
  out.push_back(MulOp::create(b, loc, y, SubOp::create(b, loc, g, sum, nullptr),
                              nullptr));
  return success();
}

LogicalResult LogSoftmaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                           SmallVectorImpl<Value> &out) {
  // g - exp(y) * sum(g, axis)
  Location loc = getLoc();
  Value y = getOutput(), g = grads[0];
  int64_t axis = static_cast<int64_t>(getAxis());
  Value sum = ReduceSumOp::create(b, loc, g, ArrayRef<int64_t>{axis},
                                  /*keepdims=*/true, nullptr);
  Value softmax = ExpOp::create(b, loc, y, nullptr);
  out.push_back(SubOp::create(
      b, loc, g, MulOp::create(b, loc, softmax, sum, nullptr), nullptr));
  return success();
}

/// The gradient of a sum over `axes` of `input`: the result gradient
/// broadcast back over the reduced dims, times `scale`.
static Value broadcastReduced(OpBuilder &b, Location loc, Value grad,
                              RankedTensorType inputType,
                              ArrayRef<int64_t> axes, double scale) {
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> kept;
  for (int64_t d = 0; d < rank; ++d)
    kept.push_back(axes.empty() || llvm::is_contained(axes, d) ||
                           llvm::is_contained(axes, d - rank)
                       ? 1
                       : inputType.getDimSize(d));
  Value g = reshapeTo(b, loc, grad,
                      RankedTensorType::get(kept, getElementTypeOrSelf(grad)));
  if (scale != 1.0)
    g = MulOp::create(b, loc, g,
                      createScalarConstant(b, loc, getElementTypeOrSelf(grad), scale),
                      nullptr);
  return ExpandOp::create(b, loc, g, shapeConstant(b, loc, inputType.getShape()));
}

LogicalResult ReduceSumOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(broadcastReduced(b, getLoc(), grads[0],
                                 tensorTypeOf(getInput()), getAxes(), 1.0));
  return success();
}

LogicalResult ReduceMeanOp::buildGradients(OpBuilder &b, ValueRange grads,
                                           SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  auto inputType = tensorTypeOf(getInput());
  int64_t count = inputType.getNumElements() /
                  std::max<int64_t>(1, tensorTypeOf(getOutput()).getNumElements());
  out.push_back(broadcastReduced(b, getLoc(), grads[0], inputType, getAxes(),
                                 1.0 / count));
  return success();
}

LogicalResult SoftmaxCrossEntropyLossOp::buildGradients(
    OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  if (grads.size() > 1 && grads[1])
    return emitOpError("gradient through the log_prob result is not "
                       "implemented (use the loss)");
  Value dScores = SoftmaxCrossEntropyLossGradOp::create(
      b, getLoc(), getLogProb(), getLabels(), grads[0], getWeights(),
      getReductionAttr(), getIgnoreIndexAttr(), nullptr);
  out.push_back(dScores);
  out.push_back(nullptr); // labels
  if (getWeights())
    out.push_back(nullptr); // class weights are constants of the loss
  return success();
}

LogicalResult
NegativeLogLikelihoodLossOp::buildGradients(OpBuilder &b, ValueRange grads,
                                            SmallVectorImpl<Value> &out) {
  out.push_back(NegativeLogLikelihoodLossGradOp::create(
      b, getLoc(), getInput(), getTarget(), grads[0], getWeight(),
      getReductionAttr(), getIgnoreIndexAttr(), nullptr));
  out.push_back(nullptr); // target
  if (getWeight())
    out.push_back(nullptr); // class weights are constants of the loss
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult IdentityOp::buildGradients(OpBuilder &b, ValueRange grads,
                                         SmallVectorImpl<Value> &out) {
  out.push_back(grads[0]);
  return success();
}

LogicalResult ReshapeOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(reshapeTo(b, getLoc(), grads[0], tensorTypeOf(getInput())));
  out.push_back(nullptr); // the shape
  return success();
}

LogicalResult FlattenOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(reshapeTo(b, getLoc(), grads[0], tensorTypeOf(getInput())));
  return success();
}

LogicalResult TransposeOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  out.push_back(
      TransposeOp::create(b, getLoc(), grads[0], invertPermutation(getPerm())));
  return success();
}

//===----------------------------------------------------------------------===//
// More elementwise ops
//===----------------------------------------------------------------------===//

namespace {
Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  return MulOp::create(b, loc, x, y, nullptr);
}
Value constantLike(OpBuilder &b, Location loc, Value like, double value) {
  return createScalarConstant(b, loc, getElementTypeOrSelf(like), value);
}
/// `grad` where `condition` holds, else 0.
Value gradWhere(OpBuilder &b, Location loc, Value condition, Value grad) {
  return WhereOp::create(b, loc, condition, grad, constantLike(b, loc, grad, 0));
}
/// 0 where `condition` holds, else `grad`.
Value gradUnless(OpBuilder &b, Location loc, Value condition, Value grad) {
  return WhereOp::create(b, loc, condition, constantLike(b, loc, grad, 0), grad);
}
} // namespace

LogicalResult ReciprocalOp::buildGradients(OpBuilder &b, ValueRange grads,
                                           SmallVectorImpl<Value> &out) {
  // -g y^2
  Location loc = getLoc();
  Value y = getOutput();
  out.push_back(NegOp::create(b, loc, mul(b, loc, grads[0], mul(b, loc, y, y)),
                              nullptr));
  return success();
}

LogicalResult ErfOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  // g 2/sqrt(pi) exp(-x^2)
  Location loc = getLoc();
  Value x = getInput();
  Value e = ExpOp::create(
      b, loc, NegOp::create(b, loc, mul(b, loc, x, x), nullptr), nullptr);
  out.push_back(mul(b, loc, grads[0],
                    mul(b, loc, e, constantLike(b, loc, x, M_2_SQRTPI))));
  return success();
}

LogicalResult SoftplusOp::buildGradients(OpBuilder &b, ValueRange grads,
                                         SmallVectorImpl<Value> &out) {
  // g sigmoid(x)
  Location loc = getLoc();
  out.push_back(mul(b, loc, grads[0],
                    SigmoidOp::create(b, loc, getInput(), nullptr)));
  return success();
}

LogicalResult AbsOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  // g sign(x), 0 at 0 (as PyTorch).
  Location loc = getLoc();
  Value x = getInput(), g = grads[0];
  Value zero = constantLike(b, loc, x, 0);
  Value negative = WhereOp::create(b, loc, LessOp::create(b, loc, x, zero),
                                   NegOp::create(b, loc, g, nullptr),
                                   constantLike(b, loc, g, 0));
  out.push_back(WhereOp::create(b, loc, GreaterOp::create(b, loc, x, zero), g,
                                negative));
  return success();
}

LogicalResult LeakyReluOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  Value positive = GreaterOp::create(b, loc, getInput(),
                                     constantLike(b, loc, getInput(), 0));
  Value slope = constantLike(b, loc, g, getAlpha().convertToDouble());
  out.push_back(WhereOp::create(b, loc, positive, g, mul(b, loc, g, slope)));
  return success();
}

LogicalResult GeluOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value x = getInput(), g = grads[0];
  auto c = [&](double v) { return constantLike(b, loc, x, v); };
  auto add = [&](Value l, Value r) {
    return Value(AddOp::create(b, loc, l, r, nullptr));
  };
  Value slope;
  if (getApproximate() == GeluApproximation::None) {
    // Phi(x) + x phi(x)
    Value cdf = mul(b, loc, c(0.5),
                    add(c(1.0), ErfOp::create(b, loc, mul(b, loc, x, c(M_SQRT1_2)),
                                              nullptr)));
    Value pdf = mul(b, loc, c(0.5 * M_2_SQRTPI * M_SQRT1_2),
                    ExpOp::create(b, loc,
                                  mul(b, loc, c(-0.5), mul(b, loc, x, x)),
                                  nullptr));
    slope = add(cdf, mul(b, loc, x, pdf));
  } else {
    // y = 0.5 x (1 + t), t = tanh(k (x + 0.044715 x^3)):
    // 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 * 0.044715 x^2)
    double k = std::sqrt(2.0 / M_PI);
    Value x2 = mul(b, loc, x, x);
    Value t = TanhOp::create(
        b, loc, mul(b, loc, c(k), add(x, mul(b, loc, c(0.044715), mul(b, loc, x2, x)))),
        nullptr);
    Value dt = SubOp::create(b, loc, c(1.0), mul(b, loc, t, t), nullptr);
    Value inner = mul(b, loc, c(k), add(c(1.0), mul(b, loc, c(3 * 0.044715), x2)));
    slope = add(mul(b, loc, c(0.5), add(c(1.0), t)),
                mul(b, loc, mul(b, loc, c(0.5), x), mul(b, loc, dt, inner)));
  }
  out.push_back(mul(b, loc, g, slope));
  return success();
}

LogicalResult HardSigmoidOp::buildGradients(OpBuilder &b, ValueRange grads,
                                            SmallVectorImpl<Value> &out) {
  // alpha * g strictly inside 0 < alpha x + beta < 1 (PyTorch's
  // hardsigmoid_backward), else 0.
  Location loc = getLoc();
  Value x = getInput(), g = grads[0];
  double alpha = getAlpha().convertToDouble(), beta = getBeta().convertToDouble();
  Value t = AddOp::create(b, loc, mul(b, loc, x, constantLike(b, loc, x, alpha)),
                          constantLike(b, loc, x, beta), nullptr);
  Value inside = mul(b, loc, g, constantLike(b, loc, g, alpha));
  inside = gradWhere(b, loc, GreaterOp::create(b, loc, t, constantLike(b, loc, t, 0)),
                     inside);
  out.push_back(gradWhere(
      b, loc, LessOp::create(b, loc, t, constantLike(b, loc, t, 1)), inside));
  return success();
}

LogicalResult HardSwishOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  // PyTorch's hardswish_backward: 0 below -3, g (x / 3 + 1/2) up to 3
  // (inclusive), g above.
  Location loc = getLoc();
  Value x = getInput(), g = grads[0];
  Value ramp = mul(b, loc, g,
                   AddOp::create(b, loc,
                                 mul(b, loc, x, constantLike(b, loc, x, 1.0 / 3)),
                                 constantLike(b, loc, x, 0.5), nullptr));
  Value upper = WhereOp::create(
      b, loc, GreaterOp::create(b, loc, x, constantLike(b, loc, x, 3)), g, ramp);
  out.push_back(gradUnless(
      b, loc, LessOp::create(b, loc, x, constantLike(b, loc, x, -3)), upper));
  return success();
}

LogicalResult ClipOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // The gradient passes inside [min, max] (bounds included, as PyTorch).
  Location loc = getLoc();
  Value x = getInput(), g = grads[0];
  if (auto min = getMinAttr())
    g = gradUnless(b, loc,
                   LessOp::create(b, loc, x,
                                  constantLike(b, loc, x, min.getValueAsDouble())),
                   g);
  if (auto max = getMaxAttr())
    g = gradUnless(b, loc,
                   GreaterOp::create(
                       b, loc, x, constantLike(b, loc, x, max.getValueAsDouble())),
                   g);
  out.push_back(g);
  return success();
}

/// max/min: the gradient goes to the selected side; ties to the lhs.
static void selectGradients(OpBuilder &b, Location loc, Value lhsLoses,
                            Value grad, Value lhs, Value rhs,
                            SmallVectorImpl<Value> &out) {
  out.push_back(unbroadcast(b, loc, gradUnless(b, loc, lhsLoses, grad),
                            tensorTypeOf(lhs)));
  out.push_back(unbroadcast(b, loc, gradWhere(b, loc, lhsLoses, grad),
                            tensorTypeOf(rhs)));
}

LogicalResult MaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  selectGradients(b, loc, LessOp::create(b, loc, getLhs(), getRhs()), grads[0],
                  getLhs(), getRhs(), out);
  return success();
}

LogicalResult MinOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  selectGradients(b, loc, GreaterOp::create(b, loc, getLhs(), getRhs()),
                  grads[0], getLhs(), getRhs(), out);
  return success();
}

LogicalResult PowOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // d/da = g b a^(b-1); d/db = g y log(a) (float exponents only).
  Location loc = getLoc();
  Value a = getLhs(), e = getRhs(), g = grads[0];
  bool floatExponent = isa<FloatType>(getElementTypeOrSelf(e));
  Value exponent =
      floatExponent ? e
                    : Value(ConvertOp::create(
                          b, loc,
                          RankedTensorType::get(tensorTypeOf(e).getShape(),
                                                getElementTypeOrSelf(a)),
                          e));
  Value lowered = PowOp::create(
      b, loc, a,
      SubOp::create(b, loc, exponent, constantLike(b, loc, exponent, 1.0),
                    nullptr),
      nullptr);
  out.push_back(unbroadcast(b, loc, mul(b, loc, g, mul(b, loc, exponent, lowered)),
                            tensorTypeOf(a)));
  if (floatExponent)
    out.push_back(unbroadcast(
        b, loc,
        mul(b, loc, g, mul(b, loc, getOutput(), LogOp::create(b, loc, a, nullptr))),
        tensorTypeOf(e)));
  else
    out.push_back(nullptr);
  return success();
}

LogicalResult WhereOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  Value c = getCondition(), g = grads[0];
  out.push_back(nullptr);
  out.push_back(unbroadcast(b, loc, gradWhere(b, loc, c, g),
                            tensorTypeOf(getOnTrue())));
  out.push_back(unbroadcast(b, loc, gradUnless(b, loc, c, g),
                            tensorTypeOf(getOnFalse())));
  return success();
}

LogicalResult DropoutOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  // Inference mode is the identity; training mode scales the kept
  // elements by 1 / (1 - ratio), through the mask the forward drew.
  Location loc = getLoc();
  Value g = grads[0];
  if (getTraining()) {
    double keep = 1.0 - getRatio().convertToDouble();
    g = gradWhere(b, loc, getMask(),
                  mul(b, loc, g, constantLike(b, loc, g, keep > 0 ? 1 / keep : 0)));
  }
  out.push_back(g);
  return success();
}

LogicalResult CastOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(CastOp::create(b, getLoc(), getInput().getType(), grads[0]));
  return success();
}

LogicalResult ConvertOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  // Only float-to-float conversions carry a gradient (activity analysis
  // never asks for integer results).
  if (!isa<FloatType>(getElementTypeOrSelf(getInput())))
    return emitOpError("gradient of a conversion from ")
           << getElementTypeOrSelf(getInput()) << " is not defined";
  out.push_back(ConvertOp::create(b, getLoc(), getInput().getType(), grads[0]));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalisation, pooling, reductions
//===----------------------------------------------------------------------===//

/// The input gradient of a normalisation xhat = (x - mean) rstd over
/// `axes`, given dxhat: rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
/// (LayerNorm over its normalised dims, BatchNorm with batch statistics
/// over all but the channel's).
static Value normalizedInputGradient(OpBuilder &b, Location loc, Value xhat,
                                     Value dxhat, Value rstd,
                                     ArrayRef<int64_t> axes) {
  auto sub = [&](Value l, Value r) {
    return Value(SubOp::create(b, loc, l, r, nullptr));
  };
  auto mean = [&](Value v) {
    return Value(ReduceMeanOp::create(b, loc, v, axes, /*keepdims=*/true,
                                      nullptr));
  };
  return mul(b, loc, rstd,
             sub(sub(dxhat, mean(dxhat)),
                 mul(b, loc, xhat, mean(mul(b, loc, dxhat, xhat)))));
}

/// 1 / sqrt(variance + epsilon), BatchNorm's normalising factor.
static Value inverseStdDev(OpBuilder &b, Location loc, Value variance,
                           double epsilon) {
  Value shifted = AddOp::create(b, loc, variance,
                                constantLike(b, loc, variance, epsilon),
                                nullptr);
  return DivOp::create(b, loc, constantLike(b, loc, variance, 1.0),
                       SqrtOp::create(b, loc, shifted, nullptr), nullptr);
}

LogicalResult BatchNormOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  if (grads.size() > 1 && (grads[1] || grads[2]))
    return emitOpError("gradient through the running statistics results is "
                       "not implemented");
  if (getTraining())
    return buildTrainingGradients(b, grads[0], out);
  // Frozen statistics: y = (x - mean) * invstd * scale + bias per channel
  // (dim 1), invstd = 1 / sqrt(var + eps). dx = dy * scale * invstd;
  // dscale = sum(dy * xhat); dbias = sum(dy), over every dim but 1. The
  // statistics are constants (the importer freezes running statistics).
  Location loc = getLoc();
  Value dy = grads[0];
  auto type = tensorTypeOf(getInput());
  int64_t rank = type.getRank(), channels = type.getDimSize(1);
  SmallVector<int64_t> perChannel(rank, 1);
  perChannel[1] = channels;
  auto channelType = [&](Value v) {
    return RankedTensorType::get(perChannel, getElementTypeOrSelf(v));
  };
  auto broadcastable = [&](Value v) {
    return reshapeTo(b, loc, v, channelType(v));
  };
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  Value var = getVariance();
  Value invstd =
      inverseStdDev(b, loc, var, getEpsilon().convertToDouble());
  Value scaleInvstd = mul(b, loc, getScale(), invstd);
  out.push_back(mul(b, loc, dy, broadcastable(scaleInvstd)));
  Value xhat = mul(b, loc,
                   SubOp::create(b, loc, getInput(),
                                 broadcastable(getMean()), nullptr),
                   broadcastable(invstd));
  out.push_back(ReduceSumOp::create(b, loc, mul(b, loc, dy, xhat), axes,
                                    /*keepdims=*/false, nullptr));
  out.push_back(ReduceSumOp::create(b, loc, dy, axes, /*keepdims=*/false,
                                    nullptr));
  // The statistics take no gradient.
  out.push_back(nullptr);
  out.push_back(nullptr);
  return success();
}

/// Batch statistics: y = xhat * scale + bias with xhat = (x - mean) rstd,
/// mean and rstd = 1 / sqrt(var + eps) over every dim but the channel's.
/// The output depends on the whole batch through them, so (as for
/// LayerNorm over its own dims)
///   dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy scale.
/// The statistics are recomputed here from the input rather than carried
/// from the forward as extra results: two reductions per step and layer,
/// which keeps the op's results those of ONNX.
LogicalResult BatchNormOp::buildTrainingGradients(OpBuilder &b, Value dy,
                                                  SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value x = getInput();
  auto type = tensorTypeOf(x);
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  SmallVector<int64_t> perChannel(rank, 1);
  perChannel[1] = type.getDimSize(1);
  auto mean = [&](Value v) {
    return Value(ReduceMeanOp::create(b, loc, v, axes, /*keepdims=*/true,
                                      nullptr));
  };
  Value centred = SubOp::create(b, loc, x, mean(x), nullptr);
  Value variance = mean(mul(b, loc, centred, centred));
  Value rstd =
      inverseStdDev(b, loc, variance, getEpsilon().convertToDouble());
  Value xhat = mul(b, loc, centred, rstd);
  Value scale = reshapeTo(
      b, loc, getScale(),
      RankedTensorType::get(perChannel, getElementTypeOrSelf(getScale())));
  out.push_back(normalizedInputGradient(b, loc, xhat, mul(b, loc, dy, scale),
                                        rstd, axes));
  out.push_back(ReduceSumOp::create(b, loc, mul(b, loc, dy, xhat), axes,
                                    /*keepdims=*/false, nullptr));
  out.push_back(ReduceSumOp::create(b, loc, dy, axes, /*keepdims=*/false,
                                    nullptr));
  // The running statistics are state the forward updates, not inputs of
  // the loss.
  out.push_back(nullptr);
  out.push_back(nullptr);
  return success();
}

LogicalResult AveragePoolOp::buildGradients(OpBuilder &b, ValueRange grads,
                                            SmallVectorImpl<Value> &out) {
  if (failed(requireExplicit2d(*this, getInput(), getAutoPad(),
                               "average pooling")))
    return failure();
  auto inputType = tensorTypeOf(getInput());
  // y = (sum of the window) / count, count per output position: the
  // window's elements inside the input, or inside the padded input with
  // count_include_pad (never the part ceil_mode adds past the padding,
  // as ONNX and PyTorch count). The sum is a depthwise convolution with a
  // ones kernel; its input gradient, of dy / count, is the pooling's.
  Location loc = getLoc();
  Value dy = grads[0];
  auto outType = tensorTypeOf(getOutput());
  ArrayRef<int64_t> kernel = getKernelShape(), strides = getStrides(),
                    pads = getPads();
  int64_t channels = inputType.getDimSize(1);
  SmallVector<int64_t> convPads(pads);
  SmallVector<SmallVector<double>> counts(2);
  for (int64_t i = 0; i < 2; ++i) {
    int64_t size = inputType.getDimSize(i + 2);
    int64_t outSize = outType.getDimSize(i + 2);
    // ceil_mode: the last window may reach past the end padding.
    int64_t reach = (outSize - 1) * strides[i] + kernel[i];
    convPads[i + 2] = std::max(pads[i + 2], reach - size - pads[i]);
    int64_t low = getCountIncludePad() ? -pads[i] : 0;
    int64_t high = getCountIncludePad() ? size + pads[i + 2] : size;
    for (int64_t o = 0; o < outSize; ++o) {
      int64_t begin = o * strides[i] - pads[i];
      int64_t inside = std::min(begin + kernel[i], high) - std::max(begin, low);
      counts[i].push_back(double(std::max<int64_t>(inside, 1)));
    }
  }
  SmallVector<float> reciprocal;
  for (double rows : counts[0])
    for (double cols : counts[1])
      reciprocal.push_back(float(1.0 / (rows * cols)));
  Type element = getElementTypeOrSelf(dy);
  auto countType = RankedTensorType::get(
      {1, 1, outType.getDimSize(2), outType.getDimSize(3)}, b.getF32Type());
  Value scale = ConstantOp::create(
      b, loc, DenseElementsAttr::get(countType, ArrayRef<float>(reciprocal)));
  if (!element.isF32())
    scale = ConvertOp::create(
        b, loc, RankedTensorType::get(countType.getShape(), element), scale);
  Value ones = ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          RankedTensorType::get({channels, 1, kernel[0], kernel[1]}, element),
          b.getFloatAttr(element, 1.0)));
  auto sum = ConvOp::create(b, loc, getInput(), ones, /*bias=*/nullptr,
                            kernel, strides, convPads,
                            ArrayRef<int64_t>{1, 1}, channels, AutoPad::NotSet,
                            nullptr);
  SmallVector<Value> convGrads;
  if (failed(sum.buildGradients(b, mul(b, loc, dy, scale), convGrads)))
    return failure();
  // Only the input's: the ones kernel and the forward sum are dead.
  out.push_back(convGrads[0]);
  return success();
}

LogicalResult MaxPoolOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  if (failed(requireExplicit2d(*this, getInput(), getAutoPad(),
                               "max pooling")))
    return failure();
  auto inputType = tensorTypeOf(getInput());
  // The gradient goes to the first maximum of each window in scan order,
  // as PyTorch routes it: for each window position (i, j), the strided
  // slice of the (-inf padded) input that position reads equals the output
  // where it holds a maximum, and takes dy there unless an earlier
  // position did; its share is put back at (i, j) with zeros between
  // (the stride), and the shares add up (overlapping windows).
  Location loc = getLoc();
  Value dy = grads[0], y = getOutput();
  ArrayRef<int64_t> kernel = getKernelShape(), strides = getStrides(),
                    pads = getPads(), dilations = getDilations();
  SmallVector<int64_t> out2(tensorTypeOf(y).getShape().drop_front(2));
  SmallVector<int64_t> in2(inputType.getShape().drop_front(2));
  // Windows that tile the input (MaxPool2d(2) on even sizes): one pass
  // over the input, where the general form below takes a few per tap.
  bool tiles = strides == kernel && llvm::all_of(pads, [](int64_t p) {
    return p == 0;
  }) && llvm::all_of(dilations, [](int64_t d) { return d == 1; });
  for (int64_t d = 0; d < 2; ++d)
    tiles &= out2[d] * kernel[d] == in2[d];
  if (tiles && inputType.hasStaticShape()) {
    out.push_back(MaxPoolGradOp::create(b, loc, getInput(), dy, kernel,
                                        /*precision=*/nullptr));
    return success();
  }
  // Padding, with ceil_mode's extra end padding for a last window that
  // runs past it.
  SmallVector<int64_t> padded(2), allPads(8, 0);
  for (int64_t d = 0; d < 2; ++d) {
    int64_t need = (out2[d] - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1;
    padded[d] = std::max(in2[d] + pads[d] + pads[d + 2], need);
    allPads[2 + d] = pads[d];
    allPads[6 + d] = padded[d] - in2[d] - pads[d];
  }
  Value xp = PadOp::create(
      b, loc, getInput(), allPads, PadMode::Constant,
      llvm::APFloat::getInf(llvm::APFloat::IEEEdouble(), /*Negative=*/true),
      nullptr);
  Value one = constantLike(b, loc, y, 1.0), zero = constantLike(b, loc, y, 0.0);
  Value taken;
  Value dxp;
  int64_t spanH = (out2[0] - 1) * strides[0] + 1,
          spanW = (out2[1] - 1) * strides[1] + 1;
  for (int64_t i = 0; i < kernel[0]; ++i) {
    for (int64_t j = 0; j < kernel[1]; ++j) {
      int64_t r = i * dilations[0], c = j * dilations[1];
      Value window = SliceOp::create(
          b, loc, xp, ArrayRef<int64_t>{r, c},
          ArrayRef<int64_t>{r + spanH, c + spanW}, ArrayRef<int64_t>{2, 3},
          ArrayRef<int64_t>{strides[0], strides[1]});
      Value isMax = WhereOp::create(
          b, loc, EqualOp::create(b, loc, window, y), one, zero);
      Value first = taken ? mul(b, loc, isMax,
                                SubOp::create(b, loc, one, taken, nullptr))
                          : isMax;
      taken = taken ? AddOp::create(b, loc, taken, first, nullptr) : first;
      Value share = insertZeros(b, loc, mul(b, loc, dy, first), strides);
      share = PadOp::create(
          b, loc, share,
          ArrayRef<int64_t>{0, 0, r, c, 0, 0, padded[0] - r - spanH,
                            padded[1] - c - spanW},
          PadMode::Constant, llvm::APFloat(0.0), nullptr);
      dxp = dxp ? AddOp::create(b, loc, dxp, share, nullptr) : share;
    }
  }
  out.push_back(cropSpatial(b, loc, dxp, {pads[0], pads[1]}, in2));
  return success();
}

LogicalResult LayerNormOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  if ((grads.size() > 1 && grads[1]) || (grads.size() > 2 && grads[2]))
    return emitOpError("gradient through the mean or inverse standard "
                       "deviation results is not implemented");
  // xhat = (x - mean) rstd; dxhat = g scale;
  // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) over the
  // normalised dims; dscale = sum(g xhat), dbias = sum(g) over the others.
  Location loc = getLoc();
  Value x = getInput(), g = grads[0];
  auto type = tensorTypeOf(x);
  int64_t rank = type.getRank();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += rank;
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(axis, rank));
  Value xhat = mul(b, loc, SubOp::create(b, loc, x, getMean(), nullptr),
                   getInvStdDev());
  out.push_back(normalizedInputGradient(
      b, loc, xhat, mul(b, loc, g, getScale()), getInvStdDev(), axes));
  out.push_back(unbroadcast(b, loc, mul(b, loc, g, xhat),
                            tensorTypeOf(getScale())));
  if (getBias())
    out.push_back(unbroadcast(b, loc, g, tensorTypeOf(getBias())));
  return success();
}

LogicalResult GlobalAveragePoolOp::buildGradients(
    OpBuilder &b, ValueRange grads, SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  auto type = tensorTypeOf(getInput());
  int64_t window = type.getNumElements() /
                   tensorTypeOf(getOutput()).getNumElements();
  Value scaled = mul(b, loc, grads[0], constantLike(b, loc, grads[0],
                                                    1.0 / double(window)));
  out.push_back(
      ExpandOp::create(b, loc, scaled, shapeConstant(b, loc, type.getShape())));
  return success();
}

LogicalResult ReduceMaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // To every element equal to the maximum (ties share the full gradient).
  Location loc = getLoc();
  auto type = tensorTypeOf(getInput());
  Value g = broadcastReduced(b, loc, grads[0], type, getAxes(), 1.0);
  Value max = broadcastReduced(b, loc, getOutput(), type, getAxes(), 1.0);
  out.push_back(gradWhere(b, loc, EqualOp::create(b, loc, getInput(), max), g));
  return success();
}

//===----------------------------------------------------------------------===//
// More data movement
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  int64_t rank = tensorTypeOf(getOutput()).getRank();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += rank;
  int64_t offset = 0;
  for (Value input : getInputs()) {
    int64_t size = tensorTypeOf(input).getDimSize(axis);
    out.push_back(SliceOp::create(b, loc, grads[0],
                                  ArrayRef<int64_t>{offset},
                                  ArrayRef<int64_t>{offset + size},
                                  ArrayRef<int64_t>{axis},
                                  ArrayRef<int64_t>{1}));
    offset += size;
  }
  return success();
}

LogicalResult SplitOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // The pieces' gradients side by side; a piece nothing used gets zeros.
  Location loc = getLoc();
  SmallVector<Value> pieces;
  for (auto [grad, result] : llvm::zip(grads, getOutputs())) {
    if (grad) {
      pieces.push_back(grad);
      continue;
    }
    auto type = tensorTypeOf(result);
    pieces.push_back(ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0))));
  }
  out.push_back(ConcatOp::create(b, loc, pieces, getAxis()));
  return success();
}

/// The gradient of reading, along `axis`, input index `indices[k]` into
/// position k of a tensor of shape `shape`: `grad` scatter-added into
/// `numRows` rows (mpc.gather_grad over the [before, k, after] view);
/// an index outside [0, numRows) drops its gradient. `shape[axis]`
/// becomes `numRows`.
static Value scatterAlongAxis(OpBuilder &b, Location loc, Value grad,
                              SmallVectorImpl<int64_t> &shape, int64_t axis,
                              ArrayRef<int64_t> indices, int64_t numRows) {
  int64_t before = 1, after = 1;
  for (int64_t d = 0; d < axis; ++d)
    before *= shape[d];
  for (int64_t d = axis + 1; d < (int64_t)shape.size(); ++d)
    after *= shape[d];
  Value rows =
      reshapeTo(b, loc, grad, {before, (int64_t)indices.size(), after});
  Value scattered = GatherGradOp::create(
      b, loc, rows, shapeConstant(b, loc, indices),
      b.getI64IntegerAttr(numRows), /*precision=*/nullptr);
  shape[axis] = numRows;
  return reshapeTo(b, loc, scattered, shape);
}

LogicalResult SliceOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // Along a step-1 axis the slice reads one run of the input: its gradient
  // is padded with zeros back to the input's size. Along a strided axis
  // (every k-th element, or reversed) it reads scattered, distinct
  // indices, where the gradient is scattered.
  Location loc = getLoc();
  auto type = tensorTypeOf(getInput());
  int64_t rank = type.getRank();
  Value grad = grads[0];
  SmallVector<int64_t> shape(tensorTypeOf(getOutput()).getShape());
  SmallVector<int64_t> pads(2 * rank, 0);
  for (auto [start, axis, step] :
       llvm::zip(getStarts(), getAxes(), getSteps())) {
    int64_t a = axis < 0 ? axis + rank : axis;
    int64_t dim = type.getDimSize(a);
    int64_t first = sliceBoundary(dim, start, step);
    int64_t read = shape[a];
    if (step == 1) {
      pads[a] = first;
      pads[rank + a] = dim - first - read;
      continue;
    }
    if (read == 0)
      return emitOpError("gradient of a slice that reads nothing along axis ")
             << a << " is not implemented";
    SmallVector<int64_t> indices;
    for (int64_t k = 0; k < read; ++k)
      indices.push_back(first + k * step);
    grad = scatterAlongAxis(b, loc, grad, shape, a, indices, dim);
  }
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    grad = PadOp::create(b, loc, grad, pads, PadMode::Constant,
                         llvm::APFloat(0.0), nullptr);
  out.push_back(grad);
  return success();
}

LogicalResult PadOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  Location loc = getLoc();
  auto type = tensorTypeOf(getInput());
  int64_t rank = type.getRank();
  ArrayRef<int64_t> pads = getPads();
  // Zero padding: the gradient is its inner part.
  if (getMode() == PadMode::Constant &&
      llvm::all_of(pads, [](int64_t p) { return p >= 0; })) {
    SmallVector<int64_t> starts, ends, axes, steps;
    for (int64_t d = 0; d < rank; ++d) {
      starts.push_back(pads[d]);
      ends.push_back(pads[d] + type.getDimSize(d));
      axes.push_back(d);
      steps.push_back(1);
    }
    out.push_back(SliceOp::create(b, loc, grads[0], starts, ends, axes,
                                  steps));
    return success();
  }
  // Otherwise each output position along a padded axis reads one input
  // index (edge: the nearest end, reflect: the mirror image without the
  // end repeated, constant: none in the padding, and negative pads
  // crop), and the gradient is scatter-added there axis by axis: the
  // padding composes per axis, the corners reading the corner of each.
  Value grad = grads[0];
  SmallVector<int64_t> shape(tensorTypeOf(getOutput()).getShape());
  for (int64_t a = 0; a < rank; ++a) {
    int64_t begin = pads[a], end = pads[rank + a];
    if (begin == 0 && end == 0)
      continue;
    int64_t n = type.getDimSize(a);
    SmallVector<int64_t> indices;
    for (int64_t j = 0; j < shape[a]; ++j) {
      int64_t p = j - begin;
      if (p < 0 || p >= n) {
        switch (getMode()) {
        case PadMode::Constant:
          p = n; // no input element: dropped
          break;
        case PadMode::Edge:
          p = std::clamp<int64_t>(p, 0, n - 1);
          break;
        case PadMode::Reflect:
          p = p < 0 ? -p : 2 * (n - 1) - p;
          break;
        }
      }
      indices.push_back(p);
    }
    grad = scatterAlongAxis(b, loc, grad, shape, a, indices, n);
  }
  out.push_back(grad);
  return success();
}

LogicalResult SqueezeOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(reshapeTo(b, getLoc(), grads[0], tensorTypeOf(getInput())));
  return success();
}

LogicalResult UnsqueezeOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(reshapeTo(b, getLoc(), grads[0], tensorTypeOf(getInput())));
  return success();
}

LogicalResult GatherOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // The transpose of the gather: a scatter-add of the gradient rows into
  // a zero table (mpc.gather_grad), over the [before, indices, after]
  // view of the gradient that collapses every dim into three.
  Location loc = getLoc();
  auto tableType = tensorTypeOf(getInput());
  auto indicesType = tensorTypeOf(getIndices());
  int64_t rank = tableType.getRank();
  int64_t axis = static_cast<int64_t>(getAxis());
  if (axis < 0)
    axis += rank;
  auto product = [](ArrayRef<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  };
  ArrayRef<int64_t> shape = tableType.getShape();
  int64_t before = product(shape.take_front(axis));
  int64_t after = product(shape.drop_front(axis + 1));
  int64_t count = indicesType.getNumElements();
  Type element = getElementTypeOrSelf(grads[0]);
  Value grad = reshapeTo(
      b, loc, grads[0], RankedTensorType::get({before, count, after}, element));
  Value indices = reshapeTo(
      b, loc, getIndices(),
      RankedTensorType::get({count}, indicesType.getElementType()));
  Value table = GatherGradOp::create(b, loc, grad, indices,
                                     b.getI64IntegerAttr(shape[axis]),
                                     /*precision=*/nullptr);
  out.push_back(
      reshapeTo(b, loc, table, RankedTensorType::get(shape, element)));
  out.push_back(nullptr); // the indices
  return success();
}

LogicalResult ExpandOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  out.push_back(unbroadcast(b, getLoc(), grads[0], tensorTypeOf(getInput())));
  out.push_back(nullptr); // the shape
  return success();
}

//===----------------------------------------------------------------------===//
// Trigonometric, hyperbolic and rounding functions
//===----------------------------------------------------------------------===//

namespace {
Value sub(OpBuilder &b, Location loc, Value x, Value y) {
  return SubOp::create(b, loc, x, y, nullptr);
}
Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return AddOp::create(b, loc, x, y, nullptr);
}
Value div(OpBuilder &b, Location loc, Value x, Value y) {
  return DivOp::create(b, loc, x, y, nullptr);
}
/// g / sqrt(s), the shape of the inverse functions' derivatives.
Value divSqrt(OpBuilder &b, Location loc, Value g, Value s) {
  return div(b, loc, g, SqrtOp::create(b, loc, s, nullptr));
}
/// A zero gradient shaped like `like`.
Value zeroGradient(OpBuilder &b, Location loc, Value like) {
  auto type = tensorTypeOf(like);
  return ExpandOp::create(b, loc, constantLike(b, loc, like, 0.0),
                          shapeConstant(b, loc, type.getShape()));
}
} // namespace

LogicalResult SinOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(mul(b, getLoc(), grads[0],
                    CosOp::create(b, getLoc(), getInput(), nullptr)));
  return success();
}

LogicalResult CosOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  out.push_back(NegOp::create(
      b, loc, mul(b, loc, grads[0], SinOp::create(b, loc, getInput(), nullptr)),
      nullptr));
  return success();
}

LogicalResult TanOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  // g (1 + y^2)
  Location loc = getLoc();
  Value y = getOutput();
  out.push_back(mul(b, loc, grads[0],
                    add(b, loc, constantLike(b, loc, y, 1.0), mul(b, loc, y, y))));
  return success();
}

LogicalResult AsinOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // g / sqrt(1 - x^2)
  Location loc = getLoc();
  Value x = getInput();
  out.push_back(divSqrt(b, loc, grads[0],
                        sub(b, loc, constantLike(b, loc, x, 1.0), mul(b, loc, x, x))));
  return success();
}

LogicalResult AcosOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // -g / sqrt(1 - x^2)
  Location loc = getLoc();
  Value x = getInput();
  out.push_back(NegOp::create(
      b, loc,
      divSqrt(b, loc, grads[0],
              sub(b, loc, constantLike(b, loc, x, 1.0), mul(b, loc, x, x))),
      nullptr));
  return success();
}

LogicalResult AtanOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // g / (1 + x^2)
  Location loc = getLoc();
  Value x = getInput();
  out.push_back(div(b, loc, grads[0],
                    add(b, loc, constantLike(b, loc, x, 1.0), mul(b, loc, x, x))));
  return success();
}

LogicalResult SinhOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(mul(b, getLoc(), grads[0],
                    CoshOp::create(b, getLoc(), getInput(), nullptr)));
  return success();
}

LogicalResult CoshOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(mul(b, getLoc(), grads[0],
                    SinhOp::create(b, getLoc(), getInput(), nullptr)));
  return success();
}

LogicalResult AsinhOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  // g / sqrt(x^2 + 1)
  Location loc = getLoc();
  Value x = getInput();
  out.push_back(divSqrt(b, loc, grads[0],
                        add(b, loc, mul(b, loc, x, x), constantLike(b, loc, x, 1.0))));
  return success();
}

LogicalResult AcoshOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  // g / sqrt(x^2 - 1)
  Location loc = getLoc();
  Value x = getInput();
  out.push_back(divSqrt(b, loc, grads[0],
                        sub(b, loc, mul(b, loc, x, x), constantLike(b, loc, x, 1.0))));
  return success();
}

LogicalResult AtanhOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  // g / (1 - x^2)
  Location loc = getLoc();
  Value x = getInput();
  out.push_back(div(b, loc, grads[0],
                    sub(b, loc, constantLike(b, loc, x, 1.0), mul(b, loc, x, x))));
  return success();
}

// Rounding is piecewise constant: zero almost everywhere (as PyTorch).
LogicalResult CeilOp::buildGradients(OpBuilder &b, ValueRange,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(zeroGradient(b, getLoc(), getInput()));
  return success();
}
LogicalResult FloorOp::buildGradients(OpBuilder &b, ValueRange,
                                      SmallVectorImpl<Value> &out) {
  out.push_back(zeroGradient(b, getLoc(), getInput()));
  return success();
}
LogicalResult RoundOp::buildGradients(OpBuilder &b, ValueRange,
                                      SmallVectorImpl<Value> &out) {
  out.push_back(zeroGradient(b, getLoc(), getInput()));
  return success();
}
LogicalResult SignOp::buildGradients(OpBuilder &b, ValueRange,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(zeroGradient(b, getLoc(), getInput()));
  return success();
}

LogicalResult ReduceMinOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // To every element equal to the minimum (ties share the full gradient).
  Location loc = getLoc();
  auto type = tensorTypeOf(getInput());
  Value g = broadcastReduced(b, loc, grads[0], type, getAxes(), 1.0);
  Value min = broadcastReduced(b, loc, getOutput(), type, getAxes(), 1.0);
  out.push_back(gradWhere(b, loc, EqualOp::create(b, loc, getInput(), min), g));
  return success();
}

LogicalResult GatherElementsOp::buildGradients(OpBuilder &b, ValueRange grads,
                                               SmallVectorImpl<Value> &out) {
  if (failed(requireStatic(*this)))
    return failure();
  // The transpose of the gather: the gradient scatter-added into zeros.
  Location loc = getLoc();
  Value zeros = zeroGradient(b, loc, getInput());
  out.push_back(ScatterElementsOp::create(b, loc, zeros, getIndices(),
                                          grads[0], getAxis(),
                                          ScatterReduction::Add));
  out.push_back(nullptr); // the indices
  return success();
}

LogicalResult CumSumOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  // Each input element feeds the sums after it (before it, reversed):
  // the gradient is the running sum of g the other way round.
  out.push_back(CumSumOp::create(b, getLoc(), grads[0], getAxis(),
                                 getExclusive(), !getReverse(),
                                 /*precision=*/nullptr));
  return success();
}

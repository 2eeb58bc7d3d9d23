//===- ONNXOpHandlers.cpp - one import handler per ONNX op type -----------===//
//
// Each handler normalises its op's opset-dependent forms (attributes that
// became inputs, changed defaults, changed semantics) into the mpc op's
// single form. Anything a handler cannot express is an error naming the
// node, never a silent approximation.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::onnx_import;

namespace {

template <typename OpTy>
LogicalResult setSingle(NodeImporter &n, FailureOr<OpTy> op) {
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

template <typename OpTy>
LogicalResult importUnary(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  return setSingle(n, n.create<OpTy>({*x}));
}

template <typename OpTy>
LogicalResult importBinary(NodeImporter &n) {
  FailureOr<Value> a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  return setSingle(n, n.create<OpTy>({*a, *b}));
}

/// Max/Min are variadic in ONNX: a left fold of the binary op.
template <typename OpTy>
LogicalResult importVariadic(NodeImporter &n) {
  if (n.numInputs() == 0)
    return n.unsupported("needs at least one input");
  Value acc = n.input(0);
  if (!acc)
    return n.unsupported("input 0 is required");
  if (n.numInputs() == 1) {
    FailureOr<IdentityOp> id = n.create<IdentityOp>({acc});
    return setSingle(n, id);
  }
  for (unsigned i = 1; i < n.numInputs(); ++i) {
    FailureOr<OpTy> op = n.create<OpTy>({acc, n.input(i)});
    if (failed(op))
      return failure();
    acc = *op;
  }
  n.setResults({acc});
  return success();
}

LogicalResult importLeakyRelu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  return setSingle(n, n.create<LeakyReluOp>(
                          {*x}, {n.named("alpha", b.getF32FloatAttr(
                                                      n.getFloat("alpha", 0.01f)))}));
}

LogicalResult importHardSigmoid(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  return setSingle(
      n, n.create<HardSigmoidOp>(
             {*x}, {n.named("alpha", b.getF32FloatAttr(n.getFloat("alpha", 0.2f))),
                    n.named("beta", b.getF32FloatAttr(n.getFloat("beta", 0.5f)))}));
}

LogicalResult importGelu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  std::string approximate = n.getString("approximate").value_or("none");
  GeluApproximation mode;
  if (approximate == "none")
    mode = GeluApproximation::None;
  else if (approximate == "tanh")
    mode = GeluApproximation::Tanh;
  else
    return n.unsupported("attribute 'approximate' has invalid value '" +
                         approximate + "'");
  return setSingle(n, n.create<GeluOp>(
                          {*x}, {n.named("approximate",
                                         GeluApproximationAttr::get(
                                             n.getContext(), mode))}));
}

/// A scalar bound computed at run time, as a rank-0 tensor (broadcast by
/// Max and Min).
static FailureOr<Value> runtimeBound(NodeImporter &n, unsigned i,
                                     StringRef what) {
  Value bound = n.input(i);
  auto type = cast<RankedTensorType>(bound.getType());
  if (!type.hasStaticShape() || type.getNumElements() != 1)
    return n.error() << Twine(Twine("'") + what + "' must be a scalar"),
           failure();
  if (type.getRank() == 0)
    return bound;
  FailureOr<ReshapeOp> scalar = n.create<ReshapeOp>(
      {bound, shapeConstant(n.getBuilder(), n.getLoc(), {})});
  if (failed(scalar))
    return failure();
  return scalar->getResult();
}

/// Clip: constant bounds become the op's attributes; bounds computed at
/// run time clamp through Max and Min (same NaN propagation, same
/// gradients).
LogicalResult importClip(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  SmallVector<NamedAttribute> attrs;
  Value clamped = *x;
  if (n.getOpset() < 11) {
    if (auto min = n.getFloat("min"))
      attrs.push_back(n.named("min", b.getF64FloatAttr(*min)));
    if (auto max = n.getFloat("max"))
      attrs.push_back(n.named("max", b.getF64FloatAttr(*max)));
  } else {
    const char *bounds[] = {"min", "max"};
    for (auto [i, attrName] : llvm::enumerate(bounds)) {
      if (!n.input(i + 1))
        continue;
      if (!n.tryConstantInput(i + 1)) {
        FailureOr<Value> bound = runtimeBound(n, i + 1, attrName);
        if (failed(bound))
          return failure();
        FailureOr<Operation *> next =
            i == 0 ? FailureOr<Operation *>(n.create<MaxOp>({clamped, *bound}))
                   : FailureOr<Operation *>(n.create<MinOp>({clamped, *bound}));
        if (failed(next))
          return failure();
        clamped = (*next)->getResult(0);
        continue;
      }
      FailureOr<SmallVector<double>> bound =
          n.constantFloats(i + 1, attrName);
      if (failed(bound))
        return failure();
      if (bound->size() != 1)
        return n.unsupported(Twine("'") + attrName + "' must be a scalar");
      attrs.push_back(n.named(attrName, b.getF64FloatAttr((*bound)[0])));
    }
  }
  if (attrs.empty() && clamped != *x) {
    n.setResults({clamped});
    return success();
  }
  return setSingle(n, n.create<ClipOp>({clamped}, attrs));
}

LogicalResult importWhere(NodeImporter &n) {
  FailureOr<Value> c = n.requiredInput(0), x = n.requiredInput(1),
                   y = n.requiredInput(2);
  if (failed(c) || failed(x) || failed(y))
    return failure();
  return setSingle(n, n.create<WhereOp>({*c, *x, *y}));
}

//===----------------------------------------------------------------------===//
// Contractions, convolutions, pooling
//===----------------------------------------------------------------------===//

LogicalResult importGemm(NodeImporter &n) {
  FailureOr<Value> a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  if (n.getOpset() < 11 && !n.input(2))
    return n.unsupported("input C is required before opset 11");
  Builder builder(n.getContext());
  SmallVector<Value> operands = {*a, *b};
  if (Value c = n.input(2))
    operands.push_back(c);
  SmallVector<NamedAttribute> attrs = {
      n.named("alpha", builder.getF32FloatAttr(n.getFloat("alpha", 1.0f))),
      n.named("beta", builder.getF32FloatAttr(n.getFloat("beta", 1.0f)))};
  if (n.getInt("transA", 0))
    attrs.push_back(n.named("trans_a", builder.getUnitAttr()));
  if (n.getInt("transB", 0))
    attrs.push_back(n.named("trans_b", builder.getUnitAttr()));
  return setSingle(n, n.create<GemmOp>(operands, attrs));
}

FailureOr<AutoPad> parseAutoPad(NodeImporter &n) {
  std::string autoPad = n.getString("auto_pad").value_or("NOTSET");
  if (autoPad == "NOTSET")
    return AutoPad::NotSet;
  if (autoPad == "SAME_UPPER")
    return AutoPad::SameUpper;
  if (autoPad == "SAME_LOWER")
    return AutoPad::SameLower;
  if (autoPad == "VALID")
    return AutoPad::Valid;
  return n.error() << "attribute 'auto_pad' has invalid value '" << autoPad
                   << "'",
         failure();
}

/// Window attributes with ONNX defaults. `pads` are resolved to explicit
/// values when auto_pad is set and the spatial dims are static.
struct Window {
  SmallVector<int64_t> kernel, strides, pads, dilations;
  AutoPad autoPad = AutoPad::NotSet;
};

FailureOr<Window> readWindow(NodeImporter &n, RankedTensorType input,
                             std::optional<ArrayRef<int64_t>> weightKernel) {
  Window w;
  if (input.getRank() < 3 || input.getRank() > 5)
    return n.error() << "expects an input with 1 to 3 spatial dims, got "
                     << input,
           failure();
  int64_t spatial = input.getRank() - 2;
  if (auto kernel = n.getInts("kernel_shape"))
    w.kernel = *kernel;
  else if (weightKernel && !ShapedType::isDynamicShape(*weightKernel))
    w.kernel.assign(weightKernel->begin(), weightKernel->end());
  else
    return n.error() << "attribute 'kernel_shape' is required", failure();
  w.strides = n.getInts("strides").value_or(SmallVector<int64_t>(spatial, 1));
  w.dilations =
      n.getInts("dilations").value_or(SmallVector<int64_t>(spatial, 1));
  w.pads = n.getInts("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  FailureOr<AutoPad> autoPad = parseAutoPad(n);
  if (failed(autoPad))
    return failure();
  w.autoPad = *autoPad;
  if ((int64_t)w.kernel.size() != spatial ||
      (int64_t)w.strides.size() != spatial ||
      (int64_t)w.dilations.size() != spatial ||
      (int64_t)w.pads.size() != 2 * spatial)
    return n.error() << "kernel_shape, strides, dilations or pads do not "
                        "match the input's "
                     << spatial << " spatial dims",
           failure();
  if (w.autoPad == AutoPad::Valid) {
    w.pads.assign(2 * spatial, 0);
    w.autoPad = AutoPad::NotSet;
  } else if (w.autoPad != AutoPad::NotSet &&
             !ShapedType::isDynamicShape(input.getShape().drop_front(2))) {
    // SAME_*: output = ceil(in / stride); the odd pad goes at the end
    // (SAME_UPPER) or the beginning (SAME_LOWER).
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2);
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t effectiveKernel = (w.kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total =
          std::max<int64_t>(0, (out - 1) * w.strides[i] + effectiveKernel - in);
      int64_t small = total / 2, large = total - small;
      bool upper = w.autoPad == AutoPad::SameUpper;
      w.pads[i] = upper ? small : large;
      w.pads[i + spatial] = upper ? large : small;
    }
    w.autoPad = AutoPad::NotSet;
  } else if (w.autoPad != AutoPad::NotSet) {
    w.pads.assign(2 * spatial, 0);
  }
  return w;
}

SmallVector<NamedAttribute> windowAttrs(NodeImporter &n, const Window &w,
                                        bool withDilations = true) {
  SmallVector<NamedAttribute> attrs = {n.named("kernel_shape", n.i64Array(w.kernel)),
                                       n.named("strides", n.i64Array(w.strides)),
                                       n.named("pads", n.i64Array(w.pads))};
  if (withDilations)
    attrs.push_back(n.named("dilations", n.i64Array(w.dilations)));
  if (w.autoPad != AutoPad::NotSet)
    attrs.push_back(
        n.named("auto_pad", AutoPadAttr::get(n.getContext(), w.autoPad)));
  return attrs;
}

LogicalResult importConv(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), w = n.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  auto input = cast<RankedTensorType>(x->getType());
  auto weight = cast<RankedTensorType>(w->getType());
  FailureOr<Window> window =
      readWindow(n, input, weight.getShape().drop_front(2));
  if (failed(window))
    return failure();
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *window);
  attrs.push_back(n.named(
      "group", Builder(n.getContext()).getI64IntegerAttr(n.getInt("group", 1))));
  SmallVector<Value> operands = {*x, *w};
  if (Value bias = n.input(2))
    operands.push_back(bias);
  return setSingle(n, n.create<ConvOp>(operands, attrs));
}

LogicalResult importConvTranspose(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), w = n.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  auto input = cast<RankedTensorType>(x->getType());
  auto weight = cast<RankedTensorType>(w->getType());
  if (input.getRank() < 3 || input.getRank() > 5)
    return n.unsupported("expects an input with 1 to 3 spatial dims");
  int64_t spatial = input.getRank() - 2;
  SmallVector<int64_t> kernel;
  if (auto k = n.getInts("kernel_shape"))
    kernel = *k;
  else if (weight.getRank() == input.getRank() &&
           !ShapedType::isDynamicShape(weight.getShape().drop_front(2)))
    kernel.assign(weight.getShape().begin() + 2, weight.getShape().end());
  else
    return n.unsupported("attribute 'kernel_shape' is required");
  auto strides = n.getInts("strides").value_or(SmallVector<int64_t>(spatial, 1));
  auto dilations =
      n.getInts("dilations").value_or(SmallVector<int64_t>(spatial, 1));
  auto outputPadding =
      n.getInts("output_padding").value_or(SmallVector<int64_t>(spatial, 0));
  auto pads = n.getInts("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  FailureOr<AutoPad> autoPad = parseAutoPad(n);
  if (failed(autoPad))
    return failure();
  if ((int64_t)kernel.size() != spatial || (int64_t)strides.size() != spatial ||
      (int64_t)dilations.size() != spatial ||
      (int64_t)outputPadding.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return n.unsupported("kernel_shape, strides, dilations, output_padding or "
                         "pads do not match the input's spatial dims");
  std::optional<SmallVector<int64_t>> outputShape = n.getInts("output_shape");
  if (outputShape && (int64_t)outputShape->size() == input.getRank())
    outputShape->erase(outputShape->begin(), outputShape->begin() + 2);
  bool same = *autoPad == AutoPad::SameUpper || *autoPad == AutoPad::SameLower;
  if (outputShape || same) {
    // Pads follow from the requested output size (ONNX's formula).
    if (ShapedType::isDynamicShape(input.getShape().drop_front(2)))
      return n.unsupported("output_shape/auto_pad need static spatial dims");
    if (outputShape && (int64_t)outputShape->size() != spatial)
      return n.unsupported("output_shape does not match the spatial dims");
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2);
      int64_t out = outputShape ? (*outputShape)[i] : in * strides[i];
      int64_t total = strides[i] * (in - 1) + outputPadding[i] +
                      ((kernel[i] - 1) * dilations[i] + 1) - out;
      if (total < 0) {
        // A larger output than the kernel covers grows output_padding.
        outputPadding[i] -= total;
        total = 0;
      }
      bool upper = *autoPad == AutoPad::SameUpper;
      pads[i] = upper ? total / 2 : total - total / 2;
      pads[i + spatial] = total - pads[i];
    }
  } else if (*autoPad == AutoPad::Valid) {
    pads.assign(2 * spatial, 0);
  }
  Builder b(n.getContext());
  SmallVector<NamedAttribute> attrs = {
      n.named("kernel_shape", n.i64Array(kernel)),
      n.named("strides", n.i64Array(strides)),
      n.named("pads", n.i64Array(pads)),
      n.named("dilations", n.i64Array(dilations)),
      n.named("output_padding", n.i64Array(outputPadding)),
      n.named("group", b.getI64IntegerAttr(n.getInt("group", 1)))};
  SmallVector<Value> operands = {*x, *w};
  if (Value bias = n.input(2))
    operands.push_back(bias);
  return setSingle(n, n.create<ConvTransposeOp>(operands, attrs));
}

LogicalResult importMaxPool(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  n.setUnsupportedOutput(1, "MaxPool's 'Indices' output is not supported");
  if (n.getInt("storage_order", 0) != 0)
    return n.unsupported("storage_order = 1 is not supported");
  FailureOr<Window> window =
      readWindow(n, cast<RankedTensorType>(x->getType()), std::nullopt);
  if (failed(window))
    return failure();
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *window);
  if (n.getInt("ceil_mode", 0))
    attrs.push_back(n.named("ceil_mode", UnitAttr::get(n.getContext())));
  return setSingle(n, n.create<MaxPoolOp>({*x}, attrs));
}

LogicalResult importAveragePool(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  if (n.attr("dilations"))
    return n.unsupported("attribute 'dilations' (opset 19) is not supported");
  FailureOr<Window> window =
      readWindow(n, cast<RankedTensorType>(x->getType()), std::nullopt);
  if (failed(window))
    return failure();
  SmallVector<NamedAttribute> attrs =
      windowAttrs(n, *window, /*withDilations=*/false);
  if (n.getInt("ceil_mode", 0))
    attrs.push_back(n.named("ceil_mode", UnitAttr::get(n.getContext())));
  if (n.getInt("count_include_pad", 0))
    attrs.push_back(n.named("count_include_pad", UnitAttr::get(n.getContext())));
  return setSingle(n, n.create<AveragePoolOp>({*x}, attrs));
}

/// GlobalMaxPool over static spatial dims is a max pooling with one window
/// covering them, so its gradient goes to the window's first maximum as
/// PyTorch's adaptive max pooling routes it (a max reduction would share
/// it between ties); over dynamic ones, a max reduction.
LogicalResult importGlobalMaxPool(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  if (type.getRank() < 3)
    return n.unsupported("expects an input with spatial dims, got " +
                         Twine(type.getRank()) + "-d");
  int64_t spatial = type.getRank() - 2;
  ArrayRef<int64_t> extent = type.getShape().drop_front(2);
  Builder b(n.getContext());
  if (ShapedType::isDynamicShape(extent) || spatial > 2) {
    SmallVector<int64_t> axes =
        llvm::to_vector(llvm::seq<int64_t>(2, type.getRank()));
    return setSingle(n, n.create<ReduceMaxOp>(
                            {*x}, {n.named("axes", n.i64Array(axes)),
                                   n.named("keepdims", b.getBoolAttr(true))}));
  }
  return setSingle(
      n, n.create<MaxPoolOp>(
             {*x}, {n.named("kernel_shape", n.i64Array(extent)),
                    n.named("strides", n.i64Array(extent)),
                    n.named("pads", n.i64Array(SmallVector<int64_t>(
                                        2 * spatial, 0))),
                    n.named("dilations", n.i64Array(SmallVector<int64_t>(
                                             spatial, 1)))}));
}

//===----------------------------------------------------------------------===//
// Normalisation, softmax, reductions, losses
//===----------------------------------------------------------------------===//

/// Softmax and LogSoftmax: opset 13 normalises along one axis; earlier
/// opsets flatten to 2-d at `axis` (default 1) and normalise the rows.
template <typename OpTy>
LogicalResult importSoftmax(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  Builder b(n.getContext());
  if (n.getOpset() >= 13) {
    return setSingle(n, n.create<OpTy>(
                            {*x}, {n.named("axis", b.getI64IntegerAttr(
                                                       n.getInt("axis", -1)))}));
  }
  int64_t rank = type.getRank();
  int64_t axis = n.getInt("axis", 1);
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return n.unsupported("axis " + Twine(axis) + " is out of range for rank " +
                         Twine(rank));
  if (axis < 0)
    axis += rank;
  if (axis == rank - 1)
    return setSingle(n, n.create<OpTy>({*x}, {n.named("axis", b.getI64IntegerAttr(-1))}));
  // Coerce to 2-d, normalise rows, restore the shape.
  FailureOr<FlattenOp> flat =
      n.create<FlattenOp>({*x}, {n.named("axis", b.getI64IntegerAttr(axis))});
  if (failed(flat))
    return failure();
  FailureOr<OpTy> normalised =
      n.create<OpTy>({*flat}, {n.named("axis", b.getI64IntegerAttr(-1))});
  if (failed(normalised))
    return failure();
  auto shapeType = RankedTensorType::get({rank}, b.getI64Type());
  SmallVector<int64_t> dims;
  for (int64_t d : type.getShape())
    dims.push_back(ShapedType::isDynamic(d) ? -1 : d);
  if (llvm::count(dims, -1) > 1) {
    FailureOr<ShapeOp> shape = n.create<ShapeOp>({*x});
    if (failed(shape))
      return failure();
    return setSingle(n, n.create<ReshapeOp>({*normalised, *shape}));
  }
  FailureOr<ConstantOp> shape = n.create<ConstantOp>(
      {}, {n.named("value", DenseIntElementsAttr::get(shapeType, dims))});
  if (failed(shape))
    return failure();
  return setSingle(n, n.create<ReshapeOp>({*normalised, *shape}));
}

/// Reduce*: axes are an attribute before opset 13 (ReduceSum) / 18 (the
/// others) and an optional input after.
template <typename OpTy>
LogicalResult importReduce(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  FailureOr<ReduceForm> form = getReduceForm(n);
  if (failed(form))
    return failure();
  if (form->noop)
    return setSingle(n, n.create<IdentityOp>({*x}));
  Builder b(n.getContext());
  return setSingle(
      n, n.create<OpTy>({*x}, {n.named("axes", n.i64Array(form->axes)),
                               n.named("keepdims", b.getBoolAttr(form->keepdims))}));
}

/// CumSum: its axis (input 1) must be known at compile time.
LogicalResult importCumSum(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<int64_t>> axis = n.constantInts(1, "axis");
  if (failed(axis))
    return failure();
  if (axis->size() != 1)
    return n.unsupported("axis must hold one value");
  Builder b(n.getContext());
  return setSingle(
      n, n.create<CumSumOp>(
             {*x}, {n.named("axis", b.getI64IntegerAttr((*axis)[0])),
                    n.named("exclusive", b.getBoolAttr(n.getInt("exclusive", 0))),
                    n.named("reverse", b.getBoolAttr(n.getInt("reverse", 0)))}));
}

/// ArgMax/ArgMin: axis and keepdims attributes (select_last_index from
/// opset 12).
template <typename OpTy>
LogicalResult importArgReduce(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  return setSingle(
      n, n.create<OpTy>(
             {*x},
             {n.named("axis", b.getI64IntegerAttr(n.getInt("axis", 0))),
              n.named("keepdims", b.getBoolAttr(n.getInt("keepdims", 1))),
              n.named("select_last_index",
                      b.getBoolAttr(n.getInt("select_last_index", 0)))}));
}

LogicalResult importLayerNorm(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), scale = n.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  if (n.getInt("stash_type", 1) != 1)
    return n.unsupported("stash_type other than float is not supported");
  Builder b(n.getContext());
  SmallVector<Value> operands = {*x, *scale};
  if (Value bias = n.input(2))
    operands.push_back(bias);
  FailureOr<LayerNormOp> op = n.create<LayerNormOp>(
      operands,
      {n.named("axis", b.getI64IntegerAttr(n.getInt("axis", -1))),
       n.named("epsilon", b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f)))});
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

LogicalResult importBatchNorm(NodeImporter &n) {
  SmallVector<Value> operands;
  for (unsigned i = 0; i < 5; ++i) {
    FailureOr<Value> v = n.requiredInput(i);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  // Before opset 14 there is no training_mode: extra outputs mean training.
  // Opset 14 made it an attribute. The saved mean/var outputs of older
  // opsets (3, 4) are not modelled.
  n.setUnsupportedOutput(3, "BatchNormalization's 'saved_mean' output is "
                            "not supported");
  n.setUnsupportedOutput(4, "BatchNormalization's 'saved_var' output is "
                            "not supported");
  bool training = n.getOpset() >= 14 ? n.getInt("training_mode", 0) != 0
                                     : (n.hasOutput(1) || n.hasOutput(2));
  Builder b(n.getContext());
  SmallVector<NamedAttribute> attrs = {
      n.named("epsilon", b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f))),
      n.named("momentum", b.getF32FloatAttr(n.getFloat("momentum", 0.9f)))};
  if (training)
    attrs.push_back(n.named("training", b.getUnitAttr()));
  FailureOr<BatchNormOp> op = n.create<BatchNormOp>(operands, attrs);
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

FailureOr<LossReduction> parseReduction(NodeImporter &n) {
  std::string reduction = n.getString("reduction").value_or("mean");
  if (reduction == "mean")
    return LossReduction::Mean;
  if (reduction == "sum")
    return LossReduction::Sum;
  if (reduction == "none")
    return LossReduction::None;
  return n.error() << "attribute 'reduction' has invalid value '" << reduction
                   << "'",
         failure();
}

template <typename OpTy>
LogicalResult importLoss(NodeImporter &n) {
  FailureOr<Value> scores = n.requiredInput(0), labels = n.requiredInput(1);
  if (failed(scores) || failed(labels))
    return failure();
  FailureOr<LossReduction> reduction = parseReduction(n);
  if (failed(reduction))
    return failure();
  SmallVector<Value> operands = {*scores, *labels};
  if (Value weights = n.input(2))
    operands.push_back(weights);
  SmallVector<NamedAttribute> attrs = {n.named(
      "reduction", LossReductionAttr::get(n.getContext(), *reduction))};
  if (auto ignore = n.getInt("ignore_index"))
    attrs.push_back(n.named(
        "ignore_index", Builder(n.getContext()).getI64IntegerAttr(*ignore)));
  FailureOr<OpTy> op = n.create<OpTy>(operands, attrs);
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

LogicalResult importDropout(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  float ratio = n.getFloat("ratio", 0.5f);
  bool training = false;
  if (n.getOpset() >= 12) {
    if (n.input(2)) {
      FailureOr<DenseElementsAttr> mode =
          n.constantInput(2, "training_mode");
      if (failed(mode))
        return failure();
      training = mode->getSplatValue<bool>();
    }
    // Outside training mode Dropout is the identity whatever its ratio, so
    // a ratio computed at run time only matters in training mode.
    if (n.input(1) && (training || n.tryConstantInput(1))) {
      FailureOr<SmallVector<double>> r = n.constantFloats(1, "ratio");
      if (failed(r))
        return failure();
      ratio = r->empty() ? 0.5f : (float)(*r)[0];
    }
  }
  SmallVector<NamedAttribute> attrs = {
      n.named("ratio", b.getF32FloatAttr(ratio))};
  if (training)
    attrs.push_back(n.named("training", b.getUnitAttr()));
  if (auto seed = n.getInt("seed"))
    attrs.push_back(n.named("seed", b.getI64IntegerAttr(*seed)));
  FailureOr<DropoutOp> op = n.create<DropoutOp>({*x}, attrs);
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

LogicalResult importReshape(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  SmallVector<NamedAttribute> attrs;
  if (n.getInt("allowzero", 0))
    attrs.push_back(n.named("allowzero", b.getUnitAttr()));
  Value shape = n.input(1);
  if (n.getOpset() < 5 || !shape) {
    auto dims = n.getInts("shape");
    if (!dims)
      return n.unsupported("input 'shape' is required");
    FailureOr<ConstantOp> c = n.create<ConstantOp>(
        {}, {n.named("value",
                     DenseIntElementsAttr::get(
                         RankedTensorType::get({(int64_t)dims->size()},
                                               b.getI64Type()),
                         *dims))});
    if (failed(c))
      return failure();
    shape = *c;
  }
  return setSingle(n, n.create<ReshapeOp>({*x, shape}, attrs));
}

LogicalResult importFlatten(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  return setSingle(n, n.create<FlattenOp>(
                          {*x}, {n.named("axis", Builder(n.getContext())
                                                     .getI64IntegerAttr(
                                                         n.getInt("axis", 1)))}));
}

LogicalResult importTranspose(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  SmallVector<int64_t> perm;
  if (auto p = n.getInts("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  return setSingle(n, n.create<TransposeOp>({*x}, {n.named("perm", n.i64Array(perm))}));
}

LogicalResult importConcat(NodeImporter &n) {
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < n.numInputs(); ++i)
    if (Value v = n.input(i))
      inputs.push_back(v);
  auto axis = n.getInt("axis");
  if (!axis)
    return n.unsupported("attribute 'axis' is required");
  return setSingle(n, n.create<ConcatOp>(
                          inputs, {n.named("axis", Builder(n.getContext())
                                                       .getI64IntegerAttr(*axis))}));
}

LogicalResult importSplit(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  int64_t axisAttr = n.getInt("axis", 0);
  FailureOr<int64_t> axis = normalizeAxis(axisAttr, type.getRank());
  if (failed(axis))
    return n.unsupported("axis " + Twine(axisAttr) + " is out of range");
  SmallVector<int64_t> sizes;
  if (n.input(1)) {
    FailureOr<SmallVector<int64_t>> s = n.constantInts(1, "split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (auto s = n.getInts("split")) {
    sizes = *s;
  } else {
    // Equal pieces, one per output (num_outputs in opset 18); ONNX makes
    // the last piece smaller when the dim does not divide evenly.
    int64_t pieces = n.getInt("num_outputs", n.numOutputs());
    int64_t dim = type.getDimSize(*axis);
    if (ShapedType::isDynamic(dim))
      return n.unsupported("splitting a dynamic dim needs explicit sizes");
    if (pieces <= 0)
      return n.unsupported("needs at least one output");
    int64_t chunk = (dim + pieces - 1) / pieces;
    for (int64_t i = 0; i < pieces; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  if ((int64_t)sizes.size() != n.numOutputs())
    return n.unsupported("split has " + Twine(sizes.size()) +
                         " sizes but the node has " + Twine(n.numOutputs()) +
                         " outputs");
  return setSingle(n, n.create<SplitOp>(
                          {*x}, {n.named("axis", Builder(n.getContext())
                                                     .getI64IntegerAttr(*axis)),
                                 n.named("sizes", n.i64Array(sizes))}));
}

LogicalResult importSlice(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (n.getOpset() < 10) {
    auto s = n.getInts("starts"), e = n.getInts("ends");
    if (!s || !e)
      return n.unsupported("attributes 'starts' and 'ends' are required");
    starts = *s;
    ends = *e;
    if (auto a = n.getInts("axes"))
      axes = *a;
  } else {
    FailureOr<SmallVector<int64_t>> s = n.constantInts(1, "starts");
    FailureOr<SmallVector<int64_t>> e = n.constantInts(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (n.input(3)) {
      FailureOr<SmallVector<int64_t>> a = n.constantInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (n.input(4)) {
      FailureOr<SmallVector<int64_t>> st = n.constantInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty())
    for (int64_t i = 0; i < (int64_t)starts.size() && i < rank; ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  return setSingle(n, n.create<SliceOp>(
                          {*x}, {n.named("starts", n.i64Array(starts)),
                                 n.named("ends", n.i64Array(ends)),
                                 n.named("axes", n.i64Array(axes)),
                                 n.named("steps", n.i64Array(steps))}));
}

/// Squeeze/Unsqueeze: axes attribute before opset 13, input after.
template <typename OpTy>
LogicalResult importSqueezeLike(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes;
  if (n.input(1)) {
    FailureOr<SmallVector<int64_t>> a = n.constantInts(1, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else if (auto a = n.getInts("axes")) {
    axes = *a;
  } else if (std::is_same_v<OpTy, UnsqueezeOp>) {
    return n.unsupported("'axes' is required");
  }
  return setSingle(n, n.create<OpTy>({*x}, {n.named("axes", n.i64Array(axes))}));
}

LogicalResult importGather(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(x) || failed(indices))
    return failure();
  return setSingle(n, n.create<GatherOp>(
                          {*x, *indices},
                          {n.named("axis", Builder(n.getContext())
                                               .getI64IntegerAttr(
                                                   n.getInt("axis", 0)))}));
}

LogicalResult importExpand(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), shape = n.requiredInput(1);
  if (failed(x) || failed(shape))
    return failure();
  return setSingle(n, n.create<ExpandOp>({*x, *shape}));
}

LogicalResult importTile(NodeImporter &n) {
  if (n.getOpset() < 6)
    return n.unsupported("Tile before opset 6 (inputs 'tiles' and 'axis') "
                         "is not supported");
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  // The output shape depends on the repeats' values: they must be known
  // when the program is compiled.
  FailureOr<SmallVector<int64_t>> repeats = n.constantInts(1, "repeats");
  if (failed(repeats))
    return failure();
  return setSingle(n, n.create<TileOp>(
                          {*x}, {n.named("repeats", n.i64Array(*repeats))}));
}

LogicalResult importPad(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = cast<RankedTensorType>(x->getType()).getRank();
  SmallVector<int64_t> pads;
  double value = 0.0;
  if (n.getOpset() < 11) {
    auto p = n.getInts("pads");
    if (!p)
      return n.unsupported("attribute 'pads' is required");
    pads = *p;
    value = n.getFloat("value", 0.0f);
  } else {
    FailureOr<SmallVector<int64_t>> p = n.constantInts(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
    if (n.input(2)) {
      FailureOr<SmallVector<double>> v = n.constantFloats(2, "constant_value");
      if (failed(v))
        return failure();
      value = v->empty() ? 0.0 : (*v)[0];
    }
    if (n.input(3)) {
      // Opset 18 axes: scatter the given pads into all dims.
      FailureOr<SmallVector<int64_t>> axes = n.constantInts(3, "axes");
      if (failed(axes))
        return failure();
      if (pads.size() != 2 * axes->size())
        return n.unsupported("pads do not match axes");
      SmallVector<int64_t> full(2 * rank, 0);
      for (auto [i, axis] : llvm::enumerate(*axes)) {
        FailureOr<int64_t> a = normalizeAxis(axis, rank);
        if (failed(a))
          return n.unsupported("pad axis out of range");
        full[*a] = pads[i];
        full[*a + rank] = pads[i + axes->size()];
      }
      pads = full;
    }
  }
  std::string modeName = n.getString("mode").value_or("constant");
  PadMode mode;
  if (modeName == "constant")
    mode = PadMode::Constant;
  else if (modeName == "reflect")
    mode = PadMode::Reflect;
  else if (modeName == "edge")
    mode = PadMode::Edge;
  else
    return n.unsupported("pad mode '" + modeName + "' is not supported");
  Builder b(n.getContext());
  return setSingle(n, n.create<PadOp>(
                          {*x}, {n.named("pads", n.i64Array(pads)),
                                 n.named("mode", PadModeAttr::get(n.getContext(), mode)),
                                 n.named("value", b.getF64FloatAttr(value))}));
}

/// Resize (opset 10, 11-17) and Upsample (opset 9).
LogicalResult importResize(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  int64_t rank = type.getRank();
  bool upsample = n.getOpType() == "Upsample";
  bool opset10 = upsample || n.getOpset() < 11;
  SmallVector<float> scales;
  SmallVector<int64_t> sizes;
  unsigned scalesIndex = opset10 ? 1 : 2;
  if (upsample && !n.input(1)) {
    if (auto s = n.getFloats("scales"))
      scales = *s;
  } else if (n.input(scalesIndex)) {
    FailureOr<SmallVector<double>> s = n.constantFloats(scalesIndex, "scales");
    if (failed(s))
      return failure();
    for (double v : *s)
      scales.push_back(v);
  }
  if (!opset10 && n.input(3)) {
    FailureOr<SmallVector<int64_t>> s = n.constantInts(3, "sizes");
    if (failed(s))
      return failure();
    sizes = *s;
  }
  if (scales.empty() && sizes.empty())
    return n.unsupported("one of 'scales' and 'sizes' is required");
  if (!scales.empty() && !sizes.empty())
    return n.unsupported("only one of 'scales' and 'sizes' may be given");
  if (!scales.empty() && (int64_t)scales.size() != rank)
    return n.unsupported("'scales' needs one entry per dim");
  if (!sizes.empty() && (int64_t)sizes.size() != rank)
    return n.unsupported("'sizes' needs one entry per dim");
  if (!upsample && !opset10) {
    if (n.attr("antialias") || n.attr("axes") ||
        n.attr("keep_aspect_ratio_policy"))
      return n.unsupported("antialias, axes and keep_aspect_ratio_policy "
                           "(opset 18) are not supported");
  }
  if (sizes.empty()) {
    for (int64_t i = 0; i < rank; ++i) {
      int64_t d = type.getDimSize(i);
      sizes.push_back(ShapedType::isDynamic(d)
                          ? -1
                          : (int64_t)std::floor(d * (double)scales[i]));
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) {
      int64_t d = type.getDimSize(i);
      if (ShapedType::isDynamic(d))
        return n.unsupported("'sizes' with dynamic input dims is not supported");
      scales.push_back((float)sizes[i] / (float)d);
    }
  }
  std::string modeName = n.getString("mode").value_or("nearest");
  ResizeMode mode;
  if (modeName == "nearest")
    mode = ResizeMode::Nearest;
  else if (modeName == "linear" || modeName == "bilinear")
    mode = ResizeMode::Linear;
  else if (modeName == "cubic")
    mode = ResizeMode::Cubic;
  else
    return n.unsupported("resize mode '" + modeName + "' is not supported");
  CoordinateTransform transform = CoordinateTransform::Asymmetric;
  NearestMode nearest = NearestMode::Floor;
  if (!opset10) {
    std::string t =
        n.getString("coordinate_transformation_mode").value_or("half_pixel");
    if (t == "half_pixel")
      transform = CoordinateTransform::HalfPixel;
    else if (t == "pytorch_half_pixel")
      transform = CoordinateTransform::PytorchHalfPixel;
    else if (t == "align_corners")
      transform = CoordinateTransform::AlignCorners;
    else if (t == "asymmetric")
      transform = CoordinateTransform::Asymmetric;
    else if (t == "tf_crop_and_resize")
      return n.unsupported("coordinate_transformation_mode "
                           "'tf_crop_and_resize' is not supported");
    else
      return n.unsupported("coordinate_transformation_mode '" + t +
                           "' is not supported");
    std::string nm = n.getString("nearest_mode").value_or("round_prefer_floor");
    if (nm == "round_prefer_floor")
      nearest = NearestMode::RoundPreferFloor;
    else if (nm == "round_prefer_ceil")
      nearest = NearestMode::RoundPreferCeil;
    else if (nm == "floor")
      nearest = NearestMode::Floor;
    else if (nm == "ceil")
      nearest = NearestMode::Ceil;
    else
      return n.unsupported("nearest_mode '" + nm + "' is not supported");
  }
  Builder b(n.getContext());
  SmallVector<NamedAttribute> attrs = {
      n.named("scales", DenseF32ArrayAttr::get(n.getContext(), scales)),
      n.named("sizes", n.i64Array(sizes)),
      n.named("mode", ResizeModeAttr::get(n.getContext(), mode)),
      n.named("coordinate_transform",
              CoordinateTransformAttr::get(n.getContext(), transform)),
      n.named("nearest_mode", NearestModeAttr::get(n.getContext(), nearest)),
      n.named("cubic_coeff_a",
              b.getF32FloatAttr(n.getFloat("cubic_coeff_a", -0.75f))),
      n.named("extrapolation_value",
              b.getF32FloatAttr(n.getFloat("extrapolation_value", 0.0f)))};
  if (n.getInt("exclude_outside", 0))
    attrs.push_back(n.named("exclude_outside", b.getUnitAttr()));
  return setSingle(n, n.create<ResizeOp>({*x}, attrs));
}

LogicalResult importShape(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  SmallVector<NamedAttribute> attrs = {
      n.named("start", b.getI64IntegerAttr(n.getInt("start", 0)))};
  if (auto end = n.getInt("end"))
    attrs.push_back(n.named("end", b.getI64IntegerAttr(*end)));
  return setSingle(n, n.create<ShapeOp>({*x}, attrs));
}

LogicalResult importCast(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto to = n.getInt("to");
  if (!to)
    return n.unsupported("attribute 'to' is required");
  Type element;
  switch (*to) {
  case onnx::TensorProto::FLOAT: element = Float32Type::get(n.getContext()); break;
  case onnx::TensorProto::DOUBLE: element = Float64Type::get(n.getContext()); break;
  case onnx::TensorProto::FLOAT16: element = Float16Type::get(n.getContext()); break;
  case onnx::TensorProto::BFLOAT16: element = BFloat16Type::get(n.getContext()); break;
  case onnx::TensorProto::BOOL: element = IntegerType::get(n.getContext(), 1); break;
  case onnx::TensorProto::INT8: element = IntegerType::get(n.getContext(), 8); break;
  case onnx::TensorProto::INT16: element = IntegerType::get(n.getContext(), 16); break;
  case onnx::TensorProto::INT32: element = IntegerType::get(n.getContext(), 32); break;
  case onnx::TensorProto::INT64: element = IntegerType::get(n.getContext(), 64); break;
  case onnx::TensorProto::UINT8:
    element = IntegerType::get(n.getContext(), 8, IntegerType::Unsigned); break;
  case onnx::TensorProto::UINT16:
    element = IntegerType::get(n.getContext(), 16, IntegerType::Unsigned); break;
  case onnx::TensorProto::UINT32:
    element = IntegerType::get(n.getContext(), 32, IntegerType::Unsigned); break;
  case onnx::TensorProto::UINT64:
    element = IntegerType::get(n.getContext(), 64, IntegerType::Unsigned); break;
  default:
    return n.unsupported("cast to data type " + Twine(*to) +
                         " is not supported");
  }
  auto type = cast<RankedTensorType>(x->getType());
  FailureOr<Operation *> op = n.createWithTypes(
      ConvertOp::getOperationName(), {*x}, {type.clone(element)}, {});
  if (failed(op))
    return failure();
  n.setResults((*op)->getResults());
  return success();
}

LogicalResult importIdentity(NodeImporter &n) { return importUnary<IdentityOp>(n); }

/// Mod: fmod (default 0) must be 1 for floats, as ONNX requires.
LogicalResult importMod(NodeImporter &n) {
  FailureOr<Value> a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  Builder builder(n.getContext());
  return setSingle(n, n.create<ModOp>({*a, *b}, {n.named(
                          "fmod", builder.getBoolAttr(n.getInt("fmod", 0)))}));
}

LogicalResult importBitShift(NodeImporter &n) {
  FailureOr<Value> a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  std::optional<std::string> direction = n.getString("direction");
  if (!direction || (*direction != "LEFT" && *direction != "RIGHT"))
    return n.unsupported("direction must be LEFT or RIGHT");
  Builder builder(n.getContext());
  return setSingle(n, n.create<BitShiftOp>(
                          {*a, *b}, {n.named("left", builder.getBoolAttr(
                                                         *direction == "LEFT"))}));
}

LogicalResult importIsInf(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder b(n.getContext());
  return setSingle(
      n, n.create<IsInfOp>(
             {*x},
             {n.named("detect_positive", b.getBoolAttr(n.getInt("detect_positive", 1))),
              n.named("detect_negative",
                      b.getBoolAttr(n.getInt("detect_negative", 1)))}));
}

LogicalResult importGatherElements(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(x) || failed(indices))
    return failure();
  Builder b(n.getContext());
  return setSingle(n, n.create<GatherElementsOp>(
                          {*x, *indices},
                          {n.named("axis", b.getI64IntegerAttr(n.getInt("axis", 0)))}));
}

/// The `reduction` attribute of ScatterElements and ScatterND (opset 16,
/// 18 for max/min); absent means none.
FailureOr<ScatterReduction> readScatterReduction(NodeImporter &n) {
  std::string name = n.getString("reduction").value_or("none");
  std::optional<ScatterReduction> reduction = symbolizeScatterReduction(name);
  if (!reduction)
    return n.error() << Twine("reduction '" + name + "' is not supported"),
           failure();
  return *reduction;
}

LogicalResult importGatherND(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(x) || failed(indices))
    return failure();
  Builder b(n.getContext());
  return setSingle(n, n.create<GatherNDOp>(
                          {*x, *indices},
                          {n.named("batch_dims", b.getI64IntegerAttr(
                                                     n.getInt("batch_dims", 0)))}));
}

LogicalResult importScatterND(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), indices = n.requiredInput(1),
                   updates = n.requiredInput(2);
  if (failed(x) || failed(indices) || failed(updates))
    return failure();
  FailureOr<ScatterReduction> reduction = readScatterReduction(n);
  if (failed(reduction))
    return failure();
  return setSingle(n, n.create<ScatterNDOp>(
                          {*x, *indices, *updates},
                          {n.named("reduction", ScatterReductionAttr::get(
                                                    n.getContext(), *reduction))}));
}

/// ScatterElements (and the deprecated Scatter, the same op before opset
/// 11); its reduction from opset 16.
LogicalResult importScatterElements(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), indices = n.requiredInput(1),
                   updates = n.requiredInput(2);
  if (failed(x) || failed(indices) || failed(updates))
    return failure();
  FailureOr<ScatterReduction> reduction = readScatterReduction(n);
  if (failed(reduction))
    return failure();
  Builder b(n.getContext());
  return setSingle(
      n, n.create<ScatterElementsOp>(
             {*x, *indices, *updates},
             {n.named("axis", b.getI64IntegerAttr(n.getInt("axis", 0))),
              n.named("reduction",
                      ScatterReductionAttr::get(n.getContext(), *reduction))}));
}


} // namespace

const llvm::StringMap<OpHandler> &onnx_import::getOpHandlers() {
  static const llvm::StringMap<OpHandler> handlers = [] {
  llvm::StringMap<OpHandler> handlers = {
      {"Abs", importUnary<AbsOp>},
      {"Add", importBinary<AddOp>},
      {"AveragePool", importAveragePool},
      {"BatchNormalization", importBatchNorm},
      {"Cast", importCast},
      {"Clip", importClip},
      {"Concat", importConcat},
      {"Constant", importConstantNode},
      {"Conv", importConv},
      {"ConvTranspose", importConvTranspose},
      {"Div", importBinary<DivOp>},
      {"Dropout", importDropout},
      {"Equal", importBinary<EqualOp>},
      {"Erf", importUnary<ErfOp>},
      {"Exp", importUnary<ExpOp>},
      {"Expand", importExpand},
      {"Flatten", importFlatten},
      {"Gather", importGather},
      {"Gelu", importGelu},
      {"Gemm", importGemm},
      {"GlobalAveragePool", importUnary<GlobalAveragePoolOp>},
      {"GlobalMaxPool", importGlobalMaxPool},
      {"Greater", importBinary<GreaterOp>},
      {"HardSigmoid", importHardSigmoid},
      {"HardSwish", importUnary<HardSwishOp>},
      {"Identity", importIdentity},
      {"LayerNormalization", importLayerNorm},
      {"LeakyRelu", importLeakyRelu},
      {"Less", importBinary<LessOp>},
      {"Log", importUnary<LogOp>},
      {"LogSoftmax", importSoftmax<LogSoftmaxOp>},
      {"MatMul", importBinary<MatMulOp>},
      {"Max", importVariadic<MaxOp>},
      {"MaxPool", importMaxPool},
      {"Min", importVariadic<MinOp>},
      {"Mul", importBinary<MulOp>},
      {"Neg", importUnary<NegOp>},
      {"NegativeLogLikelihoodLoss", importLoss<NegativeLogLikelihoodLossOp>},
      {"Pad", importPad},
      {"Pow", importBinary<PowOp>},
      {"Reciprocal", importUnary<ReciprocalOp>},
      {"ReduceMax", importReduce<ReduceMaxOp>},
      {"ReduceMean", importReduce<ReduceMeanOp>},
      {"ReduceSum", importReduce<ReduceSumOp>},
      {"Relu", importUnary<ReluOp>},
      {"Reshape", importReshape},
      {"Resize", importResize},
      {"Shape", importShape},
      {"Sigmoid", importUnary<SigmoidOp>},
      {"Slice", importSlice},
      {"Softmax", importSoftmax<SoftmaxOp>},
      {"SoftmaxCrossEntropyLoss", importLoss<SoftmaxCrossEntropyLossOp>},
      {"Softplus", importUnary<SoftplusOp>},
      {"Split", importSplit},
      {"Sqrt", importUnary<SqrtOp>},
      {"Squeeze", importSqueezeLike<SqueezeOp>},
      {"Sub", importBinary<SubOp>},
      {"Tanh", importUnary<TanhOp>},
      {"Tile", importTile},
      {"Transpose", importTranspose},
      {"Unsqueeze", importSqueezeLike<UnsqueezeOp>},
      {"Upsample", importResize},
      {"Where", importWhere},
      {"Acos", importUnary<AcosOp>},
      {"Acosh", importUnary<AcoshOp>},
      {"And", importBinary<AndOp>},
      {"ArgMax", importArgReduce<ArgMaxOp>},
      {"ArgMin", importArgReduce<ArgMinOp>},
      {"Asin", importUnary<AsinOp>},
      {"Asinh", importUnary<AsinhOp>},
      {"Atan", importUnary<AtanOp>},
      {"Atanh", importUnary<AtanhOp>},
      {"BitShift", importBitShift},
      {"Ceil", importUnary<CeilOp>},
      {"Cos", importUnary<CosOp>},
      {"Cosh", importUnary<CoshOp>},
      {"CumSum", importCumSum},
      {"Floor", importUnary<FloorOp>},
      {"GatherElements", importGatherElements},
      {"GatherND", importGatherND},
      {"If", importIfNode},
      {"ScatterND", importScatterND},
      {"GreaterOrEqual", importBinary<GreaterOrEqualOp>},
      {"IsInf", importIsInf},
      {"IsNaN", importUnary<IsNaNOp>},
      {"LessOrEqual", importBinary<LessOrEqualOp>},
      {"Mod", importMod},
      {"Not", importUnary<NotOp>},
      {"Or", importBinary<OrOp>},
      {"ReduceMin", importReduce<ReduceMinOp>},
      {"ReduceProd", importReduce<ReduceProdOp>},
      {"Round", importUnary<RoundOp>},
      {"Scatter", importScatterElements},
      {"ScatterElements", importScatterElements},
      {"Sign", importUnary<SignOp>},
      {"Sin", importUnary<SinOp>},
      {"Sinh", importUnary<SinhOp>},
      {"Tan", importUnary<TanOp>},
      {"Xor", importBinary<XorOp>},
  };
  addDecomposedOpHandlers(handlers);
  addRecurrentOpHandlers(handlers);
  return handlers;
  }();
  return handlers;

}

FailureOr<ReduceForm> onnx_import::getReduceForm(NodeImporter &n) {
  ReduceForm form;
  if (n.input(1)) {
    FailureOr<SmallVector<int64_t>> values = n.constantInts(1, "axes");
    if (failed(values))
      return failure();
    form.axes = *values;
  } else if (auto attr = n.getInts("axes")) {
    form.axes = *attr;
  }
  form.keepdims = n.getInt("keepdims", 1);
  form.noop = form.axes.empty() && n.getInt("noop_with_empty_axes", 0);
  return form;
}

std::optional<int64_t>
onnx_import::getFirstUnsupportedOpsetAfter17(StringRef opType) {
  // Semantic changes after opset 17 that the handlers cannot tell from the
  // node itself. Most post-17 changes only widen type constraints (bf16,
  // float8, int4) or add attributes and modes, which the handlers check and
  // reject by name (Resize's antialias, AveragePool's dilations, Pad's
  // wrap), or move attributes to inputs, which they normalise (Reduce* and
  // Pad axes, Split's num_outputs).
  static const llvm::StringMap<int64_t> changes = {
      {"Upsample", 10}, // deprecated in favour of Resize
  };
  auto it = changes.find(opType);
  if (it == changes.end())
    return std::nullopt;
  return it->second;
}

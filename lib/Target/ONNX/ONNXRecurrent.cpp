//===- ONNXRecurrent.cpp - RNN, GRU and LSTM as unrolled mpc ops ----------===//
//
// Shapes are static once the driver pins them, so a recurrence over a
// sequence of T steps is T copies of its cell: the input projection of the
// whole sequence is one matmul per direction, each step adds the hidden
// projection and applies the gates. The unrolled program is ordinary mpc
// IR: the precision passes decide it (projections low with fp32
// accumulation, gates by their neighbours), and its gradient is
// backpropagation through time for free. Sequences shorter than T
// (sequence_lens) are masked step by step in the forward direction.
//
//===----------------------------------------------------------------------===//

#include "Decomposition.h"

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::onnx_import;

namespace {

enum class CellKind { RNN, GRU, LSTM };

/// One ONNX activation function of a recurrent cell.
struct Activation {
  std::string name;
  std::optional<float> alpha, beta;
};

/// The cell's activations: ONNX's defaults, or the `activations`
/// attribute (with activation_alpha/beta consumed in order by the
/// functions that take them).
FailureOr<SmallVector<Activation>> readActivations(NodeImporter &n,
                                                   CellKind kind,
                                                   int64_t directions) {
  SmallVector<std::string> defaults;
  switch (kind) {
  case CellKind::RNN: defaults = {"Tanh"}; break;
  case CellKind::GRU: defaults = {"Sigmoid", "Tanh"}; break;
  case CellKind::LSTM: defaults = {"Sigmoid", "Tanh", "Tanh"}; break;
  }
  SmallVector<std::string> names;
  if (const onnx::AttributeProto *attr = n.attr("activations")) {
    for (const std::string &name : attr->strings())
      names.push_back(name);
    if ((int64_t)names.size() != (int64_t)defaults.size() * directions)
      return n.error() << Twine("'activations' must name " +
                           Twine(defaults.size() * directions) +
                           " functions"),
             failure();
  } else {
    for (int64_t d = 0; d < directions; ++d)
      names.append(defaults.begin(), defaults.end());
  }
  SmallVector<float> alphas = n.getFloats("activation_alpha").value_or(
      SmallVector<float>{});
  SmallVector<float> betas =
      n.getFloats("activation_beta").value_or(SmallVector<float>{});
  size_t nextAlpha = 0, nextBeta = 0;
  SmallVector<Activation> activations;
  for (const std::string &name : names) {
    Activation a{name, std::nullopt, std::nullopt};
    bool takesAlpha = name == "LeakyRelu" || name == "HardSigmoid" ||
                      name == "ThresholdedRelu" || name == "Elu";
    bool takesBeta = name == "HardSigmoid";
    if (takesAlpha && nextAlpha < alphas.size())
      a.alpha = alphas[nextAlpha++];
    if (takesBeta && nextBeta < betas.size())
      a.beta = betas[nextBeta++];
    static const char *known[] = {"Sigmoid", "Tanh", "Relu", "LeakyRelu",
                                  "HardSigmoid", "Softplus",
                                  "ThresholdedRelu", "Elu"};
    if (!llvm::is_contained(known, name))
      return n.error() << Twine("activation '" + name + "' is not supported"),
             failure();
    activations.push_back(a);
  }
  return activations;
}

Value activate(Decomposition &d, NodeImporter &n, const Activation &a,
               Value x) {
  Builder b(n.getContext());
  if (a.name == "Sigmoid")
    return d.op<SigmoidOp>({x});
  if (a.name == "Tanh")
    return d.op<TanhOp>({x});
  if (a.name == "Relu")
    return d.op<ReluOp>({x});
  if (a.name == "Softplus")
    return d.op<SoftplusOp>({x});
  if (a.name == "LeakyRelu")
    return d.op<LeakyReluOp>(
        {x}, {n.named("alpha", b.getF32FloatAttr(a.alpha.value_or(0.01f)))});
  if (a.name == "HardSigmoid")
    return d.op<HardSigmoidOp>(
        {x}, {n.named("alpha", b.getF32FloatAttr(a.alpha.value_or(0.2f))),
              n.named("beta", b.getF32FloatAttr(a.beta.value_or(0.5f)))});
  if (a.name == "ThresholdedRelu") {
    Value above = d.op<GreaterOp>({x, d.scalarLike(x, a.alpha.value_or(1.0f))});
    return d.op<WhereOp>({above, x, d.scalarLike(x, 0)});
  }
  // Elu.
  Value negative = d.op<LessOp>({x, d.scalarLike(x, 0)});
  Value expm1 = d.op<SubOp>({d.op<ExpOp>({x}), d.scalarLike(x, 1)});
  return d.op<WhereOp>(
      {negative, d.op<MulOp>({expm1, d.scalarLike(x, a.alpha.value_or(1.0f))}),
       x});
}

/// Imports RNN, GRU and LSTM (opsets 7 to 14, both layouts, all three
/// directions, initial states, biases, LSTM peepholes, clip).
template <CellKind kind>
LogicalResult importRecurrent(NodeImporter &n) {
  const int64_t gates = kind == CellKind::RNN ? 1 : kind == CellKind::GRU ? 3 : 4;
  FailureOr<Value> xIn = staticInput(n, 0, n.getOpType());
  FailureOr<Value> w = staticInput(n, 1, n.getOpType()),
                   r = staticInput(n, 2, n.getOpType());
  if (failed(xIn) || failed(w) || failed(r))
    return failure();
  std::optional<int64_t> hiddenSize = n.getInt("hidden_size");
  if (!hiddenSize || *hiddenSize <= 0)
    return n.unsupported("a positive 'hidden_size' is required");
  int64_t H = *hiddenSize;
  std::string direction = n.getString("direction").value_or("forward");
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    return n.unsupported("direction '" + direction + "' is not one of "
                         "forward, reverse, bidirectional");
  int64_t directions = direction == "bidirectional" ? 2 : 1;
  bool batchFirst = n.getInt("layout", 0) == 1;
  if (kind == CellKind::LSTM && n.getInt("input_forget", 0))
    return n.unsupported("input_forget = 1 (coupled input and forget gates) "
                         "is not supported");
  bool linearBeforeReset =
      kind == CellKind::GRU && n.getInt("linear_before_reset", 0);
  std::optional<float> clip = n.getFloat("clip");
  FailureOr<SmallVector<Activation>> activations =
      readActivations(n, kind, directions);
  if (failed(activations))
    return failure();

  Decomposition d(n);
  Value x = *xIn;
  auto xType = typeOf(x);
  if (xType.getRank() != 3)
    return n.unsupported("X must be 3-d");
  if (batchFirst)
    x = d.transpose(x, {1, 0, 2});
  int64_t T = typeOf(x).getDimSize(0), B = typeOf(x).getDimSize(1),
          I = typeOf(x).getDimSize(2);
  Type element = xType.getElementType();
  auto expect = [&](Value v, ArrayRef<int64_t> shape, StringRef what) {
    if (typeOf(v).getShape() != shape) {
      std::string expected;
      llvm::raw_string_ostream os(expected);
      llvm::interleave(shape, os, "x");
      n.error() << what << " has type " << v.getType() << ", expected shape "
                << expected;
      return false;
    }
    return true;
  };
  if (!expect(*w, {directions, gates * H, I}, "W") ||
      !expect(*r, {directions, gates * H, H}, "R"))
    return failure();
  Value bias = n.input(3);
  if (bias && !expect(bias, {directions, 2 * gates * H}, "B"))
    return failure();

  // sequence_lens: padding masks in the forward direction; a constant one
  // equal to T everywhere is no padding at all.
  Value mask;
  if (Value lens = n.input(4)) {
    if (!expect(lens, {B}, "sequence_lens"))
      return failure();
    DenseElementsAttr constant = n.tryConstantInput(4);
    bool full = constant && llvm::all_of(constant.getValues<APInt>(),
                                         [&](const APInt &v) {
                                           return v.getSExtValue() == T;
                                         });
    if (!full) {
      if (direction != "forward")
        return n.unsupported("sequence_lens shorter than the sequence in "
                             "the reverse direction is not supported");
      mask = d.reshape(d.convert(lens, IntegerType::get(n.getContext(), 64)),
                       {B, 1});
    }
  }
  Value initialH = n.input(5), initialC = n.input(6), peephole = n.input(7);
  if (kind != CellKind::LSTM)
    initialC = peephole = Value();
  // With layout = 1 the states are [batch, directions, hidden] too.
  SmallVector<int64_t> stateShape =
      batchFirst ? SmallVector<int64_t>{B, directions, H}
                 : SmallVector<int64_t>{directions, B, H};
  if (initialH && !expect(initialH, stateShape, "initial_h"))
    return failure();
  if (initialC && !expect(initialC, stateShape, "initial_c"))
    return failure();
  if (batchFirst) {
    if (initialH)
      initialH = d.transpose(initialH, {1, 0, 2});
    if (initialC)
      initialC = d.transpose(initialC, {1, 0, 2});
  }
  if (peephole && !expect(peephole, {directions, 3 * H}, "P"))
    return failure();

  auto zeros = [&](ArrayRef<int64_t> shape) {
    return d.op<ExpandOp>({d.scalar(element, 0),
                           shapeConstant(n.getBuilder(), n.getLoc(), shape)});
  };
  // x @ m^T for m [rows, cols]: the weights' ONNX layout.
  auto project = [&](Value v, Value m) {
    return d.op<MatMulOp>({v, d.transpose(m, {1, 0})});
  };
  auto clipped = [&](Value v) {
    if (!clip)
      return v;
    Builder b(n.getContext());
    return d.op<ClipOp>({v}, {n.named("min", b.getF64FloatAttr(-*clip)),
                              n.named("max", b.getF64FloatAttr(*clip))});
  };
  auto gate = [&](Value v, int64_t g) { return d.slice(v, 1, g * H, (g + 1) * H); };

  SmallVector<Value> perDirectionY, lastH, lastC;
  for (int64_t dir = 0; dir < directions; ++dir) {
    bool reverse = direction == "reverse" || dir == 1;
    const Activation *f = &(*activations)[dir * (activations->size() / directions)];
    Value wd = d.reshape(d.slice(*w, 0, dir, dir + 1), {gates * H, I});
    Value rd = d.reshape(d.slice(*r, 0, dir, dir + 1), {gates * H, H});
    // The input projection of every step at once: [T, B, G*H].
    Value xw = project(x, wd);
    Value wb, rb;
    if (bias) {
      Value bd = d.reshape(d.slice(bias, 0, dir, dir + 1), {2 * gates * H});
      wb = d.slice(bd, 0, 0, gates * H);
      rb = d.slice(bd, 0, gates * H, 2 * gates * H);
      xw = d.op<AddOp>({xw, wb});
    }
    Value h = initialH ? d.reshape(d.slice(initialH, 0, dir, dir + 1), {B, H})
                       : zeros({B, H});
    Value c;
    if (kind == CellKind::LSTM)
      c = initialC ? d.reshape(d.slice(initialC, 0, dir, dir + 1), {B, H})
                   : zeros({B, H});
    Value pi, po, pf;
    if (peephole) {
      Value pd = d.reshape(d.slice(peephole, 0, dir, dir + 1), {3 * H});
      pi = d.slice(pd, 0, 0, H);
      po = d.slice(pd, 0, H, 2 * H);
      pf = d.slice(pd, 0, 2 * H, 3 * H);
    }
    // GRU's hidden gate needs its own projection of (r . H) (or of H
    // before the reset with linear_before_reset).
    Value rzr = kind == CellKind::GRU ? d.slice(rd, 0, 0, 2 * H) : rd;
    Value rh = kind == CellKind::GRU ? d.slice(rd, 0, 2 * H, 3 * H) : Value();
    Value rbzr = rb && kind == CellKind::GRU ? d.slice(rb, 0, 0, 2 * H) : rb;
    Value rbh = rb && kind == CellKind::GRU ? d.slice(rb, 0, 2 * H, 3 * H)
                                            : Value();
    SmallVector<Value> ys(T);
    for (int64_t step = 0; step < T; ++step) {
      int64_t t = reverse ? T - 1 - step : step;
      Value xt = d.reshape(d.slice(xw, 0, t, t + 1), {B, gates * H});
      Value hr = project(h, rzr);
      if (rbzr)
        hr = d.op<AddOp>({hr, rbzr});
      Value newH, newC;
      switch (kind) {
      case CellKind::RNN:
        newH = activate(d, n, f[0], clipped(d.op<AddOp>({xt, hr})));
        break;
      case CellKind::GRU: {
        Value zrIn = d.op<AddOp>({d.slice(xt, 1, 0, 2 * H), hr});
        Value z = activate(d, n, f[0], clipped(gate(zrIn, 0)));
        Value rgate = activate(d, n, f[0], clipped(gate(zrIn, 1)));
        Value hidden;
        if (linearBeforeReset) {
          hidden = project(h, rh);
          if (rbh)
            hidden = d.op<AddOp>({hidden, rbh});
          hidden = d.op<MulOp>({rgate, hidden});
        } else {
          hidden = project(d.op<MulOp>({rgate, h}), rh);
          if (rbh)
            hidden = d.op<AddOp>({hidden, rbh});
        }
        Value candidate = activate(
            d, n, f[1], clipped(d.op<AddOp>({gate(xt, 2), hidden})));
        // (1 - z) . candidate + z . H
        newH = d.op<AddOp>(
            {d.op<MulOp>({d.op<SubOp>({d.scalarLike(z, 1), z}), candidate}),
             d.op<MulOp>({z, h})});
        break;
      }
      case CellKind::LSTM: {
        // ONNX's gate order: input, output, forget, cell.
        Value all = d.op<AddOp>({xt, hr});
        Value iIn = gate(all, 0), oIn = gate(all, 1), fIn = gate(all, 2);
        if (peephole) {
          iIn = d.op<AddOp>({iIn, d.op<MulOp>({pi, c})});
          fIn = d.op<AddOp>({fIn, d.op<MulOp>({pf, c})});
        }
        Value i = activate(d, n, f[0], clipped(iIn));
        Value fg = activate(d, n, f[0], clipped(fIn));
        Value cell = activate(d, n, f[1], clipped(gate(all, 3)));
        newC = d.op<AddOp>({d.op<MulOp>({fg, c}), d.op<MulOp>({i, cell})});
        if (peephole)
          oIn = d.op<AddOp>({oIn, d.op<MulOp>({po, newC})});
        Value o = activate(d, n, f[0], clipped(oIn));
        newH = d.op<MulOp>({o, activate(d, n, f[2], newC)});
        break;
      }
      }
      Value y = newH;
      if (mask) {
        // Past its length a sequence keeps its state and outputs zeros.
        Value active = d.op<LessOp>(
            {d.scalar(IntegerType::get(n.getContext(), 64), t), mask});
        newH = d.op<WhereOp>({active, newH, h});
        if (newC)
          newC = d.op<WhereOp>({active, newC, c});
        y = d.op<WhereOp>({active, y, d.scalarLike(y, 0)});
      }
      h = newH;
      c = newC;
      ys[t] = d.reshape(y, {1, 1, B, H});
    }
    perDirectionY.push_back(T ? d.concat(ys, 0) : zeros({0, 1, B, H}));
    lastH.push_back(d.reshape(h, {1, B, H}));
    if (c)
      lastC.push_back(d.reshape(c, {1, B, H}));
  }
  if (!d.succeeded())
    return failure();
  SmallVector<Value> results(n.numOutputs());
  if (n.hasOutput(0)) {
    Value y = d.concat(perDirectionY, 1); // [T, D, B, H]
    results[0] = batchFirst ? d.transpose(y, {2, 0, 1, 3}) : y;
  }
  auto stateOutput = [&](ArrayRef<Value> states) {
    Value s = d.concat(states, 0); // [D, B, H]
    return batchFirst ? d.transpose(s, {1, 0, 2}) : s;
  };
  if (n.hasOutput(1))
    results[1] = stateOutput(lastH);
  if (kind == CellKind::LSTM && n.hasOutput(2))
    results[2] = stateOutput(lastC);
  return d.finishAll(results);
}

} // namespace

void onnx_import::addRecurrentOpHandlers(llvm::StringMap<OpHandler> &handlers) {
  handlers.insert({
      {"GRU", importRecurrent<CellKind::GRU>},
      {"LSTM", importRecurrent<CellKind::LSTM>},
      {"RNN", importRecurrent<CellKind::RNN>},
  });
}

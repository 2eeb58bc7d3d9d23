//===- ONNXDecompositions.cpp - ONNX ops imported as several mpc ops ------===//
//
// Handlers for ONNX operators that are compositions of mpc ops (the way
// ONNX itself defines most of them as functions): activations built from
// exp and select, the norm-like reductions, index tricks such as Hardmax
// and OneHot, layout shuffles, and ops whose result is a constant once
// shapes are known (Size, EyeLike, ConstantOfShape, Range). Every op of a
// decomposition carries the node's location, so precision decisions,
// reports and errors name the ONNX node; gradients come from the parts.
//
//===----------------------------------------------------------------------===//

#include "Decomposition.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::mpc;
using namespace mlir::mpc::onnx_import;

namespace {

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// Elu: x for x >= 0, alpha (exp(x) - 1) below.
LogicalResult importElu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Decomposition d(n);
  double alpha = n.getFloat("alpha", 1.0f);
  Value negative = d.op<LessOp>({*x, d.scalarLike(*x, 0)});
  Value expm1 = d.op<SubOp>({d.op<ExpOp>({*x}), d.scalarLike(*x, 1)});
  Value scaled = d.op<MulOp>({expm1, d.scalarLike(*x, alpha)});
  return d.finish(d.op<WhereOp>({negative, scaled, *x}));
}

/// Selu: gamma x for x > 0, gamma (alpha exp(x) - alpha) otherwise.
LogicalResult importSelu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Decomposition d(n);
  double alpha = n.getFloat("alpha", 1.67326319217681884765625f);
  double gamma = n.getFloat("gamma", 1.05070102214813232421875f);
  Value positive = d.op<GreaterOp>({*x, d.scalarLike(*x, 0)});
  Value expm1 = d.op<SubOp>({d.op<ExpOp>({*x}), d.scalarLike(*x, 1)});
  Value negative = d.op<MulOp>({expm1, d.scalarLike(*x, alpha)});
  Value selected = d.op<WhereOp>({positive, *x, negative});
  return d.finish(d.op<MulOp>({selected, d.scalarLike(*x, gamma)}));
}

/// Celu: max(0, x) + min(0, alpha (exp(x / alpha) - 1)).
LogicalResult importCelu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Decomposition d(n);
  double alpha = n.getFloat("alpha", 1.0f);
  Value zero = d.scalarLike(*x, 0);
  Value expm1 = d.op<SubOp>(
      {d.op<ExpOp>({d.op<DivOp>({*x, d.scalarLike(*x, alpha)})}),
       d.scalarLike(*x, 1)});
  Value negative =
      d.op<MinOp>({d.op<MulOp>({expm1, d.scalarLike(*x, alpha)}), zero});
  return d.finish(d.op<AddOp>({d.op<MaxOp>({*x, zero}), negative}));
}

/// ThresholdedRelu: x where x > alpha, else 0.
LogicalResult importThresholdedRelu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Decomposition d(n);
  double alpha = n.getFloat("alpha", 1.0f);
  Value above = d.op<GreaterOp>({*x, d.scalarLike(*x, alpha)});
  return d.finish(d.op<WhereOp>({above, *x, d.scalarLike(*x, 0)}));
}

/// Softsign: x / (1 + |x|).
LogicalResult importSoftsign(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Decomposition d(n);
  Value denominator = d.op<AddOp>({d.op<AbsOp>({*x}), d.scalarLike(*x, 1)});
  return d.finish(d.op<DivOp>({*x, denominator}));
}

/// Shrink: x + bias below -lambd, x - bias above lambd, 0 between.
LogicalResult importShrink(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Decomposition d(n);
  double bias = n.getFloat("bias", 0.0f), lambd = n.getFloat("lambd", 0.5f);
  Value below = d.op<LessOp>({*x, d.scalarLike(*x, -lambd)});
  Value above = d.op<GreaterOp>({*x, d.scalarLike(*x, lambd)});
  Value shifted = d.op<WhereOp>(
      {above, d.op<SubOp>({*x, d.scalarLike(*x, bias)}), d.scalarLike(*x, 0)});
  return d.finish(d.op<WhereOp>(
      {below, d.op<AddOp>({*x, d.scalarLike(*x, bias)}), shifted}));
}

/// PRelu: x for x >= 0, slope x below (slope broadcast to x).
LogicalResult importPRelu(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), slope = n.requiredInput(1);
  if (failed(x) || failed(slope))
    return failure();
  Decomposition d(n);
  Value negative = d.op<LessOp>({*x, d.scalarLike(*x, 0)});
  return d.finish(d.op<WhereOp>({negative, d.op<MulOp>({*x, *slope}), *x}));
}

//===----------------------------------------------------------------------===//
// Variadic arithmetic and casts
//===----------------------------------------------------------------------===//

/// Sum and Mean: a left fold of Add (Mean then divides by the count).
template <bool isMean>
LogicalResult importSumOrMean(NodeImporter &n) {
  if (n.numInputs() == 0 || !n.input(0))
    return n.unsupported("needs at least one input");
  Decomposition d(n);
  Value acc = n.input(0);
  if (n.numInputs() == 1)
    return d.finish(d.op<IdentityOp>({acc}));
  for (unsigned i = 1; i < n.numInputs(); ++i)
    acc = d.op<AddOp>({acc, n.input(i)});
  if (isMean)
    acc = d.op<DivOp>({acc, d.scalarLike(acc, n.numInputs())});
  return d.finish(acc);
}

/// CastLike: Cast to the element type of the second input.
LogicalResult importCastLike(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0), like = n.requiredInput(1);
  if (failed(x) || failed(like))
    return failure();
  Decomposition d(n);
  return d.finish(d.convert(*x, typeOf(*like).getElementType()));
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class NormReduction { L1, L2, SumSquare, LogSum, LogSumExp };

/// ReduceL1 = sum |x|, ReduceL2 = sqrt(sum x^2), ReduceSumSquare = sum x^2,
/// ReduceLogSum = log(sum x), ReduceLogSumExp = log(sum exp(x - m)) + m
/// with m the maximum (finite where the maximum is: no overflow in exp).
template <NormReduction kind>
LogicalResult importNormReduction(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  FailureOr<ReduceForm> form = getReduceForm(n);
  if (failed(form))
    return failure();
  Decomposition d(n);
  if (form->noop) {
    // ONNX applies the elementwise part even when nothing is reduced.
    switch (kind) {
    case NormReduction::L1:
      return d.finish(d.op<AbsOp>({*x}));
    case NormReduction::L2:
      return d.finish(d.op<AbsOp>({*x}));
    case NormReduction::SumSquare:
      return d.finish(d.op<MulOp>({*x, *x}));
    case NormReduction::LogSum:
      return d.finish(d.op<LogOp>({*x}));
    case NormReduction::LogSumExp:
      return d.finish(d.op<IdentityOp>({*x}));
    }
  }
  ArrayRef<int64_t> axes = form->axes;
  bool keep = form->keepdims;
  switch (kind) {
  case NormReduction::L1:
    return d.finish(d.reduce<ReduceSumOp>(d.op<AbsOp>({*x}), axes, keep));
  case NormReduction::L2:
    return d.finish(d.op<SqrtOp>(
        {d.reduce<ReduceSumOp>(d.op<MulOp>({*x, *x}), axes, keep)}));
  case NormReduction::SumSquare:
    return d.finish(d.reduce<ReduceSumOp>(d.op<MulOp>({*x, *x}), axes, keep));
  case NormReduction::LogSum:
    return d.finish(d.op<LogOp>({d.reduce<ReduceSumOp>(*x, axes, keep)}));
  case NormReduction::LogSumExp: {
    // An all -inf (or +inf) slice would give inf - inf: shift by 0 there.
    auto finiteMax = [&](bool keepdims) {
      Value max = d.reduce<ReduceMaxOp>(*x, axes, keepdims);
      return d.op<WhereOp>({d.op<IsInfOp>({max}), d.scalarLike(*x, 0), max});
    };
    Value shift = finiteMax(true);
    Value sum = d.reduce<ReduceSumOp>(
        d.op<ExpOp>({d.op<SubOp>({*x, shift})}), axes, keep);
    return d.finish(d.op<AddOp>({d.op<LogOp>({sum}),
                                 keep ? shift : finiteMax(false)}));
  }
  }
  return failure();
}

//===----------------------------------------------------------------------===//
// Index tricks
//===----------------------------------------------------------------------===//

/// An i64 constant counting 0..size-1 along `axis` of a rank-`rank`
/// tensor (size 1 elsewhere): compared with indices it makes one-hots.
Value iotaAlong(Decomposition &d, MLIRContext *context, int64_t rank,
                int64_t axis, int64_t size) {
  SmallVector<int64_t> shape(rank, 1);
  shape[axis] = size;
  SmallVector<int64_t> values(size);
  for (int64_t i = 0; i < size; ++i)
    values[i] = i;
  auto type = RankedTensorType::get(shape, IntegerType::get(context, 64));
  return d.constant(DenseElementsAttr::get(type, ArrayRef<int64_t>(values)));
}

/// Hardmax: 1 at the first maximum along `axis`, 0 elsewhere. Before
/// opset 13 the input is coerced to 2-d at `axis` (default 1).
LogicalResult importHardmax(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, "Hardmax");
  if (failed(x))
    return failure();
  auto type = typeOf(*x);
  int64_t rank = type.getRank();
  bool coerced = n.getOpset() < 13;
  int64_t axis = n.getInt("axis", coerced ? 1 : -1);
  FailureOr<int64_t> normalized = normalizeAxis(axis, rank);
  if (failed(normalized))
    return n.unsupported("axis " + Twine(axis) + " is out of range for rank " +
                         Twine(rank));
  Decomposition d(n);
  Value input = *x;
  int64_t reduced = *normalized;
  if (coerced) {
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < rank; ++i)
      (i < reduced ? outer : inner) *= type.getDimSize(i);
    input = d.reshape(input, {outer, inner});
    reduced = 1;
  }
  int64_t workRank = typeOf(input).getRank();
  Builder b(n.getContext());
  Value index = d.op<ArgMaxOp>(
      {input}, {n.named("axis", b.getI64IntegerAttr(reduced)),
                n.named("keepdims", b.getBoolAttr(true))});
  Value iota = iotaAlong(d, n.getContext(), workRank, reduced,
                         typeOf(input).getDimSize(reduced));
  Value hot = d.convert(d.op<EqualOp>({index, iota}), type.getElementType());
  if (coerced)
    hot = d.reshape(hot, type.getShape());
  return d.finish(hot);
}

/// OneHot: `values[1]` where the index (negative ones counted from the
/// end) equals the position along the new `axis` of size `depth`, else
/// `values[0]`. Depth must be known at compile time.
LogicalResult importOneHot(NodeImporter &n) {
  FailureOr<Value> indices = n.requiredInput(0), values = n.requiredInput(2);
  if (failed(indices) || failed(values))
    return failure();
  FailureOr<DenseElementsAttr> depthAttr = n.constantInput(1, "depth");
  if (failed(depthAttr))
    return failure();
  if (depthAttr->getNumElements() != 1)
    return n.unsupported("depth must hold one value");
  double depthValue =
      isa<FloatType>(depthAttr->getElementType())
          ? (*depthAttr->value_begin<APFloat>()).convertToDouble()
          : double((*depthAttr->value_begin<APInt>()).getSExtValue());
  int64_t depth = static_cast<int64_t>(depthValue);
  if (depth <= 0)
    return n.unsupported("depth " + Twine(depth) + " must be positive");
  auto valuesType = typeOf(*values);
  if (valuesType.getRank() != 1 || valuesType.getDimSize(0) != 2)
    return n.unsupported("values must be a 1-d tensor of two elements");
  auto indicesType = typeOf(*indices);
  int64_t rank = indicesType.getRank() + 1;
  int64_t axis = n.getInt("axis", -1);
  FailureOr<int64_t> normalized = normalizeAxis(axis, rank);
  if (failed(normalized))
    return n.unsupported("axis " + Twine(axis) + " is out of range for rank " +
                         Twine(rank));
  Decomposition d(n);
  Builder b(n.getContext());
  Type i64 = b.getI64Type();
  Value index = d.convert(*indices, i64);
  Value depthConst = d.scalar(i64, depth);
  // Negative indices count from the end.
  index = d.op<WhereOp>({d.op<LessOp>({index, d.scalar(i64, 0)}),
                         d.op<AddOp>({index, depthConst}), index});
  index = d.op<UnsqueezeOp>({index},
                            {n.named("axes", n.i64Array({*normalized}))});
  Value iota = iotaAlong(d, n.getContext(), rank, *normalized, depth);
  Value hot = d.op<EqualOp>({index, iota});
  // values[i] as a constant when the values are (an initializer is not a
  // weight here), else a 1-element slice, broadcast against the one-hots.
  Type element = valuesType.getElementType();
  DenseElementsAttr constantValues;
  if (n.input(2).getDefiningOp<ConstantOp>() ||
      n.input(2).getDefiningOp<GetParameterOp>())
    if (FailureOr<DenseElementsAttr> attr = n.constantInput(2, "values");
        succeeded(attr))
      constantValues = *attr;
  auto pick = [&](int64_t i) -> Value {
    if (constantValues) {
      auto type = RankedTensorType::get({}, element);
      return d.constant(DenseElementsAttr::get(
          type, constantValues.getValues<Attribute>()[i]));
    }
    return d.op<SliceOp>({*values}, {n.named("starts", n.i64Array({i})),
                                     n.named("ends", n.i64Array({i + 1})),
                                     n.named("axes", n.i64Array({0})),
                                     n.named("steps", n.i64Array({1}))});
  };
  return d.finish(d.op<WhereOp>({hot, pick(1), pick(0)}));
}

/// Trilu: the lower (upper = 0) or upper triangle of the last two dims,
/// above/below diagonal k, the rest zero. A constant k gives a constant
/// mask; a k computed at run time (a scalar) is compared with the
/// constant column-minus-row offsets.
LogicalResult importTrilu(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, "Trilu");
  if (failed(x))
    return failure();
  auto type = typeOf(*x);
  if (type.getRank() < 2)
    return n.unsupported("input must have rank 2 or more");
  bool upper = n.getInt("upper", 1);
  int64_t rows = type.getDimSize(type.getRank() - 2);
  int64_t cols = type.getDimSize(type.getRank() - 1);
  Decomposition d(n);
  Value keep;
  if (n.input(1) && !n.tryConstantInput(1)) {
    auto kType = typeOf(n.input(1));
    if (!kType.hasStaticShape() || kType.getNumElements() != 1)
      return n.unsupported("k must hold one value");
    SmallVector<int64_t> offsets(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        offsets[i * cols + j] = j - i;
    auto offsetType =
        RankedTensorType::get({rows, cols}, IntegerType::get(n.getContext(), 64));
    Value offset = d.constant(
        DenseElementsAttr::get(offsetType, ArrayRef<int64_t>(offsets)));
    Value k = d.convert(d.reshape(n.input(1), {}),
                        IntegerType::get(n.getContext(), 64));
    keep = upper ? d.op<GreaterOrEqualOp>({offset, k})
                 : d.op<LessOrEqualOp>({offset, k});
  } else {
    int64_t k = 0;
    if (n.input(1)) {
      FailureOr<SmallVector<int64_t>> values = n.constantInts(1, "k");
      if (failed(values))
        return failure();
      if (values->size() != 1)
        return n.unsupported("k must hold one value");
      k = (*values)[0];
    }
    SmallVector<bool> mask(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        mask[i * cols + j] = upper ? j - i >= k : j - i <= k;
    auto maskType =
        RankedTensorType::get({rows, cols}, IntegerType::get(n.getContext(), 1));
    keep = d.constant(DenseElementsAttr::get(maskType, mask));
  }
  return d.finish(d.op<WhereOp>({keep, *x, d.scalarLike(*x, 0)}));
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

/// DepthToSpace (DCR or CRD) and SpaceToDepth: a reshape, a transpose and
/// a reshape, as ONNX defines them.
template <bool toSpace>
LogicalResult importDepthSpace(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, n.getOpType());
  if (failed(x))
    return failure();
  auto type = typeOf(*x);
  if (type.getRank() != 4)
    return n.unsupported("input must be 4-d (N, C, H, W)");
  std::optional<int64_t> blocksize = n.getInt("blocksize");
  if (!blocksize || *blocksize <= 0)
    return n.unsupported("a positive 'blocksize' is required");
  int64_t bs = *blocksize;
  int64_t N = type.getDimSize(0), C = type.getDimSize(1),
          H = type.getDimSize(2), W = type.getDimSize(3);
  Decomposition d(n);
  if (toSpace) {
    if (C % (bs * bs))
      return n.unsupported("channels " + Twine(C) +
                           " are not a multiple of blocksize^2");
    bool crd = n.getString("mode").value_or("DCR") == "CRD";
    Value shaped =
        crd ? d.reshape(*x, {N, C / (bs * bs), bs, bs, H, W})
            : d.reshape(*x, {N, bs, bs, C / (bs * bs), H, W});
    Value moved = crd ? d.transpose(shaped, {0, 1, 4, 2, 5, 3})
                      : d.transpose(shaped, {0, 3, 4, 1, 5, 2});
    return d.finish(d.reshape(moved, {N, C / (bs * bs), H * bs, W * bs}));
  }
  if (H % bs || W % bs)
    return n.unsupported("spatial dims " + Twine(H) + "x" + Twine(W) +
                         " are not multiples of blocksize " + Twine(bs));
  Value shaped = d.reshape(*x, {N, C, H / bs, bs, W / bs, bs});
  Value moved = d.transpose(shaped, {0, 3, 5, 1, 2, 4});
  return d.finish(d.reshape(moved, {N, C * bs * bs, H / bs, W / bs}));
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

/// Einsum of one or two operands as transposes, sums and one batched
/// matmul: letters only one operand has and the output lacks are summed
/// first; then [batch, free, contracted] x [batch, contracted, free].
LogicalResult importEinsum(NodeImporter &n) {
  std::optional<std::string> attr = n.getString("equation");
  if (!attr)
    return n.unsupported("attribute 'equation' is required");
  std::string equation;
  for (char c : *attr)
    if (c != ' ')
      equation.push_back(c);
  if (n.numInputs() < 1 || n.numInputs() > 2)
    return n.unsupported("Einsum of " + Twine(n.numInputs()) +
                         " operands is not supported (one or two)");
  SmallVector<Value> operands;
  for (unsigned i = 0; i < n.numInputs(); ++i) {
    FailureOr<Value> v = staticInput(n, i, "Einsum");
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  size_t arrow = equation.find("->");
  std::string lhs = equation.substr(0, arrow);
  SmallVector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (terms.size() != operands.size())
    return n.unsupported("equation '" + *attr + "' has " +
                         Twine(terms.size()) + " operand terms for " +
                         Twine(operands.size()) + " inputs");
  // "..." stands for the same (right-aligned) dims in every term: letters
  // no term uses.
  std::string unused;
  for (char c = 'A'; c <= 'Z'; ++c)
    if (equation.find(c) == std::string::npos)
      unused.push_back(c);
  int64_t ellipsisRank = 0;
  for (auto [term, operand] : llvm::zip(terms, operands)) {
    size_t dots = term.find("...");
    int64_t letters = term.size() - (dots == std::string::npos ? 0 : 3);
    int64_t rank = typeOf(operand).getRank();
    if (dots == std::string::npos ? letters != rank : letters > rank)
      return n.unsupported("term '" + term + "' does not match an operand of "
                           "rank " + Twine(rank));
    if (dots != std::string::npos)
      ellipsisRank = std::max(ellipsisRank, rank - letters);
  }
  if (ellipsisRank > (int64_t)unused.size())
    return n.unsupported("too many dims under '...'");
  auto expand = [&](std::string term, int64_t rank) {
    size_t dots = term.find("...");
    if (dots == std::string::npos)
      return term;
    int64_t count = rank - (int64_t(term.size()) - 3);
    return term.substr(0, dots) +
           unused.substr(ellipsisRank - count, count) + term.substr(dots + 3);
  };
  for (auto [term, operand] : llvm::zip(terms, operands))
    term = expand(term, typeOf(operand).getRank());
  std::string output;
  if (arrow != std::string::npos) {
    output = equation.substr(arrow + 2);
    if (output.find("...") != std::string::npos)
      output = expand(output, ellipsisRank + int64_t(output.size()) - 3);
  } else {
    // Implicit output: the ellipsis dims, then the letters used once, in
    // alphabetical order.
    output = unused.substr(0, ellipsisRank);
    std::string all = llvm::join(terms, "");
    for (char c = 'a'; c <= 'z'; ++c)
      if (std::count(all.begin(), all.end(), c) == 1)
        output.push_back(c);
  }
  llvm::StringMap<int64_t> sizes;
  for (auto [term, operand] : llvm::zip(terms, operands)) {
    for (auto [i, c] : llvm::enumerate(term)) {
      if (std::count(term.begin(), term.end(), c) > 1)
        return n.unsupported("a letter repeated within one term ('" + term +
                             "', a diagonal) is not supported");
      int64_t size = typeOf(operand).getDimSize(i);
      auto [it, inserted] = sizes.try_emplace(StringRef(&c, 1), size);
      if (!inserted && it->second != size)
        return n.unsupported("dim '" + Twine(c) + "' has sizes " +
                             Twine(it->second) + " and " + Twine(size) +
                             " (broadcasting in Einsum is not supported)");
    }
  }
  for (char c : output)
    if (!sizes.count(StringRef(&c, 1)))
      return n.unsupported("output letter '" + Twine(c) +
                           "' is in no operand term");
  Decomposition d(n);
  auto sizeOf = [&](char c) { return sizes.lookup(StringRef(&c, 1)); };
  // Sums out the letters of `term` in neither `keep` nor `other`.
  auto sumOut = [&](Value v, std::string &term, StringRef keep,
                    StringRef other) {
    SmallVector<int64_t> axes;
    std::string rest;
    for (auto [i, c] : llvm::enumerate(term)) {
      if (keep.contains(c) || other.contains(c))
        rest.push_back(c);
      else
        axes.push_back(i);
    }
    term = rest;
    return axes.empty() ? v : d.reduce<ReduceSumOp>(v, axes, false);
  };
  auto permute = [&](Value v, StringRef from, StringRef to) {
    SmallVector<int64_t> perm;
    for (char c : to)
      perm.push_back(from.find(c));
    bool identity = llvm::equal(perm, llvm::seq<int64_t>(0, perm.size()));
    return identity ? v : d.transpose(v, perm);
  };
  if (operands.size() == 1) {
    std::string term = terms[0];
    Value v = sumOut(operands[0], term, output, "");
    return d.finish(permute(v, term, output));
  }
  std::string a = terms[0], b = terms[1];
  Value x = sumOut(operands[0], a, output, b);
  Value y = sumOut(operands[1], b, output, a);
  std::string batch, aFree, bFree, contracted;
  for (char c : a) {
    bool inB = b.find(c) != std::string::npos;
    bool inOut = output.find(c) != std::string::npos;
    (inB ? (inOut ? batch : contracted) : aFree).push_back(c);
  }
  for (char c : b)
    if (a.find(c) == std::string::npos)
      bFree.push_back(c);
  auto product = [&](StringRef letters) {
    int64_t p = 1;
    for (char c : letters)
      p *= sizeOf(c);
    return p;
  };
  int64_t B = product(batch), M = product(aFree), N = product(bFree),
          K = product(contracted);
  x = d.reshape(permute(x, a, batch + aFree + contracted), {B, M, K});
  y = d.reshape(permute(y, b, batch + contracted + bFree), {B, K, N});
  Value z = d.op<MatMulOp>({x, y});
  std::string zTerm = batch + aFree + bFree;
  SmallVector<int64_t> zShape;
  for (char c : zTerm)
    zShape.push_back(sizeOf(c));
  z = d.reshape(z, zShape);
  return d.finish(permute(z, zTerm, output));
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// InstanceNormalization: layer normalisation of each (n, c) over the
/// spatial dims (mpc.layer_norm from axis 2, unit scale), then the
/// per-channel scale and bias.
LogicalResult importInstanceNorm(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, "InstanceNormalization");
  FailureOr<Value> scale = n.requiredInput(1), bias = n.requiredInput(2);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  auto type = typeOf(*x);
  int64_t rank = type.getRank();
  if (rank < 3)
    return n.unsupported("input must have rank 3 or more (N, C, D1, ...)");
  Decomposition d(n);
  Builder b(n.getContext());
  SmallVector<int64_t> spatial(type.getShape().drop_front(2));
  auto onesType = RankedTensorType::get(spatial, type.getElementType());
  Value ones = d.constant(DenseElementsAttr::get(
      onesType, b.getFloatAttr(type.getElementType(), 1.0)));
  FailureOr<LayerNormOp> norm = n.create<LayerNormOp>(
      {*x, ones},
      {n.named("axis", b.getI64IntegerAttr(2)),
       n.named("epsilon", b.getF32FloatAttr(n.getFloat("epsilon", 1e-5f)))});
  if (failed(norm))
    return failure();
  SmallVector<int64_t> channelShape(rank - 1, 1);
  channelShape[0] = type.getDimSize(1);
  Value scaled =
      d.op<MulOp>({norm->getOutput(), d.reshape(*scale, channelShape)});
  return d.finish(d.op<AddOp>({scaled, d.reshape(*bias, channelShape)}));
}

/// LRN: x / (bias + alpha / size * sum of x^2 over a window of `size`
/// channels)^beta. The window sum is an average pool (padded windows count
/// their zeros) over the channels of x^2 viewed as [N, 1, C, rest],
/// times `size`.
LogicalResult importLRN(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, "LRN");
  if (failed(x))
    return failure();
  auto type = typeOf(*x);
  if (type.getRank() < 3)
    return n.unsupported("input must have rank 3 or more (N, C, D1, ...)");
  std::optional<int64_t> size = n.getInt("size");
  if (!size || *size <= 0)
    return n.unsupported("a positive 'size' is required");
  double alpha = n.getFloat("alpha", 1e-4f), beta = n.getFloat("beta", 0.75f),
         bias = n.getFloat("bias", 1.0f);
  int64_t N = type.getDimSize(0), C = type.getDimSize(1);
  int64_t rest = type.getNumElements() / std::max<int64_t>(N * C, 1);
  Decomposition d(n);
  Builder b(n.getContext());
  Value squares = d.reshape(d.op<MulOp>({*x, *x}), {N, 1, C, rest});
  // ONNX's window: floor((size - 1) / 2) channels before, ceil after.
  int64_t before = (*size - 1) / 2, after = *size - 1 - before;
  Value mean = d.op<AveragePoolOp>(
      {squares},
      {n.named("kernel_shape", n.i64Array({*size, 1})),
       n.named("strides", n.i64Array({1, 1})),
       n.named("pads", n.i64Array({before, 0, after, 0})),
       n.named("count_include_pad", b.getUnitAttr())});
  Value sum = d.reshape(mean, type.getShape());
  // bias + alpha / size * (size * mean) = bias + alpha * mean.
  Value base = d.op<AddOp>({d.op<MulOp>({sum, d.scalarLike(*x, alpha)}),
                            d.scalarLike(*x, bias)});
  Value scale = d.op<PowOp>({base, d.scalarLike(*x, beta)});
  return d.finish(d.op<DivOp>({*x, scale}));
}

/// MeanVarianceNormalization: (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)
/// over `axes` (default 0, 2, 3), ONNX's own function body.
LogicalResult importMeanVarianceNorm(NodeImporter &n) {
  FailureOr<Value> x = n.requiredInput(0);
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes = n.getInts("axes").value_or(
      SmallVector<int64_t>{0, 2, 3});
  Decomposition d(n);
  Value mean = d.reduce<ReduceMeanOp>(*x, axes, true);
  Value meanOfSquares = d.reduce<ReduceMeanOp>(d.op<MulOp>({*x, *x}), axes, true);
  Value variance = d.op<SubOp>({meanOfSquares, d.op<MulOp>({mean, mean})});
  Value deviation =
      d.op<AddOp>({d.op<SqrtOp>({variance}), d.scalarLike(*x, 1e-9)});
  return d.finish(d.op<DivOp>({d.op<SubOp>({*x, mean}), deviation}));
}

//===----------------------------------------------------------------------===//
// Constants once shapes are known
//===----------------------------------------------------------------------===//

/// The element type ONNX data type `dtype` names, or null.
Type elementTypeOf(MLIRContext *context, int64_t dtype) {
  switch (dtype) {
  case onnx::TensorProto::FLOAT: return Float32Type::get(context);
  case onnx::TensorProto::DOUBLE: return Float64Type::get(context);
  case onnx::TensorProto::FLOAT16: return Float16Type::get(context);
  case onnx::TensorProto::BFLOAT16: return BFloat16Type::get(context);
  case onnx::TensorProto::BOOL: return IntegerType::get(context, 1);
  case onnx::TensorProto::INT8: return IntegerType::get(context, 8);
  case onnx::TensorProto::INT16: return IntegerType::get(context, 16);
  case onnx::TensorProto::INT32: return IntegerType::get(context, 32);
  case onnx::TensorProto::INT64: return IntegerType::get(context, 64);
  case onnx::TensorProto::UINT8:
    return IntegerType::get(context, 8, IntegerType::Unsigned);
  case onnx::TensorProto::UINT16:
    return IntegerType::get(context, 16, IntegerType::Unsigned);
  case onnx::TensorProto::UINT32:
    return IntegerType::get(context, 32, IntegerType::Unsigned);
  case onnx::TensorProto::UINT64:
    return IntegerType::get(context, 64, IntegerType::Unsigned);
  default:
    return nullptr;
  }
}

/// A splat of `value` in `element` (integers truncate toward zero).
Attribute scalarAttr(Builder &b, Type element, double value) {
  if (isa<FloatType>(element))
    return b.getFloatAttr(element, value);
  return b.getIntegerAttr(element, APInt(element.getIntOrFloatBitWidth(),
                                         static_cast<int64_t>(value),
                                         /*isSigned=*/true));
}

/// Size: the element count (an i64 scalar), known when the shape is.
LogicalResult importSize(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, "Size");
  if (failed(x))
    return failure();
  Decomposition d(n);
  auto type = RankedTensorType::get({}, IntegerType::get(n.getContext(), 64));
  return d.finish(d.constant(DenseElementsAttr::get(
      type, ArrayRef<int64_t>{typeOf(*x).getNumElements()})));
}

/// EyeLike: ones on diagonal k of a 2-d tensor shaped like the input.
LogicalResult importEyeLike(NodeImporter &n) {
  FailureOr<Value> x = staticInput(n, 0, "EyeLike");
  if (failed(x))
    return failure();
  auto type = typeOf(*x);
  if (type.getRank() != 2)
    return n.unsupported("input must be 2-d");
  Type element = type.getElementType();
  if (auto dtype = n.getInt("dtype")) {
    element = elementTypeOf(n.getContext(), *dtype);
    if (!element)
      return n.unsupported("dtype " + Twine(*dtype) + " is not supported");
  }
  int64_t k = n.getInt("k", 0);
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  Builder b(n.getContext());
  SmallVector<Attribute> values(rows * cols, scalarAttr(b, element, 0));
  for (int64_t i = 0; i < rows; ++i)
    if (int64_t j = i + k; j >= 0 && j < cols)
      values[i * cols + j] = scalarAttr(b, element, 1);
  Decomposition d(n);
  return d.finish(d.constant(
      DenseElementsAttr::get(RankedTensorType::get({rows, cols}, element), values)));
}

/// ConstantOfShape: a splat of `value` (default float 0) in the shape its
/// input holds, which must be known at compile time (a Shape of a
/// static tensor folds to one).
LogicalResult importConstantOfShape(NodeImporter &n) {
  FailureOr<SmallVector<int64_t>> shape = n.constantInts(0, "shape");
  if (failed(shape))
    return failure();
  for (int64_t dim : *shape)
    if (dim < 0)
      return n.unsupported("shape has a negative dim " + Twine(dim));
  Builder b(n.getContext());
  Attribute value = b.getF32FloatAttr(0.0f);
  Type element = b.getF32Type();
  if (n.attr("value")) {
    FailureOr<DenseElementsAttr> parsed = n.getTensor("value");
    if (failed(parsed))
      return failure();
    if (parsed->getNumElements() != 1)
      return n.unsupported("value must hold one element");
    element = parsed->getElementType();
    value = *parsed->value_begin<Attribute>();
  }
  Decomposition d(n);
  return d.finish(d.constant(DenseElementsAttr::get(
      RankedTensorType::get(*shape, element), value)));
}

/// Range: start, start + delta, ... below limit; its three scalars must be
/// known at compile time (the result's length depends on them).
LogicalResult importRange(NodeImporter &n) {
  FailureOr<DenseElementsAttr> start = n.constantInput(0, "start"),
                               limit = n.constantInput(1, "limit"),
                               delta = n.constantInput(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  Type element = start->getElementType();
  auto read = [&](DenseElementsAttr attr) {
    if (isa<FloatType>(attr.getElementType()))
      return (*attr.value_begin<APFloat>()).convertToDouble();
    return double((*attr.value_begin<APInt>()).getSExtValue());
  };
  double first = read(*start), end = read(*limit), step = read(*delta);
  if (step == 0)
    return n.unsupported("delta is zero");
  int64_t count = std::max<int64_t>(
      0, static_cast<int64_t>(std::ceil((end - first) / step)));
  Builder b(n.getContext());
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < count; ++i)
    values.push_back(scalarAttr(b, element, first + i * step));
  Decomposition d(n);
  return d.finish(d.constant(
      DenseElementsAttr::get(RankedTensorType::get({count}, element), values)));
}

} // namespace

void onnx_import::addDecomposedOpHandlers(llvm::StringMap<OpHandler> &handlers) {
  handlers.insert({
      {"Celu", importCelu},
      {"CastLike", importCastLike},
      {"ConstantOfShape", importConstantOfShape},
      {"DepthToSpace", importDepthSpace<true>},
      {"Einsum", importEinsum},
      {"Elu", importElu},
      {"EyeLike", importEyeLike},
      {"Hardmax", importHardmax},
      {"InstanceNormalization", importInstanceNorm},
      {"Mean", importSumOrMean<true>},
      {"LRN", importLRN},
      {"MeanVarianceNormalization", importMeanVarianceNorm},
      {"OneHot", importOneHot},
      {"PRelu", importPRelu},
      {"Range", importRange},
      {"ReduceL1", importNormReduction<NormReduction::L1>},
      {"ReduceL2", importNormReduction<NormReduction::L2>},
      {"ReduceLogSum", importNormReduction<NormReduction::LogSum>},
      {"ReduceLogSumExp", importNormReduction<NormReduction::LogSumExp>},
      {"ReduceSumSquare", importNormReduction<NormReduction::SumSquare>},
      {"Selu", importSelu},
      {"Shrink", importShrink},
      {"Size", importSize},
      {"Softsign", importSoftsign},
      {"SpaceToDepth", importDepthSpace<false>},
      {"Sum", importSumOrMean<false>},
      {"ThresholdedRelu", importThresholdedRelu},
      {"Trilu", importTrilu},
  });
}

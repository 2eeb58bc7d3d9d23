//===- Decomposition.h - importing one node as several mpc ops -*- C++ -*-===//
//
// Internal to the ONNX importer: the builder handlers use when an ONNX
// operator becomes a composition of mpc ops (ONNXDecompositions.cpp,
// ONNXRecurrent.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef MPC_LIB_TARGET_ONNX_DECOMPOSITION_H
#define MPC_LIB_TARGET_ONNX_DECOMPOSITION_H

#include "NodeImporter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir {
namespace mpc {
namespace onnx_import {

/// Builds a chain of mpc ops for one node; the first failure (a shape or
/// verifier error, already reported) makes every later step a no-op.
class Decomposition {
public:
  explicit Decomposition(NodeImporter &n) : n(n) {}

  template <typename OpTy>
  Value op(ValueRange operands, ArrayRef<NamedAttribute> attributes = {}) {
    if (failed || llvm::is_contained(operands, Value()))
      return failed = true, Value();
    FailureOr<OpTy> created = n.create<OpTy>(operands, attributes);
    if (::mlir::failed(created))
      return failed = true, Value();
    return (*created)->getResult(0);
  }

  /// A rank-0 constant of `element` (broadcast by the elementwise ops).
  Value scalar(Type element, double value) {
    return createScalarConstant(n.getBuilder(), n.getLoc(), element, value);
  }
  Value scalarLike(Value like, double value) {
    return scalar(getElementTypeOrSelf(like), value);
  }
  Value constant(DenseElementsAttr value) {
    return ConstantOp::create(n.getBuilder(), n.getLoc(), value);
  }
  Value reshape(Value x, ArrayRef<int64_t> shape) {
    return op<ReshapeOp>(
        {x, shapeConstant(n.getBuilder(), n.getLoc(), shape)});
  }
  Value transpose(Value x, ArrayRef<int64_t> perm) {
    return op<TransposeOp>({x}, {n.named("perm", n.i64Array(perm))});
  }
  Value convert(Value x, Type element) {
    if (failed || !x)
      return failed = true, Value();
    auto type = cast<RankedTensorType>(x.getType());
    if (type.getElementType() == element)
      return x;
    FailureOr<Operation *> created = n.createWithTypes(
        ConvertOp::getOperationName(), {x}, {type.clone(element)}, {});
    if (::mlir::failed(created))
      return failed = true, Value();
    return (*created)->getResult(0);
  }
  template <typename ReduceTy>
  Value reduce(Value x, ArrayRef<int64_t> axes, bool keepdims) {
    Builder b(n.getContext());
    return op<ReduceTy>({x}, {n.named("axes", n.i64Array(axes)),
                              n.named("keepdims", b.getBoolAttr(keepdims))});
  }

  /// x[start:end] along `axis`.
  Value slice(Value x, int64_t axis, int64_t start, int64_t end) {
    return op<SliceOp>({x}, {n.named("starts", n.i64Array({start})),
                             n.named("ends", n.i64Array({end})),
                             n.named("axes", n.i64Array({axis})),
                             n.named("steps", n.i64Array({1}))});
  }
  Value concat(ValueRange values, int64_t axis) {
    if (values.size() == 1)
      return values.front();
    Builder b(n.getContext());
    return op<ConcatOp>(values, {n.named("axis", b.getI64IntegerAttr(axis))});
  }
  bool succeeded() const { return !failed; }

  /// Sets several results (null for outputs the node does not produce).
  LogicalResult finishAll(ArrayRef<Value> results) {
    if (failed)
      return failure();
    n.setResults(results);
    return success();
  }

  LogicalResult finish(Value result) {
    if (failed || !result)
      return failure();
    n.setResults({result});
    return success();
  }

private:
  NodeImporter &n;
  bool failed = false;
};

inline RankedTensorType typeOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Requires input i with a static shape (constants built from the shape).
inline FailureOr<Value> staticInput(NodeImporter &n, unsigned i,
                                    StringRef why) {
  FailureOr<Value> x = n.requiredInput(i);
  if (failed(x))
    return failure();
  if (!typeOf(*x).hasStaticShape())
    return n.error() << why << " needs a static shape (pin dynamic dims with "
                            "--input-shape); input " << i << " is "
                     << x->getType(),
           failure();
  return x;
}

} // namespace onnx_import
} // namespace mpc
} // namespace mlir

#endif // MPC_LIB_TARGET_ONNX_DECOMPOSITION_H

//===- Utils.h - helpers shared by the mpc-to-linalg patterns ---*- C++ -*-===//
//
// Building blocks of the MPCToLinalg conversion, shared by its op families
// (Elementwise.cpp, Contraction.cpp, ...): scalar conversion in the math
// type, broadcasting elementwise generics, accumulators and rounding,
// reductions, padding.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_CONVERSION_MPCTOLINALG_UTILS_H
#define LIB_CONVERSION_MPCTOLINALG_UTILS_H

#include "mpc/Conversion/MPCToLinalg/MPCToLinalg.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/Transforms/DialectConversion.h"
#include <cmath>

namespace mlir::mpc::lowering {

bool isLowFloat(Type type);

/// The type scalar math runs in: fp32 for the 16-bit floats.
Type mathType(Type element);

Value convertScalar(OpBuilder &b, Location loc, Value value, Type to);

/// An empty tensor of `type`; dynamic dims are read from `sources` (the
/// first source whose aligned dim is dynamic, right-aligned as in ONNX
/// broadcasting).
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange sources);

/// Builds `linalg.generic` computing `body` elementwise over broadcast
/// operands. The body receives the operands' scalars already converted to
/// `computeType` (when given) and returns the result scalar, converted to
/// the result element type afterwards.
using ScalarFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

FailureOr<Value> buildElementwise(ConversionPatternRewriter &rewriter,
                                  Operation *op, ValueRange operands,
                                  RankedTensorType resultType,
                                  Type computeType, ScalarFn body);

/// The number of elements of `tensor` over `dims`, as a `floatType` scalar
/// (the divisor of means).
Value countElements(OpBuilder &b, Location loc, Value tensor,
                    ArrayRef<int64_t> dims, Type floatType);

/// Reassociation re-expanding a tensor whose `reduced` dims were dropped
/// back to rank `reduced.size()` with those dims as size 1: each kept dim
/// groups with the reduced dims after it; leading reduced dims join the
/// first group (none kept: a 0-d tensor expands to all ones).
SmallVector<ReassociationIndices> keptDimGroups(ArrayRef<bool> reduced);

/// The `strides`/`dilations` attribute form of linalg's named conv and
/// pooling ops.
DenseIntElementsAttr i64Vector(Builder &b, ArrayRef<int64_t> values);

/// A tensor of `sizes` filled with `value` (its element type the value's).
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                   TypedAttr value);

/// How reduceDims combines elements.
enum class ReductionKind { Sum, Max, Min, Prod };

/// Reduces `input` over `dims` into a tensor of the kept dims in `acc`,
/// each element converted to `acc` first. Max and Min propagate NaN.
Value reduceDims(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> dims, Type acc, ReductionKind kind);

/// Replaces `op` by `result`, or fails if building it failed.
LogicalResult replaceWithResult(ConversionPatternRewriter &rewriter,
                                Operation *op, FailureOr<Value> result);

Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

/// The accumulator type of a contraction or reduction.
Type accumulatorType(Operation *op, Type element);

/// A zero-filled accumulator of `type` sized like `sources`.
Value zeroAccumulator(OpBuilder &b, Location loc, RankedTensorType type,
                      ArrayRef<OpFoldResult> sizes);

/// Rounds an accumulator tensor to the result element type.
Value roundTo(ConversionPatternRewriter &rewriter, Operation *op, Value acc,
              RankedTensorType resultType);

/// The indexing map reading a tensor reduced over `dims` from inside a
/// generic over the full `rank` (the reduced dims are dropped).
AffineMap reducedMap(int64_t rank, ArrayRef<int64_t> dims,
                     MLIRContext *context);

/// A generic over `like`'s shape reading `inputs` through `maps` (one per
/// input), writing `resultElement`.
Value mapGeneric(OpBuilder &b, Location loc, Value like, Type resultElement,
                 ValueRange inputs, ArrayRef<AffineMap> maps,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// Pads the spatial dims of an NC... tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, TypedAttr value);

/// A generic over `shape`'s iteration space with `inputs` read through
/// `maps`, producing one result per element type in `resultElements`.
SmallVector<Value> buildGeneric(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
    ArrayRef<Type> resultElements, ValueRange inputs, ArrayRef<AffineMap> maps,
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body);

/// The map reading a 0-d tensor from any iteration space.
AffineMap scalarMap(OpBuilder &b, int64_t rank);

Value f32Const(OpBuilder &b, Location loc, double v);

} // namespace mlir::mpc::lowering

#endif // LIB_CONVERSION_MPCTOLINALG_UTILS_H

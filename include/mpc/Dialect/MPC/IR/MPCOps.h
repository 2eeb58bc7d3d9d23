//===- MPCOps.h - mpc dialect operations ------------------------*- C++ -*-===//
//
// Op classes of the mpc dialect and the shape-inference helpers their
// generated code calls.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_IR_MPCOPS_H
#define MPC_DIALECT_MPC_IR_MPCOPS_H

#include "mpc/Dialect/MPC/IR/MPCDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CastInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace mpc {
class PrecisionAttr;

/// True when every `actual` type is a ranked tensor of the same element type
/// and rank as the `inferred` one, and agrees with it on every static dim
/// (so `actual` may be more static than what inference alone could tell).
bool areRefinedTypes(TypeRange inferred, TypeRange actual);

/// The precision an op without an explicit `precision` attribute has: its
/// first floating-point operand's element type for compute, accumulate and
/// result. Null if the op has no floating-point operand.
PrecisionAttr getDefaultPrecision(Operation *op);

/// Verifies the `precision` attribute of an op against its operand and
/// result types.
LogicalResult verifyPrecisionOp(Operation *op);

/// Result type of an elementwise op: the broadcast shape of `operands` with
/// `resultElementType` if given, else the precision's result type, else the
/// first operand's element type.
LogicalResult inferElementwiseTypes(std::optional<Location> loc,
                                    ValueRange operands,
                                    PrecisionAttr precision,
                                    Type resultElementType,
                                    SmallVectorImpl<Type> &inferred);

/// Result type of ReduceSum/Mean/Max.
LogicalResult inferReductionTypes(std::optional<Location> loc, Type inputType,
                                  ArrayRef<int64_t> axes, bool keepdims,
                                  PrecisionAttr precision,
                                  SmallVectorImpl<Type> &inferred);

/// Result type of ArgMax/ArgMin: the input's shape without (or with size 1
/// at) `axis`, i64.
LogicalResult inferArgReductionTypes(std::optional<Location> loc,
                                     Type inputType, int64_t axis,
                                     bool keepdims,
                                     SmallVectorImpl<Type> &inferred);

/// Broadcasts two shapes by ONNX's multidirectional rule. Dynamic dims
/// broadcast against 1 or equal dims; fails on a static mismatch.
LogicalResult broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs,
                              SmallVectorImpl<int64_t> &result);

/// Normalises a possibly negative `axis` for a tensor of `rank`; fails when
/// it is out of [-rank, rank).
FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// An mpc.constant 0-d tensor of `element` (a float or integer type)
/// holding `value`: the training program's scalars (step counters, loss
/// scale, hyperparameters).
Value createScalarConstant(OpBuilder &b, Location loc, Type element,
                           double value);

/// `loc` tagged as belonging to `part` of a training step (a fused
/// location with #mpc.training_part metadata; the node name stays what
/// getNodeName finds).
Location withTrainingPart(Location loc, TrainingPart part);

/// The training part `loc` was tagged with; Forward when untagged.
TrainingPart getTrainingPart(Location loc);

/// A node name as a reader sees it: `/fc2/Gemm`, `/fc2/Gemm (grad)`,
/// `fc2.weight (optimizer)`, `(loss scaling)` for an unnamed op.
std::string nameWithTrainingPart(StringRef name, TrainingPart part);

/// A Slice bound (`start` or `end`) on a dim of size `dim` as ONNX clamps
/// it for `step`: negative values count from the end, then [0, dim] for a
/// positive step and [-1, dim - 1] for a negative one. The start bound is
/// the first index the slice reads.
int64_t sliceBoundary(int64_t dim, int64_t index, int64_t step);

/// An mpc.constant 1-d i64 tensor holding `values`: a static shape, or
/// the indices of a gather.
Value shapeConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> values);

/// `value` reshaped to `type`'s static shape (`value` itself when it has
/// that shape already).
Value reshapeTo(OpBuilder &b, Location loc, Value value,
                RankedTensorType type);
/// `value` reshaped to the static `shape` (`value` itself when it has it).
Value reshapeTo(OpBuilder &b, Location loc, Value value,
                ArrayRef<int64_t> shape);

/// The transposed convolution of `input` [N, F, D...] by `weight`
/// [F, C/group, K...] (a convolution's weight layout, F its output
/// channels; 2 or 3 spatial dims), as mpc ops: the input gradient of a
/// convolution and ONNX's ConvTranspose. Output position o of each spatial
/// dim is the full transposed convolution's position o + cropBegin; the
/// result is [N, C, outSize...], with `bias` [C] added when given.
Value buildTransposedConv(OpBuilder &b, Location loc, Value input, Value weight,
                          Value bias, int64_t group, ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations,
                          ArrayRef<int64_t> cropBegin,
                          ArrayRef<int64_t> outSize);

/// The trait carrying an op's ONNX operator type (`onnxOpType` in ODS; the
/// op's static getONNXOpType() is written by it).
template <typename ConcreteType>
class ONNXOpType : public OpTrait::TraitBase<ConcreteType, ONNXOpType> {};

} // namespace mpc
} // namespace mlir

#include "mpc/Dialect/MPC/IR/MPCInterfaces.h.inc"

#define GET_OP_CLASSES
#include "mpc/Dialect/MPC/IR/MPCOps.h.inc"

#endif // MPC_DIALECT_MPC_IR_MPCOPS_H

//===- NodeImporter.h - per-node import context (internal) ------*- C++ -*-===//
//
// The state one ONNX node's handler sees: its inputs as values, typed
// attribute accessors with ONNX defaults, constant-input reading, and
// op creation that reports shape errors instead of aborting.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_LIB_TARGET_ONNX_NODEIMPORTER_H
#define MPC_LIB_TARGET_ONNX_NODEIMPORTER_H

#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <optional>

namespace mlir {
namespace mpc {
namespace onnx_import {

class GraphImporter;

class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
               StringRef name, Location loc, int64_t opset,
               SmallVector<Value> inputs)
      : graph(graph), node(node), name(name), loc(loc), opset(opset),
        inputs(std::move(inputs)) {}

  const onnx::NodeProto &getNode() const { return node; }
  StringRef getName() const { return name; }
  StringRef getOpType() const { return node.op_type(); }
  Location getLoc() const { return loc; }
  int64_t getOpset() const { return opset; }
  MLIRContext *getContext() const { return loc.getContext(); }
  OpBuilder &getBuilder();
  GraphImporter &getGraph() { return graph; }

  /// The i-th input, or null when absent or given as "".
  Value input(unsigned i) const {
    return i < inputs.size() ? inputs[i] : Value();
  }
  unsigned numInputs() const { return inputs.size(); }
  /// Whether the i-th output is named (and so may be used).
  bool hasOutput(unsigned i) const {
    return i < (unsigned)node.output_size() && !node.output(i).empty();
  }
  unsigned numOutputs() const { return node.output_size(); }

  /// Reports an error about this node; the graph importer prefixes the
  /// node's name and op type.
  InFlightDiagnostic error() { return emitError(loc); }
  /// Reports an unsupported feature and fails.
  LogicalResult unsupported(const Twine &what) {
    return error() << what, failure();
  }
  /// Requires input i to be present.
  FailureOr<Value> requiredInput(unsigned i);

  const onnx::AttributeProto *attr(StringRef attrName) const;
  std::optional<int64_t> getInt(StringRef attrName) const;
  int64_t getInt(StringRef attrName, int64_t defaultValue) const {
    return getInt(attrName).value_or(defaultValue);
  }
  std::optional<float> getFloat(StringRef attrName) const;
  float getFloat(StringRef attrName, float defaultValue) const {
    return getFloat(attrName).value_or(defaultValue);
  }
  std::optional<SmallVector<int64_t>> getInts(StringRef attrName) const;
  std::optional<SmallVector<float>> getFloats(StringRef attrName) const;
  std::optional<std::string> getString(StringRef attrName) const;
  /// The tensor attribute `attrName` (e.g. ConstantOfShape's value) as
  /// dense elements; an error when absent or unreadable.
  FailureOr<DenseElementsAttr> getTensor(StringRef attrName);

  /// The value of input i when it is known at import time (an initializer
  /// or a constant); reports an error naming `what` otherwise.
  FailureOr<DenseElementsAttr> constantInput(unsigned i, StringRef what);
  /// The value of input i when it is known at import time, else null (no
  /// error: for operands that may also be computed at run time).
  DenseElementsAttr tryConstantInput(unsigned i);
  FailureOr<SmallVector<int64_t>> constantInts(unsigned i, StringRef what);
  FailureOr<SmallVector<double>> constantFloats(unsigned i, StringRef what);

  /// Creates `OpTy` with inferred result types; on a shape or verifier
  /// error the diagnostic is reported and failure returned.
  template <typename OpTy>
  FailureOr<OpTy> create(ValueRange operands,
                         ArrayRef<NamedAttribute> attributes = {}) {
    OperationState state(loc, OpTy::getOperationName());
    state.addOperands(operands);
    state.addAttributes(attributes);
    // As ODS builders do: inherent attributes live in the op's properties,
    // which inference reads.
    auto &properties = state.getOrAddProperties<typename OpTy::Properties>();
    if (failed(setProperties(state, &properties)))
      return failure();
    // Inference reads defaulted attributes too; Operation::create would
    // only fill them in afterwards.
    OpTy::populateDefaultProperties(state.name, properties);
    SmallVector<Type> types;
    if (failed(OpTy::inferReturnTypes(
            getContext(), loc, state.operands,
            state.attributes.getDictionary(getContext()),
            state.getRawProperties(), state.regions, types)))
      return failure();
    state.addTypes(types);
    FailureOr<Operation *> op = finishCreate(state);
    if (failed(op))
      return failure();
    return cast<OpTy>(*op);
  }

  /// Creates an op with explicit result types (for ops whose result type
  /// is not derived from operands, e.g. mpc.convert).
  FailureOr<Operation *> createWithTypes(StringRef opName, ValueRange operands,
                                         TypeRange resultTypes,
                                         ArrayRef<NamedAttribute> attributes);

  /// Sets the node's outputs (null for outputs the op does not produce).
  void setResults(ValueRange values) { results.assign(values.begin(), values.end()); }
  ArrayRef<Value> getResults() const { return results; }

  /// Declares that output i is not produced, and why. Exporters often name
  /// outputs nobody reads (BatchNorm's saved statistics); only a use of one
  /// is an error, reported with `reason`.
  void setUnsupportedOutput(unsigned i, StringRef reason) {
    unsupportedOutputs[i] = reason.str();
  }
  std::optional<std::string> getUnsupportedOutput(unsigned i) const {
    auto it = unsupportedOutputs.find(i);
    if (it == unsupportedOutputs.end())
      return std::nullopt;
    return it->second;
  }

  NamedAttribute named(StringRef attrName, Attribute value) {
    return NamedAttribute(StringAttr::get(getContext(), attrName), value);
  }
  Attribute i64Array(ArrayRef<int64_t> values);

private:
  LogicalResult setProperties(OperationState &state,
                              OpaqueProperties properties);
  /// Inserts the op and verifies it; erases it again on failure.
  FailureOr<Operation *> finishCreate(OperationState &state);

  GraphImporter &graph;
  const onnx::NodeProto &node;
  StringRef name;
  Location loc;
  int64_t opset;
  SmallVector<Value> inputs;
  SmallVector<Value> results;
  std::map<unsigned, std::string> unsupportedOutputs;
};

using OpHandler = LogicalResult (*)(NodeImporter &);

/// Imports a Constant node (shares the tensor reader with initializers).
LogicalResult importConstantNode(NodeImporter &n);

/// Imports an If node, inlining its branches (ONNXImporter.cpp).
LogicalResult importIfNode(NodeImporter &n);

/// Imports the nodes of a subgraph (an If branch) into the enclosing
/// function, where they see the outer graph's values; returns its outputs.
FailureOr<SmallVector<Value>> importSubgraph(NodeImporter &n,
                                             const onnx::GraphProto &graph);

/// The axes and keepdims of a Reduce* node (an attribute before opset 13
/// for ReduceSum and 18 for the others, an optional constant input after)
/// and whether it asks for an identity (noop_with_empty_axes).
struct ReduceForm {
  SmallVector<int64_t> axes;
  bool keepdims = true;
  bool noop = false;
};
FailureOr<ReduceForm> getReduceForm(NodeImporter &n);

/// Adds the handlers of ops imported as compositions of mpc ops
/// (ONNXDecompositions.cpp).
void addDecomposedOpHandlers(llvm::StringMap<OpHandler> &handlers);

/// Adds RNN, GRU and LSTM, unrolled over the sequence (ONNXRecurrent.cpp).
void addRecurrentOpHandlers(llvm::StringMap<OpHandler> &handlers);

/// The handler for each supported ONNX op type (default domain).
const llvm::StringMap<OpHandler> &getOpHandlers();

/// Ops whose semantics changed after opset 17 in ways the handlers do not
/// understand: op type -> first opset with the change. Models with a newer
/// opset import when none of their ops is listed at or below that opset.
std::optional<int64_t> getFirstUnsupportedOpsetAfter17(StringRef opType);

/// The file holding `tensor`'s external data (ExternalData.cpp), resolved
/// and checked to lie inside the directory of the model at `modelPath`:
/// absolute paths, '..' and symlinks leaving it are refused.
FailureOr<std::string> resolveExternalDataPath(StringRef modelPath,
                                               const onnx::TensorProto &tensor,
                                               Location loc);

/// The bytes of `tensor`'s external data (ExternalData.cpp): its file must
/// resolve inside the directory of the model at `modelPath`, its byte range
/// inside the file; errors name the tensor.
FailureOr<std::vector<char>> readExternalData(StringRef modelPath,
                                              const onnx::TensorProto &tensor,
                                              Location loc);

/// Parses the model at `path` (ModelLoader.cpp); errors (unreadable,
/// malformed protobuf, no graph) are emitted at `loc`.
LogicalResult loadModel(StringRef path, onnx::ModelProto &model, Location loc);

/// Turns every float `Constant` node of the main graph holding a tensor of
/// rank > 0 into an initializer named like its output (a graph input too,
/// for IR versions before 4), so that it imports as a trainable parameter:
/// exporters such as Paddle2ONNX write all weights as Constant nodes.
/// Returns how many were promoted.
int64_t promoteFloatConstants(onnx::ModelProto &model);

} // namespace onnx_import
} // namespace mpc
} // namespace mlir

#endif // MPC_LIB_TARGET_ONNX_NODEIMPORTER_H

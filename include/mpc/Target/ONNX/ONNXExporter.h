//===- ONNXExporter.h - trained weights back into the ONNX model -*- C++ -*-===//
//
// A training binary writes the original model with its trained weights
// (`--save-onnx`) without linking protobuf: at compile time the model is
// split into the serialized ModelProto without its graph and the
// serialized GraphProto without the trainable initializers. The runtime
// writes `prefix + graph field(graph body + one initializer per trained
// weight)`: protobuf fields may come in any order, so this is the same
// model with new initializer values.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_TARGET_ONNX_ONNXEXPORTER_H
#define MPC_TARGET_ONNX_ONNXEXPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
namespace mpc {

/// One trained initializer: its ONNX name, the training-state slot that
/// holds it (its qualified name, "param:NAME" or "stat:NAME"), its ONNX
/// data type and dims.
struct ONNXTrainableWeight {
  std::string name, stateName;
  int32_t dataType = 1;
  std::vector<int64_t> dims;
};

/// A training-state slot that holds an initializer of the model: the
/// initializer's name and the slot's qualified name.
struct ONNXStateSlot {
  std::string initializer, slot;
};

struct ONNXWeightTemplate {
  /// The ModelProto without field 7 (graph), serialized.
  std::string modelPrefix;
  /// The GraphProto without the trainable initializers, serialized.
  std::string graphBody;
  std::vector<ONNXTrainableWeight> weights;
};

/// Splits the model at `path` for the training-state slots that hold its
/// initializers (`stateSlots`: trained weights and BatchNorm running
/// statistics; with
/// `trainableConstants`, float Constant nodes count as initializers, as
/// the importer promoted them, and are written back as initializers). The
/// graph is written for inference: training-mode BatchNormalization and
/// Dropout nodes are switched to inference mode. Fails with an error on
/// `errors` when the model cannot be read or a slot's name is not an
/// initializer of the graph.
FailureOr<ONNXWeightTemplate>
buildONNXWeightTemplate(llvm::StringRef path,
                        llvm::ArrayRef<ONNXStateSlot> stateSlots,
                        bool trainableConstants, llvm::raw_ostream &errors);

} // namespace mpc
} // namespace mlir

#endif // MPC_TARGET_ONNX_ONNXEXPORTER_H

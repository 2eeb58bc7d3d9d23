//===- ONNXExporter.cpp - trained weights back into the ONNX model --------===//

#include "mpc/Target/ONNX/ONNXExporter.h"
#include "NodeImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::mpc;

/// The written model is for inference, as the binary's eval step runs it:
/// BatchNormalization in training mode normalises with its running
/// statistics (the trained ones written with the weights) and Dropout is
/// the identity.
static void switchToInference(onnx::GraphProto &graph) {
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    if (node.op_type() == "BatchNormalization") {
      bool training = false;
      for (onnx::AttributeProto &attr : *node.mutable_attribute())
        if (attr.name() == "training_mode" && attr.i() != 0) {
          attr.set_i(0);
          training = true;
        }
      // Before opset 14 the extra outputs are what make it training; from
      // 14 on they must be absent in inference mode.
      if (training || node.output_size() > 1)
        node.mutable_output()->DeleteSubrange(1, node.output_size() - 1);
    } else if (node.op_type() == "Dropout" && node.input_size() > 2) {
      // An absent training_mode input is false.
      node.mutable_input()->DeleteSubrange(2, node.input_size() - 2);
    }
  }
}

FailureOr<ONNXWeightTemplate>
mpc::buildONNXWeightTemplate(StringRef path, ArrayRef<ONNXStateSlot> stateSlots,
                             bool trainableConstants, raw_ostream &errors) {
  MLIRContext context;
  onnx::ModelProto model;
  Location loc = FileLineColLoc::get(&context, path, 0, 0);
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      errors << path << ": error: " << diag.str() << "\n";
      return success();
    });
    if (failed(onnx_import::loadModel(path, model, loc)))
      return failure();
  }
  // Trained Constant-node weights are written back as initializers.
  if (trainableConstants)
    onnx_import::promoteFloatConstants(model);
  SmallVector<std::pair<std::string, std::string>> written;
  for (const ONNXStateSlot &slot : stateSlots)
    written.push_back({slot.initializer, slot.slot});
  llvm::StringSet<> trained;
  for (const auto &[name, slot] : written)
    trained.insert(name);

  ONNXWeightTemplate result;
  onnx::GraphProto *graph = model.mutable_graph();
  llvm::StringMap<const onnx::TensorProto *> byName;
  for (const onnx::TensorProto &tensor : graph->initializer())
    byName[tensor.name()] = &tensor;
  for (const auto &[name, slot] : written) {
    auto it = byName.find(name);
    if (it == byName.end()) {
      errors << path << ": error: trained parameter '" << name
             << "' is not an initializer of the graph; --save-onnx cannot "
                "write it\n";
      return failure();
    }
    const onnx::TensorProto &tensor = *it->second;
    result.weights.push_back(
        {name, slot, tensor.data_type(),
         std::vector<int64_t>(tensor.dims().begin(), tensor.dims().end())});
  }
  switchToInference(*graph);
  // Initializers that stay (constants, non-trainable) keep their data; one
  // held in an external file stays there, referenced relative to the
  // written model as in the original.
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  bool keepsExternalData = false;
  for (onnx::TensorProto &tensor : *graph->mutable_initializer()) {
    if (trained.contains(tensor.name()))
      continue;
    keepsExternalData |=
        tensor.data_location() == onnx::TensorProto::EXTERNAL;
    *kept.Add() = std::move(tensor);
  }
  graph->mutable_initializer()->Swap(&kept);
  if (keepsExternalData)
    errors << path << ": warning: untrained initializers with external data "
           << "stay external: a model written by --save-onnx refers to "
              "their files by the original relative paths\n";
  if (!graph->SerializeToString(&result.graphBody)) {
    errors << path << ": error: cannot serialise the graph\n";
    return failure();
  }
  model.clear_graph();
  if (!model.SerializeToString(&result.modelPrefix)) {
    errors << path << ": error: cannot serialise the model\n";
    return failure();
  }
  return result;
}

//===- ONNXExporter.cpp - trained weights back into the ONNX model --------===//

#include "mpc/Target/ONNX/ONNXExporter.h"
#include "NodeImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::mpc;

FailureOr<ONNXWeightTemplate>
mpc::buildONNXWeightTemplate(StringRef path, ArrayRef<std::string> parameters,
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
  llvm::StringSet<> trained;
  for (const std::string &name : parameters)
    trained.insert(name);

  ONNXWeightTemplate result;
  onnx::GraphProto *graph = model.mutable_graph();
  llvm::StringMap<const onnx::TensorProto *> byName;
  for (const onnx::TensorProto &tensor : graph->initializer())
    byName[tensor.name()] = &tensor;
  for (const std::string &name : parameters) {
    auto it = byName.find(name);
    if (it == byName.end()) {
      errors << path << ": error: trained parameter '" << name
             << "' is not an initializer of the graph; --save-onnx cannot "
                "write it\n";
      return failure();
    }
    const onnx::TensorProto &tensor = *it->second;
    result.weights.push_back(
        {name, "param:" + name, tensor.data_type(),
         std::vector<int64_t>(tensor.dims().begin(), tensor.dims().end())});
  }
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

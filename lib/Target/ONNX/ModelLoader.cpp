//===- ModelLoader.cpp - reading and validating ONNX model files ----------===//
//
// The protobuf is parsed with protobuf's logging silenced (mpc reports
// problems itself, naming the file) and checked to be a model at all
// before anything reads it; Constant nodes can be promoted to
// initializers so that they train (--trainable-constants).
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>

#include <limits>

using namespace mlir;
using namespace mlir::mpc;

//===----------------------------------------------------------------------===//
// Model loading and validation
//===----------------------------------------------------------------------===//

namespace {
/// Silences protobuf's own logging: parse problems are reported by mpc.
struct ProtobufLogSilencer {
  ProtobufLogSilencer() {
    previous = google::protobuf::SetLogHandler(
        [](google::protobuf::LogLevel, const char *, int, const std::string &) {
        });
  }
  ~ProtobufLogSilencer() { google::protobuf::SetLogHandler(previous); }
  google::protobuf::LogHandler *previous;
};
} // namespace

int64_t mpc::onnx_import::promoteFloatConstants(onnx::ModelProto &model) {
  onnx::GraphProto *graph = model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  int64_t promoted = 0;
  for (onnx::NodeProto &node : *graph->mutable_node()) {
    const onnx::TensorProto *value = nullptr;
    onnx::TensorProto fromList;
    if (node.op_type() == "Constant" && node.domain().empty() &&
        node.output_size() == 1)
      for (const auto &attr : node.attribute()) {
        if (attr.name() == "value" && attr.has_t())
          value = &attr.t();
        // value_floats: a 1-d float tensor.
        if (attr.name() == "value_floats") {
          fromList.set_data_type(onnx::TensorProto::FLOAT);
          fromList.add_dims(attr.floats_size());
          for (float f : attr.floats())
            fromList.add_float_data(f);
          value = &fromList;
        }
      }
    bool isFloat = value && (value->data_type() == onnx::TensorProto::FLOAT ||
                             value->data_type() == onnx::TensorProto::FLOAT16 ||
                             value->data_type() == onnx::TensorProto::BFLOAT16);
    if (!isFloat || value->dims_size() == 0) {
      *kept.Add() = std::move(node);
      continue;
    }
    onnx::TensorProto *tensor = graph->add_initializer();
    *tensor = *value;
    tensor->set_name(node.output(0));
    if (model.ir_version() < 4) {
      onnx::ValueInfoProto *input = graph->add_input();
      input->set_name(node.output(0));
      auto *type = input->mutable_type()->mutable_tensor_type();
      type->set_elem_type(value->data_type());
      for (int64_t dim : value->dims())
        type->mutable_shape()->add_dim()->set_dim_value(dim);
    }
    ++promoted;
  }
  graph->mutable_node()->Swap(&kept);
  return promoted;
}

LogicalResult mpc::onnx_import::loadModel(StringRef path,
                                          onnx::ModelProto &model,
                                          Location loc) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(loc) << "cannot open: " << buffer.getError().message();
  StringRef bytes = (*buffer)->getBuffer();
  if (bytes.empty())
    return emitError(loc) << "the file is empty, not an ONNX model";
  ProtobufLogSilencer silence;
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return emitError(loc)
           << "not a valid ONNX model: the protobuf is malformed or truncated";
  if (!model.has_graph() || model.ir_version() <= 0)
    return emitError(loc) << "not an ONNX model: "
                          << (model.has_graph() ? "no IR version"
                                                : "no graph");
  return success();
}

//===- TrainedModel.cpp - the trained weights as an ONNX model ------------===//
//
// --save-onnx: the model the binary was compiled from, with its trained
// initializers, written as protobuf without a protobuf library: the
// compiler embedded the ModelProto and GraphProto without those
// initializers (ONNXExporter.h), and protobuf fields may come in any
// order, so the runtime appends the trained TensorProtos to the graph and
// the graph to the model.
//
//===----------------------------------------------------------------------===//

#include "TrainedModel.h"

#include <cstring>

namespace mpc {
namespace runtime {
namespace {

//===----------------------------------------------------------------------===//
// fp32 -> ONNX element types, for --save-onnx
//===----------------------------------------------------------------------===//

uint16_t toHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exponent = int32_t((x >> 23) & 0xff) - 127 + 15;
  uint32_t mantissa = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff)
    return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 31)
    return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10)
      return sign;
    mantissa |= 0x800000;
    uint32_t shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = sign | (uint32_t(exponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return half;
}

uint16_t toBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return uint16_t((x >> 16) | 0x40);
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

void appendVarint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(v | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

void appendLengthDelimited(std::string &out, unsigned field,
                           const std::string &bytes) {
  appendVarint(out, (field << 3) | 2);
  appendVarint(out, bytes.size());
  out += bytes;
}

} // namespace

std::string serializeTrainedModel(const TrainingProgram &program,
                                  const std::map<std::string, const Array *>
                                      &stateByName) {
  std::string graph = program.onnxGraphBody;
  for (const ONNXWeight &w : program.onnxWeights) {
    auto it = stateByName.find(w.stateName);
    if (it == stateByName.end())
      throw Error("--save-onnx: no trained value for '" + w.name + "'");
    const Array &value = *it->second;
    if (value.dtype != "<f4")
      throw Error("--save-onnx: the trained value of '" + w.name +
                  "' has dtype " + value.dtype + ", not <f4");
    std::string tensor;
    for (int64_t d : w.dims) {
      appendVarint(tensor, 1 << 3);
      appendVarint(tensor, uint64_t(d));
    }
    appendVarint(tensor, 2 << 3);
    appendVarint(tensor, uint64_t(w.dataType));
    appendLengthDelimited(tensor, 8, w.name);
    std::string raw;
    int64_t n = value.elements();
    for (int64_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, value.data.data() + 4 * i, 4);
      if (w.dataType == 1) { // FLOAT
        raw.append(reinterpret_cast<const char *>(&f), 4);
      } else if (w.dataType == 10 || w.dataType == 16) { // FLOAT16, BFLOAT16
        uint16_t h = w.dataType == 10 ? toHalf(f) : toBFloat16(f);
        raw.append(reinterpret_cast<const char *>(&h), 2);
      } else if (w.dataType == 11) { // DOUBLE
        double d = f;
        raw.append(reinterpret_cast<const char *>(&d), 8);
      } else {
        throw Error("--save-onnx: initializer '" + w.name +
                    "' has ONNX data type " + std::to_string(w.dataType) +
                    ", which trained weights cannot be written as");
      }
    }
    appendLengthDelimited(tensor, 9, raw);
    appendLengthDelimited(graph, 5, tensor);
  }
  std::string model = program.onnxModelPrefix;
  appendLengthDelimited(model, 7, graph);
  return model;
}

} // namespace runtime
} // namespace mpc

//===- TrainedModel.h - the trained weights as an ONNX model ----*- C++ -*-===//

#ifndef LIB_RUNTIME_TRAINEDMODEL_H
#define LIB_RUNTIME_TRAINEDMODEL_H

#include "mpc/Runtime/Runtime.h"

#include <map>
#include <string>

namespace mpc {
namespace runtime {

/// The ONNX model `program` was compiled from with the trained values of
/// its weights (`stateByName`: each slot's value by its qualified name),
/// converted to each initializer's data type; ModelProto = prefix +
/// graph(body + trained initializers).
std::string serializeTrainedModel(
    const TrainingProgram &program,
    const std::map<std::string, const Array *> &stateByName);

} // namespace runtime
} // namespace mpc

#endif // LIB_RUNTIME_TRAINEDMODEL_H

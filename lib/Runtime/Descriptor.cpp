//===- Descriptor.cpp - the program descriptor, read ----------------------===//
//
// A compiled binary carries its descriptor (JSON, written by the compiler's
// describeTrainingProgram / describeInferenceProgram): what each function
// takes and returns and what for, the training state, the optimizer, the
// builds. Everything the runtime knows about the program comes from here;
// `--describe` prints it for tools (python/mpc) to read.
//
//===----------------------------------------------------------------------===//

#include "mpc/Runtime/Runtime.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace mpc {
namespace runtime {
namespace {

using nlohmann::json;

[[noreturn]] void malformed(const std::string &what) {
  throw Error("the program descriptor is malformed: " + what +
              " (the binary was not written by this runtime's compiler)");
}

const json &field(const json &object, const char *key,
                  const std::string &where) {
  if (!object.is_object() || !object.contains(key))
    malformed(where + " has no \"" + key + "\"");
  return object.at(key);
}

std::string text(const json &object, const char *key,
                 const std::string &where) {
  const json &value = field(object, key, where);
  if (!value.is_string())
    malformed(where + "'s \"" + key + "\" is not a string");
  return value.get<std::string>();
}

double number(const json &object, const char *key, const std::string &where) {
  const json &value = field(object, key, where);
  if (!value.is_number())
    malformed(where + "'s \"" + key + "\" is not a number");
  return value.get<double>();
}

std::vector<int64_t> integers(const json &object, const char *key,
                              const std::string &where) {
  const json &value = field(object, key, where);
  if (!value.is_array())
    malformed(where + "'s \"" + key + "\" is not an array");
  std::vector<int64_t> result;
  for (const json &element : value) {
    if (!element.is_number_integer())
      malformed(where + "'s \"" + key + "\" holds a non-integer");
    result.push_back(element.get<int64_t>());
  }
  return result;
}

Signature readValue(const json &value, const std::string &where) {
  Signature s;
  s.name = text(value, "name", where);
  std::string context = where + " '" + s.name + "'";
  s.dtype = text(value, "dtype", context);
  Array::itemSize(s.dtype); // throws for a dtype the runtime cannot hold
  s.shape = integers(value, "shape", context);
  std::string role = text(value, "role", context);
  std::optional<mpc_abi::ValueRole> parsed = mpc_abi::parseValueRole(role);
  if (!parsed)
    malformed(context + " has the unknown role '" + role + "'");
  s.role = *parsed;
  s.state = s.role == mpc_abi::ValueRole::State;
  if (s.state) {
    std::string kind = text(value, "kind", context);
    s.kind = mpc_abi::parseStateKind(kind);
    if (!s.kind)
      malformed(context + " has the unknown state kind '" + kind + "'");
    if (mpc_abi::isPerParameter(*s.kind))
      s.parameter = text(value, "parameter", context);
    if (s.name != mpc_abi::qualifiedSlotName(*s.kind, s.parameter))
      malformed(context + " is not named after its slot");
  }
  return s;
}

EntryPoint readEntry(const json &functions, const char *function,
                     const std::vector<KernelBuilds> &kernels) {
  std::string where = std::string("function '") + function + "'";
  const json &entry = field(functions, function, "\"functions\"");
  EntryPoint result;
  for (auto [key, values] :
       {std::pair<const char *, std::vector<Signature> *>{"arguments",
                                                           &result.inputs},
        {"results", &result.outputs}}) {
    const json &list = field(entry, key, where);
    if (!list.is_array())
      malformed(where + "'s \"" + key + "\" is not an array");
    for (const json &value : list)
      values->push_back(readValue(value, where + " " + key));
  }
  std::string kernel = text(entry, "kernel", where);
  for (const KernelBuilds &k : kernels)
    if (k.name == kernel) {
      result.call = k.call;
      result.callCUDA = k.callCUDA;
      return result;
    }
  malformed(where + "'s kernel '" + kernel + "' is not in the binary");
}

DeviceCode readBuilds(const json &descriptor) {
  const json &builds = field(descriptor, "builds", "the descriptor");
  DeviceCode code;
  const json &cpu = field(builds, "cpu", "\"builds\"");
  if (!cpu.is_boolean())
    malformed("\"builds\"'s \"cpu\" is not a boolean");
  code.cpu = cpu.get<bool>();
  const json &cuda = field(builds, "cuda", "\"builds\"");
  code.cuda = !cuda.is_null();
  if (code.cuda)
    code.cudaArenaBytes = uint64_t(number(cuda, "arena_bytes", "\"cuda\""));
  // The training state's region (an inference program has none).
  if (!descriptor.contains("state"))
    return code;
  const json &state = field(descriptor, "state", "the descriptor");
  code.stateBytes = uint64_t(number(state, "bytes", "\"state\""));
  const json &offsets = field(state, "offsets", "\"state\"");
  if (!offsets.is_object())
    malformed("\"state\"'s \"offsets\" is not an object");
  for (auto &[slot, offset] : offsets.items()) {
    if (!offset.is_number_unsigned())
      malformed("the state offset of '" + slot + "' is not a byte offset");
    code.stateOffsets[slot] = offset.get<uint64_t>();
  }
  return code;
}

json parse(const EmbeddedProgram &program) {
  json descriptor = json::parse(program.descriptor, nullptr,
                                /*allow_exceptions=*/false);
  if (descriptor.is_discarded() || !descriptor.is_object())
    malformed("not a JSON object");
  double version = number(descriptor, "version", "the descriptor");
  if (version != double(mpc_abi::kDescriptorVersion))
    throw Error("the program descriptor has version " +
                std::to_string(int64_t(version)) + "; this runtime reads " +
                std::to_string(mpc_abi::kDescriptorVersion));
  return descriptor;
}

TrainingProgram readTraining(const json &descriptor,
                             const EmbeddedProgram &embedded) {
  const std::string where = "the descriptor";
  if (text(descriptor, "kind", where) != "training")
    malformed("a training binary describes a " +
              text(descriptor, "kind", where) + " program");
  TrainingProgram program;
  program.name = text(descriptor, "program", where);
  program.precision = text(descriptor, "precision", where);
  const json &choice = field(descriptor, "precision_choice", where);
  if (!choice.is_null())
    program.precisionReason = text(choice, "reason", "\"precision_choice\"");
  program.loss = text(descriptor, "loss", where);
  const json &optimizer = field(descriptor, "optimizer", where);
  program.optimizer = text(optimizer, "name", "\"optimizer\"");
  program.defaultLR = float(number(optimizer, "lr", "\"optimizer\""));
  program.defaultWeightDecay =
      float(number(optimizer, "weight_decay", "\"optimizer\""));
  program.defaultClipGradNorm =
      float(number(optimizer, "clip_grad_norm", "\"optimizer\""));
  program.defaultClipGradValue =
      float(number(optimizer, "clip_grad_value", "\"optimizer\""));
  program.defaultAccumulate =
      int64_t(number(optimizer, "accumulate", "\"optimizer\""));
  if (program.defaultAccumulate < 1)
    malformed("\"optimizer\"'s \"accumulate\" is below 1");
  const json &scaling = field(descriptor, "loss_scaling", where);
  if (!scaling.is_null())
    program.lossScaling =
        LossScaling{text(scaling, "mode", "\"loss_scaling\""),
                    number(scaling, "initial_scale", "\"loss_scaling\"")};
  const json &functions = field(descriptor, "functions", where);
  program.init = readEntry(functions, "init", embedded.kernels);
  program.train = readEntry(functions, "train_step", embedded.kernels);
  program.eval = readEntry(functions, "eval_step", embedded.kernels);
  program.code = readBuilds(descriptor);
  const json &weights = field(descriptor, "onnx_weights", where);
  if (!weights.is_array())
    malformed("\"onnx_weights\" is not an array");
  for (const json &w : weights)
    program.onnxWeights.push_back(
        {text(w, "name", "an ONNX weight"), text(w, "slot", "an ONNX weight"),
         int32_t(number(w, "data_type", "an ONNX weight")),
         integers(w, "dims", "an ONNX weight")});
  program.onnxModelPrefix = embedded.onnxModelPrefix;
  program.onnxGraphBody = embedded.onnxGraphBody;
  return program;
}

void readInference(const json &descriptor, const EmbeddedProgram &embedded,
                   std::string &name, EntryPoint &entry, DeviceCode &code) {
  const std::string where = "the descriptor";
  if (text(descriptor, "kind", where) != "inference")
    malformed("an inference binary describes a " +
              text(descriptor, "kind", where) + " program");
  name = text(descriptor, "program", where);
  entry = readEntry(field(descriptor, "functions", where), "main",
                    embedded.kernels);
  code = readBuilds(descriptor);
}

} // namespace

TrainingProgram readTrainingProgram(const EmbeddedProgram &embedded) {
  return readTraining(parse(embedded), embedded);
}

void readInferenceProgram(const EmbeddedProgram &embedded, std::string &name,
                          EntryPoint &entry, DeviceCode &code) {
  readInference(parse(embedded), embedded, name, entry, code);
}

int runProgram(int argc, char **argv, const EmbeddedProgram &program) {
  // --describe anywhere on the line: a tool asking what the binary is
  // wants only that.
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--describe") {
      std::cout << program.descriptor;
      return std::cout.flush() ? 0 : 1;
    }
  bool training = false;
  TrainingProgram trainingProgram;
  std::string name;
  EntryPoint entry;
  DeviceCode code;
  try {
    // Parsed once: the kind says which reader applies.
    json descriptor = parse(program);
    training = text(descriptor, "kind", "the descriptor") == "training";
    if (training)
      trainingProgram = readTraining(descriptor, program);
    else
      readInference(descriptor, program, name, entry, code);
  } catch (const Error &e) {
    std::cerr << (argc > 0 ? argv[0] : "mpc program") << ": error: "
              << e.what() << "\n";
    return 1;
  }
  if (training)
    return runTraining(argc, argv, trainingProgram);
  return runInference(argc, argv, name, entry, code);
}

} // namespace runtime
} // namespace mpc

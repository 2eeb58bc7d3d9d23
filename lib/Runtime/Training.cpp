//===- Training.cpp - the command line of mpc training binaries -----------===//
//
// runTraining: the training binary's options (--help), parsed and checked,
// then handed to the Trainer (Trainer.cpp). The binary is deterministic by
// construction: the order of epoch E is a Fisher-Yates shuffle driven by
// splitmix64(seed, E), the kernels are deterministic, and a checkpoint
// holds the whole state plus the position in the data, so a resumed run
// reproduces an uninterrupted one bit for bit.
//
//===----------------------------------------------------------------------===//

#include "Trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mpc {
namespace runtime {
namespace training {

void addInputSpec(std::map<std::string, std::string> &specs,
                  const std::string &flag, const std::string &spec,
                  const std::vector<std::string> &names) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos) {
    if (names.size() != 1) {
      std::string list;
      for (const std::string &n : names)
        list += (list.empty() ? "" : ", ") + n;
      throw Error(flag + " " + spec +
                  ": this model has several inputs; name each one "
                  "(" + flag + " NAME=FILE.npy; inputs: " + list + ")");
    }
    specs[names[0]] = spec;
    return;
  }
  std::string name = spec.substr(0, eq);
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw Error(flag + " names '" + name + "', which is not an input of the "
                "model (see --help)");
  specs[name] = spec.substr(eq + 1);
}

//===----------------------------------------------------------------------===//
// The trainer
//===----------------------------------------------------------------------===//

void printTrainingHelp(const TrainingProgram &program) {
  std::cout
      << "usage: " << program.name
      << " --inputs X.npy --labels Y.npy (--epochs N | --steps N) [options]\n\n"
      << "Trains the compiled model (" << program.precision << ", "
      << program.optimizer << ", loss " << program.loss << ").\n\n"
      << "data:\n"
      << "  --inputs [NAME=]FILE.npy      training inputs, samples along the "
         "first axis\n"
      << "  --labels FILE.npy             training labels\n"
      << "  --val-inputs [NAME=]FILE.npy  validation inputs (every sample is "
         "evaluated)\n"
      << "  --val-labels FILE.npy         validation labels\n"
      << "training:\n"
      << "  --epochs N | --steps N        how long (steps count from the "
         "start, also when resuming)\n"
      << "  --batch-size B                must be the compiled batch\n"
      << "  --lr F                        learning rate (default "
      << program.defaultLR << ")\n"
      << "  --lr-schedule NAME            constant (default), cosine or linear "
         "decay to 0 at the last step\n"
      << "  --warmup-steps N              linear warmup from 0 over the first N "
         "steps (default 0)\n"
      << "  --weight-decay F              (default "
      << program.defaultWeightDecay << ")\n"
      << "  --optimizer NAME              must be the compiled one ("
      << program.optimizer << ")\n"
      << "  --seed S                      data order (default 0)\n"
      << "  --device cpu|cuda|auto        (default auto)\n"
      << "output:\n"
      << "  --log-every K                 a log line every K steps\n"
      << "  --metrics-json FILE           final metrics as JSON\n"
      << "  --save-onnx OUT.onnx          the model with the trained weights\n"
      << "  --checkpoint DIR              checkpoint at the end (and every N "
         "steps with --checkpoint-every N)\n"
      << "  --resume DIR                  continue from DIR's latest "
         "checkpoint\n"
      << "  --eval-only                   evaluate (validation data, else "
         "training data) and stop\n"
      << "  --describe                    print the program descriptor (JSON: "
         "signatures, state, optimizer) and stop\n\n"
      << "inputs:\n";
  auto describe = [](const Signature &s) {
    return "  " + s.name + ": " + s.dtype + " " + formatShape(s.shape) + "\n";
  };
  for (const Signature &s : program.train.inputs)
    if (s.role == mpc_abi::ValueRole::Input ||
        s.role == mpc_abi::ValueRole::Label)
      std::cout << describe(s);
  std::cout << "training state (checkpointed):\n";
  for (const Signature &s : program.train.inputs)
    if (s.state)
      std::cout << describe(s);
}

} // namespace training

using namespace training;

int runTraining(int argc, char **argv, const TrainingProgram &program) {
  keepBuffersMapped();
  try {
    Options options;
    std::vector<std::string> inputNames;
    {
      const auto &in = program.train.inputs;
      size_t end = in.size() - 2 - (program.loss != "model" ? 1 : 0);
      for (size_t i = 0; i < end; ++i)
        if (!in[i].state)
          inputNames.push_back(in[i].name);
    }
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc)
          throw Error(arg + " needs a value");
        return argv[++i];
      };
      if (arg == "--help" || arg == "-h") {
        printTrainingHelp(program);
        return 0;
      } else if (arg == "--inputs") {
        addInputSpec(options.inputs, arg, value(), inputNames);
      } else if (arg == "--val-inputs") {
        addInputSpec(options.valInputs, arg, value(), inputNames);
      } else if (arg == "--labels") {
        options.labels = value();
      } else if (arg == "--val-labels") {
        options.valLabels = value();
      } else if (arg == "--epochs") {
        options.epochs = parseInt(arg, value());
      } else if (arg == "--steps") {
        options.steps = parseInt(arg, value());
      } else if (arg == "--batch-size") {
        options.batchSize = parseInt(arg, value());
      } else if (arg == "--lr") {
        options.lr = parseFloat(arg, value());
      } else if (arg == "--lr-schedule") {
        options.lrSchedule = value();
        if (options.lrSchedule != "constant" &&
            options.lrSchedule != "cosine" && options.lrSchedule != "linear")
          throw Error("--lr-schedule " + options.lrSchedule +
                      ": expected constant, cosine or linear");
      } else if (arg == "--warmup-steps") {
        options.warmupSteps = parseInt(arg, value());
        if (*options.warmupSteps < 0)
          throw Error("--warmup-steps must not be negative");
      } else if (arg == "--weight-decay") {
        options.weightDecay = parseFloat(arg, value());
      } else if (arg == "--optimizer") {
        options.optimizer = value();
      } else if (arg == "--seed") {
        int64_t s = parseInt(arg, value());
        if (s < 0)
          throw Error("--seed must not be negative");
        options.seed = uint64_t(s);
      } else if (arg == "--log-every") {
        options.logEvery = parseInt(arg, value());
      } else if (arg == "--metrics-json") {
        options.metricsJson = value();
      } else if (arg == "--save-onnx") {
        options.saveOnnx = value();
      } else if (arg == "--checkpoint") {
        options.checkpoint = value();
      } else if (arg == "--checkpoint-every") {
        options.checkpointEvery = parseInt(arg, value());
        if (*options.checkpointEvery < 1)
          throw Error("--checkpoint-every must be at least 1");
      } else if (arg == "--resume") {
        options.resume = value();
      } else if (arg == "--eval-only") {
        options.evalOnly = true;
      } else if (arg == "--device") {
        options.device = value();
      } else {
        throw Error("unknown argument '" + arg + "' (see --help)");
      }
    }
    Trainer trainer(program, options);
    return trainer.run();
  } catch (const std::exception &e) {
    std::cout << std::flush;
    std::cerr << program.name << ": error: " << e.what() << "\n";
    return 1;
  }
}

} // namespace runtime
} // namespace mpc

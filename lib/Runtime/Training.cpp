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
#include "Flags.h"

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
      << program.optimizer << ", loss " << program.loss << ").\n"
      << (program.precisionReason.empty()
              ? ""
              : "Its precision was chosen by --precision=auto: " +
                    program.precisionReason + ".\n")
      << "\n"
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
         "decay to 0 at the last step,\n"
         "                                or step (x --lr-gamma every "
         "--lr-step-size steps)\n"
      << "  --warmup-steps N              linear warmup from 0 over the first N "
         "steps (default 0)\n"
      << "  --lr-step-size N              step: steps between decays\n"
      << "  --lr-gamma G                  step: the factor of each decay "
         "(default 0.1)\n"
      << "  --weight-decay F              (default "
      << program.defaultWeightDecay << ")\n";
  if (program.defaultClipGradNorm > 0)
    std::cout << "  --clip-grad-norm F            clip the gradients' global "
                 "norm, after unscaling (default "
              << program.defaultClipGradNorm << "; 0: off)\n";
  if (program.defaultClipGradValue > 0)
    std::cout << "  --clip-grad-value F           clip each gradient to "
                 "[-F, F], after unscaling (default "
              << program.defaultClipGradValue << "; 0: off)\n";
  if (program.defaultAccumulate > 1)
    std::cout << "  --accumulate K                sum K batches' gradients "
                 "before each update (default "
              << program.defaultAccumulate << "; 1: off); a step is K "
              << "batches\n";
  std::cout
      << "  --optimizer NAME              must be the compiled one ("
      << program.optimizer << ")\n"
      << "  --seed S                      data order (default 0)\n"
      << "  --device cpu|cuda|auto        (default auto)\n"
      << "  --divergence-patience K       stop as diverged after K steps in a "
         "row with a non-finite\n"
         "                                loss, or once the loss scale falls "
         "below 2^-16 (default 10;\n"
         "                                0: never)\n"
      << "output:\n"
      << "  --log-every K                 a log line every K steps\n"
      << "  --metrics-json FILE           final metrics as JSON\n"
      << "  --save-onnx OUT.onnx          the model with the trained weights\n"
      << "  --checkpoint DIR              checkpoint at the end (and every N "
         "steps with --checkpoint-every N)\n"
      << "  --resume DIR                  continue from DIR's latest "
         "checkpoint\n"
      << "  --val-every-steps N           validate every N steps (also "
         "--val-every-epochs N)\n"
      << "  --keep-best METRIC            val_loss or val_accuracy: "
         "--save-onnx writes the best\n"
         "                                validation's model, DIR/best "
         "holds its checkpoint\n"
      << "  --early-stopping P            stop after P validations without "
         "improvement (of\n"
         "                                --keep-best's metric, else "
         "val_loss)\n"
      << "  --eval-only                   evaluate (validation data, else "
         "training data) and stop\n"
      << "  --describe                    print the program descriptor (JSON: "
         "signatures, state, optimizer) and stop\n\n"
      << "Every output is checked before the first step. SIGINT/SIGTERM end "
         "the run after the\n"
         "current step with a checkpoint (--checkpoint), the model and the "
         "metrics; a second\n"
         "signal stops at once. Exit status: 0 done, 1 error, "
      << kExitDiverged
      << " diverged (nothing saved from the\n"
         "diverged state), 128+N stopped by signal N.\n"
         "Flags take --flag value or --flag=value.\n\n"
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

static const std::vector<FlagSpec> &trainingFlags() {
  static const std::vector<FlagSpec> flags = {
      {"--help", false},       {"-h", false},
      {"--inputs"},            {"--val-inputs"},
      {"--labels"},            {"--val-labels"},
      {"--epochs"},            {"--steps"},
      {"--batch-size"},        {"--lr"},
      {"--lr-schedule"},       {"--warmup-steps"},
      {"--lr-step-size"},      {"--lr-gamma"},
      {"--clip-grad-norm"},    {"--clip-grad-value"},
      {"--accumulate"},
      {"--weight-decay"},      {"--optimizer"},
      {"--seed"},              {"--log-every"},
      {"--metrics-json"},      {"--save-onnx"},
      {"--checkpoint"},        {"--checkpoint-every"},
      {"--resume"},            {"--divergence-patience"},
      {"--eval-only", false},  {"--device"},
      {"--val-every-steps"},   {"--val-every-epochs"},
      {"--keep-best"},         {"--early-stopping"},
  };
  return flags;
}

int runTraining(int argc, char **argv, const TrainingProgram &program) {
  keepBuffersMapped();
  try {
    Options options;
    std::vector<std::string> inputNames;
    for (const Signature &s : program.train.inputs)
      if (s.role == mpc_abi::ValueRole::Input)
        inputNames.push_back(s.name);
    bool stepDecayFlag = false;
    for (const ParsedFlag &flag : parseFlags(argc, argv, trainingFlags())) {
      const std::string &arg = flag.name, &text = flag.value;
      if (arg == "--help" || arg == "-h") {
        printTrainingHelp(program);
        return 0;
      } else if (arg == "--inputs") {
        addInputSpec(options.inputs, arg, text, inputNames);
      } else if (arg == "--val-inputs") {
        addInputSpec(options.valInputs, arg, text, inputNames);
      } else if (arg == "--labels") {
        options.labels = text;
      } else if (arg == "--val-labels") {
        options.valLabels = text;
      } else if (arg == "--epochs") {
        options.epochs = parseInt(arg, text);
      } else if (arg == "--steps") {
        options.steps = parseInt(arg, text);
      } else if (arg == "--batch-size") {
        options.batchSize = parseInt(arg, text);
      } else if (arg == "--lr") {
        options.lr = parseFloat(arg, text);
        if (*options.lr < 0)
          throw Error("--lr must not be negative");
      } else if (arg == "--lr-schedule") {
        options.schedule.kind = text;
        if (text != "constant" && text != "cosine" && text != "linear" &&
            text != "step")
          throw Error("--lr-schedule " + text +
                      ": expected constant, cosine, linear or step");
      } else if (arg == "--warmup-steps") {
        options.schedule.warmup = parseInt(arg, text);
        if (options.schedule.warmup < 0)
          throw Error("--warmup-steps must not be negative");
      } else if (arg == "--lr-step-size") {
        stepDecayFlag = true;
        options.schedule.stepSize = parseInt(arg, text);
        if (options.schedule.stepSize < 1)
          throw Error("--lr-step-size must be at least 1");
      } else if (arg == "--lr-gamma") {
        stepDecayFlag = true;
        options.schedule.gamma = parseFloat(arg, text);
        if (options.schedule.gamma <= 0 || options.schedule.gamma > 1)
          throw Error("--lr-gamma must be in (0, 1]");
      } else if (arg == "--clip-grad-norm" || arg == "--clip-grad-value") {
        double value = parseFloat(arg, text);
        if (value < 0)
          throw Error(arg + " must not be negative (0 turns clipping off)");
        (arg == "--clip-grad-norm" ? options.clipGradNorm
                                   : options.clipGradValue) = value;
      } else if (arg == "--accumulate") {
        options.accumulate = parseInt(arg, text);
        if (*options.accumulate < 1)
          throw Error("--accumulate must be at least 1 (1: an update after "
                      "every batch)");
      } else if (arg == "--weight-decay") {
        options.weightDecay = parseFloat(arg, text);
        if (*options.weightDecay < 0)
          throw Error("--weight-decay must not be negative");
      } else if (arg == "--optimizer") {
        options.optimizer = text;
      } else if (arg == "--seed") {
        int64_t s = parseInt(arg, text);
        if (s < 0)
          throw Error("--seed must not be negative");
        options.seed = uint64_t(s);
      } else if (arg == "--log-every") {
        options.logEvery = parseInt(arg, text);
      } else if (arg == "--metrics-json") {
        options.metricsJson = text;
      } else if (arg == "--save-onnx") {
        options.saveOnnx = text;
      } else if (arg == "--checkpoint") {
        options.checkpoint = text;
      } else if (arg == "--checkpoint-every") {
        options.checkpointEvery = parseInt(arg, text);
        if (*options.checkpointEvery < 1)
          throw Error("--checkpoint-every must be at least 1");
      } else if (arg == "--resume") {
        options.resume = text;
      } else if (arg == "--divergence-patience") {
        options.divergencePatience = parseInt(arg, text);
        if (options.divergencePatience < 0)
          throw Error("--divergence-patience must not be negative");
      } else if (arg == "--val-every-steps" || arg == "--val-every-epochs") {
        int64_t every = parseInt(arg, text);
        if (every < 1)
          throw Error(arg + " must be at least 1");
        (arg == "--val-every-steps" ? options.valEverySteps
                                    : options.valEveryEpochs) = every;
      } else if (arg == "--keep-best") {
        if (text != "val_loss" && text != "val_accuracy")
          throw Error("--keep-best " + text +
                      ": expected val_loss or val_accuracy");
        options.keepBest = text;
      } else if (arg == "--early-stopping") {
        options.earlyStopping = parseInt(arg, text);
        if (*options.earlyStopping < 1)
          throw Error("--early-stopping must be at least 1 (validations "
                      "without improvement)");
      } else if (arg == "--eval-only") {
        options.evalOnly = true;
      } else if (arg == "--device") {
        options.device = text;
      }
    }
    if (options.schedule.kind == "step" && !options.schedule.stepSize)
      throw Error("--lr-schedule step needs --lr-step-size N (the steps "
                  "between decays by --lr-gamma)");
    if (options.schedule.kind != "step" && stepDecayFlag)
      throw Error("--lr-step-size and --lr-gamma go with --lr-schedule step");
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

//===- Checkpoint.cpp - checkpoints of a training run -----------------------===//
//
// DIR/ckpt-STEP/{NNN-slot.npy..., trainer.json} and DIR/latest: the whole
// training state plus the position in the data, so that a resumed run
// continues exactly as an uninterrupted one would.
//
//===----------------------------------------------------------------------===//

#include "Trainer.h"

#include <nlohmann/json.hpp>

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

bool isFinite(const Array &a) {
  int64_t n = a.elements();
  if (a.dtype == "<f4") {
    for (int64_t k = 0; k < n; ++k)
      if (!std::isfinite(readF32(a, k)))
        return false;
  } else if (a.dtype == "<f2") {
    for (int64_t k = 0; k < n; ++k) {
      uint16_t bits;
      std::memcpy(&bits, a.data.data() + 2 * k, 2);
      if ((bits & 0x7c00) == 0x7c00) // exponent all ones: inf or NaN
        return false;
    }
  }
  return true;
}

std::string Trainer::firstNonFiniteState() {
  for (size_t i = 0; i < numState; ++i)
    if (!isFinite(hostState(i)))
      return program.train.inputs[i].name;
  return "";
}

void Trainer::saveCheckpoint(const std::string &root) {
  // A diverged state never replaces a good checkpoint.
  if (std::string bad = firstNonFiniteState(); !bad.empty()) {
    std::cout << std::flush;
    std::cerr << name << ": warning: no checkpoint at step " << step
              << ": the state '" << bad << "' is not finite";
    if (lastCheckpointStep)
      std::cerr << "; the checkpoint of step " << lastCheckpointStep
                << " is kept";
    std::cerr << "\n";
    return;
  }
  makeDirectories(root);
  std::string final = "ckpt-" + std::to_string(step);
  std::string temp = root + "/" + final + ".tmp-" + std::to_string(getpid());
  removeTree(temp);
  makeDirectories(temp);
  nlohmann::json state = nlohmann::json::array();
  for (size_t i = 0; i < numState; ++i) {
    std::string file = stateFileName(i, program.train.inputs[i].name);
    writeNpy(temp + "/" + file, hostState(i));
    state.push_back({{"name", program.train.inputs[i].name}, {"file", file}});
  }
  // Non-finite losses are written as null (nlohmann's rule) and read back
  // as NaN.
  nlohmann::json json = {
      {"format", "mpc-checkpoint-1"},
      {"program", program.name},
      {"optimizer", program.optimizer},
      {"precision", program.precision},
      {"step", step},
      {"seed", seed},
      {"steps_per_epoch", stepsPerEpoch},
      {"accumulate", accumulate},
      {"epoch_loss_sum", epochLoss},
      {"epoch_loss_steps", epochSteps},
      {"last_epoch_loss", lastEpochLoss},
      {"state", std::move(state)},
  };
  if (best.step >= 0)
    json["validation"] = {{"metric", monitoredMetric()},
                          {"best_step", best.step},
                          {"best_score", best.score},
                          {"validations_since_best", best.validationsSince}};
  writeFileAtomically(temp + "/trainer.json", jsonText(json));
  std::string target = root + "/" + final;
  if (isDirectory(target)) // a rerun reaching the same step
    removeTree(target);
  if (std::rename(temp.c_str(), target.c_str()) != 0)
    throw Error(target + ": cannot write checkpoint: " + std::strerror(errno));
  writeFileAtomically(root + "/latest", final + "\n");
  if (root == options.checkpoint)
    lastCheckpointStep = step;
  // Older checkpoints and leftovers of killed runs go.
  for (const std::string &entry : listDirectory(root))
    if (entry.rfind("ckpt-", 0) == 0 && entry != final)
      removeTree(root + "/" + entry);
}

namespace {
/// A checkpoint as read back: its trainer.json and every state slot,
/// checked against the program.
struct CheckpointContents {
  std::string jsonFile;
  nlohmann::json json;
  std::vector<Array> state;
};
} // namespace

static CheckpointContents readCheckpoint(const TrainingProgram &program,
                                         size_t numState,
                                         const std::string &root) {
  std::string latestFile = root + "/latest";
  std::string latest = readFile(latestFile);
  while (!latest.empty() && std::isspace((unsigned char)latest.back()))
    latest.pop_back();
  if (latest.find('/') != std::string::npos || latest.rfind("ckpt-", 0) != 0)
    throw Error(latestFile + ": does not name a checkpoint");
  std::string directory = root + "/" + latest;
  CheckpointContents contents;
  std::string &jsonFile = contents.jsonFile;
  jsonFile = directory + "/trainer.json";
  nlohmann::json &json = contents.json;
  json = nlohmann::json::parse(readFile(jsonFile), nullptr,
                               /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object())
    throw Error(jsonFile + ": not JSON (not an mpc checkpoint?)");
  auto field = [&](const char *key) -> const nlohmann::json & {
    if (!json.contains(key))
      throw Error(jsonFile + ": no \"" + key + "\" (not an mpc checkpoint?)");
    return json.at(key);
  };
  if (field("format") != "mpc-checkpoint-1")
    throw Error(jsonFile + ": unknown checkpoint format");
  if (!field("optimizer").is_string())
    throw Error(jsonFile + ": \"optimizer\" is not a string");
  std::string optimizer = field("optimizer").get<std::string>();
  if (optimizer != program.optimizer)
    throw Error(jsonFile + ": the checkpoint was trained with " + optimizer +
                ", this binary uses " + program.optimizer);
  std::map<std::string, std::string> files;
  if (!field("state").is_array())
    throw Error(jsonFile + ": \"state\" is not a list");
  for (const nlohmann::json &entry : field("state"))
    if (entry.is_object() && entry.contains("name") && entry.contains("file") &&
        entry["name"].is_string() && entry["file"].is_string())
      files[entry["name"].get<std::string>()] = entry["file"].get<std::string>();
  contents.state.assign(numState, Array{});
  for (size_t i = 0; i < numState; ++i) {
    const Signature &s = program.train.inputs[i];
    auto listed = files.find(s.name);
    if (listed == files.end())
      throw Error(jsonFile + ": no state '" + s.name +
                  "' (a checkpoint of another model?)");
    // The file is this binary's name for the slot, never a path the
    // checkpoint chose.
    if (listed->second != stateFileName(i, s.name))
      throw Error(jsonFile + ": state '" + s.name + "' is in '" +
                  listed->second + "', expected '" +
                  stateFileName(i, s.name) + "'");
    std::string file = directory + "/" + stateFileName(i, s.name);
    Array a = readNpy(file);
    if (a.dtype != s.dtype || a.shape != s.shape)
      throw Error(file + ": state '" + s.name + "' must be " + s.dtype + " " +
                  formatShape(s.shape) + ", got " + a.dtype + " " +
                  formatShape(a.shape));
    contents.state[i] = std::move(a);
  }
  return contents;
}

void Trainer::loadCheckpoint(const std::string &root) {
  CheckpointContents contents = readCheckpoint(program, numState, root);
  const nlohmann::json &json = contents.json;
  const std::string &jsonFile = contents.jsonFile;
  auto field = [&](const char *key) -> const nlohmann::json & {
    if (!json.contains(key))
      throw Error(jsonFile + ": no \"" + key + "\" (not an mpc checkpoint?)");
    return json.at(key);
  };
  auto integer = [&](const char *key) {
    const nlohmann::json &value = field(key);
    if (!value.is_number_integer())
      throw Error(jsonFile + ": \"" + key + "\" is not an integer");
    return value;
  };
  auto real = [&](const char *key) {
    const nlohmann::json &value = field(key);
    if (value.is_null())
      return double(NAN);
    if (!value.is_number())
      throw Error(jsonFile + ": \"" + key + "\" is not a number");
    return value.get<double>();
  };
  step = integer("step").get<int64_t>();
  seed = integer("seed").get<uint64_t>();
  // A step is `accumulate` batches: with another K the steps counted so
  // far, the schedule and the data position would mean something else.
  int64_t trainedWith =
      json.contains("accumulate") ? integer("accumulate").get<int64_t>() : 1;
  if (trainedWith != accumulate)
    throw Error("--accumulate " + std::to_string(accumulate) + ": the "
                "checkpoint in " + root + " was trained with --accumulate " +
                std::to_string(trainedWith) + " (batches per step); resume "
                "with the same");
  epochSteps = integer("epoch_loss_steps").get<int64_t>();
  epochLoss = real("epoch_loss_sum");
  lastEpochLoss = real("last_epoch_loss");
  state = std::move(contents.state);
  stateReplaced();
  // Where validation stood (--keep-best, --early-stopping), so that a
  // resumed run compares against the best model before it.
  if (json.contains("validation") && json["validation"].is_object()) {
    const nlohmann::json &v = json["validation"];
    if (v.value("metric", "") == monitoredMetric() &&
        v.contains("best_step") && v["best_step"].is_number_integer() &&
        v.contains("best_score") && v["best_score"].is_number()) {
      best.step = v["best_step"].get<int64_t>();
      best.score = v["best_score"].get<double>();
      best.validationsSince = v.value("validations_since_best", int64_t(0));
    }
  }
  if (!options.keepBest.empty() && best.step >= 0) {
    // Its weights for --save-onnx: the best checkpoint beside this one.
    std::string bestRoot = root + "/best";
    if (!isDirectory(bestRoot)) {
      std::cout << name << ": the best model so far (step " << best.step
                << ") is not in " << bestRoot
                << "; the best is tracked anew from here\n";
      best = Best();
      return;
    }
    CheckpointContents bestContents =
        readCheckpoint(program, numState, bestRoot);
    best.evalState.clear();
    for (size_t slot : evalStateSlots)
      best.evalState[slot] = std::move(bestContents.state[slot]);
  }
}

//===----------------------------------------------------------------------===//
// Evaluation: every sample, the last batch padded and masked.
//===----------------------------------------------------------------------===//

} // namespace training
} // namespace runtime
} // namespace mpc

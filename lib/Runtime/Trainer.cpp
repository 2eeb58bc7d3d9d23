//===- Trainer.cpp - the training loop --------------------------------------===//
//
// The compiled program is three functions (init, train step, eval step)
// over an explicit training state; the Trainer runs them: data, batches,
// the step loop with its schedule, evaluation, progress and metrics.
//
//===----------------------------------------------------------------------===//

#include "Trainer.h"
#include "TrainedModel.h"

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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mpc {
namespace runtime {
namespace training {

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//


static uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The sample order of `epoch`: the same for the same seed on any machine
/// (no std:: distribution, whose results are implementation-defined).
std::vector<int64_t> epochOrder(int64_t samples, uint64_t seed,
                                int64_t epoch) {
  std::vector<int64_t> order(samples);
  for (int64_t i = 0; i < samples; ++i)
    order[i] = i;
  uint64_t state = seed * 0x100000001B3ull + uint64_t(epoch);
  for (int64_t i = samples - 1; i > 0; --i) {
    int64_t j = int64_t(splitmix64(state) % uint64_t(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

Array scalarF32(float value) {
  Array a{"<f4", {}, std::vector<char>(4)};
  std::memcpy(a.data.data(), &value, 4);
  return a;
}

/// The learning rate's factor at step `step` (0-based) of `total`: a
/// linear warmup from 0 over `warmup` steps (PyTorch's LinearLR and
/// Hugging Face's schedules count the same way: step s of the warmup
/// trains with (s + 1) / warmup), then constant, cosine (CosineAnnealingLR
/// to 0 at `total`) or linear decay to 0 at `total`. A function of the
/// step alone, so a resumed run continues the same schedule.
double scheduleFactor(const Schedule &schedule, int64_t step, int64_t total) {
  int64_t warmup = schedule.warmup;
  if (step < warmup)
    return double(step + 1) / double(warmup);
  if (schedule.kind == "step")
    return std::pow(schedule.gamma,
                    double((step - warmup) / schedule.stepSize));
  if (schedule.kind == "constant" || total <= warmup)
    return 1.0;
  double progress = double(step - warmup) / double(total - warmup);
  if (schedule.kind == "cosine")
    return 0.5 * (1.0 + std::cos(M_PI * progress));
  return 1.0 - progress; // linear
}

//===----------------------------------------------------------------------===//
// Stopping: signals and divergence
//===----------------------------------------------------------------------===//

static volatile sig_atomic_t receivedSignal = 0;

static void onInterrupt(int signal) {
  receivedSignal = signal;
  static const char message[] =
      "\nfinishing the current step (again to stop at once)\n";
  // write(2) is async-signal-safe; its result has nowhere to go.
  if (::write(STDERR_FILENO, message, sizeof(message) - 1) < 0)
    return;
}

InterruptHandler::InterruptHandler() {
  receivedSignal = 0;
  struct sigaction action = {};
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  // The handler runs once; the second signal has its default effect.
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, &previousInterrupt);
  sigaction(SIGTERM, &action, &previousTerminate);
}

InterruptHandler::~InterruptHandler() {
  sigaction(SIGINT, &previousInterrupt, nullptr);
  sigaction(SIGTERM, &previousTerminate, nullptr);
}

int InterruptHandler::signal() const { return receivedSignal; }

std::string signalName(int signal) {
  switch (signal) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  default:
    return "signal " + std::to_string(signal);
  }
}

std::string formatDuration(double seconds) {
  int64_t s = int64_t(std::llround(seconds));
  std::ostringstream text;
  if (s >= 3600)
    text << s / 3600 << "h" << std::setw(2) << std::setfill('0')
         << s / 60 % 60 << "m";
  else if (s >= 60)
    text << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60
         << "s";
  else
    text << s << "s";
  return text.str();
}

std::string formatLoss(double loss) {
  std::ostringstream text;
  if (std::fabs(loss) < 1e5)
    text << std::fixed << std::setprecision(4) << loss;
  else
    text << std::setprecision(4) << loss; // 6.653e+36
  return text.str();
}

void Divergence::observeLoss(int64_t step, double loss, int64_t patience) {
  if (std::isfinite(loss)) {
    nonFiniteRun = 0;
    lastFiniteStep = step;
    lastFiniteLoss = loss;
  } else {
    ++nonFiniteRun;
  }
  if (patience && nonFiniteRun >= patience)
    why = "the loss was not finite for " + std::to_string(nonFiniteRun) +
          " consecutive steps (--divergence-patience " +
          std::to_string(patience) + ")";
}

void Divergence::observeScale(float lossScale, int64_t patience) {
  if (patience && lossScale < kMinLossScale) {
    std::ostringstream text;
    text << "dynamic loss scaling lowered the scale to " << lossScale
         << ", below 2^-16: the gradients overflow even scaled down";
    why = text.str();
  }
}

float readF32(const Array &a, int64_t i) {
  float v;
  std::memcpy(&v, a.data.data() + 4 * i, 4);
  return v;
}

/// A counter of the state (skipped steps): i64 as the compiler makes it.
int64_t readCounter(const Array &a) {
  if (a.dtype != "<i8")
    throw Error("a step counter of the state has dtype " + a.dtype +
                ", expected <i8 (a binary from an older mpc?)");
  int64_t v;
  std::memcpy(&v, a.data.data(), 8);
  return v;
}

/// JSON text of `value`; names from the model that are not UTF-8 are
/// written with U+FFFD rather than failing the run.
std::string jsonText(const nlohmann::json &value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

int64_t parseInt(const std::string &flag, const std::string &text) {
  try {
    size_t used;
    long long v = std::stoll(text, &used);
    if (used == text.size())
      return v;
  } catch (const std::logic_error &) {
  }
  throw Error(flag + " needs an integer, got '" + text + "'");
}

double parseFloat(const std::string &flag, const std::string &text) {
  try {
    size_t used;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v))
      return v;
  } catch (const std::logic_error &) {
  }
  throw Error(flag + " needs a finite number, got '" + text + "'");
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void removeTree(const std::string &path) {
  if (DIR *dir = opendir(path.c_str())) {
    while (dirent *entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..")
        std::remove((path + "/" + name).c_str());
    }
    closedir(dir);
  }
  rmdir(path.c_str());
}

std::vector<std::string> listDirectory(const std::string &path) {
  std::vector<std::string> names;
  if (DIR *dir = opendir(path.c_str())) {
    while (dirent *entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..")
        names.push_back(name);
    }
    closedir(dir);
  }
  return names;
}

/// A file name for a state slot: readable and unambiguous.
std::string stateFileName(size_t index, const std::string &name) {
  std::string safe;
  for (char c : name)
    safe += std::isalnum((unsigned char)c) || c == '.' || c == '-' ? c : '_';
  std::ostringstream os;
  os << std::setw(3) << std::setfill('0') << index << "-" << safe << ".npy";
  return os.str();
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

Trainer::Trainer(const TrainingProgram &program, const Options &options)
    : program(program), options(options), name(program.name) {
  classifyEntryPoints();
  terminal = isatty(STDOUT_FILENO);
}

void Trainer::classifyEntryPoints() {
  using mpc_abi::StateKind;
  using mpc_abi::ValueRole;
  const auto &in = program.train.inputs;
  while (numState < in.size() && in[numState].state)
    ++numState;
  // The descriptor says what each argument is; the training loop relies on
  // the order the compiler gives them.
  auto hasRole = [](const std::vector<Signature> &values, size_t i,
                    ValueRole role) {
    return i < values.size() && values[i].role == role;
  };
  bool labelled = program.loss != "model";
  // The hyperparameters end the arguments: lr, weight_decay and, when
  // compiled in, the clipping thresholds and accumulation's inputs.
  size_t end = in.size();
  auto hyperSlot = [&](ValueRole role) -> std::optional<size_t> * {
    switch (role) {
    case ValueRole::LearningRate:
      return &lrSlot;
    case ValueRole::WeightDecay:
      return &decaySlot;
    case ValueRole::MaxGradNorm:
      return &maxGradNormSlot;
    case ValueRole::GradClipValue:
      return &gradClipValueSlot;
    case ValueRole::AccumulationSteps:
      return &accumulationStepsSlot;
    case ValueRole::ApplyUpdate:
      return &applyUpdateSlot;
    default:
      return nullptr;
    }
  };
  while (end > numState && hyperSlot(in[end - 1].role))
    --end;
  for (size_t i = end; i < in.size(); ++i)
    *hyperSlot(in[i].role) = i;
  if (accumulationStepsSlot.has_value() != applyUpdateSlot.has_value())
    throw Error("internal: the train step has one of accumulation's two "
                "inputs");
  const auto &out = program.train.outputs;
  if (end <= numState || !lrSlot || !decaySlot ||
      (labelled && !hasRole(in, end - 1, ValueRole::Label)) ||
      !hasRole(out, numState, ValueRole::Loss) ||
      out.size() > numState + 2 ||
      (out.size() == numState + 2 &&
       !hasRole(out, numState + 1, ValueRole::GradNorm)))
    throw Error("internal: the train step's signature is not (state..., "
                "inputs..., [labels], lr, weight_decay, [clip thresholds]) "
                "-> (state..., loss, [grad_norm])");
  if (out.size() == numState + 2)
    gradNormResult = numState + 1;
  for (const Signature &s : program.eval.inputs) {
    if (!s.state)
      break;
    auto slot = std::find_if(in.begin(), in.begin() + numState,
                             [&](const Signature &t) { return t.name == s.name; });
    if (slot == in.begin() + numState)
      throw Error("internal: the eval step reads state '" + s.name +
                  "' that the train step does not carry");
    evalStateSlots.push_back(slot - in.begin());
  }
  numEvalState = evalStateSlots.size();
  if (labelled)
    trainLabelSlot = --end;
  for (size_t i = numState; i < end; ++i) {
    if (in[i].role != ValueRole::Input)
      throw Error("internal: the train step's argument '" + in[i].name +
                  "' is not a model input");
    trainInputSlots.push_back(i);
    inputNames.push_back(in[i].name);
  }
  for (size_t i = 0; i < trainInputSlots.size(); ++i)
    evalInputSlots.push_back(numEvalState + i);
  if (labelled)
    evalLabelSlot = numEvalState + trainInputSlots.size();
  batch = in[trainInputSlots.front()].shape.empty()
              ? 1
              : in[trainInputSlots.front()].shape[0];
  for (size_t i = 0; i < numState; ++i) {
    if (in[i].kind == StateKind::LossScale)
      lossScaleSlot = i;
    if (in[i].kind == StateKind::SkippedSteps)
      skippedSlot = i;
    if (in[i].kind == StateKind::DropoutRng)
      dropoutRngSlot = i;
  }
  if (program.lossScaling.has_value() != lossScaleSlot.has_value())
    throw Error("internal: the descriptor's loss scaling and the train "
                "step's state disagree");
  for (size_t slot : trainInputSlots)
    batchInputs.push_back(Array{in[slot].dtype, in[slot].shape,
                                std::vector<char>(Array::itemSize(in[slot].dtype) *
                                                  Array{"", in[slot].shape, {}}
                                                      .elements())});
  if (trainLabelSlot) {
    const Signature &s = in[*trainLabelSlot];
    batchLabels = Array{s.dtype, s.shape, {}};
    batchLabels->data.resize(batchLabels->elements() *
                             Array::itemSize(s.dtype));
  }
}

/// Releases the mapped pages wholly inside [from, to): a scan of a whole
/// dataset then holds a window of it in memory, not all of it. The mapping
/// is read-only and private, so the pages are read again if touched.
static void releasePages(const char *from, const char *to) {
  static const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (uintptr_t(from) + page - 1) & ~(page - 1);
  uintptr_t end = uintptr_t(to) & ~(page - 1);
  if (end > begin)
    madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
}

/// Calls `visit(i)` for every element index of `array` (of `itemBytes`),
/// releasing what it has read every 16 MiB.
template <typename Visit>
static void scanMapped(const MappedArray &array, int64_t itemBytes,
                       Visit visit) {
  constexpr int64_t kWindow = 16 << 20;
  int64_t n = array.elements(), perWindow = kWindow / itemBytes;
  for (int64_t start = 0; start < n; start += perWindow) {
    int64_t end = std::min(n, start + perWindow);
    for (int64_t i = start; i < end; ++i)
      visit(i);
    releasePages(array.data + start * itemBytes, array.data + end * itemBytes);
  }
}

void Trainer::checkFinite(const MappedArray &array, const std::string &file) {
  int64_t n = array.elements();
  int64_t perSample = array.shape.empty() || array.shape[0] == 0
                          ? 1
                          : n / array.shape[0];
  if (array.dtype == "<f4")
    scanMapped(array, 4, [&](int64_t i) {
      float v;
      std::memcpy(&v, array.data + 4 * i, 4);
      if (!std::isfinite(v))
        throw Error(file + ": sample " + std::to_string(i / perSample) +
                    " has a non-finite value (NaN or inf); clean the data "
                    "before training");
    });
}

Dataset Trainer::loadDataset(const std::map<std::string, std::string> &files,
                             const std::string &labelFile,
                             const std::string &flag) {
  Dataset data;
  const auto &in = program.train.inputs;
  for (size_t k = 0; k < trainInputSlots.size(); ++k) {
    const Signature &s = in[trainInputSlots[k]];
    auto it = files.find(s.name);
    if (it == files.end())
      throw Error("input '" + s.name + "' needs data (" + flag + " " +
                  (trainInputSlots.size() == 1 ? "" : s.name + "=") +
                  "FILE.npy)");
    MappedArray array = mapNpy(it->second);
    std::vector<int64_t> sample(s.shape.begin() + 1, s.shape.end());
    std::vector<int64_t> got(array.shape.empty() ? array.shape.begin()
                                                 : array.shape.begin() + 1,
                             array.shape.end());
    if (array.dtype != s.dtype || array.shape.empty() || got != sample)
      throw Error(it->second + ": input '" + s.name + "' must be " + s.dtype +
                  " with shape (N, " +
                  formatShape(sample).substr(1) + ", got " + array.dtype +
                  " " + formatShape(array.shape));
    if (k == 0)
      data.samples = array.shape[0];
    else if (array.shape[0] != data.samples)
      throw Error(it->second + ": has " + std::to_string(array.shape[0]) +
                  " samples, the other inputs " +
                  std::to_string(data.samples));
    checkFinite(array, it->second);
    data.description = it->second;
    data.inputs.push_back(std::move(array));
  }
  if (trainLabelSlot) {
    const Signature &s = in[*trainLabelSlot];
    if (labelFile.empty())
      throw Error("labels are needed: " +
                  std::string(flag == "--inputs" ? "--labels" : "--val-labels") +
                  " FILE.npy (" + s.dtype + ", shape (N" +
                  (s.shape.size() > 1
                       ? ", " + formatShape({s.shape.begin() + 1,
                                             s.shape.end()})
                                    .substr(1)
                       : std::string(",)")) +
                  ")");
    MappedArray labels = mapNpy(labelFile);
    std::vector<int64_t> sample(s.shape.begin() + 1, s.shape.end());
    std::vector<int64_t> got(labels.shape.empty() ? labels.shape.begin()
                                                  : labels.shape.begin() + 1,
                             labels.shape.end());
    if (labels.dtype != s.dtype || labels.shape.empty() || got != sample)
      throw Error(labelFile + ": labels must be " + s.dtype +
                  " with shape (N" +
                  (sample.empty() ? std::string(",)")
                                  : ", " + formatShape(sample).substr(1)) +
                  ", got " + labels.dtype + " " + formatShape(labels.shape) +
                  (program.loss == "cross-entropy"
                       ? " (class indices: np.int64)"
                       : ""));
    if (labels.shape[0] != data.samples)
      throw Error(labelFile + ": " + std::to_string(labels.shape[0]) +
                  " labels for " + std::to_string(data.samples) + " samples");
    if (program.loss == "cross-entropy") {
      int64_t classes = program.eval.outputs[1].shape[1];
      scanMapped(labels, 8, [&](int64_t i) {
        int64_t v;
        std::memcpy(&v, labels.data + 8 * i, 8);
        if (v < 0 || v >= classes)
          throw Error(labelFile + ": label " + std::to_string(v) + " at " +
                      std::to_string(i) + " is not a class in [0, " +
                      std::to_string(classes) + ")");
      });
    } else {
      checkFinite(labels, labelFile);
    }
    data.labels = std::move(labels);
  }
  if (data.samples == 0)
    throw Error(data.description + ": no samples");
  return data;
}

void Trainer::gatherBatch(const Dataset &data,
                          const std::vector<int64_t> &order, int64_t first,
                          int64_t count) {
  auto copyRows = [&](const MappedArray &from, Array &to) {
    size_t row = to.data.size() / size_t(batch);
    for (int64_t i = 0; i < batch; ++i) {
      // Padding repeats real samples: their values are valid inputs, and
      // evaluation masks them out.
      int64_t sample = order[(first + (i < count ? i : i % count)) %
                             int64_t(order.size())];
      std::memcpy(to.data.data() + i * row, from.data + sample * row,
                  row);
    }
  };
  for (size_t k = 0; k < batchInputs.size(); ++k)
    copyRows(data.inputs[k], batchInputs[k]);
  if (batchLabels)
    copyRows(*data.labels, *batchLabels);
}

void Trainer::initializeState() {
  std::vector<Array> results;
  initKernel({}, results);
  state = std::move(results);
  // Dropout's mask counter starts at the seed's own range of 2^32 steps.
  // A new array (not the init result's storage) so that a device copy of
  // the slot is replaced.
  if (dropoutRngSlot) {
    Array counter{"<i8", {}, std::vector<char>(8)};
    int64_t value = int64_t(seed << 32);
    std::memcpy(counter.data.data(), &value, 8);
    state[*dropoutRngSlot] = std::move(counter);
  }
}

//===----------------------------------------------------------------------===//
// Checkpoints: DIR/ckpt-STEP/{NNN-slot.npy..., trainer.json} and DIR/latest
// naming the newest complete one. A checkpoint directory is complete before
// `latest` (replaced by rename) points at it, so a process killed at any
// moment leaves the previous checkpoint intact and named.
//===----------------------------------------------------------------------===//

Trainer::Evaluation Trainer::evaluate(const Dataset &data) {
  std::vector<int64_t> order(data.samples);
  for (int64_t i = 0; i < data.samples; ++i)
    order[i] = i;
  double lossSum = 0;
  int64_t lossCount = 0, correct = 0, predictions = 0;
  bool classes = program.loss == "cross-entropy";
  std::vector<Array> results;
  for (int64_t first = 0; first < data.samples; first += batch) {
    int64_t valid = std::min(batch, data.samples - first);
    gatherBatch(data, order, first, valid);
    std::vector<const Array *> args;
    for (size_t slot : evalStateSlots)
      args.push_back(&state[slot]);
    for (const Array &a : batchInputs)
      args.push_back(&a);
    if (batchLabels)
      args.push_back(&*batchLabels);
    evalKernel(args, results);
    const Array &loss = results[0];
    if (loss.shape.empty()) {
      // A model's own scalar loss: weighted by the real samples in it.
      lossSum += readF32(loss) * valid;
      lossCount += valid;
    } else {
      int64_t perSample = loss.elements() / batch;
      for (int64_t i = 0; i < valid * perSample; ++i)
        lossSum += readF32(loss, i);
      lossCount += valid * perSample;
    }
    if (classes) {
      const Array &out = results[1];
      int64_t numClasses = out.shape[1];
      int64_t inner = out.elements() / (batch * numClasses);
      for (int64_t b = 0; b < valid; ++b)
        for (int64_t s = 0; s < inner; ++s) {
          int64_t best = 0;
          float bestValue = -INFINITY;
          for (int64_t c = 0; c < numClasses; ++c) {
            float v = readF32(out, (b * numClasses + c) * inner + s);
            if (v > bestValue) {
              bestValue = v;
              best = c;
            }
          }
          int64_t label;
          std::memcpy(&label,
                      batchLabels->data.data() + 8 * (b * inner + s), 8);
          correct += best == label;
          ++predictions;
        }
    }
  }
  Evaluation e;
  e.loss = lossSum / double(lossCount);
  if (classes)
    e.accuracy = double(correct) / double(predictions);
  return e;
}

//===----------------------------------------------------------------------===//
// Progress
//===----------------------------------------------------------------------===//

void Trainer::printProgress(bool final) {
  auto now = Clock::now();
  double seconds = std::chrono::duration<double>(now - windowStart).count();
  double loss = windowSteps ? windowLoss / windowSteps : NAN;
  double rate = seconds > 0 ? windowSteps * batch / seconds : 0;
  int64_t epoch = stepsPerEpoch ? (step - 1) / stepsPerEpoch + 1 : 1;
  int64_t epochs = stepsPerEpoch ? (totalSteps + stepsPerEpoch - 1) /
                                       stepsPerEpoch
                                 : 1;
  std::ostringstream line;
  line << std::fixed << "step " << step << "/" << totalSteps << "  epoch "
       << epoch << "/" << epochs << "  loss " << std::setprecision(4) << loss;
  if (lossScaleSlot)
    line << "  scale " << std::setprecision(0)
         << readF32(hostState(*lossScaleSlot));
  if (skippedSlot)
    line << "  skipped " << readCounter(hostState(*skippedSlot));
  if (gradNormResult && windowSteps)
    line << "  grad norm " << std::setprecision(4)
         << windowGradNorm / double(windowSteps);
  line << "  " << std::setprecision(0) << rate << " samples/s";
  // From this process's mean step time so far (data, logging and
  // checkpoints included).
  double elapsed = std::chrono::duration<double>(now - runStart).count();
  if (!final && step > firstStep && step < totalSteps)
    line << "  eta "
         << formatDuration(elapsed / double(step - firstStep) *
                           double(totalSteps - step));
  if (terminal) {
    int width = 24;
    int filled = totalSteps ? int(width * step / totalSteps) : width;
    std::cout << "\r[" << std::string(filled, '#')
              << std::string(width - filled, '.') << "] " << line.str()
              << "   " << (final ? "\n" : "") << std::flush;
    lastDraw = now;
  } else {
    std::cout << line.str() << "\n" << std::flush;
  }
}

void Trainer::writeMetrics(const Evaluation &val, const std::string &status) {
  double epochs = stepsPerEpoch ? double(step) / double(stepsPerEpoch) : 0;
  nlohmann::json json = {
      {"steps", step},
      {"epochs", epochs},
      {"train_loss", lastEpochLoss},
      {"val_loss", val.loss},
      {"val_accuracy", val.accuracy},
      {"loss_scale", lossScaleSlot ? nlohmann::json(readF32(hostState(
                                         *lossScaleSlot)))
                                   : nlohmann::json(nullptr)},
      {"skipped_steps",
       skippedSlot ? readCounter(hostState(*skippedSlot)) : int64_t(0)},
      {"samples_per_second",
       trainSeconds > 0 ? trainedSamples / trainSeconds : double(NAN)},
      {"precision", program.precision},
      {"optimizer", program.optimizer},
      {"lr_schedule", options.schedule.kind},
      {"warmup_steps", options.schedule.warmup},
      {"status", status},
      {"clip_grad_norm", options.clipGradNorm.value_or(
                             program.defaultClipGradNorm)},
      {"clip_grad_value", options.clipGradValue.value_or(
                              program.defaultClipGradValue)},
      {"accumulate", accumulate},
      {"samples_per_step", batch * accumulate},
  };
  auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  nlohmann::json trainPoints = nlohmann::json::array();
  for (const LogPoint &p : trainHistory)
    trainPoints.push_back({{"step", p.step},
                           {"loss", number(p.loss)},
                           {"lr", p.lr},
                           {"loss_scale", number(p.lossScale)},
                           {"grad_norm", number(p.gradNorm)}});
  nlohmann::json valPoints = nlohmann::json::array();
  for (const ValidationPoint &p : valHistory)
    valPoints.push_back({{"step", p.step},
                         {"loss", number(p.evaluation.loss)},
                         {"accuracy", number(p.evaluation.accuracy)}});
  json["history"] = {{"train", std::move(trainPoints)},
                     {"validation", std::move(valPoints)}};
  if (best.step >= 0)
    json["best"] = {{"metric", monitoredMetric()},
                    {"step", best.step},
                    {"val_loss", number(best.evaluation.loss)},
                    {"val_accuracy", number(best.evaluation.accuracy)}};
  if (options.schedule.kind == "step") {
    json["lr_step_size"] = options.schedule.stepSize;
    json["lr_gamma"] = options.schedule.gamma;
  }
  writeFileAtomically(options.metricsJson, jsonText(json));
}

int Trainer::run() {
  std::string device;
  onCUDA = selectCUDA(options.device, program.code, name, device);
  initKernel = onCUDA ? program.init.callCUDA : program.init.call;
  trainKernel = onCUDA ? program.train.callCUDA : program.train.call;
  evalKernel = onCUDA ? program.eval.callCUDA : program.eval.call;
  if (program.code.cuda)
    std::cout << "device: " << device << "\n";
  if (!options.optimizer.empty() && options.optimizer != program.optimizer)
    throw Error("--optimizer " + options.optimizer + ": this binary was "
                "compiled with the " + program.optimizer +
                " optimizer (recompile with mpc-opt --optimizer=" +
                options.optimizer + ")");
  if (options.batchSize && *options.batchSize != batch)
    throw Error("--batch-size " + std::to_string(*options.batchSize) +
                ": this binary was compiled for batches of " +
                std::to_string(batch) + " (recompile with mpc-opt "
                "--batch-size=" + std::to_string(*options.batchSize) + ")");
  if (options.epochs && options.steps)
    throw Error("give --epochs or --steps, not both");
  if (options.clipGradNorm && !maxGradNormSlot)
    throw Error("--clip-grad-norm: this binary was compiled without "
                "gradient-norm clipping (recompile with mpc-opt "
                "--clip-grad-norm=F; F is then the default)");
  if (options.clipGradValue && !gradClipValueSlot)
    throw Error("--clip-grad-value: this binary was compiled without "
                "gradient-value clipping (recompile with mpc-opt "
                "--clip-grad-value=F)");
  accumulate = options.accumulate.value_or(program.defaultAccumulate);
  if (accumulate > 1 && !applyUpdateSlot)
    throw Error("--accumulate " + std::to_string(accumulate) +
                ": this binary was compiled without gradient accumulation "
                "(recompile with mpc-opt --accumulate=K; K is then the "
                "default)");
  if (!options.evalOnly && !options.epochs && !options.steps)
    throw Error("say how long to train: --epochs N or --steps N (see --help)");
  if (options.checkpointEvery && options.checkpoint.empty())
    throw Error("--checkpoint-every needs --checkpoint DIR");
  if (options.inputs.empty())
    throw Error("--inputs FILE.npy is required (see --help)");
  if (options.valInputs.empty() != options.valLabels.empty() &&
      trainLabelSlot)
    throw Error("--val-inputs and --val-labels go together");
  bool periodic = options.valEverySteps || options.valEveryEpochs;
  if ((periodic || !options.keepBest.empty() || options.earlyStopping) &&
      options.valInputs.empty())
    throw Error(std::string(periodic ? "--val-every-steps/--val-every-epochs"
                            : !options.keepBest.empty() ? "--keep-best"
                                                        : "--early-stopping") +
                " needs validation data (--val-inputs, --val-labels)");
  if ((!options.keepBest.empty() || options.earlyStopping) && !periodic)
    throw Error(std::string(!options.keepBest.empty() ? "--keep-best"
                                                      : "--early-stopping") +
                " needs validations during training (--val-every-steps N or "
                "--val-every-epochs N)");
  if ((options.steps && *options.steps <= 0) ||
      (options.epochs && *options.epochs <= 0))
    throw Error(std::string(options.steps ? "--steps " : "--epochs ") +
                std::to_string(options.steps ? *options.steps
                                             : *options.epochs) +
                ": nothing to train (at least 1; --eval-only evaluates)");
  // Every output is checked before the data is read and the first step
  // runs: a run must not train for hours and then fail to save.
  if (!options.saveOnnx.empty())
    checkOutputFile("--save-onnx", options.saveOnnx);
  if (!options.metricsJson.empty())
    checkOutputFile("--metrics-json", options.metricsJson);
  if (!options.checkpoint.empty())
    prepareOutputDirectory("--checkpoint", options.checkpoint);

  train = loadDataset(options.inputs, options.labels, "--inputs");
  if (!options.valInputs.empty()) {
    val = loadDataset(options.valInputs, options.valLabels, "--val-inputs");
    hasVal = true;
  }
  // A step is `accumulate` batches; an epoch the whole steps it holds.
  int64_t samplesPerStep = batch * accumulate;
  stepsPerEpoch = train.samples / samplesPerStep;
  if (stepsPerEpoch == 0 && !options.evalOnly)
    throw Error(train.description + ": " + std::to_string(train.samples) +
                " samples are fewer than one " +
                (accumulate > 1 ? "step of " + std::to_string(accumulate) +
                                      " batches of " + std::to_string(batch)
                                : "batch of " + std::to_string(batch)));

  seed = options.seed.value_or(0);
  if (!options.resume.empty()) {
    uint64_t requested = seed;
    loadCheckpoint(options.resume);
    if (options.seed && *options.seed != seed)
      throw Error("--seed " + std::to_string(requested) + ": the checkpoint in " +
                  options.resume + " was trained with --seed " +
                  std::to_string(seed) + "; resuming keeps its data order");
    std::cout << "resumed from " << options.resume << " at step " << step
              << "\n";
  } else {
    initializeState();
  }

  Evaluation valResult;
  if (options.evalOnly) {
    const Dataset &data = hasVal ? val : train;
    valResult = evaluate(data);
    std::cout << std::fixed << std::setprecision(4) << "eval on "
              << data.samples << " samples: loss " << valResult.loss;
    if (!std::isnan(valResult.accuracy))
      std::cout << "  accuracy " << std::setprecision(2)
                << 100 * valResult.accuracy << "%";
    std::cout << "\n";
    if (!options.metricsJson.empty())
      writeMetrics(valResult, "evaluated");
    return 0;
  }

  totalSteps = options.steps ? *options.steps
                             : *options.epochs * stepsPerEpoch;
  if (step > totalSteps)
    throw Error("--resume " + options.resume + ": the checkpoint is at step " +
                std::to_string(step) + ", past the " +
                std::to_string(totalSteps) + " steps asked for (" +
                (options.steps ? "--steps" : "--epochs") +
                " counts from the start); nothing to train: give more, or "
                "--eval-only");
  if (step == totalSteps)
    std::cout << name << ": the checkpoint is at step " << step
              << ", the last one asked for: nothing left to train\n";
  int64_t logEvery = options.logEvery.value_or(
      std::max<int64_t>(1, std::min<int64_t>(stepsPerEpoch, 100)));
  if (logEvery < 1)
    throw Error("--log-every must be at least 1");
  float lr = float(options.lr.value_or(program.defaultLR));
  float decay = float(options.weightDecay.value_or(program.defaultWeightDecay));
  Array lrArray = scalarF32(lr), decayArray = scalarF32(decay);
  const Schedule &plan = options.schedule;
  std::string schedule;
  if (plan.kind != "constant" || plan.warmup) {
    std::ostringstream text;
    text << ", ";
    if (plan.warmup)
      text << plan.warmup << " warmup steps, ";
    text << plan.kind;
    if (plan.kind == "step")
      text << " x" << plan.gamma << " every " << plan.stepSize;
    schedule = text.str();
  }
  std::cout << name << ": training " << program.precision << ", "
            << program.optimizer << " (lr " << lr << schedule
            << ", weight decay " << decay << "), batch " << batch;
  if (accumulate > 1)
    std::cout << " x " << accumulate << " accumulated (" << samplesPerStep
              << " samples per step)";
  std::cout << ", " << train.samples << " samples, " << stepsPerEpoch
            << " steps per epoch\n";
  if (train.samples % samplesPerStep)
    std::cout << name << ": the last " << train.samples % samplesPerStep
              << " samples of each epoch are dropped ("
              << (accumulate > 1 ? "whole steps of " : "fixed batch of ")
              << samplesPerStep << ")\n";

  std::vector<const Array *> args(program.train.inputs.size());
  for (size_t k = 0; k < trainInputSlots.size(); ++k)
    args[trainInputSlots[k]] = &batchInputs[k];
  if (trainLabelSlot)
    args[*trainLabelSlot] = &*batchLabels;
  args[*lrSlot] = &lrArray;
  args[*decaySlot] = &decayArray;
  // Clipping thresholds: the flag, else the compiled default; 0 turns
  // clipping off (an infinite threshold clips nothing).
  auto threshold = [](std::optional<double> flag, float compiled) {
    double value = flag.value_or(compiled);
    return scalarF32(value > 0 ? float(value) : INFINITY);
  };
  Array maxNormArray = threshold(options.clipGradNorm,
                                 program.defaultClipGradNorm);
  Array clipValueArray = threshold(options.clipGradValue,
                                   program.defaultClipGradValue);
  if (maxGradNormSlot)
    args[*maxGradNormSlot] = &maxNormArray;
  if (gradClipValueSlot)
    args[*gradClipValueSlot] = &clipValueArray;
  // Accumulation: the step's K, and whether this batch ends the step.
  Array accumulationArray = scalarF32(float(accumulate));
  Array applyArray = scalarF32(1.0f);
  if (applyUpdateSlot) {
    args[*accumulationStepsSlot] = &accumulationArray;
    args[*applyUpdateSlot] = &applyArray;
  }
  std::vector<Array> results;
  std::vector<int64_t> order;
  int64_t orderEpoch = -1;
  InterruptHandler interrupts;
  Divergence divergence;
  firstStep = step;
  windowStart = runStart = Clock::now();
  while (step < totalSteps && !interrupts.signal()) {
    int64_t epoch = step / stepsPerEpoch, inEpoch = step % stepsPerEpoch;
    if (epoch != orderEpoch) {
      order = epochOrder(train.samples, seed, epoch);
      orderEpoch = epoch;
    }
    float stepLR = float(lr * scheduleFactor(plan, step, totalSteps));
    std::memcpy(lrArray.data.data(), &stepLR, 4);
    // The step's batches: each adds its gradients, the last one updates.
    double loss = 0;
    auto stepStart = Clock::now();
    for (int64_t micro = 0; micro < accumulate; ++micro) {
      gatherBatch(train, order, (inEpoch * accumulate + micro) * batch,
                  batch);
      float last = micro + 1 == accumulate ? 1.0f : 0.0f;
      std::memcpy(applyArray.data.data(), &last, 4);
      for (size_t i = 0; i < numState; ++i)
        args[i] = &state[i];
      trainKernel(args, results);
      // Swapped, not moved: the next call writes its state into this
      // call's old arrays instead of allocating new ones.
      for (size_t i = 0; i < numState; ++i)
        std::swap(state[i], results[i]);
      loss += readF32(results[numState]);
    }
    loss /= double(accumulate);
    trainSeconds +=
        std::chrono::duration<double>(Clock::now() - stepStart).count();
    trainedSamples += samplesPerStep;
    if (gradNormResult) {
      lastGradNorm = readF32(results[*gradNormResult]);
      windowGradNorm += lastGradNorm;
    }
    ++step;
    windowLoss += loss;
    ++windowSteps;
    epochLoss += loss;
    ++epochSteps;
    if (step % stepsPerEpoch == 0) {
      lastEpochLoss = epochLoss / epochSteps;
      epochLoss = 0;
      epochSteps = 0;
    }
    divergence.observeLoss(step, loss, options.divergencePatience);
    bool logNow = step % logEvery == 0 || step == totalSteps;
    if (logNow && lossScaleSlot)
      divergence.observeScale(readF32(hostState(*lossScaleSlot)),
                              options.divergencePatience);
    if (divergence.diverged())
      break;
    if (terminal && !logNow &&
        std::chrono::duration<double>(Clock::now() - lastDraw).count() > 0.1)
      printProgress(false);
    if (logNow) {
      trainHistory.push_back(
          {step, windowSteps ? windowLoss / double(windowSteps) : NAN,
           double(stepLR),
           lossScaleSlot ? double(readF32(hostState(*lossScaleSlot)))
                         : double(NAN),
           gradNormResult && windowSteps
               ? windowGradNorm / double(windowSteps)
               : double(NAN)});
      printProgress(step == totalSteps);
      windowLoss = 0;
      windowGradNorm = 0;
      windowSteps = 0;
      windowStart = Clock::now();
    }
    if (!options.checkpoint.empty() && options.checkpointEvery &&
        step % *options.checkpointEvery == 0)
      saveCheckpoint(options.checkpoint);
    if (hasVal && validationDue() && step < totalSteps) {
      validate(/*during=*/true);
      if (stoppedEarly)
        break;
    }
  }
  // A run shorter than an epoch reports the mean over what it trained.
  if (std::isnan(lastEpochLoss) && epochSteps)
    lastEpochLoss = epochLoss / epochSteps;
  if (terminal && step % logEvery != 0)
    std::cout << "\n";

  if (divergence.diverged()) {
    // Nothing more is written from the diverged state: the checkpoints
    // and the ONNX model from before stay as they were.
    std::cout << std::flush;
    std::cerr << name << ": error: training diverged at step " << step
              << ": " << divergence.reason() << "; "
              << (divergence.lastFiniteStep
                      ? "the last finite loss was " +
                            formatLoss(divergence.lastFiniteLoss) +
                            " at step " +
                            std::to_string(divergence.lastFiniteStep)
                      : std::string("no step had a finite loss"))
              << ". Nothing was saved from this state";
    if (lastCheckpointStep)
      std::cerr << " (the checkpoint of step " << lastCheckpointStep
                << " in " << options.checkpoint << " is kept)";
    std::cerr << ". A lower --lr (this run: " << lr
              << ") or a --warmup-steps usually helps\n";
    if (!options.metricsJson.empty())
      writeMetrics(Evaluation(), "diverged");
    return kExitDiverged;
  }

  if (int signal = interrupts.signal()) {
    std::cout << std::flush;
    std::cerr << name << ": interrupted by " << signalName(signal)
              << " after step " << step << " of " << totalSteps;
    if (!options.checkpoint.empty()) {
      saveCheckpoint(options.checkpoint);
      std::cerr << "; checkpoint saved: continue with the same command and "
                   "--resume "
                << options.checkpoint << "\n";
    } else {
      std::cerr << "; without --checkpoint DIR the run cannot be resumed\n";
    }
    saveModel();
    if (!options.metricsJson.empty())
      writeMetrics(Evaluation(), "interrupted");
    return 128 + signal;
  }

  // The last validation, at the last step, counts for --keep-best before
  // the final checkpoint records it.
  if (hasVal)
    valResult = lastValidationStep == step ? lastValidation
                                           : validate(/*during=*/false);
  if (!options.checkpoint.empty())
    saveCheckpoint(options.checkpoint);

  if (stoppedEarly)
    std::cout << name << ": early stopping at step " << step << ": "
              << monitoredMetric() << " did not improve in "
              << *options.earlyStopping << " validations\n";
  std::cout << std::fixed << std::setprecision(4) << "done: " << step
            << " steps, train loss " << lastEpochLoss;
  if (hasVal) {
    std::cout << ", val loss " << valResult.loss;
    if (!std::isnan(valResult.accuracy))
      std::cout << ", val accuracy " << std::setprecision(2)
                << 100 * valResult.accuracy << "%";
  }
  if (skippedSlot)
    std::cout << ", skipped steps " << readCounter(hostState(*skippedSlot));
  if (step > firstStep)
    std::cout << std::setprecision(0) << ", "
              << (trainSeconds > 0 ? trainedSamples / trainSeconds : 0)
              << " samples/s";
  std::cout << "\n";
  if (!options.keepBest.empty() && best.step >= 0)
    std::cout << std::defaultfloat << name << ": the best " << monitoredMetric()
              << " was "
              << (options.keepBest == "val_loss"
                      ? formatLoss(best.evaluation.loss)
                      : formatLoss(100 * best.evaluation.accuracy) + "%")
              << " at step " << best.step
              << (options.saveOnnx.empty() ? "" : ": --save-onnx writes it")
              << (options.checkpoint.empty()
                      ? ""
                      : ", its checkpoint is in " + options.checkpoint +
                            "/best")
              << "\n";

  saveModel();
  if (!options.metricsJson.empty())
    writeMetrics(valResult, stoppedEarly ? "stopped_early" : "completed");
  return 0;
}

bool Trainer::validationDue() const {
  if (options.valEverySteps && step % *options.valEverySteps == 0)
    return true;
  return options.valEveryEpochs && step % stepsPerEpoch == 0 &&
         (step / stepsPerEpoch) % *options.valEveryEpochs == 0;
}

Trainer::Evaluation Trainer::validate(bool during) {
  Evaluation e = evaluate(val);
  lastValidationStep = step;
  lastValidation = e;
  valHistory.push_back({step, e});
  double score = monitoredMetric() == "val_accuracy" ? -e.accuracy : e.loss;
  bool improved = std::isfinite(score) && (best.step < 0 || score < best.score);
  if (improved) {
    best.step = step;
    best.score = score;
    best.evaluation = e;
    best.validationsSince = 0;
    if (!options.keepBest.empty()) {
      best.evalState.clear();
      for (size_t slot : evalStateSlots)
        best.evalState[slot] = hostState(slot);
      if (!options.checkpoint.empty())
        saveCheckpoint(options.checkpoint + "/best");
    }
  } else {
    ++best.validationsSince;
  }
  if (options.earlyStopping &&
      best.validationsSince >= *options.earlyStopping)
    stoppedEarly = true;
  if (during) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(4) << "validation at step "
         << step << ": loss " << e.loss;
    if (!std::isnan(e.accuracy))
      line << "  accuracy " << std::setprecision(2) << 100 * e.accuracy
           << "%";
    if (improved && (options.keepBest.size() || options.earlyStopping))
      line << "  (best)";
    std::cout << (terminal ? "\n" : "") << line.str() << "\n" << std::flush;
  }
  return e;
}

void Trainer::saveModel() {
  if (options.saveOnnx.empty())
    return;
  std::map<std::string, const Array *> byName;
  // --keep-best: the best validation's weights, else the last ones.
  bool fromBest = !options.keepBest.empty() && best.step >= 0 &&
                  !best.evalState.empty();
  for (size_t slot : evalStateSlots)
    byName[program.train.inputs[slot].name] =
        fromBest ? &best.evalState.at(slot) : &hostState(slot);
  for (const auto &[slotName, array] : byName)
    if (!isFinite(*array))
      throw Error("--save-onnx " + options.saveOnnx + ": not written: the "
                  "trained state '" + slotName + "' is not finite");
  writeFileAtomically(options.saveOnnx, serializeTrainedModel(program, byName));
  std::cout << "wrote " << options.saveOnnx;
  if (fromBest)
    std::cout << " (the weights of step " << best.step << ")";
  std::cout << "\n";
}

} // namespace training
} // namespace runtime
} // namespace mpc

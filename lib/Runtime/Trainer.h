//===- Trainer.h - the training loop of mpc training binaries --*- C++ -*-===//
//
// What the training binary's parts share (Training.cpp: the command line;
// Trainer.cpp: the loop, evaluation and progress; Checkpoint.cpp:
// checkpoints): the options, the datasets and the Trainer.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_RUNTIME_TRAINER_H
#define LIB_RUNTIME_TRAINER_H

#include "mpc/Runtime/CUDA.h"
#include "mpc/Runtime/Host.h"
#include "mpc/Runtime/Runtime.h"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <signal.h>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mpc {
namespace runtime {
namespace training {

using Clock = std::chrono::steady_clock;

/// The sample order of `epoch`: the same for the same seed on any machine
/// (no std:: distribution, whose results are implementation-defined).
std::vector<int64_t> epochOrder(int64_t samples, uint64_t seed,
                                int64_t epoch);

Array scalarF32(float value);

/// The learning-rate schedule (--lr-schedule and its flags).
struct Schedule {
  std::string kind = "constant"; // constant, cosine, linear, step
  int64_t warmup = 0;
  int64_t stepSize = 0; // step: decay every stepSize steps...
  double gamma = 0.1;   // ...by gamma (StepLR's default)
};

/// The learning rate's factor at step `step` (0-based) of `total`: a
/// linear warmup from 0 over `warmup` steps (PyTorch's LinearLR and
/// Hugging Face's schedules count the same way: step s of the warmup
/// trains with (s + 1) / warmup), then constant, cosine (CosineAnnealingLR
/// to 0 at `total`), linear decay to 0 at `total`, or step decay
/// (StepLR: gamma^floor(s / stepSize), s counted after the warmup). A
/// function of the step alone, so a resumed run continues the same
/// schedule.
double scheduleFactor(const Schedule &schedule, int64_t step, int64_t total);

float readF32(const Array &a, int64_t i = 0);

/// False when a floating-point array (f32, f16) holds a NaN or infinity.
bool isFinite(const Array &a);

/// A counter of the state (skipped steps): i64 as the compiler makes it.
int64_t readCounter(const Array &a);

/// JSON text of `value`; names from the model that are not UTF-8 are
/// written with U+FFFD rather than failing the run.
std::string jsonText(const nlohmann::json &value);

int64_t parseInt(const std::string &flag, const std::string &text);

double parseFloat(const std::string &flag, const std::string &text);

std::string readFile(const std::string &path);

bool isDirectory(const std::string &path);

void removeTree(const std::string &path);

std::vector<std::string> listDirectory(const std::string &path);

/// A file name for a state slot: readable and unambiguous.
std::string stateFileName(size_t index, const std::string &name);

struct Options {
  std::map<std::string, std::string> inputs, valInputs;
  std::string labels, valLabels;
  std::optional<int64_t> epochs, steps, batchSize, logEvery, checkpointEvery;
  std::optional<double> lr, weightDecay;
  /// Clipping thresholds over the compiled defaults (0: off).
  std::optional<double> clipGradNorm, clipGradValue;
  /// Batches whose gradients sum before each update, over the compiled
  /// default.
  std::optional<int64_t> accumulate;
  Schedule schedule;
  /// Consecutive steps with a non-finite loss that end the run as
  /// diverged (0: never).
  int64_t divergencePatience = 10;
  /// Validation during training: every N steps and/or every N epochs.
  std::optional<int64_t> valEverySteps, valEveryEpochs;
  /// "", "val_loss" or "val_accuracy": the best validation's model is the
  /// one --save-onnx writes and DIR/best holds.
  std::string keepBest;
  /// Validations without improvement that end the run.
  std::optional<int64_t> earlyStopping;
  std::optional<uint64_t> seed;
  std::string optimizer, metricsJson, saveOnnx, checkpoint, resume;
  std::string device = "auto";
  bool evalOnly = false, help = false;
};

/// The exit status of a run stopped because it diverged (1 is an error,
/// 128 + N a run interrupted by signal N).
constexpr int kExitDiverged = 3;

/// SIGINT and SIGTERM while it lives: the first ends the run after the
/// step in progress, a second one kills the process as usual.
class InterruptHandler {
public:
  InterruptHandler();
  ~InterruptHandler();
  /// The signal received, or 0.
  int signal() const;

private:
  struct sigaction previousInterrupt, previousTerminate;
};

/// "SIGINT", "SIGTERM".
std::string signalName(int signal);

/// 12s, 3m05s, 2h07m.
std::string formatDuration(double seconds);

/// A loss as the progress lines print it.
std::string formatLoss(double loss);

/// Watches each step for a run that cannot recover: the loss not finite
/// for `patience` consecutive steps, or dynamic loss scaling's scale
/// driven below kMinLossScale (every step overflowing even with the
/// gradients scaled down).
struct Divergence {
  /// 2^-16: scaled gradients still overflow fp16 at 65504, so the
  /// unscaled ones exceed 4e9.
  static constexpr float kMinLossScale = 1.0f / 65536.0f;
  /// Every step: the loss (which the host has anyway).
  void observeLoss(int64_t step, double loss, int64_t patience);
  /// At each log line, where the scale is fetched anyway: a device build
  /// fetches nothing but the loss per step.
  void observeScale(float lossScale, int64_t patience);
  bool diverged() const { return !why.empty(); }
  const std::string &reason() const { return why; }

  int64_t nonFiniteRun = 0, lastFiniteStep = 0;
  double lastFiniteLoss = NAN;
  std::string why;
};

/// Adds `--inputs [NAME=]FILE.npy` to `specs`; `names` are the model's inputs.
void addInputSpec(std::map<std::string, std::string> &specs,
                  const std::string &flag, const std::string &spec,
                  const std::vector<std::string> &names);

/// A dataset: one array per model input (and the labels), samples along
/// the first dimension, mapped from their files (batches are copied out as
/// they are needed).
struct Dataset {
  std::vector<MappedArray> inputs;
  std::optional<MappedArray> labels;
  int64_t samples = 0;
  std::string description;
};

class Trainer {
public:
  Trainer(const TrainingProgram &program, const Options &options);
  int run();

private:
  void classifyEntryPoints();
  Dataset loadDataset(const std::map<std::string, std::string> &inputFiles,
                      const std::string &labelFile, const std::string &flag);
  void checkFinite(const MappedArray &array, const std::string &file);
  /// Copies samples `order[first..first+count)` (padding with sample
  /// `order[0]`... when short) into the batch arrays.
  void gatherBatch(const Dataset &data, const std::vector<int64_t> &order,
                   int64_t first, int64_t count);
  void initializeState();
  /// Writes a checkpoint into `root` (--checkpoint, or its best/) unless
  /// the state is not finite (then warns and keeps the previous one).
  void saveCheckpoint(const std::string &root);
  /// --save-onnx, refusing a state that is not finite.
  void saveModel();
  /// The name of the first floating-point state slot holding a NaN or
  /// infinity, or "".
  std::string firstNonFiniteState();
  void loadCheckpoint(const std::string &directory);
  struct Evaluation {
    double loss = NAN, accuracy = NAN;
  };
  Evaluation evaluate(const Dataset &data);
  /// Evaluates the validation data at this step: history, the best model,
  /// early stopping. `during` prints its line (the final one is printed
  /// with the summary).
  Evaluation validate(bool during);
  bool validationDue() const;
  /// The metric --keep-best and --early-stopping watch.
  std::string monitoredMetric() const {
    return options.keepBest.empty() ? "val_loss" : options.keepBest;
  }
  void printProgress(bool final);
  /// `status`: completed, interrupted or diverged.
  void writeMetrics(const Evaluation &val, const std::string &status);

  const TrainingProgram &program;
  const Options &options;
  std::string name;
  // The functions of the selected device's build.
  Kernel initKernel = nullptr, trainKernel = nullptr, evalKernel = nullptr;
  bool onCUDA = false;
  /// State slot `i` as the host needs it (logs, checkpoints, metrics,
  /// --save-onnx): the state stays in its region (the device's, or the
  /// host's) between steps and is fetched only here.
  const Array &hostState(size_t i) {
    if (onCUDA)
      cuda::fetch(state[i]);
    else
      host::fetch(state[i]);
    return state[i];
  }
  /// After `state` was replaced wholesale: the region's copies are stale.
  void stateReplaced() {
    if (onCUDA)
      cuda::stateReplaced();
    else
      host::stateReplaced();
  }

  // Positions in the signatures.
  size_t numState = 0, numEvalState = 0;
  /// The train-state slot each state input of the eval step reads
  /// (parameters and running statistics, by name).
  std::vector<size_t> evalStateSlots;
  std::vector<size_t> trainInputSlots, evalInputSlots; // model inputs
  std::optional<size_t> trainLabelSlot, evalLabelSlot;
  std::vector<std::string> inputNames;
  int64_t batch = 0;
  std::optional<size_t> lossScaleSlot, skippedSlot, dropoutRngSlot;
  std::optional<size_t> lrSlot, decaySlot, maxGradNormSlot, gradClipValueSlot;
  /// Gradient accumulation's inputs (compiled with --accumulate).
  std::optional<size_t> accumulationStepsSlot, applyUpdateSlot;
  /// Batches per step (optimizer update).
  int64_t accumulate = 1;
  /// The train step's result with the gradients' global norm (compiled
  /// with norm clipping).
  std::optional<size_t> gradNormResult;

  std::vector<Array> state;
  std::vector<Array> batchInputs;
  std::optional<Array> batchLabels;
  Dataset train, val;
  bool hasVal = false;

  // Progress.
  uint64_t seed = 0;
  int64_t step = 0, totalSteps = 0, stepsPerEpoch = 0;
  /// The step this process started training at (the checkpoint's when
  /// resuming), and the step of the last checkpoint it wrote.
  int64_t firstStep = 0, lastCheckpointStep = 0;
  /// The best validation so far (a lower score is better: the loss, or
  /// minus the accuracy) and, with --keep-best, its model's weights.
  struct Best {
    int64_t step = -1;
    double score = 0;
    int64_t validationsSince = 0;
    Evaluation evaluation;
    std::map<size_t, Array> evalState;
  } best;
  bool stoppedEarly = false;
  int64_t lastValidationStep = -1;
  Evaluation lastValidation;
  /// --metrics-json's history (this process's): the loss at each log
  /// line, and every validation.
  struct LogPoint {
    int64_t step;
    double loss, lr, lossScale, gradNorm;
  };
  struct ValidationPoint {
    int64_t step;
    Evaluation evaluation;
  };
  std::vector<LogPoint> trainHistory;
  std::vector<ValidationPoint> valHistory;
  double windowLoss = 0, epochLoss = 0, windowGradNorm = 0,
         lastGradNorm = NAN;
  int64_t windowSteps = 0, epochSteps = 0;
  double lastEpochLoss = NAN;
  Clock::time_point windowStart, runStart, lastDraw;
  double trainSeconds = 0;
  int64_t trainedSamples = 0;
  bool terminal = false;
};

void printTrainingHelp(const TrainingProgram &program);

} // namespace training
} // namespace runtime
} // namespace mpc

#endif // LIB_RUNTIME_TRAINER_H

//===- Runtime.h - runtime of mpc-compiled programs -------------*- C++ -*-===//
//
// What compiled programs link with: .npy reading and writing,
// the command line (`--input NAME=FILE.npy --output-dir DIR --repeat N
// --help`), atomic output files, and errors that name the file or input.
// The compiler generates a small `main` that describes the program's
// inputs and outputs and calls `runInference` with its kernel.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_RUNTIME_RUNTIME_H
#define MPC_RUNTIME_RUNTIME_H

#include "mpc/ABI/ProgramABI.h"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mpc {
namespace runtime {

/// A runtime failure; its message names the file or input concerned.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// numpy dtype strings mpc reads and writes: "<f4", "<f2", "<i8", "<i4",
/// "|b1".
struct Array {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<char> data;

  int64_t elements() const;
  static int64_t itemSize(const std::string &dtype);
};

/// numpy's way of writing a shape: (2, 3), (5,), ().
std::string formatShape(const std::vector<int64_t> &shape);

/// Reads a C-order .npy file (format 1.0 to 3.0).
Array readNpy(const std::string &path);

/// A .npy file's array mapped read-only into memory: its pages are read
/// as they are touched and can be dropped again, so a dataset can be
/// larger than memory (training reads it batch by batch).
struct MappedArray {
  std::string dtype;
  std::vector<int64_t> shape;
  const char *data = nullptr;
  /// Unmaps the file when the last copy goes.
  std::shared_ptr<const void> mapping;

  int64_t elements() const;
};

/// Maps a C-order .npy file (format 1.0 to 3.0), checked as readNpy does.
MappedArray mapNpy(const std::string &path);

/// Writes `array` to `path` atomically (temporary file + rename).
void writeNpy(const std::string &path, const Array &array);

/// The file name (without directory) an output named `name` is written
/// to: `name` with every byte outside RFC 3986's unreserved characters
/// (A-Z a-z 0-9 - . _ ~) written as %XX, a leading '.' as %2E, then
/// ".npy". Output names come from the model, which is untrusted: the rule
/// keeps every file inside the output directory (no '/', no '.' or '..'),
/// maps distinct names to distinct files, and is reversed by Python's
/// urllib.parse.unquote (`a/b:0` -> `a%2Fb%3A0.npy`). Throws for a name
/// whose file name would exceed 255 bytes.
std::string outputFileName(const std::string &name);

/// Creates directory `path` and its missing parents (mkdir -p).
void makeDirectories(const std::string &path);

/// Checks, before any work, that the file `path` given with `flag` can be
/// written when the run ends: its directory exists and is writable (a
/// device or FIFO is written through), and it is no directory. The
/// message names the flag and the path.
void checkOutputFile(const std::string &flag, const std::string &path);

/// Creates the directory `path` given with `flag` (and its parents) and
/// checks that it is writable, before any work.
void prepareOutputDirectory(const std::string &flag, const std::string &path);

/// One input or output of a compiled function, as the program descriptor
/// has it.
struct Signature {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  /// Training state carried from step to step ("param:NAME", "step", ...).
  bool state = false;
  mpc_abi::ValueRole role = mpc_abi::ValueRole::Input;
  /// The slot's kind and, for a per-parameter kind, its weight.
  std::optional<mpc_abi::StateKind> kind;
  std::string parameter;
};

/// A compiled function: reads `inputs` (in signature order), replaces
/// `outputs` with its results.
using Kernel = void (*)(const std::vector<const Array *> &inputs,
                        std::vector<Array> &outputs);

struct EntryPoint {
  std::vector<Signature> inputs, outputs;
  /// The function built for the CPU and for CUDA; a binary carries one or
  /// both (--target=cpu, cuda or cpu,cuda).
  Kernel call = nullptr;
  Kernel callCUDA = nullptr;
};

/// The builds a binary carries and what they need from the runtime.
struct DeviceCode {
  bool cpu = true, cuda = false;
  /// The compiler's buffer plan: the most device memory the buffers of
  /// one CUDA call use.
  uint64_t cudaArenaBytes = 0;
  /// The training state's region, the same for every build: its size and
  /// where each slot lies in it (bytes), as the compiler laid it out.
  uint64_t stateBytes = 0;
  std::map<std::string, uint64_t> stateOffsets;
};

/// Resolves --device (cpu, cuda or auto) against the code the binary
/// carries; selecting CUDA loads the driver and initialises the device,
/// selecting the CPU reserves the host's state region.
/// "auto" takes the GPU when the binary has CUDA code and a usable device,
/// else the CPU. Throws Error with the reason when the choice cannot be
/// honoured. Returns true for CUDA; `description` says what was chosen
/// (and, for auto, why not the GPU).
bool selectCUDA(const std::string &flag, const DeviceCode &code,
                const std::string &programName, std::string &description);

/// Parses the command line, reads and checks the inputs, runs the kernel
/// on the selected device (`--repeat` times, printing the latency), writes
/// each output as DIR/<name>.npy. Returns the process exit code; errors go
/// to stderr.
int runInference(int argc, char **argv, const std::string &programName,
                 const EntryPoint &entry, const DeviceCode &code);

/// A trained initializer of the original ONNX model (see
/// mpc/Target/ONNX/ONNXExporter.h).
struct ONNXWeight {
  std::string name, stateName;
  int32_t dataType;
  std::vector<int64_t> dims;
};

/// Loss scaling as compiled: "static" or "dynamic", from this scale.
struct LossScaling {
  std::string mode;
  double initialScale = 1.0;
};

/// What a training binary is: its three functions and what they mean.
///   init() -> (state...)
///   train(state..., inputs..., [labels], lr, weight_decay) -> (state..., loss)
///   eval(params..., inputs..., [labels]) -> (loss, output)
/// where eval's loss is per sample ([batch, ...]) or, for a model's own
/// loss, a scalar.
struct TrainingProgram {
  std::string name, precision, optimizer, loss;
  /// Why --precision=auto chose `precision`; empty when it was named.
  std::string precisionReason;
  float defaultLR = 1e-3f, defaultWeightDecay = 0.0f;
  /// Gradient clipping's defaults; 0: not compiled in.
  float defaultClipGradNorm = 0.0f, defaultClipGradValue = 0.0f;
  /// Gradient accumulation's default K; 1: not compiled in.
  int64_t defaultAccumulate = 1;
  std::optional<LossScaling> lossScaling;
  EntryPoint init, train, eval;
  DeviceCode code;
  std::string onnxModelPrefix, onnxGraphBody;
  std::vector<ONNXWeight> onnxWeights;
};

/// The training binary's command line (see --help): data, the training
/// loop, progress, evaluation, checkpoints, metrics and --save-onnx.
int runTraining(int argc, char **argv, const TrainingProgram &program);

/// A compiled function's builds, by kernel name.
struct KernelBuilds {
  std::string name;
  Kernel call = nullptr;
  Kernel callCUDA = nullptr;
};

/// What a generated `main` hands the runtime: the program descriptor
/// (JSON, see mpc/ABI/ProgramABI.h), the kernels it names, and a training
/// program's ONNX template.
struct EmbeddedProgram {
  std::string descriptor;
  std::vector<KernelBuilds> kernels;
  std::string onnxModelPrefix, onnxGraphBody;
};

/// The training program `descriptor` describes, with `program`'s kernels.
/// Throws Error naming what is missing or malformed.
TrainingProgram readTrainingProgram(const EmbeddedProgram &program);

/// An inference program's entry point and builds, from its descriptor.
void readInferenceProgram(const EmbeddedProgram &program, std::string &name,
                          EntryPoint &entry, DeviceCode &code);

/// The binary's `main`: `--describe` prints the descriptor; otherwise the
/// program runs (runTraining or runInference).
int runProgram(int argc, char **argv, const EmbeddedProgram &program);

/// Writes `bytes` to `path` atomically (temporary file + rename).
void writeFileAtomically(const std::string &path, const std::string &bytes);

/// Keeps the buffers compiled functions allocate and free on every call in
/// the process: glibc would map allocations over its threshold (128 KiB)
/// anew and unmap them on free, so every step page-faulted its
/// activations back in. Called once at the start of the binary.
void keepBuffersMapped();

} // namespace runtime
} // namespace mpc

#endif // MPC_RUNTIME_RUNTIME_H

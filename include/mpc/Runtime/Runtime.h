//===- Runtime.h - runtime of mpc-compiled programs -------------*- C++ -*-===//
//
// What a compiled inference program links with: .npy reading and writing,
// the command line (`--input NAME=FILE.npy --output-dir DIR --repeat N
// --help`), atomic output files, and errors that name the file or input.
// The compiler generates a small `main` that describes the program's
// inputs and outputs and calls `runInference` with its kernel.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_RUNTIME_RUNTIME_H
#define MPC_RUNTIME_RUNTIME_H

#include <cstdint>
#include <functional>
#include <stdexcept>
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

/// Reads a C-order .npy file (format 1.0 to 3.0).
Array readNpy(const std::string &path);

/// Writes `array` to `path` atomically (temporary file + rename).
void writeNpy(const std::string &path, const Array &array);

/// One input or output of the compiled program.
struct Signature {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

/// Parses the command line, reads and checks the inputs, runs `kernel`
/// (`--repeat` times, printing the latency), writes each output as
/// DIR/<name>.npy. Returns the process exit code; errors go to stderr.
int runInference(int argc, char **argv, const std::string &programName,
                 const std::vector<Signature> &inputs,
                 const std::vector<Signature> &outputs,
                 const std::function<void(const std::vector<Array> &,
                                          std::vector<Array> &)> &kernel);

} // namespace runtime
} // namespace mpc

#endif // MPC_RUNTIME_RUNTIME_H

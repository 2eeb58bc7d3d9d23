//===- Flags.h - the command lines of compiled programs ---------*- C++ -*-===//
//
// Both kinds of binary (inference and training) take GNU-style long flags:
// `--flag value` and `--flag=value`. A flag the binary does not know is an
// error that suggests the closest one it does, as LLVM's cl does.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_RUNTIME_FLAGS_H
#define LIB_RUNTIME_FLAGS_H

#include <string>
#include <vector>

namespace mpc {
namespace runtime {

struct FlagSpec {
  std::string name; // with its dashes: "--steps", "-h"
  bool takesValue = true;
};

/// A flag as given on the command line, in order.
struct ParsedFlag {
  std::string name, value;
};

/// Splits argv[1..argc) into flags; errors (as mpc::runtime::Error) for an
/// unknown flag, a missing value, a value given to a flag without one and
/// an argument that is no flag.
std::vector<ParsedFlag> parseFlags(int argc, char **argv,
                                   const std::vector<FlagSpec> &known);

} // namespace runtime
} // namespace mpc

#endif // LIB_RUNTIME_FLAGS_H

//===- Flags.cpp - the command lines of compiled programs -----------------===//

#include "Flags.h"

#include "mpc/Runtime/Runtime.h"

#include <algorithm>

namespace mpc {
namespace runtime {

/// Levenshtein distance, for the suggestion (flags are short).
static size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

static std::string unknownFlag(const std::string &name,
                               const std::vector<FlagSpec> &known) {
  const FlagSpec *closest = nullptr;
  size_t best = 0;
  for (const FlagSpec &flag : known) {
    size_t distance = editDistance(name, flag.name);
    if (!closest || distance < best) {
      closest = &flag;
      best = distance;
    }
  }
  std::string message = "unknown argument '" + name + "'";
  // A third of the name, as llvm::cl's nearest-option lookup allows.
  if (closest && best <= std::max<size_t>(1, name.size() / 3))
    message += "; did you mean '" + closest->name + "'?";
  return message + " (see --help)";
}

std::vector<ParsedFlag> parseFlags(int argc, char **argv,
                                   const std::vector<FlagSpec> &known) {
  std::vector<ParsedFlag> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-')
      throw Error("unexpected argument '" + arg +
                  "': every argument is a flag (see --help)");
    std::string name = arg, value;
    size_t eq = arg.find('=');
    bool inlineValue = arg.rfind("--", 0) == 0 && eq != std::string::npos;
    if (inlineValue) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    auto spec = std::find_if(known.begin(), known.end(),
                             [&](const FlagSpec &f) { return f.name == name; });
    if (spec == known.end())
      throw Error(unknownFlag(name, known));
    if (!spec->takesValue && inlineValue)
      throw Error(name + " takes no value");
    if (spec->takesValue && !inlineValue) {
      if (i + 1 >= argc)
        throw Error(name + " needs a value");
      value = argv[++i];
    }
    flags.push_back({name, value});
  }
  return flags;
}

} // namespace runtime
} // namespace mpc

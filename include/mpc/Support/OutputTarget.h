//===- OutputTarget.h - where writing an output path lands ------*- C++ -*-===//
//
// Both the compiler (LLVM's streams) and the runtime linked into every
// compiled program (no LLVM) write their outputs atomically: a temporary
// file renamed over the destination. Renaming over a symlink would replace
// the link, and renaming over /dev/stdout (as root) would replace the
// device node with a regular file, so both first ask where the path
// really lands. POSIX only, header-only so that the runtime needs nothing
// from LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_SUPPORT_OUTPUTTARGET_H
#define MPC_SUPPORT_OUTPUTTARGET_H

#include <climits>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

// Its own namespace, as mpc_abi: included by mlir::mpc code and by the
// runtime alike.
namespace mpc_files {

struct OutputTarget {
  /// The file to replace: `path` with its symlinks (dangling ones too)
  /// followed, so the temporary file goes beside the real destination.
  std::string path;
  /// An existing device, FIFO or socket (/dev/stdout, /dev/null, a pipe):
  /// written directly through `path` as given, never replaced.
  bool direct = false;
};

inline OutputTarget resolveOutputTarget(const std::string &path) {
  struct stat st;
  // Followed first: /dev/stdout leads to /proc/self/fd/1, whose link text
  // ("pipe:[N]") is no path.
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) &&
      !S_ISDIR(st.st_mode))
    return {path, true};
  std::string current = path;
  // The kernel's own limit on links followed (ELOOP beyond it).
  for (int hops = 0; hops < 40; ++hops) {
    if (lstat(current.c_str(), &st) != 0 || !S_ISLNK(st.st_mode))
      return {current, false};
    char text[PATH_MAX];
    ssize_t length = readlink(current.c_str(), text, sizeof(text));
    if (length <= 0 || size_t(length) >= sizeof(text))
      return {current, false};
    std::string target(text, size_t(length));
    if (target[0] != '/') {
      size_t slash = current.find_last_of('/');
      if (slash != std::string::npos)
        target = current.substr(0, slash + 1) + target;
    }
    current = std::move(target);
  }
  // A cycle: writing through the link fails with ELOOP, naming `path`.
  return {path, true};
}

} // namespace mpc_files

#endif // MPC_SUPPORT_OUTPUTTARGET_H

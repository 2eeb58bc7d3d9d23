//===- AtomicFile.h - outputs that appear whole or not at all ---*- C++ -*-===//
//
// Every file mpc writes (IR, reports, later binaries and checkpoints) goes
// through a temporary file in the destination's directory that is renamed
// over the destination only once complete: a failed or killed run never
// leaves a partial file behind. A symlink is written through (the
// temporary file goes beside its target); devices and FIFOs (/dev/null,
// /dev/stdout) are written directly.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_SUPPORT_ATOMICFILE_H
#define MPC_SUPPORT_ATOMICFILE_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir {
namespace mpc {

class AtomicOutputFile {
public:
  /// Opens a temporary file beside `path` ("-" writes to stdout directly).
  static FailureOr<AtomicOutputFile> open(llvm::StringRef path,
                                          std::string &error);

  AtomicOutputFile(AtomicOutputFile &&) = default;
  AtomicOutputFile &operator=(AtomicOutputFile &&) = default;
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicOutputFile();

  llvm::raw_ostream &os() { return stream ? *stream : llvm::outs(); }

  /// Flushes and renames the temporary file over the destination.
  LogicalResult commit(std::string &error);

private:
  AtomicOutputFile() = default;

  /// As the user named it (for messages), and the file the rename
  /// replaces (symlinks followed).
  std::string path, destination;
  std::optional<llvm::sys::fs::TempFile> temp;
  std::unique_ptr<llvm::raw_fd_ostream> stream;
};

/// Writes `path` through `write` as one AtomicOutputFile: the file
/// appears only if `write` succeeds. `error` says why opening or committing
/// failed; a failing `write` reports its own problem.
LogicalResult
writeFileAtomically(llvm::StringRef path,
                    llvm::function_ref<LogicalResult(llvm::raw_ostream &)> write,
                    std::string &error);

} // namespace mpc
} // namespace mlir

#endif // MPC_SUPPORT_ATOMICFILE_H

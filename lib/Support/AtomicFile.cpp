//===- AtomicFile.cpp - outputs that appear whole or not at all -----------===//

#include "mpc/Support/AtomicFile.h"
#include "mpc/Support/OutputTarget.h"

#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::mpc;

FailureOr<AtomicOutputFile> AtomicOutputFile::open(StringRef path,
                                                   std::string &error) {
  AtomicOutputFile file;
  file.path = path.str();
  if (path == "-")
    return file;
  mpc_files::OutputTarget target = mpc_files::resolveOutputTarget(file.path);
  if (target.direct) {
    // -o /dev/null, a pipe: nothing to replace, nothing partial to hide.
    std::error_code ec;
    file.stream = std::make_unique<llvm::raw_fd_ostream>(path, ec);
    if (ec) {
      error = "cannot write '" + path.str() + "': " + ec.message();
      return failure();
    }
    return file;
  }
  file.destination = target.path;
  // In the destination's directory, so the final rename stays on one file
  // system and is atomic.
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(target.path + ".tmp-%%%%%%%%");
  if (!temp) {
    error = "cannot write '" + path.str() +
            "': " + llvm::toString(temp.takeError());
    return failure();
  }
  file.stream = std::make_unique<llvm::raw_fd_ostream>(temp->FD,
                                                       /*shouldClose=*/false);
  file.temp.emplace(std::move(*temp));
  return file;
}

AtomicOutputFile::~AtomicOutputFile() {
  stream.reset();
  if (temp)
    llvm::consumeError(temp->discard());
}

LogicalResult AtomicOutputFile::commit(std::string &error) {
  if (!stream) {
    llvm::outs().flush();
    return success();
  }
  stream->flush();
  bool writeFailed = stream->has_error();
  stream->clear_error();
  stream.reset();
  if (writeFailed) {
    error = "cannot write '" + path + "'";
    return failure();
  }
  if (!temp)
    return success();
  if (llvm::Error e = temp->keep(destination)) {
    error = "cannot write '" + path + "': " + llvm::toString(std::move(e));
    return failure();
  }
  temp.reset();
  return success();
}

LogicalResult mlir::mpc::writeFileAtomically(
    StringRef path, llvm::function_ref<LogicalResult(raw_ostream &)> write,
    std::string &error) {
  FailureOr<AtomicOutputFile> file = AtomicOutputFile::open(path, error);
  if (failed(file) || failed(write(file->os())))
    return failure();
  return file->commit(error);
}

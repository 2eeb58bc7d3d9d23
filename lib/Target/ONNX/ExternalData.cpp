//===- ExternalData.cpp - tensors stored beside the model -----------------===//
//
// ONNX's external data: a TensorProto whose bytes live in a file named by
// the model. The model is untrusted input, so this is a security boundary,
// kept small and on its own: the file must resolve (symlinks included) to
// a path inside the model's directory, and the byte range must lie inside
// the file. Everything else in the importer reads memory, never paths.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::mpc;

/// Where `tensor`'s external data lives, checked to stay inside the model's
/// directory: a model file must not make mpc read arbitrary files, so
/// absolute paths, '..' and symlinks that leave the directory are refused.
FailureOr<std::string>
mpc::onnx_import::resolveExternalDataPath(StringRef modelPath,
                                          const onnx::TensorProto &tensor,
                                          Location loc) {
  std::string location;
  for (const auto &entry : tensor.external_data())
    if (entry.key() == "location")
      location = entry.value();
  if (location.empty())
    return emitError(loc) << "tensor '" << tensor.name()
                          << "': external data has no location",
           failure();
  StringRef rel(location);
  if (llvm::sys::path::is_absolute(rel) ||
      llvm::any_of(llvm::make_range(llvm::sys::path::begin(rel),
                                    llvm::sys::path::end(rel)),
                   [](StringRef c) { return c == ".."; }))
    return emitError(loc) << "tensor '" << tensor.name()
                          << "': external data location '" << location
                          << "' leaves the model's directory (absolute "
                             "paths and '..' are refused)",
           failure();
  SmallString<256> modelDir(modelPath);
  llvm::sys::path::remove_filename(modelDir);
  if (modelDir.empty())
    modelDir = ".";
  SmallString<256> file(modelDir);
  llvm::sys::path::append(file, rel);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(modelDir, realDir) ||
      llvm::sys::fs::real_path(file, realFile))
    return emitError(loc) << "tensor '" << tensor.name()
                          << "': external data file '" << file
                          << "' does not exist",
           failure();
  if (!StringRef(realFile).starts_with((realDir + "/").str()))
    return emitError(loc) << "tensor '" << tensor.name()
                          << "': external data file '" << location
                          << "' resolves to '" << realFile
                          << "' outside the model's directory",
           failure();
  return std::string(realFile);
}

FailureOr<std::vector<char>>
mpc::onnx_import::readExternalData(StringRef modelPath,
                                   const onnx::TensorProto &tensor,
                                   Location loc) {
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "offset" || entry.key() == "length") {
      int64_t v;
      if (StringRef(entry.value()).getAsInteger(10, v) || v < 0)
        return emitError(loc) << "tensor '" << tensor.name()
                              << "': external data " << entry.key() << " '"
                              << entry.value() << "' is not a valid number",
               failure();
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  FailureOr<std::string> realFile =
      resolveExternalDataPath(modelPath, tensor, loc);
  if (failed(realFile))
    return failure();
  StringRef location = llvm::sys::path::filename(*realFile);
  StringRef file = *realFile;
  auto buffer = llvm::MemoryBuffer::getFile(*realFile, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return emitError(loc) << "tensor '" << tensor.name()
                          << "': cannot read external data file '" << file
                          << "': " << buffer.getError().message(),
           failure();
  int64_t size = (*buffer)->getBufferSize();
  if (length < 0)
    length = size - offset;
  if (offset > size || length > size - offset)
    return emitError(loc) << "tensor '" << tensor.name() << "': external data ["
                          << offset << ", " << offset + length
                          << ") is past the end of '" << location << "' ("
                          << size << " bytes)",
           failure();
  const char *start = (*buffer)->getBufferStart() + offset;
  return std::vector<char>(start, start + length);
}

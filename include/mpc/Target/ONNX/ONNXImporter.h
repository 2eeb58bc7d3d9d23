//===- ONNXImporter.h - ONNX model to mpc dialect ---------------*- C++ -*-===//
//
// Imports an ONNX ModelProto (opset 9 to 17, newer opsets when the ops used
// are unchanged) into a module of mpc dialect ops.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_TARGET_ONNX_ONNXIMPORTER_H
#define MPC_TARGET_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace mlir {
namespace mpc {

struct ONNXImportOptions {
  /// Shapes pinned by the user (`--input-shape=NAME:2x3`), by graph input
  /// name; they replace the declared (possibly dynamic) dims.
  llvm::StringMap<std::vector<int64_t>> inputShapes;
  /// When positive, graph inputs whose only dynamic dim is the first get
  /// this batch size (unless pinned by `inputShapes`).
  int64_t batchSize = 0;
  /// Name of the function holding the graph.
  std::string functionName = "main";
  /// Float Constant nodes of rank > 0 become trainable parameters, like
  /// initializers (`--trainable-constants`; see promoteFloatConstants).
  bool trainableConstants = false;
};

/// Parses one `--input-shape` value (`NAME:DxDx...`, `NAME:` for a scalar)
/// into `options`; returns an error message on malformed input.
std::string parseInputShapeOption(llvm::StringRef spec,
                                  ONNXImportOptions &options);

/// Imports the model at `path`. Every problem is reported to `errorStream`
/// as `PATH: error: node 'NAME' (OpType): reason` (all unsupported ops of
/// the model in one run); returns null if there was any error.
OwningOpRef<ModuleOp> importONNXModel(llvm::StringRef path,
                                      MLIRContext *context,
                                      const ONNXImportOptions &options,
                                      llvm::raw_ostream &errorStream);

/// Whether `path` names an ONNX model rather than MLIR source or bytecode.
bool isONNXModelPath(llvm::StringRef path);

} // namespace mpc
} // namespace mlir

#endif // MPC_TARGET_ONNX_ONNXIMPORTER_H

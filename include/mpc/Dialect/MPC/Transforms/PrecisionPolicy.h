//===- PrecisionPolicy.h - op classes and user policies ---------*- C++ -*-===//
//
// Which class (allow/deny/infer/clear) each ONNX op type belongs to by
// default, the JSON policy file that overrides it, and the ONNX identity of
// mpc ops (op type, node name) that policies and reports refer to.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_TRANSFORMS_PRECISIONPOLICY_H
#define MPC_DIALECT_MPC_TRANSFORMS_PRECISIONPOLICY_H

#include "mpc/Dialect/MPC/IR/MPCDialect.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/GlobPattern.h"

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
namespace mpc {

/// The ONNX op type of an mpc op ("MatMul" for mpc.matmul), or the op's
/// name for ops that are not ONNX operators.
std::string getONNXOpType(Operation *op);

/// The ONNX node name an op was imported from (its NameLoc), or "" if it
/// has none.
std::string getNodeName(Operation *op);

/// Where a class assignment came from, for the report's `reason`.
enum class ClassSource { DefaultList, PolicyFile, Unknown };

struct PrecisionPolicy {
  struct NodePin {
    std::string pattern;
    llvm::GlobPattern glob;
    bool low;
  };

  /// Class by ONNX op type, and whether the policy file set it.
  llvm::StringMap<std::pair<PrecisionClass, ClassSource>> classes;
  /// Node pins, sorted by pattern; the first match wins. A deque: each
  /// GlobPattern refers into its own pin's pattern string, which must not
  /// move.
  std::deque<NodePin> pins;

  /// The autocast-like defaults.
  static PrecisionPolicy getDefault();

  /// The defaults with the policy file at `path` applied on top. Errors
  /// name the file and the JSON position (`$.nodes["/enc/*"]`).
  static FailureOr<PrecisionPolicy>
  load(llvm::StringRef path, llvm::function_ref<void(const llvm::Twine &)> emitError);

  std::optional<std::pair<PrecisionClass, ClassSource>>
  lookup(llvm::StringRef opType) const;
  const NodePin *findPin(llvm::StringRef nodeName) const;
};

llvm::StringRef stringifyClassSource(ClassSource source);

} // namespace mpc
} // namespace mlir


namespace mlir {
namespace mpc {

/// Name of the discardable attribute holding an op's #mpc.decision.
inline constexpr llvm::StringLiteral kDecisionAttrName = "mpc.decision";

/// Whether the precision passes decide a precision for `op`: mpc ops that
/// read or produce floating-point tensors, except those whose types are
/// fixed by the model (constants, parameters, ONNX Cast, Shape) and casts.
bool isPrecisionDecided(Operation *op);

/// How an operand of a decided op relates to the op's precision.
enum class OperandRole {
  /// Read in the op's compute type (cast to it if needed).
  FollowOp,
  /// Always read in fp32 (BatchNorm's scale, bias and statistics).
  KeepFp32,
  /// Not a floating-point tensor.
  Ignore,
};
OperandRole getOperandRole(Operation *op, unsigned index);

/// Whether result `index` of a decided op is produced in the op's compute
/// type (false: always fp32, e.g. normalisation statistics, or not float).
bool resultFollowsOp(Operation *op, unsigned index);

/// The low-precision type named by `precision` ("bf16", "fp16"), or null.
FloatType parseLowPrecisionType(MLIRContext *context, llvm::StringRef precision);

} // namespace mpc
} // namespace mlir

#endif // MPC_DIALECT_MPC_TRANSFORMS_PRECISIONPOLICY_H

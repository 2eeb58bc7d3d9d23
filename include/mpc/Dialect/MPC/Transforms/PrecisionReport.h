//===- PrecisionReport.h - the precision report's data ----------*- C++ -*-===//
//
// What --mpc-precision-report collects from the IR after the precision
// passes: one row per decided op with its dataflow inputs (casts folded
// into the edge they sit on), and a summary. Written as a table, JSON, or
// a self-contained HTML page with the graph laid out by Graphviz.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_TRANSFORMS_PRECISIONREPORT_H
#define MPC_DIALECT_MPC_TRANSFORMS_PRECISIONREPORT_H

#include "mpc/Dialect/MPC/IR/MPCDialect.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlir::mpc::report {

/// Where an op's operand comes from: another reported op, a function
/// input or a parameter, possibly through casts.
struct Edge {
  enum class Source { Node, Input, Parameter };
  Source source = Source::Node;
  int64_t node = -1;     ///< the producing row's id (Source::Node)
  std::string name;      ///< the input's or parameter's name
  std::string castFrom;  ///< element type before the casts ("" if none)
  std::string castTo;    ///< element type the op reads
  int64_t castBytes = 0; ///< bytes the casts on this edge read and write
};

struct Node {
  int64_t id = 0;
  std::string function, name, op, cls, compute, accumulate, result, reason;
  /// Of a training step: forward, the gradient of node `name`, the
  /// optimizer's update of parameter `name`, ...
  TrainingPart part = TrainingPart::Forward;
  int64_t castsIn = 0;
  double flops = 0;
  std::vector<Edge> inputs;
};

struct Summary {
  std::map<std::string, int64_t> opsByPrecision;
  std::map<std::string, double> flopsByPrecision;
  double lowFlops = 0, totalFlops = 0;
  int64_t casts = 0, castBytes = 0;
  int64_t paramBytes = 0, fp32ParamBytes = 0;
  int64_t activationBytes = 0, fp32ActivationBytes = 0;
};

struct Report {
  std::string title;
  std::vector<Node> nodes;
  Summary summary;
};

/// The largest graph drawn op by op; larger ones are collapsed by name
/// scope, or shown as a table when that does not bring them under it.
constexpr int64_t kMaxDrawnNodes = 1200;

/// The name a reader sees: `/fc2/Gemm`, `/fc2/Gemm (grad)`,
/// `fc2.weight (optimizer)`, `(loss scaling)`.
std::string displayName(const Node &node);

void writeJSON(llvm::raw_ostream &os, const Report &report);

/// Reads what writeJSON wrote (so a saved report can be rendered again).
llvm::Expected<Report> readJSON(llvm::StringRef text);

/// One self-contained page: the graph as SVG from Graphviz's `dot` (found
/// on PATH; without it, or when it fails, the page says so and shows the
/// table), the summary with a chart, the node table and the JSON report.
void writeHTML(llvm::raw_ostream &os, const Report &report);

} // namespace mlir::mpc::report

#endif // MPC_DIALECT_MPC_TRANSFORMS_PRECISIONREPORT_H

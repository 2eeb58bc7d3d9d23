//===- PrecisionReportHTML.cpp - the precision report as one web page -----===//
//
// The page a user opens to see where the precision went: the dataflow
// graph laid out by Graphviz (ops filled by compute precision, their class
// in the border, casts as red edges with the bytes they move, the reason
// as hover text), a summary with a chart, the node table, and the JSON
// report itself. Everything is inline, so the file can be mailed around.
//
// Graphs too large to read op by op are collapsed by ONNX name scope
// ("/encoder/layer.3/..."), the usual shape of repeated blocks; when that
// does not bring them under the limit, or `dot` is missing or fails, the
// page shows the table only and says why.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/Transforms/PrecisionReport.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <optional>
#include <set>

using namespace mlir::mpc::report;
using llvm::raw_ostream;
using llvm::StringRef;

namespace {

std::string htmlEscape(StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

/// A DOT string literal's contents. Graphviz escapes '<' and '&' itself
/// when it writes SVG; newlines in tooltips are written as entities.
std::string dotEscape(StringRef text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "&#10;";
      continue;
    }
    out += c;
  }
  return out;
}

std::string formatBytes(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? llvm::formatv("{0} B", (int64_t)bytes).str()
                   : llvm::formatv("{0:f1} {1}", bytes, units[unit]).str();
}

std::string formatCount(double value) {
  const char *suffix[] = {"", "K", "M", "G", "T", "P"};
  int unit = 0;
  while (value >= 1000 && unit < 5) {
    value /= 1000;
    ++unit;
  }
  return unit == 0 ? llvm::formatv("{0}", (int64_t)value).str()
                   : llvm::formatv("{0:f1}{1}", value, suffix[unit]).str();
}

/// Fill colours by compute type, chosen to stay apart for colour-blind
/// readers (Tableau 10).
StringRef precisionColour(StringRef compute) {
  return llvm::StringSwitch<StringRef>(compute)
      .Case("f32", "#7aa6d6")
      .Case("bf16", "#f5a053")
      .Case("f16", "#7cc46f")
      .Case("f64", "#b07aa1")
      .Default("#d5d0cc");
}

StringRef precisionLabel(StringRef compute) {
  return compute.empty() ? StringRef("none") : compute;
}

/// Border per class: deny is what the user most often asks about.
std::string classStyle(StringRef cls) {
  if (cls == "deny")
    return "style=\"filled,bold\", color=\"#b03030\", penwidth=2.5";
  if (cls == "allow")
    return "style=\"filled\", color=\"#303030\", penwidth=1.5";
  if (cls == "infer")
    return "style=\"filled,dashed\", color=\"#303030\"";
  return "style=\"filled,dotted\", color=\"#303030\""; // clear
}

struct DrawnEdge {
  std::string from, to;
  int64_t castBytes = 0, casts = 0, count = 0;
  std::string castFrom, castTo;
};

/// A graph ready for DOT: nodes as DOT statements keyed by id.
struct DrawnGraph {
  /// function -> node statements (a cluster per function when several).
  llvm::MapVector<std::string, std::vector<std::string>,
                  std::map<std::string, unsigned>>
      nodesByFunction;
  std::vector<DrawnEdge> edges;
  int64_t nodeCount = 0;
};

std::string sourceId(const Node &node, const Edge &edge,
                     llvm::StringMap<std::string> &sources,
                     DrawnGraph &graph) {
  bool isInput = edge.source == Edge::Source::Input;
  // Parameters are shared by all functions; inputs belong to theirs.
  std::string key = (isInput ? "input:" + node.function + ":"
                             : std::string("parameter:")) +
                    edge.name;
  auto [it, inserted] = sources.try_emplace(key, "");
  if (!inserted)
    return it->second;
  it->second = (isInput ? "in_" : "param_") + std::to_string(sources.size());
  std::string statement = llvm::formatv(
      "\"{0}\" [id=\"{0}\", label=\"{1}\", shape={2}, style=filled, "
      "fillcolor=\"#f4f4f4\", color=\"#909090\", fontsize=10, "
      "tooltip=\"{3} {4}\"];",
      it->second, dotEscape(edge.name), isInput ? "invhouse" : "cylinder",
      isInput ? "input" : "parameter", dotEscape(edge.name));
  graph.nodesByFunction[isInput ? node.function : std::string()].push_back(
      statement);
  ++graph.nodeCount;
  return it->second;
}

DrawnGraph buildDetailedGraph(const Report &report) {
  DrawnGraph graph;
  llvm::StringMap<std::string> sources;
  for (const Node &node : report.nodes) {
    std::string tooltip = llvm::formatv(
        "{0} ({1})\nclass: {2}\ncompute {3}, accumulate {4}, result {5}\n"
        "{6} FLOPs\nreason: {7}",
        displayName(node), node.op, node.cls, precisionLabel(node.compute),
        precisionLabel(node.accumulate), precisionLabel(node.result),
        formatCount(node.flops), node.reason);
    // Backward ops say whose gradient they are, the update's whose update.
    std::string label = node.op;
    if (node.part == mlir::mpc::TrainingPart::Backward)
      label += " (grad)";
    graph.nodesByFunction[node.function].push_back(llvm::formatv(
        "\"op_{0}\" [id=\"op_{0}\", class=\"{5}\", label=\"{1}\\n{2} · {3}\", "
        "fillcolor=\"{4}\", tooltip=\"{6}\", {7}];",
        node.id, dotEscape(label), precisionLabel(node.compute), node.cls,
        precisionColour(node.compute), "op " + node.cls, dotEscape(tooltip),
        classStyle(node.cls)));
    ++graph.nodeCount;
    for (const Edge &edge : node.inputs) {
      DrawnEdge drawn;
      drawn.from = edge.source == Edge::Source::Node
                       ? "op_" + std::to_string(edge.node)
                       : sourceId(node, edge, sources, graph);
      drawn.to = "op_" + std::to_string(node.id);
      drawn.count = 1;
      if (!edge.castFrom.empty()) {
        drawn.casts = 1;
        drawn.castBytes = edge.castBytes;
        drawn.castFrom = edge.castFrom;
        drawn.castTo = edge.castTo;
      }
      graph.edges.push_back(std::move(drawn));
    }
  }
  return graph;
}

/// The first `depth` scope components of an ONNX node name
/// ("/encoder/layer.3/attn/MatMul", 2 -> "/encoder/layer.3"); names
/// without that many scopes are their own group.
std::string scopeOf(StringRef name, int depth) {
  llvm::SmallVector<StringRef> parts;
  name.split(parts, '/', -1, /*KeepEmpty=*/false);
  if ((int)parts.size() <= depth)
    return name.str();
  std::string scope;
  for (int i = 0; i < depth; ++i)
    scope += "/" + parts[i].str();
  return scope;
}

/// Groups per function and scope at `depth`, or nullopt when there are
/// too many to draw.
std::optional<std::vector<int64_t>>
groupByScope(const Report &report, int depth,
             std::vector<std::pair<std::string, std::string>> &groups) {
  std::map<std::pair<std::string, std::string>, int64_t> index;
  std::vector<int64_t> groupOf;
  groups.clear();
  for (const Node &node : report.nodes) {
    auto key = std::make_pair(node.function, scopeOf(node.name, depth));
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      groups.push_back(key);
      if ((int64_t)groups.size() > kMaxDrawnNodes)
        return std::nullopt;
    }
    groupOf.push_back(it->second);
  }
  return groupOf;
}

/// A training step folded: each forward node with its gradient's ops, the
/// loss with its gradient, and per function one block for each of the
/// optimizer, clipping, accumulation and loss scaling. Nullopt when that
/// is still too many blocks to draw.
std::optional<std::vector<int64_t>>
foldBackward(const Report &report,
             std::vector<std::pair<std::string, std::string>> &groups) {
  using mlir::mpc::TrainingPart;
  std::map<std::pair<std::string, std::string>, int64_t> index;
  std::vector<int64_t> groupOf;
  groups.clear();
  for (const Node &node : report.nodes) {
    std::string key;
    switch (node.part) {
    case TrainingPart::Forward:
    case TrainingPart::Backward:
    case TrainingPart::Loss:
      key = node.name.empty() ? displayName(node) : node.name;
      break;
    default: // one block per function: it updates every parameter
      key = mlir::mpc::nameWithTrainingPart("", node.part);
    }
    auto [it, inserted] =
        index.try_emplace({node.function, key}, int64_t(groups.size()));
    if (inserted) {
      groups.push_back({node.function, key});
      if ((int64_t)groups.size() > kMaxDrawnNodes)
        return std::nullopt;
    }
    groupOf.push_back(it->second);
  }
  return groupOf;
}

DrawnGraph buildCollapsedGraph(
    const Report &report, const std::vector<int64_t> &groupOf,
    const std::vector<std::pair<std::string, std::string>> &groups) {
  DrawnGraph graph;
  struct GroupStats {
    std::map<std::string, int64_t> byPrecision, byOp, byClass;
    int64_t ops = 0;
    double flops = 0;
  };
  std::vector<GroupStats> stats(groups.size());
  for (const Node &node : report.nodes) {
    GroupStats &group = stats[groupOf[node.id]];
    ++group.ops;
    group.flops += node.flops;
    ++group.byPrecision[node.compute];
    ++group.byOp[node.op];
    ++group.byClass[node.cls];
  }
  for (auto [index, key] : llvm::enumerate(groups)) {
    const GroupStats &group = stats[index];
    // Filled by the precision of most of its ops.
    auto majority = llvm::max_element(group.byPrecision, [](auto &a, auto &b) {
      return a.second < b.second;
    });
    std::string mix, ops;
    for (const auto &[precision, count] : group.byPrecision)
      mix += llvm::formatv("{0}{1} {2}", mix.empty() ? "" : " · ", count,
                           precisionLabel(precision));
    for (const auto &[op, count] : group.byOp)
      ops += llvm::formatv("\n  {0} x{1}", op, count);
    std::string tooltip =
        llvm::formatv("{0}: {1} ops, {2} FLOPs\n{3}\nop types:{4}", key.second,
                      group.ops, formatCount(group.flops), mix, ops);
    graph.nodesByFunction[key.first].push_back(llvm::formatv(
        "\"group_{0}\" [id=\"group_{0}\", class=\"group\", shape=box3d, "
        "label=\"{1}\\n{2} ops\\n{3}\", fillcolor=\"{4}\", style=filled, "
        "tooltip=\"{5}\"];",
        index, dotEscape(key.second), group.ops, dotEscape(mix),
        precisionColour(majority->first), dotEscape(tooltip)));
    ++graph.nodeCount;
  }
  // Edges between groups, casts summed onto them.
  std::map<std::pair<int64_t, int64_t>, DrawnEdge> merged;
  for (const Node &node : report.nodes)
    for (const Edge &edge : node.inputs) {
      if (edge.source != Edge::Source::Node)
        continue;
      int64_t from = groupOf[edge.node], to = groupOf[node.id];
      if (from == to)
        continue;
      DrawnEdge &drawn = merged[{from, to}];
      drawn.from = "group_" + std::to_string(from);
      drawn.to = "group_" + std::to_string(to);
      ++drawn.count;
      if (!edge.castFrom.empty()) {
        ++drawn.casts;
        drawn.castBytes += edge.castBytes;
        drawn.castFrom = edge.castFrom;
        drawn.castTo = edge.castTo;
      }
    }
  for (auto &[key, edge] : merged)
    graph.edges.push_back(std::move(edge));
  return graph;
}

std::string toDot(const DrawnGraph &graph) {
  std::string dot;
  llvm::raw_string_ostream os(dot);
  os << "digraph precision {\n"
        "  graph [rankdir=TB, nodesep=0.25, ranksep=0.35, fontname=\"Helvetica\", "
        "bgcolor=\"transparent\"];\n"
        "  node [shape=box, fontname=\"Helvetica\", fontsize=11, "
        "margin=\"0.08,0.04\"];\n"
        "  edge [color=\"#707070\", arrowsize=0.6, fontname=\"Helvetica\", "
        "fontsize=9];\n";
  int cluster = 0;
  for (const auto &[function, statements] : graph.nodesByFunction) {
    bool clustered = !function.empty() && graph.nodesByFunction.size() > 1;
    if (clustered)
      os << "  subgraph cluster_" << cluster++ << " {\n    label=\""
         << dotEscape(function)
         << "\"; style=rounded; color=\"#c0c0c0\"; fontsize=12;\n";
    for (const std::string &statement : statements)
      os << (clustered ? "    " : "  ") << statement << "\n";
    if (clustered)
      os << "  }\n";
  }
  int64_t castEdge = 0;
  for (const DrawnEdge &edge : graph.edges) {
    os << "  \"" << edge.from << "\" -> \"" << edge.to << "\"";
    if (edge.casts) {
      std::string label = llvm::formatv(
          "{0}→{1}{2}\\n{3}", edge.castFrom, edge.castTo,
          edge.casts > 1 ? llvm::formatv(" x{0}", edge.casts).str() : "",
          formatBytes(edge.castBytes));
      os << llvm::formatv(
          " [id=\"cast_{0}\", class=\"cast\", color=\"#d62728\", "
          "fontcolor=\"#d62728\", penwidth=2.2, arrowhead=diamond, "
          "label=\"{1}\", tooltip=\"{2} cast(s) {3} moving {4}\"]",
          castEdge++, label, edge.casts, edge.castFrom + " to " + edge.castTo,
          formatBytes(edge.castBytes));
    } else if (edge.count > 1) {
      os << " [penwidth=" << std::min<int64_t>(1 + edge.count / 4, 4) << "]";
    }
    os << ";\n";
  }
  os << "}\n";
  return dot;
}

/// Lays `dot` out as SVG with Graphviz; the error says why not.
std::optional<std::string> runDot(StringRef dot, std::string &error) {
  llvm::ErrorOr<std::string> program = llvm::sys::findProgramByName("dot");
  if (!program) {
    error = "Graphviz's dot is not on PATH (Debian: apt install graphviz)";
    return std::nullopt;
  }
  llvm::SmallString<128> input, output;
  if (llvm::sys::fs::createTemporaryFile("mpc-report", "dot", input) ||
      llvm::sys::fs::createTemporaryFile("mpc-report", "svg", output)) {
    error = "cannot create temporary files for dot";
    return std::nullopt;
  }
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(input);
    llvm::sys::fs::remove(output);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(input, ec);
    if (ec) {
      error = "cannot write " + input.str().str() + ": " + ec.message();
      return std::nullopt;
    }
    os << dot;
  }
  llvm::SmallVector<StringRef> args = {*program, "-Tsvg", input, "-o", output};
  std::string message;
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(""),
                                          StringRef("")};
  int rc = llvm::sys::ExecuteAndWait(*program, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/120, 0, &message);
  if (rc != 0) {
    error = rc == -2 ? "dot took longer than 120 s"
                     : "dot failed" + (message.empty() ? std::string()
                                                       : ": " + message);
    return std::nullopt;
  }
  auto buffer = llvm::MemoryBuffer::getFile(output);
  if (!buffer) {
    error = "dot wrote no SVG";
    return std::nullopt;
  }
  // Drop the XML prolog and DOCTYPE: the SVG goes inline into HTML.
  StringRef svg = (*buffer)->getBuffer();
  size_t start = svg.find("<svg");
  if (start == StringRef::npos) {
    error = "dot wrote no SVG";
    return std::nullopt;
  }
  return svg.drop_front(start).str();
}

/// One stacked bar per measure (ops, FLOPs), shares by compute type.
void writeChart(raw_ostream &os, const Summary &summary) {
  struct Bar {
    const char *label;
    std::map<std::string, double> parts;
  };
  Bar bars[2] = {{"ops", {}}, {"FLOPs", {}}};
  for (const auto &[precision, count] : summary.opsByPrecision)
    bars[0].parts[precision] = count;
  bars[1].parts = summary.flopsByPrecision;
  const int width = 300, barHeight = 22, labelWidth = 50;
  os << "<svg id=\"chart\" width=\"" << width + labelWidth + 10
     << "\" height=\"" << 2 * (barHeight + 12) + 30
     << "\" role=\"img\" aria-label=\"share of ops and FLOPs by compute "
        "type\">\n";
  for (auto [row, bar] : llvm::enumerate(bars)) {
    double total = 0;
    for (const auto &[precision, value] : bar.parts)
      total += value;
    int y = 4 + row * (barHeight + 12);
    os << "<text x=\"0\" y=\"" << y + 15 << "\" class=\"axis\">" << bar.label
       << "</text>\n";
    double x = labelWidth;
    for (const auto &[precision, value] : bar.parts) {
      if (total <= 0 || value <= 0)
        continue;
      double w = width * value / total;
      os << llvm::formatv(
          "<rect x=\"{0:f1}\" y=\"{1}\" width=\"{2:f1}\" height=\"{3}\" "
          "fill=\"{4}\"><title>{5}: {6:f1}% of {7}</title></rect>\n",
          x, y, w, barHeight, precisionColour(precision),
          htmlEscape(precisionLabel(precision)), 100 * value / total,
          bar.label);
      if (w > 34)
        os << llvm::formatv("<text x=\"{0:f1}\" y=\"{1}\" class=\"in-bar\">"
                            "{2:f0}%</text>\n",
                            x + 4, y + 15, 100 * value / total);
      x += w;
    }
  }
  os << "</svg>\n";
}

void writeSummary(raw_ostream &os, const Report &report) {
  const Summary &s = report.summary;
  auto ratio = [](double a, double b) {
    return b > 0 ? llvm::formatv("{0:f2}x fp32", a / b).str() : std::string();
  };
  os << "<table class=\"summary\">\n";
  os << "<tr><th>ops</th><td>" << report.nodes.size() << "</td></tr>\n";
  for (const auto &[precision, count] : s.opsByPrecision)
    os << "<tr><th><span class=\"swatch\" style=\"background:"
       << precisionColour(precision) << "\"></span>"
       << htmlEscape(precisionLabel(precision)) << "</th><td>" << count
       << " ops, " << formatCount(s.flopsByPrecision.count(precision)
                                      ? s.flopsByPrecision.at(precision)
                                      : 0.0)
       << " FLOPs</td></tr>\n";
  os << llvm::formatv("<tr><th>low-precision FLOPs</th><td>{0:f1}%</td></tr>\n",
                      s.totalFlops > 0 ? 100 * s.lowFlops / s.totalFlops : 0.0);
  os << "<tr><th>casts</th><td>" << s.casts << " moving "
     << formatBytes(s.castBytes) << "</td></tr>\n";
  os << "<tr><th>parameters</th><td>" << formatBytes(s.paramBytes) << " ("
     << ratio(s.paramBytes, s.fp32ParamBytes) << ")</td></tr>\n";
  os << "<tr><th>activations</th><td>" << formatBytes(s.activationBytes)
     << " (" << ratio(s.activationBytes, s.fp32ActivationBytes)
     << ")</td></tr>\n";
  os << "</table>\n";
}

void writeNodeTable(raw_ostream &os, const Report &report) {
  os << "<input id=\"filter\" type=\"search\" placeholder=\"filter nodes "
        "(name, op, class, type)\">\n"
        "<table id=\"nodes\"><thead><tr><th>node</th><th>op</th>"
        "<th>function</th><th>part</th><th>class</th><th>compute</th><th>accumulate</th>"
        "<th>result</th><th>casts in</th><th>reason</th></tr></thead><tbody>\n";
  for (const Node &node : report.nodes)
    os << "<tr id=\"row_" << node.id << "\"><td>"
       << htmlEscape(displayName(node)) << "</td><td>" << htmlEscape(node.op)
       << "</td><td>" << htmlEscape(node.function) << "</td><td>"
       << mlir::mpc::stringifyTrainingPart(node.part)
       << "</td><td class=\"class-" << node.cls
       << "\">" << node.cls << "</td><td><span class=\"swatch\" "
       << "style=\"background:" << precisionColour(node.compute) << "\"></span>"
       << htmlEscape(precisionLabel(node.compute)) << "</td><td>"
       << htmlEscape(precisionLabel(node.accumulate)) << "</td><td>"
       << htmlEscape(precisionLabel(node.result)) << "</td><td>"
       << node.castsIn << "</td><td>" << htmlEscape(node.reason)
       << "</td></tr>\n";
  os << "</tbody></table>\n";
}

constexpr const char *kStyle = R"css(
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { padding: 10px 16px; background: #2f3b4c; color: white; }
header h1 { font-size: 18px; margin: 0; }
header p { margin: 4px 0 0; font-size: 13px; color: #d0d8e0; }
main { display: flex; gap: 16px; padding: 12px 16px; align-items: flex-start; }
#graph { flex: 1 1 auto; overflow: auto; max-height: 85vh; border: 1px solid #ddd; }
#graph svg { display: block; }
#graph.fit svg { width: 100%; height: auto; }
#zoom { margin: 4px; font-size: 12px; }
aside { flex: 0 0 380px; font-size: 13px; }
.note { background: #fff6d8; border: 1px solid #e8d58a; padding: 6px 8px; margin: 0 0 10px; }
table { border-collapse: collapse; font-size: 12px; }
.summary th { text-align: left; padding: 2px 10px 2px 0; font-weight: normal; color: #555; }
#nodes { margin: 0 16px 16px; }
#nodes th, #nodes td { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: left; }
#filter { margin: 4px 16px; width: 320px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; border: 1px solid #666; }
.legend div { margin: 2px 0; }
.class-deny { color: #b03030; font-weight: bold; }
.axis { font-size: 12px; } .in-bar { font-size: 11px; fill: #222; }
g.node.highlight polygon, g.node.highlight ellipse { stroke: #000; stroke-width: 4px; }
)css";

constexpr const char *kScript = R"js(
(function () {
  // Large graphs open fitted to the width; the button shows them at 100%.
  var graph = document.getElementById('graph');
  var zoom = document.getElementById('zoom');
  if (zoom) {
    zoom.addEventListener('click', function () {
      graph.classList.toggle('fit');
      zoom.textContent = graph.classList.contains('fit') ? 'actual size' : 'fit to width';
    });
  }
  // A training program opens folded; the button shows every op.
  var fold = document.getElementById('fold');
  if (fold) {
    fold.addEventListener('click', function () {
      var showOps = document.getElementById('view-ops').hidden;
      document.getElementById('view-ops').hidden = !showOps;
      document.getElementById('view-folded').hidden = showOps;
      graph.dataset.mode = showOps ? graph.dataset.opsMode : 'folded';
      fold.textContent = showOps ? 'fold backward into forward' : 'show every op';
    });
  }
  var filter = document.getElementById('filter');
  var rows = document.querySelectorAll('#nodes tbody tr');
  filter.addEventListener('input', function () {
    var needle = filter.value.toLowerCase();
    rows.forEach(function (row) {
      row.style.display = row.textContent.toLowerCase().indexOf(needle) < 0 ? 'none' : '';
    });
  });
  // Clicking an op in the graph shows its row.
  document.querySelectorAll('g.node[id^="op_"]').forEach(function (node) {
    node.addEventListener('click', function () {
      var row = document.getElementById('row_' + node.id.slice(3));
      if (row) { row.scrollIntoView({block: 'center'}); row.style.background = '#ffeeb0'; }
    });
  });
})();
)js";

} // namespace

void mlir::mpc::report::writeHTML(raw_ostream &os, const Report &report) {
  // Decide what to draw.
  int64_t sources = 0;
  {
    std::set<std::pair<int, std::string>> seen;
    for (const Node &node : report.nodes)
      for (const Edge &edge : node.inputs)
        if (edge.source != Edge::Source::Node)
          sources += seen.insert({(int)edge.source, edge.name}).second;
  }
  std::string note, svg, error;
  std::optional<DrawnGraph> graph;
  int64_t ops = report.nodes.size();
  if (ops + sources <= kMaxDrawnNodes) {
    graph = buildDetailedGraph(report);
  } else {
    std::vector<std::pair<std::string, std::string>> groups;
    for (int depth = 3; depth >= 1 && !graph; --depth) {
      std::optional<std::vector<int64_t>> groupOf =
          groupByScope(report, depth, groups);
      // Only worth it when it actually folds blocks together.
      if (groupOf && (int64_t)groups.size() * 2 <= ops) {
        graph = buildCollapsedGraph(report, *groupOf, groups);
        note = llvm::formatv(
            "{0} ops are too many to draw one by one (limit {1}): they are "
            "collapsed into {2} blocks by name scope (depth {3}); inputs "
            "and parameters are left out. Hover a block for its ops; the "
            "table below lists every node.",
            ops, kMaxDrawnNodes, groups.size(), depth);
      }
    }
    if (!graph)
      note = llvm::formatv("{0} ops are too many to draw (limit {1}) and "
                           "their names have no scopes that collapse them "
                           "under it: showing the table only.",
                           ops, kMaxDrawnNodes);
  }
  if (graph) {
    std::optional<std::string> laidOut = runDot(toDot(*graph), error);
    if (laidOut)
      svg = std::move(*laidOut);
    else
      note = "No graph: " + error + ". The table below lists every node.";
  }
  // A training step reads best with its backward folded into the forward
  // nodes: drawn too and shown first, a button shows every op. Folding
  // also draws a step too large to draw op by op.
  std::string foldedSvg, foldNote;
  if (llvm::any_of(report.nodes, [](const Node &node) {
        return node.part == mlir::mpc::TrainingPart::Backward;
      })) {
    std::vector<std::pair<std::string, std::string>> foldGroups;
    if (std::optional<std::vector<int64_t>> foldOf =
            foldBackward(report, foldGroups)) {
      std::string foldError;
      std::optional<std::string> laidOut = runDot(
          toDot(buildCollapsedGraph(report, *foldOf, foldGroups)), foldError);
      if (laidOut) {
        foldedSvg = std::move(*laidOut);
        std::map<mlir::mpc::TrainingPart, int64_t> byPart;
        for (const Node &node : report.nodes)
          ++byPart[node.part];
        std::string parts;
        for (auto [part, count] : byPart)
          parts += llvm::formatv("{0}{1} {2}", parts.empty() ? "" : ", ",
                                 count, mlir::mpc::stringifyTrainingPart(part));
        foldNote = llvm::formatv(
            "The training program folded: each block is a forward node "
            "with the ops of its gradient, the optimizer's updates and the "
            "loss scaling one block each ({0} ops in {1} blocks: {2}). "
            "Hover a block for its ops; 'show every op' draws them one by "
            "one.",
            ops, foldGroups.size(), parts);
      } else if (!svg.empty()) {
        note += (note.empty() ? "" : " ") +
                ("No folded view: " + foldError + ".");
      }
    }
  }

  std::string title = report.title.empty() ? "model" : report.title;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<title>mpc precision report: " << htmlEscape(title) << "</title>\n"
     << "<style>" << kStyle << "</style>\n</head>\n<body>\n";
  os << "<header><h1>Precision report: " << htmlEscape(title)
     << "</h1><p>" << ops << " ops, "
     << llvm::formatv("{0:f1}", report.summary.totalFlops > 0
                                    ? 100 * report.summary.lowFlops /
                                          report.summary.totalFlops
                                    : 0.0)
     << "% of FLOPs in low precision, " << report.summary.casts
     << " casts</p></header>\n<main>\n";
  // Graphs wider than the window open fitted to its width.
  bool fit = graph && graph->nodeCount > 40;
  std::string opsMode =
      svg.empty() ? "table" : note.empty() ? "graph" : "collapsed";
  bool folded = !foldedSvg.empty();
  os << "<div id=\"graph\" data-mode=\"" << (folded ? "folded" : opsMode)
     << "\""
     << (folded ? " data-ops-mode=\"" + opsMode + "\"" : std::string())
     << (fit && !svg.empty() ? " class=\"fit\"" : "") << ">\n";
  if (!svg.empty())
    os << "<button id=\"zoom\" type=\"button\">"
       << (fit ? "actual size" : "fit to width") << "</button>\n";
  if (folded)
    os << "<button id=\"fold\" type=\"button\">show every op</button>\n"
       << "<div id=\"view-folded\">\n<p class=\"note\" id=\"fold-note\">"
       << htmlEscape(foldNote) << "</p>\n"
       << foldedSvg << "</div>\n<div id=\"view-ops\" hidden>\n";
  if (!note.empty())
    os << "<p class=\"note\" id=\"note\">" << htmlEscape(note) << "</p>\n";
  os << svg << (folded ? "</div>\n" : "")
     << "</div>\n<aside>\n<h2>Summary</h2>\n";
  writeSummary(os, report);
  os << "<h2>Share by compute type</h2>\n";
  writeChart(os, report.summary);
  os << "<h2>Legend</h2>\n<div class=\"legend\">\n";
  for (StringRef precision : {"f32", "bf16", "f16", ""})
    os << "<div><span class=\"swatch\" style=\"background:"
       << precisionColour(precision) << "\"></span>"
       << (precision.empty() ? StringRef("other (integers, no compute)")
                             : precision)
       << "</div>\n";
  os << "<div>border: <b style=\"color:#b03030\">bold red</b> deny (fp32 "
        "by rule), solid allow (low by rule), dashed infer (decided from "
        "neighbours), dotted clear (data movement)</div>\n"
        "<div><span style=\"color:#d62728\">red edges</span>: casts, with "
        "the types and the bytes they read and write</div>\n"
        "<div>hover an op for its reason; click it for its row</div>\n"
        "</div>\n</aside>\n</main>\n<h2 style=\"margin:0 16px\">Nodes</h2>\n";
  writeNodeTable(os, report);
  // The JSON report itself, for tools (and the tests) reading the page.
  std::string json;
  {
    llvm::raw_string_ostream jsonStream(json);
    writeJSON(jsonStream, report);
  }
  size_t at = 0;
  while ((at = json.find("</", at)) != std::string::npos) {
    json.replace(at, 2, "<\\/");
    at += 3;
  }
  os << "<script type=\"application/json\" id=\"mpc-report\">\n" << json
     << "</script>\n<script>" << kScript << "</script>\n</body>\n</html>\n";
}

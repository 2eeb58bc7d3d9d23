//===- PrecisionReport.cpp - what precision each op runs in, and why ------===//
//
// Reads the decisions, precision attributes and casts of the IR after the
// precision passes and writes them per node plus a summary: what runs low,
// what fraction of the arithmetic that is, what the casts cost and what
// memory the parameters and activations take against an all-fp32 program.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionReport.h"
#include "mpc/Dialect/MPC/Transforms/PrecisionPolicy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mpc/Support/AtomicFile.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <map>

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCPRECISIONREPORT
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

std::string typeName(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

using report::Edge;
using report::Node;
using report::Report;
using report::Summary;

struct PrecisionReport : mpc::impl::MPCPrecisionReportBase<PrecisionReport> {
  using Base::Base;

  int64_t elements(Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor)
      return 0;
    int64_t n = 1;
    for (int64_t dim : tensor.getShape())
      n *= ShapedType::isDynamic(dim) ? dynamicDimSize.getValue() : dim;
    return n;
  }
  int64_t bytes(Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor)
      return 0;
    unsigned bits = tensor.getElementType().getIntOrFloatBitWidth();
    return elements(type) * std::max<unsigned>(bits / 8, 1);
  }

  /// Multiply-adds count twice; everything else one op per output element.
  double flops(Operation *op) {
    if (auto matmul = dyn_cast<MatMulOp>(op)) {
      auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
      return 2.0 * elements(matmul.getType()) * elements(lhs.clone(
                 ArrayRef<int64_t>{lhs.getShape().back()}));
    }
    if (auto gemm = dyn_cast<GemmOp>(op)) {
      auto a = cast<RankedTensorType>(gemm.getA().getType());
      int64_t k = a.getDimSize(gemm.getTransA() ? 0 : 1);
      return 2.0 * elements(gemm.getType()) *
             (ShapedType::isDynamic(k) ? dynamicDimSize.getValue() : k);
    }
    if (isa<ConvOp, ConvTransposeOp>(op)) {
      auto weight = cast<RankedTensorType>(op->getOperand(1).getType());
      // Per output element: one MAC per weight element of one output
      // channel (C/group x kernel).
      double perOutput = double(elements(weight)) /
                         std::max<int64_t>(weight.getDimSize(0), 1);
      if (isa<ConvTransposeOp>(op))
        perOutput = double(elements(weight)) /
                    std::max<int64_t>(weight.getDimSize(1), 1);
      return 2.0 * elements(op->getResult(0).getType()) * perOutput;
    }
    double total = 0;
    for (Type type : op->getOperandTypes())
      total = std::max<double>(total, elements(type));
    for (Type type : op->getResultTypes())
      total = std::max<double>(total, elements(type));
    return total;
  }

  /// The name a function argument has in the model (input or state).
  static std::string argumentName(BlockArgument arg) {
    auto function = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    if (function) {
      if (auto name = function.getArgAttrOfType<StringAttr>(
              arg.getArgNumber(), "mpc.name"))
        return name.str();
      if (auto slot = function.getArgAttrOfType<SlotAttr>(
              arg.getArgNumber(), MPCDialect::kSlotAttrName))
        return slot.getQualifiedName();
    }
    return "arg" + std::to_string(arg.getArgNumber());
  }

  /// Follows `value` back through casts to what produced it.
  Edge traceEdge(Value value, const llvm::DenseMap<Operation *, int64_t> &ids) {
    Edge edge;
    edge.castTo = typeName(getElementTypeOrSelf(value));
    while (auto castOp = value.getDefiningOp<CastOp>()) {
      edge.castBytes += bytes(castOp.getInput().getType()) +
                        bytes(castOp.getType());
      value = castOp.getInput();
      edge.castFrom = typeName(getElementTypeOrSelf(value));
    }
    if (auto arg = dyn_cast<BlockArgument>(value)) {
      edge.source = Edge::Source::Input;
      edge.name = argumentName(arg);
    } else if (auto parameter = value.getDefiningOp<GetParameterOp>()) {
      edge.source = Edge::Source::Parameter;
      edge.name = parameter.getName().str();
    } else if (auto it = ids.find(value.getDefiningOp()); it != ids.end()) {
      edge.node = it->second;
    } else {
      edge.node = -1; // constants and bookkeeping ops are not drawn
    }
    return edge;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Report report;
    Summary &summary = report.summary;
    if (auto graph = module->getAttrOfType<StringAttr>("mpc.onnx.graph"))
      report.title = graph.str();
    llvm::DenseMap<Operation *, int64_t> ids;

    for (auto parameter : module.getOps<ParameterOp>()) {
      summary.paramBytes += bytes(parameter.getType());
      summary.fp32ParamBytes += elements(parameter.getType()) * 4;
    }
    module.walk([&](Operation *op) {
      if (auto castOp = dyn_cast<CastOp>(op)) {
        ++summary.casts;
        summary.castBytes += bytes(castOp.getInput().getType()) +
                             bytes(castOp.getType());
        // Low-precision copies of parameters are part of their memory.
        if (castOp.getInput().getDefiningOp<GetParameterOp>())
          summary.paramBytes += bytes(castOp.getType());
        return;
      }
      auto decision = op->getAttrOfType<DecisionAttr>(kDecisionAttrName);
      if (!decision)
        return;
      Node row;
      row.id = report.nodes.size();
      if (auto function = op->getParentOfType<FunctionOpInterface>())
        row.function = function.getName().str();
      row.name = getNodeName(op);
      row.part = getTrainingPart(op->getLoc());
      row.op = getONNXOpType(op);
      row.cls = stringifyPrecisionClass(decision.getPrecisionClass()).str();
      row.reason = decision.getReason().str();
      PrecisionAttr precision;
      if (auto withPrecision = dyn_cast<PrecisionOpInterface>(op))
        precision = withPrecision.getEffectivePrecision();
      if (precision) {
        row.compute = typeName(precision.getCompute());
        row.accumulate = typeName(precision.getAccumulate());
        row.result = typeName(precision.getResult());
      } else {
        // Data movement computes nothing: it runs in the type it moves.
        Type element;
        for (Value operand : op->getOperands())
          if (isa<FloatType>(getElementTypeOrSelf(operand))) {
            element = getElementTypeOrSelf(operand);
            break;
          }
        if (!element && op->getNumResults())
          element = getElementTypeOrSelf(op->getResult(0));
        row.compute = row.accumulate = row.result =
            element ? typeName(element) : "";
      }
      for (Value operand : op->getOperands()) {
        row.castsIn += isa_and_present<CastOp>(operand.getDefiningOp());
        Edge edge = traceEdge(operand, ids);
        if (edge.source != Edge::Source::Node || edge.node >= 0)
          row.inputs.push_back(std::move(edge));
      }
      ++summary.opsByPrecision[row.compute];
      row.flops = flops(op);
      summary.totalFlops += row.flops;
      summary.flopsByPrecision[row.compute] += row.flops;
      if (row.compute == "bf16" || row.compute == "f16")
        summary.lowFlops += row.flops;
      for (Value result : op->getResults())
        if (isa<FloatType>(getElementTypeOrSelf(result))) {
          summary.activationBytes += bytes(result.getType());
          summary.fp32ActivationBytes += elements(result.getType()) * 4;
        }
      ids[op] = row.id;
      report.nodes.push_back(std::move(row));
    });

    std::string error;
    FailureOr<AtomicOutputFile> output = AtomicOutputFile::open(outputFile, error);
    if (failed(output)) {
      module.emitError() << "cannot write precision report: " << error;
      return signalPassFailure();
    }
    if (outputFile == "-")
      printTable(output->os(), report);
    else if (StringRef(outputFile).ends_with_insensitive(".html") ||
             StringRef(outputFile).ends_with_insensitive(".htm"))
      report::writeHTML(output->os(), report);
    else
      report::writeJSON(output->os(), report);
    if (failed(output->commit(error))) {
      module.emitError() << "cannot write precision report: " << error;
      return signalPassFailure();
    }
  }

  void printTable(raw_ostream &os, const Report &report) {
    const std::vector<Node> &rows = report.nodes;
    const Summary &summary = report.summary;
    size_t nameWidth = 4, opWidth = 2;
    for (const Node &row : rows) {
      nameWidth = std::max(nameWidth, report::displayName(row).size());
      opWidth = std::max(opWidth, row.op.size());
    }
    os << llvm::left_justify("node", nameWidth) << "  "
       << llvm::left_justify("op", opWidth)
       << "  class  compute accum result casts  reason\n";
    for (const Node &row : rows)
      os << llvm::left_justify(report::displayName(row), nameWidth) << "  "
         << llvm::left_justify(row.op, opWidth) << "  "
         << llvm::left_justify(row.cls, 5) << "  "
         << llvm::left_justify(row.compute, 7) << " "
         << llvm::left_justify(row.accumulate, 5) << " "
         << llvm::left_justify(row.result, 6) << " "
         << llvm::format("%5d", row.castsIn) << "  " << row.reason << "\n";
    os << "\nops by compute type:";
    for (const auto &[precision, count] : summary.opsByPrecision)
      os << " " << precision << "=" << count;
    os << "\nlow-precision share of FLOPs: "
       << llvm::format("%.1f%%", summary.totalFlops > 0
                                     ? 100 * summary.lowFlops /
                                           summary.totalFlops
                                     : 0.0)
       << "\ncasts: " << summary.casts << " moving " << summary.castBytes
       << " bytes\nparameters: " << summary.paramBytes << " bytes (fp32: "
       << summary.fp32ParamBytes << ")\nactivations: "
       << summary.activationBytes << " bytes (fp32: "
       << summary.fp32ActivationBytes << ")\n";
  }
};

} // namespace

std::string mlir::mpc::report::displayName(const Node &node) {
  return nameWithTrainingPart(node.name, node.part);
}

void mlir::mpc::report::writeJSON(raw_ostream &os, const Report &report) {
  const Summary &summary = report.summary;
  llvm::json::OStream json(os, /*IndentSize=*/2);
  json.object([&] {
    if (!report.title.empty())
      json.attribute("graph", report.title);
    json.attributeArray("nodes", [&] {
      for (const Node &row : report.nodes)
        json.object([&] {
          json.attribute("id", row.id);
          json.attribute("function", row.function);
          json.attribute("name", row.name);
          json.attribute("part", stringifyTrainingPart(row.part));
          json.attribute("op", row.op);
          json.attribute("class", row.cls);
          json.attribute("compute", row.compute);
          json.attribute("accumulate", row.accumulate);
          json.attribute("result", row.result);
          json.attribute("reason", row.reason);
          json.attribute("casts_in", row.castsIn);
          json.attribute("flops", row.flops);
          json.attributeArray("inputs", [&] {
            for (const Edge &edge : row.inputs)
              json.object([&] {
                switch (edge.source) {
                case Edge::Source::Node:
                  json.attribute("node", edge.node);
                  break;
                case Edge::Source::Input:
                  json.attribute("input", edge.name);
                  break;
                case Edge::Source::Parameter:
                  json.attribute("parameter", edge.name);
                  break;
                }
                json.attribute("type", edge.castTo);
                if (!edge.castFrom.empty()) {
                  json.attribute("cast_from", edge.castFrom);
                  json.attribute("cast_bytes", edge.castBytes);
                }
              });
          });
        });
    });
    json.attributeObject("summary", [&] {
      json.attributeObject("ops_by_precision", [&] {
        for (const auto &[precision, count] : summary.opsByPrecision)
          json.attribute(precision, count);
      });
      json.attributeObject("flops_by_precision", [&] {
        for (const auto &[precision, flops] : summary.flopsByPrecision)
          json.attribute(precision, flops);
      });
      json.attribute("low_precision_flop_fraction",
                     summary.totalFlops > 0
                         ? summary.lowFlops / summary.totalFlops
                         : 0.0);
      json.attribute("casts", summary.casts);
      json.attribute("cast_bytes", summary.castBytes);
      json.attribute("param_bytes", summary.paramBytes);
      json.attribute("activation_bytes", summary.activationBytes);
      json.attribute("fp32_param_bytes", summary.fp32ParamBytes);
      json.attribute("fp32_activation_bytes", summary.fp32ActivationBytes);
    });
  });
  os << "\n";
}

llvm::Expected<Report> mlir::mpc::report::readJSON(StringRef text) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return parsed.takeError();
  auto fail = [](const llvm::Twine &message) -> llvm::Error {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  Report report;
  const llvm::json::Object *object = parsed->getAsObject();
  if (!object)
    return fail("expected an object");
  if (std::optional<StringRef> graph = object->getString("graph"))
    report.title = graph->str();
  const llvm::json::Array *nodes = object->getArray("nodes");
  const llvm::json::Object *summary = object->getObject("summary");
  if (!nodes || !summary)
    return fail("expected 'nodes' (array) and 'summary' (object)");
  auto string = [](const llvm::json::Object &o, StringRef key) {
    return o.getString(key).value_or("").str();
  };
  for (auto [index, value] : llvm::enumerate(*nodes)) {
    std::string where = "$.nodes[" + std::to_string(index) + "]";
    const llvm::json::Object *n = value.getAsObject();
    if (!n || !n->getInteger("id") || !n->getString("name") ||
        !n->getString("op"))
      return fail(where + ": expected a node with 'id', 'name' and 'op'");
    Node node;
    node.id = *n->getInteger("id");
    if (node.id != (int64_t)index)
      return fail(where + ".id: node ids must number the nodes in order");
    node.function = string(*n, "function");
    node.name = string(*n, "name");
    if (std::optional<StringRef> part = n->getString("part")) {
      std::optional<TrainingPart> parsed = symbolizeTrainingPart(*part);
      if (!parsed)
        return fail(where + ".part: unknown training part '" + *part +
                    "' (forward, loss, backward, clipping, accumulation, "
                    "optimizer or loss_scaling)");
      node.part = *parsed;
    }
    node.op = string(*n, "op");
    node.cls = string(*n, "class");
    node.compute = string(*n, "compute");
    node.accumulate = string(*n, "accumulate");
    node.result = string(*n, "result");
    node.reason = string(*n, "reason");
    node.castsIn = n->getInteger("casts_in").value_or(0);
    node.flops = n->getNumber("flops").value_or(0);
    if (const llvm::json::Array *inputs = n->getArray("inputs"))
      for (const llvm::json::Value &input : *inputs) {
        const llvm::json::Object *e = input.getAsObject();
        if (!e)
          continue;
        Edge edge;
        if (std::optional<int64_t> from = e->getInteger("node")) {
          if (*from < 0 || *from >= node.id)
            return fail(where + ".inputs: node " + std::to_string(*from) +
                        " does not come before this one");
          edge.node = *from;
        } else if (e->getString("input")) {
          edge.source = Edge::Source::Input;
          edge.name = string(*e, "input");
        } else if (e->getString("parameter")) {
          edge.source = Edge::Source::Parameter;
          edge.name = string(*e, "parameter");
        } else {
          continue;
        }
        edge.castTo = string(*e, "type");
        edge.castFrom = string(*e, "cast_from");
        edge.castBytes = e->getInteger("cast_bytes").value_or(0);
        node.inputs.push_back(std::move(edge));
      }
    report.nodes.push_back(std::move(node));
  }
  Summary &s = report.summary;
  if (const llvm::json::Object *ops = summary->getObject("ops_by_precision"))
    for (const auto &[key, value] : *ops)
      s.opsByPrecision[key.str()] = value.getAsInteger().value_or(0);
  if (const llvm::json::Object *flops =
          summary->getObject("flops_by_precision"))
    for (const auto &[key, value] : *flops)
      s.flopsByPrecision[key.str()] = value.getAsNumber().value_or(0);
  for (const auto &[precision, flops] : s.flopsByPrecision) {
    s.totalFlops += flops;
    if (precision == "bf16" || precision == "f16")
      s.lowFlops += flops;
  }
  s.casts = summary->getInteger("casts").value_or(0);
  s.castBytes = summary->getInteger("cast_bytes").value_or(0);
  s.paramBytes = summary->getInteger("param_bytes").value_or(0);
  s.activationBytes = summary->getInteger("activation_bytes").value_or(0);
  s.fp32ParamBytes = summary->getInteger("fp32_param_bytes").value_or(0);
  s.fp32ActivationBytes =
      summary->getInteger("fp32_activation_bytes").value_or(0);
  return report;
}

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

struct NodeRow {
  std::string name, op, cls, compute, accumulate, result, reason;
  int64_t castsIn = 0;
};

struct Summary {
  std::map<std::string, int64_t> opsByPrecision;
  double lowFlops = 0, totalFlops = 0;
  int64_t casts = 0, castBytes = 0;
  int64_t paramBytes = 0, fp32ParamBytes = 0;
  int64_t activationBytes = 0, fp32ActivationBytes = 0;
};

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

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::vector<NodeRow> rows;
    Summary summary;

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
      NodeRow row;
      row.name = getNodeName(op);
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
      for (Value operand : op->getOperands())
        row.castsIn += isa_and_present<CastOp>(operand.getDefiningOp());
      ++summary.opsByPrecision[row.compute];
      double opFlops = flops(op);
      summary.totalFlops += opFlops;
      if (row.compute == "bf16" || row.compute == "f16")
        summary.lowFlops += opFlops;
      for (Value result : op->getResults())
        if (isa<FloatType>(getElementTypeOrSelf(result))) {
          summary.activationBytes += bytes(result.getType());
          summary.fp32ActivationBytes += elements(result.getType()) * 4;
        }
      rows.push_back(std::move(row));
    });

    std::string error;
    FailureOr<AtomicOutputFile> output = AtomicOutputFile::open(outputFile, error);
    if (failed(output)) {
      module.emitError() << "cannot write precision report: " << error;
      return signalPassFailure();
    }
    if (outputFile == "-")
      printTable(output->os(), rows, summary);
    else
      printJSON(output->os(), rows, summary);
    if (failed(output->commit(error))) {
      module.emitError() << "cannot write precision report: " << error;
      return signalPassFailure();
    }
  }

  void printJSON(raw_ostream &os, const std::vector<NodeRow> &rows,
                 const Summary &summary) {
    llvm::json::OStream json(os, /*IndentSize=*/2);
    json.object([&] {
      json.attributeArray("nodes", [&] {
        for (const NodeRow &row : rows)
          json.object([&] {
            json.attribute("name", row.name);
            json.attribute("op", row.op);
            json.attribute("class", row.cls);
            json.attribute("compute", row.compute);
            json.attribute("accumulate", row.accumulate);
            json.attribute("result", row.result);
            json.attribute("reason", row.reason);
            json.attribute("casts_in", row.castsIn);
          });
      });
      json.attributeObject("summary", [&] {
        json.attributeObject("ops_by_precision", [&] {
          for (const auto &[precision, count] : summary.opsByPrecision)
            json.attribute(precision, count);
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

  void printTable(raw_ostream &os, const std::vector<NodeRow> &rows,
                  const Summary &summary) {
    size_t nameWidth = 4, opWidth = 2;
    for (const NodeRow &row : rows) {
      nameWidth = std::max(nameWidth, row.name.size());
      opWidth = std::max(opWidth, row.op.size());
    }
    os << llvm::left_justify("node", nameWidth) << "  "
       << llvm::left_justify("op", opWidth)
       << "  class  compute accum result casts  reason\n";
    for (const NodeRow &row : rows)
      os << llvm::left_justify(row.name, nameWidth) << "  "
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

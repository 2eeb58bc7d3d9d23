//===- PrintSummary.cpp - model summary pass ------------------------------===//
//
// A human-readable overview of an imported model, the first thing a user
// wants to see: what goes in and out, what it is made of, how big it is.
//
//===----------------------------------------------------------------------===//

#include "mpc/Dialect/MPC/IR/MPCOps.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mpc/Support/AtomicFile.h"
#include <map>
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Format.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCPRINTSUMMARY
#include "mpc/Dialect/MPC/Transforms/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

int64_t byteSize(RankedTensorType type) {
  int64_t bits = type.getElementType().getIntOrFloatBitWidth();
  return type.getNumElements() * std::max<int64_t>(bits / 8, 1);
}

std::string humanBytes(int64_t bytes) {
  std::string s;
  llvm::raw_string_ostream os(s);
  if (bytes >= (1 << 20))
    os << llvm::format("%.1f MiB", bytes / double(1 << 20));
  else if (bytes >= (1 << 10))
    os << llvm::format("%.1f KiB", bytes / double(1 << 10));
  else
    os << bytes << " B";
  return s;
}

StringRef nameOf(DictionaryAttr attrs, StringRef fallback) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>("mpc.name"))
      return name.getValue();
  return fallback;
}

struct MPCPrintSummary
    : mpc::impl::MPCPrintSummaryBase<MPCPrintSummary> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    if (failed(writeFileAtomically(
            outputFile,
            [&](raw_ostream &os) {
              print(os);
              return success();
            },
            error))) {
      getOperation().emitError() << "cannot write summary: " << error;
      return signalPassFailure();
    }
  }

  void print(raw_ostream &os) {
    ModuleOp module = getOperation();
    if (auto producer = module->getAttrOfType<StringAttr>("mpc.onnx.producer"))
      os << "producer: " << producer.getValue() << "\n";
    if (auto opset = module->getAttrOfType<IntegerAttr>("mpc.onnx.opset"))
      os << "opset: " << opset.getInt() << "\n";

    for (auto func : module.getOps<func::FuncOp>()) {
      os << "function @" << func.getSymName() << "\n";
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        os << "  input  " << nameOf(func.getArgAttrDict(i), "arg" + std::to_string(i))
           << ": " << type << "\n";
      for (auto [i, type] : llvm::enumerate(func.getResultTypes()))
        os << "  output " << nameOf(func.getResultAttrDict(i), "result" + std::to_string(i))
           << ": " << type << "\n";
      std::map<std::string, int64_t> counts;
      int64_t total = 0;
      func.walk([&](Operation *op) {
        if (op->getDialect() && op->getDialect()->getNamespace() == "mpc" &&
            !isa<GetParameterOp>(op)) {
          ++counts[op->getName().getStringRef().str()];
          ++total;
        }
      });
      os << "  ops: " << total << "\n";
      for (const auto &[name, count] : counts)
        os << "    " << llvm::left_justify(name, 36) << llvm::format("%6d", count)
           << "\n";
    }

    int64_t trainable = 0, frozen = 0, trainableElements = 0,
            frozenElements = 0, bytes = 0;
    for (auto parameter : module.getOps<ParameterOp>()) {
      RankedTensorType type = parameter.getType();
      (parameter.getTrainable() ? trainable : frozen) += 1;
      (parameter.getTrainable() ? trainableElements : frozenElements) +=
          type.getNumElements();
      bytes += byteSize(type);
    }
    os << "parameters: " << trainable + frozen << " tensors, "
       << trainableElements + frozenElements << " elements ("
       << humanBytes(bytes) << "), " << trainableElements
       << " trainable in " << trainable << " tensors\n";
    printSharedParameters(os);
  }

  /// Initializers read by several nodes (a tied embedding and output
  /// projection, LayerNorms an eval-mode export merged): training keeps
  /// one parameter and sums the readers' gradients, which the user should
  /// know when the tie was not intended.
  void printSharedParameters(raw_ostream &os) {
    ModuleOp module = getOperation();
    // The forward function when there is one (a training program's copies
    // of it read the parameters again).
    SmallVector<func::FuncOp> functions;
    if (auto main = module.lookupSymbol<func::FuncOp>("main"))
      functions.push_back(main);
    else
      llvm::append_range(functions, module.getOps<func::FuncOp>());
    llvm::MapVector<StringRef, llvm::SetVector<Operation *>> readers;
    for (func::FuncOp func : functions)
      func.walk([&](Operation *op) {
        for (Value operand : op->getOperands())
          if (auto get = operand.getDefiningOp<GetParameterOp>())
            readers[get.getName()].insert(op);
      });
    for (auto parameter : module.getOps<ParameterOp>()) {
      auto it = readers.find(parameter.getSymName());
      if (!parameter.getTrainable() || it == readers.end() ||
          it->second.size() < 2)
        continue;
      os << "  shared: @" << parameter.getSymName() << " is read by "
         << it->second.size() << " nodes (";
      llvm::interleaveComma(it->second, os, [&](Operation *op) {
        auto name = dyn_cast<NameLoc>(op->getLoc());
        os << (name ? name.getName().getValue()
                    : op->getName().getStringRef());
      });
      os << "): one parameter, trained with the sum of their gradients\n";
    }
  }
};

} // namespace

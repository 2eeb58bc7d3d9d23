//===- GPUMergeKernelModules.cpp - one gpu.module per program -------------===//

#include "mpc/Codegen/GPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_MPCGPUMERGEKERNELMODULES
#include "mpc/Codegen/GPU/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;

namespace {

constexpr int64_t kSharedAlignment = 16;

/// `name` as a PTX identifier: bytes other than [A-Za-z0-9_] become '_',
/// and a leading digit gets a '_' in front. Symbols come from the model
/// (parameter names such as PyTorch's `0.weight`, TensorFlow's `a/b:0`),
/// and LLVM's NVPTX backend only rewrites some characters: `0.weight`
/// became `0_$_weight`, which ptxas rejects.
std::string ptxIdentifier(StringRef name) {
  std::string id;
  for (char c : name)
    id.push_back(llvm::isAlnum(c) || c == '_' ? c : '_');
  if (id.empty() || llvm::isDigit(id.front()))
    id.insert(id.begin(), '_');
  return id;
}

struct GPUMergeKernelModules
    : mpc::impl::MPCGPUMergeKernelModulesBase<GPUMergeKernelModules> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernelModules(module.getOps<gpu::GPUModuleOp>());
    if (kernelModules.empty())
      return;
    if (module.lookupSymbol(moduleName)) {
      module.emitError() << "mpc-gpu-merge-kernel-modules: symbol '"
                         << moduleName << "' already exists";
      return signalPassFailure();
    }
    OpBuilder b(kernelModules.front());
    auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), moduleName);
    if (ArrayAttr targets = kernelModules.front().getTargetsAttr())
      merged.setTargetsAttr(targets);
    Block &body = merged.getBodyRegion().front();
    // Old (module, kernel) -> new kernel name.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    SymbolTable mergedSymbols(merged);
    for (gpu::GPUModuleOp kernels : kernelModules) {
      Block &kernelsBody = kernels.getBodyRegion().front();
      bool single = llvm::count_if(kernelsBody.getOps<gpu::GPUFuncOp>(),
                                   [](gpu::GPUFuncOp f) {
                                     return f.isKernel();
                                   }) == 1;
      for (Operation &op :
           llvm::make_early_inc_range(kernelsBody.without_terminator())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (!symbol) {
          op.emitError("mpc-gpu-merge-kernel-modules: only symbols can move "
                       "between kernel modules");
          return signalPassFailure();
        }
        auto function = dyn_cast<gpu::GPUFuncOp>(op);
        if (!function || !function.isKernel()) {
          // What kernels reference (constants, helper functions) was
          // cloned from the host module by the outlining: one copy under
          // its own name serves every kernel.
          if (mergedSymbols.lookup(symbol.getNameAttr())) {
            op.erase();
          } else {
            op.moveBefore(&body, body.end());
            mergedSymbols.insert(&op);
          }
          continue;
        }
        // The module name is unique; a module with one kernel lends it.
        StringAttr newName = kernels.getNameAttr();
        if (!single)
          newName = b.getStringAttr(kernels.getName() + "_" +
                                    symbol.getName());
        renamed[{kernels.getNameAttr(), symbol.getNameAttr()}] = newName;
        symbol.setName(newName);
        // Shared-memory buffers get 16-byte alignment: cp.async writes 4
        // to 16 bytes at a time, and the NVVM lowering would otherwise
        // align a bf16 buffer to 2.
        for (unsigned i = 0; i < function.getNumWorkgroupAttributions(); ++i)
          function.setWorkgroupAttributionAttr(
              i, LLVM::LLVMDialect::getAlignAttrName(),
              b.getI64IntegerAttr(kSharedAlignment));
        op.moveBefore(&body, body.end());
      }
      kernels.erase();
    }
    // Every symbol of the merged module gets a legal PTX identifier,
    // unique after the mapping (`a/b:0` and `a_b_0` both map to a_b_0).
    llvm::StringSet<> taken;
    SmallVector<SymbolOpInterface> toRename;
    for (Operation &op : body.without_terminator()) {
      auto symbol = cast<SymbolOpInterface>(op);
      if (ptxIdentifier(symbol.getName()) == symbol.getName())
        taken.insert(symbol.getName());
      else
        toRename.push_back(symbol);
    }
    for (SymbolOpInterface symbol : toRename) {
      std::string base = ptxIdentifier(symbol.getName()), id = base;
      for (int suffix = 1; taken.contains(id); ++suffix)
        id = base + "_" + std::to_string(suffix);
      taken.insert(id);
      StringAttr oldName = symbol.getNameAttr(), newName = b.getStringAttr(id);
      if (failed(SymbolTable::replaceAllSymbolUses(symbol, newName, merged)))
        return signalPassFailure();
      symbol.setName(newName);
      for (auto &entry : renamed)
        if (entry.second == oldName)
          entry.second = newName;
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr kernel = launch.getKernel();
      auto it = renamed.find({kernel.getRootReference(),
                              kernel.getLeafReference()});
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          merged.getNameAttr(), {FlatSymbolRefAttr::get(it->second)}));
    });
  }
};

} // namespace

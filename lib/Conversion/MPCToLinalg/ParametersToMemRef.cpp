//===- ParametersToMemRef.cpp - parameters as memref globals --------------===//

#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_CONVERTMPCPARAMETERSTOMEMREF
#include "mpc/Conversion/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

struct ConvertMPCParametersToMemRef
    : mpc::impl::ConvertMPCParametersToMemRefBase<
          ConvertMPCParametersToMemRef> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    llvm::StringMap<memref::GlobalOp> globals;
    for (auto parameter :
         llvm::make_early_inc_range(module.getOps<ParameterOp>())) {
      builder.setInsertionPoint(parameter);
      RankedTensorType type = parameter.getType();
      auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
      auto global = memref::GlobalOp::create(
          builder, parameter.getLoc(), parameter.getSymName(),
          builder.getStringAttr("private"), memrefType, parameter.getValue(),
          /*constant=*/!parameter.getTrainable(),
          /*alignment=*/builder.getI64IntegerAttr(64));
      globals[parameter.getSymName()] = global;
      parameter.erase();
    }
    WalkResult result = module.walk([&](GetParameterOp get) {
      auto it = globals.find(get.getName());
      if (it == globals.end()) {
        get.emitError() << "parameter '" << get.getName()
                        << "' has no definition";
        return WalkResult::interrupt();
      }
      builder.setInsertionPoint(get);
      memref::GlobalOp global = it->second;
      Value buffer = memref::GetGlobalOp::create(
          builder, get.getLoc(), global.getType(), global.getSymName());
      // restrict: nothing else aliases the global within the function.
      auto tensor = bufferization::ToTensorOp::create(
          builder, get.getLoc(), get.getType(), buffer, /*restrict=*/true,
          /*writable=*/false);
      get.replaceAllUsesWith(tensor.getResult());
      get.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

//===- ParametersToMemRef.cpp - parameters as memref globals --------------===//

#include "mpc/Conversion/Passes.h"
#include "mpc/Dialect/MPC/IR/MPCOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Builders.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_CONVERTMPCPARAMETERSTOMEMREF
#include "mpc/Conversion/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

/// `value` with a rank-0 resource blob replaced by the dense attribute of
/// its one element. Upstream's lowering of a rank-0 memref.global (to an
/// LLVM scalar global, on the CPU and in GPU modules) reads that element
/// through ElementsAttr's iterators, which resource blobs do not provide:
/// a scalar float initializer crashed mpc-opt. A blob saves nothing at one
/// element.
ElementsAttr inlineScalarResource(ElementsAttr value) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource || resource.getType().getRank() != 0)
    return value;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  // A blob the parser has not seen data for stays as it is (the verifier
  // of the global reports it).
  if (!blob)
    return value;
  return DenseElementsAttr::getFromRawBuffer(resource.getType(),
                                             blob->getData());
}

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
          builder.getStringAttr("private"), memrefType,
          inlineScalarResource(parameter.getValue()),
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

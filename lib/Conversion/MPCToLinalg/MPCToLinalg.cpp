//===- MPCToLinalg.cpp - lower mpc compute ops to linalg ------------------===//
//
// Precision is already explicit in the IR when this runs (mpc.cast at every
// boundary, #mpc.precision on ops): element types say how values are
// stored; the precision's accumulate type is what contractions and
// reductions sum in. Scalar functions of bf16/fp16 ops are evaluated in
// fp32 and rounded once, so every op rounds exactly like its reference.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"
#include "mpc/Conversion/Passes.h"

namespace mlir::mpc {
#define GEN_PASS_DEF_CONVERTMPCTOLINALG
#include "mpc/Conversion/Passes.h.inc"
} // namespace mlir::mpc

using namespace mlir;
using namespace mlir::mpc;

namespace {

struct ConvertMPCToLinalg
    : mpc::impl::ConvertMPCToLinalgBase<ConvertMPCToLinalg> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    ConversionTarget target(*context);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect>();
    target.addIllegalDialect<MPCDialect>();
    target.addLegalOp<GetParameterOp, ParameterOp, UnrealizedConversionCastOp>();
    RewritePatternSet patterns(context);
    populateMPCToLinalgConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mpc::populateMPCToLinalgConversionPatterns(RewritePatternSet &patterns) {
  populateElementwiseToLinalgPatterns(patterns);
  populateDataMovementToLinalgPatterns(patterns);
  populateContractionToLinalgPatterns(patterns);
  populatePoolingToLinalgPatterns(patterns);
  populateNormalizationToLinalgPatterns(patterns);
  populateReductionToLinalgPatterns(patterns);
  populateLossToLinalgPatterns(patterns);
  populateOptimizerToLinalgPatterns(patterns);
}

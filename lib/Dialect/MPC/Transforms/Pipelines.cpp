//===- Pipelines.cpp - mpc pass pipelines ---------------------------------===//

#include "mpc/Dialect/MPC/Transforms/Pipelines.h"
#include "mpc/Dialect/MPC/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::mpc;

void mpc::buildPrecisionPipeline(OpPassManager &pm,
                                 const PrecisionPipelineOptions &options) {
  MPCAssignPrecisionOptions assign;
  assign.precision = options.precision;
  assign.policyFile = options.policy;
  assign.algorithm = options.algorithm;
  assign.strict = options.strict;
  pm.addPass(createMPCAssignPrecision(assign));
  pm.addPass(createMPCInsertCasts());
  pm.addPass(createMPCOptimizeCasts());
  if (!options.report.empty()) {
    MPCPrecisionReportOptions report;
    report.outputFile = options.report;
    pm.addPass(createMPCPrecisionReport(report));
  }
}

void mpc::registerMPCPipelines() {
  PassPipelineRegistration<PrecisionPipelineOptions>(
      "mpc-precision-pipeline",
      "decide per-op precision, insert and optimise casts, optionally report",
      buildPrecisionPipeline);
}

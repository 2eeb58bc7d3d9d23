//===- Passes.td - mpc conversion passes -------------------*- tablegen -*-===//

#ifndef MPC_CONVERSION_PASSES_TD
#define MPC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertMPCToLinalg : Pass<"convert-mpc-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "lower mpc compute ops to linalg, tensor, arith and math";
  let description = [{
    Elementwise ops become `linalg.generic` with ONNX broadcasting in their
    indexing maps; contractions become `linalg.matmul` /
    `linalg.batch_matmul` accumulating in the op's accumulate type;
    reductions accumulate in theirs; casts become `arith.extf` /
    `arith.truncf` (round to nearest even). Ops computing in bf16 or fp16
    store in the low type and evaluate each scalar function in fp32, then
    round once, as PyTorch's CPU kernels do.

    Parameters (`mpc.parameter`, `mpc.get_parameter`) are left for the
    runtime-ABI lowering. Any other mpc op without a lowering yet is an
    error naming it: nothing is silently left behind.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def ConvertMPCParametersToMemRef
    : Pass<"convert-mpc-parameters-to-memref", "::mlir::ModuleOp"> {
  let summary = "turn model parameters into memref globals";
  let description = [{
    Each `mpc.parameter` becomes a `memref.global` holding its initial value
    (a resource blob stays a blob), constant unless trainable; each
    `mpc.get_parameter` reads it through `memref.get_global` and
    `bufferization.to_tensor`. This is the inference ABI: parameters live
    in the program image.
  }];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect",
    "::mlir::bufferization::BufferizationDialect",
  ];
}

#endif // MPC_CONVERSION_PASSES_TD

//===- Passes.td - mpc dialect passes ----------------------*- tablegen -*-===//
//
// Passes over the mpc dialect.
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_TRANSFORMS_PASSES_TD
#define MPC_DIALECT_MPC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MPCPrintSummary : Pass<"mpc-print-summary", "::mlir::ModuleOp"> {
  let summary = "print a model summary: inputs, outputs, ops, parameters";
  let description = [{
    Prints, for each function, its inputs and outputs with their ONNX names
    and types, the number of ops of each kind, and the parameters (count,
    elements and bytes, trainable or frozen). The IR is left unchanged.
  }];
  let options = [
    Option<"outputFile", "to", "std::string", /*default=*/"\"-\"",
           "where to write the summary ('-' for stdout)">,
  ];
}

#endif // MPC_DIALECT_MPC_TRANSFORMS_PASSES_TD

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

def MPCAssignPrecision : Pass<"mpc-assign-precision", "::mlir::ModuleOp"> {
  let summary = "decide in which precision each op computes";
  let description = [{
    Gives every floating-point op one of four classes, as TensorFlow's
    automatic mixed precision does: **allow** ops (MatMul, Gemm, Conv, ...)
    compute in the low-precision type with fp32 accumulation; **deny** ops
    (Exp, Softmax, reductions, norms, losses, ...) always in fp32; **infer**
    ops (elementwise arithmetic, activations, pooling, BatchNorm) follow
    their neighbours; **clear** ops (data movement) never need a cast of
    their own. Infer ops downstream of a deny op (through infer and clear
    ops) are forced to fp32, as a deny op's outputs may not fit the low
    type.

    `algorithm=global` chooses the precision of the remaining infer and
    clear ops by a minimum cut of the dataflow graph, each value weighted
    by the bytes a cast of it moves (one cast per value and type, shared by
    its consumers), so total cast traffic is minimal. `algorithm=greedy`
    is TensorFlow's graph painting, the baseline global is measured
    against.

    The decision is recorded as `mpc.decision` on each op; the IR's types
    are unchanged until `--mpc-insert-casts`. A policy file moves op types
    between classes and pins single nodes by name or glob; see
    docs/Precision.md.
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect"];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"bf16\"",
           "the low-precision type: bf16 or fp16">,
    Option<"policyFile", "policy", "std::string", /*default=*/"\"\"",
           "JSON policy file (class overrides and node pins)">,
    Option<"algorithm", "algorithm", "std::string", /*default=*/"\"global\"",
           "global (min-cut over cast bytes) or greedy (TF-style painting)">,
    Option<"strict", "strict", "bool", /*default=*/"false",
           "make ops of unknown type an error instead of inferring them">,
    Option<"dynamicDimSize", "dynamic-dim-size", "int64_t", /*default=*/"32",
           "size assumed for dynamic dims when weighing cast bytes">,
  ];
}

def MPCInsertCasts : Pass<"mpc-insert-casts", "::mlir::ModuleOp"> {
  let summary = "materialise precision decisions with mpc.cast";
  let description = [{
    Inserts an `mpc.cast` at every precision boundary the decisions of
    `--mpc-assign-precision` create, sets each op's `precision` attribute
    and result types. A value is cast to a given type once, right after it
    is defined, however many ops read it (so a parameter is cast once, not
    once per use). Function inputs and outputs keep their declared types
    unless `keep-io-types=false`, which lets outputs stay in the low type.
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect"];
  let options = [
    Option<"keepIoTypes", "keep-io-types", "bool", /*default=*/"true",
           "cast results back to the function's declared result types">,
  ];
}

def MPCOptimizeCasts : Pass<"mpc-optimize-casts", "::mlir::ModuleOp"> {
  let summary = "remove, merge and move casts to lower cast traffic";
  let description = [{
    Merges identical casts of one value, removes casts whose result is
    unused, folds cast chains when exact (f16 -> f32 -> f16) and, only with
    `allow-excess-precision=true`, also when not (f32 -> bf16 -> f32 becomes
    the identity, keeping more precision than asked for), and moves casts
    across data-movement ops (Slice, Gather, Expand, Transpose, Reshape,
    ...) to the side where the tensor is smaller. Casts are never moved
    into a region (a loop body).
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect"];
  let options = [
    Option<"allowExcessPrecision", "allow-excess-precision", "bool",
           /*default=*/"false",
           "fold narrowing-then-widening chains (not exact)">,
  ];
}

def MPCPrecisionReport : Pass<"mpc-precision-report", "::mlir::ModuleOp"> {
  let summary = "write what precision each op computes in, and why";
  let description = [{
    Writes, for every decided op, its class, compute/accumulate/result
    types, the reason and the casts feeding it, and a summary (ops by
    precision, the fraction of FLOPs in low precision, casts and their
    bytes, parameter and activation bytes against an all-fp32 program).
    `to=-` prints a table; any other path gets JSON.
  }];
  let options = [
    Option<"outputFile", "to", "std::string", /*default=*/"\"-\"",
           "report file (JSON), or '-' for a table on stdout">,
    Option<"dynamicDimSize", "dynamic-dim-size", "int64_t", /*default=*/"32",
           "size assumed for dynamic dims when counting bytes and FLOPs">,
  ];
}

#endif // MPC_DIALECT_MPC_TRANSFORMS_PASSES_TD

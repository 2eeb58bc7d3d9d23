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

def MPCDecompose : Pass<"mpc-decompose", "::mlir::ModuleOp"> {
  let summary = "express ops through ops that have lowerings and gradients";
  let description = [{
    Runs first in every compile: 1-d Conv, ConvTranspose, MaxPool and
    AveragePool become their 2-d forms over a unit height; ConvTranspose
    becomes the convolution of its zero-inserted input with its flipped,
    channel-swapped weight (the convolution's own input gradient, so its
    forward pass and gradients are convolutions); Resize (nearest, linear,
    cubic; every coordinate transform but tf_crop_and_resize) becomes, per
    resized axis, gathers of the source elements weighted by constant
    coefficients, so its gradient is the gathers' scatter-add. A
    ConvTranspose or Resize left in a form without a lowering (3-d,
    dynamic resized dims) is an error naming the node.
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect"];
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
    `to=-` prints a table; a path ending in .html gets a self-contained
    page with the dataflow graph laid out by Graphviz's `dot` (coloured by
    compute precision, casts on the edges; collapsed by name scope or a
    table when the graph is too large or `dot` is missing, and the page
    says which); any other path gets JSON.
  }];
  let options = [
    Option<"outputFile", "to", "std::string", /*default=*/"\"-\"",
           "report file: FILE.html (page), FILE (JSON), or '-' (table)">,
    Option<"dynamicDimSize", "dynamic-dim-size", "int64_t", /*default=*/"32",
           "size assumed for dynamic dims when counting bytes and FLOPs">,
  ];
}

def MPCBuildTraining : Pass<"mpc-build-training", "::mlir::ModuleOp"> {
  let summary = "turn the forward function into train_step, eval_step and init";
  let description = [{
    From `@main` (the imported forward function) builds:

    * `@train_step(state..., inputs..., labels, lr, weight_decay)
      -> (state..., loss)`:
      forward, loss, reverse-mode gradients of every trainable parameter
      (each op's rule from `GradientOpInterface`) and the optimizer update.
      The state is the fp32 master weights, the optimizer's slots and the
      step count, each argument and result tagged with its slot
      (`mpc.slot = #mpc.slot<adam_m, "fc1.weight">`) so the runtime can
      checkpoint it by name; labels, learning rate, weight decay and the
      loss carry their `mpc.role`. `mpc.optimizer` on it
      records the optimizer and its default hyperparameters.
    * `@eval_step(params..., inputs..., labels) -> (loss, outputs...)`.
    * `@init() -> (state...)`: the initializers, zero slots, step 0.

    With `clip-grad-value`/`clip-grad-norm`, the gradients are clipped
    before the optimizer as `torch.nn.utils.clip_grad_value_` and
    `clip_grad_norm_` do (by value first when both): the thresholds are
    runtime inputs of the step (roles `grad_clip_value`, `max_grad_norm`)
    with the options as defaults, and the step also returns the global
    norm before clipping (role `grad_norm`). The thresholds are multiplied
    by the loss-gradient seed, which loss scaling replaces by the scale:
    clipping the scaled gradients at a scaled threshold is clipping the
    unscaled ones (GradScaler's unscale, then clip), and the finite check
    and skip stay as they are.

    With `accumulate` of 2 or more, gradients accumulate over micro-batches
    (`torch.cuda.amp` gradient accumulation): the state gains one fp32
    `grad_accum` slot per parameter, the step two runtime inputs
    (`accumulation_steps`, K, and `apply_update`, 0 or 1). Every call adds
    its gradients to the accumulators; a call with `apply_update` set
    updates the weights with the window's mean gradient (sum / K, so the
    learning rate means what it means for one batch K times larger),
    clipped as above, and clears the accumulators. Calls without it leave
    the weights, the optimizer slots and the step as they were (running
    statistics and Dropout still advance, as in PyTorch). The option is
    the binary's default K; 1 builds no accumulation.

    The loss is the model's own loss op (`loss=model`: the `output` is a
    SoftmaxCrossEntropyLoss/NegativeLogLikelihoodLoss result), or mean
    cross-entropy of integer labels on the `output` logits, or mean squared
    error against float labels of the output's shape. Gradients only flow
    through ops that depend on a trainable parameter (Shape, comparisons,
    indices are left alone); an op on such a path without a gradient rule
    is an error naming it. Shapes must be static (pin them with
    `--input-shape`).
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect",
                           "::mlir::func::FuncDialect"];
  let options = [
    Option<"loss", "loss", "std::string", /*default=*/"\"cross-entropy\"",
           "model, cross-entropy or mse">,
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "the output the loss is attached to (default: the only one)">,
    Option<"label", "label", "std::string", /*default=*/"\"labels\"",
           "name of the new label input">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adamw\"",
           "sgd, momentum, adam or adamw">,
    Option<"momentum", "momentum", "float", /*default=*/"0.9",
           "momentum factor (momentum)">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false",
           "Nesterov momentum (momentum)">,
    Option<"learningRate", "lr", "float", /*default=*/"1.0e-3",
           "default learning rate (the runtime's --lr overrides it)">,
    Option<"weightDecay", "weight-decay", "float", /*default=*/"-1.0",
           "default weight decay (0.01 for adamw, else 0; the runtime's "
           "--weight-decay overrides it)">,
    Option<"clipGradNorm", "clip-grad-norm", "float", /*default=*/"0.0",
           "clip the gradients' global L2 norm to this (0: no clipping; the "
           "runtime's --clip-grad-norm overrides it)">,
    Option<"clipGradValue", "clip-grad-value", "float", /*default=*/"0.0",
           "clip every gradient element to [-v, v] (0: no clipping; the "
           "runtime's --clip-grad-value overrides it)">,
    Option<"accumulate", "accumulate", "int64_t", /*default=*/"1",
           "micro-batches whose gradients sum before one update (1: none; "
           "the runtime's --accumulate overrides it)">,
    Option<"beta1", "beta1", "float", /*default=*/"0.9", "Adam beta1">,
    Option<"beta2", "beta2", "float", /*default=*/"0.999", "Adam beta2">,
    Option<"epsilon", "epsilon", "float", /*default=*/"1.0e-8", "Adam epsilon">,
    Option<"runningVariance", "running-variance",
           "::mlir::mpc::RunningVarianceEstimate",
           /*default=*/"::mlir::mpc::RunningVarianceEstimate::Auto",
           "the batch variance training-mode BatchNorm folds into its "
           "running variance",
           [{::llvm::cl::values(
             clEnumValN(::mlir::mpc::RunningVarianceEstimate::Auto, "auto",
                        "unbiased when PyTorch exported the model, else "
                        "population"),
             clEnumValN(::mlir::mpc::RunningVarianceEstimate::Population,
                        "population", "ONNX's: divided by n"),
             clEnumValN(::mlir::mpc::RunningVarianceEstimate::Unbiased,
                        "unbiased", "PyTorch's: divided by n - 1"))}]>,
  ];
}

def MPCLossScaling : Pass<"mpc-loss-scaling", "::mlir::ModuleOp"> {
  let summary = "dynamic or static loss scaling of @train_step, as ops";
  let description = [{
    Scales the loss (the gradient seed becomes the scale), unscales all
    gradients in fp32 with one fused finite check (`mpc.unscale_gradients`)
    before the optimizer, keeps the old state when a gradient is not finite
    (the step is skipped), and updates the scale (`mpc.update_loss_scale`:
    back off on overflow, grow after `growth-interval` clean steps). The
    scale, the clean-step count and the skipped-step count join the
    training state (`mpc.slot = #mpc.slot<loss_scale>`, ...). `mode=static` keeps
    the scale fixed (still skipping non-finite steps); `mode=none` leaves
    the program unchanged. With gradient accumulation (an `apply_update`
    input), the check, the skip and the scale update happen on the window's
    summed gradient at the update, as GradScaler's `step` and `update` once
    per window: the accumulators are not rolled back by a micro-batch's
    overflow (it reaches the sum and skips the whole window).
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect"];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"dynamic\"",
           "dynamic, static or none">,
    Option<"initScale", "init", "float", /*default=*/"65536.0",
           "initial loss scale">,
    Option<"growthFactor", "growth-factor", "float", /*default=*/"2.0",
           "scale growth factor">,
    Option<"backoffFactor", "backoff-factor", "float", /*default=*/"0.5",
           "scale backoff factor">,
    Option<"growthInterval", "growth-interval", "int64_t",
           /*default=*/"2000", "clean steps before the scale grows">,
    Option<"maxScale", "max", "float", /*default=*/"16777216.0",
           "largest scale">,
  ];
}

def MPCFlattenTrainingState : Pass<"mpc-flatten-training-state", "::mlir::ModuleOp"> {
  let summary = "training state as flat fp32 buffers, one per slot kind, "
                "updated in place by one op per kind";
  let description = [{
    Lays every training-state slot (`mpc.slot` arguments and results) out
    in one fp32 region: the slots of a kind (`param`, `adam_m`, `step`,
    ...) end to end with no gap, each kind starting on a 64-element
    (256-byte) boundary. The layout is recorded on the module as
    `mpc.state_layout = #mpc.state_layout<elements = N, kinds = [...],
    slots = [...]>` (offsets in 4-byte units into the region), for the
    runtime that owns the region.

    A function takes, instead of its slots, one flat `tensor<Nxf32>` per
    kind it reads or writes (`mpc.state_kind = #mpc.state_kind<KIND>`,
    first), and returns
    each kind it writes, first and in the same order; the writes are
    subset insertions into the argument, so that bufferization updates
    the kind's buffer in place (`mpc-state-in-place` then drops the
    results). Calls inside the module are rewritten to match.

    Per-slot elementwise work over all slots of a kind then becomes one op
    over the kind's buffer: the optimizer updates (`mpc.sgd_update`,
    `mpc.momentum_update`, `mpc.adam_update`), the loss scale's skip
    selects (`mpc.where`) and the gradient unscale with its finite check
    (`mpc.unscale_gradients`), with the gradients gathered into one flat
    buffer laid out like the parameters. Kinds whose slots have the same
    shapes (the parameters and Adam's moments) are laid out alike, so one
    op reads and writes all of them. A training step thus updates every
    parameter with one kernel, whatever their number (multi-tensor apply is
    capped by the kernel parameter space).

    Optimizer updates that cannot be merged (hyperparameters that differ
    between parameters, a parameter without an update) stay one per
    parameter, with a warning.
  }];
  let dependentDialects = ["::mlir::mpc::MPCDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def MPCStateInPlace : Pass<"mpc-state-in-place", "::mlir::ModuleOp"> {
  let summary = "after bufferization: training state is updated in place; "
                "drop it from the results";
  let description = [{
    `mpc-flatten-training-state` returns each kind of training state a
    function writes (`mpc.state_kind` results) so that bufferization can
    update the kind's buffer, the argument of the same kind, in place.
    After one-shot bufferization each such result must be that argument:
    the results are dropped, so the runtime passes the state buffers and
    reads the state from them, and calls in the module read the buffers
    they passed. A returned buffer that is not the argument (bufferization
    copied the state) is an error: the runtime would read stale state.
  }];
}

def MPCStripStateAttributes
    : Pass<"mpc-strip-state-attributes", "::mlir::ModuleOp"> {
  let summary = "drop the training-state contract's attributes";
  let description = [{
    Removes `mpc.slot`, `mpc.state_kind` and `mpc.role` from function
    arguments and results and `mpc.state_layout` from the module, once the
    descriptor and the buffer plan have read them: a module lowered to the
    LLVM dialect (or printed for a tool without the mpc dialect) carries
    none of mpc's attributes.
  }];
}

#endif // MPC_DIALECT_MPC_TRANSFORMS_PASSES_TD

// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd" --mpc-loss-scaling --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC
// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd" --mpc-loss-scaling --mpc-precision-pipeline="precision=fp16 report=-" -o /dev/null | FileCheck %s --check-prefix=TABLE
// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd" --mpc-loss-scaling --mpc-precision-pipeline="precision=fp16 report=%t.json" -o /dev/null
// RUN: FileCheck %s --input-file=%t.json --check-prefix=JSON
// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd" --mpc-loss-scaling --mpc-precision-pipeline="precision=fp16 report=%t.html" -o /dev/null
// RUN: FileCheck %s --input-file=%t.html --check-prefix=HTML
// RUN: mpc-opt --render-report=%t.json -o %t-rendered.html
// RUN: FileCheck %s --input-file=%t-rendered.html --check-prefix=HTML

// The report of a training step (#24): every op has its part of the step,
// carried by its location; backward ops are the gradient of their forward
// node, the updates name their parameter.
// LOC-DAG: #[[GEMM:loc[0-9]*]] = loc("/fc/Gemm")
// LOC-DAG: #[[WEIGHT:loc[0-9]*]] = loc("fc.weight")
// LOC-DAG: #[[LOSS:loc[0-9]*]] = loc("loss"(
// LOC-DAG: loc(fused<#mpc.training_part<backward>>[#[[GEMM]]])
// LOC-DAG: loc(fused<#mpc.training_part<optimizer>>[#[[WEIGHT]]])
// LOC-DAG: loc(fused<#mpc.training_part<loss>>[#[[LOSS]]])
// LOC-DAG: loc(fused<#mpc.training_part<backward>>[#[[LOSS]]])
// LOC-DAG: loc(fused<#mpc.training_part<loss_scaling>>[

// TABLE: node op
// TABLE: /fc/Gemm Gemm allow  f16
// TABLE: loss SoftmaxCrossEntropyLoss deny
// TABLE: loss (grad) SoftmaxCrossEntropyLossGrad
// TABLE: /relu/Relu (grad) Where
// TABLE: /fc/Gemm (grad) Gemm allow  f16 {{.*}}allow (default list)
// The reasons name the gradient too.
// TABLE: /fc/Gemm (grad) Reshape {{.*}}like '/fc/Gemm (grad)' (ReduceSum)
// TABLE: (loss scaling) UnscaleGradients
// TABLE: fc.weight (optimizer) SGDUpdate
// TABLE: fc.bias (optimizer) SGDUpdate
// TABLE: (loss scaling) Where {{.*}}like 'fc.weight (optimizer)' (SGDUpdate)
// TABLE: (loss scaling) UpdateLossScale

// JSON: "function": "train_step",
// JSON-NEXT: "name": "/fc/Gemm",
// JSON-NEXT: "part": "forward",
// JSON: "name": "/fc/Gemm",
// JSON-NEXT: "part": "backward",
// JSON-NEXT: "op": "Gemm",
// JSON: "name": "fc.weight",
// JSON-NEXT: "part": "optimizer",
// JSON-NEXT: "op": "SGDUpdate",

// The page opens folded (each forward node a block with its gradient's
// ops, the updates and the loss scaling a block each); a button shows
// every op, which the table lists with its part.
// HTML: <div id="graph" data-mode="folded" data-ops-mode="graph">
// HTML: <button id="fold" type="button">show every op</button>
// HTML-NEXT: <div id="view-folded">
// HTML-NEXT: <p class="note" id="fold-note">The training program folded: {{.*}} (20 ops in 10 blocks: 6 forward, 2 loss, 6 backward, 2 optimizer, 4 loss_scaling).
// HTML: <title>group_{{[0-9]+}}</title>
// HTML: <div id="view-ops" hidden>
// HTML: <g id="op_{{[0-9]+}}" class="node op allow">
// HTML: Gemm (grad)
// HTML: <th>part</th>
// HTML: <td>/fc/Gemm (grad)</td><td>Gemm</td><td>train_step</td><td>backward</td>
// HTML: <td>fc.weight (optimizer)</td><td>SGDUpdate</td><td>train_step</td><td>optimizer</td>
module {
  mpc.parameter @w1 trainable = dense<0.5> : tensor<3x4xf32> loc("fc.weight")
  mpc.parameter @b1 trainable = dense<0.0> : tensor<3xf32> loc("fc.bias")
  func.func @main(%x: tensor<2x4xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w1 : tensor<3x4xf32>
    %b = mpc.get_parameter @b1 : tensor<3xf32>
    %h = mpc.gemm %x, %w, %b {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32> loc("/fc/Gemm")
    %r = mpc.relu %h : tensor<2x3xf32> -> tensor<2x3xf32> loc("/relu/Relu")
    return %r : tensor<2x3xf32>
  }
}

// RUN: mpc-opt %s --mpc-precision-pipeline="report=%t.json" -o /dev/null
// RUN: FileCheck %s --input-file=%t.json
// RUN: mpc-opt %s --mpc-precision-pipeline="report=-" -o /dev/null | FileCheck %s --check-prefix=TABLE
// RUN: mpc-opt %s --mpc-precision-pipeline="report=%t.html" -o /dev/null
// RUN: FileCheck %s --input-file=%t.html --check-prefix=HTML
// A saved JSON report renders to the same page.
// RUN: mpc-opt --render-report=%t.json -o %t-rendered.html
// RUN: FileCheck %s --input-file=%t-rendered.html --check-prefix=HTML
// RUN: env PATH=%t.nodot mpc-opt %s --mpc-precision-pipeline="report=%t-nodot.html" -o /dev/null
// RUN: FileCheck %s --input-file=%t-nodot.html --check-prefix=NODOT
// RUN: not mpc-opt %s --mpc-assign-precision --mpc-insert-casts --mpc-precision-report=to=%t.dir/missing/r.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=ERR

// A bf16 matmul of an fp32 input and an fp32 parameter, then softmax:
// casts of x (32 elements), w (64) and the matmul result (32), each read
// once and written once: (32 + 64 + 32) * (4 + 2) bytes.

// CHECK: "nodes": [
// CHECK:   "id": 0,
// CHECK-NEXT:   "function": "main",
// CHECK-NEXT:   "name": "mm",
// CHECK-NEXT:   "part": "forward",
// CHECK-NEXT:   "op": "MatMul",
// CHECK-NEXT:   "class": "allow",
// CHECK-NEXT:   "compute": "bf16",
// CHECK-NEXT:   "accumulate": "f32",
// CHECK-NEXT:   "result": "bf16",
// CHECK-NEXT:   "reason": "allow (default list)",
// CHECK-NEXT:   "casts_in": 2
// CHECK-NEXT:   "flops": 512,
// Each operand's source, with the casts on the way folded into the edge.
// CHECK-NEXT:   "inputs": [
// CHECK-NEXT:     {
// CHECK-NEXT:       "input": "arg0",
// CHECK-NEXT:       "type": "bf16",
// CHECK-NEXT:       "cast_from": "f32",
// CHECK-NEXT:       "cast_bytes": 192
// CHECK:            "parameter": "w",
// CHECK-NEXT:       "type": "bf16",
// CHECK-NEXT:       "cast_from": "f32",
// CHECK-NEXT:       "cast_bytes": 384
// CHECK:   "id": 1,
// CHECK-NEXT:   "function": "main",
// CHECK-NEXT:   "name": "sm",
// CHECK-NEXT:   "part": "forward",
// CHECK-NEXT:   "op": "Softmax",
// CHECK-NEXT:   "class": "deny",
// CHECK-NEXT:   "compute": "f32",
// CHECK-NEXT:   "accumulate": "f32",
// CHECK-NEXT:   "result": "f32",
// CHECK-NEXT:   "reason": "deny (default list)",
// CHECK-NEXT:   "casts_in": 1
// CHECK-NEXT:   "flops": 32,
// CHECK-NEXT:   "inputs": [
// CHECK-NEXT:     {
// CHECK-NEXT:       "node": 0,
// CHECK-NEXT:       "type": "f32",
// CHECK-NEXT:       "cast_from": "bf16",
// CHECK-NEXT:       "cast_bytes": 192
// CHECK: "summary": {
// CHECK-NEXT: "ops_by_precision": {
// CHECK-NEXT:   "bf16": 1,
// CHECK-NEXT:   "f32": 1
// CHECK-NEXT: },
// CHECK-NEXT: "flops_by_precision": {
// CHECK-NEXT:   "bf16": 512,
// CHECK-NEXT:   "f32": 32
// CHECK-NEXT: },
// 512 matmul FLOPs (2 x 4 x 8 x 8) out of 544.
// CHECK-NEXT: "low_precision_flop_fraction": 0.94117647058823528,
// CHECK-NEXT: "casts": 3,
// CHECK-NEXT: "cast_bytes": 768,
// fp32 master (256 bytes) plus its bf16 copy (128).
// CHECK-NEXT: "param_bytes": 384,
// bf16 matmul result (64 bytes) and fp32 softmax result (128).
// CHECK-NEXT: "activation_bytes": 192,
// CHECK-NEXT: "fp32_param_bytes": 256,
// CHECK-NEXT: "fp32_activation_bytes": 256

// TABLE: node  op       class  compute accum result casts  reason
// TABLE-NEXT: mm    MatMul   allow  bf16    f32   bf16       2  allow (default list)
// TABLE-NEXT: sm    Softmax  deny   f32     f32   f32        1  deny (default list)
// TABLE: ops by compute type: bf16=1 f32=1
// TABLE-NEXT: low-precision share of FLOPs: 94.1%
// TABLE-NEXT: casts: 3 moving 768 bytes
// TABLE-NEXT: parameters: 384 bytes (fp32: 256)
// TABLE-NEXT: activations: 192 bytes (fp32: 256)

// ERR: error: cannot write precision report:

// The page: the graph from dot (ops by id, filled by compute type, deny
// in bold red, casts as red edges with their bytes), the summary, the node
// table and the JSON report for tools.
// HTML: <!DOCTYPE html>
// HTML: <div id="graph" data-mode="graph">
// HTML-NOT: class="note"
// HTML: <svg
// HTML-DAG: <g id="op_0" class="node op allow">
// HTML-DAG: <g id="op_1" class="node op deny">
// HTML-DAG: <g id="cast_0" class="edge cast">
// HTML-DAG: <title>in_1</title>
// HTML-DAG: <title>param_2</title>
// HTML-DAG: fill="#f5a053"
// HTML-DAG: stroke="#b03030"
// HTML-DAG: f32→bf16
// HTML-DAG: xlink:title="mm (MatMul)&#10;class: allow&#10;compute bf16, accumulate f32, result bf16&#10;512 FLOPs&#10;reason: allow (default list)"
// HTML: <table class="summary">
// HTML: low-precision FLOPs</th><td>94.1%</td>
// HTML: <svg id="chart"
// HTML: <tr id="row_0"><td>mm</td><td>MatMul</td>
// HTML: <tr id="row_1"><td>sm</td><td>Softmax</td>
// HTML: <script type="application/json" id="mpc-report">
// HTML-NEXT: {
// HTML-NEXT: "nodes": [

// Without Graphviz the page still has everything but the graph, and says so.
// NODOT: <div id="graph" data-mode="table">
// NODOT-NEXT: <p class="note" id="note">No graph: Graphviz&#39;s dot is not on PATH (Debian: apt install graphviz). The table below lists every node.</p>
// NODOT-NOT: <svg width
// NODOT: <tr id="row_1"><td>sm</td>

module {
  mpc.parameter @w trainable = dense<0.5> : tensor<8x8xf32>
  func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    %w = mpc.get_parameter @w : tensor<8x8xf32>
    %0 = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("mm")
    %1 = mpc.softmax %0 : (tensor<4x8xf32>) -> tensor<4x8xf32> loc("sm")
    return %1 : tensor<4x8xf32>
  }
}

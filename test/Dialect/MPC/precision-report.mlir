// RUN: mpc-opt %s --mpc-precision-pipeline="report=%t.json" -o /dev/null
// RUN: FileCheck %s --input-file=%t.json
// RUN: mpc-opt %s --mpc-precision-pipeline="report=-" -o /dev/null | FileCheck %s --check-prefix=TABLE
// RUN: not mpc-opt %s --mpc-assign-precision --mpc-insert-casts --mpc-precision-report=to=%t.dir/missing/r.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=ERR

// A bf16 matmul of an fp32 input and an fp32 parameter, then softmax:
// casts of x (32 elements), w (64) and the matmul result (32), each read
// once and written once: (32 + 64 + 32) * (4 + 2) bytes.

// CHECK: "nodes": [
// CHECK:   "name": "mm",
// CHECK-NEXT:   "op": "MatMul",
// CHECK-NEXT:   "class": "allow",
// CHECK-NEXT:   "compute": "bf16",
// CHECK-NEXT:   "accumulate": "f32",
// CHECK-NEXT:   "result": "bf16",
// CHECK-NEXT:   "reason": "allow (default list)",
// CHECK-NEXT:   "casts_in": 2
// CHECK:   "name": "sm",
// CHECK-NEXT:   "op": "Softmax",
// CHECK-NEXT:   "class": "deny",
// CHECK-NEXT:   "compute": "f32",
// CHECK-NEXT:   "accumulate": "f32",
// CHECK-NEXT:   "result": "f32",
// CHECK-NEXT:   "reason": "deny (default list)",
// CHECK-NEXT:   "casts_in": 1
// CHECK: "summary": {
// CHECK-NEXT: "ops_by_precision": {
// CHECK-NEXT:   "bf16": 1,
// CHECK-NEXT:   "f32": 1
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

module {
  mpc.parameter @w trainable = dense<0.5> : tensor<8x8xf32>
  func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    %w = mpc.get_parameter @w : tensor<8x8xf32>
    %0 = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("mm")
    %1 = mpc.softmax %0 : (tensor<4x8xf32>) -> tensor<4x8xf32> loc("sm")
    return %1 : tensor<4x8xf32>
  }
}

// RUN: mpc-opt %s --mpc-print-summary -o /dev/null | FileCheck %s
// RUN: mpc-opt %s --mpc-print-summary=to=%t.txt | FileCheck %s --check-prefix=IR
// RUN: FileCheck %s < %t.txt
// RUN: not mpc-opt %s --mpc-print-summary=to=%t.missing/dir/x.txt -o %t.ir 2>&1 | FileCheck %s --check-prefix=ERR

// CHECK: producer: mpc-tests
// CHECK: opset: 17
// CHECK: function @main
// CHECK-NEXT:   input  x: tensor<?x4xf32>
// CHECK-NEXT:   output y: tensor<?x3xf32>
// CHECK-NEXT:   ops: 4
// CHECK-NEXT:     mpc.add 1
// CHECK-NEXT:     mpc.gemm 1
// CHECK-NEXT:     mpc.reduce_sum 1
// CHECK-NEXT:     mpc.relu 1
// CHECK-NEXT: parameters: 3 tensors, 17 elements (76 B), 15 trainable in 2 tensors
// One initializer read by two nodes (tied weights) is one parameter.
// CHECK-NEXT:   shared: @w is read by 2 nodes (fc, w_sum): one parameter, trained with the sum of their gradients
// CHECK-NOT: shared:

// The IR passes through unchanged.
// IR: mpc.gemm

// ERR: error: cannot write summary:

module attributes {mpc.onnx.producer = "mpc-tests", mpc.onnx.opset = 17 : i64} {
  mpc.parameter @w trainable = dense<1.0> : tensor<3x4xf32>
  mpc.parameter @b trainable = dense<0.0> : tensor<3xf32>
  mpc.parameter @steps = dense<[1, 2]> : tensor<2xi64>
  func.func @main(%x: tensor<?x4xf32> {mpc.name = "x"}) -> (tensor<?x3xf32> {mpc.name = "y"}) {
    %w = mpc.get_parameter @w : tensor<3x4xf32>
    %b = mpc.get_parameter @b : tensor<3xf32>
    %0 = mpc.gemm %x, %w, %b {trans_b} : (tensor<?x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<?x3xf32> loc("fc")
    %1 = mpc.relu %0 : tensor<?x3xf32> -> tensor<?x3xf32>
    %s = mpc.reduce_sum %w {axes = array<i64: 1>, keepdims = false} : (tensor<3x4xf32>) -> tensor<3xf32> loc("w_sum")
    %2 = mpc.add %1, %s : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    return %2 : tensor<?x3xf32>
  }
}

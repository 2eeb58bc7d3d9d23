// RUN: mpc-opt %s --convert-mpc-parameters-to-memref | FileCheck %s

// CHECK: memref.global "private" @w : memref<2x2xf32> = dense<{{.*}}> {alignment = 64 : i64}
// CHECK: memref.global "private" constant @steps : memref<2xi64> = dense<[1, 2]> {alignment = 64 : i64}
// CHECK-NOT: mpc.parameter
mpc.parameter @w trainable = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
mpc.parameter @steps = dense<[1, 2]> : tensor<2xi64>

// CHECK-LABEL: func.func @main
func.func @main() -> (tensor<2x2xf32>, tensor<2xi64>) {
  // CHECK: %[[W:.+]] = memref.get_global @w : memref<2x2xf32>
  // CHECK: bufferization.to_tensor %[[W]] restrict : memref<2x2xf32> to tensor<2x2xf32>
  %0 = mpc.get_parameter @w : tensor<2x2xf32>
  // CHECK: memref.get_global @steps
  %1 = mpc.get_parameter @steps : tensor<2xi64>
  return %0, %1 : tensor<2x2xf32>, tensor<2xi64>
}

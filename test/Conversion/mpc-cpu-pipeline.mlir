// RUN: mpc-opt %s --mpc-cpu-pipeline | FileCheck %s

// The CPU pipeline ends in the LLVM dialect: loops, no tensors, bf16
// conversions expanded to integer operations.
// CHECK-LABEL: llvm.func @kernel
// CHECK-NOT: tensor<
// CHECK-NOT: linalg.
// CHECK-NOT: arith.truncf
// CHECK: llvm.fmul
// CHECK: llvm.return
func.func @kernel(%x: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %xb = mpc.cast %x : tensor<2x3xf32> to tensor<2x3xbf16>
  %wb = mpc.cast %w : tensor<3x2xf32> to tensor<3x2xbf16>
  %0 = mpc.matmul %xb, %wb {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<2x3xbf16>, tensor<3x2xbf16>) -> tensor<2x2xbf16>
  %1 = mpc.cast %0 : tensor<2x2xbf16> to tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

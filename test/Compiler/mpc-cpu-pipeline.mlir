// RUN: mpc-opt %s --mpc-cpu-pipeline | FileCheck %s
// RUN: mpc-opt %s --mpc-cpu-pipeline=vector-width=16 | FileCheck %s --check-prefix=AVX512

// The CPU pipeline ends in the LLVM dialect: loops, no tensors, bf16
// conversions expanded to integer operations; the small bf16 matmul's
// register tile multiplies the widened operands with f32 FMAs.
// CHECK-LABEL: llvm.func @kernel
// CHECK-NOT: tensor<
// CHECK-NOT: linalg.
// CHECK-NOT: arith.truncf
// CHECK: llvm.intr.fmuladd({{.+}}) : (vector<2xf32>, vector<2xf32>, vector<2xf32>) -> vector<2xf32>
// CHECK: llvm.return
func.func @kernel(%x: tensor<2x3xf32>, %w: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %xb = mpc.cast %x : tensor<2x3xf32> to tensor<2x3xbf16>
  %wb = mpc.cast %w : tensor<3x2xf32> to tensor<3x2xbf16>
  %0 = mpc.matmul %xb, %wb {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<2x3xbf16>, tensor<3x2xbf16>) -> tensor<2x2xbf16>
  %1 = mpc.cast %0 : tensor<2x2xbf16> to tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// A matmul big enough for several blocks: they run in an OpenMP parallel
// loop, and each register tile is 4 rows of 2 vectors (16 lanes for AVX2,
// 32 for AVX-512) whose multiplies may fuse into FMAs.
// CHECK-LABEL: llvm.func @matmul_parallel
// CHECK: omp.parallel
// CHECK: omp.wsloop
// CHECK: llvm.fmul {{.*}}fastmath<contract>{{.*}} : vector<16xf32>
// AVX512-LABEL: llvm.func @matmul_parallel
// AVX512: omp.parallel
// AVX512: llvm.fmul {{.*}}fastmath<contract>{{.*}} : vector<32xf32>
func.func @matmul_parallel(%a: tensor<256x128xf32>, %b: tensor<128x512xf32>) -> tensor<256x512xf32> {
  %0 = mpc.matmul %a, %b : (tensor<256x128xf32>, tensor<128x512xf32>) -> tensor<256x512xf32>
  return %0 : tensor<256x512xf32>
}

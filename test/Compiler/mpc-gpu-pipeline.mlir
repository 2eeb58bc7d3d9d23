// RUN: mpc-opt %s --split-input-file --mpc-gpu-pipeline | FileCheck %s

// An elementwise chain (mul, broadcast add, relu, sigmoid) is one kernel,
// tiled 16x16: a 4x4 grid of 16x16 blocks for 64x64, in the one kernel
// module, serialized to PTX for sm_80.
// CHECK-LABEL: func.func @chain
// CHECK-COUNT-1: gpu.launch_func @mpc_kernels::
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.binary @mpc_kernels [#gpu.object<#nvvm.target<chip = "sm_80">
// CHECK-SAME: .target sm_80
func.func @chain(%x: tensor<64x64xf32>, %y: tensor<64x64xf32>, %z: tensor<64xf32>) -> tensor<64x64xf32> {
  %0 = mpc.mul %x, %y : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %1 = mpc.add %0, %z : (tensor<64x64xf32>, tensor<64xf32>) -> tensor<64x64xf32>
  %2 = mpc.relu %1 : tensor<64x64xf32> -> tensor<64x64xf32>
  %3 = mpc.sigmoid %2 : tensor<64x64xf32> -> tensor<64x64xf32>
  return %3 : tensor<64x64xf32>
}

// -----

// A bf16 matmul: its accumulator fill, the tensor-core kernel (one warp,
// 32 threads, per 16x8 tile: 6 x 2 blocks for 32x48) and the rounding to
// bf16 are three launches; the PTX has the MMA.
// CHECK-LABEL: func.func @matmul
// CHECK: gpu.launch_func @mpc_kernels::
// CHECK: gpu.launch_func @mpc_kernels::{{.*}} blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}})
// CHECK: gpu.launch_func @mpc_kernels::
// CHECK-NOT: gpu.launch_func
// CHECK: gpu.binary @mpc_kernels
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @matmul(%a: tensor<32x64xbf16>, %b: tensor<64x48xbf16>) -> tensor<32x48xbf16> {
  %0 = mpc.matmul %a, %b {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<32x64xbf16>, tensor<64x48xbf16>) -> tensor<32x48xbf16>
  return %0 : tensor<32x48xbf16>
}

// -----

// Softmax over rows of 100: the max and the sum are block reductions (warp
// shuffles, shared memory, barriers); sizes that are not multiples of the
// 16x16 tiles still map every loop to the GPU (bounds checks in the tile).
// Five launches: the fill of the max's accumulator, the max, the
// exponentials together with the fill of the sum's accumulator (they are
// independent: one kernel), the sum, the division.
// CHECK-LABEL: func.func @softmax
// CHECK-COUNT-5: gpu.launch_func @mpc_kernels::
// CHECK-NOT: scf.parallel
// CHECK: gpu.binary @mpc_kernels
// CHECK-SAME: bar.sync
// CHECK-SAME: shfl.sync.bfly.b32
func.func @softmax(%x: tensor<8x100xf32>) -> tensor<8x100xf32> {
  %0 = mpc.softmax %x {axis = 1 : i64} : (tensor<8x100xf32>) -> tensor<8x100xf32>
  return %0 : tensor<8x100xf32>
}

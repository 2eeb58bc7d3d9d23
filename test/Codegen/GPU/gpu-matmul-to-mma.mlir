// RUN: mpc-opt %s --split-input-file --mpc-gpu-matmul-to-mma --cse | FileCheck %s

// A bf16 matmul of 20x24 by 24x12, staged: one block of 8 warps (256
// threads) owns a 32x32 output tile, so a 1 x 1 grid; two shared buffers
// of each operand slice (A: 32x16, B: 16x32). The accumulators start from
// C; each thread copies one 4-byte pair of each slice per K step with
// cp.async (only the elements inside the matrix, the rest zero-filled);
// the first step is copied before the loop, and each of the 2 steps (24
// rounded up to 32) prefetches the next into the other buffer, waits for
// its own group (at most 1 in flight), synchronises the block, runs the
// MMA from shared memory and synchronises again before the buffer is
// reused. Results go back to C under bounds checks.
// CHECK-LABEL: func.func @bf16
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C1]], {{.*}} = %[[C1]], {{.*}} = %[[C1]]) threads({{.*}}) in ({{.*}} = %[[C256]], {{.*}}) workgroup(%[[SA:[a-z0-9_]+]] : memref<2x32x16xbf16, #gpu.address_space<workgroup>>, %[[SB:[a-z0-9_]+]] : memref<2x16x32xbf16, #gpu.address_space<workgroup>>)
// CHECK-COUNT-4: memref.load %arg2
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}, %{{.*}}], %[[SA]][%{{.*}}, %{{.*}}, %{{.*}}], 2, %{{.*}} : memref<20x24xbf16> to memref<2x32x16xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg1[%{{.*}}, %{{.*}}], %[[SB]][%{{.*}}, %{{.*}}, %{{.*}}], 2, %{{.*}} : memref<24x12xbf16> to memref<2x16x32xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for {{.*}} = %{{.*}} to %c2 step %{{.*}} iter_args
// CHECK:   %[[NEXT:[0-9]+]] = scf.if %{{.*}} -> (!nvgpu.device.async.token) {
// CHECK-COUNT-2: nvgpu.device_async_copy
// CHECK:     nvgpu.device_async_create_group
// CHECK:   } else {
// CHECK:     nvgpu.device_async_create_group
// CHECK:   }
// CHECK:   nvgpu.device_async_wait %[[NEXT]] {numGroups = 1 : i32}
// CHECK:   gpu.barrier
// Fragments: 16-bit pairs from shared memory packed into i32 registers.
// CHECK:   memref.load %[[SA]]
// CHECK:   arith.bitcast %{{.*}} : bf16 to i16
// CHECK:   arith.shli
// CHECK:   memref.load %[[SB]]
// CHECK:   nvvm.mma.sync A[{{.*}}, {{.*}}, {{.*}}, {{.*}}] B[{{.*}}, {{.*}}] C[{{.*}}, {{.*}}, {{.*}}, {{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-4: llvm.extractvalue
// CHECK:   gpu.barrier
// CHECK:   scf.yield
// CHECK-COUNT-4: memref.store {{.*}}, %arg2
// CHECK: gpu.terminator
// CHECK-NEXT: } {mpc.operand_staging = "shared", mpc.tensor_core_flops = 11520 : i64}
// CHECK-NOT: linalg.matmul
func.func @bf16(%a: memref<20x24xbf16>, %b: memref<24x12xbf16>, %c: memref<20x12xf32>) {
  linalg.matmul ins(%a, %b : memref<20x24xbf16>, memref<24x12xbf16>) outs(%c : memref<20x12xf32>)
  return
}

// -----

// Attention over 5 positions: rows of 5 bf16 are not 4-byte aligned, so
// cp.async cannot copy pairs; one warp per 16x8 tile loads its fragments
// from global memory (ceil(5/8) x ceil(5/16) x 16 blocks of 32 threads).
// CHECK-LABEL: func.func @unaligned_rows
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : index
// CHECK-DAG: %[[C16:.+]] = arith.constant 16 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %[[C16]]) threads({{.*}}) in ({{.*}} = %[[C32]], {{.*}}) {
// CHECK-NOT: nvgpu.device_async_copy
// CHECK: scf.for
// CHECK: memref.load %arg0
// CHECK: nvvm.mma.sync
// CHECK: } {mpc.operand_staging = "global", mpc.tensor_core_flops = 6400 : i64}
func.func @unaligned_rows(%a: memref<16x5x8xbf16>, %b: memref<16x8x5xbf16>, %c: memref<16x5x5xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<16x5x8xbf16>, memref<16x8x5xbf16>) outs(%c : memref<16x5x5xf32>)
  return
}

// -----

// fp16 fragments are vector<2xf16> registers; a batch is the grid's z,
// and the copies index it.
// CHECK-LABEL: func.func @f16_batched
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %[[C3]])
// CHECK: nvgpu.device_async_copy %arg0[%{{.*}}, %{{.*}}, %{{.*}}], {{.*}} : memref<3x16x32xf16> to memref<2x32x16xf16, #gpu.address_space<workgroup>>
// CHECK: llvm.bitcast %{{.*}} : i32 to vector<2xf16>
// CHECK: nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: memref.store {{.*}}, %arg2[%{{.*}}, %{{.*}}, %{{.*}}] : memref<3x16x8xf32>
func.func @f16_batched(%a: memref<3x16x32xf16>, %b: memref<3x32x8xf16>, %c: memref<3x16x8xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x16x32xf16>, memref<3x32x8xf16>) outs(%c : memref<3x16x8xf32>)
  return
}

// -----

// fp32 matmuls are not tensor-core work here: left alone, silently.
// CHECK-LABEL: func.func @f32
// CHECK: linalg.matmul
// CHECK-NOT: gpu.launch
func.func @f32(%a: memref<16x16xf32>, %b: memref<16x8xf32>, %c: memref<16x8xf32>) {
  linalg.matmul ins(%a, %b : memref<16x16xf32>, memref<16x8xf32>) outs(%c : memref<16x8xf32>)
  return
}

// -----

// A convolution after mpc-conv-to-im2col: the filter (4x9, shared by the
// batch) times each image's columns (9x64). A is indexed without the batch,
// B and C with it; staged only where rows are 4-byte aligned, which the 9
// columns of the filter are not, so fragments come from global memory.
// CHECK-LABEL: func.func @im2col_conv
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %c2{{.*}})
// CHECK: memref.load %arg0[%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}] : memref<4x9xbf16>
// CHECK: memref.load %arg1[%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}] : memref<2x9x64xbf16>
// CHECK: nvvm.mma.sync
// CHECK: memref.store %{{.*}}, %arg2[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x4x64xf32>
// CHECK: } {mpc.operand_staging = "global", mpc.tensor_core_flops = 9216 : i64}
// CHECK-NOT: linalg.generic
func.func @im2col_conv(%filter: memref<4x9xbf16>, %cols: memref<2x9x64xbf16>, %out: memref<2x4x64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%filter, %cols : memref<4x9xbf16>, memref<2x9x64xbf16>) outs(%out : memref<2x4x64xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xf = arith.extf %x : bf16 to f32
    %yf = arith.extf %y : bf16 to f32
    %p = arith.mulf %xf, %yf : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The same with a filter whose rows are 16 long: staged through shared
// memory, the filter's copies indexed without the batch.
// CHECK-LABEL: func.func @im2col_conv_staged
// CHECK: nvgpu.device_async_copy %arg0[%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}], {{.*}} : memref<8x16xf16> to memref<2x32x16xf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %arg1[%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}], {{.*}} : memref<3x16x32xf16> to memref<2x16x32xf16, #gpu.address_space<workgroup>>
// CHECK: } {mpc.operand_staging = "shared", mpc.tensor_core_flops = 24576 : i64}
func.func @im2col_conv_staged(%filter: memref<8x16xf16>, %cols: memref<3x16x32xf16>, %out: memref<3x8x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%filter, %cols : memref<8x16xf16>, memref<3x16x32xf16>) outs(%out : memref<3x8x32xf32>) {
  ^bb0(%x: f16, %y: f16, %acc: f32):
    %xf = arith.extf %x : f16 to f32
    %yf = arith.extf %y : f16 to f32
    %p = arith.mulf %xf, %yf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}


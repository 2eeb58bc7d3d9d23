// RUN: mpc-opt %s --split-input-file --mpc-gpu-matmul-to-mma --cse | FileCheck %s

// A bf16 matmul of 20x24 by 24x12: one warp per 16x8 tile, so a grid of
// ceil(12/8) x ceil(20/16) = 2 x 2 blocks of 32 threads; K in steps of 16
// up to 32 (24 rounded up, the tail reads zeros); the accumulators start
// from C and go back to C under bounds checks.
// CHECK-LABEL: func.func @bf16
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C2]]{{.*}}, {{.*}} = %[[C2]]{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %[[C32]]
// CHECK-COUNT-4: memref.load %arg2
// CHECK: scf.for {{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// Fragments: 16-bit pairs packed into i32 registers.
// CHECK: arith.bitcast %{{.*}} : bf16 to i16
// CHECK: arith.shli
// CHECK: nvvm.mma.sync A[{{.*}}, {{.*}}, {{.*}}, {{.*}}] B[{{.*}}, {{.*}}] C[{{.*}}, {{.*}}, {{.*}}, {{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-4: llvm.extractvalue
// CHECK: scf.yield
// CHECK-COUNT-4: memref.store {{.*}}, %arg2
// CHECK: gpu.terminator
// CHECK-NOT: linalg.matmul
func.func @bf16(%a: memref<20x24xbf16>, %b: memref<24x12xbf16>, %c: memref<20x12xf32>) {
  linalg.matmul ins(%a, %b : memref<20x24xbf16>, memref<24x12xbf16>) outs(%c : memref<20x12xf32>)
  return
}

// -----

// fp16 fragments are vector<2xf16> registers; a batch is the grid's z.
// CHECK-LABEL: func.func @f16_batched
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}}, {{.*}}, {{.*}} = %[[C3]])
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

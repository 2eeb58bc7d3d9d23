// RUN: mpc-opt %s --split-input-file --mpc-gpu-block-reductions --cse | FileCheck %s

// A 100-long row sum: one block of 256 threads per row (8 blocks); each
// thread folds a strided slice from 0 with the op's payload, the block
// all-reduces, thread 0 adds the total into the output.
// CHECK-LABEL: func.func @row_sum
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in ({{.*}} = %[[C8]], {{.*}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in ({{.*}} = %[[C256]],
// CHECK-DAG: %[[C100:.+]] = arith.constant 100 : index
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PARTIAL:.+]] = scf.for %{{.+}} = %[[TX]] to %[[C100]] step %[[C256]] iter_args(%{{.+}} = %[[ZERO]]) -> (f32)
// CHECK: memref.load %arg0
// CHECK: arith.addf
// CHECK: %[[TOTAL:.+]] = gpu.all_reduce add %[[PARTIAL]] uniform
// CHECK: scf.if
// CHECK: %[[OLD:.+]] = memref.load %arg1
// CHECK: %[[NEW:.+]] = arith.addf %[[OLD]], %[[TOTAL]]
// CHECK: memref.store %[[NEW]], %arg1
// CHECK-NOT: linalg.reduce
func.func @row_sum(%x: memref<8x100xf32>, %out: memref<8xf32>) {
  linalg.reduce ins(%x : memref<8x100xf32>) outs(%out : memref<8xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// -----

// A column maximum over a leading dim, from -inf.
// CHECK-LABEL: func.func @column_max
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %[[NEGINF]])
// CHECK: gpu.all_reduce maximumf
func.func @column_max(%x: memref<300x4xf32>, %out: memref<4xf32>) {
  linalg.reduce ins(%x : memref<300x4xf32>) outs(%out : memref<4xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %m = arith.maximumf %in, %acc : f32
      linalg.yield %m : f32
    }
  return
}

// -----

// Short reductions stay one thread per output element (no warning).
// CHECK-LABEL: func.func @short
// CHECK: linalg.reduce
// CHECK-NOT: gpu.launch
func.func @short(%x: memref<8x16xf32>, %out: memref<8xf32>) {
  linalg.reduce ins(%x : memref<8x16xf32>) outs(%out : memref<8xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

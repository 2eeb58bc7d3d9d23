// RUN: mpc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(mpc-lower-strided-copies))" | FileCheck %s
// RUN: mpc-opt %s --split-input-file --pass-pipeline="builtin.module(func.func(mpc-lower-strided-copies{min-parallel-elements=1000000}))" | FileCheck %s --check-prefix=SERIAL

// A block of a concatenation along the channels: [64, 128, 4, 4] into a
// slice of [64, 256, 4, 4]. The channel and spatial dims are contiguous in
// both, so the copy is 64 rows of 2048 elements, the rows in parallel.
// CHECK-LABEL: func.func @concat_block
// CHECK-DAG: %[[SRC:.*]] = memref.collapse_shape %arg0 {{\[}}[0], [1, 2, 3]] : memref<64x128x4x4xf32> into memref<64x2048xf32>
// CHECK-DAG: %[[DST:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]] : memref<64x128x4x4xf32, strided<[4096, 16, 4, 1], offset: 2048>> into memref<64x2048xf32, strided<[4096, 1], offset: 2048>>
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c64) step (%c1) {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c2048 step %c1 {
// CHECK:     %[[V:.*]] = memref.load %[[SRC]][%[[I]], %[[J]]]
// CHECK:     memref.store %[[V]], %[[DST]][%[[I]], %[[J]]]
// CHECK-NOT: memref.copy
// SERIAL-LABEL: func.func @concat_block
// SERIAL-NOT: scf.parallel
// SERIAL: scf.for
// SERIAL: scf.for
func.func @concat_block(%src: memref<64x128x4x4xf32>, %dst: memref<64x256x4x4xf32>) {
  %slice = memref.subview %dst[0, 128, 0, 0] [64, 128, 4, 4] [1, 1, 1, 1] : memref<64x256x4x4xf32> to memref<64x128x4x4xf32, strided<[4096, 16, 4, 1], offset: 2048>>
  memref.copy %src, %slice : memref<64x128x4x4xf32> to memref<64x128x4x4xf32, strided<[4096, 16, 4, 1], offset: 2048>>
  return
}

// -----

// A stride-2 slice materialized: batch and channels collapse (contiguous
// in both), the strided rows and columns do not; small, so serial.
// CHECK-LABEL: func.func @strided_slice
// CHECK-DAG: %[[SRC:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1], [2], [3]] : memref<2x3x5x5xf32, strided<[243, 81, 18, 2]>> into memref<6x5x5xf32, strided<[81, 18, 2]>>
// CHECK-DAG: %[[DST:.*]] = memref.collapse_shape %arg1 {{\[}}[0, 1], [2], [3]] : memref<2x3x5x5xf32> into memref<6x5x5xf32>
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[A:.*]] = %c0 to %c6 step %c1 {
// CHECK:   scf.for %[[B:.*]] = %c0 to %c5 step %c1 {
// CHECK:     scf.for %[[C:.*]] = %c0 to %c5{{.*}} step %c1 {
// CHECK:       %[[V:.*]] = memref.load %[[SRC]][%[[A]], %[[B]], %[[C]]]
// CHECK:       memref.store %[[V]], %[[DST]][%[[A]], %[[B]], %[[C]]]
// CHECK-NOT: memref.copy
func.func @strided_slice(%src: memref<2x3x9x9xf32>, %dst: memref<2x3x5x5xf32>) {
  %slice = memref.subview %src[0, 0, 0, 0] [2, 3, 5, 5] [1, 1, 2, 2] : memref<2x3x9x9xf32> to memref<2x3x5x5xf32, strided<[243, 81, 18, 2]>>
  memref.copy %slice, %dst : memref<2x3x5x5xf32, strided<[243, 81, 18, 2]>> to memref<2x3x5x5xf32>
  return
}

// -----

// Contiguous copies stay one memcpy, dynamic ones the runtime's copy.
// CHECK-LABEL: func.func @left_alone
// CHECK: memref.copy %arg0, %arg1 : memref<4x8xf32> to memref<4x8xf32>
// CHECK: memref.copy %arg2, %arg3 : memref<?x8xf32, strided<[16, 1]>> to memref<?x8xf32>
// CHECK-NOT: scf.for
func.func @left_alone(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<?x8xf32, strided<[16, 1]>>, %d: memref<?x8xf32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %c, %d : memref<?x8xf32, strided<[16, 1]>> to memref<?x8xf32>
  return
}

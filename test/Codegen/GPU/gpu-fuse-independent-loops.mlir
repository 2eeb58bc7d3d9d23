// RUN: mpc-opt %s --split-input-file --mpc-gpu-fuse-independent-loops | FileCheck %s

// Two parameters' updates touch disjoint buffers: one loop over 8 + 2*6
// iterations, each running the nest its index falls in; the 2-D nest's
// indices are delinearized row-major. The allocation between them stays.
// CHECK-LABEL: func.func @two_updates
// CHECK:         %[[NEWB:.*]] = memref.alloc() : memref<2x6xf32>
// CHECK:         %[[C20:.*]] = arith.constant 20 : index
// CHECK:         scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%[[C20]]) step
// CHECK:           %[[IN0:.*]] = arith.andi
// CHECK:           scf.if %[[IN0]] {
// CHECK:             memref.load %arg0[
// CHECK:             memref.store %{{.*}}, %arg2[
// CHECK:           }
// CHECK:           scf.if %{{.*}} {
// CHECK:             %[[L:.*]] = arith.subi %[[I]], %{{.*}}
// CHECK:             %[[J:.*]] = arith.remui %[[L]], %{{.*}}
// CHECK:             %[[R:.*]] = arith.divui %[[L]], %{{.*}}
// CHECK:             memref.load %arg1[%[[R]], %[[J]]]
// CHECK:             memref.store %{{.*}}, %[[NEWB]][%[[R]], %[[J]]]
// CHECK:           }
// CHECK:         }
// CHECK-NOT:     scf.parallel
func.func @two_updates(%a: memref<8xf32>, %b: memref<2x6xf32>, %newA: memref<8xf32>) -> memref<2x6xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %lr = arith.constant 0.1 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %a[%i] : memref<8xf32>
    %u = arith.mulf %v, %lr : f32
    memref.store %u, %newA[%i] : memref<8xf32>
    scf.reduce
  }
  %newB = memref.alloc() : memref<2x6xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c2, %c6) step (%c1, %c1) {
    %v = memref.load %b[%i, %j] : memref<2x6xf32>
    %u = arith.mulf %v, %lr : f32
    memref.store %u, %newB[%i, %j] : memref<2x6xf32>
    scf.reduce
  }
  return %newB : memref<2x6xf32>
}

// -----

// The second nest reads what the first writes: two kernels, in order.
// CHECK-LABEL: func.func @dependent
// CHECK:         scf.parallel
// CHECK:           memref.store %{{.*}}, %[[T:.*]][
// CHECK:         scf.parallel
// CHECK:           memref.load %[[T]][
func.func @dependent(%a: memref<8xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %t = memref.alloc() : memref<8xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %a[%i] : memref<8xf32>
    memref.store %v, %t[%i] : memref<8xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %t[%i] : memref<8xf32>
    memref.store %v, %out[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// Writing through a view of a buffer another nest reads is a dependence
// too, and a host memory access between nests keeps them apart.
// CHECK-LABEL: func.func @through_views
// CHECK-COUNT-3: scf.parallel
func.func @through_views(%a: memref<4x4xf32>, %b: memref<16xf32>, %s: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %flat = memref.collapse_shape %a [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    memref.store %zero, %flat[%i] : memref<16xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<4x4xf32>
    memref.store %v, %s[] : memref<f32>
    scf.reduce
  }
  memref.store %zero, %s[] : memref<f32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    memref.store %zero, %b[%i] : memref<16xf32>
    scf.reduce
  }
  return
}

// -----

// Disjoint ranges of one buffer (slots of the flat training state) are
// independent; a nest reading a range another writes is not.
// CHECK-LABEL: func.func @disjoint_slots
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step
// CHECK:           memref.store %{{.*}}, %[[A:.*]][
// CHECK:           memref.store %{{.*}}, %[[B:.*]][
// CHECK:         }
// CHECK:         scf.parallel
// CHECK-NOT:     scf.parallel
func.func @disjoint_slots(%state: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 1.0 : f32
  %a = memref.subview %state[0] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1]>>
  %b = memref.subview %state[4] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 4>>
  %overlap = memref.subview %state[2] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1], offset: 2>>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %cst, %a[%i] : memref<4xf32, strided<[1]>>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %cst, %b[%i] : memref<8xf32, strided<[1], offset: 4>>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %overlap[%i] : memref<4xf32, strided<[1], offset: 2>>
    memref.store %v, %a[%i] : memref<4xf32, strided<[1]>>
    scf.reduce
  }
  return
}

// RUN: mpc-opt %s --split-input-file --mpc-gpu-serial-kernels | FileCheck %s

// The loss-scale update is 0-d arithmetic over memory: its loads, the
// arithmetic on them and the store become one one-iteration loop (one
// thread after mapping); the allocation stays on the host.
// CHECK-LABEL: func.func @scalar_update
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<f32>
// CHECK:         scf.parallel (%{{.*}}) = (%[[Z:.*]]) to (%[[O:.*]]) step (%[[O]])
// CHECK:           memref.load %arg0[]
// CHECK:           memref.load %arg1[]
// CHECK:           arith.divf
// CHECK:           memref.store %{{.*}}, %[[OUT]][]
// CHECK:         }
// CHECK-NEXT:    return %[[OUT]]
func.func @scalar_update(%a: memref<f32>, %b: memref<f32>) -> memref<f32> {
  %x = memref.load %a[] : memref<f32>
  %out = memref.alloc() : memref<f32>
  %y = memref.load %b[] : memref<f32>
  %q = arith.divf %x, %y : f32
  memref.store %q, %out[] : memref<f32>
  return %out : memref<f32>
}

// -----

// A short full reduction (a sequential scf.for) is serial device work too;
// a parallel loop nest after it is a separate kernel, so the runs on
// either side of it stay apart and in order.
// CHECK-LABEL: func.func @short_reduction
// CHECK:         scf.parallel
// CHECK:           memref.store %{{.*}}, %arg1[]
// CHECK:           scf.for
// CHECK:         }
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step
// CHECK:           memref.store %{{.*}}, %arg0[
// CHECK:         scf.parallel
// CHECK:           memref.load %arg1[]
// CHECK:           memref.store %{{.*}}, %arg2[]
func.func @short_reduction(%x: memref<8xf32>, %sum: memref<f32>, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  memref.store %zero, %sum[] : memref<f32>
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    %s = memref.load %sum[] : memref<f32>
    %n = arith.addf %s, %v : f32
    memref.store %n, %sum[] : memref<f32>
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %zero, %x[%i] : memref<8xf32>
    scf.reduce
  }
  %t = memref.load %sum[] : memref<f32>
  memref.store %t, %out[] : memref<f32>
  return
}

// -----

// Copies from bufferization (here out of a strided view) become parallel
// copy loop nests.
// CHECK-LABEL: func.func @strided_copy
// CHECK-NOT:     memref.copy
// CHECK:         scf.parallel (%[[I:.*]], %[[J:.*]]) =
// CHECK:           %[[V:.*]] = memref.load %[[SRC:.*]][%[[I]], %[[J]]] : memref<5x16xf16, strided<[48, 1], offset: 16>>
// CHECK:           memref.store %[[V]], %{{.*}}[%[[I]], %[[J]]] : memref<5x16xf16>
func.func @strided_copy(%x: memref<5x48xf16>) -> memref<5x16xf16> {
  %view = memref.subview %x[0, 16] [5, 16] [1, 1] : memref<5x48xf16> to memref<5x16xf16, strided<[48, 1], offset: 16>>
  %out = memref.alloc() : memref<5x16xf16>
  memref.copy %view, %out : memref<5x16xf16, strided<[48, 1], offset: 16>> to memref<5x16xf16>
  return %out : memref<5x16xf16>
}

// RUN: mpc-opt %s --split-input-file --mpc-gpu-device-constants | FileCheck %s

// A weight used inside a loop nest is read there, from the global itself
// (the outlining then carries it into the GPU module); the host's
// get_global goes away.
// CHECK-LABEL: func.func @weight_in_kernel
// CHECK-NEXT:    arith.constant
// CHECK-NEXT:    arith.constant
// CHECK-NEXT:    arith.constant
// CHECK-NEXT:    scf.parallel
// CHECK-NEXT:      %[[G:.*]] = memref.get_global @w : memref<4xf32>
// CHECK-NEXT:      memref.load %[[G]]
memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
func.func @weight_in_kernel(%out: memref<4xf32>) {
  %g = memref.get_global @w : memref<4xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    %v = memref.load %g[%i] : memref<4xf32>
    memref.store %v, %out[%i] : memref<4xf32>
    scf.reduce
  }
  return
}

// -----

// An initial value returned as it is gets a copy loop into device memory.
// CHECK-LABEL: func.func @init
// CHECK:         %[[BUF:.*]] = memref.alloc() : memref<f32>
// CHECK:         scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step
// CHECK-NEXT:      %[[G:.*]] = memref.get_global @zero : memref<f32>
// CHECK-NEXT:      %[[V:.*]] = memref.load %[[G]][]
// CHECK-NEXT:      memref.store %[[V]], %[[BUF]][]
// CHECK:         return %[[BUF]]
memref.global "private" constant @zero : memref<f32> = dense<0.0>
func.func @init() -> memref<f32> {
  %g = memref.get_global @zero : memref<f32>
  return %g : memref<f32>
}

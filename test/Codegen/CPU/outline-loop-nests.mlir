// RUN: mpc-opt %s -split-input-file --mpc-outline-loop-nests='min-nests=2' | FileCheck %s
// RUN: mpc-opt %s -split-input-file --mpc-outline-loop-nests='min-nests=3' | FileCheck %s --check-prefix=FEW

// Each loop nest moves into a private noinline function called in its
// place: buffers become arguments, the constants it uses (its bounds) are
// cloned, and a loop's results are returned.
// CHECK-LABEL: func.func private @step_nest0(
// CHECK-SAME: %[[X:.+]]: memref<8xf32>, %[[Y:.+]]: memref<8xf32>) attributes {no_inline}
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C8:.+]] = arith.constant 8 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: scf.for %{{.+}} = %[[C0]] to %[[C8]] step %[[C1]]
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.+}}, %[[Y]]
// CHECK: return
// CHECK-LABEL: func.func private @step_nest1(
// CHECK-SAME: %[[INIT:.+]]: f32, %[[Y:.+]]: memref<8xf32>) -> f32 attributes {no_inline}
// CHECK: %[[SUM:.+]] = scf.for {{.+}} iter_args(%{{.+}} = %[[INIT]]) -> (f32)
// CHECK: return %[[SUM]] : f32
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[X:.+]]: memref<8xf32>, %[[INIT:.+]]: f32)
// CHECK: %[[Y:.+]] = memref.alloc() : memref<8xf32>
// CHECK: call @step_nest0(%[[X]], %[[Y]]) {no_inline} : (memref<8xf32>, memref<8xf32>) -> ()
// CHECK: %[[R:.+]] = call @step_nest1(%[[INIT]], %[[Y]]) {no_inline} : (f32, memref<8xf32>) -> f32
// CHECK: memref.dealloc %[[Y]]
// CHECK: return %[[R]]

// Below min-nests, the function is left as it is.
// FEW-LABEL: func.func @step(
// FEW-NOT: call
// FEW: scf.for
// FEW: scf.for
func.func @step(%x: memref<8xf32>, %init: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %y = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    %d = arith.addf %v, %v : f32
    memref.store %d, %y[%i] : memref<8xf32>
  }
  %sum = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %init) -> (f32) {
    %v = memref.load %y[%i] : memref<8xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  memref.dealloc %y : memref<8xf32>
  return %sum : f32
}

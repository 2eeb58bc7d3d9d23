// RUN: mpc-opt %s --split-input-file --mpc-state-in-place -verify-diagnostics | FileCheck %s

// The updated state is the buffer the function was given: the result
// goes, and the call reads the buffer it passed.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[P:.+]]: memref<4xf32> {mpc.state_kind = #mpc.state_kind<param>}, %{{.+}}: memref<4xf32>) -> memref<f32>
// CHECK: return %{{.+}} : memref<f32>
// CHECK-LABEL: func.func @caller
// CHECK-SAME: (%[[W:.+]]: memref<4xf32>, %[[G:.+]]: memref<4xf32>)
// CHECK: %[[L:.+]] = call @step(%[[W]], %[[G]]) : (memref<4xf32>, memref<4xf32>) -> memref<f32>
// CHECK: return %[[W]], %[[L]]
func.func @step(%p: memref<4xf32> {mpc.state_kind = #mpc.state_kind<param>}, %g: memref<4xf32>) -> (memref<4xf32> {mpc.state_kind = #mpc.state_kind<param>}, memref<f32>) {
  %loss = memref.alloc() : memref<f32>
  memref.copy %g, %p : memref<4xf32> to memref<4xf32>
  return %p, %loss : memref<4xf32>, memref<f32>
}
func.func @caller(%w: memref<4xf32>, %g: memref<4xf32>) -> (memref<4xf32>, memref<f32>) {
  %r:2 = call @step(%w, %g) : (memref<4xf32>, memref<4xf32>) -> (memref<4xf32>, memref<f32>)
  return %r#0, %r#1 : memref<4xf32>, memref<f32>
}

// -----

// A copy of the state is not the state the runtime reads back.
func.func @copied(%p: memref<4xf32> {mpc.state_kind = #mpc.state_kind<param>}) -> (memref<4xf32> {mpc.state_kind = #mpc.state_kind<param>}) {
  %c = memref.alloc() : memref<4xf32>
  memref.copy %p, %c : memref<4xf32> to memref<4xf32>
  // expected-error @+1 {{mpc-state-in-place: @copied returns a copy of its 'param' state, not the buffer it was given (bufferization could not update it in place)}}
  return %c : memref<4xf32>
}

// -----

// expected-error @+1 {{mpc-state-in-place: @tensors returns the 'param' state but takes no buffer of it (run after bufferization)}}
func.func @tensors(%p: tensor<4xf32> {mpc.state_kind = #mpc.state_kind<param>}) -> (tensor<4xf32> {mpc.state_kind = #mpc.state_kind<param>}) {
  return %p : tensor<4xf32>
}

// RUN: mpc-opt %s --split-input-file --verify-diagnostics --convert-mpc-to-linalg

// Ops without a lowering yet are errors naming them, never left behind.
func.func @no_lowering(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{failed to legalize operation 'mpc.resize' that was explicitly marked illegal}}
  %0 = mpc.resize %x {scales = array<f32: 1.0, 1.0>, sizes = array<i64: 4, 8>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Slices of dynamic dims are not lowered yet.
func.func @dynamic_slice(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{failed to legalize operation 'mpc.slice' that was explicitly marked illegal}}
  %0 = mpc.slice %x {starts = array<i64: -1>, ends = array<i64: -9223372036854775807>, axes = array<i64: 0>, steps = array<i64: -1>} : (tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Integer activations are not lowered yet.
func.func @integer_relu(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{failed to legalize operation 'mpc.relu' that was explicitly marked illegal}}
  %0 = mpc.relu %x : tensor<4xi32> -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Training-mode dropout draws its mask from the key a training program
// passes: an inference program has none.
func.func @training_dropout(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+2 {{'mpc.dropout' op in training mode draws a random mask and needs a key: it runs in a training program (mpc-build-training), not in inference}}
  // expected-error @+1 {{failed to legalize operation 'mpc.dropout' that was explicitly marked illegal}}
  %0:2 = mpc.dropout %x {training} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>)
  return %0#0 : tensor<4xf32>
}

// -----

// 1-d matmul operands are not lowered yet.
func.func @matmul_vector(%x: tensor<8xf32>, %w: tensor<8x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{failed to legalize operation 'mpc.matmul' that was explicitly marked illegal}}
  %0 = mpc.matmul %x, %w : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// ONNX's reflect mode mirrors without repeating the edge: pads must be
// smaller than the dim.
func.func @reflect_too_far(%x: tensor<2x4xf32>) -> tensor<6x4xf32> {
  // expected-error @+2 {{'mpc.pad' op reflect pads of dim 0 must be smaller than its size 2}}
  // expected-error @+1 {{failed to legalize operation 'mpc.pad'}}
  %0 = mpc.pad %x {pads = array<i64: 2, 0, 2, 0>, mode = #mpc<pad_mode reflect>} : (tensor<2x4xf32>) -> tensor<6x4xf32>
  return %0 : tensor<6x4xf32>
}

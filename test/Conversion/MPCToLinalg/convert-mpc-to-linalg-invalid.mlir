// RUN: mpc-opt %s --split-input-file --verify-diagnostics --convert-mpc-to-linalg

// Ops without a lowering yet are errors naming them, never left behind.
func.func @no_lowering(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{failed to legalize operation 'mpc.softmax' that was explicitly marked illegal}}
  %0 = mpc.softmax %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// 1-d matmul operands are not lowered yet.
func.func @matmul_vector(%x: tensor<8xf32>, %w: tensor<8x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{failed to legalize operation 'mpc.matmul' that was explicitly marked illegal}}
  %0 = mpc.matmul %x, %w : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-decompose

func.func @conv_transpose_dynamic(%x: tensor<1x1x?x4x5xf32>, %w: tensor<1x2x3x3x3xf32>) -> tensor<1x2x?x6x7xf32> {
  // expected-error @+1 {{'mpc.conv_transpose' op is supported with 1 to 3 spatial dims and static shapes; this one has input 'tensor<1x1x?x4x5xf32>'}}
  %y = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3, 3>, strides = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>, output_padding = array<i64: 0, 0, 0>} : (tensor<1x1x?x4x5xf32>, tensor<1x2x3x3x3xf32>) -> tensor<1x2x?x6x7xf32>
  return %y : tensor<1x2x?x6x7xf32>
}

// -----

func.func @resize_dynamic(%x: tensor<1x1x?x4xf32>) -> tensor<1x1x?x8xf32> {
  // expected-error @+1 {{'mpc.resize' op is supported with static resized dims and a coordinate transform other than tf_crop_and_resize; this one maps 'tensor<1x1x?x4xf32>' to 'tensor<1x1x?x8xf32>'}}
  %y = mpc.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, sizes = array<i64: 1, 1, -1, 8>} : (tensor<1x1x?x4xf32>) -> tensor<1x1x?x8xf32>
  return %y : tensor<1x1x?x8xf32>
}

// -----

func.func @resize_crop(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32> {
  // expected-error @+1 {{'mpc.resize' op is supported with static resized dims and a coordinate transform other than tf_crop_and_resize}}
  %y = mpc.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, sizes = array<i64: 1, 1, 8, 8>, coordinate_transform = #mpc<coordinate_transform tf_crop_and_resize>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x8x8xf32>
  return %y : tensor<1x1x8x8xf32>
}

// -----

func.func @tile_dynamic(%x: tensor<?x3xf32>) -> tensor<?x6xf32> {
  // expected-error @+1 {{'mpc.tile' op is supported with a static input shape; this one has input 'tensor<?x3xf32>'}}
  %y = mpc.tile %x {repeats = array<i64: 1, 2>} : (tensor<?x3xf32>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

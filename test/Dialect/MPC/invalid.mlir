// RUN: mpc-opt %s --split-input-file --verify-diagnostics

// Every verifier and shape-inference message of the dialect.

// expected-error @+1 {{accumulate type 'bf16' is narrower than compute type 'f32'}}
func.func private @f() attributes {p = #mpc.precision<f32, bf16, f32>}

// -----

func.func @precision_int(%x: tensor<2x2xi32>) {
  // expected-error @+1 {{has a precision but no floating-point input}}
  %0 = mpc.matmul %x, %x {precision = #mpc.precision<f32, f32, f32>} : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @precision_compute(%x: tensor<2x2xf32>) {
  // expected-error @+1 {{input element type 'f32' does not match the compute type 'bf16'}}
  %0 = mpc.matmul %x, %x {precision = #mpc.precision<bf16, f32, f32>} : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @precision_result(%x: tensor<2x2xbf16>) {
  // expected-error @+1 {{result element type 'bf16' does not match the precision's result type 'f32'}}
  %0 = mpc.sigmoid %x {precision = #mpc.precision<bf16, f32, f32>} : tensor<2x2xbf16> -> tensor<2x2xbf16>
  return
}

// -----

func.func @elementwise_types(%x: tensor<2xf32>, %y: tensor<2xf16>) {
  // expected-error @+2 {{operand element types differ: 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.add %x, %y : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return
}

// -----

func.func @broadcast(%x: tensor<2x3xf32>, %y: tensor<4xf32>) {
  // expected-error @+2 {{operand shapes [2, 3] and [4] are not broadcastable}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.mul %x, %y : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @result_shape(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.relu %x : tensor<2x3xf32> -> tensor<3x2xf32>
  return
}

// -----

func.func @pow_broadcast(%x: tensor<2xf32>, %y: tensor<3xf32>) {
  // expected-error @+2 {{operand shapes [2] and [3] are not broadcastable}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.pow %x, %y : (tensor<2xf32>, tensor<3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @clip_bounds(%x: tensor<2xf32>) {
  // expected-error @+1 {{min 2.000000e+00 is greater than max 1.000000e+00}}
  %0 = mpc.clip %x {min = 2.0 : f64, max = 1.0 : f64} : tensor<2xf32> -> tensor<2xf32>
  return
}

// -----

func.func @where_types(%c: tensor<2xi1>, %x: tensor<2xf32>, %y: tensor<2xi64>) {
  // expected-error @+2 {{branch element types differ: 'f32' and 'i64'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.where %c, %x, %y : (tensor<2xi1>, tensor<2xf32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @where_shapes(%c: tensor<3xi1>, %x: tensor<2xf32>) {
  // expected-error @+2 {{operand shapes are not broadcastable: [3] and [2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.where %c, %x, %x : (tensor<3xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_types(%x: tensor<2x2xf32>, %y: tensor<2x2xbf16>) {
  // expected-error @+2 {{operand element types differ: 'f32' and 'bf16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.matmul %x, %y : (tensor<2x2xf32>, tensor<2x2xbf16>) -> tensor<2x2xf32>
  return
}

// -----

func.func @matmul_rank(%x: tensor<f32>) {
  // expected-error @+2 {{operands must have rank >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.matmul %x, %x : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @matmul_k(%x: tensor<2x3xf32>, %y: tensor<4x2xf32>) {
  // expected-error @+2 {{contracting dims differ: [2, 3] x [4, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.matmul %x, %y : (tensor<2x3xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @matmul_batch(%x: tensor<2x2x3xf32>, %y: tensor<3x3x2xf32>) {
  // expected-error @+2 {{batch dims are not broadcastable: [2, 2, 3] x [3, 3, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.matmul %x, %y : (tensor<2x2x3xf32>, tensor<3x3x2xf32>) -> tensor<2x2x2xf32>
  return
}

// -----

func.func @gemm_rank(%x: tensor<2x3x4xf32>, %y: tensor<4x2xf32>) {
  // expected-error @+2 {{A and B must be 2-d, got [2, 3, 4] and [4, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gemm %x, %y : (tensor<2x3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @gemm_types(%x: tensor<2x3xf32>, %y: tensor<3x2xf16>) {
  // expected-error @+2 {{operand element types differ: 'f32' and 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gemm %x, %y : (tensor<2x3xf32>, tensor<3x2xf16>) -> tensor<2x2xf32>
  return
}

// -----

func.func @gemm_k(%x: tensor<2x3xf32>, %y: tensor<2x2xf32>) {
  // expected-error @+2 {{contracting dims differ: 3 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gemm %x, %y : (tensor<2x3xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @gemm_c(%x: tensor<2x3xf32>, %y: tensor<3x2xf32>, %c: tensor<4x2xf32>) {
  // expected-error @+2 {{C of shape [4, 2] does not broadcast to [2, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gemm %x, %y, %c : (tensor<2x3xf32>, tensor<3x2xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<6x3x3xf32>) {
  // expected-error @+2 {{weight rank 3 differs from input rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<6x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_group(%x: tensor<1x3x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error @+2 {{group must be positive}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 0} : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error @+2 {{input has 4 channels but weight expects 3 x group 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_kernel(%x: tensor<1x3x8x8xf32>, %w: tensor<6x3x3x3xf32>) {
  // expected-error @+2 {{kernel_shape [5, 5] differs from weight shape [6, 3, 3, 3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv %x, %w {kernel_shape = array<i64: 5, 5>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>) -> tensor<1x6x4x4xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<6x3x3x3xf32>, %b: tensor<5xf32>) {
  // expected-error @+2 {{bias of shape [5] does not match 6 output channels}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv %x, %w, %b {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>, tensor<5xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @window_rank(%x: tensor<1x3x2x2x2x2xf32>, %w: tensor<6x3x1x1x1x1xf32>) {
  // expected-error @+2 {{expects 1 to 3 spatial dims, got input rank 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv %x, %w {kernel_shape = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1, 1>} : (tensor<1x3x2x2x2x2xf32>, tensor<6x3x1x1x1x1xf32>) -> tensor<1x6x2x2x2x2xf32>
  return
}

// -----

func.func @window_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{kernel_shape has 1 entries for 2 spatial dims}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @window_strides(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{strides has 1 entries for 2 spatial dims}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @window_dilations(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{dilations has 3 entries for 2 spatial dims}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @window_pads(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{pads has 2 entries for 2 spatial dims (expected 4)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @window_positive(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{kernel_shape, strides and dilations must be positive}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @window_negative_pads(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{pads must be non-negative}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: -1, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @window_fit(%x: tensor<1x3x2x2xf32>) {
  // expected-error @+2 {{window of size 5 does not fit spatial dim 0 of input [1, 3, 2, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.average_pool %x {kernel_shape = array<i64: 5, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<1x3x2x2xf32>) -> tensor<1x3x1x2xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<3x8xf32>) {
  // expected-error @+2 {{expects 1 to 3 spatial dims, got input rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.average_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>} : (tensor<3x8xf32>) -> tensor<3x7xf32>
  return
}

// -----

func.func @maxpool_rank(%x: tensor<3x8xf32>) {
  // expected-error @+2 {{expects 1 to 3 spatial dims, got input rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<3x8xf32>) -> tensor<3x7xf32>
  return
}

// -----

func.func @global_pool_rank(%x: tensor<3x8xf32>) {
  // expected-error @+2 {{expects an input of rank >= 3, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.global_average_pool %x : (tensor<3x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @deconv_weight_rank(%x: tensor<1x2x4x4xf32>, %w: tensor<2x3x3xf32>) {
  // expected-error @+2 {{weight rank 3 differs from input rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x2x4x4xf32>, tensor<2x3x3xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @deconv_group(%x: tensor<1x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+2 {{group must be positive}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = -1} : (tensor<1x2x4x4xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @deconv_channels(%x: tensor<1x2x4x4xf32>, %w: tensor<3x3x3x3xf32>) {
  // expected-error @+2 {{input has 2 channels but weight has 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x2x4x4xf32>, tensor<3x3x3x3xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @deconv_output_padding(%x: tensor<1x2x4x4xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+2 {{output_padding has 1 entries for 2 spatial dims}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0>} : (tensor<1x2x4x4xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @deconv_empty(%x: tensor<1x2x1x1xf32>, %w: tensor<2x3x1x1xf32>) {
  // expected-error @+2 {{output spatial dim 0 would be empty}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 1, 0, 1, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x2x1x1xf32>, tensor<2x3x1x1xf32>) -> tensor<1x3x1x1xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.softmax %x {axis = 2} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @reduce_axis(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{reduction axis -3 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reduce_sum %x {axes = array<i64: -3>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  return
}

// -----

func.func @reduce_repeated(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{reduction axis -1 is repeated}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reduce_mean %x {axes = array<i64: 1, -1>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x3xf32>, %g: tensor<3xf32>) {
  // expected-error @+2 {{axis 5 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mpc.layer_norm %x, %g {axis = 5} : (tensor<2x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<2x3xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{scale/bias of shape [4] does not broadcast to the normalised dims [3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mpc.layer_norm %x, %g : (tensor<2x3xf32>, tensor<4xf32>) -> (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
  return
}

// -----

func.func @batch_norm_rank(%x: tensor<3xf32>, %c: tensor<3xf32>) {
  // expected-error @+2 {{expects an input of rank >= 2, got 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mpc.batch_norm %x, %c, %c, %c, %c : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<2x3xf32>, %c: tensor<3xf32>, %d: tensor<4xf32>) {
  // expected-error @+2 {{per-channel operand of shape [4] does not match 3 channels}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mpc.batch_norm %x, %c, %c, %c, %d : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<4xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return
}

// -----

func.func @loss_rank(%s: tensor<4xf32>, %l: tensor<4xi64>) {
  // expected-error @+2 {{scores must have rank >= 2 [N, C, ...]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mpc.softmax_cross_entropy_loss %s, %l : (tensor<4xf32>, tensor<4xi64>) -> (tensor<f32>, tensor<4xf32>)
  return
}

// -----

func.func @loss_labels(%s: tensor<4x10xf32>, %l: tensor<5xi64>) {
  // expected-error @+2 {{labels of shape [5] do not match scores of shape [4, 10]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mpc.softmax_cross_entropy_loss %s, %l : (tensor<4x10xf32>, tensor<5xi64>) -> (tensor<f32>, tensor<4x10xf32>)
  return
}

// -----

func.func @loss_labels_rank(%s: tensor<4x10xf32>, %l: tensor<4x1xi64>) {
  // expected-error @+2 {{labels of shape [4, 1] do not match scores of shape [4, 10]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.negative_log_likelihood_loss %s, %l : (tensor<4x10xf32>, tensor<4x1xi64>) -> tensor<f32>
  return
}

// -----

func.func @nll_grad_shape(%s: tensor<4x10xf32>, %l: tensor<4xi64>, %g: tensor<4xf32>) {
  // expected-error @+2 {{loss_grad has shape 'tensor<4xf32>', the loss has 0 dims}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.negative_log_likelihood_loss_grad %s, %l, %g : (tensor<4x10xf32>, tensor<4xi64>, tensor<4xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @loss_weights(%s: tensor<4x10xf32>, %l: tensor<4xi64>, %w: tensor<9xf32>) {
  // expected-error @+2 {{class weights of shape [9] do not match 10 classes}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.negative_log_likelihood_loss %s, %l, %w : (tensor<4x10xf32>, tensor<4xi64>, tensor<9xf32>) -> tensor<f32>
  return
}

// -----

func.func @dropout_ratio(%x: tensor<2xf32>) {
  // expected-error @+1 {{ratio 1.000000e+00 is outside [0, 1)}}
  %0:2 = mpc.dropout %x {ratio = 1.0 : f32} : (tensor<2xf32>) -> (tensor<2xf32>, tensor<2xi1>)
  return
}

// -----

func.func @reshape_two_inferred(%x: tensor<2x3xf32>) {
  %s = mpc.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+2 {{shape [-1, -1] has more than one -1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reshape %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @reshape_copy(%x: tensor<6xf32>) {
  %s = mpc.constant dense<[3, 0]> : tensor<2xi64>
  // expected-error @+2 {{shape [3, 0] copies dim 1 of a rank-1 input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return
}

// -----

func.func @reshape_negative(%x: tensor<6xf32>) {
  %s = mpc.constant dense<[3, -2]> : tensor<2xi64>
  // expected-error @+2 {{shape [3, -2] has a negative dim}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return
}

// -----

func.func @reshape_divide(%x: tensor<7xf32>) {
  %s = mpc.constant dense<[2, -1]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape [7] to [2, -1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reshape %x, %s : (tensor<7xf32>, tensor<2xi64>) -> tensor<2x?xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<6xf32>) {
  %s = mpc.constant dense<[4, 2]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape [6] (6 elements) to [4, 2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return
}

// -----

func.func @reshape_rank(%x: tensor<6xf32>, %s: tensor<?xi64>) {
  // expected-error @+2 {{the rank of the result is unknown: the shape operand has a dynamic length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.reshape %x, %s : (tensor<6xf32>, tensor<?xi64>) -> tensor<6xf32>
  return
}

// -----

func.func @flatten_axis(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{axis 3 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.flatten %x {axis = 3} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{perm has 3 entries for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{perm [0, 0] is not a permutation}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+2 {{needs at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.concat {axis = 0} : () -> tensor<2xf32>
  return
}

// -----

func.func @concat_axis(%x: tensor<2xf32>) {
  // expected-error @+2 {{axis 1 is out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.concat %x {axis = 1} : (tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @concat_rank(%x: tensor<2xf32>, %y: tensor<2x2xf32>) {
  // expected-error @+2 {{inputs differ in rank or element type: 'tensor<2xf32>' and 'tensor<2x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.concat %x, %y {axis = 0} : (tensor<2xf32>, tensor<2x2xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @concat_dim(%x: tensor<2x3xf32>, %y: tensor<2x4xf32>) {
  // expected-error @+2 {{inputs differ in dim 1: 'tensor<2x3xf32>' and 'tensor<2x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.concat %x, %y {axis = 0} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @split_axis(%x: tensor<4xf32>) {
  // expected-error @+2 {{axis 1 is out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mpc.split %x {axis = 1, sizes = array<i64: 2, 2>} : (tensor<4xf32>) -> (tensor<2xf32>, tensor<2xf32>)
  return
}

// -----

func.func @split_negative(%x: tensor<4xf32>) {
  // expected-error @+2 {{split sizes must be non-negative}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mpc.split %x {axis = 0, sizes = array<i64: 6, -2>} : (tensor<4xf32>) -> (tensor<6xf32>, tensor<0xf32>)
  return
}

// -----

func.func @split_sum(%x: tensor<4xf32>) {
  // expected-error @+2 {{split sizes [2, 3] sum to 5 but the dim has size 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mpc.split %x {axis = 0, sizes = array<i64: 2, 3>} : (tensor<4xf32>) -> (tensor<2xf32>, tensor<3xf32>)
  return
}

// -----

func.func @slice_lengths(%x: tensor<4xf32>) {
  // expected-error @+2 {{starts, ends, axes and steps differ in length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.slice %x {starts = array<i64: 0>, ends = array<i64: 2, 3>, axes = array<i64: 0>, steps = array<i64: 1>} : (tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @slice_axis(%x: tensor<4xf32>) {
  // expected-error @+2 {{slice axis 1 is out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.slice %x {starts = array<i64: 0>, ends = array<i64: 2>, axes = array<i64: 1>, steps = array<i64: 1>} : (tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @slice_repeated(%x: tensor<4xf32>) {
  // expected-error @+2 {{slice axis -1 is repeated}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.slice %x {starts = array<i64: 0, 0>, ends = array<i64: 2, 2>, axes = array<i64: 0, -1>, steps = array<i64: 1, 1>} : (tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @slice_step(%x: tensor<4xf32>) {
  // expected-error @+2 {{slice step must not be 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.slice %x {starts = array<i64: 0>, ends = array<i64: 2>, axes = array<i64: 0>, steps = array<i64: 0>} : (tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @squeeze_dynamic(%x: tensor<?x1xf32>) {
  // expected-error @+2 {{squeeze without axes needs a static shape, got [?, 1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.squeeze %x {axes = array<i64>} : (tensor<?x1xf32>) -> tensor<?xf32>
  return
}

// -----

func.func @squeeze_axis(%x: tensor<2x1xf32>) {
  // expected-error @+2 {{squeeze axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.squeeze %x {axes = array<i64: 2>} : (tensor<2x1xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @squeeze_size(%x: tensor<2x1xf32>) {
  // expected-error @+2 {{cannot squeeze dim 0 of size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.squeeze %x {axes = array<i64: 0>} : (tensor<2x1xf32>) -> tensor<1xf32>
  return
}

// -----

func.func @unsqueeze_axis(%x: tensor<2xf32>) {
  // expected-error @+2 {{unsqueeze axis 2 is out of range for result rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.unsqueeze %x {axes = array<i64: 2>} : (tensor<2xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @unsqueeze_repeated(%x: tensor<2xf32>) {
  // expected-error @+2 {{unsqueeze axis -3 is repeated}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.unsqueeze %x {axes = array<i64: 0, -3>} : (tensor<2xf32>) -> tensor<1x1x2xf32>
  return
}

// -----

func.func @gather_axis(%x: tensor<2xf32>, %i: tensor<1xi64>) {
  // expected-error @+2 {{axis 1 is out of range for rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gather %x, %i {axis = 1} : (tensor<2xf32>, tensor<1xi64>) -> tensor<1xf32>
  return
}

// -----

func.func @expand_shape(%x: tensor<3xf32>) {
  %s = mpc.constant dense<[2, 4]> : tensor<2xi64>
  // expected-error @+2 {{cannot expand [3] to [2, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.expand %x, %s : (tensor<3xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return
}

// -----

func.func @tile_repeats_rank(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{repeats has 1 entries for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.tile %x {repeats = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @tile_repeats_zero(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{repeats must be positive; got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.tile %x {repeats = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x0xf32>
  return
}

// -----

func.func @expand_rank(%x: tensor<3xf32>, %s: tensor<?xi64>) {
  // expected-error @+2 {{the rank of the result is unknown: the shape operand has a dynamic length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.expand %x, %s : (tensor<3xf32>, tensor<?xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @pad_length(%x: tensor<3xf32>) {
  // expected-error @+2 {{pads has 1 entries for rank 1 (expected 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.pad %x {pads = array<i64: 1>} : (tensor<3xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @pad_negative(%x: tensor<3xf32>) {
  // expected-error @+2 {{negative pads remove more than dim 0 holds}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.pad %x {pads = array<i64: -2, -2>} : (tensor<3xf32>) -> tensor<0xf32>
  return
}

// -----

func.func @resize_entries(%x: tensor<1x4xf32>) {
  // expected-error @+2 {{sizes and scales need one entry per dim (2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.resize %x {scales = array<f32: 2.0>, sizes = array<i64: 8>} : (tensor<1x4xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @resize_scales(%x: tensor<1x4xf32>) {
  // expected-error @+2 {{scales must be positive}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.resize %x {scales = array<f32: 1.0, 0.0>, sizes = array<i64: 1, 0>} : (tensor<1x4xf32>) -> tensor<1x0xf32>
  return
}

// -----

func.func @constant_type() {
  // expected-error @+2 {{value must be a ranked tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "mpc.constant"() {value = dense<1.0> : vector<2xf32>} : () -> tensor<2xf32>
  return
}

// -----

// expected-error @+1 {{value must be a ranked tensor, got 'vector<2xf32>'}}
mpc.parameter @p = dense<1.0> : vector<2xf32>

// -----

func.func @no_parameter() {
  // expected-error @+1 {{'missing' does not name an mpc.parameter}}
  %0 = mpc.get_parameter @missing : tensor<2xf32>
  return
}

// -----

mpc.parameter @p = dense<1.0> : tensor<2xf32>
func.func @parameter_type() {
  // expected-error @+1 {{result type 'tensor<3xf32>' does not match parameter 'p' of type 'tensor<2xf32>'}}
  %0 = mpc.get_parameter @p : tensor<3xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<2xf32>) {
  // expected-error @+1 {{operand type 'tensor<2xf32>' and result type 'tensor<3xbf16>' are cast incompatible}}
  %0 = mpc.cast %x : tensor<2xf32> to tensor<3xbf16>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{axis -3 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.softmax %x {axis = -3} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gather_grad_shapes(%g: tensor<2x3x4xf32>, %ids: tensor<4xi64>) {
  // expected-error @+2 {{grad has 3 gathered rows, indices 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gather_grad %g, %ids {num_rows = 7 : i64} : (tensor<2x3x4xf32>, tensor<4xi64>) -> tensor<2x7x4xf32>
  return
}

// -----

func.func @gather_grad_rank(%g: tensor<3x4xf32>, %ids: tensor<3xi64>) {
  // expected-error @+2 {{expects grad [O, K, I] and indices [K], got 'tensor<3x4xf32>' and 'tensor<3xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gather_grad %g, %ids {num_rows = 7 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<7x4xf32>
  return
}

// -----

func.func @max_pool_grad_not_tiled(%x: tensor<1x2x7x8xf32>, %g: tensor<1x2x3x4xf32>) {
  // expected-error @+2 {{the kernel's windows must tile the input: input 'tensor<1x2x7x8xf32>', grad 'tensor<1x2x3x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool_grad %x, %g {kernel_shape = array<i64: 2, 2>} : (tensor<1x2x7x8xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x7x8xf32>
  return
}

// -----

func.func @max_pool_grad_rank(%x: tensor<2x8xf32>, %g: tensor<2x4xf32>) {
  // expected-error @+2 {{expects static [N, C, H, W] input and grad and a 2-d kernel}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.max_pool_grad %x, %g {kernel_shape = array<i64: 2>} : (tensor<2x8xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @mod_float_without_fmod(%x: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'mpc.mod' op on floats needs fmod (ONNX Mod allows only fmod=1 for floating-point types)}}
  %0 = mpc.mod %x, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_elements_rank(%x: tensor<2x3xf32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+2 {{indices have rank 1, the input 2 (GatherElements needs the same rank)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.gather_elements %x, %i {axis = 0} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @scatter_elements_shapes(%x: tensor<2x3xf32>, %i: tensor<2x2xi64>, %u: tensor<2x1xf32>) -> tensor<2x3xf32> {
  // expected-error @+2 {{indices 'tensor<2x2xi64>' and updates 'tensor<2x1xf32>' must have one shape, of the input's rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.scatter_elements %x, %i, %u : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x1xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scatter_elements_bool_reduction(%x: tensor<3xi1>, %i: tensor<2xi64>, %u: tensor<2xi1>) -> tensor<3xi1> {
  // expected-error @+1 {{'mpc.scatter_elements' op reduction 'add' on booleans is not defined}}
  %0 = mpc.scatter_elements %x, %i, %u {reduction = #mpc<scatter_reduction add>} : (tensor<3xi1>, tensor<2xi64>, tensor<2xi1>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

func.func @arg_max_axis(%x: tensor<2x3xf32>) -> tensor<2x1xi64> {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mpc.arg_max %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x1xi64>
  return %0 : tensor<2x1xi64>
}

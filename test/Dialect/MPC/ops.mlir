// RUN: mpc-opt %s | mpc-opt | FileCheck %s
// RUN: mpc-opt %s --mlir-print-op-generic | mpc-opt | FileCheck %s

// Every op of the dialect round-trips through its printed form (and the
// generic form).

// CHECK: mpc.parameter @w trainable = dense<1.000000e+00> : tensor<4x3xf32>
// CHECK: mpc.parameter @frozen = dense<[1, 2]> : tensor<2xi64>
mpc.parameter @w trainable = dense<1.0> : tensor<4x3xf32>
mpc.parameter @frozen = dense<[1, 2]> : tensor<2xi64>

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<2x3xf32>, %y: tensor<3xf32>, %i: tensor<2x3xi64>)
    -> (tensor<2x3xf32>, tensor<2x3xi1>) {
  // CHECK: mpc.sqrt %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
  %0 = mpc.sqrt %x : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.exp
  %1 = mpc.exp %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.log
  %2 = mpc.log %1 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.reciprocal
  %3 = mpc.reciprocal %2 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.erf
  %4 = mpc.erf %3 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.sigmoid
  %5 = mpc.sigmoid %4 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.tanh
  %6 = mpc.tanh %5 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.softplus
  %7 = mpc.softplus %6 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.hard_swish
  %8 = mpc.hard_swish %7 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.relu
  %9 = mpc.relu %8 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.neg %{{.*}} : tensor<2x3xi64> -> tensor<2x3xi64>
  %10 = mpc.neg %i : tensor<2x3xi64> -> tensor<2x3xi64>
  // CHECK: mpc.abs
  %11 = mpc.abs %9 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.leaky_relu %{{.*}} {alpha = 2.000000e-01 : f32}
  %12 = mpc.leaky_relu %11 {alpha = 0.2 : f32} : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.hard_sigmoid %{{.*}} : tensor
  %13 = mpc.hard_sigmoid %12 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.gelu %{{.*}} {approximate = #mpc<gelu_approximation tanh>}
  %14 = mpc.gelu %13 {approximate = #mpc<gelu_approximation tanh>} : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
  %15 = mpc.clip %14 {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %16 = mpc.add %15, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.sub
  %17 = mpc.sub %16, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.mul
  %18 = mpc.mul %17, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.div
  %19 = mpc.div %18, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.max
  %20 = mpc.max %19, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.min
  %21 = mpc.min %20, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.pow %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  %22 = mpc.pow %21, %i : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  // CHECK: mpc.equal %{{.*}} -> tensor<2x3xi1>
  %23 = mpc.equal %22, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: mpc.less
  %24 = mpc.less %22, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: mpc.greater
  %25 = mpc.greater %22, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: mpc.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %26 = mpc.where %25, %22, %y : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %26, %24 : tensor<2x3xf32>, tensor<2x3xi1>
}

// CHECK-LABEL: func.func @contractions
func.func @contractions(%a: tensor<8x4xbf16>, %b: tensor<2x4x3xbf16>, %x: tensor<1x3x8x8xf32>,
                        %w: tensor<6x3x3x3xf32>, %bias: tensor<6xf32>)
    -> (tensor<2x8x3xf32>, tensor<3x8xf32>, tensor<1x6x4x4xf32>) {
  // CHECK: mpc.matmul %{{.*}}, %{{.*}} {precision = #mpc.precision<bf16, f32, f32>} : (tensor<8x4xbf16>, tensor<2x4x3xbf16>) -> tensor<2x8x3xf32>
  %0 = mpc.matmul %a, %b {precision = #mpc.precision<bf16, f32, f32>} : (tensor<8x4xbf16>, tensor<2x4x3xbf16>) -> tensor<2x8x3xf32>
  %p = mpc.get_parameter @w : tensor<4x3xf32>
  %af = mpc.cast %a : tensor<8x4xbf16> to tensor<8x4xf32>
  // CHECK: mpc.gemm %{{.*}}, %{{.*}} {alpha = 5.000000e-01 : f32, trans_a, trans_b}
  %1 = mpc.gemm %p, %af {alpha = 0.5 : f32, trans_a, trans_b} : (tensor<4x3xf32>, tensor<8x4xf32>) -> tensor<3x8xf32>
  // CHECK: mpc.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %2 = mpc.conv %x, %w, %bias {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<6x3x3x3xf32>, tensor<6xf32>) -> tensor<1x6x4x4xf32>
  return %0, %1, %2 : tensor<2x8x3xf32>, tensor<3x8xf32>, tensor<1x6x4x4xf32>
}

// CHECK-LABEL: func.func @windows
func.func @windows(%x: tensor<1x6x4x4xf32>, %w: tensor<6x2x3x3xf32>)
    -> (tensor<1x2x9x9xf32>, tensor<1x6x2x2xf32>, tensor<1x6x3x3xf32>, tensor<1x6x1x1xf32>, tensor<1x6x4x4xf32>) {
  // CHECK: mpc.conv_transpose
  %0 = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<1x2x9x9xf32>
  // CHECK: mpc.max_pool %{{.*}} {ceil_mode,
  %1 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode} : (tensor<1x6x4x4xf32>) -> tensor<1x6x2x2xf32>
  // CHECK: mpc.average_pool %{{.*}} {count_include_pad,
  %2 = mpc.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, count_include_pad} : (tensor<1x6x4x4xf32>) -> tensor<1x6x3x3xf32>
  // CHECK: mpc.global_average_pool
  %3 = mpc.global_average_pool %x : (tensor<1x6x4x4xf32>) -> tensor<1x6x1x1xf32>
  // CHECK: mpc.max_pool %{{.*}} {auto_pad = #mpc<auto_pad same_upper>
  %4 = mpc.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, auto_pad = #mpc<auto_pad same_upper>} : (tensor<1x6x4x4xf32>) -> tensor<1x6x4x4xf32>
  return %0, %1, %2, %3, %4 : tensor<1x2x9x9xf32>, tensor<1x6x2x2xf32>, tensor<1x6x3x3xf32>, tensor<1x6x1x1xf32>, tensor<1x6x4x4xf32>
}

// ceil_mode keeps a last window only if it starts inside the input or its
// leading padding (PyTorch, onnxruntime): with one row of trailing padding
// a 4x4 input pools to 2x2, not 3x3.
// CHECK-LABEL: func.func @ceil_mode_trailing_pad
// CHECK: mpc.max_pool {{.*}} -> tensor<1x6x2x2xf32>
// CHECK: mpc.average_pool {{.*}} -> tensor<1x6x3x2xf32>
func.func @ceil_mode_trailing_pad(%x: tensor<1x6x4x4xf32>) -> (tensor<1x6x2x2xf32>, tensor<1x6x3x2xf32>) {
  %0 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode} : (tensor<1x6x4x4xf32>) -> tensor<1x6x2x2xf32>
  // With leading padding the extra window starts inside the input: kept.
  %1 = mpc.average_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 0, 1>, ceil_mode} : (tensor<1x6x4x4xf32>) -> tensor<1x6x3x2xf32>
  return %0, %1 : tensor<1x6x2x2xf32>, tensor<1x6x3x2xf32>
}

// CHECK-LABEL: func.func @normalisation
func.func @normalisation(%x: tensor<?x5x16xf32>, %g: tensor<16xf32>, %img: tensor<4x3x2x2xf32>,
                         %c: tensor<3xf32>, %labels: tensor<4xi64>, %scores: tensor<4x10xf32>) {
  // CHECK: mpc.softmax %{{.*}} {axis = 1 : i64}
  %0 = mpc.softmax %x {axis = 1} : (tensor<?x5x16xf32>) -> tensor<?x5x16xf32>
  // CHECK: mpc.log_softmax
  %1 = mpc.log_softmax %x : (tensor<?x5x16xf32>) -> tensor<?x5x16xf32>
  // CHECK: mpc.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = false} : (tensor<?x5x16xf32>) -> tensor<?x16xf32>
  %2 = mpc.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<?x5x16xf32>) -> tensor<?x16xf32>
  // CHECK: mpc.reduce_mean %{{.*}} {axes = array<i64>} : (tensor<?x5x16xf32>) -> tensor<1x1x1xf32>
  %3 = mpc.reduce_mean %x {axes = array<i64>} : (tensor<?x5x16xf32>) -> tensor<1x1x1xf32>
  // CHECK: mpc.reduce_max
  %4 = mpc.reduce_max %x {axes = array<i64: -1>} : (tensor<?x5x16xf32>) -> tensor<?x5x1xf32>
  // CHECK: mpc.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : (tensor<?x5x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<?x5x16xf32>, tensor<?x5x1xf32>, tensor<?x5x1xf32>)
  %5:3 = mpc.layer_norm %x, %g, %g {epsilon = 1.0e-6 : f32} : (tensor<?x5x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<?x5x16xf32>, tensor<?x5x1xf32>, tensor<?x5x1xf32>)
  // CHECK: mpc.batch_norm {{.*}} {training}
  %6:3 = mpc.batch_norm %img, %c, %c, %c, %c {training} : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>)
  // CHECK: mpc.softmax_cross_entropy_loss {{.*}} -> (tensor<f32>, tensor<4x10xf32>)
  %7:2 = mpc.softmax_cross_entropy_loss %scores, %labels : (tensor<4x10xf32>, tensor<4xi64>) -> (tensor<f32>, tensor<4x10xf32>)
  // CHECK: mpc.negative_log_likelihood_loss {{.*}} {ignore_index = -100 : i64, reduction = #mpc<reduction none>}
  %8 = mpc.negative_log_likelihood_loss %7#1, %labels {reduction = #mpc<reduction none>, ignore_index = -100} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<4xf32>
  // CHECK: mpc.dropout %{{.*}} {ratio = 1.000000e-01 : f32, training}
  %9:2 = mpc.dropout %x {ratio = 0.1 : f32, training} : (tensor<?x5x16xf32>) -> (tensor<?x5x16xf32>, tensor<?x5x16xi1>)
  return
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<?x4x6xf32>, %s: tensor<3xi64>, %idx: tensor<2xi32>) {
  // CHECK: mpc.identity
  %0 = mpc.identity %x : (tensor<?x4x6xf32>) -> tensor<?x4x6xf32>
  // CHECK: mpc.reshape %{{.*}}, %{{.*}} {allowzero}
  %1 = mpc.reshape %x, %s {allowzero} : (tensor<?x4x6xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  // CHECK: mpc.flatten
  %2 = mpc.flatten %x {axis = 2} : (tensor<?x4x6xf32>) -> tensor<?x6xf32>
  // CHECK: mpc.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : (tensor<?x4x6xf32>) -> tensor<6x?x4xf32>
  %3 = mpc.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<?x4x6xf32>) -> tensor<6x?x4xf32>
  // CHECK: mpc.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x4x6xf32>, tensor<?x4x6xf32>) -> tensor<?x8x6xf32>
  %4 = mpc.concat %x, %x {axis = 1} : (tensor<?x4x6xf32>, tensor<?x4x6xf32>) -> tensor<?x8x6xf32>
  // CHECK: mpc.split %{{.*}} {axis = 2 : i64, sizes = array<i64: 2, 4>}
  %5:2 = mpc.split %x {axis = 2, sizes = array<i64: 2, 4>} : (tensor<?x4x6xf32>) -> (tensor<?x4x2xf32>, tensor<?x4x4xf32>)
  // CHECK: mpc.slice
  %6 = mpc.slice %x {starts = array<i64: -1>, ends = array<i64: -9223372036854775807>, axes = array<i64: 2>, steps = array<i64: -2>} : (tensor<?x4x6xf32>) -> tensor<?x4x3xf32>
  // CHECK: mpc.unsqueeze
  %7 = mpc.unsqueeze %x {axes = array<i64: 0, -1>} : (tensor<?x4x6xf32>) -> tensor<1x?x4x6x1xf32>
  // CHECK: mpc.squeeze
  %8 = mpc.squeeze %7 {axes = array<i64: 0, 4>} : (tensor<1x?x4x6x1xf32>) -> tensor<?x4x6xf32>
  // CHECK: mpc.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x4x6xf32>, tensor<2xi32>) -> tensor<?x2x6xf32>
  %9 = mpc.gather %x, %idx {axis = 1} : (tensor<?x4x6xf32>, tensor<2xi32>) -> tensor<?x2x6xf32>
  // CHECK: mpc.expand
  %10 = mpc.expand %x, %s : (tensor<?x4x6xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  // CHECK: mpc.pad %{{.*}} {mode = #mpc<pad_mode reflect>, pads = array<i64: 0, 1, 1, 0, 1, 1>}
  %11 = mpc.pad %x {pads = array<i64: 0, 1, 1, 0, 1, 1>, mode = #mpc<pad_mode reflect>} : (tensor<?x4x6xf32>) -> tensor<?x6x8xf32>
  // CHECK: mpc.resize %{{.*}} {coordinate_transform = #mpc<coordinate_transform align_corners>, mode = #mpc<resize_mode linear>
  %12 = mpc.resize %x {scales = array<f32: 1.0, 2.0, 0.5>, sizes = array<i64: -1, 8, 3>, mode = #mpc<resize_mode linear>, coordinate_transform = #mpc<coordinate_transform align_corners>} : (tensor<?x4x6xf32>) -> tensor<?x8x3xf32>
  // CHECK: mpc.shape %{{.*}} {start = 1 : i64} : (tensor<?x4x6xf32>) -> tensor<2xi64>
  %13 = mpc.shape %x {start = 1} : (tensor<?x4x6xf32>) -> tensor<2xi64>
  // CHECK: mpc.constant dense<[1, 2]> : tensor<2xi64>
  %14 = mpc.constant dense<[1, 2]> : tensor<2xi64>
  // CHECK: mpc.convert %{{.*}} : tensor<2xi64> to tensor<2xf16>
  %15 = mpc.convert %14 : tensor<2xi64> to tensor<2xf16>
  // CHECK: mpc.cast %{{.*}} : tensor<2xf16> to tensor<2xbf16>
  %16 = mpc.cast %15 : tensor<2xf16> to tensor<2xbf16>
  // CHECK: mpc.get_parameter @frozen : tensor<2xi64>
  %17 = mpc.get_parameter @frozen : tensor<2xi64>
  return
}

// The ONNX operators added with the node-test coverage (#17).
// CHECK-LABEL: func.func @more_onnx_ops
func.func @more_onnx_ops(%x: tensor<2x3xf32>, %b: tensor<2x3xi1>,
                         %i: tensor<2x3xi64>, %u: tensor<3xui8>,
                         %idx: tensor<2x2xi64>, %upd: tensor<2x2xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xi1>, tensor<2x1xi64>, tensor<3xi64>,
        tensor<2x3xi64>, tensor<3xui8>, tensor<2x2xf32>, tensor<2x3xf32>,
        tensor<1x3xf32>, tensor<2xf32>) {
  // CHECK: mpc.sin %{{.*}} : tensor<2x3xf32> -> tensor<2x3xf32>
  %0 = mpc.sin %x : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.acosh
  %1 = mpc.acosh %0 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.round
  %2 = mpc.round %1 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.sign
  %3 = mpc.sign %2 : tensor<2x3xf32> -> tensor<2x3xf32>
  // CHECK: mpc.mod %{{.*}}, %{{.*}} {fmod = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = mpc.mod %3, %x {fmod = true} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.greater_or_equal
  %5 = mpc.greater_or_equal %4, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  // CHECK: mpc.xor
  %6 = mpc.xor %5, %b : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  // CHECK: mpc.not %{{.*}} : tensor<2x3xi1>
  %7 = mpc.not %6 : tensor<2x3xi1>
  // CHECK: mpc.is_inf %{{.*}} {detect_negative = false} : tensor<2x3xf32> -> tensor<2x3xi1>
  %8 = mpc.is_inf %x {detect_negative = false} : tensor<2x3xf32> -> tensor<2x3xi1>
  // CHECK: mpc.arg_max %{{.*}} {axis = 1 : i64, select_last_index = true} : (tensor<2x3xf32>) -> tensor<2x1xi64>
  %9 = mpc.arg_max %x {axis = 1 : i64, select_last_index = true} : (tensor<2x3xf32>) -> tensor<2x1xi64>
  // CHECK: mpc.arg_min %{{.*}} {axis = 0 : i64, keepdims = false} : (tensor<2x3xf32>) -> tensor<3xi64>
  %10 = mpc.arg_min %x {axis = 0 : i64, keepdims = false} : (tensor<2x3xf32>) -> tensor<3xi64>
  // CHECK: mpc.mod %{{.*}}, %{{.*}} : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  %11 = mpc.mod %i, %i : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  // CHECK: mpc.bit_shift %{{.*}}, %{{.*}} {left = true} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  %12 = mpc.bit_shift %u, %u {left = true} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  // CHECK: mpc.gather_elements %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
  %13 = mpc.gather_elements %x, %idx {axis = 1} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
  // CHECK: mpc.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = -1 : i64, reduction = #mpc<scatter_reduction add>} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %14 = mpc.scatter_elements %x, %idx, %upd {axis = -1, reduction = #mpc<scatter_reduction add>} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  // CHECK: mpc.reduce_min %{{.*}} {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  %15 = mpc.reduce_min %x {axes = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<1x3xf32>
  // CHECK: mpc.reduce_prod %{{.*}} {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %16 = mpc.reduce_prod %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %14, %7, %9, %10, %11, %12, %13, %4, %15, %16
      : tensor<2x3xf32>, tensor<2x3xi1>, tensor<2x1xi64>, tensor<3xi64>,
        tensor<2x3xi64>, tensor<3xui8>, tensor<2x2xf32>, tensor<2x3xf32>,
        tensor<1x3xf32>, tensor<2xf32>
}

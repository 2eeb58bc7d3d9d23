// RUN: mpc-opt %s --mpc-decompose | FileCheck %s

// A 1-d convolution is the 2-d one over a unit height: the window
// attributes gain a leading unit entry, the pads a zero pair.
// CHECK-LABEL: func.func @conv1d
// CHECK: %[[X:.*]] = mpc.unsqueeze %arg0 {axes = array<i64: 2>} : (tensor<2x4x11xf32>) -> tensor<2x4x1x11xf32>
// CHECK: %[[W:.*]] = mpc.unsqueeze %arg1 {axes = array<i64: 2>} : (tensor<6x2x3xf32>) -> tensor<6x2x1x3xf32>
// CHECK: %[[Y:.*]] = mpc.conv %[[X]], %[[W]], %arg2 {dilations = array<i64: 1, 2>, group = 2 : i64, kernel_shape = array<i64: 1, 3>, pads = array<i64: 0, 1, 0, 2>, strides = array<i64: 1, 2>}
// CHECK-SAME: -> tensor<2x6x1x5xf32>
// CHECK: mpc.squeeze %[[Y]] {axes = array<i64: 2>} : (tensor<2x6x1x5xf32>) -> tensor<2x6x5xf32>
func.func @conv1d(%x: tensor<2x4x11xf32>, %w: tensor<6x2x3xf32>, %b: tensor<6xf32>) -> tensor<2x6x5xf32> {
  %y = mpc.conv %x, %w, %b {kernel_shape = array<i64: 3>, strides = array<i64: 2>, pads = array<i64: 1, 2>, dilations = array<i64: 2>, group = 2 : i64} : (tensor<2x4x11xf32>, tensor<6x2x3xf32>, tensor<6xf32>) -> tensor<2x6x5xf32>
  return %y : tensor<2x6x5xf32>
}

// CHECK-LABEL: func.func @pools1d
// CHECK: mpc.max_pool %{{.*}} {ceil_mode, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 1, 3>, pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 1, 2>} : (tensor<2x3x1x10xf32>) -> tensor<2x3x1x6xf32>
// CHECK: mpc.average_pool %{{.*}} {count_include_pad, kernel_shape = array<i64: 1, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 2>} : (tensor<2x3x1x10xf32>) -> tensor<2x3x1x5xf32>
func.func @pools1d(%x: tensor<2x3x10xf32>) -> (tensor<2x3x6xf32>, tensor<2x3x5xf32>) {
  %m = mpc.max_pool %x {kernel_shape = array<i64: 3>, strides = array<i64: 2>, pads = array<i64: 1, 1>, dilations = array<i64: 1>, ceil_mode} : (tensor<2x3x10xf32>) -> tensor<2x3x6xf32>
  %a = mpc.average_pool %x {kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, count_include_pad} : (tensor<2x3x10xf32>) -> tensor<2x3x5xf32>
  return %m, %a : tensor<2x3x6xf32>, tensor<2x3x5xf32>
}

// ConvTranspose [C=2 -> M=3], stride 2, pads 1, output_padding 1: the
// weight's channel dims swapped and its kernel flipped (gathers of
// [2, 1, 0]), then one stride-1 convolution per output phase (row and
// column parity), each with the flipped taps that phase meets: the even
// outputs tap 1 of the kernel, the odd ones taps 0 and 2 (slices with
// step 2), padded at the end by what the last output reads. The phases
// are stacked along the channels, interleaved by one transpose, and the
// bias is added after.
// CHECK-LABEL: func.func @conv_transpose
// CHECK-DAG: %[[FLIP:.*]] = mpc.constant dense<[2, 1, 0]> : tensor<3xi64>
// CHECK: mpc.transpose %{{.*}} {perm = array<i64: 0, 2, 1, 3, 4>} : (tensor<1x2x3x3x3xf32>) -> tensor<1x3x2x3x3xf32>
// CHECK: %[[ROWS:.*]] = mpc.gather %{{.*}}, %[[FLIP]] {axis = 2 : i64} : (tensor<3x2x3x3xf32>, tensor<3xi64>) -> tensor<3x2x3x3xf32>
// CHECK: %[[K:.*]] = mpc.gather %[[ROWS]], %[[FLIP]] {axis = 3 : i64}
// CHECK: %[[K00:.*]] = mpc.slice %[[K]] {axes = array<i64: 2, 3>, ends = array<i64: 2, 2>, starts = array<i64: 1, 1>, steps = array<i64: 2, 2>} : (tensor<3x2x3x3xf32>) -> tensor<3x2x1x1xf32>
// CHECK: %[[P00:.*]] = mpc.conv %arg0, %[[K00]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x3x3xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x3x3xf32>
// CHECK: %[[K01:.*]] = mpc.slice %[[K]] {axes = array<i64: 2, 3>, ends = array<i64: 2, 3>, starts = array<i64: 1, 0>, steps = array<i64: 2, 2>} : (tensor<3x2x3x3xf32>) -> tensor<3x2x1x2xf32>
// CHECK: %[[P01:.*]] = mpc.conv %arg0, %[[K01]] {{{.*}}kernel_shape = array<i64: 1, 2>, pads = array<i64: 0, 0, 0, 1>{{.*}}} : (tensor<1x2x3x3xf32>, tensor<3x2x1x2xf32>) -> tensor<1x3x3x3xf32>
// CHECK: %[[P10:.*]] = mpc.conv %arg0, %{{.*}} {{{.*}}kernel_shape = array<i64: 2, 1>, pads = array<i64: 0, 0, 1, 0>{{.*}}} : (tensor<1x2x3x3xf32>, tensor<3x2x2x1xf32>) -> tensor<1x3x3x3xf32>
// CHECK: %[[K11:.*]] = mpc.slice %[[K]] {axes = array<i64: 2, 3>, ends = array<i64: 3, 3>, starts = array<i64: 0, 0>, steps = array<i64: 2, 2>} : (tensor<3x2x3x3xf32>) -> tensor<3x2x2x2xf32>
// CHECK: %[[P11:.*]] = mpc.conv %arg0, %[[K11]] {{{.*}}kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 1, 1>{{.*}}} : (tensor<1x2x3x3xf32>, tensor<3x2x2x2xf32>) -> tensor<1x3x3x3xf32>
// CHECK: %[[STACK:.*]] = mpc.concat %[[P00]], %[[P01]], %[[P10]], %[[P11]] {axis = 1 : i64} : {{.*}} -> tensor<1x12x3x3xf32>
// CHECK: %[[SPLIT:.*]] = mpc.reshape %[[STACK]], %{{.*}} -> tensor<1x2x2x3x3x3xf32>
// CHECK: %[[SPREAD:.*]] = mpc.transpose %[[SPLIT]] {perm = array<i64: 0, 3, 4, 1, 5, 2>} : (tensor<1x2x2x3x3x3xf32>) -> tensor<1x3x3x2x3x2xf32>
// CHECK: %[[Y:.*]] = mpc.reshape %[[SPREAD]], %{{.*}} -> tensor<1x3x6x6xf32>
// CHECK: %[[B:.*]] = mpc.reshape %arg2, %{{.*}} -> tensor<3x1x1xf32>
// CHECK: %[[OUT:.*]] = mpc.add %[[Y]], %[[B]]
// CHECK-NEXT: return %[[OUT]]
// CHECK-NOT: mpc.conv_transpose
func.func @conv_transpose(%x: tensor<1x2x3x3xf32>, %w: tensor<2x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x3x6x6xf32> {
  %y = mpc.conv_transpose %x, %w, %b {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>} : (tensor<1x2x3x3xf32>, tensor<2x3x3x3xf32>, tensor<3xf32>) -> tensor<1x3x6x6xf32>
  return %y : tensor<1x3x6x6xf32>
}

// Pads wider than the kernel's reach crop the convolution's output.
// CHECK-LABEL: func.func @conv_transpose_wide_pads
// CHECK: %[[Y:.*]] = mpc.conv %arg0, %{{.*}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x5x5xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
// CHECK: mpc.slice %[[Y]] {axes = array<i64: 2, 3>, ends = array<i64: 3, 3>, starts = array<i64: 1, 1>, steps = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
func.func @conv_transpose_wide_pads(%x: tensor<1x1x5x5xf32>, %w: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %y = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x1x5x5xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// A 1-d ConvTranspose is lifted, then decomposed: two phases (the even
// and odd outputs, taps 1, 3 and 0, 2 of the kernel) of 6 outputs each.
// CHECK-LABEL: func.func @conv_transpose1d
// CHECK: mpc.conv %{{.*}} {{{.*}}kernel_shape = array<i64: 1, 2>, pads = array<i64: 0, 1, 0, 0>{{.*}} -> tensor<1x3x1x6xf32>
// CHECK: mpc.conv %{{.*}} {{{.*}}kernel_shape = array<i64: 1, 2>, pads = array<i64: 0, 0, 0, 1>{{.*}} -> tensor<1x3x1x6xf32>
// CHECK: mpc.transpose %{{.*}} {perm = array<i64: 0, 3, 4, 1, 5, 2>} : (tensor<1x1x2x3x1x6xf32>) -> tensor<1x3x1x1x6x2xf32>
// CHECK: mpc.reshape %{{.*}} -> tensor<1x3x1x12xf32>
// CHECK: mpc.squeeze %{{.*}} {axes = array<i64: 2>} : (tensor<1x3x1x12xf32>) -> tensor<1x3x12xf32>
func.func @conv_transpose1d(%x: tensor<1x2x6xf32>, %w: tensor<2x3x4xf32>) -> tensor<1x3x12xf32> {
  %y = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 4>, strides = array<i64: 2>, pads = array<i64: 1, 2>, dilations = array<i64: 1>, output_padding = array<i64: 1>} : (tensor<1x2x6xf32>, tensor<2x3x4xf32>) -> tensor<1x3x12xf32>
  return %y : tensor<1x3x12xf32>
}

// A 3-d ConvTranspose (strides 2, 1, 2) is four phases (depth and width
// parity), each a 3-d convolution by the taps it meets, which is made one
// 2-d convolution over gathered depth windows: no 5-d conv left. The
// phases interleave by one 8-d transpose.
// CHECK-LABEL: func.func @conv_transpose3d
// CHECK: mpc.slice %{{.*}} {axes = array<i64: 2, 3, 4>, ends = array<i64: 2, 2, 2>, starts = array<i64: 1, 0, 1>, steps = array<i64: 2, 1, 2>} : (tensor<2x1x2x2x2xf32>) -> tensor<2x1x1x2x1xf32>
// CHECK: mpc.conv %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 0>, strides = array<i64: 1, 1>} : (tensor<2x1x3x2xf32>, tensor<2x1x2x1xf32>) -> tensor<2x2x4x2xf32>
// CHECK-COUNT-3: mpc.conv %{{.*}} -> tensor<2x2x4x2xf32>
// CHECK: mpc.concat %{{.*}} {axis = 1 : i64} : {{.*}} -> tensor<1x8x2x4x2xf32>
// CHECK: mpc.transpose %{{.*}} {perm = array<i64: 0, 4, 5, 1, 6, 2, 7, 3>} : (tensor<1x2x1x2x2x2x4x2xf32>) -> tensor<1x2x2x2x4x1x2x2xf32>
// CHECK: mpc.reshape %{{.*}} -> tensor<1x2x4x4x4xf32>
// CHECK-NOT: mpc.conv_transpose
func.func @conv_transpose3d(%x: tensor<1x1x2x3x2xf32>, %w: tensor<1x2x2x2x2xf32>) -> tensor<1x2x4x4x4xf32> {
  %y = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 2, 2, 2>, strides = array<i64: 2, 1, 2>, pads = array<i64: 0, 0, 0, 0, 0, 0>, dilations = array<i64: 1, 1, 1>, output_padding = array<i64: 0, 0, 0>} : (tensor<1x1x2x3x2xf32>, tensor<1x2x2x2x2xf32>) -> tensor<1x2x4x4x4xf32>
  return %y : tensor<1x2x4x4x4xf32>
}

// Nearest: one gather per resized axis; the dynamic batch (scale 1) is
// left alone.
// CHECK-LABEL: func.func @resize_nearest
// CHECK-DAG: %[[COLS:.*]] = mpc.constant dense<[0, 0, 1, 1, 2, 2, 3, 3]> : tensor<8xi64>
// CHECK-DAG: %[[ROWS:.*]] = mpc.constant dense<[0, 0, 1, 1, 2, 2]> : tensor<6xi64>
// CHECK: %[[H:.*]] = mpc.gather %arg0, %[[ROWS]] {axis = 2 : i64} : (tensor<?x2x3x4xf32>, tensor<6xi64>) -> tensor<?x2x6x4xf32>
// CHECK: %[[HW:.*]] = mpc.gather %[[H]], %[[COLS]] {axis = 3 : i64} : (tensor<?x2x6x4xf32>, tensor<8xi64>) -> tensor<?x2x6x8xf32>
// CHECK-NEXT: return %[[HW]]
func.func @resize_nearest(%x: tensor<?x2x3x4xf32>) -> tensor<?x2x6x8xf32> {
  %y = mpc.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 2.0>, sizes = array<i64: -1, 2, 6, 8>, mode = #mpc<resize_mode nearest>, coordinate_transform = #mpc<coordinate_transform asymmetric>, nearest_mode = #mpc<nearest_mode floor>} : (tensor<?x2x3x4xf32>) -> tensor<?x2x6x8xf32>
  return %y : tensor<?x2x6x8xf32>
}

// Linear, half_pixel, 3 -> 6: output o reads (o + 0.5) / 2 - 0.5, edge
// clamped, so taps [0,0,0,1,1,2] x [.25,.75,...] + [0,1,1,2,2,2] x
// [.75,.25,...].
// CHECK-LABEL: func.func @resize_linear
// CHECK-DAG: %[[W1:.*]] = mpc.constant dense<[7.500000e-01, 2.500000e-01, 7.500000e-01, 2.500000e-01, 7.500000e-01, 2.500000e-01]> : tensor<6xf32>
// CHECK-DAG: %[[I1:.*]] = mpc.constant dense<[0, 1, 1, 2, 2, 2]> : tensor<6xi64>
// CHECK-DAG: %[[W0:.*]] = mpc.constant dense<[2.500000e-01, 7.500000e-01, 2.500000e-01, 7.500000e-01, 2.500000e-01, 7.500000e-01]> : tensor<6xf32>
// CHECK-DAG: %[[I0:.*]] = mpc.constant dense<[0, 0, 0, 1, 1, 2]> : tensor<6xi64>
// CHECK: %[[G0:.*]] = mpc.gather %arg0, %[[I0]] {axis = 3 : i64}
// CHECK: %[[P0:.*]] = mpc.mul %[[G0]], %[[W0]]
// CHECK: %[[G1:.*]] = mpc.gather %arg0, %[[I1]] {axis = 3 : i64}
// CHECK: %[[P1:.*]] = mpc.mul %[[G1]], %[[W1]]
// CHECK: %[[S:.*]] = mpc.add %[[P0]], %[[P1]]
// CHECK-NEXT: return %[[S]]
func.func @resize_linear(%x: tensor<1x1x2x3xf32>) -> tensor<1x1x2x6xf32> {
  %y = mpc.resize %x {scales = array<f32: 1.0, 1.0, 1.0, 2.0>, sizes = array<i64: 1, 1, 2, 6>, mode = #mpc<resize_mode linear>} : (tensor<1x1x2x3xf32>) -> tensor<1x1x2x6xf32>
  return %y : tensor<1x1x2x6xf32>
}

// Cubic: four taps per output; the weights of [N, C, H, W]'s axis 2
// broadcast over W.
// CHECK-LABEL: func.func @resize_cubic
// CHECK-COUNT-4: mpc.gather %arg0, %{{.*}} {axis = 2 : i64} : (tensor<1x1x3x2xf32>, tensor<6xi64>) -> tensor<1x1x6x2xf32>
// CHECK-NOT: mpc.resize
func.func @resize_cubic(%x: tensor<1x1x3x2xf32>) -> tensor<1x1x6x2xf32> {
  %y = mpc.resize %x {scales = array<f32: 1.0, 1.0, 2.0, 1.0>, sizes = array<i64: 1, 1, 6, 2>, mode = #mpc<resize_mode cubic>} : (tensor<1x1x3x2xf32>) -> tensor<1x1x6x2xf32>
  return %y : tensor<1x1x6x2xf32>
}

// A 3-d convolution (2 groups, depth stride 2, pads 1): the depth padded,
// windows (o, k) at depth 2o + k gathered from [N, D', G, C/G, H, W], the
// taps joined with each group's channels and the output depth folded into
// the batch: one 2-d convolution [6, 12, 6, 6] x [6, 6, 3, 3].
// CHECK-LABEL: func.func @conv3d
// CHECK-DAG: %[[WINDOWS:.*]] = mpc.constant dense<{{\[}}[0, 1, 2], [2, 3, 4], [4, 5, 6]]> : tensor<3x3xi64>
// CHECK: mpc.pad %arg0 {pads = array<i64: 0, 0, 1, 0, 0, 0, 0, 1, 0, 0>} : (tensor<2x4x5x6x6xf32>) -> tensor<2x4x7x6x6xf32>
// CHECK: %[[GATHERED:.*]] = mpc.gather %{{.*}}, %[[WINDOWS]] {axis = 1 : i64} : (tensor<2x7x2x2x6x6xf32>, tensor<3x3xi64>) -> tensor<2x3x3x2x2x6x6xf32>
// CHECK: mpc.transpose %[[GATHERED]] {perm = array<i64: 0, 1, 3, 2, 4, 5, 6>}
// CHECK: %[[Y:.*]] = mpc.conv %{{.*}}, %{{.*}}, %arg2 {dilations = array<i64: 1, 1>, group = 2 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<6x12x6x6xf32>, tensor<6x6x3x3xf32>, tensor<6xf32>) -> tensor<6x6x6x6xf32>
// CHECK: %[[UNFOLDED:.*]] = mpc.reshape %[[Y]], %{{.*}} -> tensor<2x3x6x6x6xf32>
// CHECK: mpc.transpose %[[UNFOLDED]] {perm = array<i64: 0, 2, 1, 3, 4>} : (tensor<2x3x6x6x6xf32>) -> tensor<2x6x3x6x6xf32>
func.func @conv3d(%x: tensor<2x4x5x6x6xf32>, %w: tensor<6x2x3x3x3xf32>, %b: tensor<6xf32>) -> tensor<2x6x3x6x6xf32> {
  %y = mpc.conv %x, %w, %b {kernel_shape = array<i64: 3, 3, 3>, strides = array<i64: 2, 1, 1>, pads = array<i64: 1, 1, 1, 1, 1, 1>, dilations = array<i64: 1, 1, 1>, group = 2 : i64} : (tensor<2x4x5x6x6xf32>, tensor<6x2x3x3x3xf32>, tensor<6xf32>) -> tensor<2x6x3x6x6xf32>
  return %y : tensor<2x6x3x6x6xf32>
}

// Tile: a unit dim before each repeated dim, broadcast to the repeats,
// and a reshape that merges each (repeat, dim) pair; dims repeated once
// get no unit dim, and a tile of all ones is its input.
// CHECK-LABEL: func.func @tile
// CHECK-DAG: %[[MERGED:.*]] = mpc.constant dense<[4, 3, 10]> : tensor<3xi64>
// CHECK-DAG: %[[BROADCAST:.*]] = mpc.constant dense<[2, 2, 3, 2, 5]> : tensor<5xi64>
// CHECK: %[[LIFTED:.*]] = mpc.unsqueeze %arg0 {axes = array<i64: 0, 3>} : (tensor<2x3x5xf32>) -> tensor<1x2x3x1x5xf32>
// CHECK: %[[COPIES:.*]] = mpc.expand %[[LIFTED]], %[[BROADCAST]] : (tensor<1x2x3x1x5xf32>, tensor<5xi64>) -> tensor<2x2x3x2x5xf32>
// CHECK: %[[Y:.*]] = mpc.reshape %[[COPIES]], %[[MERGED]] : (tensor<2x2x3x2x5xf32>, tensor<3xi64>) -> tensor<4x3x10xf32>
// CHECK: return %[[Y]], %arg0
func.func @tile(%x: tensor<2x3x5xf32>) -> (tensor<4x3x10xf32>, tensor<2x3x5xf32>) {
  %y = mpc.tile %x {repeats = array<i64: 2, 1, 2>} : (tensor<2x3x5xf32>) -> tensor<4x3x10xf32>
  %z = mpc.tile %x {repeats = array<i64: 1, 1, 1>} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %y, %z : tensor<4x3x10xf32>, tensor<2x3x5xf32>
}

// MatMul's 1-d operands: a row matrix on the left, a column matrix on the
// right, the unit dims squeezed from the product.
// CHECK-LABEL: func.func @matmul_vectors
// CHECK: %[[ROW:.*]] = mpc.unsqueeze %arg0 {axes = array<i64: 0>} : (tensor<5xf32>) -> tensor<1x5xf32>
// CHECK: %[[P:.*]] = mpc.matmul %[[ROW]], %arg1 : (tensor<1x5xf32>, tensor<3x5x7xf32>) -> tensor<3x1x7xf32>
// CHECK: %[[R:.*]] = mpc.squeeze %[[P]] {axes = array<i64: 1>} : (tensor<3x1x7xf32>) -> tensor<3x7xf32>
// CHECK: %[[COL:.*]] = mpc.unsqueeze %arg2 {axes = array<i64: 1>} : (tensor<7xf32>) -> tensor<7x1xf32>
// CHECK: %[[Q:.*]] = mpc.matmul %[[R]], %[[COL]] : (tensor<3x7xf32>, tensor<7x1xf32>) -> tensor<3x1xf32>
// CHECK: mpc.squeeze %[[Q]] {axes = array<i64: 1>} : (tensor<3x1xf32>) -> tensor<3xf32>
// CHECK: %[[A:.*]] = mpc.unsqueeze %arg2 {axes = array<i64: 0>} : (tensor<7xf32>) -> tensor<1x7xf32>
// CHECK: %[[B:.*]] = mpc.unsqueeze %arg2 {axes = array<i64: 1>} : (tensor<7xf32>) -> tensor<7x1xf32>
// CHECK: %[[D:.*]] = mpc.matmul %[[A]], %[[B]] : (tensor<1x7xf32>, tensor<7x1xf32>) -> tensor<1x1xf32>
// CHECK: mpc.squeeze %[[D]] {axes = array<i64: 0, 1>} : (tensor<1x1xf32>) -> tensor<f32>
func.func @matmul_vectors(%v: tensor<5xf32>, %m: tensor<3x5x7xf32>, %w: tensor<7xf32>) -> (tensor<3xf32>, tensor<f32>) {
  %r = mpc.matmul %v, %m : (tensor<5xf32>, tensor<3x5x7xf32>) -> tensor<3x7xf32>
  %y = mpc.matmul %r, %w : (tensor<3x7xf32>, tensor<7xf32>) -> tensor<3xf32>
  %d = mpc.matmul %w, %w : (tensor<7xf32>, tensor<7xf32>) -> tensor<f32>
  return %y, %d : tensor<3xf32>, tensor<f32>
}

// 3-d pooling: a 2-d pooling of each depth plane ([N, C*D, H, W]), then
// one over the depth with a unit second window dim ([N, C, D, OH*OW]).
// CHECK-LABEL: func.func @pools3d
// CHECK: %[[PLANES:.*]] = mpc.reshape %arg0, %{{.*}} : (tensor<1x2x5x6x7xf32>, tensor<4xi64>) -> tensor<1x10x6x7xf32>
// CHECK: %[[HW:.*]] = mpc.max_pool %[[PLANES]] {ceil_mode, dilations = array<i64: 1, 2>, kernel_shape = array<i64: 3, 2>, pads = array<i64: 0, 1, 1, 1>, strides = array<i64: 2, 1>} : (tensor<1x10x6x7xf32>) -> tensor<1x10x3x7xf32>
// CHECK: %[[DEPTH:.*]] = mpc.reshape %[[HW]], %{{.*}} : (tensor<1x10x3x7xf32>, tensor<4xi64>) -> tensor<1x2x5x21xf32>
// CHECK: %[[D:.*]] = mpc.max_pool %[[DEPTH]] {ceil_mode, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 1>, pads = array<i64: 1, 0, 1, 0>, strides = array<i64: 2, 1>} : (tensor<1x2x5x21xf32>) -> tensor<1x2x3x21xf32>
// CHECK: mpc.reshape %[[D]], %{{.*}} : (tensor<1x2x3x21xf32>, tensor<5xi64>) -> tensor<1x2x3x3x7xf32>
// CHECK: mpc.average_pool %{{.*}} {count_include_pad, kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 0, 0, 1>, strides = array<i64: 2, 2>} : (tensor<1x10x6x7xf32>) -> tensor<1x10x3x4xf32>
// CHECK: mpc.average_pool %{{.*}} {count_include_pad, kernel_shape = array<i64: 3, 1>, pads = array<i64: 0, 0, 1, 0>, strides = array<i64: 2, 1>} : (tensor<1x2x5x12xf32>) -> tensor<1x2x2x12xf32>
func.func @pools3d(%x: tensor<1x2x5x6x7xf32>) -> (tensor<1x2x3x3x7xf32>, tensor<1x2x2x3x4xf32>) {
  %m = mpc.max_pool %x {kernel_shape = array<i64: 2, 3, 2>, strides = array<i64: 2, 2, 1>, pads = array<i64: 1, 0, 1, 1, 1, 1>, dilations = array<i64: 1, 1, 2>, ceil_mode} : (tensor<1x2x5x6x7xf32>) -> tensor<1x2x3x3x7xf32>
  %a = mpc.average_pool %x {kernel_shape = array<i64: 3, 2, 2>, strides = array<i64: 2, 2, 2>, pads = array<i64: 0, 1, 0, 1, 0, 1>, count_include_pad} : (tensor<1x2x5x6x7xf32>) -> tensor<1x2x2x3x4xf32>
  return %m, %a : tensor<1x2x3x3x7xf32>, tensor<1x2x2x3x4xf32>
}

// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-conv-to-im2col))' | FileCheck %s
// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-conv-to-im2col{merge-batch=false}))' | FileCheck %s --check-prefix=PERIMAGE

// NCHW, a batch: the filter becomes a 4 x 27 matrix, the images one
// 27 x 72 im2col matrix (27 = 3 channels x 3 x 3 taps, 72 = 2 images x
// 6 x 6 output pixels), and the convolution one matmul over the 27 into
// [4, 72], with the accumulator transposed from NCHW to [F, N, OH, OW]
// and back.
// The fields are gathered over six loops (c, kh, kw, b, oh, ow), affine
// in each: no division or remainder per element.
// CHECK-DAG: #[[FIELDS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d1 + d4, d2 + d5)>
// CHECK-LABEL: func.func @conv_nchw
// CHECK: %[[FILTER:.+]] = tensor.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<4x27xf32>
// CHECK: %[[FIELDS6:.*]] = linalg.generic {indexing_maps = [#[[FIELDS]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<2x3x8x8xf32>) outs(%{{.*}} : tensor<3x3x3x2x6x6xf32>)
// CHECK: %[[COLS:.+]] = tensor.collapse_shape %[[FIELDS6]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<3x3x3x2x6x6xf32> into tensor<27x72xf32>
// CHECK: %[[FN:.+]] = linalg.transpose ins(%arg2 : tensor<2x4x6x6xf32>) outs(%{{.+}} : tensor<4x2x6x6xf32>) permutation = [1, 0, 2, 3]
// CHECK: %[[ACC:.+]] = tensor.collapse_shape %[[FN]] {{\[}}[0], [1, 2, 3]] : tensor<4x2x6x6xf32> into tensor<4x72xf32>
// CHECK: %[[MM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[FILTER]], %[[COLS]] : tensor<4x27xf32>, tensor<27x72xf32>) outs(%[[ACC]] : tensor<4x72xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[E:.+]] = tensor.expand_shape %[[MM]] {{.*}} into tensor<4x2x6x6xf32>
// CHECK: %[[Y:.+]] = linalg.transpose ins(%[[E]] : tensor<4x2x6x6xf32>) outs(%{{.+}} : tensor<2x4x6x6xf32>) permutation = [1, 0, 2, 3]
// CHECK: return %[[Y]]
// Per image (the GPU's form): upstream's [N, 27, 36] fields and a
// batched contraction.
// PERIMAGE-LABEL: func.func @conv_nchw
// PERIMAGE: %[[COLS:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<2x3x8x8xf32>) outs(%{{.*}} : tensor<2x27x36xf32>)
// PERIMAGE: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%{{.*}}, %[[COLS]] : tensor<4x27xf32>, tensor<2x27x36xf32>)
// PERIMAGE-NOT: linalg.transpose
func.func @conv_nchw(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %o: tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%o : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  return %r : tensor<2x4x6x6xf32>
}

// -----

// Dynamic shapes keep the convolution (the loop lowering handles it).
// CHECK-LABEL: func.func @conv_dynamic
// CHECK: linalg.conv_2d_nchw_fchw
func.func @conv_dynamic(%x: tensor<?x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %o: tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%o : tensor<?x4x6x6xf32>) -> tensor<?x4x6x6xf32>
  return %r : tensor<?x4x6x6xf32>
}

// -----

// Dilated NCHW (the weight gradient of a strided convolution is one):
// upstream's rewrite takes no dilations, mpc's own keeps the same two ops
// with the taps 2 apart in the copy's map; bf16 operands widen to the f32
// accumulator in the contraction.
// CHECK-DAG: #[[COLS_MAP:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2 * 2, d5 + d3 * 2)>
// CHECK-LABEL: func.func @conv_nchw_dilated
// CHECK: %[[FILTER:.+]] = tensor.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : tensor<8x4x3x3xbf16> into tensor<8x36xbf16>
// CHECK: %[[OUT:.+]] = tensor.collapse_shape %arg2 {{\[}}[0], [1], [2, 3]] : tensor<1x8x5x5xf32> into tensor<1x8x25xf32>
// CHECK: %[[FIELDS6:.+]] = linalg.generic {indexing_maps = [#[[COLS_MAP]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<1x4x9x9xbf16>) outs(%{{.+}} : tensor<1x4x3x3x5x5xbf16>)
// CHECK: %[[COLS:.+]] = tensor.collapse_shape %[[FIELDS6]] {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<1x4x3x3x5x5xbf16> into tensor<1x36x25xbf16>
// CHECK: %[[MM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%[[FILTER]], %[[COLS]] : tensor<8x36xbf16>, tensor<1x36x25xbf16>) outs(%[[OUT]] : tensor<1x8x25xf32>)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.expand_shape %[[MM]] {{.*}} into tensor<1x8x5x5xf32>
func.func @conv_nchw_dilated(%x: tensor<1x4x9x9xbf16>, %w: tensor<8x4x3x3xbf16>, %o: tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x4x9x9xbf16>, tensor<8x4x3x3xbf16>) outs(%o : tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32>
  return %r : tensor<1x8x5x5xf32>
}

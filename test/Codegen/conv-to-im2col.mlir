// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-conv-to-im2col))' | FileCheck %s
// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-conv-to-im2col{merge-batch=false}))' | FileCheck %s --check-prefix=PERIMAGE
// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-conv-to-im2col{shifted-windows=true}))' | FileCheck %s --check-prefix=SHIFTED

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
// Rows of 6 outputs have no pitch of at most 1.2 x 6 that makes 6 rows a
// multiple of 16: shifted windows keep im2col.
// SHIFTED-LABEL: func.func @conv_nchw
// SHIFTED: outs(%{{.*}} : tensor<3x3x3x2x6x6xf32>)
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

// -----

// Stride 1 with rows of 14: computed over rows of the padded width 16
// (14 x 16 = 224 = 7 register tiles of 32) as one contraction over
// (c, kh, kw) reading the flattened image at j + 16 kh + kw. The padded
// image (the Conv lowering's zero fill with the image copied inside) is
// rebuilt with a 17th row, which the last row's extra columns read; the
// zero accumulator is refilled at [2, 4, 14, 16] and the result is its
// first 14 columns.
// SHIFTED-DAG: #[[FILTER:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d3, d4, d5)>
// SHIFTED-DAG: #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2 + d4 * 16 + d5)>
// SHIFTED-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
// SHIFTED-LABEL: func.func @conv_shifted_padded
// SHIFTED: %[[WIDE:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x17x16xf32>)
// SHIFTED: %[[SLOT:.+]] = tensor.extract_slice %[[WIDE]][0, 0, 1, 1] [2, 3, 14, 14] [1, 1, 1, 1]
// SHIFTED: %[[COPY:.+]] = linalg.copy ins(%arg0 : tensor<2x3x14x14xf32>) outs(%[[SLOT]] : tensor<2x3x14x14xf32>)
// SHIFTED: %[[IMAGE:.+]] = tensor.insert_slice %[[COPY]] into %[[WIDE]][0, 0, 1, 1] [2, 3, 14, 14] [1, 1, 1, 1]
// SHIFTED: %[[FLAT:.+]] = tensor.collapse_shape %[[IMAGE]] {{\[}}[0], [1], [2, 3]] : tensor<2x3x17x16xf32> into tensor<2x3x272xf32>
// SHIFTED: %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x4x14x16xf32>)
// SHIFTED: %[[FLATACC:.+]] = tensor.collapse_shape %[[ACC]] {{\[}}[0], [1], [2, 3]] : tensor<2x4x14x16xf32> into tensor<2x4x224xf32>
// SHIFTED: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[FILTER]], #[[WINDOW]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%arg1, %[[FLAT]] : tensor<4x3x3x3xf32>, tensor<2x3x272xf32>) outs(%[[FLATACC]] : tensor<2x4x224xf32>)
// SHIFTED: arith.mulf
// SHIFTED: arith.addf
// SHIFTED: %[[ROWS:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0], [1], [2, 3]] output_shape [2, 4, 14, 16] : tensor<2x4x224xf32> into tensor<2x4x14x16xf32>
// SHIFTED: %[[RESULT:.+]] = tensor.extract_slice %[[ROWS]][0, 0, 0, 0] [2, 4, 14, 14] [1, 1, 1, 1] : tensor<2x4x14x16xf32> to tensor<2x4x14x14xf32>
// SHIFTED: return %[[RESULT]]
func.func @conv_shifted_padded(%x: tensor<2x3x14x14xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x14x14xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<2x3x16x16xf32>
  %filled = linalg.fill ins(%zero : f32) outs(%empty : tensor<2x3x16x16xf32>) -> tensor<2x3x16x16xf32>
  %slot = tensor.extract_slice %filled[0, 0, 1, 1] [2, 3, 14, 14] [1, 1, 1, 1] : tensor<2x3x16x16xf32> to tensor<2x3x14x14xf32>
  %copied = linalg.copy ins(%x : tensor<2x3x14x14xf32>) outs(%slot : tensor<2x3x14x14xf32>) -> tensor<2x3x14x14xf32>
  %padded = tensor.insert_slice %copied into %filled[0, 0, 1, 1] [2, 3, 14, 14] [1, 1, 1, 1] : tensor<2x3x14x14xf32> into tensor<2x3x16x16xf32>
  %acc_empty = tensor.empty() : tensor<2x4x14x14xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc_empty : tensor<2x4x14x14xf32>) -> tensor<2x4x14x14xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%padded, %w : tensor<2x3x16x16xf32>, tensor<4x3x3x3xf32>) outs(%acc : tensor<2x4x14x14xf32>) -> tensor<2x4x14x14xf32>
  return %r : tensor<2x4x14x14xf32>
}

// -----

// A 1x1 bf16 convolution over rows of 16: the image is read as it is (no
// extra columns, no tap past the last row), the accumulator argument too,
// and the operands widen to f32 in the body. Its result is all 16 columns.
// SHIFTED-DAG: #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2 + d4 * 16 + d5)>
// SHIFTED-LABEL: func.func @conv_shifted_1x1
// SHIFTED-NOT: linalg.fill
// SHIFTED: %[[FLAT:.+]] = tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<1x8x6x16xbf16> into tensor<1x8x96xbf16>
// SHIFTED: %[[FLATACC:.+]] = tensor.collapse_shape %arg2 {{\[}}[0], [1], [2, 3]] : tensor<1x5x6x16xf32> into tensor<1x5x96xf32>
// SHIFTED: linalg.generic {indexing_maps = [#{{.+}}, #[[WINDOW]], #{{.+}}], {{.*}} ins(%arg1, %[[FLAT]] : tensor<5x8x1x1xbf16>, tensor<1x8x96xbf16>) outs(%[[FLATACC]] : tensor<1x5x96xf32>)
// SHIFTED: arith.extf %{{.+}} : bf16 to f32
// SHIFTED: arith.extf %{{.+}} : bf16 to f32
// SHIFTED: tensor.extract_slice %{{.+}}[0, 0, 0, 0] [1, 5, 6, 16] [1, 1, 1, 1]
func.func @conv_shifted_1x1(%x: tensor<1x8x6x16xbf16>, %w: tensor<5x8x1x1xbf16>, %o: tensor<1x5x6x16xf32>) -> tensor<1x5x6x16xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x6x16xbf16>, tensor<5x8x1x1xbf16>) outs(%o : tensor<1x5x6x16xf32>) -> tensor<1x5x6x16xf32>
  return %r : tensor<1x5x6x16xf32>
}

// -----

// Stride 2 is not a shift of one flattened row: im2col.
// SHIFTED-LABEL: func.func @conv_shifted_strided
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
func.func @conv_shifted_strided(%x: tensor<2x3x33x33xf32>, %w: tensor<4x3x3x3xf32>, %o: tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<2x3x33x33xf32>, tensor<4x3x3x3xf32>) outs(%o : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  return %r : tensor<2x4x16x16xf32>
}

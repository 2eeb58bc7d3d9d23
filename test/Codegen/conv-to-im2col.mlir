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
// Six rows of 6 outputs at the image's pitch of 8 are 48 = 3 vectors, a
// third more than the outputs: shifted windows, with a ninth row of zeros
// for the last output's taps and the accumulator argument padded to the
// pitch.
// SHIFTED-LABEL: func.func @conv_nchw
// SHIFTED: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x9x8xf32>)
// SHIFTED: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x4x6x8xf32>)
// SHIFTED: %[[SUM:.+]] = linalg.generic {{.*}} ins(%arg1, %{{.+}} : tensor<4x3x3x3xf32>, tensor<2x3x72xf32>) outs(%{{.+}} : tensor<2x4x48xf32>)
// SHIFTED: tensor.expand_shape %[[SUM]] {{.*}} into tensor<2x4x6x8xf32>
func.func @conv_nchw(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %o: tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%o : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  return %r : tensor<2x4x6x6xf32>
}

// -----

// Dynamic shapes keep the convolution (the loop lowering handles it).
// CHECK-LABEL: func.func @conv_dynamic
// PERIMAGE-LABEL: func.func @conv_dynamic
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
// zero accumulator is refilled as [2, 4, 224] and the result is its first
// 14 columns.
// SHIFTED-DAG: #[[FILTER:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d3, d4, d5)>
// SHIFTED-DAG: #[[WINDOW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2 + d4 * 16 + d5)>
// SHIFTED-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
// SHIFTED-LABEL: func.func @conv_shifted_padded
// SHIFTED: %[[WIDE:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x17x16xf32>)
// SHIFTED: %[[SLOT:.+]] = tensor.extract_slice %[[WIDE]][0, 0, 1, 1] [2, 3, 14, 14] [1, 1, 1, 1]
// SHIFTED: %[[COPY:.+]] = linalg.copy ins(%arg0 : tensor<2x3x14x14xf32>) outs(%[[SLOT]] : tensor<2x3x14x14xf32>)
// SHIFTED: %[[IMAGE:.+]] = tensor.insert_slice %[[COPY]] into %[[WIDE]][0, 0, 1, 1] [2, 3, 14, 14] [1, 1, 1, 1]
// SHIFTED: %[[FLAT:.+]] = tensor.collapse_shape %[[IMAGE]] {{\[}}[0], [1], [2, 3]] : tensor<2x3x17x16xf32> into tensor<2x3x272xf32>
// SHIFTED: %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x4x224xf32>)
// SHIFTED: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[FILTER]], #[[WINDOW]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%arg1, %[[FLAT]] : tensor<4x3x3x3xf32>, tensor<2x3x272xf32>) outs(%[[ACC]] : tensor<2x4x224xf32>)
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

// -----

// Seven rows of 7 outputs at the image's pitch of 9 are 63: with a zero
// accumulator, one more output past the last row makes 64 (4 vectors),
// computed and dropped, where im2col would copy the image 9 times. The
// image gets a tenth row for the taps of that extra output.
// SHIFTED-LABEL: func.func @conv_shifted_tail
// SHIFTED: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x10x9xf32>)
// SHIFTED: %[[FLAT:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<2x3x10x9xf32> into tensor<2x3x90xf32>
// SHIFTED: %[[ACC:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x4x64xf32>)
// SHIFTED: %[[SUM:.+]] = linalg.generic {{.*}} ins(%arg1, %[[FLAT]] : tensor<4x3x3x3xf32>, tensor<2x3x90xf32>) outs(%[[ACC]] : tensor<2x4x64xf32>)
// SHIFTED: %[[ROWS:.+]] = tensor.extract_slice %[[SUM]][0, 0, 0] [2, 4, 63] [1, 1, 1]
// SHIFTED: %[[WIDE:.+]] = tensor.expand_shape %[[ROWS]] {{\[}}[0], [1], [2, 3]] output_shape [2, 4, 7, 9]
// SHIFTED: %[[RESULT:.+]] = tensor.extract_slice %[[WIDE]][0, 0, 0, 0] [2, 4, 7, 7] [1, 1, 1, 1]
// SHIFTED: return %[[RESULT]]
func.func @conv_shifted_tail(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<2x4x7x7xf32> {
  %zero = arith.constant 0.0 : f32
  %acc_empty = tensor.empty() : tensor<2x4x7x7xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc_empty : tensor<2x4x7x7xf32>) -> tensor<2x4x7x7xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%acc : tensor<2x4x7x7xf32>) -> tensor<2x4x7x7xf32>
  return %r : tensor<2x4x7x7xf32>
}

// -----

// Rows of 5 outputs with an accumulator argument (no outputs past the last
// row): a whole number of vectors needs a pitch of 16, over three times
// the outputs. im2col.
// SHIFTED-LABEL: func.func @conv_shifted_no_pitch
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]{{.*}} outs(%{{.+}} : tensor<3x3x3x2x5x5xf32>)
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
func.func @conv_shifted_no_pitch(%x: tensor<2x3x7x7xf32>, %w: tensor<4x3x3x3xf32>, %o: tensor<2x4x5x5xf32>) -> tensor<2x4x5x5xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<2x3x7x7xf32>, tensor<4x3x3x3xf32>) outs(%o : tensor<2x4x5x5xf32>) -> tensor<2x4x5x5xf32>
  return %r : tensor<2x4x5x5xf32>
}

// -----

// A weight gradient as the gradient rule builds it: the padded image and
// the output gradient with batch and channels swapped, 3 x 3 taps, an
// 8 x 8 kernel. Windowed sums: both swaps are read through (maps (k, b, p)
// and (k, f, p)); the image x is padded at pitch 10 with an 11th row, the
// output gradient widened with zeros to [2, 4, 8, 10], so each sum runs
// over 80 = 5 vectors; the nine taps read the image at offsets
// y * 10 + x and are the nine results of one generic, bf16 widened to f32
// with contractable FMAs, each into a zero accumulator of its own; they
// are stacked as [9, 3, 4] and transposed into [3, 4, 3, 3].
// SHIFTED-DAG: #[[KERNEL:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d1, d3)>
// SHIFTED-DAG: #[[IMAGE:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d0, d3)>
// SHIFTED-DAG: #[[TAP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// SHIFTED-LABEL: func.func @weight_gradient_windowed
// SHIFTED: %[[PADX:.+]] = linalg.fill ins(%{{.+}} : bf16) outs(%{{.+}} : tensor<2x3x11x10xbf16>)
// SHIFTED: %[[SLOTX:.+]] = tensor.extract_slice %[[PADX]][0, 0, 1, 1] [2, 3, 8, 8]
// SHIFTED: linalg.copy ins(%arg0 : tensor<2x3x8x8xbf16>) outs(%[[SLOTX]]
// SHIFTED: %[[FLATX:.+]] = tensor.collapse_shape %{{.+}} : tensor<2x3x11x10xbf16> into tensor<2x3x110xbf16>
// SHIFTED: %[[PADW:.+]] = linalg.fill ins(%{{.+}} : bf16) outs(%{{.+}} : tensor<2x4x8x10xbf16>)
// SHIFTED: linalg.copy ins(%arg1 : tensor<2x4x8x8xbf16>)
// SHIFTED: %[[FLATW:.+]] = tensor.collapse_shape %{{.+}} : tensor<2x4x8x10xbf16> into tensor<2x4x80xbf16>
// SHIFTED: %[[STACK:.+]] = tensor.empty() : tensor<9x3x4xf32>
// SHIFTED: %[[TAP0:.+]] = tensor.extract_slice %[[FLATX]][0, 0, 0] [2, 3, 80] [1, 1, 1]
// SHIFTED: %[[ACC0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<3x4xf32>)
// SHIFTED: tensor.extract_slice %[[FLATX]][0, 0, 1] [2, 3, 80]
// SHIFTED: tensor.extract_slice %[[FLATX]][0, 0, 12] [2, 3, 80]
// SHIFTED: %[[TAP8:.+]] = tensor.extract_slice %[[FLATX]][0, 0, 22] [2, 3, 80] [1, 1, 1]
// SHIFTED: %[[ACC8:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<3x4xf32>)
// SHIFTED: %[[SUMS:.+]]:9 = linalg.generic {indexing_maps = [#[[KERNEL]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[IMAGE]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]], #[[TAP]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[FLATW]], %[[TAP0]], {{.*}}, %[[TAP8]] : {{.*}}) outs(%[[ACC0]], {{.*}}, %[[ACC8]] : {{.*}})
// SHIFTED: %[[W:.+]] = arith.extf %{{.+}} : bf16 to f32
// SHIFTED: %[[X0:.+]] = arith.extf %{{.+}} : bf16 to f32
// SHIFTED: %[[P0:.+]] = arith.mulf %[[W]], %[[X0]] fastmath<contract> : f32
// SHIFTED: arith.addf %[[P0]], %{{.+}} fastmath<contract> : f32
// SHIFTED: tensor.insert_slice %[[SUMS]]#0 into %[[STACK]][0, 0, 0] [1, 3, 4]
// SHIFTED: %[[STACKED:.+]] = tensor.insert_slice %[[SUMS]]#8 into %{{.+}}[8, 0, 0] [1, 3, 4]
// SHIFTED: %[[GRID:.+]] = tensor.expand_shape %[[STACKED]] {{\[}}[0, 1], [2], [3]] output_shape [3, 3, 3, 4]
// SHIFTED: %[[DW:.+]] = linalg.transpose ins(%[[GRID]] : tensor<3x3x3x4xf32>) outs(%{{.+}} : tensor<3x4x3x3xf32>) permutation = [2, 3, 0, 1]
// SHIFTED: return %[[DW]]
func.func @weight_gradient_windowed(%x: tensor<2x3x8x8xbf16>, %dy: tensor<2x4x8x8xbf16>) -> tensor<3x4x3x3xf32> {
  %zero = arith.constant 0.0 : bf16
  %xt_empty = tensor.empty() : tensor<3x2x8x8xbf16>
  %xt = linalg.transpose ins(%x : tensor<2x3x8x8xbf16>) outs(%xt_empty : tensor<3x2x8x8xbf16>) permutation = [1, 0, 2, 3]
  %empty = tensor.empty() : tensor<3x2x10x10xbf16>
  %filled = linalg.fill ins(%zero : bf16) outs(%empty : tensor<3x2x10x10xbf16>) -> tensor<3x2x10x10xbf16>
  %slot = tensor.extract_slice %filled[0, 0, 1, 1] [3, 2, 8, 8] [1, 1, 1, 1] : tensor<3x2x10x10xbf16> to tensor<3x2x8x8xbf16>
  %copied = linalg.copy ins(%xt : tensor<3x2x8x8xbf16>) outs(%slot : tensor<3x2x8x8xbf16>) -> tensor<3x2x8x8xbf16>
  %padded = tensor.insert_slice %copied into %filled[0, 0, 1, 1] [3, 2, 8, 8] [1, 1, 1, 1] : tensor<3x2x8x8xbf16> into tensor<3x2x10x10xbf16>
  %dyt_empty = tensor.empty() : tensor<4x2x8x8xbf16>
  %dyt = linalg.transpose ins(%dy : tensor<2x4x8x8xbf16>) outs(%dyt_empty : tensor<4x2x8x8xbf16>) permutation = [1, 0, 2, 3]
  %fzero = arith.constant 0.0 : f32
  %acc_empty = tensor.empty() : tensor<3x4x3x3xf32>
  %acc = linalg.fill ins(%fzero : f32) outs(%acc_empty : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%padded, %dyt : tensor<3x2x10x10xbf16>, tensor<4x2x8x8xbf16>) outs(%acc : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  return %r : tensor<3x4x3x3xf32>
}

// -----

// A dilated weight gradient (of a stride-2 convolution) does not read its
// taps as contiguous runs: im2col, as before.
// SHIFTED-LABEL: func.func @weight_gradient_dilated
// SHIFTED-NOT: fastmath<contract>
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
func.func @weight_gradient_dilated(%x: tensor<3x2x9x9xf32>, %dy: tensor<4x2x4x4xf32>, %acc: tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %dy : tensor<3x2x9x9xf32>, tensor<4x2x4x4xf32>) outs(%acc : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  return %r : tensor<3x4x3x3xf32>
}

// -----

// A weight gradient over 7 x 7 images: sums over whole vectors would run
// over 80 elements (8 rows at pitch 10) for 49, more than a quarter of
// zeros, which measured slower than im2col's matmul: im2col.
// SHIFTED-LABEL: func.func @weight_gradient_wasteful
// SHIFTED-NOT: fastmath<contract>
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]
// SHIFTED: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]
func.func @weight_gradient_wasteful(%x: tensor<3x2x9x9xf32>, %dy: tensor<4x2x7x7xf32>, %acc: tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %dy : tensor<3x2x9x9xf32>, tensor<4x2x7x7xf32>) outs(%acc : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  return %r : tensor<3x4x3x3xf32>
}

// -----

// Windowed sums into an accumulator that is not a fill (no transposes to
// read through: x [B, K, ..] as it is): each tap starts from a copy of its
// slot of the accumulator, so the result is that accumulator plus the sums.
// SHIFTED-LABEL: func.func @weight_gradient_accumulating
// SHIFTED: %[[SLOT0:.+]] = tensor.extract_slice %arg2[0, 0, 0, 0] [3, 4, 1, 1] [1, 1, 1, 1] : tensor<3x4x3x3xf32> to tensor<3x4xf32>
// SHIFTED: %[[ACC0:.+]] = linalg.copy ins(%[[SLOT0]] : tensor<3x4xf32>)
// SHIFTED: %[[SLOT8:.+]] = tensor.extract_slice %arg2[0, 0, 2, 2] [3, 4, 1, 1]
// SHIFTED: %[[ACC8:.+]] = linalg.copy ins(%[[SLOT8]] : tensor<3x4xf32>)
// SHIFTED: linalg.generic {{.*}} outs(%[[ACC0]], {{.*}}, %[[ACC8]] : {{.*}})
// SHIFTED: linalg.transpose ins(%{{.+}} : tensor<3x3x3x4xf32>) outs(%{{.+}} : tensor<3x4x3x3xf32>) permutation = [2, 3, 0, 1]
func.func @weight_gradient_accumulating(%x: tensor<3x2x16x16xf32>, %dy: tensor<4x2x14x14xf32>, %acc: tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %dy : tensor<3x2x16x16xf32>, tensor<4x2x14x14xf32>) outs(%acc : tensor<3x4x3x3xf32>) -> tensor<3x4x3x3xf32>
  return %r : tensor<3x4x3x3xf32>
}

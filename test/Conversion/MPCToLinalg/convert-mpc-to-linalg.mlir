// RUN: mpc-opt %s --split-input-file --convert-mpc-to-linalg | FileCheck %s

// Elementwise with ONNX broadcasting: the size-1 and missing dims of the
// bias map to constants / are dropped.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @broadcast_add
// CHECK-SAME: (%[[X:.+]]: tensor<?x8xf32>, %[[B:.+]]: tensor<8xf32>)
func.func @broadcast_add(%x: tensor<?x8xf32>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  // CHECK: %[[C0:.+]] = arith.constant 0 : index
  // CHECK: %[[N:.+]] = tensor.dim %[[X]], %[[C0]]
  // CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x8xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[B]] : tensor<?x8xf32>, tensor<8xf32>) outs(%[[E]] : tensor<?x8xf32>)
  // CHECK: arith.addf
  %0 = mpc.add %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// bf16 ops store bf16, evaluate in fp32 and round once.
// CHECK-LABEL: func.func @low_precision_unary
func.func @low_precision_unary(%x: tensor<4xbf16>) -> tensor<4xbf16> {
  // CHECK: linalg.generic
  // CHECK: ^bb0(%[[IN:.+]]: bf16, %{{.+}}: bf16):
  // CHECK-NEXT: %[[W:.+]] = arith.extf %[[IN]] : bf16 to f32
  // CHECK: math.erf
  // CHECK: %[[R:.+]] = arith.truncf %{{.+}} : f32 to bf16
  // CHECK-NEXT: linalg.yield %[[R]] : bf16
  %0 = mpc.gelu %x {precision = #mpc.precision<bf16, bf16, bf16>} : tensor<4xbf16> -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// A bf16 matmul accumulates in fp32 and rounds once; leading dims of an
// N-d lhs fold into rows.
// CHECK-LABEL: func.func @matmul_bf16
// CHECK-SAME: (%[[A:.+]]: tensor<2x5x16xbf16>, %[[W:.+]]: tensor<16x8xbf16>)
func.func @matmul_bf16(%a: tensor<2x5x16xbf16>, %w: tensor<16x8xbf16>) -> tensor<2x5x8xbf16> {
  // CHECK: %[[A2:.+]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1], [2]] : tensor<2x5x16xbf16> into tensor<10x16xbf16>
  // CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
  // CHECK: %[[ACC:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<10x8xf32>)
  // CHECK: %[[P:.+]] = linalg.matmul ins(%[[A2]], %[[W]] : tensor<10x16xbf16>, tensor<16x8xbf16>) outs(%[[ACC]] : tensor<10x8xf32>)
  // CHECK: %[[P3:.+]] = tensor.expand_shape %[[P]] {{\[\[}}0, 1], [2]] output_shape [2, 5, 8] : tensor<10x8xf32> into tensor<2x5x8xf32>
  // CHECK: linalg.generic {{.*}} ins(%[[P3]] : tensor<2x5x8xf32>) outs(%{{.+}} : tensor<2x5x8xbf16>)
  // CHECK: arith.truncf %{{.+}} : f32 to bf16
  %0 = mpc.matmul %a, %w {precision = #mpc.precision<bf16, f32, bf16>} : (tensor<2x5x16xbf16>, tensor<16x8xbf16>) -> tensor<2x5x8xbf16>
  return %0 : tensor<2x5x8xbf16>
}

// -----

// CHECK-LABEL: func.func @batch_matmul
func.func @batch_matmul(%a: tensor<2x3x4x5xf32>, %b: tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32> {
  // CHECK: tensor.collapse_shape {{.*}} into tensor<6x4x5xf32>
  // CHECK: linalg.batch_matmul {{.*}} outs(%{{.+}} : tensor<6x4x6xf32>)
  // CHECK: tensor.expand_shape {{.*}} into tensor<2x3x4x6xf32>
  %0 = mpc.matmul %a, %b : (tensor<2x3x4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
  return %0 : tensor<2x3x4x6xf32>
}

// -----

// Gemm: transposes, then alpha * AB + beta * C in the accumulator type.
// CHECK-LABEL: func.func @gemm
func.func @gemm(%a: tensor<3x4xf32>, %b: tensor<5x3xf32>, %c: tensor<5xf32>) -> tensor<4x5xf32> {
  // CHECK: linalg.transpose ins(%{{.+}} : tensor<3x4xf32>) outs(%{{.+}} : tensor<4x3xf32>) permutation = [1, 0]
  // CHECK: linalg.transpose ins(%{{.+}} : tensor<5x3xf32>) outs(%{{.+}} : tensor<3x5xf32>) permutation = [1, 0]
  // CHECK: linalg.matmul
  // CHECK: linalg.generic
  // CHECK: %[[ALPHA:.+]] = arith.constant 2.000000e+00 : f32
  // CHECK: %[[AB:.+]] = arith.mulf %{{.+}}, %[[ALPHA]] : f32
  // CHECK: %[[BETA:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK: %[[C:.+]] = arith.mulf %{{.+}}, %[[BETA]] : f32
  // CHECK: arith.addf %[[AB]], %[[C]] : f32
  %0 = mpc.gemm %a, %b, %c {alpha = 2.0 : f32, beta = 0.5 : f32, trans_a, trans_b} : (tensor<3x4xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// ReduceMean over dim 1 with keepdims, accumulating bf16 input in fp32.
// CHECK-LABEL: func.func @reduce_mean
func.func @reduce_mean(%x: tensor<2x3x4xbf16>) -> tensor<2x1x4xbf16> {
  // CHECK: linalg.reduce ins(%{{.+}} : tensor<2x3x4xbf16>) outs(%{{.+}} : tensor<2x4xf32>) dimensions = [1]
  // CHECK: arith.extf
  // CHECK: arith.addf
  // CHECK: arith.divf
  // CHECK: arith.truncf
  // CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0, 1], [2]] output_shape [2, 1, 4] : tensor<2x4xbf16> into tensor<2x1x4xbf16>
  %0 = mpc.reduce_mean %x {axes = array<i64: 1>, precision = #mpc.precision<bf16, f32, bf16>} : (tensor<2x3x4xbf16>) -> tensor<2x1x4xbf16>
  return %0 : tensor<2x1x4xbf16>
}

// -----

// CHECK-LABEL: func.func @casts_and_data
func.func @casts_and_data(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>) -> (tensor<2x3xbf16>, tensor<3x2xf32>, tensor<2x3xf32>, tensor<2xi64>) {
  // CHECK: arith.truncf %{{.+}} : f32 to bf16
  %0 = mpc.cast %x : tensor<2x3xf32> to tensor<2x3xbf16>
  // CHECK: linalg.transpose ins(%{{.+}} : tensor<2x3xf32>) outs(%{{.+}} : tensor<3x2xf32>) permutation = [1, 0]
  %1 = mpc.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK: arith.sitofp %{{.+}} : i64 to f32
  %2 = mpc.convert %i : tensor<2x3xi64> to tensor<2x3xf32>
  // CHECK: arith.cmpf ogt
  // CHECK: arith.select
  %3 = mpc.greater %x, %2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  %4 = mpc.where %3, %x, %2 : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: arith.constant dense<[4, 5]> : tensor<2xi64>
  %5 = mpc.constant dense<[4, 5]> : tensor<2xi64>
  return %0, %1, %4, %5 : tensor<2x3xbf16>, tensor<3x2xf32>, tensor<2x3xf32>, tensor<2xi64>
}

// -----

// Conv: zero padding (a zero fill and the input copied into its interior
// by an elementwise op), linalg.conv_2d_nchw_fchw accumulating in fp32,
// bias over the channel dim, one rounding.
// CHECK-LABEL: func.func @conv_bf16
func.func @conv_bf16(%x: tensor<1x2x5x5xbf16>, %w: tensor<3x2x3x3xbf16>, %b: tensor<3xbf16>) -> tensor<1x3x3x3xbf16> {
  // CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : bf16
  // CHECK: %[[FILL:.+]] = linalg.fill ins(%[[ZERO]] : bf16) outs(%{{.+}} : tensor<1x2x7x7xbf16>)
  // CHECK: %[[INNER:.+]] = tensor.extract_slice %[[FILL]][0, 0, 1, 1] [1, 2, 5, 5] [1, 1, 1, 1]
  // CHECK: %[[COPY:.+]] = linalg.copy ins(%arg0 : tensor<1x2x5x5xbf16>) outs(%[[INNER]] : tensor<1x2x5x5xbf16>)
  // CHECK: tensor.insert_slice %[[COPY]] into %[[FILL]][0, 0, 1, 1] [1, 2, 5, 5] [1, 1, 1, 1]
  // CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%{{.+}}, %{{.+}} : tensor<1x2x7x7xbf16>, tensor<3x2x3x3xbf16>) outs(%{{.+}} : tensor<1x3x3x3xf32>)
  // CHECK: linalg.generic
  // CHECK: arith.truncf %{{.+}} : f32 to bf16
  %0 = mpc.conv %x, %w, %b {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, precision = #mpc.precision<bf16, f32, bf16>} : (tensor<1x2x5x5xbf16>, tensor<3x2x3x3xbf16>, tensor<3xbf16>) -> tensor<1x3x3x3xbf16>
  return %0 : tensor<1x3x3x3xbf16>
}

// -----

// CHECK-LABEL: func.func @slice_concat_pool
func.func @slice_concat_pool(%x: tensor<1x4x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x4x3x3xf32>, tensor<1x4x1x1xf32>) {
  // CHECK: tensor.extract_slice %{{.+}}[0, 1, 0, 0] [1, 2, 6, 6] [1, 2, 1, 1]
  %0 = mpc.slice %x {starts = array<i64: 1>, ends = array<i64: 4>, axes = array<i64: 1>, steps = array<i64: 2>} : (tensor<1x4x6x6xf32>) -> tensor<1x2x6x6xf32>
  // CHECK: tensor.concat dim(1)
  %1 = mpc.concat %x, %x {axis = -3} : (tensor<1x4x6x6xf32>, tensor<1x4x6x6xf32>) -> tensor<1x8x6x6xf32>
  // CHECK: linalg.pooling_nchw_max
  %2 = mpc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x6x6xf32>) -> tensor<1x4x3x3xf32>
  // CHECK: linalg.reduce {{.*}} dimensions = [2, 3]
  // CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0], [1, 2, 3]]
  %3 = mpc.global_average_pool %x : (tensor<1x4x6x6xf32>) -> tensor<1x4x1x1xf32>
  return %0, %1, %2, %3 : tensor<1x2x6x6xf32>, tensor<1x8x6x6xf32>, tensor<1x4x3x3xf32>, tensor<1x4x1x1xf32>
}

// -----

// AveragePool: windowed sums divided by the count of real (or, with
// count_include_pad, padded) elements per window — pooled from ones.
// CHECK-LABEL: func.func @average_pool
func.func @average_pool(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // CHECK: %[[SUMS:.+]] = linalg.pooling_nchw_sum {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x1x6x6xf32>, tensor<3x3xf32>)
  // CHECK: %[[COUNTS:.+]] = linalg.pooling_nchw_sum {{.*}} ins(%{{.+}}, %{{.+}} : tensor<1x1x6x6xf32>, tensor<3x3xf32>)
  // CHECK: linalg.generic {{.*}} ins(%[[SUMS]], %[[COUNTS]]
  // CHECK: arith.divf
  %0 = mpc.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

// SoftmaxCrossEntropyLoss = log-softmax over the classes, then the NLL:
// one generic over the labels extracts log_prob[n, label] (an ignored
// label reads class 0 and weighs 0), the mean divides the loss sum by the
// weight sum.
// CHECK-LABEL: func.func @softmax_cross_entropy
// CHECK: linalg.reduce {{.*}} dimensions = [1]
// CHECK: math.exp
// CHECK: %[[LOGP:.*]] = linalg.generic
// CHECK: math.log
// CHECK: %[[PER:.*]]:2 = linalg.generic {{.*}} ins(%arg1 : tensor<4xi64>) outs(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[IGN:.*]] = arith.cmpi eq, %{{.*}}, %c-1_i64
// CHECK: %[[CLS:.*]] = arith.index_cast
// CHECK: tensor.extract %[[LOGP]][%{{.*}}, %[[CLS]]]
// CHECK: arith.select %[[IGN]], %{{.*}}, %{{.*}} : f32
// CHECK: arith.negf
// CHECK: %[[SUM:.*]] = linalg.reduce ins(%[[PER]]#0
// CHECK: %[[WSUM:.*]] = linalg.reduce ins(%[[PER]]#1
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %[[WSUM]]
// CHECK: arith.divf
func.func @softmax_cross_entropy(%scores: tensor<4x10xf32>, %labels: tensor<4xi64>) -> (tensor<f32>, tensor<4x10xf32>) {
  %0:2 = mpc.softmax_cross_entropy_loss %scores, %labels {ignore_index = -1 : i64} : (tensor<4x10xf32>, tensor<4xi64>) -> (tensor<f32>, tensor<4x10xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<4x10xf32>
}

// -----

// NLL's gradient: -onehot(label) * weight * g / (counted labels); the
// log-probabilities give only the shape (not read), and an ignored label
// counts 0.
// CHECK-LABEL: func.func @nll_grad
// CHECK: %[[COUNTED:.+]] = linalg.generic {{.*}} ins(%arg1 : tensor<4xi64>)
// CHECK: arith.cmpi eq, %{{.*}}, %c2_i64
// CHECK: %[[DENOM:.+]] = linalg.reduce ins(%[[COUNTED]]
// CHECK: linalg.generic {{.*}} ins(%arg1, %[[COUNTED]], %arg2, %[[DENOM]] : tensor<4xi64>, tensor<4xf32>, tensor<f32>, tensor<f32>) outs(%{{.*}} : tensor<4x5xf32>)
// CHECK-NOT: math.exp
// CHECK: arith.negf
// CHECK: arith.divf
func.func @nll_grad(%logp: tensor<4x5xf32>, %t: tensor<4xi64>, %g: tensor<f32>) -> tensor<4x5xf32> {
  %0 = mpc.negative_log_likelihood_loss_grad %logp, %t, %g {ignore_index = 2 : i64} : (tensor<4x5xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// NLL with class weights and no reduction: weight[label] is extracted too.
// CHECK-LABEL: func.func @nll_weighted
// CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<2x3xi32>)
// CHECK: tensor.extract %arg0[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x5x3xf32>
// CHECK: tensor.extract %arg2[%{{.*}}] : tensor<5xf32>
// CHECK-NOT: linalg.reduce
// CHECK: return
func.func @nll_weighted(%logp: tensor<2x5x3xf32>, %t: tensor<2x3xi32>, %w: tensor<5xf32>) -> tensor<2x3xf32> {
  %0 = mpc.negative_log_likelihood_loss %logp, %t, %w {reduction = #mpc<reduction none>} : (tensor<2x5x3xf32>, tensor<2x3xi32>, tensor<5xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Gather: negative indices wrap by the axis size.
// CHECK-LABEL: func.func @gather
// CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<2xi64>) outs(%{{.*}} : tensor<5x2xf32>)
// CHECK: %[[NEG:.*]] = arith.cmpi slt
// CHECK: %[[WRAP:.*]] = arith.addi %{{.*}}, %c6
// CHECK: %[[IDX:.*]] = arith.select %[[NEG]], %[[WRAP]]
// CHECK: tensor.extract %arg0[%{{.*}}, %[[IDX]]]
func.func @gather(%x: tensor<5x6xf32>, %i: tensor<2xi64>) -> tensor<5x2xf32> {
  %0 = mpc.gather %x, %i {axis = 1} : (tensor<5x6xf32>, tensor<2xi64>) -> tensor<5x2xf32>
  return %0 : tensor<5x2xf32>
}

// -----

// Expand: a broadcasting copy; Split: slices; Pow: powf with the integer
// exponent converted, ipowi for integers.
// CHECK-LABEL: func.func @expand_split_pow
// CHECK: linalg.generic {{.*}} ins(%arg0 : tensor<3x1xf32>) outs(%{{.*}} : tensor<2x3x4xf32>)
// CHECK: tensor.extract_slice %arg1[0, 0] [2, 2] [1, 1]
// CHECK: tensor.extract_slice %arg1[0, 2] [2, 4] [1, 1]
// CHECK: arith.sitofp %{{.*}} : i64 to f32
// CHECK: math.powf
// CHECK: math.ipowi
func.func @expand_split_pow(%x: tensor<3x1xf32>, %y: tensor<2x6xf32>, %e: tensor<2x2xi64>, %n: tensor<3xi32>) -> (tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<3xi32>) {
  %s = mpc.constant dense<[2, 3, 4]> : tensor<3xi64>
  %0 = mpc.expand %x, %s : (tensor<3x1xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %1:2 = mpc.split %y {axis = 1, sizes = array<i64: 2, 4>} : (tensor<2x6xf32>) -> (tensor<2x2xf32>, tensor<2x4xf32>)
  %2 = mpc.pow %1#0, %e : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
  %3 = mpc.pow %n, %n : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return %0, %1#1, %2, %3 : tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<3xi32>
}

// -----

// Pad: negative pads crop first; constant mode fills with the value and
// copies the input into the interior; edge clamps and reflect mirrors the
// read index.
// CHECK-LABEL: func.func @pad_modes
func.func @pad_modes(%x: tensor<3x4xf32>) -> (tensor<4x5xf32>, tensor<5x6xf32>, tensor<5x6xf32>) {
  // CHECK: %[[CROP:.+]] = tensor.extract_slice %{{.+}}[0, 1] [3, 3] [1, 1]
  // CHECK: %[[VALUE:.+]] = arith.constant 5.000000e-01 : f32
  // CHECK: %[[FILL:.+]] = linalg.fill ins(%[[VALUE]] : f32) outs(%{{.+}} : tensor<4x5xf32>)
  // CHECK: %[[INNER:.+]] = tensor.extract_slice %[[FILL]][1, 0] [3, 3] [1, 1]
  // CHECK: %[[COPY:.+]] = linalg.copy ins(%[[CROP]] : tensor<3x3xf32>) outs(%[[INNER]] : tensor<3x3xf32>)
  // CHECK: tensor.insert_slice %[[COPY]] into %[[FILL]][1, 0] [3, 3] [1, 1]
  %0 = mpc.pad %x {pads = array<i64: 1, -1, 0, 2>, value = 0.5} : (tensor<3x4xf32>) -> tensor<4x5xf32>
  // CHECK: linalg.generic
  // CHECK: arith.maxsi
  // CHECK: arith.minsi
  // CHECK: tensor.extract
  %1 = mpc.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = #mpc<pad_mode edge>} : (tensor<3x4xf32>) -> tensor<5x6xf32>
  // CHECK: linalg.generic
  // CHECK: arith.cmpi slt
  // CHECK: arith.cmpi sgt
  // CHECK: tensor.extract
  %2 = mpc.pad %x {pads = array<i64: 1, 1, 1, 1>, mode = #mpc<pad_mode reflect>} : (tensor<3x4xf32>) -> tensor<5x6xf32>
  return %0, %1, %2 : tensor<4x5xf32>, tensor<5x6xf32>, tensor<5x6xf32>
}

// -----

// A dynamic dim keeps tensor.pad (its interior copy has no static shape).
// CHECK-LABEL: func.func @pad_dynamic
func.func @pad_dynamic(%x: tensor<?x4xf32>) -> tensor<?x6xf32> {
  // CHECK-NOT: linalg.fill
  // CHECK: tensor.pad %{{.+}} low[0, 1] high[0, 1]
  %0 = mpc.pad %x {pads = array<i64: 0, 1, 0, 1>} : (tensor<?x4xf32>) -> tensor<?x6xf32>
  return %0 : tensor<?x6xf32>
}

// -----

// Unscaling divides each gradient by the scale; its finite flags are 1.0
// or 0.0 in f32 and their minimum, an f32 reduction the GPU runs in a
// thread block, is 1 exactly when every element is finite.
// CHECK-LABEL: func.func @unscale_gradients
// CHECK: %[[U:.+]]:2 = linalg.generic
// CHECK:   arith.divf
// CHECK:   %[[ZERO:.+]] = arith.mulf
// CHECK:   %[[FIN:.+]] = arith.cmpf oeq, %[[ZERO]]
// CHECK:   arith.select %[[FIN]], %{{.+}}, %{{.+}} : f32
// CHECK: } -> (tensor<5xf32>, tensor<5xf32>)
// CHECK: %[[MIN:.+]] = linalg.reduce ins(%[[U]]#1 : tensor<5xf32>)
// CHECK:   arith.minimumf
// CHECK: linalg.generic
// CHECK:   arith.cmpf oeq, %{{.+}}, %{{.+}} : f32
// CHECK: } -> tensor<i1>
func.func @unscale_gradients(%g: tensor<5xf32>, %scale: tensor<f32>) -> (tensor<5xf32>, tensor<i1>) {
  %u, %finite = mpc.unscale_gradients %g, %scale : (tensor<5xf32>, tensor<f32>) -> (tensor<5xf32>, tensor<i1>)
  return %u, %finite : tensor<5xf32>, tensor<i1>
}

// -----

// A 0-d tensor reshapes to and from all ones with one reshape of no groups
// (MSE's loss scale into the loss gradient's shape; through 1-d the
// expansion got a group for a dim the 0-d value does not have).
// CHECK-LABEL: func.func @reshape_rank0
// CHECK: tensor.expand_shape %arg0 [] output_shape [1, 1] : tensor<f32> into tensor<1x1xf32>
// CHECK: tensor.collapse_shape %arg1 [] : tensor<1x1x1xf32> into tensor<f32>
func.func @reshape_rank0(%s: tensor<f32>, %t: tensor<1x1x1xf32>) -> (tensor<1x1xf32>, tensor<f32>) {
  %shape = mpc.constant dense<[1, 1]> : tensor<2xi64>
  %0 = mpc.reshape %s, %shape : (tensor<f32>, tensor<2xi64>) -> tensor<1x1xf32>
  %empty = mpc.constant dense<> : tensor<0xi64>
  %1 = mpc.reshape %t, %empty : (tensor<1x1x1xf32>, tensor<0xi64>) -> tensor<f32>
  return %0, %1 : tensor<1x1xf32>, tensor<f32>
}

// -----

// f16 and bf16 have one width, so neither extends the other: through f32.
// Unsigned integers are viewed as signless for arith (uitofp) and back.
// CHECK-LABEL: func.func @convert_same_width_and_unsigned
// CHECK: %[[E:.+]] = arith.extf %{{.*}} : f16 to f32
// CHECK: arith.truncf %[[E]] : f32 to bf16
// CHECK: %[[V:.+]] = builtin.unrealized_conversion_cast %{{.*}} : ui32 to i32
// CHECK: arith.uitofp %[[V]] : i32 to f32
// CHECK: %[[U:.+]] = arith.fptoui %{{.*}} : f32 to i32
// CHECK: builtin.unrealized_conversion_cast %[[U]] : i32 to ui32
func.func @convert_same_width_and_unsigned(%h: tensor<4xf16>, %u: tensor<4xui32>, %f: tensor<4xf32>) -> (tensor<4xbf16>, tensor<4xf32>, tensor<4xui32>) {
  %0 = mpc.cast %h : tensor<4xf16> to tensor<4xbf16>
  %1 = mpc.convert %u : tensor<4xui32> to tensor<4xf32>
  %2 = mpc.convert %f : tensor<4xf32> to tensor<4xui32>
  return %0, %1, %2 : tensor<4xbf16>, tensor<4xf32>, tensor<4xui32>
}

// -----

// Training-mode dropout: a counter-based mask (SplitMix64's output function
// of the key, the stream and the linear index), its top 24 bits against
// ratio * 2^24, kept elements scaled by 1 / (1 - ratio) in f32.
// CHECK-LABEL: func.func @training_dropout
// CHECK-DAG: %[[KEY:.+]] = tensor.extract %{{.+}}[] : tensor<i64>
// CHECK-DAG: %[[GOLDEN:.+]] = arith.constant -7046029254386353131 : i64
// CHECK-DAG: %[[STREAM:.+]] = arith.constant -6671356733746193914 : i64
// CHECK: %[[MIXED:.+]] = arith.muli %[[KEY]], %[[GOLDEN]] : i64
// CHECK: %[[BASE:.+]] = arith.addi %[[MIXED]], %[[STREAM]] : i64
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<2x3xbf16>, tensor<2x3xi1>)
// CHECK: linalg.index 0
// CHECK: arith.constant 3 : i64
// CHECK: linalg.index 1
// CHECK: %[[Z:.+]] = arith.addi %[[BASE]], %{{.+}} : i64
// CHECK: arith.shrui %[[Z]], %{{.+}} : i64
// CHECK: arith.constant -4658895280553007687 : i64
// CHECK: arith.constant -7723592293110705685 : i64
// CHECK: %[[TOP:.+]] = arith.constant 40 : i64
// CHECK: %[[DRAW:.+]] = arith.shrui %{{.+}}, %[[TOP]] : i64
// CHECK: %[[THRESHOLD:.+]] = arith.constant 4194304 : i64
// CHECK: %[[KEEP:.+]] = arith.cmpi uge, %[[DRAW]], %[[THRESHOLD]] : i64
// CHECK: %[[SCALE:.+]] = arith.constant 1.33333337 : f32
// CHECK: %[[WIDE:.+]] = arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[SCALED:.+]] = arith.mulf %[[WIDE]], %[[SCALE]] : f32
// CHECK: %[[KEPT:.+]] = arith.select %[[KEEP]], %[[SCALED]], %{{.+}} : f32
// CHECK: %[[NARROW:.+]] = arith.truncf %[[KEPT]] : f32 to bf16
// CHECK: linalg.yield %[[NARROW]], %[[KEEP]] : bf16, i1
func.func @training_dropout(%x: tensor<2x3xbf16>, %key: tensor<i64>) -> (tensor<2x3xbf16>, tensor<2x3xi1>) {
  %0:2 = mpc.dropout %x, %key {ratio = 0.25 : f32, training, stream = 2 : i64} : (tensor<2x3xbf16>, tensor<i64>) -> (tensor<2x3xbf16>, tensor<2x3xi1>)
  return %0#0, %0#1 : tensor<2x3xbf16>, tensor<2x3xi1>
}

// -----

// An embedding's gradient: the fp32 table zero-filled, then one slice add
// per gathered row into the row its index names (negative ones from the
// end; out of range ones add nothing), the rows in order.
// CHECK-LABEL: func.func @gather_grad
// CHECK-SAME: (%[[G:.+]]: tensor<2x3x4xbf16>, %[[IDS:.+]]: tensor<3xi64>)
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x7x4xf32>)
// CHECK: %[[TABLE:.+]] = scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (tensor<2x7x4xf32>)
// CHECK: %[[ID:.+]] = tensor.extract %[[IDS]][%[[K]]] : tensor<3xi64>
// CHECK: %[[ROW0:.+]] = arith.index_cast %[[ID]] : i64 to index
// CHECK: %[[WRAPPED:.+]] = arith.addi %[[ROW0]], %{{.+}} : index
// CHECK: %[[ROW:.+]] = arith.select %{{.+}}, %[[WRAPPED]], %[[ROW0]] : index
// CHECK: %[[IN:.+]] = arith.andi
// CHECK: scf.if %[[IN]] -> (tensor<2x7x4xf32>)
// CHECK: %[[CUR:.+]] = tensor.extract_slice %[[ACC]][0, %[[ROW]], 0] [2, 1, 4] [1, 1, 1] : tensor<2x7x4xf32> to tensor<2x4xf32>
// CHECK: %[[UPD:.+]] = tensor.extract_slice %[[G]][0, %[[K]], 0] [2, 1, 4] [1, 1, 1] : tensor<2x3x4xbf16> to tensor<2x4xbf16>
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}} ins(%[[UPD]] : tensor<2x4xbf16>) outs(%[[CUR]] : tensor<2x4xf32>)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: arith.addf
// CHECK: tensor.insert_slice %[[SUM]] into %[[ACC]][0, %[[ROW]], 0] [2, 1, 4] [1, 1, 1]
// CHECK: } else {
// CHECK: scf.yield %[[ACC]]
// CHECK: return %[[TABLE]]
func.func @gather_grad(%g: tensor<2x3x4xbf16>, %ids: tensor<3xi64>) -> tensor<2x7x4xf32> {
  %0 = mpc.gather_grad %g, %ids {num_rows = 7 : i64, precision = #mpc.precision<bf16, f32, f32>} : (tensor<2x3x4xbf16>, tensor<3xi64>) -> tensor<2x7x4xf32>
  return %0 : tensor<2x7x4xf32>
}

// -----

// MaxPool's gradient where the windows tile the input: over the input
// viewed as [N, C, OH, KH, OW, KW], a reduction over each window keeps the
// value (in f32 for bf16) and the scan position of its first maximum (or
// NaN); a parallel generic in the input's order routes the gradient there.
// CHECK-DAG: #[[VIEW:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4, d3, d5)>
// CHECK-DAG: #[[OUT4:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[WIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[ID6:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @max_pool_grad
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4x6xbf16>, %[[G:.+]]: tensor<2x3x2x2xbf16>)
// CHECK: %[[X6:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3], [4, 5]] output_shape [2, 3, 2, 2, 2, 3]
// CHECK: %[[LOW:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x2x2xf32>)
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : i32) outs(%{{.+}} : tensor<2x3x2x2xi32>)
// CHECK: %[[ARG:.+]]:2 = linalg.generic {indexing_maps = [#[[VIEW]], #[[OUT4]], #[[OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[X6]] : tensor<2x3x2x2x2x3xbf16>) outs(%[[LOW]], %[[ZERO]] : tensor<2x3x2x2xf32>, tensor<2x3x2x2xi32>)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[KH:.+]] = linalg.index 4
// CHECK: %[[KW:.+]] = linalg.index 5
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// CHECK: %[[ROUTED:.+]] = linalg.generic {indexing_maps = [#[[WIN]], #[[WIN]], #[[ID6]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[ARG]]#1, %[[G]] : tensor<2x3x2x2xi32>, tensor<2x3x2x2xbf16>) outs(%{{.+}} : tensor<2x3x2x2x2x3xbf16>)
// CHECK: linalg.index 3
// CHECK: linalg.index 5
// CHECK: arith.cmpi eq
// CHECK: %[[DX:.+]] = tensor.collapse_shape %[[ROUTED]] {{\[}}[0], [1], [2, 3], [4, 5]] : tensor<2x3x2x2x2x3xbf16> into tensor<2x3x4x6xbf16>
// CHECK: return %[[DX]]
func.func @max_pool_grad(%x: tensor<2x3x4x6xbf16>, %g: tensor<2x3x2x2xbf16>) -> tensor<2x3x4x6xbf16> {
  %0 = mpc.max_pool_grad %x, %g {kernel_shape = array<i64: 2, 3>} : (tensor<2x3x4x6xbf16>, tensor<2x3x2x2xbf16>) -> tensor<2x3x4x6xbf16>
  return %0 : tensor<2x3x4x6xbf16>
}

// -----

// ONNX Cast of an integer to bool is a test against zero (a truncation
// would keep only the low bit: 2 would be false).
// CHECK-LABEL: func.func @convert_int_to_bool
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK: arith.cmpi ne, %{{.+}}, %[[ZERO]] : i64
// CHECK-NOT: arith.trunci
func.func @convert_int_to_bool(%i: tensor<3xi64>) -> tensor<3xi1> {
  %0 = mpc.convert %i : tensor<3xi64> to tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// The index reductions: one generic carries the best value and its index
// along the reduced dim; ties keep the first (strictly greater).
// CHECK-LABEL: func.func @arg_max
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf uno
// CHECK: arith.select
// CHECK: tensor.expand_shape
func.func @arg_max(%x: tensor<4x5xf32>) -> tensor<4x1xi64> {
  %0 = mpc.arg_max %x {axis = 1 : i64} : (tensor<4x5xf32>) -> tensor<4x1xi64>
  return %0 : tensor<4x1xi64>
}

// -----

// ScatterElements: a loop nest over the indices in order, each step
// inserting one (combined) element; indices clamped into range.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK: scf.for
// CHECK: scf.for
// CHECK: tensor.extract
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: arith.addf
// CHECK: tensor.insert
func.func @scatter_elements_add(%x: tensor<3x4xf32>, %i: tensor<2x4xi64>, %u: tensor<2x4xf32>) -> tensor<3x4xf32> {
  %0 = mpc.scatter_elements %x, %i, %u {axis = 0, reduction = #mpc<scatter_reduction add>} : (tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

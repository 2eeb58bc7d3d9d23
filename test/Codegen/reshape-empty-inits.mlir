// RUN: mpc-opt %s --split-input-file --mpc-reshape-empty-inits | FileCheck %s

// A 2x3 result collapsed into a slice of a flat buffer: its producer gets
// that slice, expanded back, as its init, so it writes there directly.
// CHECK-LABEL: func.func @into_flat_slice
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>, %[[FLAT:.+]]: tensor<10xf32>)
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %[[FLAT]][4] [6] [1] : tensor<10xf32> to tensor<6xf32>
// CHECK: %[[INIT:.+]] = tensor.expand_shape %[[SLICE]] {{\[}}[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
// CHECK: %[[Y:.+]] = linalg.generic {{.*}} ins(%[[X]] : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[Y]]
// CHECK: tensor.insert_slice %[[C]] into %[[FLAT]][4] [6] [1]
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @into_flat_slice(%x: tensor<2x3xf32>, %flat: tensor<10xf32>) -> tensor<10xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<2x3xf32>
  %c = tensor.collapse_shape %y [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  %r = tensor.insert_slice %c into %flat[4] [6] [1] : tensor<6xf32> into tensor<10xf32>
  return %r : tensor<10xf32>
}

// -----

// A scalar written into a one-element buffer: the init is the buffer.
// CHECK-LABEL: func.func @scalar_into_buffer
// CHECK-SAME: (%[[S:.+]]: tensor<f32>, %[[BUF:.+]]: tensor<1xf32>)
// CHECK: %[[INIT:.+]] = tensor.collapse_shape %[[BUF]] [] : tensor<1xf32> into tensor<f32>
// CHECK: linalg.generic {{.*}} outs(%[[INIT]] : tensor<f32>)
func.func @scalar_into_buffer(%s: tensor<f32>, %buf: tensor<1xf32>) -> tensor<1xf32> {
  %e = tensor.empty() : tensor<f32>
  %y = linalg.generic {indexing_maps = [affine_map<() -> ()>, affine_map<() -> ()>], iterator_types = []} ins(%s : tensor<f32>) outs(%e : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<f32>
  %x = tensor.expand_shape %y [] output_shape [1] : tensor<f32> into tensor<1xf32>
  %r = bufferization.materialize_in_destination %x in %buf : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
  return %r : tensor<1xf32>
}

// -----

// The destination is made after the producer: the slice cannot be its
// init, the empty stays (a copy after bufferization).
// CHECK-LABEL: func.func @destination_later
// CHECK: tensor.empty() : tensor<2x3xf32>
// CHECK-NOT: tensor.extract_slice
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @destination_later(%x: tensor<2x3xf32>) -> tensor<10xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  } -> tensor<2x3xf32>
  %flat = tensor.empty() : tensor<10xf32>
  %c = tensor.collapse_shape %y [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  %r = tensor.insert_slice %c into %flat[4] [6] [1] : tensor<6xf32> into tensor<10xf32>
  return %r : tensor<10xf32>
}

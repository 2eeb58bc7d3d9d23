// RUN: mpc-opt %s --split-input-file --canonicalize | FileCheck %s

// Folders: the integer shape arithmetic exporters emit around Reshape, and
// the identity and exact-cast folds.

// CHECK-LABEL: func.func @shape_chain
func.func @shape_chain(%x: tensor<2x4x4xf32>) -> tensor<2x16xf32> {
  // CHECK-NOT: mpc.shape
  // CHECK-NOT: mpc.gather
  // CHECK-NOT: mpc.concat
  // CHECK: %[[SHAPE:.+]] = mpc.constant dense<[2, 16]> : tensor<2xi64>
  // CHECK: mpc.reshape %{{.*}}, %[[SHAPE]]
  %s = mpc.shape %x : (tensor<2x4x4xf32>) -> tensor<3xi64>
  %i0 = mpc.constant dense<0> : tensor<i64>
  %n = mpc.gather %s, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %n1 = mpc.unsqueeze %n {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %tail = mpc.slice %s {starts = array<i64: 1>, ends = array<i64: 3>, axes = array<i64: 0>, steps = array<i64: 1>} : (tensor<3xi64>) -> tensor<2xi64>
  %a = mpc.gather %tail, %i0 : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %four = mpc.constant dense<4> : tensor<i64>
  %m = mpc.mul %a, %four : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %m1 = mpc.unsqueeze %m {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %shape = mpc.concat %n1, %m1 {axis = 0} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %y = mpc.reshape %x, %shape : (tensor<2x4x4xf32>, tensor<2xi64>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// A static dim picked out of a partly dynamic shape still folds.
// CHECK-LABEL: func.func @partial_shape
func.func @partial_shape(%x: tensor<?x8xf32>) -> tensor<i64> {
  // CHECK: %[[C:.+]] = mpc.constant dense<8> : tensor<i64>
  // CHECK: return %[[C]]
  %s = mpc.shape %x : (tensor<?x8xf32>) -> tensor<2xi64>
  %i = mpc.constant dense<-1> : tensor<i64>
  %d = mpc.gather %s, %i : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  return %d : tensor<i64>
}

// -----

// CHECK-LABEL: func.func @dynamic_dim_stays
func.func @dynamic_dim_stays(%x: tensor<?x8xf32>) -> tensor<i64> {
  // CHECK: mpc.shape
  // CHECK: mpc.gather
  %s = mpc.shape %x : (tensor<?x8xf32>) -> tensor<2xi64>
  %i = mpc.constant dense<0> : tensor<i64>
  %d = mpc.gather %s, %i : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  return %d : tensor<i64>
}

// -----

// CHECK-LABEL: func.func @integer_arith
func.func @integer_arith() -> (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) {
  // ONNX integer division truncates toward zero.
  // CHECK-DAG: mpc.constant dense<[-3, 3]> : tensor<2xi64>
  // CHECK-DAG: mpc.constant dense<[-5, 9]> : tensor<2xi64>
  // CHECK-DAG: mpc.constant dense<[-9, 5]> : tensor<2xi64>
  %a = mpc.constant dense<[-7, 7]> : tensor<2xi64>
  %b = mpc.constant dense<2> : tensor<i64>
  %c = mpc.constant dense<2> : tensor<2xi64>
  %q = mpc.div %a, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %s = mpc.add %a, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %d = mpc.sub %a, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %p = mpc.mul %q, %c : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %r = mpc.sub %p, %s : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %q, %s, %d : tensor<2xi64>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Float arithmetic is not folded: its rounding belongs to the precision
// mpc assigns, not to the host compiler.
// CHECK-LABEL: func.func @float_not_folded
func.func @float_not_folded() -> tensor<2xf32> {
  // CHECK: mpc.add
  %a = mpc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = mpc.add %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %s : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @division_by_zero
func.func @division_by_zero() -> tensor<i64> {
  // CHECK: mpc.div
  %a = mpc.constant dense<1> : tensor<i64>
  %z = mpc.constant dense<0> : tensor<i64>
  %q = mpc.div %a, %z : (tensor<i64>, tensor<i64>) -> tensor<i64>
  return %q : tensor<i64>
}

// -----

// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>)
func.func @identities(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK-NOT: mpc.identity
  // CHECK-NOT: mpc.transpose
  // CHECK-NOT: mpc.convert
  // CHECK: return %[[X]], %[[X]], %[[X]], %[[X]]
  %0 = mpc.identity %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = mpc.transpose %0 {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = mpc.convert %1 : tensor<2x3xf32> to tensor<2x3xf32>
  %s = mpc.constant dense<[2, 3]> : tensor<2xi64>
  %3 = mpc.reshape %2, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Widening and narrowing back is exact; narrowing and widening back rounds.
// CHECK-LABEL: func.func @cast_chains
// CHECK-SAME: (%[[B:.+]]: tensor<4xbf16>, %[[F:.+]]: tensor<4xf32>)
func.func @cast_chains(%b: tensor<4xbf16>, %f: tensor<4xf32>) -> (tensor<4xbf16>, tensor<4xf32>) {
  // CHECK: %[[N:.+]] = mpc.cast %[[F]] : tensor<4xf32> to tensor<4xbf16>
  // CHECK: %[[W:.+]] = mpc.cast %[[N]] : tensor<4xbf16> to tensor<4xf32>
  // CHECK: return %[[B]], %[[W]]
  %0 = mpc.cast %b : tensor<4xbf16> to tensor<4xf32>
  %1 = mpc.cast %0 : tensor<4xf32> to tensor<4xbf16>
  %2 = mpc.cast %f : tensor<4xf32> to tensor<4xbf16>
  %3 = mpc.cast %2 : tensor<4xbf16> to tensor<4xf32>
  return %1, %3 : tensor<4xbf16>, tensor<4xf32>
}

// -----

// fp16 does not widen exactly into bf16 (fewer exponent bits): kept.
// CHECK-LABEL: func.func @cast_not_widening
func.func @cast_not_widening(%h: tensor<4xf16>) -> tensor<4xf16> {
  // CHECK: mpc.cast
  // CHECK: mpc.cast
  %0 = mpc.cast %h : tensor<4xf16> to tensor<4xbf16>
  %1 = mpc.cast %0 : tensor<4xbf16> to tensor<4xf16>
  return %1 : tensor<4xf16>
}

// -----

// CHECK-LABEL: func.func @constant_reshapes
func.func @constant_reshapes() -> (tensor<2x1xi64>, tensor<3xi64>, tensor<2xi64>) {
  // CHECK-DAG: mpc.constant dense<{{\[}}[4], [5]]> : tensor<2x1xi64>
  // CHECK-DAG: mpc.constant dense<[4, 5, 6]> : tensor<3xi64>
  // CHECK-DAG: mpc.constant dense<[6, 4]> : tensor<2xi64>
  %a = mpc.constant dense<[4, 5]> : tensor<2xi64>
  %b = mpc.unsqueeze %a {axes = array<i64: 1>} : (tensor<2xi64>) -> tensor<2x1xi64>
  %c = mpc.constant dense<[6]> : tensor<1xi64>
  %d = mpc.concat %a, %c {axis = 0} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %e = mpc.slice %d {starts = array<i64: -1>, ends = array<i64: -9223372036854775807>, axes = array<i64: 0>, steps = array<i64: -2>} : (tensor<3xi64>) -> tensor<2xi64>
  return %b, %d, %e : tensor<2x1xi64>, tensor<3xi64>, tensor<2xi64>
}

// RUN: mpc-opt %s --split-input-file --mpc-optimize-casts | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-optimize-casts=allow-excess-precision=true | FileCheck %s --check-prefix=EXCESS

// Identical casts of one value merge; unused casts go.
// CHECK-LABEL: func.func @cse
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
func.func @cse(%x: tensor<4xf32>) -> (tensor<4xbf16>, tensor<4xbf16>) {
  // CHECK: %[[C:.+]] = mpc.cast %[[X]] : tensor<4xf32> to tensor<4xbf16>
  // CHECK-NOT: mpc.cast
  // CHECK: return %[[C]], %[[C]]
  %0 = mpc.cast %x : tensor<4xf32> to tensor<4xbf16>
  %1 = mpc.cast %x : tensor<4xf32> to tensor<4xbf16>
  %2 = mpc.cast %x : tensor<4xf32> to tensor<4xf16>
  return %0, %1 : tensor<4xbf16>, tensor<4xbf16>
}

// -----

// Exact chains fold; f32 -> bf16 -> f32 rounds, so it stays unless excess
// precision is allowed.
// CHECK-LABEL: func.func @chains
// CHECK-SAME: (%[[H:.+]]: tensor<4xf16>, %[[F:.+]]: tensor<4xf32>)
// EXCESS-LABEL: func.func @chains
// EXCESS-SAME: (%[[H:.+]]: tensor<4xf16>, %[[F:.+]]: tensor<4xf32>)
func.func @chains(%h: tensor<4xf16>, %f: tensor<4xf32>) -> (tensor<4xf16>, tensor<4xf32>) {
  // CHECK: %[[N:.+]] = mpc.cast %[[F]] : tensor<4xf32> to tensor<4xbf16>
  // CHECK: %[[W:.+]] = mpc.cast %[[N]] : tensor<4xbf16> to tensor<4xf32>
  // CHECK: return %[[H]], %[[W]]
  // EXCESS-NOT: mpc.cast
  // EXCESS: return %[[H]], %[[F]]
  %0 = mpc.cast %h : tensor<4xf16> to tensor<4xf32>
  %1 = mpc.cast %0 : tensor<4xf32> to tensor<4xf16>
  %2 = mpc.cast %f : tensor<4xf32> to tensor<4xbf16>
  %3 = mpc.cast %2 : tensor<4xbf16> to tensor<4xf32>
  return %1, %3 : tensor<4xf16>, tensor<4xf32>
}

// -----

// Casts of constants convert at compile time (round to nearest even).
// CHECK-LABEL: func.func @constant
func.func @constant() -> tensor<2xbf16> {
  // CHECK: mpc.constant dense<[1.000000e+00, 1.007810e+00]> : tensor<2xbf16>
  // CHECK-NOT: mpc.cast
  %c = mpc.constant dense<[1.0, 1.0078125]> : tensor<2xf32>
  %0 = mpc.cast %c : tensor<2xf32> to tensor<2xbf16>
  return %0 : tensor<2xbf16>
}

// -----

// A cast moves before an Expand (casting 1x64 instead of 64x64) and after
// a Slice (casting 2x4 instead of 64x4); the moved ops' decisions follow.
// CHECK-LABEL: func.func @move_across_data_ops
// CHECK-SAME: (%[[A:.+]]: tensor<1x64xf32>, %[[B:.+]]: tensor<64x4xbf16>)
func.func @move_across_data_ops(%a: tensor<1x64xf32>, %b: tensor<64x4xbf16>) -> (tensor<64x64xbf16>, tensor<2x4xf32>) {
  // CHECK: %[[AC:.+]] = mpc.cast %[[A]] : tensor<1x64xf32> to tensor<1x64xbf16>
  // CHECK: mpc.expand %[[AC]], %{{.*}} {mpc.decision = #mpc.decision<clear, low, "test; moved cast across it (fewer bytes)">} : (tensor<1x64xbf16>, tensor<2xi64>) -> tensor<64x64xbf16>
  %s = mpc.constant dense<[64, 64]> : tensor<2xi64>
  %0 = mpc.expand %a, %s {mpc.decision = #mpc.decision<clear, fp32, "test">} : (tensor<1x64xf32>, tensor<2xi64>) -> tensor<64x64xf32>
  %1 = mpc.cast %0 : tensor<64x64xf32> to tensor<64x64xbf16>
  // CHECK: %[[S:.+]] = mpc.slice %[[B]] {{.*}} : (tensor<64x4xbf16>) -> tensor<2x4xbf16>
  // CHECK: mpc.cast %[[S]] : tensor<2x4xbf16> to tensor<2x4xf32>
  %2 = mpc.cast %b : tensor<64x4xbf16> to tensor<64x4xf32>
  %3 = mpc.slice %2 {starts = array<i64: 0>, ends = array<i64: 2>, axes = array<i64: 0>, steps = array<i64: 1>} : (tensor<64x4xf32>) -> tensor<2x4xf32>
  return %1, %3 : tensor<64x64xbf16>, tensor<2x4xf32>
}

// -----

// Same size on both sides, or a cast with other readers: nothing moves.
// CHECK-LABEL: func.func @no_move
func.func @no_move(%a: tensor<4x8xf32>) -> (tensor<8x4xbf16>, tensor<2x8xbf16>, tensor<4x8xf32>) {
  // CHECK: mpc.transpose %{{.*}} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  // CHECK: mpc.cast %{{.*}} : tensor<8x4xf32> to tensor<8x4xbf16>
  %0 = mpc.transpose %a {perm = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %1 = mpc.cast %0 : tensor<8x4xf32> to tensor<8x4xbf16>
  // CHECK: %[[C:.+]] = mpc.cast %{{.*}} : tensor<4x8xf32> to tensor<4x8xbf16>
  // CHECK: mpc.slice %[[C]]
  %2 = mpc.cast %a : tensor<4x8xf32> to tensor<4x8xbf16>
  %3 = mpc.slice %2 {starts = array<i64: 0>, ends = array<i64: 2>, axes = array<i64: 0>, steps = array<i64: 1>} : (tensor<4x8xbf16>) -> tensor<2x8xbf16>
  %4 = mpc.cast %2 : tensor<4x8xbf16> to tensor<4x8xf32>
  return %1, %3, %4 : tensor<8x4xbf16>, tensor<2x8xbf16>, tensor<4x8xf32>
}

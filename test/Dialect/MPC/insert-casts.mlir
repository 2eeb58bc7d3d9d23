// RUN: mpc-opt %s --split-input-file --mpc-insert-casts | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-insert-casts=keep-io-types=false | FileCheck %s --check-prefix=NOKEEP

// Casts at every precision boundary, one per (value, type): the parameter
// read by two low ops is cast once; the result is cast back to the
// declared fp32 output type.
module attributes {mpc.low_precision = bf16} {
  mpc.parameter @w trainable = dense<1.0> : tensor<8x8xf32>
  // CHECK-LABEL: func.func @boundaries
  // CHECK-SAME: (%[[X:.+]]: tensor<4x8xf32>) -> tensor<4x8xf32>
  // NOKEEP-LABEL: func.func @boundaries
  // NOKEEP-SAME: -> tensor<4x8xbf16>
  func.func @boundaries(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    // CHECK: %[[XL:.+]] = mpc.cast %[[X]] : tensor<4x8xf32> to tensor<4x8xbf16>
    // CHECK: %[[W:.+]] = mpc.get_parameter @w
    // CHECK-NEXT: %[[WL:.+]] = mpc.cast %[[W]] : tensor<8x8xf32> to tensor<8x8xbf16>
    %w = mpc.get_parameter @w : tensor<8x8xf32>
    // CHECK: %[[A:.+]] = mpc.matmul %[[XL]], %[[WL]] {{{.*}}precision = #mpc.precision<bf16, f32, bf16>} : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xbf16>
    %0 = mpc.matmul %x, %w {mpc.decision = #mpc.decision<allow, low, "allow (default list)">} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    // CHECK: %[[B:.+]] = mpc.add %[[A]], %[[A]] {{{.*}}precision = #mpc.precision<bf16, bf16, bf16>} : (tensor<4x8xbf16>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
    %1 = mpc.add %0, %0 {mpc.decision = #mpc.decision<infer, low, "test">} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    // CHECK: %[[C:.+]] = mpc.matmul %[[B]], %[[WL]]
    %2 = mpc.matmul %1, %w {mpc.decision = #mpc.decision<allow, low, "allow (default list)">} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    // CHECK: %[[R:.+]] = mpc.reshape %[[C]], %{{.*}} : (tensor<4x8xbf16>, tensor<2xi64>) -> tensor<4x8xbf16>
    %s = mpc.constant dense<[4, 8]> : tensor<2xi64>
    %3 = mpc.reshape %2, %s {mpc.decision = #mpc.decision<clear, low, "test">} : (tensor<4x8xf32>, tensor<2xi64>) -> tensor<4x8xf32>
    // CHECK: %[[OUT:.+]] = mpc.cast %[[R]] : tensor<4x8xbf16> to tensor<4x8xf32>
    // CHECK: return %[[OUT]] : tensor<4x8xf32>
    // NOKEEP-NOT: to tensor<4x8xf32>
    // NOKEEP: return %{{.*}} : tensor<4x8xbf16>
    return %3 : tensor<4x8xf32>
  }
}

// -----

// A low value read by several fp32 ops is cast back once; deny ops compute
// in fp32 with fp32 results.
module attributes {mpc.low_precision = bf16} {
  // CHECK-LABEL: func.func @fan_out
  func.func @fan_out(%x: tensor<4x8xbf16>, %w: tensor<8x8xbf16>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
    // CHECK: %[[A:.+]] = mpc.matmul
    // CHECK-NEXT: %[[UP:.+]] = mpc.cast %[[A]] : tensor<4x8xbf16> to tensor<4x8xf32>
    // CHECK-NOT: mpc.cast
    %0 = mpc.matmul %x, %w {mpc.decision = #mpc.decision<allow, low, "allow (default list)">} : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xbf16>
    // CHECK: mpc.softmax %[[UP]] {{{.*}}precision = #mpc.precision<f32, f32, f32>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
    %1 = mpc.softmax %0 {mpc.decision = #mpc.decision<deny, fp32, "deny (default list)">} : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
    // CHECK: mpc.exp %[[UP]]
    %2 = mpc.exp %0 {mpc.decision = #mpc.decision<deny, fp32, "deny (default list)">} : tensor<4x8xbf16> -> tensor<4x8xbf16>
    %3 = mpc.cast %1 : tensor<4x8xbf16> to tensor<4x8xf32>
    %4 = mpc.cast %2 : tensor<4x8xbf16> to tensor<4x8xf32>
    return %3, %4 : tensor<4x8xf32>, tensor<4x8xf32>
  }
}

// -----

// BatchNorm in low precision keeps its parameters and statistics in fp32
// and accumulates in fp32; result dims the IR knew stay static.
module attributes {mpc.low_precision = f16} {
  // CHECK-LABEL: func.func @batch_norm
  func.func @batch_norm(%x: tensor<2x3x4x4xf32>, %c: tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>) {
    // CHECK: %[[XL:.+]] = mpc.cast %{{.*}} : tensor<2x3x4x4xf32> to tensor<2x3x4x4xf16>
    // CHECK: mpc.batch_norm %[[XL]], %[[C:[^,]+]], %[[C]], %[[C]], %[[C]] {{{.*}}precision = #mpc.precision<f16, f32, f16>} : (tensor<2x3x4x4xf16>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf16>, tensor<3xf32>, tensor<3xf32>)
    %0:3 = mpc.batch_norm %x, %c, %c, %c, %c {mpc.decision = #mpc.decision<infer, low, "test">} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
    return %0#0, %0#1 : tensor<2x3x4x4xf32>, tensor<3xf32>
  }
}

// -----

// Without decisions nothing changes.
// CHECK-LABEL: func.func @undecided
// CHECK-NOT: mpc.cast
func.func @undecided(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = mpc.exp %x : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

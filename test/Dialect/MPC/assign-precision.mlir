// RUN: mpc-opt %s --split-input-file --allow-unregistered-dialect --mpc-assign-precision 2>/dev/null | FileCheck %s
// RUN: mpc-opt %s --split-input-file --allow-unregistered-dialect --mpc-assign-precision=algorithm=greedy 2>/dev/null | FileCheck %s --check-prefix=GREEDY
// RUN: mpc-opt %s --split-input-file --allow-unregistered-dialect --mpc-assign-precision=precision=fp16 2>/dev/null | FileCheck %s --check-prefix=FP16
// RUN: mpc-opt %s --split-input-file --allow-unregistered-dialect --mpc-assign-precision 2>&1 >/dev/null | FileCheck %s --check-prefix=WARN

// Each class: allow runs low, deny fp32, clear and infer ops between
// low ops run low.
// CHECK-LABEL: func.func @classes
// FP16: module attributes {mpc.low_precision = f16}
func.func @classes(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  // CHECK: mpc.matmul {{.*}}mpc.decision = #mpc.decision<allow, low, "allow (default list)">
  %0 = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.relu {{.*}}#mpc.decision<clear, low,
  %1 = mpc.relu %0 : tensor<4x8xf32> -> tensor<4x8xf32>
  // CHECK: mpc.add {{.*}}#mpc.decision<infer, low, "inferred bf16 (min cast bytes), like 'mpc.matmul' (MatMul)">
  // GREEDY: mpc.add {{.*}}#mpc.decision<infer, low, "greedy: between low-precision ops 'mpc.matmul' (MatMul) and 'mpc.matmul' (MatMul)">
  %2 = mpc.add %1, %1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.matmul {{.*}}#mpc.decision<allow, low,
  %3 = mpc.matmul %2, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.softmax {{.*}}#mpc.decision<deny, fp32, "deny (default list)">
  %4 = mpc.softmax %3 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// Infer ops downstream of a deny op stay fp32, through clear ops; an allow
// op ends the chain.
// CHECK-LABEL: func.func @deny_propagates
func.func @deny_propagates(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  // CHECK: mpc.exp {{.*}}#mpc.decision<deny, fp32
  %0 = mpc.exp %x : tensor<4x8xf32> -> tensor<4x8xf32>
  // CHECK: mpc.transpose {{.*}}#mpc.decision<clear,
  %1 = mpc.transpose %0 {perm = array<i64: 0, 1>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.mul {{.*}}#mpc.decision<infer, fp32, "fp32: downstream of deny op 'mpc.exp' (Exp)">
  // GREEDY: mpc.mul {{.*}}#mpc.decision<infer, fp32, "fp32: downstream of deny op 'mpc.exp' (Exp)">
  %2 = mpc.mul %1, %1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.matmul {{.*}}#mpc.decision<allow, low
  %3 = mpc.matmul %2, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.sigmoid {{.*}}#mpc.decision<infer, fp32, "inferred fp32 (min cast bytes)
  %4 = mpc.sigmoid %3 : tensor<4x8xf32> -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// A diamond of infer ops between two allow ops runs low.
// CHECK-LABEL: func.func @diamond
func.func @diamond(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %0 = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.tanh {{.*}}#mpc.decision<infer, low
  // GREEDY: mpc.tanh {{.*}}#mpc.decision<infer, low
  %1 = mpc.tanh %0 : tensor<4x8xf32> -> tensor<4x8xf32>
  // CHECK: mpc.sigmoid {{.*}}#mpc.decision<infer, low
  // GREEDY: mpc.sigmoid {{.*}}#mpc.decision<infer, low
  %2 = mpc.sigmoid %0 : tensor<4x8xf32> -> tensor<4x8xf32>
  // CHECK: mpc.mul {{.*}}#mpc.decision<infer, low
  // GREEDY: mpc.mul {{.*}}#mpc.decision<infer, low
  %3 = mpc.mul %1, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = mpc.matmul %3, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// The global assignment is strictly better than painting here: greedy
// paints the Expand low (a clear op next to a low op) and then casts its
// 64x64 result for the fp32 Add; the cut keeps the Expand fp32 and casts
// the 1x64 before it.
// CHECK-LABEL: func.func @global_beats_greedy
// GREEDY-LABEL: func.func @global_beats_greedy
func.func @global_beats_greedy(%x: tensor<1x8xf32>, %w: tensor<8x64xf32>, %y: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %s = mpc.constant dense<[64, 64]> : tensor<2xi64>
  %0 = mpc.matmul %x, %w : (tensor<1x8xf32>, tensor<8x64xf32>) -> tensor<1x64xf32>
  // CHECK: mpc.expand {{.*}}#mpc.decision<clear, fp32, "inferred fp32 (min cast bytes)
  // GREEDY: mpc.expand {{.*}}#mpc.decision<clear, low, "greedy: clear op next to low-precision op 'mpc.matmul' (MatMul)">
  %1 = mpc.expand %0, %s : (tensor<1x64xf32>, tensor<2xi64>) -> tensor<64x64xf32>
  // CHECK: mpc.add {{.*}}#mpc.decision<infer, fp32
  // GREEDY: mpc.add {{.*}}#mpc.decision<infer, fp32, "greedy: not between low-precision ops">
  %2 = mpc.add %1, %y : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  return %2 : tensor<64x64xf32>
}

// -----

// A low value read by fp32 ops is one hyperedge: infer ops next to the
// softmax stay fp32 rather than add a second cast.
// CHECK-LABEL: func.func @fan_out
func.func @fan_out(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0 = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.softmax {{.*}}#mpc.decision<deny, fp32
  %1 = mpc.softmax %0 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: mpc.abs {{.*}}#mpc.decision<clear, fp32
  %2 = mpc.abs %0 : tensor<4x8xf32> -> tensor<4x8xf32>
  return %1, %2 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Ops whose types the model fixes get no decision; BatchNorm is inferred.
// CHECK-LABEL: func.func @not_decided
func.func @not_decided(%x: tensor<2x3x4x4xf32>, %c: tensor<3xf32>) -> (tensor<4xi64>, tensor<2x3x4x4xf16>) {
  // CHECK: mpc.shape
  // CHECK-NOT: mpc.decision
  %0 = mpc.shape %x : (tensor<2x3x4x4xf32>) -> tensor<4xi64>
  // CHECK: mpc.batch_norm {{.*}}#mpc.decision<infer,
  %1:3 = mpc.batch_norm %x, %c, %c, %c, %c : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  // CHECK: mpc.convert %{{[^ ]*}} : tensor
  %2 = mpc.convert %1#0 : tensor<2x3x4x4xf32> to tensor<2x3x4x4xf16>
  return %0, %2 : tensor<4xi64>, tensor<2x3x4x4xf16>
}

// -----

// Unknown op types are inferred with a warning; without type inference
// they keep their types.
// CHECK-LABEL: func.func @unknown
func.func @unknown(%x: tensor<4xf32>) -> tensor<4xf32> {
  // WARN: warning: op type 'test.unknown' has no precision class; inferring it
  // CHECK: "test.unknown"{{.*}}#mpc.decision<infer, fp32, "infer (unknown op type): kept fp32, its result types cannot be re-inferred">
  %0 = "test.unknown"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

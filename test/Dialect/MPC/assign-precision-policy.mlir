// RUN: rm -rf %t && mkdir -p %t
// RUN: echo '{"infer": ["Softmax"], "deny": ["Add"], "nodes": {"/enc/layer.3/*": "fp32", "/enc/layer.1/mm": "low", "/enc/layer.1/exp": "low"}}' > %t/policy.json
// RUN: mpc-opt %s --mpc-assign-precision=policy=%t/policy.json | FileCheck %s
// RUN: mpc-opt %s --mpc-assign-precision=strict=true | FileCheck %s --check-prefix=DEFAULT

// Class overrides move op types between lists; node pins (exact names or
// globs) win over every class rule.
// CHECK-LABEL: func.func @policy
// DEFAULT-LABEL: func.func @policy
func.func @policy(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  // CHECK: mpc.matmul {{.*}}#mpc.decision<allow, low, "node override '/enc/layer.1/mm' in policy">
  %0 = mpc.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("/enc/layer.1/mm")
  // CHECK: mpc.exp {{.*}}#mpc.decision<deny, low, "node override '/enc/layer.1/exp' in policy">
  // DEFAULT: mpc.exp {{.*}}#mpc.decision<deny, fp32, "deny (default list)">
  %1 = mpc.exp %0 : tensor<4x8xf32> -> tensor<4x8xf32> loc("/enc/layer.1/exp")
  // CHECK: mpc.add {{.*}}#mpc.decision<deny, fp32, "deny (policy list)">
  // DEFAULT: mpc.add {{.*}}#mpc.decision<infer,
  %2 = mpc.add %1, %1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> loc("/enc/layer.2/add")
  // CHECK: mpc.matmul {{.*}}#mpc.decision<allow, fp32, "node override '/enc/layer.3/*' in policy">
  // DEFAULT: mpc.matmul {{.*}}#mpc.decision<allow, low, "allow (default list)">
  %3 = mpc.matmul %2, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("/enc/layer.3/mm")
  // CHECK: mpc.softmax {{.*}}#mpc.decision<infer, {{.*}}"{{.*}}">
  // DEFAULT: mpc.softmax {{.*}}#mpc.decision<deny, fp32, "deny (default list)">
  %4 = mpc.softmax %3 : (tensor<4x8xf32>) -> tensor<4x8xf32> loc("/enc/softmax")
  return %4 : tensor<4x8xf32>
}

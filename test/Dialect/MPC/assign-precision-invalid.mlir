// RUN: mpc-opt %s --split-input-file --allow-unregistered-dialect --verify-diagnostics --mpc-assign-precision=strict=true

// Strict mode: an op type without a class is an error naming the node.
func.func @strict(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{op type 'foo.bar' of node 'foo.bar' (foo.bar) has no precision class (strict mode)}}
  %0 = "foo.bar"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// RUN: mpc-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect --mpc-insert-casts

// expected-error @+1 {{has precision decisions but the module names no low-precision type (run mpc-assign-precision)}}
func.func @no_low_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = mpc.exp %x {mpc.decision = #mpc.decision<deny, fp32, "test">} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

module attributes {mpc.low_precision = bf16} {
  // expected-error @+1 {{mpc-insert-casts expects single-block functions}}
  func.func @two_blocks(%x: tensor<4xf32>) -> tensor<4xf32> {
    "test.br"()[^bb1] : () -> ()
  ^bb1:
    return %x : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{expected 'low' or 'fp32'}}
func.func private @f() attributes {d = #mpc.decision<allow, maybe, "x">}

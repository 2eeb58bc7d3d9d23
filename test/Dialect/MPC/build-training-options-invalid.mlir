// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-build-training=optimizer=lamb
// RUN: not mpc-opt %s --mpc-build-training=loss=hinge 2>&1 | FileCheck %s --check-prefix=LOSS
// RUN: not mpc-opt %s --mpc-build-training="loss=model" 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not mpc-opt %s --mpc-build-training="output=probs" 2>&1 | FileCheck %s --check-prefix=OUTPUT

// expected-error @+1 {{mpc-build-training: optimizer must be sgd, momentum, adam or adamw, got 'lamb'}}
module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x2xf32>
  func.func @main(%x: tensor<2x2xf32> {mpc.name = "x"}) -> (tensor<2x2xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w : tensor<2x2xf32>
    %m = mpc.matmul %x, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    return %m : tensor<2x2xf32>
  }
}
// LOSS: loss must be model, cross-entropy or mse, got 'hinge'
// MODEL: loss=model needs output 'logits' to be the model's scalar loss, it has type 'tensor<2x2xf32>'
// OUTPUT: no output named 'probs' (outputs: logits)

// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-loss-scaling
// RUN: not mpc-opt %s --split-input-file --mpc-loss-scaling=mode=sometimes 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: not mpc-opt %s --split-input-file --mpc-loss-scaling=backoff-factor=2 2>&1 | FileCheck %s --check-prefix=BACKOFF

// MODE: mpc-loss-scaling: mode must be dynamic, static or none, got 'sometimes'
// BACKOFF: mpc-loss-scaling: needs init > 0, growth-factor >= 1, 0 < backoff-factor < 1, growth-interval >= 1 and max >= init

// expected-error @+1 {{no @train_step / @init (run --mpc-build-training first)}}
module {
  func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

module {
  // expected-error @+1 {{@train_step has no loss-gradient seed or no optimizer update (was it built by --mpc-build-training?)}}
  func.func @train_step(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
  func.func @init() -> tensor<2xf32> {
    %c = mpc.constant dense<0.0> : tensor<2xf32>
    return %c : tensor<2xf32>
  }
}

// -----

module {
  // expected-error @+1 {{@train_step is already loss-scaled}}
  func.func @train_step(%w: tensor<2xf32> {mpc.slot = #mpc.slot<param, "w">}, %s: tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}, %lr: tensor<f32>) -> (tensor<2xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}) {
    %seed = mpc.constant {mpc.loss_seed} dense<1.0> : tensor<f32>
    %g = mpc.mul %w, %seed : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
    %n = mpc.sgd_update %w, %g, %lr, %lr : tensor<2xf32>, tensor<f32>
    return %n, %s : tensor<2xf32>, tensor<f32>
  }
  func.func @init() -> (tensor<2xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}) {
    %c = mpc.constant dense<0.0> : tensor<2xf32>
    %s = mpc.constant dense<1.0> : tensor<f32>
    return %c, %s : tensor<2xf32>, tensor<f32>
  }
}

// RUN: mpc-opt %s --mpc-training-pipeline="optimizer=sgd loss-scaling=dynamic loss-scale-init=1024" > %t.pipeline
// RUN: mpc-opt %s --mpc-decompose --mpc-build-training=optimizer=sgd --mpc-loss-scaling="init=1024" > %t.stages
// RUN: diff %t.pipeline %t.stages
// RUN: FileCheck %s < %t.pipeline
// RUN: mpc-opt %s --mpc-training-pipeline | FileCheck %s --check-prefix=DEFAULT
// RUN: not mpc-opt %s --mpc-training-pipeline=running-variance=biased 2>&1 | FileCheck %s --check-prefix=BADVAR
// RUN: not mpc-opt %s --mpc-training-pipeline=loss-scaling=sometimes 2>&1 | FileCheck %s --check-prefix=BADSCALING

// The training stage the compiler runs before precision, as one named
// pipeline: the same program as its three passes one by one (decompose,
// build-training, loss-scaling), with the options the driver's flags set.
module {
  mpc.parameter @w1 trainable = dense<0.5> : tensor<3x4xf32>
  mpc.parameter @b1 trainable = dense<0.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x4xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w1 : tensor<3x4xf32>
    %b = mpc.get_parameter @b1 : tensor<3xf32>
    %h = mpc.gemm %x, %w, %b {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %s = mpc.sigmoid %h : tensor<2x3xf32> -> tensor<2x3xf32>
    return %s : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: {mpc.slot = #mpc.slot<loss_scale>}
// CHECK: mpc.unscale_gradients
// CHECK: mpc.sgd_update
// CHECK: mpc.update_loss_scale
// CHECK-LABEL: func.func @eval_step
// CHECK-LABEL: func.func @init
// CHECK: mpc.constant dense<1.024000e+03> : tensor<f32>

// Defaults: AdamW, no loss scaling (the compiler resolves `auto` from the
// precision before it builds this pipeline).
// DEFAULT-LABEL: func.func @train_step
// DEFAULT-NOT: loss_scale
// DEFAULT: mpc.adam_update {{.*}} {decoupled}

// BADVAR: --running-variance option: Cannot find option named 'biased'
// BADSCALING: mode must be dynamic, static or none, got 'sometimes'

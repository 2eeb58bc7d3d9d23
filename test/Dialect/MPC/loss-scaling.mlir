// RUN: mpc-opt %s --mpc-build-training=optimizer=sgd --mpc-loss-scaling="growth-interval=3 init=1024" | FileCheck %s
// RUN: mpc-opt %s --mpc-build-training=optimizer=sgd --mpc-loss-scaling="mode=static init=128" | FileCheck %s --check-prefix=STATIC
// RUN: mpc-opt %s --mpc-build-training=optimizer=sgd --mpc-loss-scaling=mode=none | FileCheck %s --check-prefix=NONE
// RUN: mpc-opt %S/Inputs/batchnorm-dropout.mlir --mpc-build-training=optimizer=sgd --mpc-loss-scaling | FileCheck %s --check-prefix=STATE

// Loss scaling of a Gemm + Relu + cross-entropy step, as ops: the seed is
// the scale, gradients are unscaled in fp32 with one finite check before
// the update, a non-finite step keeps the old state, the scale adapts.
module {
  mpc.parameter @w1 trainable = dense<0.5> : tensor<3x4xf32>
  mpc.parameter @b1 trainable = dense<0.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x4xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w1 : tensor<3x4xf32>
    %b = mpc.get_parameter @b1 : tensor<3xf32>
    %h = mpc.gemm %x, %w, %b {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %r = mpc.relu %h : tensor<2x3xf32> -> tensor<2x3xf32>
    return %r : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W:[^:]+]]: tensor<3x4xf32> {mpc.slot = #mpc.slot<param, "w1">}, %[[B:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<param, "b1">}, %[[STEP:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<step>}, %[[SCALE:[^:]+]]: tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}, %[[CLEAN:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<loss_scale_clean_steps>}, %[[SKIPPED:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<skipped_steps>}, %{{[^:]+}}: tensor<2x4xf32> {mpc.name = "x"}
// CHECK-SAME: -> (tensor<3x4xf32> {mpc.slot = #mpc.slot<param, "w1">}, tensor<3xf32> {mpc.slot = #mpc.slot<param, "b1">}, tensor<i64> {mpc.slot = #mpc.slot<step>}, tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}, tensor<i64> {mpc.slot = #mpc.slot<loss_scale_clean_steps>}, tensor<i64> {mpc.slot = #mpc.slot<skipped_steps>}, tensor<f32> {mpc.name = "loss", mpc.role = #mpc.role<loss>})
// CHECK: %[[LOSS:[^,]+]], %[[LOGP:.+]] = mpc.softmax_cross_entropy_loss
// The loss's gradient seed is the scale: every gradient is scaled.
// CHECK-NOT: mpc.loss_seed
// CHECK: mpc.softmax_cross_entropy_loss_grad %[[LOGP]], %{{.+}}, %[[SCALE]]
// CHECK: %[[DW:.+]] = mpc.gemm
// CHECK: %[[DB:.+]] = mpc.reshape
// One unscale and finite check over all gradients, before any update.
// CHECK: %[[U:.+]]:2, %[[FINITE:.+]] = mpc.unscale_gradients %[[DW]], %[[DB]], %[[SCALE]] : (tensor<3x4xf32>, tensor<3xf32>, tensor<f32>) -> (tensor<3x4xf32>, tensor<3xf32>, tensor<i1>)
// CHECK: %[[NW:.+]] = mpc.sgd_update %[[W]], %[[U]]#0
// CHECK: %[[NB:.+]] = mpc.sgd_update %[[B]], %[[U]]#1
// CHECK: %[[NS:.+]] = mpc.add %[[STEP]]
// A skipped step keeps weights, optimizer state and step count.
// CHECK: %[[KW:.+]] = mpc.where %[[FINITE]], %[[NW]], %[[W]]
// CHECK: %[[KB:.+]] = mpc.where %[[FINITE]], %[[NB]], %[[B]]
// CHECK: %[[KS:.+]] = mpc.where %[[FINITE]], %[[NS]], %[[STEP]]
// CHECK: %[[NEWSCALE:.+]], %[[NEWCLEAN:.+]] = mpc.update_loss_scale %[[SCALE]], %[[CLEAN]], %[[FINITE]] {growth_interval = 3 : i64} : tensor<f32>, tensor<i64>, tensor<i1>
// CHECK: %[[INC:.+]] = mpc.add %[[SKIPPED]]
// CHECK: %[[NSKIP:.+]] = mpc.where %[[FINITE]], %[[SKIPPED]], %[[INC]]
// CHECK: return %[[KW]], %[[KB]], %[[KS]], %[[NEWSCALE]], %[[NEWCLEAN]], %[[NSKIP]], %[[LOSS]] :

// Evaluation is not scaled.
// CHECK-LABEL: func.func @eval_step
// CHECK-NOT: loss_scale

// CHECK-LABEL: func.func @init()
// CHECK: %[[INIT:.+]] = mpc.constant dense<1.024000e+03> : tensor<f32>
// CHECK: %[[Z1:.+]] = mpc.constant dense<0> : tensor<i64>
// CHECK: %[[Z2:.+]] = mpc.constant dense<0> : tensor<i64>
// CHECK: return %{{.+}}, %{{.+}}, %{{.+}}, %[[INIT]], %[[Z1]], %[[Z2]] :

// Static: the scale never changes, non-finite steps are still skipped.
// STATIC-LABEL: func.func @train_step
// STATIC: mpc.unscale_gradients
// STATIC-NOT: mpc.update_loss_scale
// STATIC: return %{{.+}}, %{{.+}}, %{{.+}}, %arg3, %arg4,
// STATIC-LABEL: func.func @init()
// STATIC: mpc.constant dense<1.280000e+02>

// NONE-LABEL: func.func @train_step
// NONE-NOT: loss_scale
// NONE: mpc.constant {mpc.loss_seed} dense<1.000000e+00>
// NONE-NOT: mpc.unscale_gradients

// A skipped step keeps the running statistics too (a non-finite forward
// would poison them), but the Dropout counter advances: the next step
// draws new masks.
// STATE-LABEL: func.func @train_step
// STATE-SAME: %[[RM:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rmean">}, %[[RV:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rvar">}, %[[RNG:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<dropout_rng>}
// STATE: %{{.+}}, %[[NM:[^,]+]], %[[NV:[^ ]+]] = mpc.batch_norm
// STATE: %{{.+}}, %[[FINITE:[^ ]+]] = mpc.unscale_gradients
// STATE: %[[NRNG:.+]] = mpc.add %[[RNG]]
// STATE: %[[KM:.+]] = mpc.where %[[FINITE]], %[[NM]], %[[RM]]
// STATE: %[[KV:.+]] = mpc.where %[[FINITE]], %[[NV]], %[[RV]]
// STATE-NOT: mpc.where %[[FINITE]], %[[NRNG]]
// STATE: return %{{.+}}, %{{.+}}, %[[KM]], %[[KV]], %[[NRNG]],

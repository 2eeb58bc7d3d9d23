// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd clip-grad-norm=0.5 clip-grad-value=0.25" | FileCheck %s --check-prefix=CLIP
// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd clip-grad-norm=0.5" --mpc-loss-scaling | FileCheck %s --check-prefix=SCALED
// RUN: not mpc-opt %s --mpc-build-training="clip-grad-norm=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// Gradient clipping (clip-grad-norm, clip-grad-value): the thresholds are
// runtime inputs after lr and weight decay, scaled by the loss-gradient
// seed; the step returns the global norm before clipping, unscaled.
// CLIP-LABEL: func.func @train_step
// CLIP-SAME: %[[MAXNORM:[^:]+]]: tensor<f32> {mpc.name = "max_grad_norm", mpc.role = #mpc.role<max_grad_norm>}, %[[CLIPV:[^:]+]]: tensor<f32> {mpc.name = "grad_clip_value", mpc.role = #mpc.role<grad_clip_value>})
// CLIP-SAME: tensor<f32> {mpc.name = "loss", mpc.role = #mpc.role<loss>}, tensor<f32> {mpc.name = "grad_norm", mpc.role = #mpc.role<grad_norm>})
// CLIP-SAME: clip_grad_norm = 5.000000e-01 : f32, clip_grad_value = 2.500000e-01 : f32
// CLIP: %[[SEED:.+]] = mpc.constant {mpc.loss_seed} dense<1.000000e+00> : tensor<f32>
// By value first: [-v S, v S].
// CLIP: %[[BOUND:.+]] = mpc.mul %[[CLIPV]], %[[SEED]]
// CLIP: mpc.max
// CLIP: mpc.min {{.*}}, %[[BOUND]]
// Then by norm: sqrt of the summed squares, max_norm S / (norm + 1e-6 S).
// CLIP: %[[NORM:.+]] = mpc.sqrt
// CLIP: %[[LIMIT:.+]] = mpc.mul %[[MAXNORM]], %[[SEED]]
// CLIP: %[[RATIO:.+]] = mpc.div %[[LIMIT]]
// CLIP: %[[COEF:.+]] = mpc.min %[[RATIO]]
// CLIP: mpc.mul {{.*}}, %[[COEF]]
// CLIP: %[[UNSCALED:.+]] = mpc.div %[[NORM]], %[[SEED]]
// CLIP: mpc.sgd_update
// CLIP: return {{.*}}, %[[UNSCALED]] :
module {
  mpc.parameter @w1 trainable = dense<0.5> : tensor<3x4xf32>
  mpc.parameter @b1 trainable = dense<0.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x4xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w1 : tensor<3x4xf32>
    %b = mpc.get_parameter @b1 : tensor<3xf32>
    %h = mpc.gemm %x, %w, %b {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %h : tensor<2x3xf32>
  }
}

// With loss scaling the seed is the scale: the threshold and the norm are
// scaled and unscaled by it, and the unscale reads the clipped gradients.
// SCALED-LABEL: func.func @train_step
// SCALED-SAME: %[[SCALE:[^:]+]]: tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}
// SCALED-NOT: mpc.loss_seed
// SCALED: mpc.sqrt
// SCALED: mpc.mul %{{.+}}, %[[SCALE]]
// SCALED: mpc.unscale_gradients

// NEGATIVE: error: mpc-build-training: clip-grad-norm and clip-grad-value must be 0 (none) or positive

// RUN: mpc-opt %s --mpc-build-training="optimizer=adam accumulate=4" | FileCheck %s --check-prefix=ACC
// RUN: mpc-opt %s --mpc-build-training="optimizer=adam accumulate=4" --mpc-loss-scaling | FileCheck %s --check-prefix=SCALED
// RUN: mpc-opt %s --mpc-build-training="optimizer=sgd" | FileCheck %s --check-prefix=NONE
// RUN: not mpc-opt %s --mpc-build-training="accumulate=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// Gradient accumulation (accumulate=K): one fp32 accumulator per
// parameter after the optimizer's slots, K and the apply flag as runtime
// inputs after lr and weight decay, K recorded as the default.
// ACC-LABEL: func.func @train_step
// ACC-SAME: %[[M:[^:]+]]: tensor<3x4xf32> {mpc.slot = #mpc.slot<adam_m, "w1">}
// ACC-SAME: %[[ACCW:[^:]+]]: tensor<3x4xf32> {mpc.slot = #mpc.slot<grad_accum, "w1">}, %[[ACCB:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<grad_accum, "b1">}, %[[STEP:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<step>}
// ACC-SAME: %[[K:[^:]+]]: tensor<f32> {mpc.name = "accumulation_steps", mpc.role = #mpc.role<accumulation_steps>}, %[[APPLY:[^:]+]]: tensor<f32> {mpc.name = "apply_update", mpc.role = #mpc.role<apply_update>})
// ACC-SAME: accumulate = 4 : i64
// The window's sum and its mean, which the optimizer reads.
// ACC: %[[GWGRAD:.+]] = mpc.gemm {{.*}}trans_a
// ACC: %[[ON:.+]] = mpc.greater %[[APPLY]]
// ACC: %[[RECIP:.+]] = mpc.div %{{.+}}, %[[K]]
// ACC: %[[SUMW:.+]] = mpc.add %[[ACCW]], %[[GWGRAD]]
// ACC: %[[MEANW:.+]] = mpc.mul %[[SUMW]], %[[RECIP]]
// ACC: %[[NEWW:[^,]+]], %[[NEWM:[^,]+]], %{{.+}} = mpc.adam_update %{{.+}}, %[[MEANW]], %[[M]]
// Only the call that ends the window updates; it clears the sums.
// ACC: %[[NEXTSTEP:.+]] = mpc.add %[[STEP]]
// ACC: %[[W:.+]] = mpc.where %[[ON]], %[[NEWW]], %arg0
// ACC: mpc.where %[[ON]], %[[NEWM]], %[[M]]
// ACC: %[[S:.+]] = mpc.where %[[ON]], %[[NEXTSTEP]], %[[STEP]]
// ACC: %[[ZEROS:.+]] = mpc.constant dense<0.000000e+00> : tensor<3x4xf32>
// ACC: %[[CLEARW:.+]] = mpc.where %[[ON]], %[[ZEROS]], %[[SUMW]]
// ACC: return %[[W]], {{.*}}, %[[CLEARW]], %{{[^,]+}}, %[[S]], %{{[^,]+}} :
// @init: the accumulators start at zero.
// ACC-LABEL: func.func @init
// ACC: %[[Z:.+]] = mpc.constant dense<0.000000e+00> : tensor<3x4xf32>

// Under loss scaling, the finite check is the window's sum's; a
// micro-batch's overflow stays in the accumulators (not rolled back), and
// the scale and the skipped-step count change only at the update.
// SCALED-LABEL: func.func @train_step
// SCALED-SAME: %[[ACCW:[^:]+]]: tensor<3x4xf32> {mpc.slot = #mpc.slot<grad_accum, "w1">}
// SCALED-SAME: %[[SCALE:[^:]+]]: tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}, %[[CLEAN:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<loss_scale_clean_steps>}, %[[SKIPPED:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<skipped_steps>}
// SCALED-SAME: %[[APPLY:[^:]+]]: tensor<f32> {mpc.name = "apply_update"
// SCALED: %[[SUMW:.+]] = mpc.add %[[ACCW]]
// SCALED: %[[MEANW:.+]] = mpc.mul %[[SUMW]]
// SCALED: %{{.+}}, %[[FINITE:.+]] = mpc.unscale_gradients %[[MEANW]], %{{.+}}, %[[SCALE]]
// SCALED: %[[CLEARW:.+]] = mpc.where %{{.+}}, %{{.+}}, %[[SUMW]]
// SCALED: %[[ON:.+]] = mpc.greater %[[APPLY]]
// SCALED-NOT: mpc.where %[[FINITE]], %[[CLEARW]]
// SCALED: %[[NEWSCALE:.+]], %[[NEWCLEAN:.+]] = mpc.update_loss_scale %[[SCALE]], %[[CLEAN]], %[[FINITE]]
// SCALED: %[[KEPTSCALE:.+]] = mpc.where %[[ON]], %[[NEWSCALE]], %[[SCALE]]
// SCALED: %[[KEPTCLEAN:.+]] = mpc.where %[[ON]], %[[NEWCLEAN]], %[[CLEAN]]
// SCALED: %[[COUNTED:.+]] = mpc.where %[[FINITE]], %[[SKIPPED]]
// SCALED: %[[KEPTSKIPPED:.+]] = mpc.where %[[ON]], %[[COUNTED]], %[[SKIPPED]]
// SCALED: return {{.*}}, %[[CLEARW]], {{.*}}, %[[KEPTSCALE]], %[[KEPTCLEAN]], %[[KEPTSKIPPED]], %{{[^,]+}} :

// Without the option, nothing of it.
// NONE-LABEL: func.func @train_step
// NONE-NOT: grad_accum
// NONE-NOT: apply_update
// NONE: return

// ZERO: error: mpc-build-training: accumulate must be 1 (none) or more micro-batches, got 0
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

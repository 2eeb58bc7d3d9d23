// RUN: mpc-opt %s --split-input-file --mpc-build-training="loss=model output=loss optimizer=sgd" 2>&1 | FileCheck %s

// loss=model: the model's own scalar loss; no label input. A parameter
// that does not reach the loss gets a zero gradient and a warning.
module {
  mpc.parameter @w trainable = dense<2.0> : tensor<4xf32>
  // CHECK: warning: trainable parameter 'unused' does not affect the loss; its gradient is 0
  mpc.parameter @unused trainable = dense<1.0> : tensor<2xf32>
  func.func @main(%x: tensor<4xf32> {mpc.name = "x"}) -> (tensor<f32> {mpc.name = "loss"}, tensor<2xf32> {mpc.name = "other"}) {
    %w = mpc.get_parameter @w : tensor<4xf32>
    %u = mpc.get_parameter @unused : tensor<2xf32>
    %p = mpc.mul %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %l = mpc.reduce_sum %p {axes = array<i64: 0>, keepdims = false} : (tensor<4xf32>) -> tensor<f32>
    return %l, %u : tensor<f32>, tensor<2xf32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[X:[^:]+]]: tensor<4xf32> {mpc.name = "x"}, %[[LR:[^:]+]]: tensor<f32> {mpc.name = "lr", mpc.role = #mpc.role<learning_rate>}
// CHECK-SAME: mpc.optimizer = {loss = "model"
// CHECK: %[[SUM:.+]] = mpc.reduce_sum
// ReduceSum's rule broadcasts the seed back; Mul's multiplies by the other side.
// CHECK: %[[SEED:.+]] = mpc.constant {mpc.loss_seed}
// CHECK: %[[BACK:.+]] = mpc.expand
// CHECK: %[[DW:.+]] = mpc.mul %[[BACK]], %[[X]]
// CHECK: %[[ZERO:.+]] = mpc.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK: mpc.sgd_update %arg0, %[[DW]], %[[LR]]
// CHECK: mpc.sgd_update %arg1, %[[ZERO]], %[[LR]]
// CHECK: return {{.*}}, %[[SUM]] :
// CHECK-LABEL: func.func @eval_step
// CHECK-SAME: -> (tensor<f32> {mpc.name = "loss", mpc.role = #mpc.role<loss>}, tensor<f32> {mpc.name = "loss", mpc.role = #mpc.role<output>})

// -----

// log_softmax + nll_loss as the model's own loss: the likelihood's rule
// seeds -onehot(target) / N into LogSoftmax's.
module {
  mpc.parameter @scores trainable = dense<0.5> : tensor<4x3xf32>
  func.func @main(%t: tensor<4xi64> {mpc.name = "target"}) -> (tensor<f32> {mpc.name = "loss"}) {
    %s = mpc.get_parameter @scores : tensor<4x3xf32>
    %logp = mpc.log_softmax %s {axis = 1 : i64} : (tensor<4x3xf32>) -> tensor<4x3xf32>
    %l = mpc.negative_log_likelihood_loss %logp, %t : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
// CHECK-LABEL: func.func @train_step
// CHECK: %[[LOGP:.+]] = mpc.log_softmax
// CHECK: %[[SEED:.+]] = mpc.constant {mpc.loss_seed}
// CHECK: %[[DLOGP:.+]] = mpc.negative_log_likelihood_loss_grad %[[LOGP]], %{{.+}}, %[[SEED]] : (tensor<4x3xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x3xf32>
// CHECK: mpc.exp %[[LOGP]]
// CHECK: mpc.sgd_update %arg0


// RUN: mpc-opt %s --split-input-file --mpc-build-training=optimizer=sgd | FileCheck %s
// RUN: mpc-opt %s --split-input-file --mpc-build-training="optimizer=adamw lr=0.01" | FileCheck %s --check-prefix=ADAMW
// RUN: mpc-opt %s --split-input-file --mpc-build-training="optimizer=momentum nesterov=true weight-decay=0.5" | FileCheck %s --check-prefix=MOMENTUM
// RUN: mpc-opt %s --split-input-file --mpc-build-training="loss=mse optimizer=sgd" | FileCheck %s --check-prefix=MSE
// RUN: mpc-opt %s --split-input-file --mpc-build-training="optimizer=sgd running-variance=unbiased" | FileCheck %s --check-prefix=UNBIASED
// RUN: mpc-opt %s --split-input-file --mpc-build-training="optimizer=sgd running-variance=population" | FileCheck %s --check-prefix=POPULATION

// Gemm + Relu + cross-entropy: the gradient of each parameter, then an
// fp32 update of the master weights that the step takes and returns.
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
// CHECK-SAME: (%[[W:[^:]+]]: tensor<3x4xf32> {mpc.slot = #mpc.slot<param, "w1">}, %[[B:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<param, "b1">}, %[[STEP:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<step>}, %[[X:[^:]+]]: tensor<2x4xf32> {mpc.name = "x"}, %[[Y:[^:]+]]: tensor<2xi64> {mpc.name = "labels", mpc.role = #mpc.role<label>}, %[[LR:[^:]+]]: tensor<f32> {mpc.name = "lr", mpc.role = #mpc.role<learning_rate>}, %[[WD:[^:]+]]: tensor<f32> {mpc.name = "weight_decay", mpc.role = #mpc.role<weight_decay>})
// CHECK-SAME: -> (tensor<3x4xf32> {mpc.slot = #mpc.slot<param, "w1">}, tensor<3xf32> {mpc.slot = #mpc.slot<param, "b1">}, tensor<i64> {mpc.slot = #mpc.slot<step>}, tensor<f32> {mpc.name = "loss", mpc.role = #mpc.role<loss>})
// CHECK-SAME: mpc.optimizer = {loss = "cross-entropy", lr = 1.000000e-03 : f32, name = "sgd", weight_decay = 0.000000e+00 : f32}
// The forward reads the state, not the parameter symbols.
// CHECK-NOT: mpc.get_parameter
// CHECK: %[[H:.+]] = mpc.gemm %[[X]], %[[W]], %[[B]] {trans_b}
// CHECK: %[[R:.+]] = mpc.relu %[[H]]
// CHECK: %[[LOSS:.+]], %[[LOGP:.+]] = mpc.softmax_cross_entropy_loss %[[R]], %[[Y]] :
// CHECK: %[[SEED:.+]] = mpc.constant {mpc.loss_seed} dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DR:.+]] = mpc.softmax_cross_entropy_loss_grad %[[LOGP]], %[[Y]], %[[SEED]]
// Relu's rule: the gradient where the input was positive.
// CHECK: %[[POS:.+]] = mpc.greater %[[H]], %{{.+}} : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xi1>
// CHECK: %[[DH:.+]] = mpc.where %[[POS]], %[[DR]], %{{.+}}
// Gemm's rules: dW = dH^T x (trans_b), dB = the sum over the batch.
// CHECK: %[[DW:.+]] = mpc.gemm %[[DH]], %[[X]] {beta = 0.000000e+00 : f32, trans_a} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
// CHECK: %[[DBS:.+]] = mpc.reduce_sum %[[DH]] {axes = array<i64: 0>}
// CHECK: %[[DB:.+]] = mpc.reshape %[[DBS]]
// The input's gradient is not needed and not computed.
// CHECK-NOT: mpc.gemm
// CHECK: %[[NW:.+]] = mpc.sgd_update %[[W]], %[[DW]], %[[LR]], %[[WD]] : tensor<3x4xf32>, tensor<f32>
// CHECK: %[[NB:.+]] = mpc.sgd_update %[[B]], %[[DB]], %[[LR]], %[[WD]] : tensor<3xf32>, tensor<f32>
// The step counter is an i64 (an f32 stops counting at 2^24).
// CHECK: %[[NS:.+]] = mpc.add %[[STEP]], %{{.+}} : (tensor<i64>, tensor<i64>) -> tensor<i64>
// CHECK: return %[[NW]], %[[NB]], %[[NS]], %[[LOSS]]

// Evaluation: one loss per sample, so padding can be masked.
// CHECK-LABEL: func.func @eval_step
// CHECK-SAME: -> (tensor<2xf32> {mpc.name = "loss", mpc.role = #mpc.role<loss>}, tensor<2x3xf32> {mpc.name = "logits", mpc.role = #mpc.role<output>})
// CHECK: mpc.softmax_cross_entropy_loss %{{.+}}, %{{.+}} {reduction = #mpc<reduction none>}
// CHECK-NOT: _update

// CHECK-LABEL: func.func @init()
// CHECK-SAME: -> (tensor<3x4xf32> {mpc.slot = #mpc.slot<param, "w1">}, tensor<3xf32> {mpc.slot = #mpc.slot<param, "b1">}, tensor<i64> {mpc.slot = #mpc.slot<step>})
// CHECK-DAG: %[[IW:.+]] = mpc.get_parameter @w1
// CHECK-DAG: %[[IB:.+]] = mpc.get_parameter @b1
// CHECK-DAG: %[[ZERO:.+]] = mpc.constant dense<0> : tensor<i64>
// CHECK: return %[[IW]], %[[IB]], %[[ZERO]]

// AdamW: two fp32 slots per parameter, decoupled decay (default 0.01).
// ADAMW-LABEL: func.func @train_step
// ADAMW-SAME: {mpc.slot = #mpc.slot<adam_m, "w1">}
// ADAMW-SAME: {mpc.slot = #mpc.slot<adam_v, "b1">}
// ADAMW-SAME: mpc.optimizer = {loss = "cross-entropy", lr = 0.00999999977 : f32, name = "adamw", weight_decay = 0.00999999977 : f32}
// ADAMW: %{{.+}}, %{{.+}}, %{{.+}} = mpc.adam_update %arg0, %{{.+}}, %arg2, %arg4, %arg{{[0-9]+}}, %arg6, %arg{{[0-9]+}} {decoupled} : tensor<3x4xf32>, tensor<f32>, tensor<i64>
// ADAMW: mpc.adam_update %arg1, %{{.+}}, %arg3, %arg5, %{{.+}} {decoupled} : tensor<3xf32>, tensor<f32>, tensor<i64>
// ADAMW-LABEL: func.func @init()
// ADAMW: mpc.constant dense<0.000000e+00> : tensor<3x4xf32>

// MOMENTUM-LABEL: func.func @train_step
// MOMENTUM-SAME: {mpc.slot = #mpc.slot<momentum, "w1">}
// MOMENTUM-SAME: weight_decay = 5.000000e-01 : f32
// MOMENTUM: mpc.momentum_update %arg0, %{{.+}}, %arg2, %arg7, %arg4, %arg8 {nesterov}

// Mean squared error: float labels of the output shape; the eval loss is
// per sample.
// MSE-LABEL: func.func @train_step
// MSE-SAME: %[[Y:[^:]+]]: tensor<2x3xf32> {mpc.name = "labels", mpc.role = #mpc.role<label>}
// MSE: %[[D:.+]] = mpc.sub %{{.+}}, %[[Y]]
// MSE: %[[SQ:.+]] = mpc.mul %[[D]], %[[D]]
// MSE: mpc.reduce_mean %[[SQ]] {axes = array<i64: 0, 1>, keepdims = false}
// MSE-LABEL: func.func @eval_step
// MSE: mpc.reduce_mean %{{.+}} {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>

// -----

// Training-mode BatchNorm keeps its running statistics as state ("stat:")
// that the forward updates; Dropout draws from a counter ("dropout_rng")
// each step advances, one stream per node. The eval step reads the
// statistics and runs both ops in inference mode.
module {
  mpc.parameter @scale trainable = dense<1.0> : tensor<3xf32>
  mpc.parameter @bias trainable = dense<0.0> : tensor<3xf32>
  mpc.parameter @rmean = dense<0.0> : tensor<3xf32>
  mpc.parameter @rvar = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "logits"}) {
    %s = mpc.get_parameter @scale : tensor<3xf32>
    %b = mpc.get_parameter @bias : tensor<3xf32>
    %m = mpc.get_parameter @rmean : tensor<3xf32>
    %v = mpc.get_parameter @rvar : tensor<3xf32>
    %y, %nm, %nv = mpc.batch_norm %x, %s, %b, %m, %v {training} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
    %d, %mask = mpc.dropout %y {ratio = 0.25 : f32, training} : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
    %e, %mask2 = mpc.dropout %d {ratio = 0.5 : f32, training} : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
    return %e : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[S:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<param, "scale">}, %[[B:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<param, "bias">}, %[[RM:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rmean">}, %[[RV:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rvar">}, %[[RNG:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<dropout_rng>}, %[[STEP:[^:]+]]: tensor<i64> {mpc.slot = #mpc.slot<step>}, %[[X:[^:]+]]: tensor<2x3xf32> {mpc.name = "x"}
// CHECK: %[[Y:[^,]+]], %[[NEWMEAN:[^,]+]], %[[NEWVAR:[^ ]+]] = mpc.batch_norm %[[X]], %[[S]], %[[B]], %[[RM]], %[[RV]] {training}
// CHECK: %[[D:[^,]+]], %{{.+}} = mpc.dropout %[[Y]], %[[RNG]] {ratio = 2.500000e-01 : f32, training}
// CHECK: mpc.dropout %[[D]], %[[RNG]] {stream = 1 : i64, training}
// The input gradient is not needed; the scale's goes through the batch
// statistics recomputed from the input.
// CHECK: %[[MU:.+]] = mpc.reduce_mean %[[X]] {axes = array<i64: 0>}
// CHECK: %[[CENTRED:.+]] = mpc.sub %[[X]], %[[MU]]
// CHECK: mpc.mul %[[CENTRED]], %[[CENTRED]]
// CHECK: %[[NEWS:.+]] = mpc.sgd_update %[[S]]
// CHECK: %[[NEWB:.+]] = mpc.sgd_update %[[B]]
// CHECK: %[[NEWRNG:.+]] = mpc.add %[[RNG]], %{{.+}} : (tensor<i64>, tensor<i64>) -> tensor<i64>
// CHECK: %[[NEWSTEP:.+]] = mpc.add %[[STEP]]
// CHECK: return %[[NEWS]], %[[NEWB]], %[[NEWMEAN]], %[[NEWVAR]], %[[NEWRNG]], %[[NEWSTEP]], %{{.+}} :
// CHECK-LABEL: func.func @eval_step
// CHECK-SAME: (%[[ES:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<param, "scale">}, %[[EB:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<param, "bias">}, %[[ERM:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rmean">}, %[[ERV:[^:]+]]: tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rvar">}, %[[EX:[^:]+]]: tensor<2x3xf32> {mpc.name = "x"}
// CHECK: mpc.batch_norm %[[EX]], %[[ES]], %[[EB]], %[[ERM]], %[[ERV]] :
// CHECK-NOT: training
// CHECK-LABEL: func.func @init
// CHECK-SAME: {mpc.slot = #mpc.slot<stat, "rmean">}, tensor<3xf32> {mpc.slot = #mpc.slot<stat, "rvar">}, tensor<i64> {mpc.slot = #mpc.slot<dropout_rng>}, tensor<i64> {mpc.slot = #mpc.slot<step>})
// CHECK-DAG: %[[IRM:.+]] = mpc.get_parameter @rmean
// CHECK-DAG: %[[IRV:.+]] = mpc.get_parameter @rvar
// CHECK: return %{{.+}}, %{{.+}}, %[[IRM]], %[[IRV]], %{{.+}}, %{{.+}} :

// -----

// An embedding (Gather of a trainable table): the gradient is a scatter-add
// over the [before, indices, after] view, reshaped back to the table.
module {
  mpc.parameter @table trainable = dense<0.5> : tensor<10x4xf32>
  func.func @main(%ids: tensor<2x3xi64> {mpc.name = "ids"}) -> (tensor<2x3x4xf32> {mpc.name = "logits"}) {
    %t = mpc.get_parameter @table : tensor<10x4xf32>
    %e = mpc.gather %t, %ids : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
    return %e : tensor<2x3x4xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[T:[^:]+]]: tensor<10x4xf32> {mpc.slot = #mpc.slot<param, "table">}, %{{[^:]+}}: tensor<i64> {mpc.slot = #mpc.slot<step>}, %[[IDS:[^:]+]]: tensor<2x3xi64>
// CHECK: %[[G:.+]] = mpc.softmax_cross_entropy_loss_grad
// CHECK: %[[G3:.+]] = mpc.reshape %[[G]], %{{.+}} : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<1x6x4xf32>
// CHECK: %[[I1:.+]] = mpc.reshape %[[IDS]], %{{.+}} : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<6xi64>
// CHECK: %[[DT:.+]] = mpc.gather_grad %[[G3]], %[[I1]] {num_rows = 10 : i64} : (tensor<1x6x4xf32>, tensor<6xi64>) -> tensor<1x10x4xf32>
// CHECK: %[[D:.+]] = mpc.reshape %[[DT]], %{{.+}} : (tensor<1x10x4xf32>, tensor<2xi64>) -> tensor<10x4xf32>
// CHECK: mpc.sgd_update %[[T]], %[[D]]

// -----

// MaxPool: windows that tile the input take mpc.max_pool_grad; others
// (here overlapping) the slices of the general rule.
module {
  mpc.parameter @w trainable = dense<0.5> : tensor<1x2x4x4xf32>
  func.func @main(%x: tensor<1x2x4x4xf32> {mpc.name = "x"}) -> (tensor<1x2x1x1xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w : tensor<1x2x4x4xf32>
    %a = mpc.mul %x, %w : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %p = mpc.max_pool %a {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32>
    %q = mpc.max_pool %p {kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>) -> tensor<1x2x1x1xf32>
    return %q : tensor<1x2x1x1xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK: %[[A:.+]] = mpc.mul
// CHECK: %[[P:.+]] = mpc.max_pool %[[A]] {{.+}}strides = array<i64: 2, 2>
// CHECK: %[[Q:.+]] = mpc.max_pool %[[P]] {{.+}}strides = array<i64: 1, 1>
// CHECK: mpc.slice
// CHECK-NOT: mpc.max_pool_grad %[[P]]
// CHECK: mpc.max_pool_grad %[[A]], %{{.+}} {kernel_shape = array<i64: 2, 2>} : (tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x4x4xf32>

// -----

// running-variance=auto: a model PyTorch exported folds the unbiased
// batch variance into BatchNorm's running variance, as PyTorch does
// (the other modules, from no known producer, keep ONNX's population
// variance); the options choose either for any model.
module attributes {mpc.onnx.producer = "pytorch 1.13.0"} {
  mpc.parameter @scale trainable = dense<1.0> : tensor<3xf32>
  mpc.parameter @bias trainable = dense<0.0> : tensor<3xf32>
  mpc.parameter @rmean = dense<0.0> : tensor<3xf32>
  mpc.parameter @rvar = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3xf32> {mpc.name = "x"}) -> (tensor<2x3xf32> {mpc.name = "logits"}) {
    %s = mpc.get_parameter @scale : tensor<3xf32>
    %b = mpc.get_parameter @bias : tensor<3xf32>
    %m = mpc.get_parameter @rmean : tensor<3xf32>
    %v = mpc.get_parameter @rvar : tensor<3xf32>
    %y, %nm, %nv = mpc.batch_norm %x, %s, %b, %m, %v {training} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
    return %y : tensor<2x3xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK: mpc.batch_norm {{.+}} {training, unbiased_running_variance}
// UNBIASED-COUNT-2: mpc.batch_norm {{.+}} {training, unbiased_running_variance}
// UNBIASED-NOT: {training}
// POPULATION-NOT: unbiased_running_variance

// -----

// A stride-2 convolution's weight gradient by phases: tap (i, j) with i
// and j of given parities only reads the padded input's rows and columns
// of those parities, so each of the four phases is a stride-1 convolution
// of that subsampled input (batch and channels swapped) by the output
// gradient, with exactly the multiply-adds it needs. Phases with fewer
// taps (2 x 1, 1 x 2, 1 x 1 of the 3 x 3 kernel) are padded to 2 x 2,
// stacked, interleaved by one transpose and cropped to the kernel.
module {
  mpc.parameter @w trainable = dense<0.5> : tensor<4x3x3x3xf32>
  func.func @main(%x: tensor<2x3x7x7xf32> {mpc.name = "x"}) -> (tensor<2x4xf32> {mpc.name = "logits"}) {
    %w = mpc.get_parameter @w : tensor<4x3x3x3xf32>
    %y = mpc.conv %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<2x3x7x7xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32>
    %p = mpc.global_average_pool %y : (tensor<2x4x4x4xf32>) -> tensor<2x4x1x1xf32>
    %s = mpc.flatten %p {axis = 1 : i64} : (tensor<2x4x1x1xf32>) -> tensor<2x4xf32>
    return %s : tensor<2x4xf32>
  }
}

// CHECK-LABEL: func.func @train_step
// CHECK: %[[DYT:.+]] = mpc.transpose %{{.+}} {perm = array<i64: 1, 0, 2, 3>} : (tensor<2x4x4x4xf32>) -> tensor<4x2x4x4xf32>
// CHECK: %[[XP:.+]] = mpc.pad %{{.+}} {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : (tensor<2x3x7x7xf32>) -> tensor<2x3x9x9xf32>
// CHECK: %[[X00:.+]] = mpc.slice %[[XP]] {axes = array<i64: 2, 3>, ends = array<i64: 9, 9>, starts = array<i64: 0, 0>, steps = array<i64: 2, 2>} : (tensor<2x3x9x9xf32>) -> tensor<2x3x5x5xf32>
// CHECK: %[[X00T:.+]] = mpc.transpose %[[X00]] {perm = array<i64: 1, 0, 2, 3>}
// CHECK: %[[P00:.+]] = mpc.conv %[[X00T]], %[[DYT]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 4, 4>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x2x5x5xf32>, tensor<4x2x4x4xf32>) -> tensor<3x4x2x2xf32>
// CHECK: mpc.slice %[[XP]] {axes = array<i64: 2, 3>, ends = array<i64: 9, 8>, starts = array<i64: 0, 1>, steps = array<i64: 2, 2>} : (tensor<2x3x9x9xf32>) -> tensor<2x3x5x4xf32>
// CHECK: %[[C01:.+]] = mpc.conv %{{.+}}, %[[DYT]] {{.+}} -> tensor<3x4x2x1xf32>
// CHECK: %[[P01:.+]] = mpc.pad %[[C01]] {pads = array<i64: 0, 0, 0, 0, 0, 0, 0, 1>} : (tensor<3x4x2x1xf32>) -> tensor<3x4x2x2xf32>
// CHECK: %[[C10:.+]] = mpc.conv %{{.+}}, %[[DYT]] {{.+}} -> tensor<3x4x1x2xf32>
// CHECK: %[[P10:.+]] = mpc.pad %[[C10]]
// CHECK: mpc.slice %[[XP]] {axes = array<i64: 2, 3>, ends = array<i64: 8, 8>, starts = array<i64: 1, 1>, steps = array<i64: 2, 2>} : (tensor<2x3x9x9xf32>) -> tensor<2x3x4x4xf32>
// CHECK: %[[C11:.+]] = mpc.conv %{{.+}}, %[[DYT]] {{.+}} -> tensor<3x4x1x1xf32>
// CHECK: %[[P11:.+]] = mpc.pad %[[C11]]
// CHECK: %[[STACK:.+]] = mpc.concat %[[P00]], %[[P01]], %[[P10]], %[[P11]] {axis = 1 : i64} : {{.+}} -> tensor<3x16x2x2xf32>
// CHECK: %[[SPLIT:.+]] = mpc.reshape %[[STACK]], %{{.+}} -> tensor<3x2x2x4x2x2xf32>
// CHECK: %[[SPREAD:.+]] = mpc.transpose %[[SPLIT]] {perm = array<i64: 0, 3, 4, 1, 5, 2>} : (tensor<3x2x2x4x2x2xf32>) -> tensor<3x4x2x2x2x2xf32>
// CHECK: %[[FULL:.+]] = mpc.reshape %[[SPREAD]], %{{.+}} -> tensor<3x4x4x4xf32>
// CHECK: %[[DWT:.+]] = mpc.slice %[[FULL]] {axes = array<i64: 2, 3>, ends = array<i64: 3, 3>, starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : (tensor<3x4x4x4xf32>) -> tensor<3x4x3x3xf32>
// CHECK: %[[DW:.+]] = mpc.transpose %[[DWT]] {perm = array<i64: 1, 0, 2, 3>} : (tensor<3x4x3x3xf32>) -> tensor<4x3x3x3xf32>
// CHECK: mpc.sgd_update %{{.+}}, %[[DW]]

// RUN: mpc-opt %s --split-input-file --mpc-flatten-training-state -verify-diagnostics | FileCheck %s

// AdamW over two parameters with loss scaling: the state becomes one flat
// buffer per kind (parameters and both moments alike: w then b, no gap),
// the unscale and finite check run over the gathered gradients, and one
// update and one skip select per kind run over the whole kind, written
// back in place. The unchanged loss scale is not written.
// CHECK: module attributes {mpc.state_layout = #mpc.state_layout<elements = 320, kinds = [<param, offset = 0, size = 9>, <adam_m, offset = 64, size = 9>, <adam_v, offset = 128, size = 9>, <step, offset = 192, size = 1>, <loss_scale, offset = 256, size = 1>], slots = [<<param, "w">, offset = 0>, <<param, "b">, offset = 6>, <<adam_m, "w">, offset = 64>, <<adam_m, "b">, offset = 70>, <<adam_v, "w">, offset = 128>, <<adam_v, "b">, offset = 134>, <<step>, offset = 192>, <<loss_scale>, offset = 256>]>}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[P:[^:]+]]: tensor<9xf32> {mpc.state_kind = #mpc.state_kind<param>}, %[[M:[^:]+]]: tensor<9xf32> {mpc.state_kind = #mpc.state_kind<adam_m>}, %[[V:[^:]+]]: tensor<9xf32> {mpc.state_kind = #mpc.state_kind<adam_v>}, %[[STEP:[^:]+]]: tensor<1xi64> {mpc.state_kind = #mpc.state_kind<step>}, %[[SCALE:[^:]+]]: tensor<1xf32> {mpc.state_kind = #mpc.state_kind<loss_scale>}, %[[GW:[^:]+]]: tensor<2x3xf32> {mpc.name = "gw"}, %[[GB:[^:]+]]: tensor<3xf32> {mpc.name = "gb"}, %[[LR:[^:]+]]: tensor<f32> {mpc.name = "lr"}, %[[WD:[^:]+]]: tensor<f32> {mpc.name = "weight_decay"})
// CHECK-SAME: -> (tensor<9xf32> {mpc.state_kind = #mpc.state_kind<param>}, tensor<9xf32> {mpc.state_kind = #mpc.state_kind<adam_m>}, tensor<9xf32> {mpc.state_kind = #mpc.state_kind<adam_v>}, tensor<1xi64> {mpc.state_kind = #mpc.state_kind<step>}, tensor<1xf32> {mpc.state_kind = #mpc.state_kind<loss_scale>})
// Each gradient goes into the flat buffer where it is defined.
// CHECK: %[[G0:.+]] = tensor.empty() : tensor<9xf32>
// CHECK: %[[GW1:.+]] = tensor.collapse_shape %[[GW]] {{\[}}[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: %[[G1:.+]] = tensor.insert_slice %[[GW1]] into %[[G0]][0] [6] [1]
// CHECK: %[[G:.+]] = tensor.insert_slice %[[GB]] into %[[G1]][6] [3] [1]
// CHECK: %[[S:.+]] = tensor.collapse_shape %{{.+}} [] : tensor<1xi64> into tensor<i64>
// CHECK: %[[U:.+]], %[[FINITE:.+]] = mpc.unscale_gradients %[[G]], %{{.+}} : (tensor<9xf32>, tensor<f32>) -> (tensor<9xf32>, tensor<i1>)
// CHECK: %[[NP:.+]], %[[NM:.+]], %[[NV:.+]] = mpc.adam_update %[[P]], %[[U]], %[[M]], %[[V]], %[[LR]], %[[S]], %[[WD]] {decoupled} : tensor<9xf32>, tensor<f32>, tensor<i64>
// CHECK-NOT: mpc.adam_update
// CHECK: %[[KP:.+]] = mpc.where %[[FINITE]], %[[NP]], %[[P]] : (tensor<i1>, tensor<9xf32>, tensor<9xf32>) -> tensor<9xf32>
// CHECK: %[[KM:.+]] = mpc.where %[[FINITE]], %[[NM]], %[[M]]
// CHECK: %[[KV:.+]] = mpc.where %[[FINITE]], %[[NV]], %[[V]]
// CHECK: %[[RP:.+]] = bufferization.materialize_in_destination %[[KP]] in %[[P]]
// CHECK: %[[RM:.+]] = bufferization.materialize_in_destination %[[KM]] in %[[M]]
// CHECK: %[[RV:.+]] = bufferization.materialize_in_destination %[[KV]] in %[[V]]
// CHECK: %[[RS:.+]] = bufferization.materialize_in_destination %{{.+}} in %[[STEP]] : (tensor<1xi64>, tensor<1xi64>)
// CHECK: return %[[RP]], %[[RM]], %[[RV]], %[[RS]], %[[SCALE]] :
// Evaluation reads the parameters from their kind's buffer.
// CHECK-LABEL: func.func @eval_step
// CHECK-SAME: (%[[EP:[^:]+]]: tensor<9xf32> {mpc.state_kind = #mpc.state_kind<param>}, %{{.+}}: tensor<3xf32>) -> tensor<3xf32>
// CHECK: tensor.extract_slice %[[EP]][6] [3] [1] : tensor<9xf32> to tensor<3xf32>
module {
  func.func @train_step(%w: tensor<2x3xf32> {mpc.slot = #mpc.slot<param, "w">}, %b: tensor<3xf32> {mpc.slot = #mpc.slot<param, "b">}, %mw: tensor<2x3xf32> {mpc.slot = #mpc.slot<adam_m, "w">}, %mb: tensor<3xf32> {mpc.slot = #mpc.slot<adam_m, "b">}, %vw: tensor<2x3xf32> {mpc.slot = #mpc.slot<adam_v, "w">}, %vb: tensor<3xf32> {mpc.slot = #mpc.slot<adam_v, "b">}, %step: tensor<i64> {mpc.slot = #mpc.slot<step>}, %scale: tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}, %gw: tensor<2x3xf32> {mpc.name = "gw"}, %gb: tensor<3xf32> {mpc.name = "gb"}, %lr: tensor<f32> {mpc.name = "lr"}, %wd: tensor<f32> {mpc.name = "weight_decay"}) -> (tensor<2x3xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<3xf32> {mpc.slot = #mpc.slot<param, "b">}, tensor<2x3xf32> {mpc.slot = #mpc.slot<adam_m, "w">}, tensor<3xf32> {mpc.slot = #mpc.slot<adam_m, "b">}, tensor<2x3xf32> {mpc.slot = #mpc.slot<adam_v, "w">}, tensor<3xf32> {mpc.slot = #mpc.slot<adam_v, "b">}, tensor<i64> {mpc.slot = #mpc.slot<step>}, tensor<f32> {mpc.slot = #mpc.slot<loss_scale>}) {
    %u:2, %finite = mpc.unscale_gradients %gw, %gb, %scale : (tensor<2x3xf32>, tensor<3xf32>, tensor<f32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<i1>)
    %pw, %nmw, %nvw = mpc.adam_update %w, %u#0, %mw, %vw, %lr, %step, %wd {decoupled} : tensor<2x3xf32>, tensor<f32>, tensor<i64>
    %pb, %nmb, %nvb = mpc.adam_update %b, %u#1, %mb, %vb, %lr, %step, %wd {decoupled} : tensor<3xf32>, tensor<f32>, tensor<i64>
    %sw = mpc.where %finite, %pw, %w : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %sb = mpc.where %finite, %pb, %b : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %smw = mpc.where %finite, %nmw, %mw : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %smb = mpc.where %finite, %nmb, %mb : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %svw = mpc.where %finite, %nvw, %vw : (tensor<i1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
    %svb = mpc.where %finite, %nvb, %vb : (tensor<i1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %one = mpc.constant dense<1> : tensor<i64>
    %next = mpc.add %step, %one : (tensor<i64>, tensor<i64>) -> tensor<i64>
    return %sw, %sb, %smw, %smb, %svw, %svb, %next, %scale : tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<i64>, tensor<f32>
  }
  func.func @eval_step(%w: tensor<2x3xf32> {mpc.slot = #mpc.slot<param, "w">}, %b: tensor<3xf32> {mpc.slot = #mpc.slot<param, "b">}, %x: tensor<3xf32>) -> tensor<3xf32> {
    %0 = mpc.add %b, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}

// -----

// SGD whose updates differ in their hyperparameters (a weight decay of
// its own for the bias) cannot be one op: they stay one per parameter,
// each saying so, and the parameters are written back slot by slot.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[P:[^:]+]]: tensor<5xf32> {mpc.state_kind = #mpc.state_kind<param>}
// CHECK: %[[W:.+]] = mpc.sgd_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<4xf32>, tensor<f32>
// CHECK: %[[B:.+]] = mpc.sgd_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<1xf32>, tensor<f32>
// CHECK: %[[P1:.+]] = tensor.insert_slice %[[W]] into %[[P]][0] [4] [1]
// CHECK: %[[P2:.+]] = tensor.insert_slice %[[B]] into %[[P1]][4] [1] [1]
// CHECK: return %[[P2]]
module {
  func.func @train_step(%w: tensor<4xf32> {mpc.slot = #mpc.slot<param, "w">}, %b: tensor<1xf32> {mpc.slot = #mpc.slot<param, "b">}, %gw: tensor<4xf32>, %gb: tensor<1xf32>, %lr: tensor<f32>, %wd: tensor<f32>, %wd_bias: tensor<f32>) -> (tensor<4xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<1xf32> {mpc.slot = #mpc.slot<param, "b">}) {
    // expected-warning @+1 {{mpc-flatten-training-state: this optimizer update stays one per parameter}}
    %nw = mpc.sgd_update %w, %gw, %lr, %wd : tensor<4xf32>, tensor<f32>
    // expected-warning @+1 {{mpc-flatten-training-state: this optimizer update stays one per parameter}}
    %nb = mpc.sgd_update %b, %gb, %lr, %wd_bias : tensor<1xf32>, tensor<f32>
    return %nw, %nb : tensor<4xf32>, tensor<1xf32>
  }
}

// -----

// Calls inside the module pass and receive the state as flat buffers.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%{{.+}}: tensor<3xf32> {mpc.state_kind = #mpc.state_kind<param>}, %{{.+}}: tensor<3xf32>) -> (tensor<3xf32> {mpc.state_kind = #mpc.state_kind<param>}, tensor<f32>)
// CHECK-LABEL: func.func @caller
// CHECK: %[[E:.+]] = tensor.empty() : tensor<3xf32>
// CHECK: %[[IN:.+]] = tensor.insert_slice %{{.+}} into %[[E]][0] [3] [1]
// CHECK: %[[R:.+]]:2 = call @step(%[[IN]], %{{.+}}) : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>)
// CHECK: %[[OUT:.+]] = tensor.extract_slice %[[R]]#0[0] [3] [1]
// CHECK: return %[[OUT]], %[[R]]#1
module {
  func.func @step(%w: tensor<3xf32> {mpc.slot = #mpc.slot<param, "w">}, %g: tensor<3xf32>) -> (tensor<3xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<f32>) {
    %lr = mpc.constant dense<0.5> : tensor<f32>
    %nw = mpc.sgd_update %w, %g, %lr, %lr : tensor<3xf32>, tensor<f32>
    return %nw, %lr : tensor<3xf32>, tensor<f32>
  }
  func.func @caller(%w: tensor<3xf32>, %g: tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>) {
    %r:2 = call @step(%w, %g) : (tensor<3xf32>, tensor<3xf32>) -> (tensor<3xf32>, tensor<f32>)
    return %r#0, %r#1 : tensor<3xf32>, tensor<f32>
  }
}

// -----

// The flattened state's ranges are fixed at compile time (a slot's element
// type is the dialect's to check: state-attributes-invalid.mlir).
// expected-error @+1 {{mpc-flatten-training-state: state 'param:h' has type 'tensor<?xf32>'; the flattened state holds statically shaped f32 or i64 tensors}}
func.func @dynamic(%h: tensor<?xf32> {mpc.slot = #mpc.slot<param, "h">}) -> tensor<?xf32> {
  return %h : tensor<?xf32>
}

// -----

func.func @a(%w: tensor<4xf32> {mpc.slot = #mpc.slot<param, "w">}) -> tensor<4xf32> {
  return %w : tensor<4xf32>
}
// expected-error @+1 {{mpc-flatten-training-state: state 'param:w' has type 'tensor<2xf32>' here and 'tensor<4xf32>' elsewhere}}
func.func @b(%w: tensor<2xf32> {mpc.slot = #mpc.slot<param, "w">}) -> tensor<2xf32> {
  return %w : tensor<2xf32>
}

// -----

func.func @c(%w: tensor<4xf32> {mpc.slot = #mpc.slot<param, "w">}) -> tensor<4xf32> {
  return %w : tensor<4xf32>
}
func.func @user() {
  // expected-error @+1 {{mpc-flatten-training-state: @c changes its signature; only its calls can follow}}
  %f = func.constant @c : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Discardable attributes (the precision pass's per-node explanations) do
// not keep updates apart; the merged op keeps those all of them share.
// CHECK-LABEL: func.func @train_step
// CHECK: mpc.sgd_update %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {mpc.shared = 1 : i64} : tensor<5xf32>, tensor<f32>
// CHECK-NOT: mpc.sgd_update
module {
  func.func @train_step(%w: tensor<4xf32> {mpc.slot = #mpc.slot<param, "w">}, %b: tensor<1xf32> {mpc.slot = #mpc.slot<param, "b">}, %gw: tensor<4xf32>, %gb: tensor<1xf32>, %lr: tensor<f32>, %wd: tensor<f32>) -> (tensor<4xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<1xf32> {mpc.slot = #mpc.slot<param, "b">}) {
    %nw = mpc.sgd_update %w, %gw, %lr, %wd {mpc.note = "like 'w'", mpc.shared = 1} : tensor<4xf32>, tensor<f32>
    %nb = mpc.sgd_update %b, %gb, %lr, %wd {mpc.note = "like 'b'", mpc.shared = 1} : tensor<1xf32>, tensor<f32>
    return %nw, %nb : tensor<4xf32>, tensor<1xf32>
  }
}

// -----

// An op reading a whole kind (the parameter, in the forward pass) moves to
// the end with the merged ops, and the sort that follows must not leave
// the step counter's write above the optimizer reading the old step:
// valid for tensors, but no bufferization could then update the step in
// place. The writes into the state come last.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[STEP:[^:]+]]: tensor<1xi64> {mpc.state_kind = #mpc.state_kind<step>}
// CHECK: mpc.adam_update
// CHECK-NEXT: bufferization.materialize_in_destination %{{.+}} in %[[STEP]]
// CHECK-NEXT: bufferization.materialize_in_destination
// CHECK-NEXT: bufferization.materialize_in_destination
// CHECK-NEXT: bufferization.materialize_in_destination
// CHECK-NEXT: return
module {
  func.func @train_step(%w: tensor<2x2xf32> {mpc.slot = #mpc.slot<param, "w">}, %mw: tensor<2x2xf32> {mpc.slot = #mpc.slot<adam_m, "w">}, %vw: tensor<2x2xf32> {mpc.slot = #mpc.slot<adam_v, "w">}, %step: tensor<i64> {mpc.slot = #mpc.slot<step>}, %c: tensor<2x2xi1>, %x: tensor<2x2xf32>, %t: tensor<2x2xf32>, %lr: tensor<f32>, %wd: tensor<f32>) -> (tensor<2x2xf32> {mpc.slot = #mpc.slot<param, "w">}, tensor<2x2xf32> {mpc.slot = #mpc.slot<adam_m, "w">}, tensor<2x2xf32> {mpc.slot = #mpc.slot<adam_v, "w">}, tensor<i64> {mpc.slot = #mpc.slot<step>}) {
    %one = mpc.constant dense<1> : tensor<i64>
    %y = mpc.where %c, %x, %w : (tensor<2x2xi1>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    %g = mpc.sub %y, %t : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    %pw, %nmw, %nvw = mpc.adam_update %w, %g, %mw, %vw, %lr, %step, %wd {decoupled} : tensor<2x2xf32>, tensor<f32>, tensor<i64>
    %next = mpc.add %step, %one : (tensor<i64>, tensor<i64>) -> tensor<i64>
    return %pw, %nmw, %nvw, %next : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<i64>
  }
}

// RUN: mpc-opt %s --split-input-file -verify-diagnostics

// The training-state contract (mpc/ABI/ProgramABI.h) as the dialect checks
// it where the attributes are attached.

// A weight's slots are f32 (the fp32 master weights and their moments).
// expected-error @+1 {{argument #0 (slot 'param:h') has type 'tensor<4xf16>'; a slot of this kind holds f32 values}}
func.func @half(%h: tensor<4xf16> {mpc.slot = #mpc.slot<param, "h">}) -> tensor<4xf16> {
  return %h : tensor<4xf16>
}

// -----

// Counters are i64 (an f32 stops counting at 2^24).
// expected-error @+1 {{result #0 (slot 'step') has type 'tensor<f32>'; a slot of this kind holds i64 values}}
func.func @step() -> (tensor<f32> {mpc.slot = #mpc.slot<step>}) {
  %c = mpc.constant dense<0.0> : tensor<f32>
  return %c : tensor<f32>
}

// -----

// A scalar kind is one value.
// expected-error @+1 {{argument #0 (slot 'loss_scale') must be a scalar, got 'tensor<2xf32>'}}
func.func @scale(%s: tensor<2xf32> {mpc.slot = #mpc.slot<loss_scale>}) {
  return
}

// -----

// expected-error @+1 {{slot kind 'adam_m' needs the name of its parameter}}
func.func @unnamed(%m: tensor<2xf32> {mpc.slot = #mpc.slot<adam_m>}) {
  return
}

// -----

// expected-error @+1 {{slot kind 'step' is one scalar and takes no parameter name}}
func.func @named(%s: tensor<i64> {mpc.slot = #mpc.slot<step, "w">}) {
  return
}

// -----

// expected-error @+2 {{unknown state kind 'adam_w'; expected one of param, stat, momentum, adam_m, adam_v, grad_accum, dropout_rng, step, loss_scale, loss_scale_clean_steps, skipped_steps}}
// expected-error @+1 {{failed to parse MPC_SlotAttr parameter 'kind'}}
func.func @kind(%m: tensor<2xf32> {mpc.slot = #mpc.slot<adam_w, "w">}) {
  return
}

// -----

// The stringly form the contract replaced is refused, not ignored.
// expected-error @+1 {{argument #0: 'mpc.slot' must be a #mpc.slot attribute}}
func.func @string(%w: tensor<2xf32> {mpc.slot = "param:w"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 (state kind 'param') must be one flat buffer, got 'tensor<2x2xf32>'}}
func.func @flat(%w: tensor<2x2xf32> {mpc.state_kind = #mpc.state_kind<param>}) {
  return
}

// -----

// expected-error @+2 {{unknown value role 'lr'; expected one of state, input, label, learning_rate, weight_decay, max_grad_norm, grad_clip_value, accumulation_steps, apply_update, loss, grad_norm, output}}
// expected-error @+1 {{failed to parse MPC_RoleAttr parameter 'role'}}
func.func @role(%lr: tensor<f32> {mpc.role = #mpc.role<lr>}) {
  return
}

// -----

// expected-error @+1 {{argument #0: state is tagged with mpc.slot, not mpc.role}}
func.func @state_role(%w: tensor<f32> {mpc.role = #mpc.role<state>}) {
  return
}

// -----

// expected-error @+1 {{'mpc.state_layout' belongs on the module}}
func.func @layout_on_function() attributes {
  mpc.state_layout = #mpc.state_layout<elements = 64, kinds = [<step, offset = 0, size = 1>], slots = [<<step>, offset = 0>]>} {
  return
}

// -----

// expected-error @+1 {{kind 'param' lies outside the 64-unit state}}
module attributes {mpc.state_layout = #mpc.state_layout<elements = 64, kinds = [<param, offset = 0, size = 65>], slots = [<<param, "w">, offset = 0>]>} {
}

// -----

// expected-error @+1 {{slot 'adam_m:w' has no kind range}}
module attributes {mpc.state_layout = #mpc.state_layout<elements = 64, kinds = [<param, offset = 0, size = 6>], slots = [<<adam_m, "w">, offset = 0>]>} {
}

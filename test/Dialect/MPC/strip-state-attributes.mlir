// RUN: mpc-opt %s --mpc-strip-state-attributes | FileCheck %s

// The contract's attributes go; the others (mpc.name, a function's own
// attributes) stay.
// CHECK: module {
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%{{.+}}: tensor<9xf32>, %{{.+}}: tensor<f32> {mpc.name = "lr"}) -> tensor<9xf32> attributes {mpc.optimizer = {name = "sgd"}}
// CHECK-NOT: mpc.slot
// CHECK-NOT: mpc.role
module attributes {mpc.state_layout = #mpc.state_layout<elements = 64, kinds = [<param, offset = 0, size = 9>], slots = [<<param, "w">, offset = 0>]>} {
  func.func @step(%w: tensor<9xf32> {mpc.state_kind = #mpc.state_kind<param>}, %lr: tensor<f32> {mpc.name = "lr", mpc.role = #mpc.role<learning_rate>}) -> (tensor<9xf32> {mpc.state_kind = #mpc.state_kind<param>}) attributes {mpc.optimizer = {name = "sgd"}} {
    return %w : tensor<9xf32>
  }
  func.func @init() -> (tensor<i64> {mpc.slot = #mpc.slot<step>}) {
    %c = mpc.constant dense<0> : tensor<i64>
    return %c : tensor<i64>
  }
}

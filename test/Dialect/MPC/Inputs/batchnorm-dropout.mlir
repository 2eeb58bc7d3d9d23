// Training-mode BatchNorm and Dropout over a float input (loss-scaling.mlir).
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
    return %d : tensor<2x3xf32>
  }
}

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "foo.bar"(%x) : (tensor<4xf32>) -> tensor<4xf32> loc("/n/bar")
  return %0 : tensor<4xf32>
}

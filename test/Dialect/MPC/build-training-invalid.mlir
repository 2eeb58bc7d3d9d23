// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-build-training

// An op on the path from a parameter to the loss without a gradient rule.
module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x3x3x3xf32>
  func.func @main(%x: tensor<1x2x3x3xf32>) -> tensor<1x3x5x5xf32> {
    %w = mpc.get_parameter @w : tensor<2x3x3x3xf32>
    // The error is on the node's copy in @train_step, located by its name.
    // expected-error @unknown {{node 'deconv1' (mpc.conv_transpose) lies between a trainable parameter and the loss but has no gradient rule}}
    %c = mpc.conv_transpose %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>} : (tensor<1x2x3x3xf32>, tensor<2x3x3x3xf32>) -> tensor<1x3x5x5xf32> loc("deconv1")
    return %c : tensor<1x3x5x5xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x2xf32>
  // expected-error @+1 {{input 'input0' has type 'tensor<?x2xf32>'; training programs need static shapes (pin them with --input-shape)}}
  func.func @main(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
    return %x : tensor<?x2xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x2xf32>
  // expected-error @+1 {{the model has 2 outputs; choose the one the loss attaches to with output=NAME}}
  func.func @main(%x: tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
    %w = mpc.get_parameter @w : tensor<2x2xf32>
    %m = mpc.matmul %x, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    return %m, %m : tensor<2x2xf32>, tensor<2x2xf32>
  }
}

// -----

// expected-error @+1 {{no @main forward function}}
module {
  func.func @forward(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

module {
  mpc.parameter @c = dense<1.0> : tensor<2x2xf32>
  // expected-error @+1 {{the model has no trainable parameters}}
  func.func @main(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
    %c = mpc.get_parameter @c : tensor<2x2xf32>
    %m = mpc.matmul %x, %c : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    return %m : tensor<2x2xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2xf32>
  // expected-error @+1 {{cross-entropy needs logits [N, C, ...], output 'output0' has type 'tensor<2xf32>'}}
  func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
    %w = mpc.get_parameter @w : tensor<2xf32>
    %m = mpc.mul %x, %w : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
    return %m : tensor<2xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x2xf32>
  // expected-error @+1 {{the loss does not depend on any trainable parameter}}
  func.func @main(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
    %w = mpc.get_parameter @w : tensor<2x2xf32>
    // A comparison is not differentiable: @w only selects, so the loss
    // does not depend on it.
    %c = mpc.greater %w, %x : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xi1>
    %f = mpc.where %c, %x, %x : (tensor<2x2xi1>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    %m = mpc.matmul %x, %f : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    return %m : tensor<2x2xf32>
  }
}

// -----

// Rules that do not cover every form of their op say which form.
module {
  mpc.parameter @w trainable = dense<1.0> : tensor<4xf32>
  func.func @main(%x: tensor<2x4xf32>) -> tensor<2x1xf32> {
    %w = mpc.get_parameter @w : tensor<4xf32>
    // expected-error @+1 {{'mpc.layer_norm' op gradient through the mean or inverse standard deviation results is not implemented}}
    %y, %mean, %rstd = mpc.layer_norm %x, %w : (tensor<2x4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2x1xf32>, tensor<2x1xf32>)
    return %mean : tensor<2x1xf32>
  }
}

// -----

// Convolution gradients cover 2-d convolutions (grouped and depthwise
// too) with explicit pads; the other forms say which form is missing.
module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x3x3xf32>
  func.func @main(%x: tensor<1x3x8xf32>) -> tensor<1x2x6xf32> {
    %w = mpc.get_parameter @w : tensor<2x3x3xf32>
    // expected-error @+1 {{'mpc.conv' op gradient of a convolution with 1 spatial dims is not implemented (2-d only)}}
    %y = mpc.conv %x, %w {kernel_shape = array<i64: 3>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<2x3x3xf32>) -> tensor<1x2x6xf32>
    return %y : tensor<1x2x6xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<2x3x3x3xf32>
  func.func @main(%x: tensor<1x3x6x6xf32>) -> tensor<1x2x6x6xf32> {
    %w = mpc.get_parameter @w : tensor<2x3x3x3xf32>
    // expected-error @+1 {{'mpc.conv' op gradient of a convolution with auto_pad is not implemented (explicit pads only)}}
    %y = mpc.conv %x, %w {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, auto_pad = #mpc<auto_pad same_upper>} : (tensor<1x3x6x6xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x6x6xf32>
    return %y : tensor<1x2x6x6xf32>
  }
}

// -----

module {
  mpc.parameter @s trainable = dense<1.0> : tensor<3xf32>
  mpc.parameter @b trainable = dense<0.0> : tensor<3xf32>
  mpc.parameter @m trainable = dense<0.0> : tensor<3xf32>
  mpc.parameter @v = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3x4x4xf32>) -> tensor<2x3xf32> {
    %s = mpc.get_parameter @s : tensor<3xf32>
    %b = mpc.get_parameter @b : tensor<3xf32>
    %m = mpc.get_parameter @m : tensor<3xf32>
    %v = mpc.get_parameter @v : tensor<3xf32>
    // expected-error @+1 {{'mpc.batch_norm' op gradient through the running statistics results is not implemented}}
    %y, %rm, %rv = mpc.batch_norm %x, %s, %b, %m, %v : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
    %p = mpc.reduce_mean %y {axes = array<i64: 2, 3>, keepdims = false} : (tensor<2x3x4x4xf32>) -> tensor<2x3xf32>
    %logits = mpc.add %p, %rm : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %logits : tensor<2x3xf32>
  }
}

// -----

// Max pooling gradients cover 2-d pooling with explicit pads.
module {
  mpc.parameter @w trainable = dense<1.0> : tensor<1x2x8xf32>
  func.func @main(%x: tensor<1x2x8xf32>) -> tensor<1x2x4xf32> {
    %w = mpc.get_parameter @w : tensor<1x2x8xf32>
    %a = mpc.add %x, %w : (tensor<1x2x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
    // expected-error @+1 {{'mpc.max_pool' op gradient of max pooling with 1 spatial dims is not implemented (2-d only)}}
    %y = mpc.max_pool %a {kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x2x8xf32>) -> tensor<1x2x4xf32>
    return %y : tensor<1x2x4xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<1x2x4x4xf32>
  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w = mpc.get_parameter @w : tensor<1x2x4x4xf32>
    %a = mpc.add %x, %w : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    // expected-error @+1 {{'mpc.max_pool' op gradient of max pooling with auto_pad is not implemented (explicit pads only)}}
    %y = mpc.max_pool %a {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, auto_pad = #mpc<auto_pad same_upper>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    return %y : tensor<1x2x4x4xf32>
  }
}

// -----

// A running statistic kept as state has one BatchNorm node updating it.
module {
  mpc.parameter @s trainable = dense<1.0> : tensor<3xf32>
  mpc.parameter @rm = dense<0.0> : tensor<3xf32>
  mpc.parameter @rv = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %s = mpc.get_parameter @s : tensor<3xf32>
    %m = mpc.get_parameter @rm : tensor<3xf32>
    %v = mpc.get_parameter @rv : tensor<3xf32>
    %y:3 = mpc.batch_norm %x, %s, %s, %m, %v {training} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
    // expected-error @+1 {{mpc-build-training: (mpc.batch_norm) and (mpc.batch_norm) both update the running statistic 'rm'; a statistic has one BatchNorm node}}
    %z:3 = mpc.batch_norm %y#0, %s, %s, %m, %v {training} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
    return %z#0 : tensor<2x3xf32>
  }
}

// -----

// Running statistics that are not initializers have nowhere to be kept.
module {
  mpc.parameter @s trainable = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %s = mpc.get_parameter @s : tensor<3xf32>
    %m = mpc.constant dense<0.0> : tensor<3xf32>
    // expected-error @+1 {{mpc-build-training: (mpc.batch_norm) runs in training mode but its running statistics are not initializers; they cannot be kept as training state}}
    %y:3 = mpc.batch_norm %x, %s, %s, %m, %m {training} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
    return %y#0 : tensor<2x3xf32>
  }
}

// -----

module {
  mpc.parameter @s trainable = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
    %s = mpc.get_parameter @s : tensor<3xf32>
    // expected-error @+1 {{mpc-build-training: running statistic 's' of (mpc.batch_norm) is also a trainable weight}}
    %y:3 = mpc.batch_norm %x, %s, %s, %s, %s {training} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
    return %y#0 : tensor<2x3xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<1x2x8xf32>
  func.func @main(%x: tensor<1x2x8xf32>) -> tensor<1x2x4xf32> {
    %w = mpc.get_parameter @w : tensor<1x2x8xf32>
    %a = mpc.add %x, %w : (tensor<1x2x8xf32>, tensor<1x2x8xf32>) -> tensor<1x2x8xf32>
    // expected-error @+1 {{'mpc.average_pool' op gradient of average pooling with 1 spatial dims is not implemented (2-d only)}}
    %y = mpc.average_pool %a {kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>} : (tensor<1x2x8xf32>) -> tensor<1x2x4xf32>
    return %y : tensor<1x2x4xf32>
  }
}

// -----

module {
  mpc.parameter @w trainable = dense<1.0> : tensor<1x2x4x4xf32>
  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w = mpc.get_parameter @w : tensor<1x2x4x4xf32>
    %a = mpc.add %x, %w : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    // expected-error @+1 {{'mpc.average_pool' op gradient of average pooling with auto_pad is not implemented (explicit pads only)}}
    %y = mpc.average_pool %a {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, auto_pad = #mpc<auto_pad same_upper>} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    return %y : tensor<1x2x4x4xf32>
  }
}

// -----

// PyTorch's unbiased running variance needs two values per channel.
module attributes {mpc.onnx.producer = "pytorch 1.13.0"} {
  mpc.parameter @scale trainable = dense<1.0> : tensor<3xf32>
  mpc.parameter @bias trainable = dense<0.0> : tensor<3xf32>
  mpc.parameter @rmean = dense<0.0> : tensor<3xf32>
  mpc.parameter @rvar = dense<1.0> : tensor<3xf32>
  func.func @main(%x: tensor<1x3x1x1xf32> {mpc.name = "x"}) -> (tensor<1x3x1x1xf32> {mpc.name = "logits"}) {
    %s = mpc.get_parameter @scale : tensor<3xf32>
    %b = mpc.get_parameter @bias : tensor<3xf32>
    %m = mpc.get_parameter @rmean : tensor<3xf32>
    %v = mpc.get_parameter @rvar : tensor<3xf32>
    // expected-error @unknown {{mpc-build-training: node 'bn1' (mpc.batch_norm) normalises one value per channel (input 'tensor<1x3x1x1xf32>'): its unbiased running variance is undefined; use a larger batch or --bn-running-variance=population}}
    %y, %nm, %nv = mpc.batch_norm %x, %s, %b, %m, %v {training} : (tensor<1x3x1x1xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<1x3x1x1xf32>, tensor<3xf32>, tensor<3xf32>) loc("bn1")
    return %y : tensor<1x3x1x1xf32>
  }
}

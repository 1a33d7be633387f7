// RUN: anvil-opt %s -anvil-fuse-qdq-convs -split-input-file | FileCheck %s

// The QDQ form: an 8-bit input dequantized per tensor, an int8 constant
// weight dequantized per output channel (zero points all 0), a bias. It
// becomes the integer conv of the quantized values, cast to f32, times
// sx * sw[m] per output channel ([4, 1, 1]: 0.5 x [0.25, 0.5, 1, 2]),
// plus the bias as [4, 1, 1].
// CHECK-LABEL: func.func @per_channel
// CHECK: %[[ACC:.*]] = anvil.conv_integer %arg0, %[[W:.*]], %[[ZX:.*]] {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xui8>, tensor<4x2x3x3xi8>, tensor<ui8>) -> tensor<1x4x5x5xi32>
// CHECK: %[[F:.*]] = anvil.cast %[[ACC]] : (tensor<1x4x5x5xi32>) -> tensor<1x4x5x5xf32>
// CHECK: %[[S:.*]] = anvil.constant {anvil.keep_float} dense_resource<qdq_conv_scale> : tensor<4x1x1xf32>
// CHECK: %[[Y:.*]] = anvil.mul %[[F]], %[[S]] : (tensor<1x4x5x5xf32>, tensor<4x1x1xf32>) -> tensor<1x4x5x5xf32>
// CHECK: %[[B:.*]] = anvil.reshape %arg1, %{{.*}} : (tensor<4xf32>, tensor<3xi64>) -> tensor<4x1x1xf32>
// CHECK: %[[Z:.*]] = anvil.add %[[Y]], %[[B]] : (tensor<1x4x5x5xf32>, tensor<4x1x1xf32>) -> tensor<1x4x5x5xf32>
// CHECK-NOT: anvil.conv %
// CHECK: return %[[Z]]
// The factors 0.125, 0.25, 0.5, 1.0 as float32 (after the alignment word):
// CHECK: qdq_conv_scale: "0x080000000000003E0000803E0000003F0000803F"
func.func @per_channel(%xq: tensor<1x2x5x5xui8>, %b: tensor<4xf32>) -> tensor<1x4x5x5xf32> {
  %sx = anvil.constant dense<0.5> : tensor<f32>
  %zx = anvil.constant dense<7> : tensor<ui8>
  %wq = anvil.constant dense<3> : tensor<4x2x3x3xi8>
  %sw = anvil.constant dense<[0.25, 0.5, 1.0, 2.0]> : tensor<4xf32>
  %zw = anvil.constant dense<0> : tensor<4xi8>
  %x = anvil.dequantize %xq, %sx, %zx {bits = 8 : i64} : (tensor<1x2x5x5xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x5x5xf32>
  %w = anvil.dequantize %wq, %sw, %zw {bits = 8 : i64} : (tensor<4x2x3x3xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x2x3x3xf32>
  %y = anvil.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  return %y : tensor<1x4x5x5xf32>
}

// -----

// No input zero point: a constant 0 of the input's type; a per-tensor
// weight scale, no bias, int8 input, a 1-D window.
// CHECK-LABEL: func.func @per_tensor
// CHECK: %[[Z0:.*]] = anvil.constant dense<0> : tensor<i8>
// CHECK: %[[ACC:.*]] = anvil.conv_integer %arg0, %{{.*}}, %[[Z0]] {{.*}} : (tensor<2x3x9xi8>, tensor<4x3x3xi8>, tensor<i8>) -> tensor<2x4x7xi32>
// CHECK: anvil.cast %[[ACC]]
// CHECK: anvil.mul {{.*}} : (tensor<2x4x7xf32>, tensor<4x1xf32>) -> tensor<2x4x7xf32>
// CHECK-NOT: anvil.add
func.func @per_tensor(%xq: tensor<2x3x9xi8>) -> tensor<2x4x7xf32> {
  %sx = anvil.constant dense<0.1> : tensor<f32>
  %wq = anvil.constant dense<-2> : tensor<4x3x3xi8>
  %sw = anvil.constant dense<0.02> : tensor<f32>
  %x = anvil.dequantize %xq, %sx {bits = 8 : i64} : (tensor<2x3x9xi8>, tensor<f32>) -> tensor<2x3x9xf32>
  %w = anvil.dequantize %wq, %sw {bits = 8 : i64} : (tensor<4x3x3xi8>, tensor<f32>) -> tensor<4x3x3xf32>
  %y = anvil.conv %x, %w {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<2x3x9xf32>, tensor<4x3x3xf32>) -> tensor<2x4x7xf32>
  return %y : tensor<2x4x7xf32>
}

// -----

// Left alone: a nonzero weight zero point, a depthwise conv (1 output per
// group), a weight that is not a constant, and a float input.
// CHECK-LABEL: func.func @not_qdq
// CHECK-NOT: anvil.conv_integer
// CHECK-COUNT-4: anvil.conv %
func.func @not_qdq(%xq: tensor<1x4x5x5xui8>, %wv: tensor<4x4x3x3xi8>, %xf: tensor<1x4x5x5xf32>) -> (tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>) {
  %sx = anvil.constant dense<0.5> : tensor<f32>
  %sw = anvil.constant dense<0.25> : tensor<f32>
  %wq = anvil.constant dense<3> : tensor<4x4x3x3xi8>
  %wz = anvil.constant dense<1> : tensor<i8>
  %wd = anvil.constant dense<3> : tensor<4x1x3x3xi8>
  %x = anvil.dequantize %xq, %sx {bits = 8 : i64} : (tensor<1x4x5x5xui8>, tensor<f32>) -> tensor<1x4x5x5xf32>
  %w1 = anvil.dequantize %wq, %sw, %wz {bits = 8 : i64} : (tensor<4x4x3x3xi8>, tensor<f32>, tensor<i8>) -> tensor<4x4x3x3xf32>
  %y1 = anvil.conv %x, %w1 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %w2 = anvil.dequantize %wd, %sw {bits = 8 : i64} : (tensor<4x1x3x3xi8>, tensor<f32>) -> tensor<4x1x3x3xf32>
  %y2 = anvil.conv %x, %w2 {dilations = array<i64: 1, 1>, group = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x3x3xf32>
  %w3 = anvil.dequantize %wv, %sw {bits = 8 : i64} : (tensor<4x4x3x3xi8>, tensor<f32>) -> tensor<4x4x3x3xf32>
  %y3 = anvil.conv %x, %w3 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %w4 = anvil.dequantize %wq, %sw {bits = 8 : i64} : (tensor<4x4x3x3xi8>, tensor<f32>) -> tensor<4x4x3x3xf32>
  %y4 = anvil.conv %xf, %w4 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x5x5xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %y1, %y2, %y3, %y4 : tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>, tensor<1x4x3x3xf32>
}

// RUN: anvil-opt %s -split-input-file -anvil-recognize-activations | FileCheck %s
// SiLU and the two GELU forms exporters write become one op, in any order
// of the multiplications; wrong constants or operands are left alone.

// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<4x128xf32>)
// CHECK-NEXT: %[[A:.*]] = anvil.silu %[[X]] : (tensor<4x128xf32>) -> tensor<4x128xf32>
// CHECK-NEXT: %[[B:.*]] = anvil.silu %[[X]] : (tensor<4x128xf32>) -> tensor<4x128xf32>
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @silu(%x: tensor<4x128xf32>) -> (tensor<4x128xf32>, tensor<4x128xf32>) {
  %s = anvil.sigmoid %x : (tensor<4x128xf32>) -> tensor<4x128xf32>
  %a = anvil.mul %x, %s : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
  %b = anvil.mul %s, %x : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
  return %a, %b : tensor<4x128xf32>, tensor<4x128xf32>
}

// -----

// BERT (TorchScript): x / sqrt(2), erf, + 1, * x, * 0.5; and the same with
// x * (1/sqrt(2)) and 0.5 * x multiplied first.
// CHECK-LABEL: func.func @gelu_erf
// CHECK-SAME: (%[[X:.*]]: tensor<2x7x128xf32>)
// CHECK-NEXT: %[[A:.*]] = anvil.gelu %[[X]] : (tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
// CHECK-NEXT: %[[B:.*]] = anvil.gelu %[[X]] : (tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @gelu_erf(%x: tensor<2x7x128xf32>) -> (tensor<2x7x128xf32>, tensor<2x7x128xf32>) {
  %sqrt2 = anvil.constant dense<1.41421354> : tensor<f32>
  %inv_sqrt2 = anvil.constant dense<0.707106769> : tensor<f32>
  %one = anvil.constant dense<1.0> : tensor<f32>
  %half = anvil.constant dense<0.5> : tensor<f32>
  %d = anvil.div %x, %sqrt2 : (tensor<2x7x128xf32>, tensor<f32>) -> tensor<2x7x128xf32>
  %e = anvil.erf %d : (tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
  %p = anvil.add %e, %one : (tensor<2x7x128xf32>, tensor<f32>) -> tensor<2x7x128xf32>
  %m = anvil.mul %x, %p : (tensor<2x7x128xf32>, tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
  %a = anvil.mul %m, %half : (tensor<2x7x128xf32>, tensor<f32>) -> tensor<2x7x128xf32>
  %d2 = anvil.mul %x, %inv_sqrt2 : (tensor<2x7x128xf32>, tensor<f32>) -> tensor<2x7x128xf32>
  %e2 = anvil.erf %d2 : (tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
  %p2 = anvil.add %one, %e2 : (tensor<f32>, tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
  %h2 = anvil.mul %half, %x : (tensor<f32>, tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
  %b = anvil.mul %p2, %h2 : (tensor<2x7x128xf32>, tensor<2x7x128xf32>) -> tensor<2x7x128xf32>
  return %a, %b : tensor<2x7x128xf32>, tensor<2x7x128xf32>
}

// -----

// GPT-2's "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @gelu_tanh
// CHECK-SAME: (%[[X:.*]]: tensor<1x256xf32>)
// CHECK-NEXT: %[[A:.*]] = anvil.gelu %[[X]] {approximation = #anvil<gelu_approximation tanh>} : (tensor<1x256xf32>) -> tensor<1x256xf32>
// CHECK-NEXT: return %[[A]]
func.func @gelu_tanh(%x: tensor<1x256xf32>) -> tensor<1x256xf32> {
  %c = anvil.constant dense<0.797884583> : tensor<f32>
  %k = anvil.constant dense<4.471500e-02> : tensor<f32>
  %three = anvil.constant dense<3.0> : tensor<f32>
  %one = anvil.constant dense<1.0> : tensor<f32>
  %half = anvil.constant dense<0.5> : tensor<f32>
  %h = anvil.mul %x, %half : (tensor<1x256xf32>, tensor<f32>) -> tensor<1x256xf32>
  %cube = anvil.pow %x, %three : (tensor<1x256xf32>, tensor<f32>) -> tensor<1x256xf32>
  %kc = anvil.mul %cube, %k : (tensor<1x256xf32>, tensor<f32>) -> tensor<1x256xf32>
  %in = anvil.add %x, %kc : (tensor<1x256xf32>, tensor<1x256xf32>) -> tensor<1x256xf32>
  %s = anvil.mul %in, %c : (tensor<1x256xf32>, tensor<f32>) -> tensor<1x256xf32>
  %t = anvil.tanh %s : (tensor<1x256xf32>) -> tensor<1x256xf32>
  %p = anvil.add %t, %one : (tensor<1x256xf32>, tensor<f32>) -> tensor<1x256xf32>
  %y = anvil.mul %h, %p : (tensor<1x256xf32>, tensor<1x256xf32>) -> tensor<1x256xf32>
  return %y : tensor<1x256xf32>
}

// -----

// Near misses: sigmoid of another value, 0.6 instead of 0.5, erf(x / 2),
// and a tanh form with 0.05 instead of 0.044715.
// CHECK-LABEL: func.func @not_activations
// CHECK-NOT: anvil.silu
// CHECK-NOT: anvil.gelu
// CHECK: return
func.func @not_activations(%x: tensor<8xf32>, %z: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %sqrt2 = anvil.constant dense<1.41421354> : tensor<f32>
  %two = anvil.constant dense<2.0> : tensor<f32>
  %one = anvil.constant dense<1.0> : tensor<f32>
  %half = anvil.constant dense<0.5> : tensor<f32>
  %six = anvil.constant dense<0.6> : tensor<f32>
  %s = anvil.sigmoid %z : (tensor<8xf32>) -> tensor<8xf32>
  %y1 = anvil.mul %x, %s : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %d = anvil.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = anvil.erf %d : (tensor<8xf32>) -> tensor<8xf32>
  %p = anvil.add %e, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m = anvil.mul %x, %p : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y2 = anvil.mul %m, %six : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %d3 = anvil.div %x, %two : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e3 = anvil.erf %d3 : (tensor<8xf32>) -> tensor<8xf32>
  %p3 = anvil.add %e3, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m3 = anvil.mul %x, %p3 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y3 = anvil.mul %m3, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %c = anvil.constant dense<0.797884583> : tensor<f32>
  %k = anvil.constant dense<0.05> : tensor<f32>
  %three = anvil.constant dense<3.0> : tensor<f32>
  %cube = anvil.pow %x, %three : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %kc = anvil.mul %cube, %k : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %in = anvil.add %x, %kc : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %sc = anvil.mul %in, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %t = anvil.tanh %sc : (tensor<8xf32>) -> tensor<8xf32>
  %p4 = anvil.add %t, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m4 = anvil.mul %x, %p4 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y4 = anvil.mul %m4, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %y1, %y2, %y3, %y4 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

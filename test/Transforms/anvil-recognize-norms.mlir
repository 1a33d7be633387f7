// RUN: anvil-opt %s -split-input-file -anvil-recognize-norms | FileCheck %s
// Decomposed RMSNorm and LayerNorm become one op; near misses (another
// axis, a non-constant epsilon, a square of another value, a sum instead
// of a mean) stay as they are.

// The canonical form with the weight on the left of the last multiply.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x64xf32>, %[[W:.*]]: tensor<64xf32>)
// CHECK-NEXT: %[[Y:.*]] = anvil.rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32} : (tensor<2x5x64xf32>, tensor<64xf32>) -> tensor<2x5x64xf32>
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm(%x: tensor<2x5x64xf32>, %w: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %eps = anvil.constant dense<1.0e-6> : tensor<f32>
  %sq = anvil.mul %x, %x : (tensor<2x5x64xf32>, tensor<2x5x64xf32>) -> tensor<2x5x64xf32>
  %m = anvil.reduce %sq {axes = array<i64: 2>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<2x5x64xf32>) -> tensor<2x5x1xf32>
  %v = anvil.add %m, %eps : (tensor<2x5x1xf32>, tensor<f32>) -> tensor<2x5x1xf32>
  %r = anvil.rsqrt %v : (tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  %n = anvil.mul %r, %x : (tensor<2x5x1xf32>, tensor<2x5x64xf32>) -> tensor<2x5x64xf32>
  %y = anvil.mul %w, %n : (tensor<64xf32>, tensor<2x5x64xf32>) -> tensor<2x5x64xf32>
  return %y : tensor<2x5x64xf32>
}

// -----

// pow(x, 2) and the epsilon on the left also match; without a weight the
// scale is ones.
// CHECK-LABEL: func.func @rms_norm_no_weight
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>)
// CHECK: %[[ONES:.*]] = anvil.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK-NEXT: %[[Y:.*]] = anvil.rms_norm %[[X]], %[[ONES]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm_no_weight(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %two = anvil.constant dense<2.0> : tensor<f32>
  %eps = anvil.constant dense<1.0e-5> : tensor<1xf32>
  %sq = anvil.pow %x, %two : (tensor<3x8xf32>, tensor<f32>) -> tensor<3x8xf32>
  %m = anvil.reduce %sq {axes = array<i64: 1>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<3x8xf32>) -> tensor<3x1xf32>
  %v = anvil.add %eps, %m : (tensor<1xf32>, tensor<3x1xf32>) -> tensor<3x1xf32>
  %r = anvil.rsqrt %v : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = anvil.mul %x, %r : (tensor<3x8xf32>, tensor<3x1xf32>) -> tensor<3x8xf32>
  return %n : tensor<3x8xf32>
}

// -----

// LayerNorm written out: x - mean, its mean square, rsqrt, scale, bias.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x16xf32>, %[[W:.*]]: tensor<16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK-NEXT: %[[Y:.*]] = anvil.layer_norm %[[X]], %[[W]], %[[B]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm(%x: tensor<2x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<2x16xf32> {
  %eps = anvil.constant dense<1.0e-5> : tensor<f32>
  %mu = anvil.reduce %x {axes = array<i64: 1>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<2x16xf32>) -> tensor<2x1xf32>
  %d = anvil.sub %x, %mu : (tensor<2x16xf32>, tensor<2x1xf32>) -> tensor<2x16xf32>
  %sq = anvil.mul %d, %d : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %var = anvil.reduce %sq {axes = array<i64: 1>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<2x16xf32>) -> tensor<2x1xf32>
  %v = anvil.add %var, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r = anvil.rsqrt %v : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %n = anvil.mul %d, %r : (tensor<2x16xf32>, tensor<2x1xf32>) -> tensor<2x16xf32>
  %s = anvil.mul %n, %w : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  %y = anvil.add %s, %b : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// Near misses: the mean over the middle axis, an epsilon that is not a
// constant, the square of another value, and a sum instead of a mean.
// CHECK-LABEL: func.func @not_norms
// CHECK-NOT: anvil.rms_norm
// CHECK-NOT: anvil.layer_norm
// CHECK: return
func.func @not_norms(%x: tensor<2x5x64xf32>, %z: tensor<2x5x64xf32>, %e: tensor<f32>) -> (tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>) {
  %eps = anvil.constant dense<1.0e-6> : tensor<f32>
  %sq = anvil.mul %x, %x : (tensor<2x5x64xf32>, tensor<2x5x64xf32>) -> tensor<2x5x64xf32>
  %m1 = anvil.reduce %sq {axes = array<i64: 1>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<2x5x64xf32>) -> tensor<2x1x64xf32>
  %v1 = anvil.add %m1, %eps : (tensor<2x1x64xf32>, tensor<f32>) -> tensor<2x1x64xf32>
  %r1 = anvil.rsqrt %v1 : (tensor<2x1x64xf32>) -> tensor<2x1x64xf32>
  %y1 = anvil.mul %x, %r1 : (tensor<2x5x64xf32>, tensor<2x1x64xf32>) -> tensor<2x5x64xf32>
  %m = anvil.reduce %sq {axes = array<i64: 2>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<2x5x64xf32>) -> tensor<2x5x1xf32>
  %v2 = anvil.add %m, %e : (tensor<2x5x1xf32>, tensor<f32>) -> tensor<2x5x1xf32>
  %r2 = anvil.rsqrt %v2 : (tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  %y2 = anvil.mul %x, %r2 : (tensor<2x5x64xf32>, tensor<2x5x1xf32>) -> tensor<2x5x64xf32>
  %v3 = anvil.add %m, %eps : (tensor<2x5x1xf32>, tensor<f32>) -> tensor<2x5x1xf32>
  %r3 = anvil.rsqrt %v3 : (tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  %y3 = anvil.mul %z, %r3 : (tensor<2x5x64xf32>, tensor<2x5x1xf32>) -> tensor<2x5x64xf32>
  %s4 = anvil.reduce %sq {axes = array<i64: 2>, keepdims = true, kind = #anvil<reduce sum>} : (tensor<2x5x64xf32>) -> tensor<2x5x1xf32>
  %v4 = anvil.add %s4, %eps : (tensor<2x5x1xf32>, tensor<f32>) -> tensor<2x5x1xf32>
  %r4 = anvil.rsqrt %v4 : (tensor<2x5x1xf32>) -> tensor<2x5x1xf32>
  %y4 = anvil.mul %x, %r4 : (tensor<2x5x64xf32>, tensor<2x5x1xf32>) -> tensor<2x5x64xf32>
  return %y1, %y2, %y3, %y4 : tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>
}

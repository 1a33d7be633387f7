// RUN: anvil-opt %s -split-input-file -anvil-fold-constants | FileCheck %s

// The pattern exporters emit for "reshape to [batch, seq, heads, head_dim]":
// once the input shape is static the whole chain is one constant and the
// reshape's result is static.
// CHECK-LABEL: func.func @exporter_reshape
// CHECK-NOT: anvil.shape_of
// CHECK-NOT: anvil.gather
// CHECK-NOT: anvil.concat
// CHECK: %[[S:.*]] = anvil.constant dense<[1, 8, 4, 16]> : tensor<4xi64>
// CHECK: anvil.reshape %{{.*}}, %[[S]] : (tensor<1x8x64xf32>, tensor<4xi64>) -> tensor<1x8x4x16xf32>
func.func @exporter_reshape(%x: tensor<1x8x64xf32>) -> tensor<?x?x?x?xf32> {
  %shape = anvil.shape_of %x : (tensor<1x8x64xf32>) -> tensor<3xi64>
  %c0 = anvil.constant dense<0> : tensor<i64>
  %c1 = anvil.constant dense<1> : tensor<i64>
  %b = anvil.gather %shape, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = anvil.gather %shape, %c1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = anvil.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %su = anvil.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %rest = anvil.constant dense<[4, 16]> : tensor<2xi64>
  %target = anvil.concat %bu, %su, %rest {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = anvil.reshape %x, %target : (tensor<1x8x64xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

// -----

// Folding one shape makes the next op static, which makes its own shape
// foldable: the pass iterates inference and folding to a fixpoint.
// CHECK-LABEL: func.func @two_rounds
// CHECK-SAME: -> tensor<2xi64>
// CHECK-NEXT: %[[C:.*]] = anvil.constant dense<[4, 6]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]]
func.func @two_rounds(%x: tensor<2x3x4xf32>) -> tensor<?xi64> {
  %target = anvil.constant dense<[4, -1]> : tensor<2xi64>
  %r = anvil.reshape %x, %target : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s = anvil.shape_of %r : (tensor<?x?xf32>) -> tensor<?xi64>
  return %s : tensor<?xi64>
}

// -----

// With a dynamic dim the chain stays (it is computed at run time).
// CHECK-LABEL: func.func @dynamic_stays
// CHECK: anvil.shape_of
// CHECK: anvil.gather
func.func @dynamic_stays(%x: tensor<?x64xf32>) -> tensor<i64> {
  %shape = anvil.shape_of %x : (tensor<?x64xf32>) -> tensor<2xi64>
  %c0 = anvil.constant dense<0> : tensor<i64>
  %b = anvil.gather %shape, %c0 {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  return %b : tensor<i64>
}

// -----

// A deep chain (deeper than the round limit): each reshape's shape comes
// from the previous result, so folding must follow inference op by op
// within one round, as in 16-layer decoders.
// CHECK-LABEL: func.func @deep_chain
// CHECK-NOT: ?x
// CHECK: return {{.*}} : tensor<2x3xf32>
func.func @deep_chain(%x0: tensor<2x3xf32>) -> tensor<?x?xf32> {
  %s1 = anvil.shape_of %x0 {start = 0 : i64} : (tensor<2x3xf32>) -> tensor<2xi64>
  %x1 = anvil.reshape %x0, %s1 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s2 = anvil.shape_of %x1 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x2 = anvil.reshape %x1, %s2 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s3 = anvil.shape_of %x2 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x3 = anvil.reshape %x2, %s3 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s4 = anvil.shape_of %x3 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x4 = anvil.reshape %x3, %s4 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s5 = anvil.shape_of %x4 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x5 = anvil.reshape %x4, %s5 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s6 = anvil.shape_of %x5 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x6 = anvil.reshape %x5, %s6 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s7 = anvil.shape_of %x6 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x7 = anvil.reshape %x6, %s7 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s8 = anvil.shape_of %x7 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x8 = anvil.reshape %x7, %s8 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s9 = anvil.shape_of %x8 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x9 = anvil.reshape %x8, %s9 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s10 = anvil.shape_of %x9 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x10 = anvil.reshape %x9, %s10 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s11 = anvil.shape_of %x10 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x11 = anvil.reshape %x10, %s11 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s12 = anvil.shape_of %x11 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x12 = anvil.reshape %x11, %s12 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s13 = anvil.shape_of %x12 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x13 = anvil.reshape %x12, %s13 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s14 = anvil.shape_of %x13 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x14 = anvil.reshape %x13, %s14 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s15 = anvil.shape_of %x14 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x15 = anvil.reshape %x14, %s15 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s16 = anvil.shape_of %x15 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x16 = anvil.reshape %x15, %s16 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s17 = anvil.shape_of %x16 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x17 = anvil.reshape %x16, %s17 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s18 = anvil.shape_of %x17 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x18 = anvil.reshape %x17, %s18 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s19 = anvil.shape_of %x18 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x19 = anvil.reshape %x18, %s19 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s20 = anvil.shape_of %x19 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x20 = anvil.reshape %x19, %s20 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s21 = anvil.shape_of %x20 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x21 = anvil.reshape %x20, %s21 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s22 = anvil.shape_of %x21 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x22 = anvil.reshape %x21, %s22 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s23 = anvil.shape_of %x22 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x23 = anvil.reshape %x22, %s23 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %s24 = anvil.shape_of %x23 {start = 0 : i64} : (tensor<?x?xf32>) -> tensor<2xi64>
  %x24 = anvil.reshape %x23, %s24 : (tensor<?x?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %x24 : tensor<?x?xf32>
}

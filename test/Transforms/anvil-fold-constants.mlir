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

// RUN: anvil-opt %s -split-input-file -anvil-infer-shapes | FileCheck %s

// A bound input shape flows through every op and into the signature.
// CHECK-LABEL: func.func @propagate
// CHECK-SAME: -> tensor<1x8x256xf32>
// CHECK: anvil.matmul {{.*}} -> tensor<1x8x256xf32>
// CHECK: anvil.silu {{.*}} -> tensor<1x8x256xf32>
// CHECK: return {{.*}} : tensor<1x8x256xf32>
func.func @propagate(%x: tensor<1x8x64xf32>, %w: tensor<256x64xf32>) -> tensor<?x?x?xf32> {
  %m = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<1x8x64xf32>, tensor<256x64xf32>) -> tensor<?x?x?xf32>
  %s = anvil.silu %m : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  return %s : tensor<?x?x?xf32>
}

// -----

// Constant shape operands give static results; 0 copies, -1 is inferred.
// CHECK-LABEL: func.func @reshape_rules
// CHECK: anvil.reshape {{.*}} -> tensor<2x3x4xf32>
// CHECK: anvil.expand {{.*}} -> tensor<5x2x3x4xf32>
func.func @reshape_rules(%x: tensor<2x12xf32>) -> tensor<?x?x?x?xf32> {
  %s = anvil.constant dense<[0, 3, -1]> : tensor<3xi64>
  %r = anvil.reshape %x, %s : (tensor<2x12xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %e = anvil.constant dense<[5, 1, 1, 1]> : tensor<4xi64>
  %x2 = anvil.expand %r, %e : (tensor<?x?x?xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %x2 : tensor<?x?x?x?xf32>
}

// -----

// Windows: (32 + 1 + 1 - 3) / 2 + 1 = 16 (floor); then kernel 3, stride 2
// over 16 gives floor(13 / 2) + 1 = 7, but ceil mode keeps the partial
// window: ceil(13 / 2) + 1 = 8.
// CHECK-LABEL: func.func @windows
// CHECK: anvil.conv {{.*}} -> tensor<1x8x16x16xf32>
// CHECK: anvil.pool {{.*}} kernel = array<i64: 2, 2>{{.*}} -> tensor<1x8x8x8xf32>
// CHECK: anvil.pool {{.*}} -> tensor<1x8x8x8xf32>
func.func @windows(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) -> (tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>) {
  %c = anvil.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32>) -> tensor<?x?x?x?xf32>
  %p = anvil.pool %c {ceil_mode = false, count_include_pad = false, kernel = array<i64: 2, 2>, kind = #anvil<pool max>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  %q = anvil.pool %c {ceil_mode = true, count_include_pad = false, kernel = array<i64: 3, 3>, kind = #anvil<pool avg>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %p, %q : tensor<?x?x?x?xf32>, tensor<?x?x?x?xf32>
}

// -----

// Dims nothing binds stay dynamic.
// CHECK-LABEL: func.func @still_dynamic
// CHECK: anvil.gather {{.*}} -> tensor<1x?x64xf32>
func.func @still_dynamic(%t: tensor<512x64xf32>, %ids: tensor<1x?xi64>) -> tensor<?x?x?xf32> {
  %e = anvil.gather %t, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<1x?xi64>) -> tensor<?x?x?xf32>
  return %e : tensor<?x?x?xf32>
}

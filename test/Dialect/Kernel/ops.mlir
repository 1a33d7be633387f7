// RUN: anvil-opt %s | anvil-opt | FileCheck %s
// Every kernel op parses, verifies and prints back.

// CHECK-LABEL: func.func @program
// CHECK-SAME: attributes {kernel.arena_bytes = 128 : i64, kernel.num_inputs = 1 : i64}
func.func @program(%x: memref<4x8xf32>, %y: memref<4x8xf32>) attributes {kernel.num_inputs = 1 : i64, kernel.arena_bytes = 128 : i64} {
  // CHECK: %[[W:.*]] = kernel.weight[64] dense<1.000000e+00> : tensor<8x8xf32> : memref<8x8xf32>
  %w = kernel.weight [64] dense<1.0> : tensor<8x8xf32> : memref<8x8xf32>
  // CHECK: %[[U:.*]] = kernel.weight dense<2> : tensor<2xi64> : memref<2xi64>
  %u = kernel.weight dense<2> : tensor<2xi64> : memref<2xi64>
  // CHECK: kernel.weight[128] dense<{{.*}}> : tensor<2x3xf32> {layout = "kn"} : memref<3x2xf32>
  %l = kernel.weight [128] dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32> {layout = "kn"} : memref<3x2xf32>
  // CHECK: %[[A:.*]] = kernel.alloc : memref<4x8xf32>
  %a = kernel.alloc : memref<4x8xf32>
  // CHECK: %[[B:.*]] = kernel.buffer arena[0] : memref<4x8xf32>
  %b = kernel.buffer arena[0] : memref<4x8xf32>
  // CHECK: %[[V:.*]] = kernel.view %[[B]] : memref<4x8xf32> to memref<32xf32>
  %v = kernel.view %b : memref<4x8xf32> to memref<32xf32>
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[W]] : memref<4x8xf32>, memref<8x8xf32>) outs(%[[A]] : memref<4x8xf32>) params {batch = array<i64>, batch_rank = 0 : i64, k = 8 : i64, lhs_batch_strides = array<i64>, m = 4 : i64, n = 8 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}
  kernel.launch "matmul" ins(%x, %w : memref<4x8xf32>, memref<8x8xf32>) outs(%a : memref<4x8xf32>) params {m = 4 : i64, n = 8 : i64, k = 8 : i64, transpose_rhs = false, batch_rank = 0 : i64, batch = array<i64>, lhs_batch_strides = array<i64>, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64}
  // CHECK: %[[ONE:.*]] = kernel.weight dense<1.000000e+00> : tensor<1xf32> : memref<1xf32>
  %one = kernel.weight dense<1.0> : tensor<1xf32> : memref<1xf32>
  // CHECK: kernel.launch "range" ins(%[[ONE]], %[[ONE]] : memref<1xf32>, memref<1xf32>) outs(%[[B]] : memref<4x8xf32>) params {count = 32 : i64}
  kernel.launch "range" ins(%one, %one : memref<1xf32>, memref<1xf32>) outs(%b : memref<4x8xf32>) params {count = 32 : i64}
  // CHECK: kernel.elementwise ins(%[[A]], %{{.*}} : memref<4x8xf32>, memref<8xf32>) outs(%{{.*}} : memref<4x8xf32>) {
  // CHECK-NEXT: ^bb0(%[[P:.*]]: f32, %[[Q:.*]]: f32):
  // CHECK-NEXT: %[[S:.*]] = arith.addf %[[P]], %[[Q]] : f32
  // CHECK-NEXT: kernel.yield %[[S]] : f32
  %row = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%a, %row : memref<4x8xf32>, memref<8xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%p: f32, %q: f32):
    %s = arith.addf %p, %q : f32
    kernel.yield %s : f32
  }
  // A loop without inputs fills its output.
  // CHECK: kernel.elementwise outs(%[[A]] : memref<4x8xf32>) {
  kernel.elementwise outs(%a : memref<4x8xf32>) {
    %c = arith.constant 0.5 : f32
    kernel.yield %c : f32
  }
  // Unsigned buffers have signless scalars.
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<3xui8>) outs(%{{.*}} : memref<3xui8>) {
  // CHECK-NEXT: ^bb0(%{{.*}}: i8):
  %bytes = kernel.alloc : memref<3xui8>
  %bytes2 = kernel.alloc : memref<3xui8>
  kernel.elementwise ins(%bytes : memref<3xui8>) outs(%bytes2 : memref<3xui8>) {
  ^bb0(%e: i8):
    kernel.yield %e : i8
  }
  return
}

// Bounded dims: `?` dims with their expressions over the function's sizes;
// run-time params as affine maps over the sizes.
// CHECK-LABEL: func.func @bounded
// CHECK-SAME: kernel.sizes = [{max = 512 : i64, min = 1 : i64, name = "seq"}]
#seq = affine_map<()[s0] -> (s0, 64)>
#flat = affine_map<()[s0] -> (s0 * 64)>
#m = affine_map<()[s0] -> (s0)>
func.func @bounded(%x: memref<?x64xf32> {kernel.dims = #seq}, %y: memref<?x64xf32> {kernel.dims = #seq}) attributes {kernel.num_inputs = 1 : i64, kernel.sizes = [{name = "seq", min = 1 : i64, max = 512 : i64}]} {
  // CHECK: %[[A:.*]] = kernel.alloc {kernel.dims = #{{.*}}} : memref<?x64xf32>
  %a = kernel.alloc {kernel.dims = #seq} : memref<?x64xf32>
  // CHECK: %[[B:.*]] = kernel.buffer arena[0] {kernel.dims = #{{.*}}} : memref<?x64xf32>
  %b = kernel.buffer arena[0] {kernel.dims = #seq} : memref<?x64xf32>
  // CHECK: kernel.view %[[B]] {kernel.dims = #{{.*}}} : memref<?x64xf32> to memref<?xf32>
  %v = kernel.view %b {kernel.dims = #flat} : memref<?x64xf32> to memref<?xf32>
  // CHECK: kernel.launch "softmax" ins(%{{.*}} : memref<?x64xf32>) outs(%[[A]] : memref<?x64xf32>) params {inner = 1 : i64, log = false, outer = #{{.*}}, size = 64 : i64}
  kernel.launch "softmax" ins(%x : memref<?x64xf32>) outs(%a : memref<?x64xf32>) params {inner = 1 : i64, log = false, outer = #m, size = 64 : i64}
  kernel.elementwise ins(%a : memref<?x64xf32>) outs(%y : memref<?x64xf32>) {
  ^bb0(%e: f32):
    kernel.yield %e : f32
  }
  return
}

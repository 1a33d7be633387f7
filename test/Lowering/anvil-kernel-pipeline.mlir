// RUN: anvil-opt %s --anvil-kernel-pipeline | FileCheck %s
// The registered pipeline anvilc runs after the graph pipeline for the cpu
// target: bufferize, fuse (loops, then matmul epilogues), plan, pack.
// Replaying it gives the same planned program as `anvilc --emit=kernel`.

// CHECK: module attributes {kernel.streamed_weight_bytes = 48 : i64, kernel.weight_bytes = 48 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: memref<2x4xf32>, %[[Y:.*]]: memref<2x3xf32>)
// CHECK-SAME: kernel.arena_bytes = 0 : i64, kernel.naive_arena_bytes = 0 : i64, kernel.num_inputs = 1 : i64
func.func @main(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  // The [N, K] weight is stored as [K, N] in column panels for the cpu
  // matmul (layout "nk_panels32").
  // CHECK: %[[W:.*]] = kernel.weight[0] dense<{{.*}}> : tensor<3x4xf32> {layout = "nk_panels32"} : memref<4x3xf32>
  %w = anvil.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]> : tensor<3x4xf32>
  // The matmul writes the output, which its epilogue rewrites in place:
  // no intermediate buffer, an empty arena.
  // CHECK-NOT: kernel.buffer
  // CHECK: kernel.launch "matmul" ins(%[[X]], %[[W]] : memref<2x4xf32>, memref<4x3xf32>) outs(%[[Y]] : memref<2x3xf32>)
  // CHECK-SAME: rhs_panel = 32 : i64, transpose_rhs = false
  %m = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  // exp then neg: one fused loop, the matmul's epilogue.
  // CHECK-NEXT: kernel.elementwise ins(%[[Y]] : memref<2x3xf32>) outs(%[[Y]] : memref<2x3xf32>)
  // CHECK: math.exp
  // CHECK: arith.negf
  // CHECK: } {kernel.epilogue}
  // CHECK-NOT: kernel.elementwise
  %e = anvil.exp %m : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %n = anvil.neg %e : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %n : tensor<2x3xf32>
}

// RUN: anvil-opt %s -split-input-file -convert-anvil-to-kernel -verify-diagnostics | FileCheck %s

// Inputs then outputs become buffer arguments; the op computing the output
// writes into it; a splat constant becomes a scalar inside the loop.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[X:.*]]: memref<2x4xf32> {anvil.name = "x"}, %[[OUT:.*]]: memref<2x4xf32> {anvil.name = "y"})
// CHECK-SAME: attributes {kernel.num_inputs = 1 : i64}
func.func @elementwise(%x: tensor<2x4xf32> {anvil.name = "x"}) -> (tensor<2x4xf32> {anvil.name = "y"}) {
  %c = anvil.constant dense<2.0> : tensor<f32>
  // CHECK: %[[T:.*]] = kernel.alloc : memref<2x4xf32>
  // CHECK: kernel.elementwise ins(%[[X]] : memref<2x4xf32>) outs(%[[T]] : memref<2x4xf32>) {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: f32):
  // CHECK-NEXT: %[[C:.*]] = arith.constant 2.000000e+00 : f32
  // CHECK-NEXT: %[[M:.*]] = arith.mulf %[[A]], %[[C]] : f32
  // CHECK-NEXT: kernel.yield %[[M]] : f32
  %0 = anvil.mul %x, %c : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  // CHECK: kernel.elementwise ins(%[[T]] : memref<2x4xf32>) outs(%[[OUT]] : memref<2x4xf32>)
  // CHECK: arith.maxf
  %1 = anvil.relu %0 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  // CHECK: return
  // CHECK-NOT: anvil.
  return %1 : tensor<2x4xf32>
}

// -----

// Reshapes are views; a non-splat constant is a weight; matmul is a launch
// with its sizes; a reshaped output is computed in place through a view.
// CHECK-LABEL: func.func @matmul_view
// CHECK-SAME: (%[[X:.*]]: memref<2x3x4xf32>, %[[OUT:.*]]: memref<6x5xf32>)
func.func @matmul_view(%x: tensor<2x3x4xf32>) -> tensor<6x5xf32> {
  // CHECK: %[[W:.*]] = kernel.weight dense<{{.*}}> : tensor<4x5xf32> : memref<4x5xf32>
  %w = anvil.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0]]> : tensor<4x5xf32>
  %s = anvil.constant dense<[6, 5]> : tensor<2xi64>
  // CHECK: %[[R:.*]] = kernel.view %[[OUT]] : memref<6x5xf32> to memref<2x3x5xf32>
  // CHECK: kernel.launch "matmul" ins(%[[X]], %[[W]] : memref<2x3x4xf32>, memref<4x5xf32>) outs(%[[R]] : memref<2x3x5xf32>)
  // CHECK-SAME: params {batch = array<i64>, batch_rank = 0 : i64, k = 4 : i64, lhs_batch_strides = array<i64>, m = 6 : i64, n = 5 : i64, rhs_batch_strides = array<i64>, transpose_rhs = false}
  // No view of the output is left over once nothing reads it.
  // CHECK-NOT: kernel.view
  // CHECK: return
  %m = anvil.matmul %x, %w : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %r = anvil.reshape %m, %s : (tensor<2x3x5xf32>, tensor<2xi64>) -> tensor<6x5xf32>
  return %r : tensor<6x5xf32>
}

// -----

// Batched matmul with broadcasting gets per-batch strides.
// CHECK-LABEL: func.func @batched
func.func @batched(%a: tensor<2x1x3x4xf32>, %b: tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32> {
  // CHECK: kernel.launch "matmul"
  // CHECK-SAME: batch = array<i64: 2, 5>, batch_rank = 2 : i64, k = 4 : i64, lhs_batch_strides = array<i64: 12, 0>, m = 3 : i64, n = 6 : i64, rhs_batch_strides = array<i64: 0, 24>
  %m = anvil.matmul %a, %b : (tensor<2x1x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x5x3x6xf32>
  return %m : tensor<2x5x3x6xf32>
}

// -----

// Transpose, slice and concat are strided copies.
// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<2x3xf32>) -> tensor<3x3xf32> {
  // CHECK: kernel.launch "copy_strided" ins(%{{.*}} : memref<2x3xf32>) outs(%[[T:.*]] : memref<3x2xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 2, 1>, rank = 2 : i64, shape = array<i64: 3, 2>, src_offset = 0 : i64, src_strides = array<i64: 1, 3>}
  %t = anvil.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %st = anvil.constant dense<[1]> : tensor<1xi64>
  %en = anvil.constant dense<[2]> : tensor<1xi64>
  %ax = anvil.constant dense<[1]> : tensor<1xi64>
  %sp = anvil.constant dense<[1]> : tensor<1xi64>
  // The slice starts at column 1 of the transposed 3x2.
  // CHECK: kernel.launch "copy_strided" ins(%[[T]] : memref<3x2xf32>) outs(%[[S:.*]] : memref<3x1xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 1, 1>, rank = 2 : i64, shape = array<i64: 3, 1>, src_offset = 1 : i64, src_strides = array<i64: 2, 1>}
  %s = anvil.slice %t, %st, %en, %ax, %sp : (tensor<3x2xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x1xf32>
  // Concatenation: each input lands at its offset along the axis.
  // CHECK: kernel.launch "copy_strided" ins(%[[T]] : memref<3x2xf32>) outs(%[[OUT:.*]] : memref<3x3xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 3, 1>
  // CHECK: kernel.launch "copy_strided" ins(%[[S]] : memref<3x1xf32>) outs(%[[OUT]] : memref<3x3xf32>) params {dst_offset = 2 : i64, dst_strides = array<i64: 3, 1>
  %c = anvil.concat %t, %s {axis = 1 : i64} : (tensor<3x2xf32>, tensor<3x1xf32>) -> tensor<3x3xf32>
  return %c : tensor<3x3xf32>
}

// -----

// Reductions over non-adjacent axes first move them last.
// CHECK-LABEL: func.func @reduce
func.func @reduce(%x: tensor<2x3x4xf32>) -> (tensor<3xf32>, tensor<2x1x1xf32>) {
  // CHECK: kernel.launch "copy_strided" ins(%{{.*}} : memref<2x3x4xf32>) outs(%[[P:.*]] : memref<3x2x4xf32>)
  // CHECK: kernel.launch "reduce" ins(%[[P]] : memref<3x2x4xf32>) outs(%{{.*}} : memref<3xf32>) params {inner = 1 : i64, kind = "sum", outer = 3 : i64, size = 8 : i64}
  %a = anvil.reduce %x {axes = array<i64: 0, 2>, keepdims = false, kind = #anvil<reduce sum>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // CHECK: kernel.launch "reduce" ins(%{{.*}} : memref<2x3x4xf32>) outs(%{{.*}} : memref<2x1x1xf32>) params {inner = 1 : i64, kind = "max", outer = 2 : i64, size = 12 : i64}
  %b = anvil.reduce %x {axes = array<i64: 1, 2>, keepdims = true, kind = #anvil<reduce max>} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  return %a, %b : tensor<3xf32>, tensor<2x1x1xf32>
}

// -----

// Returning an input (or one value twice) needs copies.
// CHECK-LABEL: func.func @copies
// CHECK-SAME: (%[[X:.*]]: memref<4xf32>, %[[O1:.*]]: memref<4xf32>, %[[O2:.*]]: memref<4xf32>, %[[O3:.*]]: memref<4xf32>)
func.func @copies(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // CHECK: kernel.elementwise ins(%[[X]] : memref<4xf32>) outs(%[[O2]] : memref<4xf32>)
  %n = anvil.neg %x : (tensor<4xf32>) -> tensor<4xf32>
  // CHECK: kernel.launch "copy_strided" ins(%[[X]] : memref<4xf32>) outs(%[[O1]] : memref<4xf32>)
  // CHECK: kernel.launch "copy_strided" ins(%[[O2]] : memref<4xf32>) outs(%[[O3]] : memref<4xf32>)
  return %x, %n, %n : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Unsigned data: signless scalars, unsigned arithmetic.
// CHECK-LABEL: func.func @unsigned
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  // CHECK: ^bb0(%[[P:.*]]: i8, %[[Q:.*]]: i8):
  // CHECK-NEXT: arith.divui %[[P]], %[[Q]] : i8
  %d = anvil.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %d : tensor<4xui8>
}

// -----

// Code generation needs static shapes: the error names the input.
// expected-error @+1 {{input 'ids' has the dynamic type 'tensor<1x?xi64>'; code generation needs static shapes}}
func.func @dynamic(%x: tensor<1x?xi64> {anvil.name = "ids"}) -> tensor<1x?xi64> {
  return %x : tensor<1x?xi64>
}

// -----

// Every op without a lowering is reported, not just the first; the ops that
// use their results get placeholder buffers, so lowering goes on to the end
// without crashing (and the pass fails).
func.func @unsupported(%q: tensor<1x2x4x8xf32>) -> (tensor<4xi64>, tensor<2xi64>) {
  // expected-error @+1 {{has no lowering to the kernel dialect yet}}
  %a = anvil.shape_of %q {start = 0 : i64} : (tensor<1x2x4x8xf32>) -> tensor<4xi64>
  %n = anvil.neg %a : (tensor<4xi64>) -> tensor<4xi64>
  // expected-error @+1 {{has no lowering to the kernel dialect yet}}
  %r = anvil.shape_of %q {start = 2 : i64} : (tensor<1x2x4x8xf32>) -> tensor<2xi64>
  %s = anvil.abs %r : (tensor<2xi64>) -> tensor<2xi64>
  return %n, %s : tensor<4xi64>, tensor<2xi64>
}

// -----

// Rotary embedding: the tables' strides over the input's dims (0 where
// they broadcast over the heads; their last dim is half the input's).
// CHECK-LABEL: func.func @rope
func.func @rope(%x: tensor<1x4x3x8xf32>, %c: tensor<1x1x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> tensor<1x4x3x8xf32> {
  // CHECK: kernel.launch "rope" ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<1x4x3x8xf32>, memref<1x1x3x4xf32>, memref<1x1x3x4xf32>) outs(%{{.*}} : memref<1x4x3x8xf32>) params {interleaved = true, rank = 4 : i64, rotary_dim = 0 : i64, shape = array<i64: 1, 4, 3, 8>, table_strides = array<i64: 0, 0, 4, 1>}
  %r = anvil.rope %x, %c, %s {interleaved = true} : (tensor<1x4x3x8xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x4x3x8xf32>
  return %r : tensor<1x4x3x8xf32>
}

// -----

// Attention with grouped KV heads: the mask's strides over the scores
// [batch, q_heads, q_len, kv_len] are 0 where it broadcasts.
// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x6xf32>, %m: tensor<3x5xf32>) -> tensor<1x4x3x6xf32> {
  // CHECK: kernel.launch "attention" ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<1x4x3x8xf32>, memref<1x2x5x8xf32>, memref<1x2x5x6xf32>, memref<3x5xf32>) outs(%{{.*}} : memref<1x4x3x6xf32>)
  // CHECK-SAME: params {batch = 1 : i64, causal = true, has_mask = true, head_dim = 8 : i64, kv_heads = 2 : i64, kv_len = 5 : i64, mask_strides = array<i64: 0, 0, 5, 1>, q_heads = 4 : i64, q_len = 3 : i64, scale = 0.35355338454246521 : f64, value_dim = 6 : i64}
  %o = anvil.attention %q, %k, %v, %m {scale = 0.353553385 : f32, causal = true} : (tensor<1x4x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x6xf32>, tensor<3x5xf32>) -> tensor<1x4x3x6xf32>
  return %o : tensor<1x4x3x6xf32>
}

// -----

// Casts between the two 16-bit float types go through f32; integer Clip
// bounds saturate to the type (9.3e18 is above INT64_MAX).
// CHECK-LABEL: func.func @scalars
func.func @scalars(%h: tensor<4xf16>, %i: tensor<4xi64>, %u: tensor<4xui8>) -> (tensor<4xbf16>, tensor<4xi64>, tensor<4xui8>) {
  // CHECK: %[[E:.*]] = arith.extf %{{.*}} : f16 to f32
  // CHECK-NEXT: arith.truncf %[[E]] : f32 to bf16
  %b = anvil.cast %h : (tensor<4xf16>) -> tensor<4xbf16>
  // CHECK: arith.constant -5 : i64
  // CHECK: arith.constant 9223372036854775807 : i64
  %c = anvil.clip %i {min = -5.0 : f64, max = 9.3e18 : f64} : (tensor<4xi64>) -> tensor<4xi64>
  // An unsigned bound keeps its unsigned value: 200 is -56 as i8 bits.
  // CHECK: arith.constant -56 : i8
  // CHECK: arith.minui
  %d = anvil.clip %u {max = 200.0 : f64} : (tensor<4xui8>) -> tensor<4xui8>
  return %b, %c, %d : tensor<4xbf16>, tensor<4xi64>, tensor<4xui8>
}

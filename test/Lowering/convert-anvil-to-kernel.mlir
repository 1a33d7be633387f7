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
  // CHECK-SAME: params {batch = array<i64>, batch_rank = 0 : i64, k = 4 : i64, lhs_batch_strides = array<i64>, m = 6 : i64, n = 5 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}
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

// -----

// Bounded dims: `?` dims named by a bounded size (anvil.sizes) become
// expressions over it. The shape computation feeding the reshape (shape_of,
// gather, mul, concat) gets no code; the buffers carry their dims
// (kernel.dims) and run-time params are affine maps over the sizes.
// CHECK-DAG: #[[$X3:.*]] = affine_map<()[s0] -> (2, s0, 8)>
// CHECK-DAG: #[[$ROWS:.*]] = affine_map<()[s0] -> (s0 * 2)>
// CHECK-DAG: #[[$Y2:.*]] = affine_map<()[s0] -> (s0 * 2, 8)>
// CHECK-DAG: #[[$T2:.*]] = affine_map<()[s0] -> (8, s0 * 2)>
// CHECK-DAG: #[[$TS:.*]] = affine_map<()[s0] -> (s0 * 2, 1)>
// CHECK-LABEL: func.func @bounded
// CHECK-SAME: (%[[X:.*]]: memref<2x?x8xf32> {anvil.name = "x", kernel.dims = #[[$X3]]}, %[[W:.*]]: memref<8x8xf32> {anvil.name = "w"}, %[[OUT:.*]]: memref<?x8xf32> {anvil.name = "y", kernel.dims = #[[$Y2]]})
// CHECK-SAME: attributes {kernel.num_inputs = 2 : i64, kernel.sizes = [{max = 64 : i64, min = 1 : i64, name = "seq"}]}
func.func @bounded(%x: tensor<2x?x8xf32> {anvil.name = "x", anvil.dim_names = ["", "seq", ""]}, %w: tensor<8x8xf32> {anvil.name = "w"}) -> (tensor<?x8xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 64 : i64}]} {
  // CHECK: %[[M:.*]] = kernel.alloc {kernel.dims = #[[$X3]]} : memref<2x?x8xf32>
  // CHECK: kernel.launch "matmul" ins(%[[X]], %[[W]] : memref<2x?x8xf32>, memref<8x8xf32>) outs(%[[M]] : memref<2x?x8xf32>) params {batch = array<i64>, batch_rank = 0 : i64, k = 8 : i64, lhs_batch_strides = array<i64>, m = #[[$ROWS]], n = 8 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}
  %m = anvil.matmul %x, %w : (tensor<2x?x8xf32>, tensor<8x8xf32>) -> tensor<2x?x8xf32>
  // CHECK: %[[S:.*]] = kernel.alloc {kernel.dims = #[[$X3]]} : memref<2x?x8xf32>
  // CHECK: kernel.launch "softmax" ins(%[[M]] : memref<2x?x8xf32>) outs(%[[S]] : memref<2x?x8xf32>) params {inner = 1 : i64, log = false, outer = #[[$ROWS]], size = 8 : i64}
  %s = anvil.softmax %m {axis = 2 : i64} : (tensor<2x?x8xf32>) -> tensor<2x?x8xf32>
  // CHECK-NOT: anvil.
  // CHECK: %[[R:.*]] = kernel.view %[[S]] {kernel.dims = #[[$Y2]]} : memref<2x?x8xf32> to memref<?x8xf32>
  %shape = anvil.shape_of %s {end = 3 : i64} : (tensor<2x?x8xf32>) -> tensor<3xi64>
  %i = anvil.constant dense<1> : tensor<1xi64>
  %n = anvil.gather %shape, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %two = anvil.constant dense<2> : tensor<1xi64>
  %rows = anvil.mul %n, %two : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %eight = anvil.constant dense<8> : tensor<1xi64>
  %new = anvil.concat %rows, %eight {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = anvil.reshape %s, %new : (tensor<2x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  // CHECK: %[[T:.*]] = kernel.alloc {kernel.dims = #[[$T2]]} : memref<8x?xf32>
  // CHECK: kernel.launch "copy_strided" ins(%[[R]] : memref<?x8xf32>) outs(%[[T]] : memref<8x?xf32>) params {dst_offset = 0 : i64, dst_strides = #[[$TS]], rank = 2 : i64, shape = #[[$T2]], src_offset = 0 : i64, src_strides = array<i64: 1, 8>}
  %t = anvil.transpose %r {perm = array<i64: 1, 0>} : (tensor<?x8xf32>) -> tensor<8x?xf32>
  // CHECK: kernel.elementwise ins(%[[T]], %[[T]] : memref<8x?xf32>, memref<8x?xf32>) outs(%[[U:.*]] : memref<8x?xf32>)
  %u = anvil.add %t, %t : (tensor<8x?xf32>, tensor<8x?xf32>) -> tensor<8x?xf32>
  %v = anvil.transpose %u {perm = array<i64: 1, 0>} : (tensor<8x?xf32>) -> tensor<?x8xf32>
  // CHECK: kernel.elementwise ins(%{{.*}}, %[[R]] : memref<?x8xf32>, memref<?x8xf32>) outs(%[[OUT]] : memref<?x8xf32>)
  %o = anvil.add %v, %r : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

// A dim named by a size nobody bounded or bound is reported.
// expected-error @+1 {{input 'x' has the dynamic type 'tensor<?xf32>': dim 'batch' is not bound; code generation needs static shapes: bind it with --dim=batch=SIZE (or bound it with --dim=batch=MIN..MAX) or set the shape with --input-shape}}
func.func @unbounded(%x: tensor<?xf32> {anvil.name = "x", anvil.dim_names = ["batch"]}) -> (tensor<?xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 64 : i64}]} {
  return %x : tensor<?xf32>
}

// -----

// A dynamic input whose dim names fix its size (an integer name) with no
// bounded sizes at all: reported on the input, not a silent failure.
// expected-error @+1 {{input 'k' has the dynamic type 'tensor<?x4xf32>' although its dim names fix every size; give it a static type (--input-shape)}}
func.func @integer_name(%k: tensor<?x4xf32> {anvil.name = "k", anvil.dim_names = ["2", ""]}) -> (tensor<2x4xf32> {anvil.name = "y"}) {
  %c = anvil.constant dense<1.0> : tensor<2x4xf32>
  return %c : tensor<2x4xf32>
}

// -----

// A dim that is not a polynomial of the sizes over their bounds (here
// min(seq, 16): the slice is clamped to the table) is an error on its op.
func.func @clamped(%x: tensor<?xi64> {anvil.name = "x", anvil.dim_names = ["seq"]}) -> (tensor<?xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 64 : i64}]} {
  %table = anvil.constant dense<1.0> : tensor<16xf32>
  %shape = anvil.shape_of %x {end = 1 : i64} : (tensor<?xi64>) -> tensor<1xi64>
  %zero = anvil.constant dense<0> : tensor<1xi64>
  %one = anvil.constant dense<1> : tensor<1xi64>
  // expected-error @+1 {{dim 0 of result #0 ('tensor<?xf32>') does not follow from the bounded sizes as a polynomial of degree <= 2 that holds over their bounds}}
  %s = anvil.slice %table, %zero, %shape, %zero, %one : (tensor<16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xf32>
  return %s : tensor<?xf32>
}

// -----

// Two sizes and their product (semi-affine): batch * seq rows.
// CHECK-DAG: #[[$BS:.*]] = affine_map<()[s0, s1] -> (s0 * s1)>
// CHECK-LABEL: func.func @product
// CHECK-SAME: kernel.sizes = [{max = 4 : i64, min = 1 : i64, name = "batch"}, {max = 32 : i64, min = 1 : i64, name = "seq"}]
func.func @product(%x: tensor<?x?x8xf32> {anvil.name = "x", anvil.dim_names = ["batch", "seq", ""]}) -> (tensor<?x8xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "batch", min = 1 : i64, max = 4 : i64}, {name = "seq", min = 1 : i64, max = 32 : i64}]} {
  %shape = anvil.constant dense<[-1, 8]> : tensor<2xi64>
  %r = anvil.reshape %x, %shape : (tensor<?x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  // CHECK: kernel.launch "softmax" {{.*}} params {inner = 1 : i64, log = false, outer = #[[$BS]], size = 8 : i64}
  %s = anvil.softmax %r {axis = 1 : i64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// -----

// Shape computations the program reads as data are filled in from the
// sizes (size_values); a slice may start at a size.
// CHECK-DAG: #[[$XD:.*]] = affine_map<()[s0] -> (s0, 4)>
// CHECK-DAG: #[[$OFF:.*]] = affine_map<()[s0] -> (s0 * 4)>
// CHECK-DAG: #[[$VALS:.*]] = affine_map<()[s0] -> (s0 + 1, 5)>
// CHECK-LABEL: func.func @shape_values
// CHECK-SAME: (%[[X:.*]]: memref<?x4xf32> {anvil.name = "x", kernel.dims = #[[$XD]]}, %[[S:.*]]: memref<2xi64> {anvil.name = "s"}, %[[Y:.*]]: memref<?x4xf32> {anvil.name = "y", kernel.dims = #[[$XD]]})
func.func @shape_values(%x: tensor<?x4xf32> {anvil.name = "x", anvil.dim_names = ["seq", ""]}) -> (tensor<2xi64> {anvil.name = "s"}, tensor<?x4xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 16 : i64}]} {
  %shape = anvil.shape_of %x {end = 2 : i64} : (tensor<?x4xf32>) -> tensor<2xi64>
  %one = anvil.constant dense<1> : tensor<2xi64>
  %plus = anvil.add %shape, %one : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %table = anvil.constant dense<1.0> : tensor<64x4xf32>
  %i = anvil.constant dense<0> : tensor<1xi64>
  %n = anvil.gather %shape, %i {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %two = anvil.constant dense<2> : tensor<1xi64>
  %end = anvil.mul %n, %two : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %zero = anvil.constant dense<0> : tensor<1xi64>
  %step = anvil.constant dense<1> : tensor<1xi64>
  // CHECK: kernel.launch "copy_strided" ins(%{{.*}} : memref<64x4xf32>) outs(%[[R:.*]] : memref<?x4xf32>) params {{{.*}}src_offset = #[[$OFF]], src_strides = array<i64: 4, 1>}
  %rows = anvil.slice %table, %n, %end, %zero, %step : (tensor<64x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32>
  // CHECK: kernel.elementwise ins(%[[R]], %[[X]] : memref<?x4xf32>, memref<?x4xf32>) outs(%[[Y]] : memref<?x4xf32>)
  %y = anvil.add %rows, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  // CHECK: kernel.launch "size_values" outs(%[[S]] : memref<2xi64>) params {count = 2 : i64, values = #[[$VALS]]}
  return %plus, %y : tensor<2xi64>, tensor<?x4xf32>
}

// -----

// A negative start on a bounded dim counts from its end: the last row of
// `seq` rows starts at (seq - 1) * 4.
// CHECK-DAG: #[[$LAST:.*]] = affine_map<()[s0] -> (s0 * 4 - 4)>
// CHECK-LABEL: func.func @last_row
// CHECK: kernel.launch "copy_strided" {{.*}} params {{{.*}}shape = array<i64: 1, 4>, src_offset = #[[$LAST]], src_strides = array<i64: 4, 1>}
func.func @last_row(%x: tensor<?x4xf32> {anvil.name = "x", anvil.dim_names = ["seq", ""]}) -> (tensor<1x4xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 16 : i64}]} {
  %start = anvil.constant dense<-1> : tensor<1xi64>
  %end = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %zero = anvil.constant dense<0> : tensor<1xi64>
  %step = anvil.constant dense<1> : tensor<1xi64>
  %row = anvil.slice %x, %start, %end, %zero, %step : (tensor<?x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x4xf32>
  return %row : tensor<1x4xf32>
}

// -----

// A dim named by a sum of sizes: bound ones (anvil.dim_values) count as
// their values, bounded ones as symbols.
// CHECK-LABEL: func.func @derived
// CHECK-SAME: (%{{.*}}: memref<?xf32> {anvil.name = "x", kernel.dims = affine_map<()[s0] -> (s0 + 2)>}
// CHECK-NOT: anvil.dim_values
func.func @derived(%x: tensor<?xf32> {anvil.name = "x", anvil.dim_names = ["past + seq"]}) -> (tensor<?xf32> {anvil.name = "y"}) attributes {anvil.dim_values = {past = 2 : i64}, anvil.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  %y = anvil.neg %x : (tensor<?xf32>) -> tensor<?xf32>
  return %y : tensor<?xf32>
}

// -----

// An int8 KV cache: kv_write_int8 writes the pool and its scales in place
// (both state arguments, the launch's two outputs), and paged_attention
// reads the same buffers, the scales as its two last inputs.
// CHECK-LABEL: func.func @int8_kv
// CHECK-SAME: %[[KP:arg7]]: memref<8x16x2x8xi8> {anvil.name = "kp", anvil.state}, %[[VP:arg8]]: memref<8x16x2x8xi8> {anvil.name = "vp", anvil.state}, %[[KS:arg9]]: memref<8x16x2xf32> {anvil.name = "ks", anvil.state}, %[[VS:arg10]]: memref<8x16x2xf32> {anvil.name = "vs", anvil.state}
// CHECK: kernel.launch "kv_write_int8" ins(%arg1, %arg2 : memref<5x2x8xf32>, memref<5xi64>) outs(%[[KP]], %[[KS]] : memref<8x16x2x8xi8>, memref<8x16x2xf32>) params {block_size = 16 : i64, head_dim = 8 : i64, kv_heads = 2 : i64, num_blocks = 8 : i64, rope_dim = 0 : i64, rope_interleaved = false, rope_rows = 0 : i64, tokens = 5 : i64}
// CHECK: kernel.launch "kv_write_int8" ins(%arg1, %arg2 : memref<5x2x8xf32>, memref<5xi64>) outs(%[[VP]], %[[VS]] : memref<8x16x2x8xi8>, memref<8x16x2xf32>)
// CHECK: kernel.launch "paged_attention" ins(%arg0, %[[KP]], %[[VP]], %arg3, %arg4, %arg5, %arg6, %[[KS]], %[[VS]] : memref<5x4x8xf32>, memref<8x16x2x8xi8>, memref<8x16x2x8xi8>, memref<2x4xi32>, memref<2xi32>, memref<5xi64>, memref<5xi32>, memref<8x16x2xf32>, memref<8x16x2xf32>)
func.func @int8_kv(%q: tensor<5x4x8xf32> {anvil.name = "q"}, %rows: tensor<5x2x8xf32> {anvil.name = "rows"}, %slots: tensor<5xi64> {anvil.name = "slots"}, %tables: tensor<2x4xi32> {anvil.name = "tables"}, %lens: tensor<2xi32> {anvil.name = "lens"}, %pos: tensor<5xi64> {anvil.name = "pos"}, %seq: tensor<5xi32> {anvil.name = "seq"}, %kp: tensor<8x16x2x8xi8> {anvil.name = "kp", anvil.state}, %vp: tensor<8x16x2x8xi8> {anvil.name = "vp", anvil.state}, %ks: tensor<8x16x2xf32> {anvil.name = "ks", anvil.state}, %vs: tensor<8x16x2xf32> {anvil.name = "vs", anvil.state}) -> (tensor<5x4x8xf32> {anvil.name = "out"}) {
  %k, %ks2 = anvil.kv_write %kp, %rows, %slots, %ks : (tensor<8x16x2x8xi8>, tensor<5x2x8xf32>, tensor<5xi64>, tensor<8x16x2xf32>) -> (tensor<8x16x2x8xi8>, tensor<8x16x2xf32>)
  %v, %vs2 = anvil.kv_write %vp, %rows, %slots, %vs : (tensor<8x16x2x8xi8>, tensor<5x2x8xf32>, tensor<5xi64>, tensor<8x16x2xf32>) -> (tensor<8x16x2x8xi8>, tensor<8x16x2xf32>)
  %o = anvil.paged_attention %q, %k, %v, %tables, %lens, %pos, %seq scales(%ks2, %vs2) {scale = 0.25 : f32} : (tensor<5x4x8xf32>, tensor<8x16x2x8xi8>, tensor<8x16x2x8xi8>, tensor<2x4xi32>, tensor<2xi32>, tensor<5xi64>, tensor<5xi32>, tensor<8x16x2xf32>, tensor<8x16x2xf32>) -> tensor<5x4x8xf32>
  return %o : tensor<5x4x8xf32>
}

// -----

// A rope folded into the KV write and the attention (anvil-fuse-rope): the
// [tokens, half] tables follow the other inputs (after an int8 pool's
// scales), rope_dim is the rotated part (the whole head without the
// attribute) and rope_rows the tables' rows, which the kernels check
// against the tokens when they run.
// CHECK-LABEL: func.func @fused_rope
// CHECK: kernel.launch "kv_write" ins(%arg1, %arg2, %arg7, %arg8 : memref<?x2x8xf32>, memref<?xi64>, memref<?x4xf32>, memref<?x4xf32>) outs(%arg9 : memref<8x16x2x8xf32>) params {block_size = 16 : i64, head_dim = 8 : i64, num_blocks = 8 : i64, rope_dim = 8 : i64, rope_interleaved = true, rope_rows = #{{.*}}, row_size = 16 : i64, tokens = #{{.*}}}
// CHECK: kernel.launch "paged_attention" ins(%arg0, %arg9, %arg9, %arg3, %arg4, %arg5, %arg6, %arg7, %arg8 : {{.*}}) outs({{.*}}) params {{{.*}}rope_dim = 8 : i64, rope_interleaved = false, rope_rows = #{{.*}}
func.func @fused_rope(%q: tensor<?x4x8xf32> {anvil.name = "q", anvil.dim_names = ["tokens", "", ""]}, %rows: tensor<?x2x8xf32> {anvil.name = "rows", anvil.dim_names = ["tokens", "", ""]}, %slots: tensor<?xi64> {anvil.name = "slots", anvil.dim_names = ["tokens"]}, %tables: tensor<2x4xi32> {anvil.name = "tables"}, %lens: tensor<2xi32> {anvil.name = "lens"}, %pos: tensor<?xi64> {anvil.name = "pos", anvil.dim_names = ["tokens"]}, %seq: tensor<?xi32> {anvil.name = "seq", anvil.dim_names = ["tokens"]}, %cos: tensor<?x4xf32> {anvil.name = "cos", anvil.dim_names = ["tokens", ""]}, %sin: tensor<?x4xf32> {anvil.name = "sin", anvil.dim_names = ["tokens", ""]}, %kp: tensor<8x16x2x8xf32> {anvil.name = "kp", anvil.state}) -> (tensor<?x4x8xf32> {anvil.name = "out"}) attributes {anvil.sizes = [{name = "tokens", min = 1 : i64, max = 16 : i64}]} {
  %k = anvil.kv_write %kp, %rows, %slots rope(%cos, %sin) {rope_interleaved = true} : (tensor<8x16x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi64>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<8x16x2x8xf32>
  %o = anvil.paged_attention %q, %k, %k, %tables, %lens, %pos, %seq rope(%cos, %sin) {scale = 0.25 : f32} : (tensor<?x4x8xf32>, tensor<8x16x2x8xf32>, tensor<8x16x2x8xf32>, tensor<2x4xi32>, tensor<2xi32>, tensor<?xi64>, tensor<?xi32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4x8xf32>
  return %o : tensor<?x4x8xf32>
}

// -----

// The scales are the runtime's state, written in place like the pool.
func.func @int8_kv_scales_not_state(%rows: tensor<5x2x8xf32> {anvil.name = "rows"}, %slots: tensor<5xi64> {anvil.name = "slots"}, %ks: tensor<8x16x2xf32> {anvil.name = "ks"}, %kp: tensor<8x16x2x8xi8> {anvil.name = "kp", anvil.state}) -> (tensor<8x16x2xf32> {anvil.name = "out"}) {
  // expected-error @+1 {{needs its scales to be a state argument of the function (beside the runtime's KV pool)}}
  %k, %ks2 = anvil.kv_write %kp, %rows, %slots, %ks : (tensor<8x16x2x8xi8>, tensor<5x2x8xf32>, tensor<5xi64>, tensor<8x16x2xf32>) -> (tensor<8x16x2x8xi8>, tensor<8x16x2xf32>)
  return %ks2 : tensor<8x16x2xf32>
}

// -----

// A float16 matmul of a constant float16 weight runs the float kernel on
// float32 activations (x cast up, the weight kept in float16: mixed
// operand types), the result cast back once; a float16 product of two
// activations multiplies both cast up (x's cast shared with the first).
// CHECK-LABEL: func.func @f16_constant_weight
// CHECK-SAME: (%[[X:.*]]: memref<2x8xf16>, %[[Y:.*]]: memref<8x3xf16>, %[[OUT:.*]]: memref<2x4xf16>, %[[OUT2:.*]]: memref<2x3xf16>)
func.func @f16_constant_weight(%x: tensor<2x8xf16>, %y: tensor<8x3xf16>) -> (tensor<2x4xf16>, tensor<2x3xf16>) {
  // CHECK: kernel.elementwise ins(%[[Y]] : memref<8x3xf16>) outs(%[[YW:.*]] : memref<8x3xf32>)
  // CHECK: arith.extf
  // CHECK: kernel.elementwise ins(%[[X]] : memref<2x8xf16>) outs(%[[XW:.*]] : memref<2x8xf32>)
  // CHECK: arith.extf
  // CHECK: %[[W:.*]] = kernel.weight dense<5.000000e-01> : tensor<8x4xf16>
  // CHECK: kernel.launch "matmul" ins(%[[XW]], %[[W]] : memref<2x8xf32>, memref<8x4xf16>) outs(%[[P:.*]] : memref<2x4xf32>)
  // CHECK: kernel.elementwise ins(%[[P]] : memref<2x4xf32>) outs(%[[OUT]] : memref<2x4xf16>)
  // CHECK: arith.truncf
  // CHECK: kernel.launch "matmul" ins(%[[XW]], %[[YW]] : memref<2x8xf32>, memref<8x3xf32>) outs(%[[P2:.*]] : memref<2x3xf32>)
  // CHECK: kernel.elementwise ins(%[[P2]] : memref<2x3xf32>) outs(%[[OUT2]] : memref<2x3xf16>)
  // CHECK: arith.truncf
  // CHECK-NOT: kernel.launch
  %w = anvil.constant dense<0.5> : tensor<8x4xf16>
  %a = anvil.matmul %x, %w : (tensor<2x8xf16>, tensor<8x4xf16>) -> tensor<2x4xf16>
  %b = anvil.matmul %x, %y : (tensor<2x8xf16>, tensor<8x3xf16>) -> tensor<2x3xf16>
  return %a, %b : tensor<2x4xf16>, tensor<2x3xf16>
}

// -----

// Attention's scores in a bfloat16 graph (a batched Q x K^T of two
// activations): both widened, the float32 kernel's batched dot products,
// the scores cast back.
// CHECK-LABEL: func.func @bf16_attention_scores
// CHECK-SAME: (%[[Q:.*]]: memref<2x4x8xbf16>, %[[K:.*]]: memref<2x5x8xbf16>, %[[S:.*]]: memref<2x4x5xbf16>)
func.func @bf16_attention_scores(%q: tensor<2x4x8xbf16>, %k: tensor<2x5x8xbf16>) -> tensor<2x4x5xbf16> {
  // CHECK-DAG: kernel.elementwise ins(%[[K]] : memref<2x5x8xbf16>) outs(%[[KW:[^ ]*]] : memref<2x5x8xf32>)
  // CHECK-DAG: kernel.elementwise ins(%[[Q]] : memref<2x4x8xbf16>) outs(%[[QW:[^ ]*]] : memref<2x4x8xf32>)
  // CHECK: kernel.launch "matmul" ins(%[[QW]], %[[KW]] : memref<2x4x8xf32>, memref<2x5x8xf32>) outs(%[[P:.*]] : memref<2x4x5xf32>)
  // CHECK-SAME: transpose_rhs = true
  // CHECK: kernel.elementwise ins(%[[P]] : memref<2x4x5xf32>) outs(%[[S]] : memref<2x4x5xbf16>)
  %s = anvil.matmul %q, %k {transpose_rhs = true} : (tensor<2x4x8xbf16>, tensor<2x5x8xbf16>) -> tensor<2x4x5xbf16>
  return %s : tensor<2x4x5xbf16>
}

// -----

// A float16 convolution runs on the float32 kernels: the input cast up at
// run time, the constant weight and bias copied to float32 at compile time
// (the float16 originals gone), the result cast back.
// CHECK-LABEL: func.func @f16_conv
// CHECK-SAME: (%[[X:.*]]: memref<1x2x5x6xf16>, %[[OUT:.*]]: memref<1x4x5x6xf16>)
func.func @f16_conv(%x: tensor<1x2x5x6xf16>) -> tensor<1x4x5x6xf16> {
  // CHECK-NOT: tensor<4x2x3x3xf16>
  // CHECK-DAG: %[[W:.*]] = kernel.weight dense<5.000000e-01> : tensor<4x2x3x3xf32>
  // CHECK-DAG: %[[B:.*]] = kernel.weight dense<2.500000e-01> : tensor<4xf32>
  // CHECK-DAG: kernel.elementwise ins(%[[X]] : memref<1x2x5x6xf16>) outs(%[[XW:[^ ]*]] : memref<1x2x5x6xf32>)
  // CHECK: kernel.launch "conv2d" ins(%[[XW]], %[[W]], %[[B]] : memref<1x2x5x6xf32>, memref<4x2x3x3xf32>, memref<4xf32>) outs(%[[Y:.*]] : memref<1x4x5x6xf32>)
  // CHECK: kernel.elementwise ins(%[[Y]] : memref<1x4x5x6xf32>) outs(%[[OUT]] : memref<1x4x5x6xf16>)
  // CHECK: arith.truncf
  %w = anvil.constant dense<0.5> : tensor<4x2x3x3xf16>
  %b = anvil.constant dense<0.25> : tensor<4xf16>
  %y = anvil.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x2x5x6xf16>, tensor<4x2x3x3xf16>, tensor<4xf16>) -> tensor<1x4x5x6xf16>
  return %y : tensor<1x4x5x6xf16>
}

// -----

// An integer convolution is one conv2d_integer launch reading the 8-bit
// input, the int8 weight and the input's zero point, writing int32.
// CHECK-LABEL: func.func @conv_integer
// CHECK: kernel.launch "conv2d_integer" ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<1x2x5x6xui8>, memref<4x2x3x3xi8>, memref<ui8>) outs(%{{.*}} : memref<1x4x2x6xi32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 5 : i64, kh = 3 : i64, kw = 3 : i64, m = 4 : i64, n = 1 : i64, oh = 2 : i64, ow = 6 : i64, pads = array<i64: 1, 1, 0, 1>, strides = array<i64: 2, 1>, w = 6 : i64}
func.func @conv_integer(%x: tensor<1x2x5x6xui8>, %w: tensor<4x2x3x3xi8>, %z: tensor<ui8>) -> tensor<1x4x2x6xi32> {
  %y = anvil.conv_integer %x, %w, %z {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 0, 1>, strides = array<i64: 2, 1>} : (tensor<1x2x5x6xui8>, tensor<4x2x3x3xi8>, tensor<ui8>) -> tensor<1x4x2x6xi32>
  return %y : tensor<1x4x2x6xi32>
}

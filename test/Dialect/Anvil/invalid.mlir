// RUN: anvil-opt %s -split-input-file -verify-diagnostics

func.func @broadcast_mismatch(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{operand shapes 2x3 and 4 do not broadcast}}
  %0 = anvil.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @wrong_result_shape(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result #0 has type 'tensor<3x2xf32>' but its operands imply 'tensor<2x3xf32>'}}
  %0 = anvil.relu %a : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @element_types_differ(%a: tensor<2xf32>, %b: tensor<2xf16>) {
  // expected-error @+1 {{operand element types differ}}
  %0 = anvil.mul %a, %b : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return
}

// -----

func.func @not_a_permutation(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{perm is not a permutation of the input dims}}
  %0 = anvil.transpose %a {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @bad_reshape(%a: tensor<2x3xf32>) {
  %s = anvil.constant dense<[4, 2]> : tensor<2xi64>
  // expected-error @+1 {{cannot reshape 2x3 (6 elements) to 4x2 (8 elements)}}
  %0 = anvil.reshape %a, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return
}

// -----

func.func @two_inferred_dims(%a: tensor<2x3xf32>) {
  %s = anvil.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+1 {{target shape has more than one -1}}
  %0 = anvil.reshape %a, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{contraction dims differ: 2x3 times 4x5}}
  %0 = anvil.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gqa_heads(%q: tensor<1x6x4x8xf32>, %k: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{6 query heads are not a multiple of 4 key/value heads}}
  %0 = anvil.attention %q, %k, %k {scale = 1.0 : f32} : (tensor<1x6x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x6x4x8xf32>
  return
}

// -----

func.func @axis_out_of_range(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @squeeze_non_unit(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot squeeze dimension 1 of size 3}}
  %0 = anvil.squeeze %a {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @split_sizes(%a: tensor<2x5xf32>) {
  // expected-error @+1 {{split sizes add up to 4 but the dimension has size 5}}
  %0, %1 = anvil.split %a {axis = 1 : i64, sizes = array<i64: 2, 2>} : (tensor<2x5xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>)
  return
}

// -----

func.func @conv_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{input has 4 channels but weight expects 3 x 1 groups}}
  %0 = anvil.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x6x6xf32>
  return
}

// -----

func.func @rope_odd_head_dim(%x: tensor<1x2x4x7xf32>, %t: tensor<1x1x4x3xf32>) {
  // expected-error @+1 {{head dim 7 is odd}}
  %0 = anvil.rope %x, %t, %t : (tensor<1x2x4x7xf32>, tensor<1x1x4x3xf32>, tensor<1x1x4x3xf32>) -> tensor<1x2x4x7xf32>
  return
}

// -----

func.func @rms_norm_scale(%x: tensor<2x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{scale has 4 elements but the normalized dim has 8}}
  %0 = anvil.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @reflect_too_far(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{reflect padding of dimension 1 must be smaller than its size 3}}
  %0 = anvil.pad %x {mode = "reflect", pads = array<i64: 0, 3, 0, 0>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @conv_groups(%x: tensor<1x2x5x5xf32>, %w: tensor<3x1x3x3xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{3 output channels do not split into 2 groups}}
  %y = anvil.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x1x3x3xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

func.func @scatter_nd_updates(%x: tensor<4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{updates must have shape 2x4, got 2x3}}
  %y = anvil.scatter_nd %x, %i, %u : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}

// -----

func.func @gather_elements_dims(%x: tensor<2x2xf32>, %i: tensor<3x2xi64>) -> tensor<3x2xf32> {
  // expected-error @+1 {{indices dim 0 (3) exceeds the input's (2)}}
  %y = anvil.gather_elements %x, %i {axis = 1 : i64} : (tensor<2x2xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @matmul_int_float(%a: tensor<2x3xi8>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{mixes integer and float operands (i8 x f32 -> f32); dequantize the integer operand first}}
  %0 = anvil.matmul %a, %b : (tensor<2x3xi8>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_int8_result(%a: tensor<2x3xi8>, %b: tensor<3x4xi8>) {
  // expected-error @+1 {{integer operands of 8 or 16 bits accumulate in i32 and give an i32 result, not i8 x i8 -> i8}}
  %0 = anvil.matmul %a, %b : (tensor<2x3xi8>, tensor<3x4xi8>) -> tensor<2x4xi8>
  return
}

// -----

func.func @matmul_wide_ints_differ(%a: tensor<2x3xi32>, %b: tensor<3x4xi64>) {
  // expected-error @+1 {{integer operands of 32 or 64 bits must have one type}}
  %0 = anvil.matmul %a, %b : (tensor<2x3xi32>, tensor<3x4xi64>) -> tensor<2x4xi64>
  return
}

// -----

func.func @matmul_float_to_int(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+1 {{float operands give a float result}}
  %0 = anvil.matmul %a, %b : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xi32>
  return
}

// -----

func.func @dequantize_unpacked_int4(%q: tensor<8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{4-bit values are packed two per byte in ui8 storage, not 'i8'}}
  %0 = anvil.dequantize %q, %s {bits = 4 : i64} : (tensor<8xi8>, tensor<f32>) -> tensor<16xf32>
  return
}

// -----

func.func @dequantize_bits_mismatch(%q: tensor<8xi16>, %s: tensor<f32>) {
  // expected-error @+1 {{bits = 8 does not match the storage type 'i16'}}
  %0 = anvil.dequantize %q, %s {bits = 8 : i64} : (tensor<8xi16>, tensor<f32>) -> tensor<8xf32>
  return
}

// -----

func.func @dequantize_signed_wide(%q: tensor<8xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{is_signed is for packed 4-bit values}}
  %0 = anvil.dequantize %q, %s {bits = 8 : i64, is_signed = true} : (tensor<8xi8>, tensor<f32>) -> tensor<8xf32>
  return
}

// -----

func.func @dequantize_zero_point_type(%q: tensor<8xui8>, %s: tensor<f32>, %z: tensor<i8>) {
  // expected-error @+1 {{zero point has element type 'i8' but these values take 'ui8'}}
  %0 = anvil.dequantize %q, %s, %z {bits = 8 : i64} : (tensor<8xui8>, tensor<f32>, tensor<i8>) -> tensor<8xf32>
  return
}

// -----

func.func @dequantize_int4_zero_point(%q: tensor<4xui8>, %s: tensor<f32>, %z: tensor<ui8>) {
  // expected-error @+1 {{zero point has element type 'ui8' but these values take 'i8'}}
  %0 = anvil.dequantize %q, %s, %z {bits = 4 : i64, is_signed = true} : (tensor<4xui8>, tensor<f32>, tensor<ui8>) -> tensor<8xf32>
  return
}

// -----

func.func @dequantize_per_axis_size(%q: tensor<4x3xi8>, %s: tensor<4xf32>) {
  // expected-error @+1 {{per-axis scale has 4 elements for dim 1 of size 3}}
  %0 = anvil.dequantize %q, %s {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @dequantize_blocked_shape(%q: tensor<4x6xi8>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{blocked scale has shape 4x2 for values of shape 4x6 (block_size 2 along dim 1)}}
  %0 = anvil.dequantize %q, %s {axis = 1 : i64, bits = 8 : i64, block_size = 2 : i64} : (tensor<4x6xi8>, tensor<4x2xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @dequantize_rank2_scale_unblocked(%q: tensor<4x6xi8>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{a per-axis scale is 1-D; a scale of rank 2 needs block_size}}
  %0 = anvil.dequantize %q, %s {axis = 1 : i64, bits = 8 : i64} : (tensor<4x6xi8>, tensor<4x2xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @dequantize_axis(%q: tensor<4x6xi8>, %s: tensor<6xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = anvil.dequantize %q, %s {axis = 2 : i64, bits = 8 : i64} : (tensor<4x6xi8>, tensor<6xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @dequantize_last_dim(%q: tensor<3xui8>, %s: tensor<f32>) {
  // expected-error @+1 {{last_dim 7 does not pack into 3 bytes}}
  %0 = anvil.dequantize %q, %s {bits = 4 : i64, last_dim = 7 : i64} : (tensor<3xui8>, tensor<f32>) -> tensor<7xf32>
  return
}

// -----

func.func @dequantize_packed_result(%q: tensor<4x8xui8>, %s: tensor<f32>) {
  // expected-error @+1 {{result #0 has type 'tensor<4x8xf32>' but its operands imply 'tensor<4x16xf32>'}}
  %0 = anvil.dequantize %q, %s {bits = 4 : i64} : (tensor<4x8xui8>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @quantize_scale_type(%x: tensor<8xf32>, %s: tensor<f16>) {
  // expected-error @+1 {{scale has element type 'f16' but the input 'f32'}}
  %0 = anvil.quantize %x, %s {bits = 8 : i64} : (tensor<8xf32>, tensor<f16>) -> tensor<8xi8>
  return
}

// -----

func.func @quantize_bits(%x: tensor<8xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{32-bit values are not supported (4, 8, or 16)}}
  %0 = anvil.quantize %x, %s {bits = 32 : i64} : (tensor<8xf32>, tensor<f32>) -> tensor<8xi32>
  return
}

// -----

func.func @quantize_per_token_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{needs rows: an input of rank >= 1}}
  %0, %1 = anvil.quantize_per_token %x : (tensor<f32>) -> (tensor<i8>, tensor<f32>)
  return
}

// -----

func.func @gather_nd_batch_dims(%x: tensor<4x5x8xf32>, %i: tensor<3x1xi64>) {
  // expected-error @+1 {{batch dim 0 differs: 4 in input, 3 in indices}}
  %0 = anvil.gather_nd %x, %i {batch_dims = 1 : i64} : (tensor<4x5x8xf32>, tensor<3x1xi64>) -> tensor<3x8xf32>
  return
}

// -----

func.func @gather_nd_tuple_too_long(%x: tensor<4x5xf32>, %i: tensor<3x3xi64>) {
  // expected-error @+1 {{index tuples of 3 elements with 0 batch dims do not fit input rank 2}}
  %0 = anvil.gather_nd %x, %i : (tensor<4x5xf32>, tensor<3x3xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @kv_write_pool_rank(%p: tensor<64x16x32xf32>, %k: tensor<?x2x16xf32>, %s: tensor<?xi64>) {
  // expected-error @+1 {{pool must be [num_blocks, block_size, kv_heads, head_dim] (rank 4), got rank 3}}
  %0 = anvil.kv_write %p, %k, %s : (tensor<64x16x32xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x32xf32>
  return
}

// -----

func.func @kv_write_heads(%p: tensor<64x16x2x16xf32>, %k: tensor<5x4x16xf32>, %s: tensor<5xi64>) {
  // expected-error @+1 {{rows and pool differ in kv heads: 4 vs 2}}
  %0 = anvil.kv_write %p, %k, %s : (tensor<64x16x2x16xf32>, tensor<5x4x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xf32>
  return
}

// -----

// A pool of another float type than the rows is a 16-bit KV cache (ops.mlir);
// an int8 pool needs its scales (ops.mlir), a float pool takes none, and
// other integer pools have no kernel.
func.func @kv_write_integer_pool(%p: tensor<64x16x2x16xi8>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>) {
  // expected-error @+1 {{pool of 'i8' needs scales (an int8 KV pool has one f32 scale per slot and KV head)}}
  %0 = anvil.kv_write %p, %k, %s : (tensor<64x16x2x16xi8>, tensor<5x2x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xi8>
  return
}

// -----

func.func @kv_write_float_pool_scales(%p: tensor<64x16x2x16xf32>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>, %sc: tensor<64x16x2xf32>) {
  // expected-error @+1 {{pool of 'f32' takes no scales}}
  %0:2 = anvil.kv_write %p, %k, %s, %sc : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>, tensor<64x16x2xf32>) -> (tensor<64x16x2x16xf32>, tensor<64x16x2xf32>)
  return
}

// -----

func.func @kv_write_scales_heads(%p: tensor<64x16x2x16xi8>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>, %sc: tensor<64x16x4xf32>) {
  // expected-error @+1 {{scales and pool differ in kv heads: 4 vs 2}}
  %0:2 = anvil.kv_write %p, %k, %s, %sc : (tensor<64x16x2x16xi8>, tensor<5x2x16xf32>, tensor<5xi64>, tensor<64x16x4xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x4xf32>)
  return
}

// -----

func.func @kv_write_i32_pool(%p: tensor<64x16x2x16xi32>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>) {
  // expected-error @+1 {{operand #0 must be tensor of floating-point or 8-bit signless integer values}}
  %0 = anvil.kv_write %p, %k, %s : (tensor<64x16x2x16xi32>, tensor<5x2x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xi32>
  return
}

// -----

func.func @paged_attention_query_rank(%q: tensor<1x5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{query must be [tokens, q_heads, head_dim] (rank 3), got rank 4}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s {scale = 0.25 : f32} : (tensor<1x5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_heads(%q: tensor<5x6x16xf32>, %kp: tensor<64x16x4x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{6 query heads are not a multiple of 4 key/value heads}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s {scale = 0.25 : f32} : (tensor<5x6x16xf32>, tensor<64x16x4x16xf32>, tensor<64x16x4x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>) -> tensor<5x6x16xf32>
  return
}

// -----

// f16 pools under f32 queries are valid (ops.mlir); the two pools must agree.
func.func @paged_attention_pool_types(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf16>, %vp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{key_pool and value_pool element types differ: 'f16' and 'f32'}}
  %0 = anvil.paged_attention %q, %kp, %vp, %t, %l, %p, %s {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf16>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_integer_pool(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xi8>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{key_pool of 'i8' needs key_scales}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xi8>, tensor<64x16x2x16xi8>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_scales_blocks(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xi8>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>, %ks: tensor<64x16x2xf32>, %vs: tensor<32x16x2xf32>) {
  // expected-error @+1 {{value_scales and value_pool differ in blocks: 32 vs 64}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s scales(%ks, %vs) {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xi8>, tensor<64x16x2x16xi8>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>, tensor<64x16x2xf32>, tensor<32x16x2xf32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_float_pool_scales(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>, %ks: tensor<64x16x2xf32>) {
  // expected-error @+1 {{key_pool of 'f32' takes no key_scales}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s scales(%ks, %ks) {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>, tensor<64x16x2xf32>, tensor<64x16x2xf32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_sink_type(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf16>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>, %sinks: tensor<8xf16>) {
  // expected-error @+1 {{operand element types differ: 'f32' and 'f16'}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s, %sinks {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf16>, tensor<64x16x2x16xf16>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>, tensor<8xf16>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_tokens(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<6xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{positions and query differ in tokens: 6 vs 5}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<6xi64>, tensor<5xi32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_rope_rows(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>, %c: tensor<4x8xf32>) {
  // expected-error @+1 {{rope cos table and query differ in tokens: 4 vs 5}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s rope(%c, %c) {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_rope_columns(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>, %c: tensor<5x8xf32>) {
  // expected-error @+1 {{rope cos table columns and half the rotated dim differ: 8 vs 4}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s rope(%c, %c) {scale = 0.25 : f32, rope_dim = 8 : i64} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>, tensor<5x8xf32>, tensor<5x8xf32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @kv_write_rope_dim_odd(%p: tensor<64x16x2x16xf32>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>, %c: tensor<5x3xf32>) {
  // expected-error @+1 {{rope_dim 7 must be positive and even}}
  %0 = anvil.kv_write %p, %k, %s rope(%c, %c) {rope_dim = 7 : i64} : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>, tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<64x16x2x16xf32>
  return
}

// -----

func.func @kv_write_rope_dim_without_tables(%p: tensor<64x16x2x16xf32>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>) {
  // expected-error @+1 {{rope_dim without rope(cos, sin) tables}}
  %0 = anvil.kv_write %p, %k, %s {rope_dim = 8 : i64} : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xf32>
  return
}

// -----

func.func @kv_write_rope_rank(%p: tensor<64x16x2x16xf32>, %k: tensor<5x2x16xf32>, %s: tensor<5xi64>, %c: tensor<5x1x8xf32>) {
  // expected-error @+1 {{rope cos must be [tokens, rotary_dim / 2] (rank 2), got rank 3}}
  %0 = anvil.kv_write %p, %k, %s rope(%c, %c) : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>, tensor<5x1x8xf32>, tensor<5x1x8xf32>) -> tensor<64x16x2x16xf32>
  return
}

// -----

func.func @paged_attention_window(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4x8xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{window 0 must be positive}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s {scale = 0.25 : f32, window = 0 : i64} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @paged_attention_block_tables(%q: tensor<5x8x16xf32>, %kp: tensor<64x16x2x16xf32>, %t: tensor<4xi32>, %l: tensor<4xi32>, %p: tensor<5xi64>, %s: tensor<5xi32>) {
  // expected-error @+1 {{block_tables must be [sequences, max_blocks] (rank 2), got rank 1}}
  %0 = anvil.paged_attention %q, %kp, %kp, %t, %l, %p, %s {scale = 0.25 : f32} : (tensor<5x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4xi32>, tensor<4xi32>, tensor<5xi64>, tensor<5xi32>) -> tensor<5x8x16xf32>
  return
}

// -----

func.func @rope_rotary_dim_odd(%x: tensor<1x4x3x16xf32>, %c: tensor<1x1x3x3xf32>) {
  // expected-error @+1 {{rotary_dim 7 must be positive and even}}
  %0 = anvil.rope %x, %c, %c {rotary_dim = 7 : i64} : (tensor<1x4x3x16xf32>, tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

func.func @rope_rotary_dim_tables(%x: tensor<1x4x3x16xf32>, %c: tensor<1x1x3x8xf32>) {
  // expected-error @+1 {{cos/sin tables have 8 columns for a rotated dim of 8}}
  %0 = anvil.rope %x, %c, %c {rotary_dim = 8 : i64} : (tensor<1x4x3x16xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

func.func @rope_scalar_tables(%x: tensor<1x4x3x16xf32>, %c: tensor<f32>) {
  // expected-error @+1 {{cos/sin tables must have rank >= 1}}
  %0 = anvil.rope %x, %c, %c : (tensor<1x4x3x16xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

func.func @rope_rotary_dim_too_large(%x: tensor<1x4x3x16xf32>, %c: tensor<1x1x3x16xf32>) {
  // expected-error @+1 {{rotary_dim 32 exceeds the head dim 16}}
  %0 = anvil.rope %x, %c, %c {rotary_dim = 32 : i64} : (tensor<1x4x3x16xf32>, tensor<1x1x3x16xf32>, tensor<1x1x3x16xf32>) -> tensor<1x4x3x16xf32>
  return
}

// -----

func.func @conv_integer_unsigned_weight(%x: tensor<1x2x5x5xui8>, %w: tensor<3x2x3x3xui8>, %z: tensor<ui8>) {
  // expected-error @+1 {{weight must be i8}}
  %0 = anvil.conv_integer %x, %w, %z {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xui8>, tensor<3x2x3x3xui8>, tensor<ui8>) -> tensor<1x3x3x3xi32>
  return
}

// -----

func.func @conv_integer_zero_point_type(%x: tensor<1x2x5x5xui8>, %w: tensor<3x2x3x3xi8>, %z: tensor<i8>) {
  // expected-error @+1 {{input_zero_point must have the input's type}}
  %0 = anvil.conv_integer %x, %w, %z {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xui8>, tensor<3x2x3x3xi8>, tensor<i8>) -> tensor<1x3x3x3xi32>
  return
}

// -----

func.func @conv_integer_zero_points(%x: tensor<1x2x5x5xi8>, %w: tensor<3x2x3x3xi8>, %z: tensor<2xi8>) {
  // expected-error @+1 {{input_zero_point must hold one value}}
  %0 = anvil.conv_integer %x, %w, %z {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xi8>, tensor<3x2x3x3xi8>, tensor<2xi8>) -> tensor<1x3x3x3xi32>
  return
}

// -----

func.func @conv_integer_float(%x: tensor<1x2x5x5xf32>, %w: tensor<3x2x3x3xi8>, %z: tensor<f32>) {
  // expected-error @+1 {{operand #0 must be tensor of integer values}}
  %0 = anvil.conv_integer %x, %w, %z {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xi8>, tensor<f32>) -> tensor<1x3x3x3xi32>
  return
}

// RUN: anvil-opt %s -split-input-file -verify-diagnostics

func.func @dynamic_alloc() {
  // expected-error @+1 {{has the dynamic buffer 'memref<?xf32>' in a function without 'kernel.sizes'}}
  %a = kernel.alloc : memref<?xf32>
  return
}

// -----

func.func @negative_offset() {
  // expected-error @+1 {{offset must not be negative}}
  %b = kernel.buffer arena[-64] : memref<4xf32>
  return
}

// -----

func.func @weight_type() {
  // expected-error @+1 {{value of type 'tensor<4xf32>' does not match the buffer 'memref<8xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<4xf32> : memref<8xf32>
  return
}

// -----

func.func @view_count(%x: memref<4x8xf32>) {
  // expected-error @+1 {{views 'memref<4x8xf32>' as 'memref<30xf32>', which has another element count}}
  %v = kernel.view %x : memref<4x8xf32> to memref<30xf32>
  return
}

// -----

func.func @view_type(%x: memref<4xf32>) {
  // expected-error @+1 {{cannot change the element type}}
  %v = kernel.view %x : memref<4xf32> to memref<4xi32>
  return
}

// -----

func.func @no_broadcast(%x: memref<3xf32>, %y: memref<4x8xf32>) {
  // expected-error @+1 {{input #0 of type 'memref<3xf32>' does not broadcast to 'memref<4x8xf32>'}}
  kernel.elementwise ins(%x : memref<3xf32>) outs(%y : memref<4x8xf32>) {
  ^bb0(%p: f32):
    kernel.yield %p : f32
  }
  return
}

// -----

func.func @arg_count(%x: memref<8xf32>, %y: memref<8xf32>) {
  // expected-error @+1 {{region takes 0 scalars for 1 inputs}}
  kernel.elementwise ins(%x : memref<8xf32>) outs(%y : memref<8xf32>) {
    %c = arith.constant 0.0 : f32
    kernel.yield %c : f32
  }
  return
}

// -----

func.func @arg_type(%x: memref<8xi32>, %y: memref<8xf32>) {
  // expected-error @+1 {{region argument #0 must be 'i32'}}
  kernel.elementwise ins(%x : memref<8xi32>) outs(%y : memref<8xf32>) {
  ^bb0(%p: f32):
    kernel.yield %p : f32
  }
  return
}

// -----

func.func @yield_type(%x: memref<8xf32>, %y: memref<8xi1>) {
  // expected-error @+1 {{region yields 'f32' for a buffer of 'i1'}}
  kernel.elementwise ins(%x : memref<8xf32>) outs(%y : memref<8xi1>) {
  ^bb0(%p: f32):
    kernel.yield %p : f32
  }
  return
}

// -----

func.func @strided(%x: memref<4x8xf32, strided<[16, 1]>>) {
  // expected-error @+1 {{needs a row-major buffer}}
  %v = kernel.view %x : memref<4x8xf32, strided<[16, 1]>> to memref<32xf32>
  return
}

// -----

func.func @weight_layout_unknown() {
  // expected-error @+1 {{'kernel.weight' op has the unknown layout 'nk' (known: 'kn', 'panels32', 'nk_panels32', 'row_tiles12', 'q8_n16[_kn][_biased][_sums]', 'q4_n16[_kn]_k8[_biased]')}}
  %w = kernel.weight dense<1.0> : tensor<2x3xf32> {layout = "nk"} : memref<3x2xf32>
  return
}

// -----

func.func @weight_layout_row_tiles_rank() {
  // expected-error @+1 {{'kernel.weight' op layout 'row_tiles12' needs a static value of rank 2 or more, not 'tensor<5xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<5xf32> {layout = "row_tiles12"} : memref<1x1x12xf32>
  return
}

// -----

func.func @weight_layout_row_tiles_size() {
  // 13 rows are two tiles of 12.
  // expected-error @+1 {{'kernel.weight' op value of type 'tensor<13x2x3x3xf32>' does not match the buffer 'memref<1x18x12xf32>' in layout 'row_tiles12'}}
  %w = kernel.weight dense<1.0> : tensor<13x2x3x3xf32> {layout = "row_tiles12"} : memref<1x18x12xf32>
  return
}

// -----

func.func @weight_layout_q4_kn() {
  // A 4-bit [K, N] value, 8 rows of 3 bytes: 6 channels (one panel of 16)
  // of 4 bytes each (8 k, two a byte), so 64 bytes.
  // expected-error @+1 {{'kernel.weight' op value of type 'tensor<8x3xui8>' does not match the buffer 'memref<96xui8>' in layout 'q4_n16_kn_k8'}}
  %w = kernel.weight dense<1> : tensor<8x3xui8> {layout = "q4_n16_kn_k8"} : memref<96xui8>
  return
}

// -----

func.func @weight_layout_q4_without_k8() {
  // 4-bit weights have one arrangement, eight k to a word: "_k8" is part
  // of every 4-bit layout's name.
  // expected-error @+1 {{'kernel.weight' op has the unknown layout 'q4_n16_biased'}}
  %w = kernel.weight dense<1> : tensor<3x38xui8> {layout = "q4_n16_biased"} : memref<640xui8>
  return
}

// -----

// 20 channels make two panels of 16, K = 6 is stored as 8: 256 bytes.
func.func @weight_layout_quant_size() {
  // expected-error @+1 {{'kernel.weight' op value of type 'tensor<20x6xi8>' does not match the buffer 'memref<240xi8>' in layout 'q8_n16_biased'}}
  %w = kernel.weight dense<1> : tensor<20x6xi8> {layout = "q8_n16_biased"} : memref<240xi8>
  return
}

// -----

func.func @weight_layout_quant_float() {
  // expected-error @+1 {{'kernel.weight' op layout 'q8_n16' needs a static 8-bit value of rank 2 (or more, without _kn), not 'tensor<4x4xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<4x4xf32> {layout = "q8_n16"} : memref<256xf32>
  return
}

// -----

func.func @weight_layout_shape() {
  // expected-error @+1 {{'kernel.weight' op value of type 'tensor<2x3xf32>' does not match the buffer 'memref<2x3xf32>' in layout 'kn'}}
  %w = kernel.weight dense<1.0> : tensor<2x3xf32> {layout = "kn"} : memref<2x3xf32>
  return
}

// -----

func.func @weight_layout_rank() {
  // expected-error @+1 {{'kernel.weight' op layout 'kn' needs a rank-2 value, not 'tensor<6xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<6xf32> {layout = "kn"} : memref<6xf32>
  return
}

// -----

func.func @weight_layout_rank_panels() {
  // expected-error @+1 {{'kernel.weight' op layout 'nk_panels32' needs a rank-2 value (or a static one of higher rank), not 'tensor<6xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<6xf32> {layout = "nk_panels32"} : memref<6xf32>
  return
}

// -----

func.func @weight_layout_conv_panels_shape() {
  // expected-error @+1 {{'kernel.weight' op value of type 'tensor<32x2x3x3xf32>' does not match the buffer 'memref<32x18xf32>'}}
  %w = kernel.weight dense<1.0> : tensor<32x2x3x3xf32> {layout = "nk_panels32"} : memref<32x18xf32>
  return
}

// -----

func.func @sub_byte() {
  // expected-error @+1 {{has sub-byte elements, which buffers hold only packed two to a ui8: 'memref<8xi4>'}}
  %a = kernel.alloc : memref<8xi4>
  return
}

// -----

func.func @unknown_kernel(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{unknown kernel 'fill' (see dialects/Kernel/KernelCatalog.def)}}
  kernel.launch "fill" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {}
  return
}

// -----

func.func @missing_param(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{kernel 'softmax' needs parameter 'log' (a boolean)}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {inner = 1 : i64, outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @extra_param(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{kernel 'softmax' has no parameter 'axis'}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {axis = 0 : i64, inner = 1 : i64, log = false, outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @mistyped_param(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{parameter 'log' must be a boolean, got 1 : i64}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {inner = 1 : i64, log = 1 : i64, outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @narrow_int_param(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{parameter 'size' must be an integer (i64), got 4 : i32}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 4 : i32}
  return
}

// -----

func.func @array_too_long(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{parameter 'mask_strides' holds 5 values; kernel 'attention' takes at most 4}}
  kernel.launch "attention" ins(%x, %x, %x : memref<4xf32>, memref<4xf32>, memref<4xf32>) outs(%y : memref<4xf32>) params {batch = 1 : i64, causal = false, has_mask = false, head_dim = 4 : i64, kv_heads = 1 : i64, kv_len = 1 : i64, mask_strides = array<i64: 0, 0, 0, 0, 0>, q_heads = 1 : i64, q_len = 1 : i64, scale = 1.0 : f64, value_dim = 4 : i64}
  return
}

// -----

func.func @string_too_long(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{parameter 'kind' is longer than 15 characters}}
  kernel.launch "reduce" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {inner = 1 : i64, kind = "a_very_long_reduction", outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @too_few_inputs(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{kernel 'layer_norm' takes 2 to 3 inputs, got 1}}
  kernel.launch "layer_norm" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {epsilon = 1.0e-5 : f64, has_bias = false, outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @outputs(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{kernel 'softmax' writes 1 outputs, got 2}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y, %y : memref<4xf32>, memref<4xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @output_is_input(%x: memref<4xf32>) {
  // expected-error @+1 {{output #0 is also an input}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%x : memref<4xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 4 : i64}
  return
}

// -----

func.func @dims_missing() attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  // expected-error @+1 {{has the dynamic buffer 'memref<?xf32>' without 'kernel.dims'}}
  %a = kernel.alloc : memref<?xf32>
  return
}

// -----

func.func @dims_rank() attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  // expected-error @+1 {{'kernel.dims' must map the 1 sizes to the buffer's 2 dims}}
  %a = kernel.alloc {kernel.dims = affine_map<()[s0] -> (s0)>} : memref<?x4xf32>
  return
}

// -----

func.func @dims_symbols() attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  // expected-error @+1 {{'kernel.dims' must map the 1 sizes to the buffer's 1 dims}}
  %a = kernel.alloc {kernel.dims = affine_map<()[s0, s1] -> (s1)>} : memref<?xf32>
  return
}

// -----

func.func @dims_static() attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  // expected-error @+1 {{'kernel.dims' gives dim 1 another value than its static size 4}}
  %a = kernel.alloc {kernel.dims = affine_map<()[s0] -> (s0, 5)>} : memref<?x4xf32>
  return
}

// -----

func.func @static_param_expression(%x: memref<4xf32>, %y: memref<4xf32>) attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  // expected-error @+1 {{parameter 'rank' is a compile-time constant of kernel 'copy_strided' and cannot depend on the sizes}}
  kernel.launch "copy_strided" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 1>, rank = affine_map<()[s0] -> (s0)>, shape = array<i64: 4>, src_offset = 0 : i64, src_strides = array<i64: 1>}
  return
}

// -----

func.func @param_symbols(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{parameter 'outer' must be an expression over the function's 0 sizes}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {inner = 1 : i64, log = false, outer = affine_map<()[s0] -> (s0)>, size = 4 : i64}
  return
}

// -----

func.func @param_results(%x: memref<4xf32>, %y: memref<4xf32>) attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  // expected-error @+1 {{parameter 'outer' must be one expression}}
  kernel.launch "softmax" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) params {inner = 1 : i64, log = false, outer = affine_map<()[s0] -> (s0, 1)>, size = 4 : i64}
  return
}

// -----

func.func @broadcast_expr(%x: memref<?xf32> {kernel.dims = affine_map<()[s0] -> (s0)>}) attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 8 : i64}]} {
  %a = kernel.alloc {kernel.dims = affine_map<()[s0] -> (s0 * 2)>} : memref<?xf32>
  // expected-error @+1 {{input #0 of type 'memref<?xf32>' does not broadcast to 'memref<?xf32>'}}
  kernel.elementwise ins(%x : memref<?xf32>) outs(%a : memref<?xf32>) {
  ^bb0(%e: f32):
    kernel.yield %e : f32
  }
  return
}

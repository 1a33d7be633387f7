// RUN: anvil-opt %s -split-input-file -convert-anvil-to-kernel -verify-diagnostics | FileCheck %s
// The quantization ops' lowerings (compiler/Lowering/QuantToKernel.cpp).

// Blocked int4 weights stay packed: the launch reads the ui8 bytes and gets
// the logical row length; extents are [outer, size, inner] around the axis.
// CHECK-LABEL: func.func @dequantize_blocked_int4
// CHECK-SAME: (%[[Q:.*]]: memref<16x32xui8>, %[[S:.*]]: memref<16x2xf16>, %[[Z:.*]]: memref<16x2xi8>, %[[OUT:.*]]: memref<16x64xf16>)
func.func @dequantize_blocked_int4(%q: tensor<16x32xui8>, %s: tensor<16x2xf16>, %z: tensor<16x2xi8>) -> tensor<16x64xf16> {
  // CHECK: kernel.launch "dequantize" ins(%[[Q]], %[[S]], %[[Z]] : memref<16x32xui8>, memref<16x2xf16>, memref<16x2xi8>) outs(%[[OUT]] : memref<16x64xf16>)
  // CHECK-SAME: params {bits = 4 : i64, block = 32 : i64, blocked = true, blocks = 2 : i64, inner = 1 : i64, is_signed = true, outer = 16 : i64, row = 64 : i64, size = 64 : i64}
  %w = anvil.dequantize %q, %s, %z {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<16x32xui8>, tensor<16x2xf16>, tensor<16x2xi8>) -> tensor<16x64xf16>
  return %w : tensor<16x64xf16>
}

// -----

// Per axis: one scale per element of dim `axis`; per tensor: one for all.
// CHECK-LABEL: func.func @dequantize_per_axis
func.func @dequantize_per_axis(%q: tensor<2x3x4xi8>, %s: tensor<3xf32>, %t: tensor<f32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  // CHECK: kernel.launch "dequantize"
  // CHECK-SAME: params {bits = 8 : i64, block = 1 : i64, blocked = false, blocks = 3 : i64, inner = 4 : i64, is_signed = false, outer = 2 : i64, row = 4 : i64, size = 3 : i64}
  %a = anvil.dequantize %q, %s {axis = 1 : i64, bits = 8 : i64} : (tensor<2x3x4xi8>, tensor<3xf32>) -> tensor<2x3x4xf32>
  // CHECK: kernel.launch "dequantize"
  // CHECK-SAME: params {bits = 8 : i64, block = 24 : i64, blocked = false, blocks = 1 : i64, inner = 1 : i64, is_signed = false, outer = 1 : i64, row = 4 : i64, size = 24 : i64}
  %b = anvil.dequantize %q, %t {bits = 8 : i64} : (tensor<2x3x4xi8>, tensor<f32>) -> tensor<2x3x4xf32>
  return %a, %b : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// Quantize to packed uint4 with an odd row: 5 values take 3 bytes per row.
// CHECK-LABEL: func.func @quantize_uint4
// CHECK-SAME: (%[[X:.*]]: memref<3x5xf32>, %[[S:.*]]: memref<3xf32>, %[[Z:.*]]: memref<3xui8>, %[[OUT:.*]]: memref<3x3xui8>)
func.func @quantize_uint4(%x: tensor<3x5xf32>, %s: tensor<3xf32>, %z: tensor<3xui8>) -> tensor<3x3xui8> {
  // CHECK: kernel.launch "quantize" ins(%[[X]], %[[S]], %[[Z]] : memref<3x5xf32>, memref<3xf32>, memref<3xui8>) outs(%[[OUT]] : memref<3x3xui8>)
  // CHECK-SAME: bits = 4 : i64, block = 1 : i64, blocked = false, blocks = 3 : i64, inner = 5 : i64, is_signed = false, outer = 1 : i64, row = 5 : i64, size = 3 : i64
  %q = anvil.quantize %x, %s, %z {axis = 0 : i64, bits = 4 : i64} : (tensor<3x5xf32>, tensor<3xf32>, tensor<3xui8>) -> tensor<3x3xui8>
  return %q : tensor<3x3xui8>
}

// -----

// W8A8: per-token int8 activations times int8 weights, accumulated in i32.
// CHECK-LABEL: func.func @w8a8
func.func @w8a8(%x: tensor<4x64xf32>, %w: tensor<64x16xi8>) -> (tensor<4x16xi32>, tensor<4x1xf32>) {
  // CHECK: kernel.launch "quantize_per_token" ins(%{{.*}} : memref<4x64xf32>) outs(%[[Q:.*]], %{{.*}} : memref<4x64xi8>, memref<4x1xf32>) params {cols = 64 : i64, rows = 4 : i64}
  %q, %s = anvil.quantize_per_token %x : (tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x1xf32>)
  // CHECK: kernel.launch "matmul" ins(%[[Q]], %{{.*}} : memref<4x64xi8>, memref<64x16xi8>) outs(%{{.*}} : memref<4x16xi32>)
  %y = anvil.matmul %q, %w : (tensor<4x64xi8>, tensor<64x16xi8>) -> tensor<4x16xi32>
  return %y, %s : tensor<4x16xi32>, tensor<4x1xf32>
}

// -----

// Bounded dims through quantization ops are refused by name: their launches
// take the extents as integers, which a bounded dim does not give.
func.func @bounded_per_token(%x: tensor<?x64xf32> {anvil.name = "x", anvil.dim_names = ["seq", ""]}) -> (tensor<?x64xi8> {anvil.name = "q"}, tensor<?x1xf32> {anvil.name = "s"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 16 : i64}]} {
  // expected-error @+1 {{'anvil.quantize_per_token' op needs static shapes: bounded dims through quantization ops are not supported yet}}
  %q, %s = anvil.quantize_per_token %x : (tensor<?x64xf32>) -> (tensor<?x64xi8>, tensor<?x1xf32>)
  return %q, %s : tensor<?x64xi8>, tensor<?x1xf32>
}

// -----

// W4A8: symmetric int4 groups read by per-token int8 activations fuse into
// one matmul_quant with quantize_lhs; its k is stored in whole words of
// eight (76 -> 80), as the "q4_n16_k8" layout (anvil-pack-weights) holds
// it. The kernel quantizes x itself: no quantize_per_token launch.
// CHECK-LABEL: func.func @w4a8
func.func @w4a8(%x: tensor<2x76xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK-NOT: quantize_per_token
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x76xf32>, memref<3x38xui8>, memref<3x3xf32>) outs(%{{.*}} : memref<2x3xf32>)
  // CHECK-SAME: bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 3 : i64, zero_offset = 8 : i64
  // CHECK-NOT: kernel.launch
  %q = anvil.constant dense<119> : tensor<3x38xui8>
  %s = anvil.constant dense<0.5> : tensor<3x3xf32>
  %w = anvil.dequantize %q, %s {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<3x38xui8>, tensor<3x3xf32>) -> tensor<3x76xf32>
  %xq, %xs = anvil.quantize_per_token %x : (tensor<2x76xf32>) -> (tensor<2x76xi8>, tensor<2x1xf32>)
  %xd = anvil.dequantize %xq, %xs {axis = 1 : i64, bits = 8 : i64, block_size = 76 : i64} : (tensor<2x76xi8>, tensor<2x1xf32>) -> tensor<2x76xf32>
  %y = anvil.matmul %xd, %w {transpose_rhs = true} : (tensor<2x76xf32>, tensor<3x76xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Groups of 20 k would split the layout's 8-k words: the activations stay
// a float quantize-dequantize in front of a weight-only matmul_quant.
// CHECK-LABEL: func.func @w4a8_group_not_words
func.func @w4a8_group_not_words(%x: tensor<2x40xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK: kernel.launch "quantize_per_token"
  // CHECK: kernel.launch "matmul_quant"
  // CHECK-SAME: quantize_lhs = false
  %q = anvil.constant dense<119> : tensor<3x20xui8>
  %s = anvil.constant dense<0.5> : tensor<3x2xf32>
  %w = anvil.dequantize %q, %s {axis = 1 : i64, bits = 4 : i64, block_size = 20 : i64, is_signed = true} : (tensor<3x20xui8>, tensor<3x2xf32>) -> tensor<3x40xf32>
  %xq, %xs = anvil.quantize_per_token %x : (tensor<2x40xf32>) -> (tensor<2x40xi8>, tensor<2x1xf32>)
  %xd = anvil.dequantize %xq, %xs {axis = 1 : i64, bits = 8 : i64, block_size = 40 : i64} : (tensor<2x40xi8>, tensor<2x1xf32>) -> tensor<2x40xf32>
  %y = anvil.matmul %xd, %w {transpose_rhs = true} : (tensor<2x40xf32>, tensor<3x40xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A blocked int4 [K, N] value (DequantizeLinear blocked along axis 0 into a
// MatMul, as QDQ exporters write it): packed along N (76 x 3 values in 76
// rows of 2 bytes), its groups along K. It fuses into matmul_quant with
// rhs_kn (the target packs it into panels); the scales [K / 32, N] step
// by 1 per channel and by N per group.
// CHECK-LABEL: func.func @int4_kn
func.func @int4_kn(%x: tensor<2x76xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK-NOT: dequantize
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x76xf32>, memref<76x2xui8>, memref<3x3xf32>) outs(%{{.*}} : memref<2x3xf32>)
  // CHECK-SAME: bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 76 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = true, scale_g_stride = 3 : i64, scale_n_stride = 1 : i64, zero_offset = 8 : i64
  // CHECK-NOT: kernel.launch
  %q = anvil.constant dense<119> : tensor<76x2xui8>
  %s = anvil.constant dense<0.5> : tensor<3x3xf32>
  %w = anvil.dequantize %q, %s {axis = 0 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true, last_dim = 3 : i64} : (tensor<76x2xui8>, tensor<3x3xf32>) -> tensor<76x3xf32>
  %y = anvil.matmul %x, %w : (tensor<2x76xf32>, tensor<76x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

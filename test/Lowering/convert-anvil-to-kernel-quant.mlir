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

// Bounded dims (a dynamic batch) through quantization ops: the launches'
// extents are size expressions over the function's sizes.
// CHECK-DAG: #[[$ROWS:.*]] = affine_map<()[s0] -> (s0)>
// CHECK-DAG: #[[$ALL:.*]] = affine_map<()[s0] -> (s0 * 6)>
// CHECK-LABEL: func.func @bounded_per_token
func.func @bounded_per_token(%x: tensor<?x64xf32> {anvil.name = "x", anvil.dim_names = ["seq", ""]}) -> (tensor<?x64xi8> {anvil.name = "q"}, tensor<?x1xf32> {anvil.name = "s"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 16 : i64}]} {
  // CHECK: kernel.launch "quantize_per_token"
  // CHECK-SAME: params {cols = 64 : i64, rows = #[[$ROWS]]}
  %q, %s = anvil.quantize_per_token %x : (tensor<?x64xf32>) -> (tensor<?x64xi8>, tensor<?x1xf32>)
  return %q, %s : tensor<?x64xi8>, tensor<?x1xf32>
}
// Per tensor the size spans the bounded dim; per axis 1 it is the outer
// extent. (The scales are arguments: a per-tensor op with a constant
// scale would be an elementwise loop, below.)
// CHECK-LABEL: func.func @bounded_qdq
func.func @bounded_qdq(%x: tensor<?x6xf32> {anvil.name = "x", anvil.dim_names = ["seq", ""]}, %s: tensor<f32>, %sc: tensor<6xf32>) -> (tensor<?x6xf32> {anvil.name = "y"}) attributes {anvil.sizes = [{name = "seq", min = 1 : i64, max = 16 : i64}]} {
  // CHECK: kernel.launch "quantize"
  // CHECK-SAME: params {bits = 8 : i64, block = #[[$ALL]], blocked = false, blocks = 1 : i64, inner = 1 : i64, is_signed = false, outer = 1 : i64, row = 6 : i64, size = #[[$ALL]]}
  // CHECK: kernel.launch "dequantize"
  // CHECK-SAME: params {bits = 8 : i64, block = 1 : i64, blocked = false, blocks = 6 : i64, inner = 1 : i64, is_signed = false, outer = #[[$ROWS]], row = 6 : i64, size = 6 : i64}
  %z = anvil.constant dense<3> : tensor<ui8>
  %q = anvil.quantize %x, %s, %z {bits = 8 : i64} : (tensor<?x6xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x6xui8>
  %d = anvil.dequantize %q, %sc {axis = 1 : i64, bits = 8 : i64} : (tensor<?x6xui8>, tensor<6xf32>) -> tensor<?x6xf32>
  return %d : tensor<?x6xf32>
}

// -----

// Symmetric int4 weights anvil-quantize-weights made (marked
// anvil.lhs_bf16): the launch may round the float activations to bf16
// (lhs_bf16; matmul_int4_bf16.h on CPUs with AVX512-BF16).
// CHECK-LABEL: func.func @int4_lhs_bf16
func.func @int4_lhs_bf16(%x: tensor<2x80xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK: kernel.launch "matmul_quant"
  // CHECK-SAME: bits = 4 : i64, group = 32 : i64, k = 80 : i64, k_stored = 80 : i64, lhs_bf16 = true, lhs_runtime = false
  // CHECK-SAME: quantize_lhs = false
  %q = anvil.constant dense<119> : tensor<3x40xui8>
  %s = anvil.constant dense<0.5> : tensor<3x3xf32>
  %w = anvil.dequantize %q, %s {anvil.lhs_bf16, axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<3x40xui8>, tensor<3x3xf32>) -> tensor<3x80xf32>
  %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<2x80xf32>, tensor<3x80xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
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
  // CHECK-SAME: bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 3 : i64, zero_offset = 8 : i64
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
// rhs_kn (the target packs it into panels, k stored in whole words of
// eight: 76 -> 80); the scales [K / 32, N] step by 1 per channel and by N
// per group.
// CHECK-LABEL: func.func @int4_kn
func.func @int4_kn(%x: tensor<2x76xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK-NOT: dequantize
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x76xf32>, memref<76x2xui8>, memref<3x3xf32>) outs(%{{.*}} : memref<2x3xf32>)
  // CHECK-SAME: bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = true, scale_g_stride = 3 : i64, scale_n_stride = 1 : i64, zero_offset = 8 : i64
  // CHECK-NOT: kernel.launch
  %q = anvil.constant dense<119> : tensor<76x2xui8>
  %s = anvil.constant dense<0.5> : tensor<3x3xf32>
  %w = anvil.dequantize %q, %s {axis = 0 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true, last_dim = 3 : i64} : (tensor<76x2xui8>, tensor<3x3xf32>) -> tensor<76x3xf32>
  %y = anvil.matmul %x, %w : (tensor<2x76xf32>, tensor<76x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Static QDQ activations (ONNX QuantizeLinear -> DequantizeLinear per
// tensor, the same scale and zero point in both) into an 8-bit weight in
// one group: one matmul_quant that quantizes x itself with that scale and
// zero point (lhs_scale, lhs_zero_point, lhs_unsigned); no quantize or
// dequantize launch remains.
// CHECK-LABEL: func.func @static_qdq
func.func @static_qdq(%x: tensor<2x8xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK-NOT: quantize"
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<2x8xf32>, memref<8x3xi8>, memref<3xf32>, memref<3xi8>) outs(%{{.*}} : memref<2x3xf32>)
  // CHECK-SAME: bits = 8 : i64, group = 8 : i64, k = 8 : i64, k_stored = 8 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 5.000000e-01 : f64, lhs_unsigned = true, lhs_zero_point = 115 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = true, scale_g_stride = 0 : i64, scale_n_stride = 1 : i64, zero_offset = 128 : i64
  // CHECK-NOT: kernel.launch
  %xs = anvil.constant dense<0.5> : tensor<f32>
  %xz = anvil.constant dense<115> : tensor<ui8>
  %q = anvil.constant dense<3> : tensor<8x3xi8>
  %s = anvil.constant dense<0.25> : tensor<3xf32>
  %z = anvil.constant dense<0> : tensor<3xi8>
  %w = anvil.dequantize %q, %s, %z {axis = 1 : i64, bits = 8 : i64} : (tensor<8x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<8x3xf32>
  %xq = anvil.quantize %x, %xs, %xz {bits = 8 : i64} : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  %xd = anvil.dequantize %xq, %xs, %xz {bits = 8 : i64} : (tensor<2x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x8xf32>
  %y = anvil.matmul %xd, %w : (tensor<2x8xf32>, tensor<8x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// An absent zero point is 0: a quantize with an explicit int8 zero point 0
// and a dequantize without one (canonicalization drops constant zero
// points from dequantize only) are still one round trip.
// CHECK-LABEL: func.func @static_qdq_absent_zero_point
func.func @static_qdq_absent_zero_point(%x: tensor<2x8xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}) {
  // CHECK-NOT: quantize"
  // CHECK: kernel.launch "matmul_quant"
  // CHECK-SAME: lhs_runtime = false, lhs_scale = 5.000000e-01 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64
  // CHECK-NOT: kernel.launch
  %xs = anvil.constant dense<0.5> : tensor<f32>
  %xz = anvil.constant dense<0> : tensor<i8>
  %q = anvil.constant dense<3> : tensor<8x3xi8>
  %s = anvil.constant dense<0.25> : tensor<3xf32>
  %w = anvil.dequantize %q, %s {axis = 1 : i64, bits = 8 : i64} : (tensor<8x3xi8>, tensor<3xf32>) -> tensor<8x3xf32>
  %xq = anvil.quantize %x, %xs, %xz {bits = 8 : i64} : (tensor<2x8xf32>, tensor<f32>, tensor<i8>) -> tensor<2x8xi8>
  %xd = anvil.dequantize %xq, %xs {bits = 8 : i64} : (tensor<2x8xi8>, tensor<f32>) -> tensor<2x8xf32>
  %y = anvil.matmul %xd, %w : (tensor<2x8xf32>, tensor<8x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Not fused: the dequantize's scale is not the quantize's (the float
// round trip is not the identity the kernel assumes), and a 4-bit weight
// (the static path takes 8-bit weights): the activations stay a quantize
// and a dequantize in front of a matmul_quant that reads floats. Per
// tensor with constant parameters, each is a kernel.elementwise loop
// (what backends/cpu/kernels/quantize.h computes: x / s rounded half to
// even, plus z, NaN to the lowest value, saturated; then (q - z) * s),
// which anvil-fuse-elementwise can merge with its neighbours.
// CHECK-LABEL: func.func @static_qdq_not_fused
func.func @static_qdq_not_fused(%x: tensor<2x8xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}, tensor<2x3xf32> {anvil.name = "y4"}) {
  // CHECK-NOT: kernel.launch "quantize"
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<2x8xf32>) outs(%{{.*}} : memref<2x8xi8>)
  // CHECK-DAG: %[[S:.*]] = arith.constant 5.000000e-01 : f32
  // CHECK-DAG: %[[Z:.*]] = arith.constant 3.000000e+00 : f32
  // CHECK: %[[D:.*]] = arith.divf %{{.*}}, %[[S]] : f32
  // CHECK-NEXT: %[[R:.*]] = math.roundeven %[[D]] : f32
  // CHECK-NEXT: %[[V:.*]] = arith.addf %[[R]], %[[Z]] : f32
  // CHECK-DAG: %[[LO:.*]] = arith.constant -1.280000e+02 : f32
  // CHECK-DAG: %[[HI:.*]] = arith.constant 1.270000e+02 : f32
  // CHECK: %[[GE:.*]] = arith.cmpf oge, %[[V]], %[[LO]] : f32
  // CHECK-NEXT: %[[V1:.*]] = arith.select %[[GE]], %[[V]], %[[LO]] : f32
  // CHECK-NEXT: %[[GT:.*]] = arith.cmpf ogt, %[[V1]], %[[HI]] : f32
  // CHECK-NEXT: %[[V2:.*]] = arith.select %[[GT]], %[[HI]], %[[V1]] : f32
  // CHECK-NEXT: %[[Q:.*]] = arith.fptosi %[[V2]] : f32 to i8
  // CHECK-NEXT: kernel.yield %[[Q]] : i8
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<2x8xi8>) outs(%{{.*}} : memref<2x8xf32>)
  // CHECK-DAG: %[[S2:.*]] = arith.constant 2.500000e-01 : f32
  // CHECK-DAG: %[[Z2:.*]] = arith.constant 3.000000e+00 : f32
  // CHECK: %[[F:.*]] = arith.sitofp %{{.*}} : i8 to f32
  // CHECK-NEXT: %[[C:.*]] = arith.subf %[[F]], %[[Z2]] : f32
  // CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[C]], %[[S2]] : f32
  // CHECK-NEXT: kernel.yield %[[Y]] : f32
  // CHECK: kernel.launch "matmul_quant"
  // CHECK-SAME: lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64
  // CHECK-SAME: quantize_lhs = false
  // The second pair shares its scale and zero point: one f32 loop from x,
  // the integer never stored.
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<2x8xf32>) outs(%{{.*}} : memref<2x8xf32>)
  // CHECK: arith.divf
  // CHECK-NEXT: math.roundeven
  // CHECK: arith.cmpf ogt
  // CHECK-NEXT: %[[RV:.*]] = arith.select
  // CHECK-NEXT: %[[RC:.*]] = arith.subf %[[RV]], %{{.*}} : f32
  // CHECK-NEXT: %[[RY:.*]] = arith.mulf %[[RC]], %{{.*}} : f32
  // CHECK-NEXT: kernel.yield %[[RY]] : f32
  // CHECK-NOT: kernel.elementwise
  // CHECK: kernel.launch "matmul_quant"
  // CHECK-SAME: quantize_lhs = false
  %xs = anvil.constant dense<0.5> : tensor<f32>
  %xs2 = anvil.constant dense<0.25> : tensor<f32>
  %xz = anvil.constant dense<3> : tensor<i8>
  %q = anvil.constant dense<3> : tensor<3x8xi8>
  %s = anvil.constant dense<0.25> : tensor<3xf32>
  %w = anvil.dequantize %q, %s {bits = 8 : i64} : (tensor<3x8xi8>, tensor<3xf32>) -> tensor<3x8xf32>
  %xq = anvil.quantize %x, %xs, %xz {bits = 8 : i64} : (tensor<2x8xf32>, tensor<f32>, tensor<i8>) -> tensor<2x8xi8>
  %xd = anvil.dequantize %xq, %xs2, %xz {bits = 8 : i64} : (tensor<2x8xi8>, tensor<f32>, tensor<i8>) -> tensor<2x8xf32>
  %y = anvil.matmul %xd, %w {transpose_rhs = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  %q4 = anvil.constant dense<119> : tensor<3x4xui8>
  %s4 = anvil.constant dense<0.5> : tensor<3x1xf32>
  %w4 = anvil.dequantize %q4, %s4 {axis = 1 : i64, bits = 4 : i64, block_size = 8 : i64, is_signed = true} : (tensor<3x4xui8>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %xq4 = anvil.quantize %x, %xs, %xz {bits = 8 : i64} : (tensor<2x8xf32>, tensor<f32>, tensor<i8>) -> tensor<2x8xi8>
  %xd4 = anvil.dequantize %xq4, %xs, %xz {bits = 8 : i64} : (tensor<2x8xi8>, tensor<f32>, tensor<i8>) -> tensor<2x8xf32>
  %y4 = anvil.matmul %xd4, %w4 {transpose_rhs = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  return %y, %y4 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// One dequantize shared by two matmuls (ORT's quantize_static writes one
// per producer): the 8-bit one absorbs it (quantize_lhs), the 4-bit one
// reads it as a tensor, so it keeps a buffer: one f32 round-trip loop from
// x. A sliced 8-bit weight ([:, :8] of 10) keeps its activations in float
// too (the packed channel sums would cover the whole row).
// CHECK-LABEL: func.func @static_qdq_shared
func.func @static_qdq_shared(%x: tensor<2x8xf32> {anvil.name = "x"}) -> (tensor<2x3xf32> {anvil.name = "y"}, tensor<2x3xf32> {anvil.name = "y4"}, tensor<2x3xf32> {anvil.name = "ys"}) {
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<2x8xf32>) outs(%[[XD:.*]] : memref<2x8xf32>)
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<2x8xf32>, memref<3x8xi8>, memref<3xf32>) outs(%{{.*}} : memref<2x3xf32>)
  // CHECK-SAME: lhs_runtime = false, lhs_scale = 5.000000e-01 : f64, lhs_unsigned = true, lhs_zero_point = 115 : i64
  // CHECK-SAME: quantize_lhs = true
  // CHECK: kernel.launch "matmul_quant" ins(%[[XD]], %{{.*}}, %{{.*}} : memref<2x8xf32>, memref<3x4xui8>, memref<3x1xf32>)
  // CHECK-SAME: quantize_lhs = false
  // CHECK: kernel.launch "matmul_quant" ins(%[[XD]], %{{.*}}, %{{.*}} : memref<2x8xf32>, memref<3x10xi8>, memref<3xf32>)
  // CHECK-SAME: quantize_lhs = false
  %xs = anvil.constant dense<0.5> : tensor<f32>
  %xz = anvil.constant dense<115> : tensor<ui8>
  %xq = anvil.quantize %x, %xs, %xz {bits = 8 : i64} : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  %xd = anvil.dequantize %xq, %xs, %xz {bits = 8 : i64} : (tensor<2x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x8xf32>
  %q = anvil.constant dense<3> : tensor<3x8xi8>
  %s = anvil.constant dense<0.25> : tensor<3xf32>
  %w = anvil.dequantize %q, %s {bits = 8 : i64} : (tensor<3x8xi8>, tensor<3xf32>) -> tensor<3x8xf32>
  %y = anvil.matmul %xd, %w {transpose_rhs = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  %q4 = anvil.constant dense<119> : tensor<3x4xui8>
  %s4 = anvil.constant dense<0.5> : tensor<3x1xf32>
  %w4 = anvil.dequantize %q4, %s4 {axis = 1 : i64, bits = 4 : i64, block_size = 8 : i64, is_signed = true} : (tensor<3x4xui8>, tensor<3x1xf32>) -> tensor<3x8xf32>
  %y4 = anvil.matmul %xd, %w4 {transpose_rhs = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  %qs = anvil.constant dense<5> : tensor<3x10xi8>
  %wl = anvil.dequantize %qs, %s {axis = 0 : i64, bits = 8 : i64} : (tensor<3x10xi8>, tensor<3xf32>) -> tensor<3x10xf32>
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c8 = anvil.constant dense<8> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %wsl = anvil.slice %wl, %c0, %c8, %c1, %c1 : (tensor<3x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x8xf32>
  %ys = anvil.matmul %xd, %wsl {transpose_rhs = true} : (tensor<2x8xf32>, tensor<3x8xf32>) -> tensor<2x3xf32>
  return %y, %y4, %ys : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// ONNX Runtime's quantize_dynamic (DynamicQuantizeLinear + MatMulInteger as
// the importer writes them): the int32 matmul of sub(cast(q), cast(z)) by
// cast(W), W a constant int8 [K, N], q = quantize(x, s, z) with s and z
// computed at run time (here arguments). One matmul_quant: x, the weight,
// scale 1 and zero point 0 for the weight, then the run-time s and z
// (lhs_runtime); its output is the exact int32 product.
// CHECK-LABEL: func.func @dynamic_quantized
// CHECK-SAME: (%[[X:.*]]: memref<2x8xf32> {{.*}}, %[[S:.*]]: memref<f32> {{.*}}, %[[Z:.*]]: memref<ui8> {{.*}}, %[[Y:.*]]: memref<2x3xi32>
func.func @dynamic_quantized(%x: tensor<2x8xf32> {anvil.name = "x"}, %s: tensor<f32> {anvil.name = "s"}, %z: tensor<ui8> {anvil.name = "z"}) -> (tensor<2x3xi32> {anvil.name = "y"}) {
  // CHECK-NOT: kernel.launch "quantize"
  // CHECK-DAG: %[[W:.*]] = kernel.weight dense<3> : tensor<8x3xi8>
  // CHECK-DAG: %[[ONE:.*]] = kernel.weight dense<1.000000e+00> : tensor<1xf32>
  // CHECK-DAG: %[[ZERO:.*]] = kernel.weight dense<0> : tensor<1xi8>
  // CHECK: kernel.launch "matmul_quant" ins(%[[X]], %[[W]], %[[ONE]], %[[ZERO]], %[[S]], %[[Z]] : memref<2x8xf32>, memref<8x3xi8>, memref<1xf32>, memref<1xi8>, memref<f32>, memref<ui8>) outs(%[[Y]] : memref<2x3xi32>)
  // CHECK-SAME: lhs_runtime = true, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = true
  // CHECK-SAME: quantize_lhs = true, rhs_kn = true
  // CHECK-NOT: kernel.launch
  %w = anvil.constant dense<3> : tensor<8x3xi8>
  %q = anvil.quantize %x, %s, %z {bits = 8 : i64} : (tensor<2x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x8xui8>
  %qi = anvil.cast %q : (tensor<2x8xui8>) -> tensor<2x8xi16>
  %zi = anvil.cast %z : (tensor<ui8>) -> tensor<i16>
  %l = anvil.sub %qi, %zi : (tensor<2x8xi16>, tensor<i16>) -> tensor<2x8xi16>
  %wi = anvil.cast %w : (tensor<8x3xi8>) -> tensor<8x3xi16>
  %y = anvil.matmul %l, %wi : (tensor<2x8xi16>, tensor<8x3xi16>) -> tensor<2x3xi32>
  return %y : tensor<2x3xi32>
}

// -----

// W4A16: a float16 matmul of a dequantized constant runs on matmul_quant in
// float32: x cast up, the float16 scales widened to a float32 weight at
// compile time, the product cast back to float16 once.
// CHECK-LABEL: func.func @w4a16
// CHECK-SAME: (%[[X:.*]]: memref<2x64xf16>, %[[OUT:.*]]: memref<2x16xf16>)
// CHECK-NOT: "dequantize"
func.func @w4a16(%x: tensor<2x64xf16>) -> tensor<2x16xf16> {
  // CHECK: %[[XW:.*]] = kernel.alloc : memref<2x64xf32>
  // CHECK: kernel.elementwise ins(%[[X]] : memref<2x64xf16>) outs(%[[XW]] : memref<2x64xf32>)
  // CHECK: arith.extf
  // CHECK: %[[Q:.*]] = kernel.weight dense<17> : tensor<16x32xui8>
  // CHECK: %[[S:.*]] = kernel.weight dense<5.000000e-01> : tensor<16x2xf32>
  // CHECK: kernel.launch "matmul_quant" ins(%[[XW]], %[[Q]], %[[S]] : memref<2x64xf32>, memref<16x32xui8>, memref<16x2xf32>) outs(%[[Y:.*]] : memref<2x16xf32>)
  // CHECK-SAME: bits = 4 : i64, group = 32 : i64
  // CHECK: kernel.elementwise ins(%[[Y]] : memref<2x16xf32>) outs(%[[OUT]] : memref<2x16xf16>)
  // CHECK: arith.truncf
  // CHECK-NOT: "dequantize"
  %q = anvil.constant dense<17> : tensor<16x32xui8>
  %s = anvil.constant dense<0.5> : tensor<16x2xf16>
  %w = anvil.dequantize %q, %s {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<16x32xui8>, tensor<16x2xf16>) -> tensor<16x64xf16>
  %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<2x64xf16>, tensor<16x64xf16>) -> tensor<2x16xf16>
  return %y : tensor<2x16xf16>
}

// -----

// W8A16 in bfloat16, [K, N] per output channel with zero points: two
// matmuls reading the same x cast it once, and share the widened scales.
// CHECK-LABEL: func.func @w8a16_shared_lhs
func.func @w8a16_shared_lhs(%x: tensor<3x8xbf16>) -> (tensor<3x4xbf16>, tensor<3x4xbf16>) {
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<3x8xbf16>) outs(%[[XW:.*]] : memref<3x8xf32>)
  // CHECK: %[[S:.*]] = kernel.weight dense<[5.000000e-01, 2.500000e-01, 2.000000e+00, 1.000000e+00]> : tensor<4xf32>
  // CHECK: kernel.launch "matmul_quant" ins(%[[XW]], %{{.*}}, %[[S]], %{{.*}} : memref<3x8xf32>, memref<8x4xi8>, memref<4xf32>, memref<4xi8>)
  // CHECK-SAME: rhs_kn = true
  // CHECK: arith.truncf %{{.*}} : f32 to bf16
  // CHECK-NOT: arith.extf
  // CHECK: kernel.launch "matmul_quant" ins(%[[XW]], %{{.*}}, %[[S]], %{{.*}} : memref<3x8xf32>, memref<8x4xi8>, memref<4xf32>, memref<4xi8>)
  // CHECK: arith.truncf %{{.*}} : f32 to bf16
  %q = anvil.constant dense<3> : tensor<8x4xi8>
  %s = anvil.constant dense<[0.5, 0.25, 2.0, 1.0]> : tensor<4xbf16>
  %z = anvil.constant dense<1> : tensor<4xi8>
  %w = anvil.dequantize %q, %s, %z {axis = 1 : i64, bits = 8 : i64} : (tensor<8x4xi8>, tensor<4xbf16>, tensor<4xi8>) -> tensor<8x4xbf16>
  %a = anvil.matmul %x, %w : (tensor<3x8xbf16>, tensor<8x4xbf16>) -> tensor<3x4xbf16>
  %b = anvil.matmul %x, %w : (tensor<3x8xbf16>, tensor<8x4xbf16>) -> tensor<3x4xbf16>
  return %a, %b : tensor<3x4xbf16>, tensor<3x4xbf16>
}

// -----

// A scale per input channel has no quantized kernel: the float16 matmul
// stays as it was, on the float16 dequantized weight (not a float32 one).
// CHECK-LABEL: func.func @w8a16_per_input_channel
func.func @w8a16_per_input_channel(%x: tensor<3x8xf16>) -> tensor<3x4xf16> {
  // CHECK-NOT: arith.extf
  // CHECK: kernel.launch "dequantize" ins(%{{.*}}, %{{.*}} : memref<8x4xi8>, memref<8xf16>) outs(%[[W:.*]] : memref<8x4xf16>)
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[W]] : memref<3x8xf16>, memref<8x4xf16>) outs(%{{.*}} : memref<3x4xf16>)
  // CHECK-NOT: matmul_quant
  %q = anvil.constant dense<3> : tensor<8x4xi8>
  %s = anvil.constant dense<0.5> : tensor<8xf16>
  %w = anvil.dequantize %q, %s {axis = 0 : i64, bits = 8 : i64} : (tensor<8x4xi8>, tensor<8xf16>) -> tensor<8x4xf16>
  %y = anvil.matmul %x, %w : (tensor<3x8xf16>, tensor<8x4xf16>) -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}

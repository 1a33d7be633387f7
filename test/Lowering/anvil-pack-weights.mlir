// RUN: anvil-opt %s -anvil-pack-weights=target=cpu | FileCheck %s
// RUN: not anvil-opt %s -anvil-pack-weights=target=nope 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: unknown target 'nope' (registered: cpu)

// Offsets: 64-byte aligned, 4096 from 64 KiB on; identical weights share
// one copy; the section size is recorded on the module (every function
// below adds to it).
// CHECK: module attributes {kernel.streamed_weight_bytes = 2912 : i64, kernel.weight_bytes = 72960 : i64}
// CHECK-LABEL: func.func @offsets
func.func @offsets(%o: memref<3xf32>) {
  // CHECK: kernel.weight[0] dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  %a = kernel.weight dense<[1.0, 2.0, 3.0]> : tensor<3xf32> : memref<3xf32>
  // CHECK: kernel.weight[64] dense<1> : tensor<5xi8>
  %b = kernel.weight dense<1> : tensor<5xi8> : memref<5xi8>
  // CHECK: kernel.weight[0] dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  %c = kernel.weight dense<[1.0, 2.0, 3.0]> : tensor<3xf32> : memref<3xf32>
  // CHECK: kernel.weight[4096] dense<5.000000e-01> : tensor<16384xf32>
  %d = kernel.weight dense<0.5> : tensor<16384xf32> : memref<16384xf32>
  return
}

// The cpu hook stores an f32 matmul's [N, K] weight as [K, N] in column
// panels: it gives the weight layout "nk_panels32" and a [K, N] buffer and
// tells the launch (rhs_panel = 32); the value keeps its [N, K] bytes (they
// are rearranged only as the weight section is written,
// test/Codegen/weight-layout.test).
// CHECK-LABEL: func.func @transposed
func.func @transposed(%x: memref<1x2xf32>, %o: memref<1x3xf32>, %o2: memref<1x3xf32>) {
  // CHECK: %[[W:.*]] = kernel.weight[69632] dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32> {layout = "nk_panels32"} : memref<2x3xf32>
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[W]] : memref<1x2xf32>, memref<2x3xf32>)
  // CHECK-SAME: rhs_panel = 32 : i64, transpose_rhs = false
  %w = kernel.weight dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32> : memref<3x2xf32>
  kernel.launch "matmul" ins(%x, %w : memref<1x2xf32>, memref<3x2xf32>) outs(%o : memref<1x3xf32>) params {batch = array<i64>, batch_rank = 0 : i64, k = 2 : i64, lhs_batch_strides = array<i64>, m = 1 : i64, n = 3 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = true}
  // The same value read untransposed keeps its own copy and its layout:
  // weights share an offset only when value and layout agree.
  // CHECK: %[[V:.*]] = kernel.weight[69696] dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32> : memref<3x2xf32>
  // CHECK: kernel.launch "copy_strided" ins(%[[V]] : memref<3x2xf32>)
  %v = kernel.weight dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32> : memref<3x2xf32>
  kernel.launch "copy_strided" ins(%v : memref<3x2xf32>) outs(%o2 : memref<1x3xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 1>, rank = 1 : i64, shape = array<i64: 3>, src_offset = 0 : i64, src_strides = array<i64: 2>}
  return
}

// A [K, N] f32 weight gets the panels as it is ("panels32"); a weight of
// another type keeps the row-major kernel, which wants [K, N] ("kn" for a
// transposed one); a batched product is left alone.
// CHECK-LABEL: func.func @layouts
func.func @layouts(%x: memref<1x2xf32>, %o: memref<1x3xf32>, %xd: memref<1x2xf64>, %od: memref<1x3xf64>, %xb: memref<2x1x2xf32>, %ob: memref<2x1x3xf32>) {
  // CHECK: %[[P:.*]] = kernel.weight{{.*}} : tensor<2x3xf32> {layout = "panels32"} : memref<2x3xf32>
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[P]] : memref<1x2xf32>, memref<2x3xf32>)
  // CHECK-SAME: rhs_panel = 32 : i64, transpose_rhs = false
  %p = kernel.weight dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32> : memref<2x3xf32>
  kernel.launch "matmul" ins(%x, %p : memref<1x2xf32>, memref<2x3xf32>) outs(%o : memref<1x3xf32>) params {batch = array<i64>, batch_rank = 0 : i64, k = 2 : i64, lhs_batch_strides = array<i64>, m = 1 : i64, n = 3 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}
  // CHECK: %[[D:.*]] = kernel.weight{{.*}} : tensor<3x2xf64> {layout = "kn"} : memref<2x3xf64>
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[D]] : memref<1x2xf64>, memref<2x3xf64>)
  // CHECK-SAME: rhs_panel = 0 : i64, transpose_rhs = false
  %d = kernel.weight dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf64> : memref<3x2xf64>
  kernel.launch "matmul" ins(%xd, %d : memref<1x2xf64>, memref<3x2xf64>) outs(%od : memref<1x3xf64>) params {batch = array<i64>, batch_rank = 0 : i64, k = 2 : i64, lhs_batch_strides = array<i64>, m = 1 : i64, n = 3 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = true}
  // CHECK: %[[B:.*]] = kernel.weight{{.*}} : tensor<2x2x3xf32> : memref<2x2x3xf32>
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[B]] : memref<2x1x2xf32>, memref<2x2x3xf32>)
  // CHECK-SAME: rhs_panel = 0 : i64, transpose_rhs = false
  %b = kernel.weight dense<1.5> : tensor<2x2x3xf32> : memref<2x2x3xf32>
  kernel.launch "matmul" ins(%xb, %b : memref<2x1x2xf32>, memref<2x2x3xf32>) outs(%ob : memref<2x1x3xf32>) params {batch = array<i64: 2>, batch_rank = 1 : i64, k = 2 : i64, lhs_batch_strides = array<i64: 2>, m = 1 : i64, n = 3 : i64, rhs_batch_strides = array<i64: 6>, rhs_panel = 0 : i64, transpose_rhs = false}
  return
}

// matmul_quant weights get the quantized panels: 16 channels a panel,
// signed values biased to unsigned. int4, read by float activations and
// by int8 ones (W4A8) alike, eight k to a 32-bit word, k padded to 80 (3
// channels, K = 76: 16 x 40 bytes), so the two equal weights below share
// one copy in the section. Their [N, groups] scales are stored [groups, N]
// ("kn"; the shared one copied for the second launch, the copies sharing
// one region) and the strides follow.
// CHECK-LABEL: func.func @quant_layouts
func.func @quant_layouts(%x: memref<2x76xf32>, %o: memref<2x3xf32>, %o2: memref<2x3xf32>) {
  // CHECK: %[[Q:.*]] = kernel.weight{{.*}} : tensor<3x38xui8> {layout = "q4_n16_k8_biased"} : memref<640xui8>
  // CHECK: %[[S1:.*]] = kernel.weight[[[SOFF:[0-9]+]]] dense<5.000000e-01> : tensor<3x3xf32> {layout = "kn"} : memref<3x3xf32>
  // CHECK: %[[S2:.*]] = kernel.weight[[[SOFF]]] dense<5.000000e-01> : tensor<3x3xf32> {layout = "kn"} : memref<3x3xf32>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %[[Q]], %[[S1]] : memref<2x76xf32>, memref<640xui8>, memref<3x3xf32>)
  // CHECK-SAME: scale_g_stride = 3 : i64, scale_n_stride = 1 : i64
  // CHECK: %[[K8:.*]] = kernel.weight{{.*}} : tensor<3x38xui8> {layout = "q4_n16_k8_biased"} : memref<640xui8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %[[K8]], %[[S2]] : memref<2x76xf32>, memref<640xui8>, memref<3x3xf32>)
  // CHECK-SAME: scale_g_stride = 3 : i64, scale_n_stride = 1 : i64
  %q = kernel.weight dense<119> : tensor<3x38xui8> : memref<3x38xui8>
  %s = kernel.weight dense<5.000000e-01> : tensor<3x3xf32> : memref<3x3xf32>
  kernel.launch "matmul_quant" ins(%x, %q, %s : memref<2x76xf32>, memref<3x38xui8>, memref<3x3xf32>) outs(%o : memref<2x3xf32>) params {bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 3 : i64, zero_offset = 8 : i64}
  %q8 = kernel.weight dense<119> : tensor<3x38xui8> : memref<3x38xui8>
  kernel.launch "matmul_quant" ins(%x, %q8, %s : memref<2x76xf32>, memref<3x38xui8>, memref<3x3xf32>) outs(%o2 : memref<2x3xf32>) params {bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 3 : i64, zero_offset = 8 : i64}
  return
}

// Group-wise scales and zero points, [N, groups] = [3, 2], are stored
// [groups, N] = [2, 3] ("kn") with scale_n_stride 1, scale_g_stride N;
// scales the launch does not read from a constant keep their layout, and
// so do the zero points beside them.
// CHECK-LABEL: func.func @quant_group_scales
func.func @quant_group_scales(%x: memref<2x64xf32>, %sarg: memref<3x2xf32>, %o: memref<2x3xf32>, %o2: memref<2x3xf32>) {
  // CHECK: %[[S:.*]] = kernel.weight{{.*}} : tensor<3x2xf32> {layout = "kn"} : memref<2x3xf32>
  // CHECK: %[[Z:.*]] = kernel.weight{{.*}} : tensor<3x2xui8> {layout = "kn"} : memref<2x3xui8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %[[S]], %[[Z]] : memref<2x64xf32>, memref<512xui8>, memref<2x3xf32>, memref<2x3xui8>)
  // CHECK-SAME: scale_g_stride = 3 : i64, scale_n_stride = 1 : i64
  // CHECK: %[[Z2:.*]] = kernel.weight{{.*}} : tensor<3x2xui8> : memref<3x2xui8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[Z2]] : memref<2x64xf32>, memref<512xui8>, memref<3x2xf32>, memref<3x2xui8>)
  // CHECK-SAME: scale_g_stride = 1 : i64, scale_n_stride = 2 : i64
  %q = kernel.weight dense<17> : tensor<3x32xui8> : memref<3x32xui8>
  %s = kernel.weight dense<[[0.5, 0.25], [1.0, 2.0], [4.0, 8.0]]> : tensor<3x2xf32> : memref<3x2xf32>
  %z = kernel.weight dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xui8> : memref<3x2xui8>
  kernel.launch "matmul_quant" ins(%x, %q, %s, %z : memref<2x64xf32>, memref<3x32xui8>, memref<3x2xf32>, memref<3x2xui8>) outs(%o : memref<2x3xf32>) params {bits = 4 : i64, group = 32 : i64, k = 64 : i64, k_stored = 64 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 2 : i64, zero_offset = 0 : i64}
  %q2 = kernel.weight dense<18> : tensor<3x32xui8> : memref<3x32xui8>
  %z2 = kernel.weight dense<[[1, 2], [3, 4], [5, 7]]> : tensor<3x2xui8> : memref<3x2xui8>
  kernel.launch "matmul_quant" ins(%x, %q2, %sarg, %z2 : memref<2x64xf32>, memref<3x32xui8>, memref<3x2xf32>, memref<3x2xui8>) outs(%o2 : memref<2x3xf32>) params {bits = 4 : i64, group = 32 : i64, k = 64 : i64, k_stored = 64 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 2 : i64, zero_offset = 0 : i64}
  return
}

// A 4-bit [K, N] value (rhs_kn; 76 rows of 2 bytes, packed along N) gets
// the same panels from its nibbles: "q4_n16_kn_k8", 16 x 40 bytes.
// CHECK-LABEL: func.func @quant_layouts_kn
func.func @quant_layouts_kn(%x: memref<2x76xf32>, %o: memref<2x3xf32>, %o2: memref<2x3xf32>) {
  // CHECK: %[[Q:.*]] = kernel.weight{{.*}} : tensor<76x2xui8> {layout = "q4_n16_kn_k8_biased"} : memref<640xui8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %[[Q]], %{{.*}} : memref<2x76xf32>, memref<640xui8>, memref<3x3xf32>)
  // CHECK: %[[K8:.*]] = kernel.weight{{.*}} : tensor<76x2xui8> {layout = "q4_n16_kn_k8_biased"} : memref<640xui8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %[[K8]], %{{.*}} : memref<2x76xf32>, memref<640xui8>, memref<3x3xf32>)
  %q = kernel.weight dense<119> : tensor<76x2xui8> : memref<76x2xui8>
  %s = kernel.weight dense<5.000000e-01> : tensor<3x3xf32> : memref<3x3xf32>
  kernel.launch "matmul_quant" ins(%x, %q, %s : memref<2x76xf32>, memref<76x2xui8>, memref<3x3xf32>) outs(%o : memref<2x3xf32>) params {bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = true, scale_g_stride = 3 : i64, scale_n_stride = 1 : i64, zero_offset = 8 : i64}
  %q8 = kernel.weight dense<119> : tensor<76x2xui8> : memref<76x2xui8>
  kernel.launch "matmul_quant" ins(%x, %q8, %s : memref<2x76xf32>, memref<76x2xui8>, memref<3x3xf32>) outs(%o2 : memref<2x3xf32>) params {bits = 4 : i64, group = 32 : i64, k = 76 : i64, k_stored = 80 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = true, scale_g_stride = 3 : i64, scale_n_stride = 1 : i64, zero_offset = 8 : i64}
  return
}

// Static activations (lhs_scale > 0) with a zero point other than the
// storage's midpoint (uint8 z = 115: z' = -13) read each channel's sum of
// stored bytes after the panels: "q8_n16_kn_biased_sums", 16 x 8 bytes of
// panel and 16 int32 sums. uint8 z = 128 (z' = 0) needs none.
// CHECK-LABEL: func.func @quant_layout_sums
func.func @quant_layout_sums(%x: memref<2x8xf32>, %o: memref<2x3xf32>, %o2: memref<2x3xf32>) {
  // CHECK: %[[Q:.*]] = kernel.weight{{.*}} : tensor<8x3xi8> {layout = "q8_n16_kn_biased_sums"} : memref<192xi8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %[[Q]], %{{.*}} : memref<2x8xf32>, memref<192xi8>, memref<3xf32>)
  // CHECK: %[[P:.*]] = kernel.weight{{.*}} : tensor<8x3xi8> {layout = "q8_n16_kn_biased"} : memref<128xi8>
  // CHECK: kernel.launch "matmul_quant" ins(%{{.*}}, %[[P]], %{{.*}} : memref<2x8xf32>, memref<128xi8>, memref<3xf32>)
  %q = kernel.weight dense<3> : tensor<8x3xi8> : memref<8x3xi8>
  %s = kernel.weight dense<2.500000e-01> : tensor<3xf32> : memref<3xf32>
  kernel.launch "matmul_quant" ins(%x, %q, %s : memref<2x8xf32>, memref<8x3xi8>, memref<3xf32>) outs(%o : memref<2x3xf32>) params {bits = 8 : i64, group = 8 : i64, k = 8 : i64, k_stored = 8 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 5.000000e-01 : f64, lhs_unsigned = true, lhs_zero_point = 115 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = true, scale_g_stride = 0 : i64, scale_n_stride = 1 : i64, zero_offset = 128 : i64}
  %q2 = kernel.weight dense<3> : tensor<8x3xi8> : memref<8x3xi8>
  kernel.launch "matmul_quant" ins(%x, %q2, %s : memref<2x8xf32>, memref<8x3xi8>, memref<3xf32>) outs(%o2 : memref<2x3xf32>) params {bits = 8 : i64, group = 8 : i64, k = 8 : i64, k_stored = 8 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 5.000000e-01 : f64, lhs_unsigned = true, lhs_zero_point = 128 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = true, scale_g_stride = 0 : i64, scale_n_stride = 1 : i64, zero_offset = 128 : i64}
  return
}

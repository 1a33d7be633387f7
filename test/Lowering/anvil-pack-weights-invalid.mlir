// RUN: anvil-opt %s -split-input-file -verify-diagnostics -anvil-pack-weights=target=cpu

// A weight that already has a layout is taken as given: it must be one the
// launch reads. Here an 8-bit layout under a 4-bit launch.
func.func @bits_mismatch(%x: memref<2x16xf32>, %o: memref<2x3xf32>) {
  %q = kernel.weight dense<119> : tensor<3x16xui8> {layout = "q8_n16"} : memref<256xui8>
  %s = kernel.weight dense<5.000000e-01> : tensor<3x1xf32> : memref<3x1xf32>
  // expected-error @+1 {{a 4-bit matmul_quant cannot read a weight in layout 'q8_n16'}}
  kernel.launch "matmul_quant" ins(%x, %q, %s : memref<2x16xf32>, memref<256xui8>, memref<3x1xf32>) outs(%o : memref<2x3xf32>) params {bits = 4 : i64, group = 16 : i64, k = 16 : i64, k_stored = 16 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = false, rhs_kn = false, scale_g_stride = 1 : i64, scale_n_stride = 1 : i64, zero_offset = 8 : i64}
  return
}

// -----

// Static activations with a zero point read the channel sums after the
// panels: a given layout without them is refused.
func.func @sums_missing(%x: memref<2x8xf32>, %o: memref<2x3xf32>) {
  %q = kernel.weight dense<119> : tensor<3x8xui8> {layout = "q8_n16"} : memref<128xui8>
  %s = kernel.weight dense<5.000000e-01> : tensor<3xf32> : memref<3xf32>
  // expected-error @+1 {{static activations with a zero point need a constant weight in a '..._sums' layout}}
  kernel.launch "matmul_quant" ins(%x, %q, %s : memref<2x8xf32>, memref<128xui8>, memref<3xf32>) outs(%o : memref<2x3xf32>) params {bits = 8 : i64, group = 8 : i64, k = 8 : i64, k_stored = 8 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 5.000000e-01 : f64, lhs_unsigned = true, lhs_zero_point = 115 : i64, m = 2 : i64, n = 3 : i64, quantize_lhs = true, rhs_kn = false, scale_g_stride = 0 : i64, scale_n_stride = 1 : i64, zero_offset = 128 : i64}
  return
}

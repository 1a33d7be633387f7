// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights=mode=w4a8-g128 | FileCheck %s --check-prefix=PT
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights=mode=int4-g128 | FileCheck %s --check-prefix=WO
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights="mode=w8a8 skip=lm_head" | FileCheck %s --check-prefix=SKIPH
// Weights the model quantized itself (MatMulNBits, QDQ DequantizeLinear)
// keep their values under every mode; the modes with int8 activations
// (w8a8, w4a8-*) quantize the activations of those the kernel can take
// with them per token.

// MatMulNBits' form (4-bit, symmetric, blocks of 32 along K): int8
// activations per token with w4a8; the weight-only modes leave it as is.
// PT-LABEL: func.func @int4_blocked
// PT: %[[Q:.*]], %[[S:.*]] = anvil.quantize_per_token %arg0 : (tensor<2x64xf32>) -> (tensor<2x64xi8>, tensor<2x1xf32>)
// PT: %[[X:.*]] = anvil.dequantize %[[Q]], %[[S]] {axis = 1 : i64, bits = 8 : i64, block_size = 64 : i64}
// PT: anvil.matmul %[[X]], %{{.*}} {transpose_rhs = true}
// WO-LABEL: func.func @int4_blocked
// WO-NOT: quantize_per_token
// WO: anvil.matmul %arg0, %{{.*}} {transpose_rhs = true}
// SKIPH-LABEL: func.func @int4_blocked
// SKIPH: anvil.quantize_per_token
// SKIPH: anvil.relu
func.func @int4_blocked(%x: tensor<2x64xf32>) -> tensor<2x16xf32> {
  %q = anvil.constant dense<17> : tensor<16x32xui8>
  %s = anvil.constant dense<0.5> : tensor<16x2xf32>
  %w = anvil.dequantize %q, %s {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<16x32xui8>, tensor<16x2xf32>) -> tensor<16x64xf32>
  %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<2x64xf32>, tensor<16x64xf32>) -> tensor<2x16xf32>
  %r = anvil.relu %y : (tensor<2x16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

// The LM head (the matmul a result comes from through views): skip=lm_head
// keeps its activations in float.
// PT-LABEL: func.func @head
// PT: anvil.quantize_per_token
// SKIPH-LABEL: func.func @head
// SKIPH-NOT: quantize_per_token
// SKIPH: anvil.matmul %arg0
func.func @head(%x: tensor<2x64xf32>) -> tensor<2x16xf32> {
  %q = anvil.constant dense<3> : tensor<16x64xi8>
  %s = anvil.constant dense<0.5> : tensor<16xf32>
  %w = anvil.dequantize %q, %s {axis = 0 : i64, bits = 8 : i64} : (tensor<16x64xi8>, tensor<16xf32>) -> tensor<16x64xf32>
  %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<2x64xf32>, tensor<16x64xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// Left with float activations: 8-bit weights with zero points, 4-bit
// blocks that are not a multiple of 8 along K, a scale per input channel,
// and activations already quantized (static QDQ).
// PT-LABEL: func.func @not_taken
// PT-NOT: quantize_per_token
// PT: return
func.func @not_taken(%x: tensor<2x48xf32>) -> (tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) {
  %q8 = anvil.constant dense<3> : tensor<48x16xui8>
  %s8 = anvil.constant dense<0.5> : tensor<16xf32>
  %z8 = anvil.constant dense<128> : tensor<16xui8>
  %w8 = anvil.dequantize %q8, %s8, %z8 {axis = 1 : i64, bits = 8 : i64} : (tensor<48x16xui8>, tensor<16xf32>, tensor<16xui8>) -> tensor<48x16xf32>
  %a = anvil.matmul %x, %w8 : (tensor<2x48xf32>, tensor<48x16xf32>) -> tensor<2x16xf32>
  %q4 = anvil.constant dense<17> : tensor<16x24xui8>
  %s4 = anvil.constant dense<0.5> : tensor<16x4xf32>
  %w4 = anvil.dequantize %q4, %s4 {axis = 1 : i64, bits = 4 : i64, block_size = 12 : i64, is_signed = true} : (tensor<16x24xui8>, tensor<16x4xf32>) -> tensor<16x48xf32>
  %b = anvil.matmul %x, %w4 {transpose_rhs = true} : (tensor<2x48xf32>, tensor<16x48xf32>) -> tensor<2x16xf32>
  %sk = anvil.constant dense<0.5> : tensor<48xf32>
  %wk = anvil.dequantize %q8, %sk {axis = 0 : i64, bits = 8 : i64} : (tensor<48x16xui8>, tensor<48xf32>) -> tensor<48x16xf32>
  %c = anvil.matmul %x, %wk : (tensor<2x48xf32>, tensor<48x16xf32>) -> tensor<2x16xf32>
  %xs = anvil.constant dense<0.1> : tensor<f32>
  %xq = anvil.quantize %x, %xs {bits = 8 : i64} : (tensor<2x48xf32>, tensor<f32>) -> tensor<2x48xi8>
  %xd = anvil.dequantize %xq, %xs {bits = 8 : i64} : (tensor<2x48xi8>, tensor<f32>) -> tensor<2x48xf32>
  %i8 = anvil.constant dense<3> : tensor<48x16xi8>
  %wi = anvil.dequantize %i8, %s8 {axis = 1 : i64, bits = 8 : i64} : (tensor<48x16xi8>, tensor<16xf32>) -> tensor<48x16xf32>
  %d = anvil.matmul %xd, %wi : (tensor<2x48xf32>, tensor<48x16xf32>) -> tensor<2x16xf32>
  return %a, %b, %c, %d : tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

// A constant the importer marked anvil.keep_float (MatMulNBits' float zero
// point correction) is not a weight: no mode quantizes it.
// PT-LABEL: func.func @keep_float
// PT-NOT: anvil.dequantize
// PT: anvil.matmul %arg0, %{{.*}} {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>)
// WO-LABEL: func.func @keep_float
// WO-NOT: anvil.dequantize
// WO: anvil.matmul %arg0, %{{.*}} {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>)
func.func @keep_float(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %c = anvil.constant {anvil.keep_float} dense<0.25> : tensor<4x3xf32>
  %y = anvil.matmul %x, %c {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %r = anvil.relu %y : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

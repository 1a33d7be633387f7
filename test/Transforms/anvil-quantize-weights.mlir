// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights | FileCheck %s --check-prefix=INT8
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights=mode=int4-g32 | FileCheck %s --check-prefix=G32
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights="mode=int4-g32 asym=true" | FileCheck %s --check-prefix=ASYM
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights="mode=int4-g32 float-lhs=true" | FileCheck %s --check-prefix=FLOATLHS
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights=mode=w8a8 | FileCheck %s --check-prefix=W8A8
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights=mode=w4a8-g32 | FileCheck %s --check-prefix=W4A8
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights="mode=int8 skip=embed" | FileCheck %s --check-prefix=SKIPE
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights="mode=int8 skip=lm_head" | FileCheck %s --check-prefix=SKIPH
// RUN: anvil-opt %s -split-input-file -anvil-quantize-weights="mode=int8 skip=w*" | FileCheck %s --check-prefix=SKIPW
// Constant matmul weights become dequantize(q, scale[, zero point]) read
// with transpose_rhs, in either orientation; the values are checked with
// --print-weights-free splats and small dense constants.

// A [K, N] weight (no transpose_rhs): per-channel int8 of its transpose.
// Column n of w is [n+1, -(n+1)] * 0.5: max |w| = (n+1)/2, so each
// channel's scale is (n+1)/254 and q = [127, -127].
// INT8-LABEL: func.func @kn
// INT8-DAG: %[[Q:.*]] = anvil.constant dense<{{\[\[}}127, -127], [127, -127], [127, -127]]> : tensor<3x2xi8>
// INT8-DAG: %[[S:.*]] = anvil.constant dense<[0.00393700786, 0.00787401571, 0.0118110236]> : tensor<3xf32>
// INT8: %[[W:.*]] = anvil.dequantize %[[Q]], %[[S]] {bits = 8 : i64} : (tensor<3x2xi8>, tensor<3xf32>) -> tensor<3x2xf32>
// INT8: anvil.matmul %{{.*}}, %[[W]] {transpose_rhs = true} : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
// G32-LABEL: func.func @kn
// G32-DAG: %[[Q:.*]] = anvil.constant dense<151> : tensor<3x1xui8>
// G32-DAG: %[[S:.*]] = anvil.constant dense<{{\[\[}}0.0714285746], [0.142857149], [0.214285716]]> : tensor<3x1xf32>
// G32: %[[W:.*]] = anvil.dequantize %[[Q]], %[[S]] {anvil.lhs_bf16, axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<3x1xui8>, tensor<3x1xf32>) -> tensor<3x2xf32>
// G32: anvil.matmul %{{.*}}, %[[W]] {transpose_rhs = true}
// float-lhs: the same int4 values and scales, the dequantize unmarked.
// FLOATLHS-LABEL: func.func @kn
// FLOATLHS-DAG: %[[Q:.*]] = anvil.constant dense<151> : tensor<3x1xui8>
// FLOATLHS: %[[W:.*]] = anvil.dequantize %[[Q]], %{{.*}} {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<3x1xui8>, tensor<3x1xf32>) -> tensor<3x2xf32>
// FLOATLHS-NOT: anvil.lhs_bf16
// ASYM-LABEL: func.func @kn
// Zero point round(0.5 / float(1/15)) = 7 (the quotient is 7.49999...);
// q = [7 + 7, -7 + 7] packs to 14.
// ASYM-DAG: %[[Q:.*]] = anvil.constant dense<14> : tensor<3x1xui8>
// ASYM-DAG: %[[Z:.*]] = anvil.constant dense<7> : tensor<3x1xui8>
// ASYM: anvil.dequantize %[[Q]], %{{.*}}, %[[Z]] {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<3x1xui8>, tensor<3x1xf32>, tensor<3x1xui8>) -> tensor<3x2xf32>
// W8A8-LABEL: func.func @kn
// W8A8-SAME: (%[[X:.*]]: tensor<4x2xf32>)
// W8A8: %[[XQ:.*]], %[[XS:.*]] = anvil.quantize_per_token %[[X]] : (tensor<4x2xf32>) -> (tensor<4x2xi8>, tensor<4x1xf32>)
// W8A8: %[[XD:.*]] = anvil.dequantize %[[XQ]], %[[XS]] {axis = 1 : i64, bits = 8 : i64, block_size = 2 : i64} : (tensor<4x2xi8>, tensor<4x1xf32>) -> tensor<4x2xf32>
// W8A8: anvil.matmul %[[XD]], %{{.*}} {transpose_rhs = true} : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
// W4A8 (mode=w4a8-g32): int4-g32's symmetric weights, w8a8's activations.
// W4A8-LABEL: func.func @kn
// W4A8-SAME: (%[[X:.*]]: tensor<4x2xf32>)
// W4A8-DAG: %[[Q:.*]] = anvil.constant dense<151> : tensor<3x1xui8>
// W4A8-DAG: %[[S:.*]] = anvil.constant dense<{{\[\[}}0.0714285746], [0.142857149], [0.214285716]]> : tensor<3x1xf32>
// W4A8: %[[W:.*]] = anvil.dequantize %[[Q]], %[[S]] {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<3x1xui8>, tensor<3x1xf32>) -> tensor<3x2xf32>
// W4A8: %[[XQ:.*]], %[[XS:.*]] = anvil.quantize_per_token %[[X]] : (tensor<4x2xf32>) -> (tensor<4x2xi8>, tensor<4x1xf32>)
// W4A8: %[[XD:.*]] = anvil.dequantize %[[XQ]], %[[XS]] {axis = 1 : i64, bits = 8 : i64, block_size = 2 : i64} : (tensor<4x2xi8>, tensor<4x1xf32>) -> tensor<4x2xf32>
// W4A8: anvil.matmul %[[XD]], %[[W]] {transpose_rhs = true} : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
func.func @kn(%x: tensor<4x2xf32>) -> tensor<4x3xf32> {
  %w = anvil.constant dense<[[0.5, 1.0, 1.5], [-0.5, -1.0, -1.5]]> : tensor<2x3xf32>
  %y = anvil.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// An [N, K] weight read with transpose_rhs, K = 40: int4-g32 has a group
// of 32 and a tail group of 8, and the odd K = 5 case keeps its length.
// INT8-LABEL: func.func @nk
// INT8: anvil.dequantize %{{.*}}, %{{.*}} {bits = 8 : i64} : (tensor<2x40xi8>, tensor<2xf32>) -> tensor<2x40xf32>
// INT8: anvil.dequantize %{{.*}}, %{{.*}} {bits = 8 : i64} : (tensor<2x5xi8>, tensor<2xf32>) -> tensor<2x5xf32>
// G32-LABEL: func.func @nk
// G32: anvil.dequantize %{{.*}}, %{{.*}} {anvil.lhs_bf16, axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<2x20xui8>, tensor<2x2xf32>) -> tensor<2x40xf32>
// G32: anvil.dequantize %{{.*}}, %{{.*}} {anvil.lhs_bf16, axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true, last_dim = 5 : i64} : (tensor<2x3xui8>, tensor<2x1xf32>) -> tensor<2x5xf32>
func.func @nk(%x: tensor<1x?x40xf32>, %z: tensor<3x5xf32>) -> (tensor<1x?x2xf32>, tensor<3x2xf32>) {
  %w = anvil.constant dense<0.25> : tensor<2x40xf32>
  %y = anvil.matmul %x, %w {transpose_rhs = true} : (tensor<1x?x40xf32>, tensor<2x40xf32>) -> tensor<1x?x2xf32>
  %v = anvil.constant dense<-1.0> : tensor<2x5xf32>
  %u = anvil.matmul %z, %v {transpose_rhs = true} : (tensor<3x5xf32>, tensor<2x5xf32>) -> tensor<3x2xf32>
  return %y, %u : tensor<1x?x2xf32>, tensor<3x2xf32>
}

// -----

// Dataflow, not names: the table the token ids gather from is the
// embedding (a tied LM head reads it too), the matmul the logits come
// from through a reshape and a gather of rows is the LM head, a matmul
// whose result feeds another op is neither. Its initializer name comes
// from the location (the importer's NameLoc).
// INT8-LABEL: func.func @decoder
// INT8-COUNT-2: anvil.dequantize
// INT8-NOT: anvil.dequantize
// SKIPE-LABEL: func.func @decoder
// SKIPE: %[[E:.*]] = anvil.constant dense<1.000000e+00> : tensor<16x8xf32>
// SKIPE: anvil.dequantize {{.*}} -> tensor<8x8xf32>
// SKIPE-NOT: anvil.dequantize
// SKIPE: anvil.matmul %{{.*}}, %[[E]] {transpose_rhs = true}
// SKIPH-LABEL: func.func @decoder
// SKIPH: anvil.dequantize {{.*}} -> tensor<8x8xf32>
// SKIPH-NOT: anvil.dequantize
// SKIPW-LABEL: func.func @decoder
// SKIPW: anvil.dequantize {{.*}} -> tensor<16x8xf32>
// SKIPW-NOT: anvil.dequantize
func.func @decoder(%ids: tensor<1x3xi64>) -> tensor<2x16xf32> {
  %emb = anvil.constant dense<1.0> : tensor<16x8xf32>
  %h = anvil.gather %emb, %ids {axis = 0 : i64} : (tensor<16x8xf32>, tensor<1x3xi64>) -> tensor<1x3x8xf32>
  %w = anvil.constant dense<0.5> : tensor<8x8xf32> loc("w_proj")
  %a = anvil.matmul %h, %w : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %s = anvil.constant dense<[3, 8]> : tensor<2xi64>
  %r = anvil.reshape %a, %s : (tensor<1x3x8xf32>, tensor<2xi64>) -> tensor<3x8xf32>
  %rows = anvil.constant dense<[0, 2]> : tensor<2xi64>
  %g = anvil.gather %r, %rows {axis = 0 : i64} : (tensor<3x8xf32>, tensor<2xi64>) -> tensor<2x8xf32>
  %l = anvil.matmul %g, %emb {transpose_rhs = true} : (tensor<2x8xf32>, tensor<16x8xf32>) -> tensor<2x16xf32>
  return %l : tensor<2x16xf32>
}

// -----

// An untied LM head: skip=embed keeps only the table (no matmul reads
// it), skip=lm_head only the head.
// INT8-LABEL: func.func @untied
// INT8-COUNT-2: anvil.dequantize
// SKIPW-LABEL: func.func @untied
// SKIPE-LABEL: func.func @untied
// SKIPE-COUNT-2: anvil.dequantize
// SKIPH-LABEL: func.func @untied
// SKIPH: anvil.dequantize {{.*}} -> tensor<8x8xf32>
// SKIPH-NOT: anvil.dequantize
// SKIPH: anvil.matmul %{{.*}}, %{{.*}} {transpose_rhs = true} : (tensor<1x3x8xf32>, tensor<16x8xf32>) -> tensor<1x3x16xf32>
func.func @untied(%ids: tensor<1x3xi64>) -> tensor<1x3x16xf32> {
  %emb = anvil.constant dense<1.0> : tensor<16x8xf32>
  %h = anvil.gather %emb, %ids {axis = 0 : i64} : (tensor<16x8xf32>, tensor<1x3xi64>) -> tensor<1x3x8xf32>
  %w = anvil.constant dense<0.5> : tensor<8x8xf32>
  %a = anvil.matmul %h, %w : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %head = anvil.constant dense<2.0> : tensor<16x8xf32>
  %l = anvil.matmul %a, %head {transpose_rhs = true} : (tensor<1x3x8xf32>, tensor<16x8xf32>) -> tensor<1x3x16xf32>
  return %l : tensor<1x3x16xf32>
}

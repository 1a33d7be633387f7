// RUN: anvil-opt %s -split-input-file -anvil-decompose-composites -verify-diagnostics | FileCheck %s
// anvil.onnx_attention, once its shapes are static, becomes anvil.attention
// with ONNX's causal mask (query i sees keys up to past + i) and the
// default scale 1/sqrt(head_dim); still dynamic, it is an error.

// Two new queries after 3 cached positions: query 0 sees keys 0..3,
// query 1 keys 0..4; the scale is 1/sqrt(8).
// CHECK-LABEL: func.func @causal_after_past
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x2x8xf32>, %[[K:.*]]: tensor<1x2x5x8xf32>, %[[V:.*]]: tensor<1x2x5x8xf32>, %[[P:.*]]: tensor<1x2x3x8xf32>)
// CHECK: %[[C:.*]] = anvil.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0xFF800000], [0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<2x5xf32>
// CHECK: %[[A:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]], %[[C]] {scale = 0.353553385 : f32} : (tensor<1x4x2x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<2x5xf32>) -> tensor<1x4x2x8xf32>
// CHECK-NOT: anvil.onnx_attention
// CHECK: return %[[A]]
func.func @causal_after_past(%q: tensor<1x4x2x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %pk: tensor<1x2x3x8xf32>) -> tensor<1x4x2x8xf32> {
  %y = anvil.onnx_attention %q, %k, %v, %pk {is_causal = true, operand_segment_sizes = array<i32: 1, 1, 1, 0, 1>} : (tensor<1x4x2x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x4x2x8xf32>
  return %y : tensor<1x4x2x8xf32>
}

// -----

// A given scale is kept; a mask shorter than the keys is padded with -inf.
// CHECK-LABEL: func.func @mask_and_scale
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x2x3x4xf32>, %[[M:.*]]: tensor<3x2xf32>)
// CHECK: %[[P:.*]] = anvil.pad %[[M]] {mode = "constant", pads = array<i64: 0, 0, 0, 1>, value = 0xFFF0000000000000 : f64} : (tensor<3x2xf32>) -> tensor<3x3xf32>
// CHECK: anvil.attention %[[Q]], %[[K]], %[[K]], %[[P]] {scale = 1.250000e-01 : f32}
func.func @mask_and_scale(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %m: tensor<3x2xf32>) -> tensor<1x2x3x4xf32> {
  %y = anvil.onnx_attention %q, %k, %k, %m {scale = 0.125 : f32, operand_segment_sizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<3x2xf32>) -> tensor<1x2x3x4xf32>
  return %y : tensor<1x2x3x4xf32>
}

// -----

func.func @still_dynamic(%q: tensor<1x2x?x4xf32>, %k: tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32> {
  // expected-error @+1 {{'anvil.onnx_attention' op needs static shapes; bind the model's dynamic dimensions (--dim, --input-shape)}}
  %y = anvil.onnx_attention %q, %k, %k {is_causal = true, operand_segment_sizes = array<i32: 1, 1, 1, 0, 0>} : (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  return %y : tensor<1x2x?x4xf32>
}

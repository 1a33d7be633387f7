// RUN: anvil-opt %s -anvil-quantize-weights | FileCheck %s --check-prefix=INT8
// RUN: anvil-opt %s -anvil-quantize-weights=mode=w4a8-g32 | FileCheck %s --check-prefix=W4A8
// A float16 (or bfloat16) model's matmul is quantized in float32: the
// quantized kernel takes float32 activations and scales, so the
// activations are cast to float32, the scales are float32 (not rounded to
// the weight's type), and the product is cast back to the model's type
// once. The same weight as anvil-quantize-weights.mlir's @kn: scales
// (n+1)/254, q = [127, -127].
// INT8-LABEL: func.func @kn_f16
// INT8-SAME: (%[[X:.*]]: tensor<4x2xf16>)
// INT8-DAG: %[[Q:.*]] = anvil.constant dense<{{\[\[}}127, -127], [127, -127], [127, -127]]> : tensor<3x2xi8>
// INT8-DAG: %[[S:.*]] = anvil.constant dense<[0.00393700786, 0.00787401571, 0.0118110236]> : tensor<3xf32>
// INT8: %[[W:.*]] = anvil.dequantize %[[Q]], %[[S]] {bits = 8 : i64} : (tensor<3x2xi8>, tensor<3xf32>) -> tensor<3x2xf32>
// INT8: %[[X32:.*]] = anvil.cast %[[X]] : (tensor<4x2xf16>) -> tensor<4x2xf32>
// INT8: %[[Y32:.*]] = anvil.matmul %[[X32]], %[[W]] {transpose_rhs = true} : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
// INT8: %[[Y:.*]] = anvil.cast %[[Y32]] : (tensor<4x3xf32>) -> tensor<4x3xf16>
// INT8: return %[[Y]] : tensor<4x3xf16>
// With int8 activations the widened activations are the ones quantized.
// W4A8-LABEL: func.func @kn_f16
// W4A8-SAME: (%[[X:.*]]: tensor<4x2xf16>)
// W4A8: %[[X32:.*]] = anvil.cast %[[X]] : (tensor<4x2xf16>) -> tensor<4x2xf32>
// W4A8: %[[XQ:.*]], %[[XS:.*]] = anvil.quantize_per_token %[[X32]] : (tensor<4x2xf32>) -> (tensor<4x2xi8>, tensor<4x1xf32>)
// W4A8: %[[XD:.*]] = anvil.dequantize %[[XQ]], %[[XS]]
// W4A8: %[[Y32:.*]] = anvil.matmul %[[XD]], %{{.*}} {transpose_rhs = true} : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
// W4A8: anvil.cast %[[Y32]] : (tensor<4x3xf32>) -> tensor<4x3xf16>
func.func @kn_f16(%x: tensor<4x2xf16>) -> tensor<4x3xf16> {
  %w = anvil.constant dense<[[0.5, 1.0, 1.5], [-0.5, -1.0, -1.5]]> : tensor<2x3xf16>
  %y = anvil.matmul %x, %w : (tensor<4x2xf16>, tensor<2x3xf16>) -> tensor<4x3xf16>
  return %y : tensor<4x3xf16>
}

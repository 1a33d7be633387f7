// RUN: anvil-opt %s -anvil-quantize-weights=mode=int3 -verify-diagnostics
// RUN: not anvil-opt %s -anvil-quantize-weights="mode=w8a8 asym=true" 2>&1 | FileCheck %s --check-prefix=W8A8
// RUN: not anvil-opt %s -anvil-quantize-weights="mode=w4a8-g128 asym=true" 2>&1 | FileCheck %s --check-prefix=W4A8
// RUN: not anvil-opt %s -anvil-quantize-weights="mode=w8a8 float-lhs=true" 2>&1 | FileCheck %s --check-prefix=FLOATLHS
// Options the pass refuses, with the reason.
// W8A8: error: w8a8 quantizes weights symmetrically (its integer product has no weight zero point); drop the asym option
// W4A8: error: w4a8-g128 quantizes weights symmetrically (its integer product has no weight zero point); drop the asym option
// FLOATLHS: error: w8a8 quantizes the activations to int8 per token; drop the float-lhs option (anvilc --quantize-float-lhs)

// expected-error @+1 {{unknown quantization mode 'int3' (int8, int4-g32, int4-g128, w8a8, w4a8-g32, w4a8-g128)}}
func.func @f(%x: tensor<4x2xf32>) -> tensor<4x3xf32> {
  %w = anvil.constant dense<0.5> : tensor<2x3xf32>
  %y = anvil.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

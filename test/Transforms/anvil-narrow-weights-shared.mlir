// RUN: anvil-opt %s -anvil-narrow-weights=dtype=bf16 | FileCheck %s
// RUN: anvil-opt %s -anvil-quantize-weights=mode=int8 | FileCheck %s
// The quantizing passes free a float weight's data once no op reads it
// (docs/performance.md, compile cost). A weight another function still
// reads keeps its data: here @b adds the blob @a's matmul reads, so after
// @a's copy is quantized and erased, `shared` must still hold its bytes.
// CHECK-LABEL: func.func @b
// CHECK: anvil.constant dense_resource<shared> : tensor<2x2xf32>
// CHECK: dialect_resources
// CHECK: shared: "0x040000000000803F000000400000404000008040"
module {
  func.func @a(%x: tensor<1x2xf32>) -> tensor<1x2xf32> {
    %w = anvil.constant dense_resource<shared> : tensor<2x2xf32>
    %y = anvil.matmul %x, %w : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
  func.func @b(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
    %w = anvil.constant dense_resource<shared> : tensor<2x2xf32>
    %y = anvil.add %x, %w : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    return %y : tensor<2x2xf32>
  }
}
{-#
  dialect_resources: {
    builtin: {
      shared: "0x040000000000803F000000400000404000008040"
    }
  }
#-}

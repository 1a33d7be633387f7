// RUN: anvil-opt %s -anvil-pack-weights=target=cpu | FileCheck %s

// kernel.streamed_weight_bytes counts the copies some use reads whole: not
// a table only `gather` reads (a token embedding: a step reads the rows
// its indices name), nor a weight nothing reads; a table that a gather and
// another kernel both read (tied embeddings) counts.
// 6400 (the tied table) + 64 (the copied weight), of a 70496-byte section.
// CHECK: module attributes {kernel.streamed_weight_bytes = 6464 : i64, kernel.weight_bytes = 70496 : i64}
func.func @streamed(%ids: memref<2xi64>, %rows: memref<2x16xf32>, %rows2: memref<2x16xf32>, %copy: memref<100x16xf32>, %copy2: memref<4x4xf32>) {
  %embedding = kernel.weight dense<0.5> : tensor<1000x16xf32> : memref<1000x16xf32>
  kernel.launch "gather" ins(%embedding, %ids : memref<1000x16xf32>, memref<2xi64>) outs(%rows : memref<2x16xf32>) params {axis_size = 1000 : i64, count = 2 : i64, inner = 16 : i64, outer = 1 : i64}
  %tied = kernel.weight dense<0.25> : tensor<100x16xf32> : memref<100x16xf32>
  kernel.launch "gather" ins(%tied, %ids : memref<100x16xf32>, memref<2xi64>) outs(%rows2 : memref<2x16xf32>) params {axis_size = 100 : i64, count = 2 : i64, inner = 16 : i64, outer = 1 : i64}
  kernel.launch "copy_strided" ins(%tied : memref<100x16xf32>) outs(%copy : memref<100x16xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 16, 1>, rank = 2 : i64, shape = array<i64: 100, 16>, src_offset = 0 : i64, src_strides = array<i64: 16, 1>}
  %w = kernel.weight dense<2.0> : tensor<4x4xf32> : memref<4x4xf32>
  kernel.launch "copy_strided" ins(%w : memref<4x4xf32>) outs(%copy2 : memref<4x4xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 4, 1>, rank = 2 : i64, shape = array<i64: 4, 4>, src_offset = 0 : i64, src_strides = array<i64: 4, 1>}
  %unused = kernel.weight dense<1.0> : tensor<8xf32> : memref<8xf32>
  return
}

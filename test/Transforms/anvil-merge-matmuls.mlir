// RUN: anvil-opt %s -anvil-merge-matmuls -split-input-file | FileCheck %s

// Weights stored [N, K] (transpose_rhs): their rows are concatenated. The
// step's activations have a bounded leading dim; the slices keep it. The
// original constants are gone.
// CHECK-LABEL: func.func @transposed
// CHECK-NOT: dense<
// CHECK: %[[W:.*]] = anvil.constant dense_resource<merged_weight{{.*}}> : tensor<3x2xf32>
// CHECK: %[[M:.*]] = anvil.matmul %arg0, %[[W]] {transpose_rhs = true} : (tensor<?x2xf32>, tensor<3x2xf32>) -> tensor<?x3xf32>
// CHECK-DAG: %[[AXIS:.*]] = anvil.constant dense<-1> : tensor<1xi64>
// CHECK-DAG: %[[ONE:.*]] = anvil.constant dense<1> : tensor<1xi64>
// CHECK-DAG: %[[C0:.*]] = anvil.constant dense<0> : tensor<1xi64>
// CHECK: %[[Q:.*]] = anvil.slice %[[M]], %[[C0]], %[[ONE]], %[[AXIS]], %[[ONE]] : {{.*}} -> tensor<?x1xf32>
// CHECK: %[[C3:.*]] = anvil.constant dense<3> : tensor<1xi64>
// CHECK: %[[K:.*]] = anvil.slice %[[M]], %[[ONE]], %[[C3]], %[[AXIS]], %[[ONE]] : {{.*}} -> tensor<?x2xf32>
// CHECK-NOT: anvil.matmul
// CHECK: return %[[Q]], %[[K]]
// The blob (an alignment word, then the rows [1, 2], [3, 4], [5, 6]):
// CHECK: merged_weight: "0x080000000000803F0000004000004040000080400000A0400000C040"
func.func @transposed(%x: tensor<?x2xf32>) -> (tensor<?x1xf32>, tensor<?x2xf32>) {
  %wq = anvil.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %wk = anvil.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %q = anvil.matmul %x, %wq {transpose_rhs = true} : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  %k = anvil.matmul %x, %wk {transpose_rhs = true} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  return %q, %k : tensor<?x1xf32>, tensor<?x2xf32>
}

// -----

// Weights stored [K, N]: each row of the merged weight is the rows of the
// originals side by side. A batched input keeps its leading dims.
// CHECK-LABEL: func.func @plain
// CHECK: %[[W:.*]] = anvil.constant dense_resource<merged_weight{{.*}}> : tensor<2x3xf32>
// CHECK: %[[M:.*]] = anvil.matmul %arg0, %[[W]] : (tensor<1x5x2xf32>, tensor<2x3xf32>) -> tensor<1x5x3xf32>
// CHECK: anvil.slice %[[M]], {{.*}} -> tensor<1x5x1xf32>
// CHECK: anvil.slice %[[M]], {{.*}} -> tensor<1x5x2xf32>
// CHECK-NOT: anvil.matmul
// The rows [1, 3, 4] and [2, 5, 6]:
// CHECK: merged_weight: "0x080000000000803F0000404000008040000000400000A0400000C040"
func.func @plain(%x: tensor<1x5x2xf32>) -> (tensor<1x5x1xf32>, tensor<1x5x2xf32>) {
  %wg = anvil.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %wu = anvil.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %g = anvil.matmul %x, %wg : (tensor<1x5x2xf32>, tensor<2x1xf32>) -> tensor<1x5x1xf32>
  %u = anvil.matmul %x, %wu : (tensor<1x5x2xf32>, tensor<2x2xf32>) -> tensor<1x5x2xf32>
  return %g, %u : tensor<1x5x1xf32>, tensor<1x5x2xf32>
}

// -----

// A weight another op also reads (here a tied embedding's gather; a
// second matmul counts the same) is left alone: unmerged it would not be
// packed in panels and its matmul could round differently. Its partners
// still merge.
// CHECK-LABEL: func.func @shared_weight
// CHECK: %[[E:.*]] = anvil.constant dense<{{\[}}[1.000000e+00, 2.000000e+00]]> : tensor<1x2xf32>
// CHECK-NOT: dense<{{\[}}[3.000000e+00
// CHECK-NOT: dense<{{\[}}[5.000000e+00
// CHECK: anvil.gather %[[E]]
// CHECK: %[[W:.*]] = anvil.constant dense_resource<merged_weight{{.*}}> : tensor<2x2xf32>
// CHECK: %[[M:.*]] = anvil.matmul %arg1, %[[W]] {transpose_rhs = true}
// CHECK: anvil.slice %[[M]]
// CHECK: anvil.slice %[[M]]
// CHECK: anvil.matmul %arg1, %[[E]] {transpose_rhs = true}
// CHECK-NOT: anvil.matmul
// CHECK: merged_weight: "0x0800000000004040000080400000A0400000C040"
func.func @shared_weight(%ids: tensor<3xi64>, %h: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x1xf32>, tensor<3x1xf32>, tensor<3x1xf32>) {
  %e = anvil.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %w = anvil.constant dense<[[3.0, 4.0]]> : tensor<1x2xf32>
  %v = anvil.constant dense<[[5.0, 6.0]]> : tensor<1x2xf32>
  %x = anvil.gather %e, %ids {axis = 0 : i64} : (tensor<1x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
  %b = anvil.matmul %h, %w {transpose_rhs = true} : (tensor<3x2xf32>, tensor<1x2xf32>) -> tensor<3x1xf32>
  %a = anvil.matmul %h, %e {transpose_rhs = true} : (tensor<3x2xf32>, tensor<1x2xf32>) -> tensor<3x1xf32>
  %c = anvil.matmul %h, %v {transpose_rhs = true} : (tensor<3x2xf32>, tensor<1x2xf32>) -> tensor<3x1xf32>
  return %x, %a, %b, %c : tensor<3x2xf32>, tensor<3x1xf32>, tensor<3x1xf32>, tensor<3x1xf32>
}

// -----

// What stays apart: different inputs, different orientations, different
// weight element types, a weight made by dequantize (quantized storage),
// a right-hand side that is not a constant. Each of these matmuls has no
// partner it may merge with.
// CHECK-LABEL: func.func @apart
// CHECK-NOT: anvil.slice
// CHECK-COUNT-6: anvil.matmul
// CHECK-NOT: anvil.slice
func.func @apart(%x: tensor<3x2xf32>, %y: tensor<3x2xf32>, %r: tensor<2x2xf32>, %q: tensor<2x2xui8>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>) {
  %w1 = anvil.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %w2 = anvil.constant dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>
  %w3 = anvil.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xbf16>
  %s = anvil.constant dense<[5.0e-1, 2.5e-1]> : tensor<2xf32>
  %zp = anvil.constant dense<[8, 8]> : tensor<2xui8>
  %wq = anvil.dequantize %q, %s, %zp {axis = 1 : i64, bits = 8 : i64} : (tensor<2x2xui8>, tensor<2xf32>, tensor<2xui8>) -> tensor<2x2xf32>
  %a = anvil.matmul %x, %w1 : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %b = anvil.matmul %y, %w2 : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %c = anvil.matmul %x, %w2 {transpose_rhs = true} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %d = anvil.matmul %y, %w3 : (tensor<3x2xf32>, tensor<2x2xbf16>) -> tensor<3x2xf32>
  %e = anvil.matmul %y, %wq {transpose_rhs = true} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %f = anvil.matmul %y, %r {transpose_rhs = true} : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %a, %b, %c, %d, %e, %f : tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// Three projections of one input (Q, K, V) become one matmul and three
// slices, in the order of the originals.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[M:.*]] = anvil.matmul %arg0, %{{.*}} {transpose_rhs = true} : (tensor<?x2xf32>, tensor<4x2xf32>) -> tensor<?x4xf32>
// CHECK: %[[Q:.*]] = anvil.slice %[[M]], {{.*}} -> tensor<?x2xf32>
// CHECK: %[[K:.*]] = anvil.slice %[[M]], {{.*}} -> tensor<?x1xf32>
// CHECK: %[[V:.*]] = anvil.slice %[[M]], {{.*}} -> tensor<?x1xf32>
// CHECK: anvil.add %[[K]], %[[V]]
// CHECK: return %[[Q]]
// CHECK: merged_weight: "0x080000000000803F0000004000004040000080400000A0400000C0400000E04000000041"
func.func @qkv(%x: tensor<?x2xf32>) -> (tensor<?x2xf32>, tensor<?x1xf32>) {
  %wq = anvil.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %wk = anvil.constant dense<[[5.0, 6.0]]> : tensor<1x2xf32>
  %wv = anvil.constant dense<[[7.0, 8.0]]> : tensor<1x2xf32>
  %q = anvil.matmul %x, %wq {transpose_rhs = true} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %k = anvil.matmul %x, %wk {transpose_rhs = true} : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  %v = anvil.matmul %x, %wv {transpose_rhs = true} : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  %s = anvil.add %k, %v : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  return %q, %s : tensor<?x2xf32>, tensor<?x1xf32>
}

// -----

// Constants marked anvil.keep_float (float zero point corrections) are not
// merged: a merged weight would lose the mark, and --quantize would round it.
// CHECK-LABEL: func.func @keep_float
// CHECK-NOT: merged_weight
// CHECK-COUNT-2: anvil.matmul %arg0
// CHECK-NOT: merged_weight
func.func @keep_float(%x: tensor<?x2xf32>) -> (tensor<?x2xf32>, tensor<?x1xf32>) {
  %wq = anvil.constant {anvil.keep_float} dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %wk = anvil.constant {anvil.keep_float} dense<[[5.0, 6.0]]> : tensor<1x2xf32>
  %q = anvil.matmul %x, %wq {transpose_rhs = true} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32>
  %k = anvil.matmul %x, %wk {transpose_rhs = true} : (tensor<?x2xf32>, tensor<1x2xf32>) -> tensor<?x1xf32>
  return %q, %k : tensor<?x2xf32>, tensor<?x1xf32>
}

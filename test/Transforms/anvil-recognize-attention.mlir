// RUN: anvil-opt %s -split-input-file -anvil-recognize-attention | FileCheck %s
// matmul(softmax(matmul(q, k^T) * scale + mask), v) becomes anvil.attention,
// wherever the scale is applied; repeated KV heads become grouped heads.

// TorchScript Llama with GQA: sqrt(sqrt(1/16)) on q and on k^T, an additive
// mask, K and V repeated from 2 to 4 heads.
// CHECK-LABEL: func.func @llama_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x1x16xf32>, %[[K:.*]]: tensor<1x2x9x16xf32>, %[[V:.*]]: tensor<1x2x9x16xf32>, %[[M:.*]]: tensor<1x1x1x9xf32>)
// CHECK: %[[O:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 2.500000e-01 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x1x1x9xf32>) -> tensor<1x4x1x16xf32>
// CHECK-NEXT: return %[[O]]
func.func @llama_gqa(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>, %mask: tensor<1x1x1x9xf32>) -> tensor<1x4x1x16xf32> {
  %s5 = anvil.constant dense<[1, 2, 2, 9, 16]> : tensor<5xi64>
  %s4 = anvil.constant dense<[1, 4, 9, 16]> : tensor<4xi64>
  %half = anvil.constant dense<0.5> : tensor<1xf32>
  %ku = anvil.unsqueeze %k {axes = array<i64: 2>} : (tensor<1x2x9x16xf32>) -> tensor<1x2x1x9x16xf32>
  %ke = anvil.expand %ku, %s5 : (tensor<1x2x1x9x16xf32>, tensor<5xi64>) -> tensor<1x2x2x9x16xf32>
  %kr = anvil.reshape %ke, %s4 : (tensor<1x2x2x9x16xf32>, tensor<4xi64>) -> tensor<1x4x9x16xf32>
  %vu = anvil.unsqueeze %v {axes = array<i64: 2>} : (tensor<1x2x9x16xf32>) -> tensor<1x2x1x9x16xf32>
  %ve = anvil.expand %vu, %s5 : (tensor<1x2x1x9x16xf32>, tensor<5xi64>) -> tensor<1x2x2x9x16xf32>
  %vr = anvil.reshape %ve, %s4 : (tensor<1x2x2x9x16xf32>, tensor<4xi64>) -> tensor<1x4x9x16xf32>
  %kt = anvil.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x9x16xf32>) -> tensor<1x4x16x9xf32>
  %qs = anvil.mul %q, %half : (tensor<1x4x1x16xf32>, tensor<1xf32>) -> tensor<1x4x1x16xf32>
  %ks = anvil.mul %kt, %half : (tensor<1x4x16x9xf32>, tensor<1xf32>) -> tensor<1x4x16x9xf32>
  %s = anvil.matmul %qs, %ks : (tensor<1x4x1x16xf32>, tensor<1x4x16x9xf32>) -> tensor<1x4x1x9xf32>
  %sm = anvil.add %s, %mask : (tensor<1x4x1x9xf32>, tensor<1x1x1x9xf32>) -> tensor<1x4x1x9xf32>
  %p = anvil.softmax %sm {axis = 3 : i64} : (tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
  %o = anvil.matmul %p, %vr : (tensor<1x4x1x9xf32>, tensor<1x4x9x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Scores divided by sqrt(head_dim) after a transpose_rhs matmul, mask on
// the left, no GQA; and the same without a mask, the scale on k before
// its transpose.
// CHECK-LABEL: func.func @scaled_scores
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x5x8xf32>, %[[K:.*]]: tensor<2x4x5x8xf32>, %[[V:.*]]: tensor<2x4x5x8xf32>, %[[M:.*]]: tensor<5x5xf32>)
// CHECK: %[[A:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 0.353553385 : f32}
// CHECK: %[[B:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]] {scale = 0.353553385 : f32}
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @scaled_scores(%q: tensor<2x4x5x8xf32>, %k: tensor<2x4x5x8xf32>, %v: tensor<2x4x5x8xf32>, %mask: tensor<5x5xf32>) -> (tensor<2x4x5x8xf32>, tensor<2x4x5x8xf32>) {
  %sqrt8 = anvil.constant dense<2.82842708> : tensor<f32>
  %s = anvil.matmul %q, %k {transpose_rhs = true} : (tensor<2x4x5x8xf32>, tensor<2x4x5x8xf32>) -> tensor<2x4x5x5xf32>
  %d = anvil.div %s, %sqrt8 : (tensor<2x4x5x5xf32>, tensor<f32>) -> tensor<2x4x5x5xf32>
  %sm = anvil.add %mask, %d : (tensor<5x5xf32>, tensor<2x4x5x5xf32>) -> tensor<2x4x5x5xf32>
  %p = anvil.softmax %sm {axis = 3 : i64} : (tensor<2x4x5x5xf32>) -> tensor<2x4x5x5xf32>
  %a = anvil.matmul %p, %v : (tensor<2x4x5x5xf32>, tensor<2x4x5x8xf32>) -> tensor<2x4x5x8xf32>
  %ks = anvil.div %k, %sqrt8 : (tensor<2x4x5x8xf32>, tensor<f32>) -> tensor<2x4x5x8xf32>
  %kt = anvil.transpose %ks {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x5x8xf32>) -> tensor<2x4x8x5xf32>
  %s2 = anvil.matmul %q, %kt : (tensor<2x4x5x8xf32>, tensor<2x4x8x5xf32>) -> tensor<2x4x5x5xf32>
  %p2 = anvil.softmax %s2 {axis = 3 : i64} : (tensor<2x4x5x5xf32>) -> tensor<2x4x5x5xf32>
  %b = anvil.matmul %p2, %v : (tensor<2x4x5x5xf32>, tensor<2x4x5x8xf32>) -> tensor<2x4x5x8xf32>
  return %a, %b : tensor<2x4x5x8xf32>, tensor<2x4x5x8xf32>
}

// -----

// Near misses: softmax over the query axis, a scale that is not a
// constant, a mask that enlarges the scores, and k^T by a transpose that
// also swaps the heads.
// CHECK-LABEL: func.func @not_attention
// CHECK-NOT: anvil.attention
// CHECK: return
func.func @not_attention(%q: tensor<1x4x5x8xf32>, %k: tensor<1x4x5x8xf32>, %v: tensor<1x4x5x8xf32>, %c: tensor<f32>, %big: tensor<3x4x5x5xf32>) -> (tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>, tensor<3x4x5x8xf32>, tensor<4x1x5x8xf32>) {
  %s = anvil.matmul %q, %k {transpose_rhs = true} : (tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x5x5xf32>
  %p1 = anvil.softmax %s {axis = 2 : i64} : (tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %o1 = anvil.matmul %p1, %v : (tensor<1x4x5x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x5x8xf32>
  %s2 = anvil.mul %s, %c : (tensor<1x4x5x5xf32>, tensor<f32>) -> tensor<1x4x5x5xf32>
  %p2 = anvil.softmax %s2 {axis = 3 : i64} : (tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %o2 = anvil.matmul %p2, %v : (tensor<1x4x5x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x5x8xf32>
  %s3 = anvil.add %s, %big : (tensor<1x4x5x5xf32>, tensor<3x4x5x5xf32>) -> tensor<3x4x5x5xf32>
  %p3 = anvil.softmax %s3 {axis = 3 : i64} : (tensor<3x4x5x5xf32>) -> tensor<3x4x5x5xf32>
  %o3 = anvil.matmul %p3, %v : (tensor<3x4x5x5xf32>, tensor<1x4x5x8xf32>) -> tensor<3x4x5x8xf32>
  %kt = anvil.transpose %k {perm = array<i64: 1, 0, 3, 2>} : (tensor<1x4x5x8xf32>) -> tensor<4x1x8x5xf32>
  %s4 = anvil.matmul %q, %kt : (tensor<1x4x5x8xf32>, tensor<4x1x8x5xf32>) -> tensor<4x4x5x5xf32>
  %p4 = anvil.softmax %s4 {axis = 3 : i64} : (tensor<4x4x5x5xf32>) -> tensor<4x4x5x5xf32>
  %vt = anvil.transpose %v {perm = array<i64: 1, 0, 2, 3>} : (tensor<1x4x5x8xf32>) -> tensor<4x1x5x8xf32>
  %o4 = anvil.matmul %p4, %vt : (tensor<4x4x5x5xf32>, tensor<4x1x5x8xf32>) -> tensor<4x4x5x8xf32>
  %r4 = anvil.reduce %o4 {axes = array<i64: 1>, keepdims = true, kind = #anvil<reduce sum>} : (tensor<4x4x5x8xf32>) -> tensor<4x1x5x8xf32>
  return %o1, %o2, %o3, %r4 : tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>, tensor<3x4x5x8xf32>, tensor<4x1x5x8xf32>
}

// -----

// BERT (TorchScript): k^T is one transpose [0, 2, 3, 1] of [batch, seq,
// heads, dim]; k becomes the [0, 2, 1, 3] transpose of it.
// CHECK-LABEL: func.func @bert
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x7x16xf32>, %[[KS:.*]]: tensor<2x7x4x16xf32>, %[[V:.*]]: tensor<2x4x7x16xf32>, %[[M:.*]]: tensor<2x1x1x7xf32>)
// CHECK: %[[K:.*]] = anvil.transpose %[[KS]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x7x4x16xf32>) -> tensor<2x4x7x16xf32>
// CHECK-NEXT: %[[O:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 2.500000e-01 : f32}
// CHECK-NEXT: return %[[O]]
func.func @bert(%q: tensor<2x4x7x16xf32>, %ks: tensor<2x7x4x16xf32>, %v: tensor<2x4x7x16xf32>, %mask: tensor<2x1x1x7xf32>) -> tensor<2x4x7x16xf32> {
  %four = anvil.constant dense<4.0> : tensor<f32>
  %kt = anvil.transpose %ks {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x7x4x16xf32>) -> tensor<2x4x16x7xf32>
  %s = anvil.matmul %q, %kt : (tensor<2x4x7x16xf32>, tensor<2x4x16x7xf32>) -> tensor<2x4x7x7xf32>
  %d = anvil.div %s, %four : (tensor<2x4x7x7xf32>, tensor<f32>) -> tensor<2x4x7x7xf32>
  %sm = anvil.add %d, %mask : (tensor<2x4x7x7xf32>, tensor<2x1x1x7xf32>) -> tensor<2x4x7x7xf32>
  %p = anvil.softmax %sm {axis = 3 : i64} : (tensor<2x4x7x7xf32>) -> tensor<2x4x7x7xf32>
  %o = anvil.matmul %p, %v : (tensor<2x4x7x7xf32>, tensor<2x4x7x16xf32>) -> tensor<2x4x7x16xf32>
  return %o : tensor<2x4x7x16xf32>
}

// -----

// GPT-2 (TorchScript): where(causal, scores / sqrt(d), min) + padding
// mask. The where becomes the additive mask where(causal, 0, min), added
// to the padding mask; a fill that is not huge (-1e4) would change the
// softmax of a fully masked row and stays.
// CHECK-LABEL: func.func @gpt2
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x1x16xf32>, %[[K:.*]]: tensor<1x4x9x16xf32>, %[[V:.*]]: tensor<1x4x9x16xf32>, %[[C:.*]]: tensor<1x1x1x9xi1>, %[[P:.*]]: tensor<1x1x1x9xf32>)
// CHECK-DAG: %[[MIN:.*]] = anvil.constant dense<-3.40282347E+38> : tensor<f32>
// CHECK-DAG: %[[ZERO:.*]] = anvil.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[W:.*]] = anvil.where %[[C]], %[[ZERO]], %[[MIN]] : (tensor<1x1x1x9xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x1x9xf32>
// CHECK: %[[M:.*]] = anvil.add %[[W]], %[[P]] : (tensor<1x1x1x9xf32>, tensor<1x1x1x9xf32>) -> tensor<1x1x1x9xf32>
// CHECK: %[[A:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 2.500000e-01 : f32}
// CHECK: anvil.softmax
// CHECK: return %[[A]]
func.func @gpt2(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x9x16xf32>, %v: tensor<1x4x9x16xf32>, %causal: tensor<1x1x1x9xi1>, %pad: tensor<1x1x1x9xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>) {
  %four = anvil.constant dense<4.0> : tensor<f32>
  %min = anvil.constant dense<-3.40282347E+38> : tensor<f32>
  %small = anvil.constant dense<-1.0e4> : tensor<f32>
  %s = anvil.matmul %q, %k {transpose_rhs = true} : (tensor<1x4x1x16xf32>, tensor<1x4x9x16xf32>) -> tensor<1x4x1x9xf32>
  %d = anvil.div %s, %four : (tensor<1x4x1x9xf32>, tensor<f32>) -> tensor<1x4x1x9xf32>
  %w = anvil.where %causal, %d, %min : (tensor<1x1x1x9xi1>, tensor<1x4x1x9xf32>, tensor<f32>) -> tensor<1x4x1x9xf32>
  %m = anvil.add %w, %pad : (tensor<1x4x1x9xf32>, tensor<1x1x1x9xf32>) -> tensor<1x4x1x9xf32>
  %p = anvil.softmax %m {axis = 3 : i64} : (tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
  %o = anvil.matmul %p, %v : (tensor<1x4x1x9xf32>, tensor<1x4x9x16xf32>) -> tensor<1x4x1x16xf32>
  %w2 = anvil.where %causal, %d, %small : (tensor<1x1x1x9xi1>, tensor<1x4x1x9xf32>, tensor<f32>) -> tensor<1x4x1x9xf32>
  %p2 = anvil.softmax %w2 {axis = 3 : i64} : (tensor<1x4x1x9xf32>) -> tensor<1x4x1x9xf32>
  %o2 = anvil.matmul %p2, %v : (tensor<1x4x1x9xf32>, tensor<1x4x9x16xf32>) -> tensor<1x4x1x16xf32>
  return %o, %o2 : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>
}

// -----

// The mask added before the scale, (q k^T + mask) * c: the mask is scaled
// too. One KV head copied to every query head by tile (multi-query
// attention written by hand) is the grouped broadcast.
// CHECK-LABEL: func.func @mask_before_scale_mqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x1x5x8xf32>, %[[V:.*]]: tensor<1x1x5x8xf32>, %[[M:.*]]: tensor<1x1x3x5xf32>)
// CHECK: %[[C:.*]] = anvil.constant dense<2.500000e-01> : tensor<f32>
// CHECK: %[[SM:.*]] = anvil.mul %[[M]], %[[C]] : (tensor<1x1x3x5xf32>, tensor<f32>) -> tensor<1x1x3x5xf32>
// CHECK: anvil.attention %[[Q]], %[[K]], %[[V]], %[[SM]] {scale = 2.500000e-01 : f32} : (tensor<1x4x3x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x3x5xf32>) -> tensor<1x4x3x8xf32>
func.func @mask_before_scale_mqa(%q: tensor<1x4x3x8xf32>, %k: tensor<1x1x5x8xf32>, %v: tensor<1x1x5x8xf32>, %mask: tensor<1x1x3x5xf32>) -> tensor<1x4x3x8xf32> {
  %c = anvil.constant dense<0.25> : tensor<f32>
  %kr = anvil.tile %k {repeats = array<i64: 1, 4, 1, 1>} : (tensor<1x1x5x8xf32>) -> tensor<1x4x5x8xf32>
  %vr = anvil.tile %v {repeats = array<i64: 1, 4, 1, 1>} : (tensor<1x1x5x8xf32>) -> tensor<1x4x5x8xf32>
  %kt = anvil.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x5x8xf32>) -> tensor<1x4x8x5xf32>
  %s = anvil.matmul %q, %kt : (tensor<1x4x3x8xf32>, tensor<1x4x8x5xf32>) -> tensor<1x4x3x5xf32>
  %sm = anvil.add %s, %mask : (tensor<1x4x3x5xf32>, tensor<1x1x3x5xf32>) -> tensor<1x4x3x5xf32>
  %ss = anvil.mul %sm, %c : (tensor<1x4x3x5xf32>, tensor<f32>) -> tensor<1x4x3x5xf32>
  %p = anvil.softmax %ss {axis = 3 : i64} : (tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %o = anvil.matmul %p, %vr : (tensor<1x4x3x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// torch's SDPA decomposition (the dynamo exporter): k^T computed on merged
// batch and heads, and NaN rows of the probabilities zeroed. k is the
// input of the merged reshape (here the same shape, so it folds away), and
// the zeroing moves to the output (a row whose every key is masked is NaN
// there).
// CHECK-LABEL: func.func @dynamo_sdpa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x3x8xf32>, %[[K:.*]]: tensor<1x2x5x8xf32>, %[[V:.*]]: tensor<1x2x5x8xf32>)
// CHECK: %[[O:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]] {scale = 0.353553355 : f32}
// CHECK: %[[NAN:.*]] = anvil.compare %[[O]], %[[O]] {predicate = #anvil<predicate ne>}
// CHECK: %[[Z:.*]] = anvil.where %[[NAN]], %{{.*}}, %[[O]]
// CHECK: return %[[Z]]
func.func @dynamo_sdpa(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>) -> tensor<1x2x3x8xf32> {
  %c = anvil.constant dense<0.594603539> : tensor<f32>
  %zero = anvil.constant dense<0.0> : tensor<f32>
  %merged = anvil.constant dense<[2, 5, 8]> : tensor<3xi64>
  %shape = anvil.constant dense<[1, 2, 8, 5]> : tensor<4xi64>
  %k3 = anvil.reshape %k, %merged : (tensor<1x2x5x8xf32>, tensor<3xi64>) -> tensor<2x5x8xf32>
  %kt3 = anvil.transpose %k3 {perm = array<i64: 0, 2, 1>} : (tensor<2x5x8xf32>) -> tensor<2x8x5xf32>
  %kt = anvil.reshape %kt3, %shape : (tensor<2x8x5xf32>, tensor<4xi64>) -> tensor<1x2x8x5xf32>
  %qs = anvil.mul %q, %c : (tensor<1x2x3x8xf32>, tensor<f32>) -> tensor<1x2x3x8xf32>
  %ks = anvil.mul %kt, %c : (tensor<1x2x8x5xf32>, tensor<f32>) -> tensor<1x2x8x5xf32>
  %s = anvil.matmul %qs, %ks : (tensor<1x2x3x8xf32>, tensor<1x2x8x5xf32>) -> tensor<1x2x3x5xf32>
  %p = anvil.softmax %s {axis = 3 : i64} : (tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %nan = anvil.compare %p, %p {predicate = #anvil<predicate ne>} : (tensor<1x2x3x5xf32>, tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xi1>
  %pz = anvil.where %nan, %zero, %p : (tensor<1x2x3x5xi1>, tensor<f32>, tensor<1x2x3x5xf32>) -> tensor<1x2x3x5xf32>
  %o = anvil.matmul %pz, %v : (tensor<1x2x3x5xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x3x8xf32>
  return %o : tensor<1x2x3x8xf32>
}

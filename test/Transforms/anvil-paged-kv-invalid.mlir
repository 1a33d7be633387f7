// RUN: anvil-opt %s -split-input-file -anvil-paged-kv -verify-diagnostics
// Decoders the paged-KV rewrite must refuse, each naming the op: it never
// compiles a model whose attention it cannot prove causal.

// A mask that shows every key (bidirectional attention).
func.func @main(%ids: tensor<1x17xi64> {anvil.name = "input_ids"}, %mask: tensor<1x46xi64> {anvil.name = "attention_mask"}, %pos: tensor<1x17xi64> {anvil.name = "position_ids"}, %pk: tensor<1x1x29x8xf32> {anvil.name = "past.0.key"}, %pv: tensor<1x1x29x8xf32> {anvil.name = "past.0.value"}) -> (tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>) {
  %emb = anvil.constant dense<0.5> : tensor<32x16xf32>
  %x = anvil.gather %emb, %ids {axis = 0 : i64} : (tensor<32x16xf32>, tensor<1x17xi64>) -> tensor<1x17x16xf32>
  %wq = anvil.constant dense<0.1> : tensor<16x16xf32>
  %q = anvil.matmul %x, %wq : (tensor<1x17x16xf32>, tensor<16x16xf32>) -> tensor<1x17x16xf32>
  %s4 = anvil.constant dense<[1, 17, 2, 8]> : tensor<4xi64>
  %q4 = anvil.reshape %q, %s4 : (tensor<1x17x16xf32>, tensor<4xi64>) -> tensor<1x17x2x8xf32>
  %qt = anvil.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x2x8xf32>) -> tensor<1x2x17x8xf32>
  %wk = anvil.constant dense<0.2> : tensor<16x8xf32>
  %k = anvil.matmul %x, %wk : (tensor<1x17x16xf32>, tensor<16x8xf32>) -> tensor<1x17x8xf32>
  %k1 = anvil.constant dense<[1, 17, 1, 8]> : tensor<4xi64>
  %k4 = anvil.reshape %k, %k1 : (tensor<1x17x8xf32>, tensor<4xi64>) -> tensor<1x17x1x8xf32>
  %kt = anvil.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x1x8xf32>) -> tensor<1x1x17x8xf32>
  %wv = anvil.constant dense<0.3> : tensor<16x8xf32>
  %v = anvil.matmul %x, %wv : (tensor<1x17x16xf32>, tensor<16x8xf32>) -> tensor<1x17x8xf32>
  %v4 = anvil.reshape %v, %k1 : (tensor<1x17x8xf32>, tensor<4xi64>) -> tensor<1x17x1x8xf32>
  %vt = anvil.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x1x8xf32>) -> tensor<1x1x17x8xf32>
  %kc = anvil.concat %pk, %kt {axis = 2 : i64} : (tensor<1x1x29x8xf32>, tensor<1x1x17x8xf32>) -> tensor<1x1x46x8xf32>
  %vc = anvil.concat %pv, %vt {axis = 2 : i64} : (tensor<1x1x29x8xf32>, tensor<1x1x17x8xf32>) -> tensor<1x1x46x8xf32>
  %fill = anvil.constant dense<-1.0e+30> : tensor<17x46xf32>
  %causal = anvil.constant dense<0.0> : tensor<17x46xf32>
  // expected-error @+1 {{lets query 0 see the later key 30: not a causal mask, so the decoder cannot be paged}}
  %o = anvil.attention %qt, %kc, %vc, %causal {scale = 0.35 : f32} : (tensor<1x2x17x8xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>, tensor<17x46xf32>) -> tensor<1x2x17x8xf32>
  %ot = anvil.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x17x8xf32>) -> tensor<1x17x2x8xf32>
  %s3 = anvil.constant dense<[1, 17, 16]> : tensor<3xi64>
  %o3 = anvil.reshape %ot, %s3 : (tensor<1x17x2x8xf32>, tensor<3xi64>) -> tensor<1x17x16xf32>
  %wo = anvil.constant dense<0.4> : tensor<16x32xf32>
  %logits = anvil.matmul %o3, %wo : (tensor<1x17x16xf32>, tensor<16x32xf32>) -> tensor<1x17x32xf32>
  return %logits, %kc, %vc : tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>
}

// -----
// A mask that adds a bias to visible scores (ALiBi-like).
func.func @main(%ids: tensor<1x17xi64> {anvil.name = "input_ids"}, %mask: tensor<1x46xi64> {anvil.name = "attention_mask"}, %pos: tensor<1x17xi64> {anvil.name = "position_ids"}, %pk: tensor<1x1x29x8xf32> {anvil.name = "past.0.key"}, %pv: tensor<1x1x29x8xf32> {anvil.name = "past.0.value"}) -> (tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>) {
  %emb = anvil.constant dense<0.5> : tensor<32x16xf32>
  %x = anvil.gather %emb, %ids {axis = 0 : i64} : (tensor<32x16xf32>, tensor<1x17xi64>) -> tensor<1x17x16xf32>
  %wq = anvil.constant dense<0.1> : tensor<16x16xf32>
  %q = anvil.matmul %x, %wq : (tensor<1x17x16xf32>, tensor<16x16xf32>) -> tensor<1x17x16xf32>
  %s4 = anvil.constant dense<[1, 17, 2, 8]> : tensor<4xi64>
  %q4 = anvil.reshape %q, %s4 : (tensor<1x17x16xf32>, tensor<4xi64>) -> tensor<1x17x2x8xf32>
  %qt = anvil.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x2x8xf32>) -> tensor<1x2x17x8xf32>
  %wk = anvil.constant dense<0.2> : tensor<16x8xf32>
  %k = anvil.matmul %x, %wk : (tensor<1x17x16xf32>, tensor<16x8xf32>) -> tensor<1x17x8xf32>
  %k1 = anvil.constant dense<[1, 17, 1, 8]> : tensor<4xi64>
  %k4 = anvil.reshape %k, %k1 : (tensor<1x17x8xf32>, tensor<4xi64>) -> tensor<1x17x1x8xf32>
  %kt = anvil.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x1x8xf32>) -> tensor<1x1x17x8xf32>
  %wv = anvil.constant dense<0.3> : tensor<16x8xf32>
  %v = anvil.matmul %x, %wv : (tensor<1x17x16xf32>, tensor<16x8xf32>) -> tensor<1x17x8xf32>
  %v4 = anvil.reshape %v, %k1 : (tensor<1x17x8xf32>, tensor<4xi64>) -> tensor<1x17x1x8xf32>
  %vt = anvil.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x1x8xf32>) -> tensor<1x1x17x8xf32>
  %kc = anvil.concat %pk, %kt {axis = 2 : i64} : (tensor<1x1x29x8xf32>, tensor<1x1x17x8xf32>) -> tensor<1x1x46x8xf32>
  %vc = anvil.concat %pv, %vt {axis = 2 : i64} : (tensor<1x1x29x8xf32>, tensor<1x1x17x8xf32>) -> tensor<1x1x46x8xf32>
  %fill = anvil.constant dense<-1.0e+30> : tensor<17x46xf32>
  %half = anvil.constant dense<0.5> : tensor<17x46xf32>
  %tri = anvil.trilu %fill {k = 30 : i64, upper = true} : (tensor<17x46xf32>) -> tensor<17x46xf32>
  %causal = anvil.add %tri, %half : (tensor<17x46xf32>, tensor<17x46xf32>) -> tensor<17x46xf32>
  // expected-error @+1 {{has a mask that adds 5.000000e-01 to a visible score (row 0, key 0); the paged-KV rewrite takes causal masks only}}
  %o = anvil.attention %qt, %kc, %vc, %causal {scale = 0.35 : f32} : (tensor<1x2x17x8xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>, tensor<17x46xf32>) -> tensor<1x2x17x8xf32>
  %ot = anvil.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x17x8xf32>) -> tensor<1x17x2x8xf32>
  %s3 = anvil.constant dense<[1, 17, 16]> : tensor<3xi64>
  %o3 = anvil.reshape %ot, %s3 : (tensor<1x17x2x8xf32>, tensor<3xi64>) -> tensor<1x17x16xf32>
  %wo = anvil.constant dense<0.4> : tensor<16x32xf32>
  %logits = anvil.matmul %o3, %wo : (tensor<1x17x16xf32>, tensor<16x32xf32>) -> tensor<1x17x32xf32>
  return %logits, %kc, %vc : tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>
}

// -----
// The key cache read without a concat with the past: nothing to page.
func.func @main(%ids: tensor<1x17xi64> {anvil.name = "input_ids"}, %mask: tensor<1x46xi64> {anvil.name = "attention_mask"}, %pos: tensor<1x17xi64> {anvil.name = "position_ids"}, %pk: tensor<1x1x29x8xf32> {anvil.name = "past.0.key"}, %pv: tensor<1x1x29x8xf32> {anvil.name = "past.0.value"}) -> (tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>) {
  %emb = anvil.constant dense<0.5> : tensor<32x16xf32>
  %x = anvil.gather %emb, %ids {axis = 0 : i64} : (tensor<32x16xf32>, tensor<1x17xi64>) -> tensor<1x17x16xf32>
  %wq = anvil.constant dense<0.1> : tensor<16x16xf32>
  %q = anvil.matmul %x, %wq : (tensor<1x17x16xf32>, tensor<16x16xf32>) -> tensor<1x17x16xf32>
  %s4 = anvil.constant dense<[1, 17, 2, 8]> : tensor<4xi64>
  %q4 = anvil.reshape %q, %s4 : (tensor<1x17x16xf32>, tensor<4xi64>) -> tensor<1x17x2x8xf32>
  %qt = anvil.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x2x8xf32>) -> tensor<1x2x17x8xf32>
  %wk = anvil.constant dense<0.2> : tensor<16x8xf32>
  %k = anvil.matmul %x, %wk : (tensor<1x17x16xf32>, tensor<16x8xf32>) -> tensor<1x17x8xf32>
  %k1 = anvil.constant dense<[1, 17, 1, 8]> : tensor<4xi64>
  %k4 = anvil.reshape %k, %k1 : (tensor<1x17x8xf32>, tensor<4xi64>) -> tensor<1x17x1x8xf32>
  %kt = anvil.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x1x8xf32>) -> tensor<1x1x17x8xf32>
  %wv = anvil.constant dense<0.3> : tensor<16x8xf32>
  %v = anvil.matmul %x, %wv : (tensor<1x17x16xf32>, tensor<16x8xf32>) -> tensor<1x17x8xf32>
  %v4 = anvil.reshape %v, %k1 : (tensor<1x17x8xf32>, tensor<4xi64>) -> tensor<1x17x1x8xf32>
  %vt = anvil.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x17x1x8xf32>) -> tensor<1x1x17x8xf32>
  %kc = anvil.concat %pk, %kt {axis = 2 : i64} : (tensor<1x1x29x8xf32>, tensor<1x1x17x8xf32>) -> tensor<1x1x46x8xf32>
  %kk = anvil.neg %kc : (tensor<1x1x46x8xf32>) -> tensor<1x1x46x8xf32>
  %vc = anvil.concat %pv, %vt {axis = 2 : i64} : (tensor<1x1x29x8xf32>, tensor<1x1x17x8xf32>) -> tensor<1x1x46x8xf32>
  %fill = anvil.constant dense<-1.0e+30> : tensor<17x46xf32>
  %causal = anvil.trilu %fill {k = 30 : i64, upper = true} : (tensor<17x46xf32>) -> tensor<17x46xf32>
  // expected-error @+1 {{reads its key from something other than a past-KV input concatenated with the new keys along the sequence axis}}
  %o = anvil.attention %qt, %kk, %vc, %causal {scale = 0.35 : f32} : (tensor<1x2x17x8xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>, tensor<17x46xf32>) -> tensor<1x2x17x8xf32>
  %ot = anvil.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x17x8xf32>) -> tensor<1x17x2x8xf32>
  %s3 = anvil.constant dense<[1, 17, 16]> : tensor<3xi64>
  %o3 = anvil.reshape %ot, %s3 : (tensor<1x17x2x8xf32>, tensor<3xi64>) -> tensor<1x17x16xf32>
  %wo = anvil.constant dense<0.4> : tensor<16x32xf32>
  %logits = anvil.matmul %o3, %wo : (tensor<1x17x16xf32>, tensor<16x32xf32>) -> tensor<1x17x32xf32>
  return %logits, %kc, %vc : tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>
}

// RUN: anvil-opt %s -split-input-file -anvil-paged-kv='max-context=64' -canonicalize | FileCheck %s
// A one-layer decoder at the proxy sizes (17 new tokens, 29 cached) with
// multi-query attention, its mask built by trilu: the KV concat becomes
// kv_write into in-out pools plus paged_attention, the mask is dropped, the
// logits are computed for the logit rows only, and the proxy token count
// becomes the bounded size `tokens`.

// CHECK: module attributes {anvil.llm = {block_size = 16 : i64, entry = "main", head_dim = 8 : i64, kv_heads = 1 : i64, max_context = 64 : i64
// CHECK-SAME: num_pools = 2 : i64, vocab_size = 32 : i64}}
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[TOK:.*]]: tensor<?xi64> {anvil.dim_names = ["tokens"], anvil.name = "token_ids"}
// CHECK-SAME: %[[POS:.*]]: tensor<?xi64> {anvil.dim_names = ["tokens"], anvil.name = "positions"}
// CHECK-SAME: %[[SEQ:.*]]: tensor<?xi32> {anvil.dim_names = ["tokens"], anvil.name = "seq_of_token"}
// CHECK-SAME: %[[SLOT:.*]]: tensor<?xi64> {anvil.dim_names = ["tokens"], anvil.name = "slot_mapping"}
// CHECK-SAME: %[[TABLES:.*]]: tensor<?x4xi32> {anvil.dim_names = ["seqs", ""], anvil.name = "block_tables"}
// CHECK-SAME: %[[LENS:.*]]: tensor<?xi32> {anvil.dim_names = ["seqs"], anvil.name = "context_lens"}
// CHECK-SAME: %[[ROWS:.*]]: tensor<?xi32> {anvil.dim_names = ["logit_rows"], anvil.name = "logit_rows"}
// CHECK-SAME: %[[KP:.*]]: tensor<?x16x1x8xf32> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.key", anvil.state}
// CHECK-SAME: %[[VP:.*]]: tensor<?x16x1x8xf32> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.value", anvil.state})
// CHECK-SAME: -> (tensor<?x32xf32> {anvil.name = "logits"})
// CHECK-SAME: anvil.sizes = [{max = 256 : i64, min = 1 : i64, name = "tokens"}, {max = 64 : i64, min = 1 : i64, name = "seqs"}, {max = 64 : i64, min = 1 : i64, name = "logit_rows"}, {max = 1048576 : i64, min = 1 : i64, name = "kv_blocks"}]
// CHECK-NOT: anvil.trilu
// CHECK-NOT: anvil.concat
// CHECK: %[[K:.*]] = anvil.kv_write %[[KP]], %{{.*}}, %[[SLOT]] : (tensor<?x16x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi64>) -> tensor<?x16x1x8xf32>
// CHECK: %[[V:.*]] = anvil.kv_write %[[VP]], %{{.*}}, %[[SLOT]]
// CHECK: %[[O:.*]] = anvil.paged_attention %{{.*}}, %[[K]], %[[V]], %[[TABLES]], %[[LENS]], %[[POS]], %[[SEQ]] {scale = 3.500000e-01 : f32} : (tensor<?x2x8xf32>
// CHECK: %[[PICK:.*]] = anvil.gather %{{.*}}, %[[ROWS]] {axis = 0 : i64} : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
// CHECK: %[[LOGITS:.*]] = anvil.matmul %[[PICK]], %{{.*}} : (tensor<?x16xf32>, tensor<16x32xf32>) -> tensor<?x32xf32>
// CHECK: return %[[LOGITS]] : tensor<?x32xf32>

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
  %causal = anvil.trilu %fill {k = 30 : i64, upper = true} : (tensor<17x46xf32>) -> tensor<17x46xf32>
  %o = anvil.attention %qt, %kc, %vc, %causal {scale = 0.35 : f32} : (tensor<1x2x17x8xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>, tensor<17x46xf32>) -> tensor<1x2x17x8xf32>
  %ot = anvil.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x17x8xf32>) -> tensor<1x17x2x8xf32>
  %s3 = anvil.constant dense<[1, 17, 16]> : tensor<3xi64>
  %o3 = anvil.reshape %ot, %s3 : (tensor<1x17x2x8xf32>, tensor<3xi64>) -> tensor<1x17x16xf32>
  %wo = anvil.constant dense<0.4> : tensor<16x32xf32>
  %logits = anvil.matmul %o3, %wo : (tensor<1x17x16xf32>, tensor<16x32xf32>) -> tensor<1x17x32xf32>
  return %logits, %kc, %vc : tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>
}

// -----
// A sliding-window mask (each query sees its last 8 keys) sets the layer's
// window.

// CHECK-LABEL: func.func @main(
// CHECK: anvil.paged_attention {{.*}} {scale = 3.500000e-01 : f32, window = 8 : i64}

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
  %upper = anvil.trilu %fill {k = 30 : i64, upper = true} : (tensor<17x46xf32>) -> tensor<17x46xf32>
  %lower = anvil.trilu %fill {k = 21 : i64, upper = false} : (tensor<17x46xf32>) -> tensor<17x46xf32>
  %causal = anvil.add %upper, %lower : (tensor<17x46xf32>, tensor<17x46xf32>) -> tensor<17x46xf32>
  %o = anvil.attention %qt, %kc, %vc, %causal {scale = 0.35 : f32} : (tensor<1x2x17x8xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>, tensor<17x46xf32>) -> tensor<1x2x17x8xf32>
  %ot = anvil.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x17x8xf32>) -> tensor<1x17x2x8xf32>
  %s3 = anvil.constant dense<[1, 17, 16]> : tensor<3xi64>
  %o3 = anvil.reshape %ot, %s3 : (tensor<1x17x2x8xf32>, tensor<3xi64>) -> tensor<1x17x16xf32>
  %wo = anvil.constant dense<0.4> : tensor<16x32xf32>
  %logits = anvil.matmul %o3, %wo : (tensor<1x17x16xf32>, tensor<16x32xf32>) -> tensor<1x17x32xf32>
  return %logits, %kc, %vc : tensor<1x17x32xf32>, tensor<1x1x46x8xf32>, tensor<1x1x46x8xf32>
}

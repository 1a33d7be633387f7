// RUN: anvil-opt %s -split-input-file -anvil-fuse-rope -canonicalize -cse | FileCheck %s
// A rope whose rotated rows only reach a paged attention's query or a KV
// write's rows (through a transpose that keeps the last dim and a reshape
// that keeps the last two) is folded into that op: the op takes the tables
// as [tokens, half] and the rows arrive unrotated, so the transposes
// cancel.

// The paged step of a Llama layer: the queries' rope into the attention,
// the keys' into their write; the tables of [1, 1, tokens, half] (broadcast
// over the heads) become [tokens, half].
// CHECK-LABEL: func.func @llama_layer
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x?x8x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x?x2x16xf32>, %[[COS:[a-z0-9]+]]: tensor<1x1x?x8xf32>, %[[SIN:[a-z0-9]+]]: tensor<1x1x?x8xf32>
// CHECK-NOT: anvil.rope
// CHECK-NOT: anvil.transpose
// CHECK-DAG: %[[C:.*]] = anvil.reshape %[[COS]], %{{.*}} : (tensor<1x1x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
// CHECK-DAG: %[[S:.*]] = anvil.reshape %[[SIN]], %{{.*}} : (tensor<1x1x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
// CHECK-DAG: %[[KR:.*]] = anvil.reshape %[[K]], %{{.*}} : (tensor<1x?x2x16xf32>, tensor<3xi64>) -> tensor<?x2x16xf32>
// CHECK: %[[KP:.*]] = anvil.kv_write %{{.*}}, %[[KR]], %{{.*}} rope(%[[C]], %[[S]]) :
// CHECK: %[[QR:.*]] = anvil.reshape %[[Q]], %{{.*}} : (tensor<1x?x8x16xf32>, tensor<3xi64>) -> tensor<?x8x16xf32>
// CHECK: anvil.paged_attention %[[QR]], %[[KP]], %{{.*}} rope(%[[C]], %[[S]]) {scale = 2.500000e-01 : f32}
func.func @llama_layer(%q: tensor<1x?x8x16xf32>, %k: tensor<1x?x2x16xf32>, %cos: tensor<1x1x?x8xf32>, %sin: tensor<1x1x?x8xf32>, %pool: tensor<64x16x2x16xf32>, %vpool: tensor<64x16x2x16xf32>, %slots: tensor<?xi64>, %bt: tensor<4x8xi32>, %cl: tensor<4xi32>, %pos: tensor<?xi64>, %seq: tensor<?xi32>) -> tensor<?x8x16xf32> {
  %s3q = anvil.constant dense<[-1, 8, 16]> : tensor<3xi64>
  %s3k = anvil.constant dense<[-1, 2, 16]> : tensor<3xi64>
  %kt = anvil.transpose %k {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x?x16xf32>
  %kr = anvil.rope %kt, %cos, %sin : (tensor<1x2x?x16xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x2x?x16xf32>
  %ku = anvil.transpose %kr {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x?x16xf32>) -> tensor<1x?x2x16xf32>
  %krows = anvil.reshape %ku, %s3k : (tensor<1x?x2x16xf32>, tensor<3xi64>) -> tensor<?x2x16xf32>
  %kp = anvil.kv_write %pool, %krows, %slots : (tensor<64x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf32>
  %qt = anvil.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x8x16xf32>) -> tensor<1x8x?x16xf32>
  %qr = anvil.rope %qt, %cos, %sin : (tensor<1x8x?x16xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x8x?x16xf32>
  %qu = anvil.transpose %qr {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x?x16xf32>) -> tensor<1x?x8x16xf32>
  %qrows = anvil.reshape %qu, %s3q : (tensor<1x?x8x16xf32>, tensor<3xi64>) -> tensor<?x8x16xf32>
  %o = anvil.paged_attention %qrows, %kp, %vpool, %bt, %cl, %pos, %seq {scale = 0.25 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
  return %o : tensor<?x8x16xf32>
}

// -----

// A rope already in the [tokens, heads, dim] layout (no transpose, no
// reshape), on adjacent pairs over the first 8 of 16 values, into an int8
// KV write: the attributes carry over, the scales stay.
// CHECK-LABEL: func.func @partial_interleaved_int8
// CHECK-NOT: anvil.rope
// CHECK: %[[C:.*]] = anvil.reshape %{{.*}} -> tensor<5x4xf32>
// CHECK: %[[S:.*]] = anvil.reshape %{{.*}} -> tensor<5x4xf32>
// CHECK: anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} rope(%[[C]], %[[S]]) {rope_dim = 8 : i64, rope_interleaved = true} : (tensor<64x16x2x16xi8>, tensor<5x2x16xf32>, tensor<5xi64>, tensor<64x16x2xf32>, tensor<5x4xf32>, tensor<5x4xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
func.func @partial_interleaved_int8(%k: tensor<5x2x16xf32>, %cos: tensor<5x1x4xf32>, %sin: tensor<5x1x4xf32>, %pool: tensor<64x16x2x16xi8>, %scales: tensor<64x16x2xf32>, %slots: tensor<5xi64>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>) {
  %kr = anvil.rope %k, %cos, %sin {interleaved = true, rotary_dim = 8 : i64} : (tensor<5x2x16xf32>, tensor<5x1x4xf32>, tensor<5x1x4xf32>) -> tensor<5x2x16xf32>
  %p, %s = anvil.kv_write %pool, %kr, %slots, %scales : (tensor<64x16x2x16xi8>, tensor<5x2x16xf32>, tensor<5xi64>, tensor<64x16x2xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
  return %p, %s : tensor<64x16x2x16xi8>, tensor<64x16x2xf32>
}

// -----

// Tables that differ per head cannot be one row per token: left alone.
// CHECK-LABEL: func.func @per_head_tables
// CHECK: anvil.rope
// CHECK: anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}} :
func.func @per_head_tables(%k: tensor<5x2x16xf32>, %cos: tensor<5x2x8xf32>, %sin: tensor<5x2x8xf32>, %pool: tensor<64x16x2x16xf32>, %slots: tensor<5xi64>) -> tensor<64x16x2x16xf32> {
  %kr = anvil.rope %k, %cos, %sin : (tensor<5x2x16xf32>, tensor<5x2x8xf32>, tensor<5x2x8xf32>) -> tensor<5x2x16xf32>
  %p = anvil.kv_write %pool, %kr, %slots : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xf32>
  return %p : tensor<64x16x2x16xf32>
}

// -----

// Tables shared by every token (broadcast over the tokens) are not one row
// per token either: left alone.
// CHECK-LABEL: func.func @position_broadcast
// CHECK: anvil.rope
// CHECK: anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}} :
func.func @position_broadcast(%k: tensor<5x2x16xf32>, %cos: tensor<1x1x8xf32>, %sin: tensor<1x1x8xf32>, %pool: tensor<64x16x2x16xf32>, %slots: tensor<5xi64>) -> tensor<64x16x2x16xf32> {
  %kr = anvil.rope %k, %cos, %sin : (tensor<5x2x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<5x2x16xf32>
  %p = anvil.kv_write %pool, %kr, %slots : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xf32>
  return %p : tensor<64x16x2x16xf32>
}

// -----

// The rotated keys are also returned: the rope stays for that reader, and
// the write keeps reading them.
// CHECK-LABEL: func.func @rotated_rows_returned
// CHECK: %[[R:.*]] = anvil.rope
// CHECK: anvil.kv_write %{{.*}}, %[[R]], %{{.*}} :
func.func @rotated_rows_returned(%k: tensor<5x2x16xf32>, %cos: tensor<5x1x8xf32>, %sin: tensor<5x1x8xf32>, %pool: tensor<64x16x2x16xf32>, %slots: tensor<5xi64>) -> (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>) {
  %kr = anvil.rope %k, %cos, %sin : (tensor<5x2x16xf32>, tensor<5x1x8xf32>, tensor<5x1x8xf32>) -> tensor<5x2x16xf32>
  %p = anvil.kv_write %pool, %kr, %slots : (tensor<64x16x2x16xf32>, tensor<5x2x16xf32>, tensor<5xi64>) -> tensor<64x16x2x16xf32>
  return %p, %kr : tensor<64x16x2x16xf32>, tensor<5x2x16xf32>
}

// -----

// A transpose that moves the token dim past a non-unit table dim would
// reorder the table rows: [1, 3, 5, 16] rows over (a, t) become (t, a)
// rows, and the tables vary over both. Left alone.
// CHECK-LABEL: func.func @reordered_rows
// CHECK: anvil.rope
// CHECK: anvil.paged_attention %{{.*}} {scale
func.func @reordered_rows(%x: tensor<5x3x2x16xf32>, %cos: tensor<5x3x1x8xf32>, %sin: tensor<5x3x1x8xf32>, %kp: tensor<64x16x2x16xf32>, %bt: tensor<4x8xi32>, %cl: tensor<4xi32>, %pos: tensor<15xi64>, %seq: tensor<15xi32>) -> tensor<15x2x16xf32> {
  %r = anvil.rope %x, %cos, %sin : (tensor<5x3x2x16xf32>, tensor<5x3x1x8xf32>, tensor<5x3x1x8xf32>) -> tensor<5x3x2x16xf32>
  %t = anvil.transpose %r {perm = array<i64: 1, 0, 2, 3>} : (tensor<5x3x2x16xf32>) -> tensor<3x5x2x16xf32>
  %s3 = anvil.constant dense<[15, 2, 16]> : tensor<3xi64>
  %q = anvil.reshape %t, %s3 : (tensor<3x5x2x16xf32>, tensor<3xi64>) -> tensor<15x2x16xf32>
  %o = anvil.paged_attention %q, %kp, %kp, %bt, %cl, %pos, %seq {scale = 0.25 : f32} : (tensor<15x2x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<15xi64>, tensor<15xi32>) -> tensor<15x2x16xf32>
  return %o : tensor<15x2x16xf32>
}

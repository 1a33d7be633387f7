// RUN: anvil-opt %s -anvil-paged-kv='max-context=64 kv-dtype=f16' -canonicalize | FileCheck %s --check-prefix=F16
// RUN: anvil-opt %s -anvil-paged-kv='max-context=64 kv-dtype=f32' -canonicalize | FileCheck %s --check-prefix=F32
// RUN: anvil-opt %s -anvil-paged-kv='max-context=64' -canonicalize | FileCheck %s --check-prefix=F32
// RUN: anvil-opt %s -anvil-paged-kv='max-context=64 kv-dtype=int8' -canonicalize | FileCheck %s --check-prefix=INT8
// RUN: not anvil-opt %s -anvil-paged-kv='kv-dtype=i8' 2>&1 | FileCheck %s --check-prefix=BAD
// kv-dtype sets the pools' element type: with f16 an f32 decoder writes its
// f32 K/V rows into f16 pools (kv_write rounds) and paged_attention reads
// them under f32 queries, returning f32; the rest of the step is unchanged.
// The default keeps the model's type. With int8 the pools are i8 and each
// has an f32 scale state [kv_blocks, block_size, kv_heads] after every
// pool; kv_write takes the pool's scales and returns both, and
// paged_attention reads the scales kv_write returned (not the state
// argument), so the write stays ordered before the read.

// F16-LABEL: func.func @main(
// F16-SAME: %[[KP:arg[0-9]+]]: tensor<?x16x1x8xf16> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.key", anvil.state}
// F16-SAME: %[[VP:arg[0-9]+]]: tensor<?x16x1x8xf16> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.value", anvil.state})
// F16-SAME: -> (tensor<?x32xf32> {anvil.name = "logits"})
// F16: %[[K:.*]] = anvil.kv_write %[[KP]], %{{.*}}, %{{.*}} : (tensor<?x16x1x8xf16>, tensor<?x1x8xf32>, tensor<?xi64>) -> tensor<?x16x1x8xf16>
// F16: %[[V:.*]] = anvil.kv_write %[[VP]], %{{.*}}, %{{.*}} : (tensor<?x16x1x8xf16>, tensor<?x1x8xf32>, tensor<?xi64>) -> tensor<?x16x1x8xf16>
// F16: anvil.paged_attention %{{.*}}, %[[K]], %[[V]], {{.*}} : (tensor<?x2x8xf32>, tensor<?x16x1x8xf16>, tensor<?x16x1x8xf16>, {{.*}}) -> tensor<?x2x8xf32>
// F16-NOT: xf16>

// F32-LABEL: func.func @main(
// F32-SAME: %[[KP:arg[0-9]+]]: tensor<?x16x1x8xf32> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.key", anvil.state}
// F32: anvil.kv_write %[[KP]], %{{.*}}, %{{.*}} : (tensor<?x16x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi64>) -> tensor<?x16x1x8xf32>
// F32-NOT: f16

// INT8-LABEL: func.func @main(
// INT8-SAME: %[[KP:arg[0-9]+]]: tensor<?x16x1x8xi8> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.key", anvil.state}
// INT8-SAME: %[[VP:arg[0-9]+]]: tensor<?x16x1x8xi8> {anvil.dim_names = ["kv_blocks", "", "", ""], anvil.name = "kv_pool.past.0.value", anvil.state}
// INT8-SAME: %[[KS:arg[0-9]+]]: tensor<?x16x1xf32> {anvil.dim_names = ["kv_blocks", "", ""], anvil.name = "kv_scales.past.0.key", anvil.state}
// INT8-SAME: %[[VS:arg[0-9]+]]: tensor<?x16x1xf32> {anvil.dim_names = ["kv_blocks", "", ""], anvil.name = "kv_scales.past.0.value", anvil.state})
// INT8-SAME: -> (tensor<?x32xf32> {anvil.name = "logits"})
// INT8: %[[K:.*]], %[[KN:.*]] = anvil.kv_write %[[KP]], %{{.*}}, %{{.*}}, %[[KS]] : (tensor<?x16x1x8xi8>, tensor<?x1x8xf32>, tensor<?xi64>, tensor<?x16x1xf32>) -> (tensor<?x16x1x8xi8>, tensor<?x16x1xf32>)
// INT8: %[[V:.*]], %[[VN:.*]] = anvil.kv_write %[[VP]], %{{.*}}, %{{.*}}, %[[VS]] : (tensor<?x16x1x8xi8>, tensor<?x1x8xf32>, tensor<?xi64>, tensor<?x16x1xf32>) -> (tensor<?x16x1x8xi8>, tensor<?x16x1xf32>)
// INT8: anvil.paged_attention %{{.*}}, %[[K]], %[[V]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} scales(%[[KN]], %[[VN]]) {scale = 3.500000e-01 : f32} : (tensor<?x2x8xf32>, tensor<?x16x1x8xi8>, tensor<?x16x1x8xi8>, tensor<?x4xi32>, tensor<?xi32>, tensor<?xi64>, tensor<?xi32>, tensor<?x16x1xf32>, tensor<?x16x1xf32>) -> tensor<?x2x8xf32>
// INT8-NOT: f16

// BAD: error: anvil-paged-kv: kv-dtype must be f32, f16 or int8, not 'i8'

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

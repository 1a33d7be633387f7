// RUN: anvil-opt %s | anvil-opt | FileCheck %s
// Every op parses, verifies and prints back.

// CHECK-LABEL: func.func @shape_ops
func.func @shape_ops(%x: tensor<2x3x4xf32>, %i: tensor<2xi64>, %ge_idx: tensor<2x2x4xi64>) -> tensor<6x4xf32> {
  // CHECK: anvil.constant dense<[6, 4]> : tensor<2xi64>
  %shape = anvil.constant dense<[6, 4]> : tensor<2xi64>
  // CHECK: anvil.shape_of %{{.*}} {end = 2 : i64, start = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<1xi64>
  %s = anvil.shape_of %x {start = 1 : i64, end = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<1xi64>
  // CHECK: anvil.transpose %{{.*}} {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %t = anvil.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK: anvil.gather %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x2x4xf32>
  %g = anvil.gather %x, %i {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x2x4xf32>
  // CHECK: anvil.unsqueeze %{{.*}} {axes = array<i64: 0, 4>} : (tensor<2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %u = anvil.unsqueeze %x {axes = array<i64: 0, 4>} : (tensor<2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  // CHECK: anvil.squeeze %{{.*}} {axes = array<i64: 0>} : (tensor<1x2x3x4x1xf32>) -> tensor<2x3x4x1xf32>
  %q = anvil.squeeze %u {axes = array<i64: 0>} : (tensor<1x2x3x4x1xf32>) -> tensor<2x3x4x1xf32>
  // CHECK: anvil.split %{{.*}} {axis = 2 : i64, sizes = array<i64: 1, 3>} : (tensor<2x3x4xf32>) -> (tensor<2x3x1xf32>, tensor<2x3x3xf32>)
  %a, %b = anvil.split %x {axis = 2 : i64, sizes = array<i64: 1, 3>} : (tensor<2x3x4xf32>) -> (tensor<2x3x1xf32>, tensor<2x3x3xf32>)
  // CHECK: anvil.concat %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<2x3x1xf32>, tensor<2x3x3xf32>) -> tensor<2x3x4xf32>
  %c = anvil.concat %a, %b {axis = 2 : i64} : (tensor<2x3x1xf32>, tensor<2x3x3xf32>) -> tensor<2x3x4xf32>
  // CHECK: anvil.pad %{{.*}} {mode = "reflect", pads = array<i64: 0, 1, 1, 0, 1, 1>, value = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
  %pd = anvil.pad %x {mode = "reflect", pads = array<i64: 0, 1, 1, 0, 1, 1>, value = 0.0 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
  // CHECK: anvil.tile %{{.*}} {repeats = array<i64: 1, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  %tl = anvil.tile %x {repeats = array<i64: 1, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  // CHECK: anvil.cumsum %{{.*}} {axis = 2 : i64, exclusive = true, reverse = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %cs = anvil.cumsum %x {axis = 2 : i64, exclusive = true, reverse = false} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: anvil.gather_elements %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x2x4xi64>) -> tensor<2x2x4xf32>
  %ge = anvil.gather_elements %x, %ge_idx {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x2x4xi64>) -> tensor<2x2x4xf32>
  // CHECK: anvil.flatten %{{.*}} {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  %f = anvil.flatten %c {axis = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
  // CHECK: anvil.reshape %{{.*}}, %{{.*}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %r = anvil.reshape %x, %shape : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  return %r : tensor<6x4xf32>
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<2x1xf32>, %b: tensor<3xf32>, %n: tensor<?x3xi64>) -> tensor<2x3xi1> {
  // CHECK: anvil.add %{{.*}}, %{{.*}} : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = anvil.add %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: anvil.gelu %{{.*}} {approximation = #anvil<gelu_approximation tanh>}
  %1 = anvil.gelu %0 {approximation = #anvil<gelu_approximation tanh>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: anvil.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
  %2 = anvil.clip %1 {min = 0.0 : f64, max = 6.0 : f64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: anvil.compare %{{.*}}, %{{.*}} {predicate = #anvil<predicate lt>} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %3 = anvil.compare %2, %b {predicate = #anvil<predicate lt>} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: anvil.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = anvil.where %3, %2, %b : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: anvil.cast %{{.*}} : (tensor<?x3xi64>) -> tensor<?x3xf32>
  %5 = anvil.cast %n : (tensor<?x3xi64>) -> tensor<?x3xf32>
  return %3 : tensor<2x3xi1>
}

// CHECK-LABEL: func.func @transformer_ops
func.func @transformer_ops(%x: tensor<1x?x64xf32>, %g: tensor<64xf32>,
                           %w: tensor<256x64xf32>, %q: tensor<1x8x?x16xf32>,
                           %k: tensor<1x2x?x16xf32>, %cos: tensor<1x1x?x8xf32>) -> tensor<1x8x?x16xf32> {
  // CHECK: anvil.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32}
  %n = anvil.rms_norm %x, %g {epsilon = 1.0e-06 : f32} : (tensor<1x?x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
  // CHECK: anvil.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64, epsilon = 9.99999974E-6 : f32}
  %l = anvil.layer_norm %x, %g, %g {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
  // CHECK: anvil.matmul %{{.*}}, %{{.*}} {transpose_rhs = true} : (tensor<1x?x64xf32>, tensor<256x64xf32>) -> tensor<1x?x256xf32>
  %m = anvil.matmul %n, %w {transpose_rhs = true} : (tensor<1x?x64xf32>, tensor<256x64xf32>) -> tensor<1x?x256xf32>
  // CHECK: anvil.silu
  %s = anvil.silu %m : (tensor<1x?x256xf32>) -> tensor<1x?x256xf32>
  // CHECK: anvil.softmax %{{.*}} {axis = 2 : i64} :
  %p = anvil.softmax %s {axis = 2 : i64, log = false} : (tensor<1x?x256xf32>) -> tensor<1x?x256xf32>
  // CHECK: anvil.reduce %{{.*}} {axes = array<i64: 2>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<1x?x256xf32>) -> tensor<1x?x1xf32>
  %r = anvil.reduce %p {axes = array<i64: 2>, keepdims = true, kind = #anvil<reduce mean>} : (tensor<1x?x256xf32>) -> tensor<1x?x1xf32>
  // CHECK: anvil.argmin %{{.*}} {axis = 2 : i64, keepdims = false, select_last_index = true} : (tensor<1x?x256xf32>) -> tensor<1x?xi64>
  %am = anvil.argmin %p {axis = 2 : i64, keepdims = false, select_last_index = true} : (tensor<1x?x256xf32>) -> tensor<1x?xi64>
  // CHECK: anvil.rope %{{.*}}, %{{.*}}, %{{.*}} :
  %qr = anvil.rope %q, %cos, %cos {interleaved = false} : (tensor<1x8x?x16xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32>) -> tensor<1x8x?x16xf32>
  // CHECK: anvil.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, scale = 2.500000e-01 : f32} : (tensor<1x8x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x8x?x16xf32>
  %o = anvil.attention %qr, %k, %k {causal = true, scale = 0.25 : f32} : (tensor<1x8x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>) -> tensor<1x8x?x16xf32>
  return %o : tensor<1x8x?x16xf32>
}

// CHECK-LABEL: func.func @cnn_ops
func.func @cnn_ops(%x: tensor<?x3x32x32xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>) -> tensor<?x16x16x16xf32> {
  // CHECK: anvil.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<?x16x32x32xf32>
  %c = anvil.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<?x16x32x32xf32>
  // CHECK: anvil.pool %{{.*}} {ceil_mode = false, count_include_pad = false, kernel = array<i64: 3, 3>, kind = #anvil<pool max>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x16x32x32xf32>) -> tensor<?x16x16x16xf32>
  %p = anvil.pool %c {ceil_mode = false, count_include_pad = false, kernel = array<i64: 3, 3>, kind = #anvil<pool max>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x16x32x32xf32>) -> tensor<?x16x16x16xf32>
  return %p : tensor<?x16x16x16xf32>
}

// CHECK-LABEL: func.func @conv_integer
func.func @conv_integer(%x: tensor<?x16x8x8xui8>, %w: tensor<32x8x3x3xi8>, %xz: tensor<ui8>, %xi: tensor<1x4x5xi8>, %wi: tensor<6x4x3xi8>, %xiz: tensor<1xi8>) -> (tensor<?x32x4x8xi32>, tensor<1x6x5xi32>) {
  // CHECK: anvil.conv_integer %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 1>} : (tensor<?x16x8x8xui8>, tensor<32x8x3x3xi8>, tensor<ui8>) -> tensor<?x32x4x8xi32>
  %y = anvil.conv_integer %x, %w, %xz {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 1>} : (tensor<?x16x8x8xui8>, tensor<32x8x3x3xi8>, tensor<ui8>) -> tensor<?x32x4x8xi32>
  // CHECK: anvil.conv_integer {{.*}} : (tensor<1x4x5xi8>, tensor<6x4x3xi8>, tensor<1xi8>) -> tensor<1x6x5xi32>
  %z = anvil.conv_integer %xi, %wi, %xiz {dilations = array<i64: 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<1x4x5xi8>, tensor<6x4x3xi8>, tensor<1xi8>) -> tensor<1x6x5xi32>
  return %y, %z : tensor<?x32x4x8xi32>, tensor<1x6x5xi32>
}

// CHECK-LABEL: func.func @quant_ops
func.func @quant_ops(%q: tensor<64x16xui8>, %s: tensor<16xf32>, %zp: tensor<16xui8>,
                     %q4: tensor<16x32xui8>, %s4: tensor<16x2xf16>, %z4: tensor<16x2xi8>,
                     %odd: tensor<3xui8>, %st: tensor<f32>, %x: tensor<4x64xf32>,
                     %xs: tensor<4x2xf32>, %a: tensor<4x64xui8>, %b: tensor<64x16xi8>) -> tensor<4x16xi32> {
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, bits = 8 : i64} : (tensor<64x16xui8>, tensor<16xf32>, tensor<16xui8>) -> tensor<64x16xf32>
  %w = anvil.dequantize %q, %s, %zp {axis = 1 : i64, bits = 8 : i64} : (tensor<64x16xui8>, tensor<16xf32>, tensor<16xui8>) -> tensor<64x16xf32>
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<16x32xui8>, tensor<16x2xf16>, tensor<16x2xi8>) -> tensor<16x64xf16>
  %v = anvil.dequantize %q4, %s4, %z4 {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<16x32xui8>, tensor<16x2xf16>, tensor<16x2xi8>) -> tensor<16x64xf16>
  // CHECK: anvil.dequantize %{{.*}}, %{{.*}} {bits = 4 : i64, last_dim = 5 : i64} : (tensor<3xui8>, tensor<f32>) -> tensor<5xf32>
  %o = anvil.dequantize %odd, %st {bits = 4 : i64, last_dim = 5 : i64} : (tensor<3xui8>, tensor<f32>) -> tensor<5xf32>
  // CHECK: anvil.quantize %{{.*}}, %{{.*}} {bits = 8 : i64} : (tensor<4x64xf32>, tensor<f32>) -> tensor<4x64xi8>
  %q8 = anvil.quantize %x, %st {bits = 8 : i64} : (tensor<4x64xf32>, tensor<f32>) -> tensor<4x64xi8>
  // CHECK: anvil.quantize %{{.*}}, %{{.*}} {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<4x64xf32>, tensor<4x2xf32>) -> tensor<4x32xui8>
  %p4 = anvil.quantize %x, %xs {axis = 1 : i64, bits = 4 : i64, block_size = 32 : i64, is_signed = true} : (tensor<4x64xf32>, tensor<4x2xf32>) -> tensor<4x32xui8>
  // CHECK: anvil.quantize_per_token %{{.*}} : (tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x1xf32>)
  %t, %ts = anvil.quantize_per_token %x : (tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x1xf32>)
  // CHECK: anvil.matmul %{{.*}}, %{{.*}} : (tensor<4x64xi8>, tensor<64x16xi8>) -> tensor<4x16xi32>
  %ti = anvil.matmul %t, %b : (tensor<4x64xi8>, tensor<64x16xi8>) -> tensor<4x16xi32>
  // CHECK: anvil.matmul %{{.*}}, %{{.*}} : (tensor<4x64xf32>, tensor<64x16xf16>) -> tensor<4x16xf32>
  %wh = anvil.cast %w : (tensor<64x16xf32>) -> tensor<64x16xf16>
  %mf = anvil.matmul %x, %wh : (tensor<4x64xf32>, tensor<64x16xf16>) -> tensor<4x16xf32>
  // CHECK: anvil.matmul %{{.*}}, %{{.*}} : (tensor<4x64xui8>, tensor<64x16xi8>) -> tensor<4x16xi32>
  %m = anvil.matmul %a, %b : (tensor<4x64xui8>, tensor<64x16xi8>) -> tensor<4x16xi32>
  return %m : tensor<4x16xi32>
}

// The ops a paged-KV decoder step needs, and the rope / rms_norm options.
// CHECK-LABEL: func.func @engine_ops
func.func @engine_ops(%q: tensor<?x8x16xf32>, %kp: tensor<64x16x2x16xf32>,
                      %vp: tensor<64x16x2x16xf32>, %hkp: tensor<64x16x2x16xf16>,
                      %qkp: tensor<64x16x2x16xi8>, %qksc: tensor<64x16x2xf32>,
                      %k: tensor<?x2x16xf32>,
                      %slots: tensor<?xi64>, %tables: tensor<4x8xi32>,
                      %lens: tensor<4xi32>, %pos: tensor<?xi64>,
                      %seq: tensor<?xi32>, %sinks: tensor<8xf32>,
                      %x: tensor<4x5x8xf32>, %idx: tensor<3x2xi64>,
                      %rows: tensor<4x1xi64>, %h: tensor<1x?x64xf32>,
                      %g: tensor<64xf32>, %c4: tensor<1x1x?x4xf32>,
                      %qh: tensor<1x8x?x16xf32>, %rc: tensor<?x4xf32>,
                      %rs: tensor<?x4xf32>) -> (tensor<?x8x16xf32>, tensor<?x8x16xf32>) {
  // CHECK: anvil.gather_nd %{{.*}}, %{{.*}} : (tensor<4x5x8xf32>, tensor<3x2xi64>) -> tensor<3x8xf32>
  %g0 = anvil.gather_nd %x, %idx {batch_dims = 0 : i64} : (tensor<4x5x8xf32>, tensor<3x2xi64>) -> tensor<3x8xf32>
  // CHECK: anvil.gather_nd %{{.*}}, %{{.*}} {batch_dims = 1 : i64} : (tensor<4x5x8xf32>, tensor<4x1xi64>) -> tensor<4x8xf32>
  %g1 = anvil.gather_nd %x, %rows {batch_dims = 1 : i64} : (tensor<4x5x8xf32>, tensor<4x1xi64>) -> tensor<4x8xf32>
  // CHECK: anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}} : (tensor<64x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf32>
  %kp2 = anvil.kv_write %kp, %k, %slots : (tensor<64x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf32>
  // CHECK: anvil.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
  %o = anvil.paged_attention %q, %kp2, %vp, %tables, %lens, %pos, %seq {scale = 0.25 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
  // CHECK: anvil.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f32, softcap = 5.000000e+01 : f32, window = 4096 : i64} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>, tensor<8xf32>) -> tensor<?x8x16xf32>
  %o2 = anvil.paged_attention %q, %kp2, %vp, %tables, %lens, %pos, %seq, %sinks {scale = 0.25 : f32, window = 4096 : i64, softcap = 50.0 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf32>, tensor<64x16x2x16xf32>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>, tensor<8xf32>) -> tensor<?x8x16xf32>
  // A 16-bit KV cache of an f32 model: f16 pools, f32 rows, queries and result.
  // CHECK: anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}} : (tensor<64x16x2x16xf16>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf16>
  %hk = anvil.kv_write %hkp, %k, %slots : (tensor<64x16x2x16xf16>, tensor<?x2x16xf32>, tensor<?xi64>) -> tensor<64x16x2x16xf16>
  // CHECK: anvil.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {scale = 2.500000e-01 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf16>, tensor<64x16x2x16xf16>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
  %ho = anvil.paged_attention %q, %hk, %hk, %tables, %lens, %pos, %seq {scale = 0.25 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xf16>, tensor<64x16x2x16xf16>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>) -> tensor<?x8x16xf32>
  // An int8 KV cache: i8 pools, f32 scales per slot and KV head, which
  // kv_write returns updated and paged_attention reads.
  // CHECK: %{{.*}}, %{{.*}} = anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<64x16x2x16xi8>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<64x16x2xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
  %qk, %qks = anvil.kv_write %qkp, %k, %slots, %qksc : (tensor<64x16x2x16xi8>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<64x16x2xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
  // CHECK: anvil.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} scales(%{{.*}}, %{{.*}}) {scale = 2.500000e-01 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xi8>, tensor<64x16x2x16xi8>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>, tensor<64x16x2xf32>, tensor<64x16x2xf32>) -> tensor<?x8x16xf32>
  %qo = anvil.paged_attention %q, %qk, %qk, %tables, %lens, %pos, %seq scales(%qks, %qks) {scale = 0.25 : f32} : (tensor<?x8x16xf32>, tensor<64x16x2x16xi8>, tensor<64x16x2x16xi8>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>, tensor<64x16x2xf32>, tensor<64x16x2xf32>) -> tensor<?x8x16xf32>
  // A rope folded into an int8 KV write and the attention: [tokens, half]
  // tables by keyword, after the scales.
  // CHECK: %{{.*}}, %{{.*}} = anvil.kv_write %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} rope(%{{.*}}, %{{.*}}) {rope_dim = 8 : i64, rope_interleaved = true} : (tensor<64x16x2x16xi8>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<64x16x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
  %rk, %rks = anvil.kv_write %qkp, %k, %slots, %qksc rope(%rc, %rs) {rope_dim = 8 : i64, rope_interleaved = true} : (tensor<64x16x2x16xi8>, tensor<?x2x16xf32>, tensor<?xi64>, tensor<64x16x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> (tensor<64x16x2x16xi8>, tensor<64x16x2xf32>)
  // CHECK: anvil.paged_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} scales(%{{.*}}, %{{.*}}) rope(%{{.*}}, %{{.*}}) {rope_dim = 8 : i64, rope_interleaved = true, scale = 2.500000e-01 : f32}
  %ro = anvil.paged_attention %q, %rk, %rk, %tables, %lens, %pos, %seq scales(%rks, %rks) rope(%rc, %rs) {scale = 0.25 : f32, rope_dim = 8 : i64, rope_interleaved = true} : (tensor<?x8x16xf32>, tensor<64x16x2x16xi8>, tensor<64x16x2x16xi8>, tensor<4x8xi32>, tensor<4xi32>, tensor<?xi64>, tensor<?xi32>, tensor<64x16x2xf32>, tensor<64x16x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8x16xf32>
  // CHECK: anvil.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32, unit_offset = true}
  %n = anvil.rms_norm %h, %g {epsilon = 1.0e-06 : f32, unit_offset = true} : (tensor<1x?x64xf32>, tensor<64xf32>) -> tensor<1x?x64xf32>
  // CHECK: anvil.rope %{{.*}}, %{{.*}}, %{{.*}} {rotary_dim = 8 : i64} : (tensor<1x8x?x16xf32>, tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>) -> tensor<1x8x?x16xf32>
  %r = anvil.rope %qh, %c4, %c4 {rotary_dim = 8 : i64} : (tensor<1x8x?x16xf32>, tensor<1x1x?x4xf32>, tensor<1x1x?x4xf32>) -> tensor<1x8x?x16xf32>
  return %o, %o2 : tensor<?x8x16xf32>, tensor<?x8x16xf32>
}

// CHECK-LABEL: func.func @composites
func.func @composites(%q: tensor<?x4x?x8xf32>, %k: tensor<?x2x?x8xf32>, %pk: tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32> {
  // CHECK: anvil.onnx_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {is_causal = true, operand_segment_sizes = array<i32: 1, 1, 1, 0, 1>} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32>
  %y = anvil.onnx_attention %q, %k, %k, %pk {is_causal = true, operand_segment_sizes = array<i32: 1, 1, 1, 0, 1>} : (tensor<?x4x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>, tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32>
  return %y : tensor<?x4x?x8xf32>
}

// RUN: anvil-opt %s -split-input-file -canonicalize | FileCheck %s
// Op folders (constant evaluation of small tensors, trivial identities) and
// the canonicalizer's dead-code elimination. Expected values are worked out
// by hand from the ONNX operator definitions.

// CHECK-LABEL: func.func @shape_chain
// CHECK-NEXT: %[[C:.*]] = anvil.constant dense<[2, 12]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]]
func.func @shape_chain(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  %s = anvil.shape_of %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i0 = anvil.constant dense<0> : tensor<i64>
  %d0 = anvil.gather %s, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %u0 = anvil.unsqueeze %d0 {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %st = anvil.constant dense<1> : tensor<1xi64>
  %en = anvil.constant dense<3> : tensor<1xi64>
  %ax = anvil.constant dense<0> : tensor<1xi64>
  %sp = anvil.constant dense<1> : tensor<1xi64>
  %tail = anvil.slice %s, %st, %en, %ax, %sp : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %prod = anvil.reduce %tail {axes = array<i64: 0>, keepdims = true, kind = #anvil<reduce prod>} : (tensor<2xi64>) -> tensor<1xi64>
  %o5 = anvil.concat %u0, %prod {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %o5 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @identities
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = anvil.constant dense<0.0> : tensor<f32>
  %one = anvil.constant dense<1.0> : tensor<3xf32>
  %a = anvil.add %x, %zero : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %b = anvil.mul %a, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %c = anvil.transpose %b {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %d = anvil.div %c, %one : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %dead = anvil.exp %d : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// Adding zero that broadcasts to a bigger shape is not the identity.
// CHECK-LABEL: func.func @broadcasting_add_stays
// CHECK: anvil.add
func.func @broadcasting_add_stays(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %zero = anvil.constant dense<0.0> : tensor<2x3xf32>
  %a = anvil.add %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %a : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @causal_mask_pieces
// CHECK-DAG: anvil.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK-DAG: anvil.constant dense<{{\[}}[false, true, true], [false, false, true]]> : tensor<2x3xi1>
// CHECK-DAG: anvil.constant dense<0.000000e+00> : tensor<2x2xf32>
// CHECK-DAG: anvil.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-NOT: anvil.range
// CHECK-NOT: anvil.compare
// CHECK-NOT: anvil.fill
// CHECK-NOT: anvil.transpose
func.func @causal_mask_pieces() -> (tensor<4xi64>, tensor<2x3xi1>, tensor<2x2xf32>, tensor<3x2xi64>) {
  %s = anvil.constant dense<0> : tensor<i64>
  %l = anvil.constant dense<4> : tensor<i64>
  %d = anvil.constant dense<1> : tensor<i64>
  %r = anvil.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %rows = anvil.constant dense<[[0], [1]]> : tensor<2x1xi64>
  %cols = anvil.constant dense<[0, 1, 2]> : tensor<3xi64>
  %m = anvil.compare %cols, %rows {predicate = #anvil<predicate gt>} : (tensor<3xi64>, tensor<2x1xi64>) -> tensor<2x3xi1>
  %shape = anvil.constant dense<[2, 2]> : tensor<2xi64>
  %z = anvil.fill %shape {value = dense<0.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<2x2xf32>
  %t0 = anvil.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %t = anvil.transpose %t0 {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  return %r, %m, %z, %t : tensor<4xi64>, tensor<2x3xi1>, tensor<2x2xf32>, tensor<3x2xi64>
}

// -----

// ONNX Slice clamps out-of-range bounds; negative steps walk backwards.
// CHECK-LABEL: func.func @slices
// CHECK-DAG: anvil.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-DAG: anvil.constant dense<[4, 2]> : tensor<2xi64>
func.func @slices() -> (tensor<2xi64>, tensor<2xi64>) {
  %v = anvil.constant dense<[0, 1, 2, 3, 4]> : tensor<5xi64>
  %ax = anvil.constant dense<0> : tensor<1xi64>
  %s1 = anvil.constant dense<-2> : tensor<1xi64>
  %e1 = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %p1 = anvil.constant dense<1> : tensor<1xi64>
  %a = anvil.slice %v, %s1, %e1, %ax, %p1 : (tensor<5xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %s2 = anvil.constant dense<100> : tensor<1xi64>
  %e2 = anvil.constant dense<0> : tensor<1xi64>
  %p2 = anvil.constant dense<-2> : tensor<1xi64>
  %b = anvil.slice %v, %s2, %e2, %ax, %p2 : (tensor<5xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %a, %b : tensor<2xi64>, tensor<2xi64>
}

// -----

// Integer Mod takes the divisor's sign (Python %); fmod the dividend's.
// CHECK-LABEL: func.func @mod_and_cast
// CHECK-DAG: anvil.constant dense<[2, -2, 1]> : tensor<3xi64>
// CHECK-DAG: anvil.constant dense<[-1, 1, 1]> : tensor<3xi64>
// CHECK-DAG: anvil.constant dense<[2.500000e+00, -1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: anvil.constant dense<[2, -1]> : tensor<2xi32>
func.func @mod_and_cast() -> (tensor<3xi64>, tensor<3xi64>, tensor<2xf32>, tensor<2xi32>) {
  %a = anvil.constant dense<[-7, 7, 7]> : tensor<3xi64>
  %b = anvil.constant dense<[3, -3, 3]> : tensor<3xi64>
  %m = anvil.mod %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %f = anvil.mod %a, %b {fmod = true} : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %x = anvil.constant dense<[2.5, -1.0]> : tensor<2xf64>
  %c = anvil.cast %x : (tensor<2xf64>) -> tensor<2xf32>
  %i = anvil.cast %x : (tensor<2xf64>) -> tensor<2xi32>
  return %m, %f, %c, %i : tensor<3xi64>, tensor<3xi64>, tensor<2xf32>, tensor<2xi32>
}

// -----

// Reshape chains collapse; a reshape to the same static type disappears.
// CHECK-LABEL: func.func @reshapes
// CHECK-SAME: (%[[X:.*]]: tensor<2x6xf32>)
// CHECK: %[[S:.*]] = anvil.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-NEXT: %[[R:.*]] = anvil.reshape %[[X]], %[[S]] : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<3x4xf32>
// CHECK-NEXT: return %[[R]], %[[X]]
func.func @reshapes(%x: tensor<2x6xf32>) -> (tensor<3x4xf32>, tensor<2x6xf32>) {
  %s1 = anvil.constant dense<[12]> : tensor<1xi64>
  %s2 = anvil.constant dense<[3, 4]> : tensor<2xi64>
  %s3 = anvil.constant dense<[2, 6]> : tensor<2xi64>
  %a = anvil.reshape %x, %s1 : (tensor<2x6xf32>, tensor<1xi64>) -> tensor<12xf32>
  %b = anvil.reshape %a, %s2 : (tensor<12xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  %c = anvil.reshape %x, %s3 : (tensor<2x6xf32>, tensor<2xi64>) -> tensor<2x6xf32>
  return %b, %c : tensor<3x4xf32>, tensor<2x6xf32>
}

// -----

// Canonical forms the recognizers match. Constants go to the right of
// commutative ops (MLIR 16 does not move them); a non-commutative op keeps
// its order.
// CHECK-LABEL: func.func @constants_right
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>, %[[I:.*]]: tensor<4xi64>)
// CHECK-DAG: %[[C:.*]] = anvil.constant dense<3.000000e+00> : tensor<f32>
// CHECK-DAG: %[[K:.*]] = anvil.constant dense<6> : tensor<i64>
// CHECK: %[[A:.*]] = anvil.add %[[X]], %[[C]]
// CHECK: %[[M:.*]] = anvil.mul %[[A]], %[[C]]
// CHECK: %[[MX:.*]] = anvil.max %[[M]], %[[C]]
// CHECK: %[[MN:.*]] = anvil.min %[[MX]], %[[C]]
// CHECK: %[[S:.*]] = anvil.sub %[[C]], %[[MN]]
// CHECK: %[[AND:.*]] = anvil.and %[[I]], %[[K]]
// CHECK: %[[OR:.*]] = anvil.or %[[AND]], %[[K]]
// CHECK: %[[XOR:.*]] = anvil.xor %[[OR]], %[[K]]
// CHECK: return %[[S]], %[[XOR]]
func.func @constants_right(%x: tensor<4xf32>, %i: tensor<4xi64>) -> (tensor<4xf32>, tensor<4xi64>) {
  %c = anvil.constant dense<3.0> : tensor<f32>
  %k = anvil.constant dense<6> : tensor<i64>
  %a = anvil.add %c, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %m = anvil.mul %c, %a : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %mx = anvil.max %c, %m : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %mn = anvil.min %c, %mx : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %s = anvil.sub %c, %mn : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %and = anvil.and %k, %i : (tensor<i64>, tensor<4xi64>) -> tensor<4xi64>
  %or = anvil.or %k, %and : (tensor<i64>, tensor<4xi64>) -> tensor<4xi64>
  %xor = anvil.xor %k, %or : (tensor<i64>, tensor<4xi64>) -> tensor<4xi64>
  return %s, %xor : tensor<4xf32>, tensor<4xi64>
}

// -----

// pow(x, 2) is x * x; pow(x, 3) and a pow whose constant broadcasts x to a
// larger shape stay.
// CHECK-LABEL: func.func @pow_two
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[SQ:.*]] = anvil.mul %[[X]], %[[X]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: %[[CU:.*]] = anvil.pow %[[X]], %{{.*}} : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
// CHECK: %[[BC:.*]] = anvil.pow %[[X]], %{{.*}} : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: return %[[SQ]], %[[CU]], %[[BC]]
func.func @pow_two(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<2x4xf32>) {
  %two = anvil.constant dense<2.0> : tensor<f32>
  %three = anvil.constant dense<3.0> : tensor<f32>
  %two2 = anvil.constant dense<2.0> : tensor<2x4xf32>
  %a = anvil.pow %x, %two : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %b = anvil.pow %x, %three : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %c = anvil.pow %x, %two2 : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<2x4xf32>
}

// -----

// 1 / sqrt(y) is rsqrt(y); x / sqrt(y) is x * rsqrt(y) (-canonicalize does
// not CSE the two rsqrt); x / y stays.
// CHECK-LABEL: func.func @div_sqrt
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[Y:.*]]: tensor<2x1xf32>)
// CHECK: %[[R:.*]] = anvil.rsqrt %[[Y]] : (tensor<2x1xf32>) -> tensor<2x1xf32>
// CHECK: %[[R2:.*]] = anvil.rsqrt %[[Y]] : (tensor<2x1xf32>) -> tensor<2x1xf32>
// CHECK: %[[M:.*]] = anvil.mul %[[X]], %[[R2]] : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
// CHECK: %[[D:.*]] = anvil.div %[[X]], %[[Y]]
// CHECK: return %[[R]], %[[M]], %[[D]]
func.func @div_sqrt(%x: tensor<2x4xf32>, %y: tensor<2x1xf32>) -> (tensor<2x1xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %one = anvil.constant dense<1.0> : tensor<f32>
  %s = anvil.sqrt %y : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %a = anvil.div %one, %s : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %b = anvil.div %x, %s : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %c = anvil.div %x, %y : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %a, %b, %c : tensor<2x1xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// x * sigmoid(x), either order, is silu(x); x * sigmoid(y) stays.
// CHECK-LABEL: func.func @silu
// CHECK-SAME: (%[[X:.*]]: tensor<8xf32>, %[[Y:.*]]: tensor<8xf32>)
// CHECK: %[[SY:.*]] = anvil.sigmoid %[[Y]]
// CHECK: %[[A:.*]] = anvil.silu %[[X]]
// CHECK: %[[B:.*]] = anvil.silu %[[X]]
// CHECK: %[[C:.*]] = anvil.mul %[[X]], %[[SY]]
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @silu(%x: tensor<8xf32>, %y: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %sx = anvil.sigmoid %x : (tensor<8xf32>) -> tensor<8xf32>
  %sy = anvil.sigmoid %y : (tensor<8xf32>) -> tensor<8xf32>
  %a = anvil.mul %x, %sx : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %b = anvil.mul %sx, %x : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %c = anvil.mul %x, %sy : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %a, %b, %c : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// matmul(a, transpose of the last two dims of b) is matmul{transpose_rhs};
// a transpose that also moves a batch dim stays.
// CHECK-LABEL: func.func @matmul_transposed_rhs
// CHECK-SAME: (%[[A:.*]]: tensor<2x3x4xf32>, %[[B:.*]]: tensor<2x5x4xf32>, %[[C:.*]]: tensor<5x2x4xf32>)
// CHECK: %[[M:.*]] = anvil.matmul %[[A]], %[[B]] {transpose_rhs = true} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x3x5xf32>
// CHECK: %[[T:.*]] = anvil.transpose %[[C]] {perm = array<i64: 1, 2, 0>}
// CHECK: %[[N:.*]] = anvil.matmul %[[A]], %[[T]] : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
// CHECK: return %[[M]], %[[N]]
func.func @matmul_transposed_rhs(%a: tensor<2x3x4xf32>, %b: tensor<2x5x4xf32>, %c: tensor<5x2x4xf32>) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  %bt = anvil.transpose %b {perm = array<i64: 0, 2, 1>} : (tensor<2x5x4xf32>) -> tensor<2x4x5xf32>
  %m = anvil.matmul %a, %bt : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  %ct = anvil.transpose %c {perm = array<i64: 1, 2, 0>} : (tensor<5x2x4xf32>) -> tensor<2x4x5xf32>
  %n = anvil.matmul %a, %ct : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %m, %n : tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

// -----

// transpose(transpose(x)) is one transpose with the composed permutation
// (or none, when they cancel).
// CHECK-LABEL: func.func @transpose_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK: %[[T:.*]] = anvil.transpose %[[X]] {perm = array<i64: 2, 1, 0>} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
// CHECK: return %[[X]], %[[T]]
func.func @transpose_transpose(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<4x3x2xf32>) {
  %a = anvil.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %b = anvil.transpose %a {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
  %c = anvil.transpose %a {perm = array<i64: 2, 0, 1>} : (tensor<3x2x4xf32>) -> tensor<4x3x2xf32>
  return %b, %c : tensor<2x3x4xf32>, tensor<4x3x2xf32>
}

// -----

// Casts through a wider type cancel (f16 -> f32 -> f16) or become one
// (i32 -> i64 -> f64); through a narrower one (f32 -> f16 -> f32,
// f32 -> i32 -> f32) they stay.
// CHECK-LABEL: func.func @cast_pairs
// CHECK-SAME: (%[[H:.*]]: tensor<4xf16>, %[[I:.*]]: tensor<4xi32>, %[[F:.*]]: tensor<4xf32>)
// CHECK: %[[D:.*]] = anvil.cast %[[I]] : (tensor<4xi32>) -> tensor<4xf64>
// CHECK: %[[N1:.*]] = anvil.cast %[[F]] : (tensor<4xf32>) -> tensor<4xf16>
// CHECK: %[[N2:.*]] = anvil.cast %[[N1]] : (tensor<4xf16>) -> tensor<4xf32>
// CHECK: %[[T1:.*]] = anvil.cast %[[F]] : (tensor<4xf32>) -> tensor<4xi32>
// CHECK: %[[T2:.*]] = anvil.cast %[[T1]] : (tensor<4xi32>) -> tensor<4xf32>
// CHECK: return %[[H]], %[[D]], %[[N2]], %[[T2]]
func.func @cast_pairs(%h: tensor<4xf16>, %i: tensor<4xi32>, %f: tensor<4xf32>) -> (tensor<4xf16>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>) {
  %a = anvil.cast %h : (tensor<4xf16>) -> tensor<4xf32>
  %b = anvil.cast %a : (tensor<4xf32>) -> tensor<4xf16>
  %c = anvil.cast %i : (tensor<4xi32>) -> tensor<4xi64>
  %d = anvil.cast %c : (tensor<4xi64>) -> tensor<4xf64>
  %e = anvil.cast %f : (tensor<4xf32>) -> tensor<4xf16>
  %g = anvil.cast %e : (tensor<4xf16>) -> tensor<4xf32>
  %t = anvil.cast %f : (tensor<4xf32>) -> tensor<4xi32>
  %u = anvil.cast %t : (tensor<4xi32>) -> tensor<4xf32>
  return %b, %d, %g, %u : tensor<4xf16>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Attention over K/V repeated per group (unsqueeze, expand, reshape) reads
// the unrepeated K/V through its grouped heads; a repeat along another
// axis (the sequence) stays.
// CHECK-LABEL: func.func @attention_repeat_kv
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x3x8xf32>, %[[V:.*]]: tensor<1x2x3x8xf32>)
// CHECK: %[[A:.*]] = anvil.attention %[[Q]], %[[K]], %[[V]] {scale = 5.000000e-01 : f32} : (tensor<1x4x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x4x3x8xf32>
// CHECK: %[[KS:.*]] = anvil.reshape
// CHECK: anvil.attention %{{.*}}, %[[KS]], %[[KS]]
func.func @attention_repeat_kv(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>) -> (tensor<1x4x3x8xf32>, tensor<1x2x3x8xf32>) {
  %s5 = anvil.constant dense<[1, 2, 2, 3, 8]> : tensor<5xi64>
  %s4 = anvil.constant dense<[1, 4, 3, 8]> : tensor<4xi64>
  %ku = anvil.unsqueeze %k {axes = array<i64: 2>} : (tensor<1x2x3x8xf32>) -> tensor<1x2x1x3x8xf32>
  %ke = anvil.expand %ku, %s5 : (tensor<1x2x1x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %kr = anvil.reshape %ke, %s4 : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %vu = anvil.unsqueeze %v {axes = array<i64: 2>} : (tensor<1x2x3x8xf32>) -> tensor<1x2x1x3x8xf32>
  %ve = anvil.expand %vu, %s5 : (tensor<1x2x1x3x8xf32>, tensor<5xi64>) -> tensor<1x2x2x3x8xf32>
  %vr = anvil.reshape %ve, %s4 : (tensor<1x2x2x3x8xf32>, tensor<4xi64>) -> tensor<1x4x3x8xf32>
  %a = anvil.attention %q, %kr, %vr {scale = 0.5 : f32} : (tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>, tensor<1x4x3x8xf32>) -> tensor<1x4x3x8xf32>
  %t5 = anvil.constant dense<[1, 2, 3, 2, 8]> : tensor<5xi64>
  %t4 = anvil.constant dense<[1, 2, 6, 8]> : tensor<4xi64>
  %kq = anvil.unsqueeze %k {axes = array<i64: 3>} : (tensor<1x2x3x8xf32>) -> tensor<1x2x3x1x8xf32>
  %kx = anvil.expand %kq, %t5 : (tensor<1x2x3x1x8xf32>, tensor<5xi64>) -> tensor<1x2x3x2x8xf32>
  %ks = anvil.reshape %kx, %t4 : (tensor<1x2x3x2x8xf32>, tensor<4xi64>) -> tensor<1x2x6x8xf32>
  %b = anvil.attention %k, %ks, %ks {scale = 0.5 : f32} : (tensor<1x2x3x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> tensor<1x2x3x8xf32>
  return %a, %b : tensor<1x4x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

// A where whose condition is all true (an i1 splat, whose sign-extended
// value is -1) is its true operand; a gather_elements whose indices are
// each element's own coordinate along the axis moves nothing (the KV
// re-packing of GroupQueryAttention with a full mask).
// CHECK-LABEL: func.func @identity_selects
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x4xf32>, %[[Y:.*]]: tensor<1x2x3x4xf32>)
// CHECK-NEXT: return %[[X]], %[[Y]]
func.func @identity_selects(%x: tensor<1x2x3x4xf32>, %y: tensor<1x2x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) {
  %true = anvil.constant dense<true> : tensor<1x1x3x1xi1>
  %zero = anvil.constant dense<0.0> : tensor<f32>
  %w = anvil.where %true, %x, %zero : (tensor<1x1x3x1xi1>, tensor<1x2x3x4xf32>, tensor<f32>) -> tensor<1x2x3x4xf32>
  %idx = anvil.constant dense<[[[[0, 0, 0, 0], [1, 1, 1, 1], [-1, -1, -1, -1]], [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]]]]> : tensor<1x2x3x4xi64>
  %g = anvil.gather_elements %y, %idx {axis = 2 : i64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xi64>) -> tensor<1x2x3x4xf32>
  return %w, %g : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>
}

// -----

// A constant zero point of all zeros is dropped (an absent one is 0): a
// splat and dense data alike; a nonzero one stays.
// CHECK-LABEL: func.func @dequantize_zero_zero_point
// CHECK: anvil.dequantize %arg0, %{{.*}} {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK: anvil.dequantize %arg0, %{{.*}} {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK: anvil.dequantize %arg0, %{{.*}}, %{{.*}} {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
func.func @dequantize_zero_zero_point(%q: tensor<4x3xi8>) -> (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) {
  %s = anvil.constant dense<[0.5, 0.25, 2.0]> : tensor<3xf32>
  %z0 = anvil.constant dense<0> : tensor<3xi8>
  %z1 = anvil.constant dense<"0x000000"> : tensor<3xi8>
  %z2 = anvil.constant dense<[0, 1, 0]> : tensor<3xi8>
  %a = anvil.dequantize %q, %s, %z0 {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  %b = anvil.dequantize %q, %s, %z1 {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  %c = anvil.dequantize %q, %s, %z2 {axis = 1 : i64, bits = 8 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  return %a, %b, %c : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>
}

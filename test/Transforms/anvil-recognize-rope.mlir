// RUN: anvil-opt %s -split-input-file -anvil-recognize-rope | FileCheck %s
// x * cos + rotate_half(x) * sin becomes anvil.rope with half-width tables
// when the full tables provably repeat their halves.

// TorchScript Llama: emb = concat(freqs, freqs); cos/sin of it, unsqueezed
// over the heads. The half tables are rebuilt as cos(freqs), sin(freqs).
// CHECK-LABEL: func.func @llama
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x5x16xf32>, %[[F:.*]]: tensor<1x5x8xf32>)
// CHECK-DAG: %[[C:.*]] = anvil.cos %[[F]] : (tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
// CHECK-DAG: %[[S:.*]] = anvil.sin %[[F]] : (tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
// CHECK-DAG: %[[CU:.*]] = anvil.unsqueeze %[[C]] {axes = array<i64: 1>} : (tensor<1x5x8xf32>) -> tensor<1x1x5x8xf32>
// CHECK-DAG: %[[SU:.*]] = anvil.unsqueeze %[[S]] {axes = array<i64: 1>} : (tensor<1x5x8xf32>) -> tensor<1x1x5x8xf32>
// CHECK: %[[Y:.*]] = anvil.rope %[[X]], %[[CU]], %[[SU]] : (tensor<1x4x5x16xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>) -> tensor<1x4x5x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @llama(%x: tensor<1x4x5x16xf32>, %f: tensor<1x5x8xf32>) -> tensor<1x4x5x16xf32> {
  %emb = anvil.concat %f, %f {axis = 2 : i64} : (tensor<1x5x8xf32>, tensor<1x5x8xf32>) -> tensor<1x5x16xf32>
  %cos = anvil.cos %emb : (tensor<1x5x16xf32>) -> tensor<1x5x16xf32>
  %sin = anvil.sin %emb : (tensor<1x5x16xf32>) -> tensor<1x5x16xf32>
  %cu = anvil.unsqueeze %cos {axes = array<i64: 1>} : (tensor<1x5x16xf32>) -> tensor<1x1x5x16xf32>
  %su = anvil.unsqueeze %sin {axes = array<i64: 1>} : (tensor<1x5x16xf32>) -> tensor<1x1x5x16xf32>
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c8 = anvil.constant dense<8> : tensor<1xi64>
  %c3 = anvil.constant dense<3> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %cmax = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %a = anvil.mul %x, %cu : (tensor<1x4x5x16xf32>, tensor<1x1x5x16xf32>) -> tensor<1x4x5x16xf32>
  %lo = anvil.slice %x, %c0, %c8, %c3, %c1 : (tensor<1x4x5x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x4x5x8xf32>
  %hi = anvil.slice %x, %c8, %cmax, %c3, %c1 : (tensor<1x4x5x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x4x5x8xf32>
  %n = anvil.neg %hi : (tensor<1x4x5x8xf32>) -> tensor<1x4x5x8xf32>
  %r = anvil.concat %n, %lo {axis = 3 : i64} : (tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x5x16xf32>
  %b = anvil.mul %su, %r : (tensor<1x1x5x16xf32>, tensor<1x4x5x16xf32>) -> tensor<1x4x5x16xf32>
  %y = anvil.add %b, %a : (tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>) -> tensor<1x4x5x16xf32>
  return %y : tensor<1x4x5x16xf32>
}

// -----

// Cached tables (a constant whose rows repeat their halves) gathered by
// position: the half table is a new, smaller constant.
// CHECK-LABEL: func.func @cached_tables
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[P:.*]]: tensor<3xi64>)
// CHECK-DAG: %[[CT:.*]] = anvil.constant dense<{{\[}}[1.000000e+00, 5.000000e-01], [2.500000e-01, 1.250000e-01], [3.000000e+00, 4.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[CG:.*]] = anvil.gather %[[CT]], %[[P]] {axis = 0 : i64} : (tensor<3x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
// CHECK: anvil.rope %[[X]], %[[CG]], %{{.*}} : (tensor<2x3x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<2x3x4xf32>
func.func @cached_tables(%x: tensor<2x3x4xf32>, %pos: tensor<3xi64>) -> tensor<2x3x4xf32> {
  %ct = anvil.constant dense<[[1.0, 0.5, 1.0, 0.5], [0.25, 0.125, 0.25, 0.125], [3.0, 4.0, 3.0, 4.0]]> : tensor<3x4xf32>
  %st = anvil.constant dense<[[0.0, 0.5, 0.0, 0.5], [0.75, 0.125, 0.75, 0.125], [2.0, 1.0, 2.0, 1.0]]> : tensor<3x4xf32>
  %cos = anvil.gather %ct, %pos {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %sin = anvil.gather %st, %pos {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %c4 = anvil.constant dense<4> : tensor<1xi64>
  %cm1 = anvil.constant dense<-1> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %a = anvil.mul %cos, %x : (tensor<3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %lo = anvil.slice %x, %c0, %c2, %cm1, %c1 : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %hi = anvil.slice %x, %c2, %c4, %cm1, %c1 : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %n = anvil.neg %hi : (tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  %r = anvil.concat %n, %lo {axis = 2 : i64} : (tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x4xf32>
  %b = anvil.mul %r, %sin : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %y = anvil.add %a, %b : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Near misses: tables whose halves are not known to repeat (cos of an
// argument), the halves rotated the wrong way (concat(lo, -hi)), and a
// constant table whose halves differ.
// CHECK-LABEL: func.func @not_rope
// CHECK-NOT: anvil.rope
// CHECK: return
func.func @not_rope(%x: tensor<2x3x4xf32>, %t: tensor<3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %cos = anvil.cos %t : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %sin = anvil.sin %t : (tensor<3x4xf32>) -> tensor<3x4xf32>
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %c4 = anvil.constant dense<4> : tensor<1xi64>
  %ax = anvil.constant dense<2> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %lo = anvil.slice %x, %c0, %c2, %ax, %c1 : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %hi = anvil.slice %x, %c2, %c4, %ax, %c1 : (tensor<2x3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x3x2xf32>
  %n = anvil.neg %hi : (tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  %r = anvil.concat %n, %lo {axis = 2 : i64} : (tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x4xf32>
  %a = anvil.mul %x, %cos : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %b = anvil.mul %r, %sin : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %y1 = anvil.add %a, %b : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %ct = anvil.constant dense<[[1.0, 0.5, 1.0, 0.5], [0.25, 0.125, 0.25, 0.125], [3.0, 4.0, 3.0, 4.0]]> : tensor<3x4xf32>
  %wrong = anvil.concat %lo, %n {axis = 2 : i64} : (tensor<2x3x2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x4xf32>
  %a2 = anvil.mul %x, %ct : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %b2 = anvil.mul %wrong, %ct : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %y2 = anvil.add %a2, %b2 : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %uneven = anvil.constant dense<[[1.0, 0.5, 1.0, 0.6], [0.25, 0.125, 0.25, 0.125], [3.0, 4.0, 3.0, 4.0]]> : tensor<3x4xf32>
  %a3 = anvil.mul %x, %uneven : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %b3 = anvil.mul %r, %ct : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
  %y3 = anvil.add %a3, %b3 : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y1, %y2, %y3 : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// Adjacent pairs, as the hand-built decoders and Meta-style code write them:
// reshape to [..., d/2, 2], split the pairs, rotate each with the half-width
// tables, stack and flatten. The tables are used as they are.
// CHECK-LABEL: func.func @interleaved_split
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x8xf32>, %[[C:.*]]: tensor<1x1x3x4xf32>, %[[S:.*]]: tensor<1x1x3x4xf32>)
// CHECK: %[[Y:.*]] = anvil.rope %[[X]], %[[C]], %[[S]] {interleaved = true} : (tensor<1x2x3x8xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @interleaved_split(%x: tensor<1x2x3x8xf32>, %cos: tensor<1x1x3x4xf32>, %sin: tensor<1x1x3x4xf32>) -> tensor<1x2x3x8xf32> {
  %pairs_shape = anvil.constant dense<[1, 2, 3, 4, 2]> : tensor<5xi64>
  %flat_shape = anvil.constant dense<[1, 2, 3, 8]> : tensor<4xi64>
  %pairs = anvil.reshape %x, %pairs_shape : (tensor<1x2x3x8xf32>, tensor<5xi64>) -> tensor<1x2x3x4x2xf32>
  %p:2 = anvil.split %pairs {axis = 4 : i64, sizes = array<i64: 1, 1>} : (tensor<1x2x3x4x2xf32>) -> (tensor<1x2x3x4x1xf32>, tensor<1x2x3x4x1xf32>)
  %e = anvil.squeeze %p#0 {axes = array<i64: 4>} : (tensor<1x2x3x4x1xf32>) -> tensor<1x2x3x4xf32>
  %o = anvil.squeeze %p#1 {axes = array<i64: 4>} : (tensor<1x2x3x4x1xf32>) -> tensor<1x2x3x4xf32>
  %ec = anvil.mul %e, %cos : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %os = anvil.mul %sin, %o : (tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %y1 = anvil.sub %ec, %os : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %oc = anvil.mul %cos, %o : (tensor<1x1x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %es = anvil.mul %e, %sin : (tensor<1x2x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x4xf32>
  %y2 = anvil.add %es, %oc : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %u1 = anvil.unsqueeze %y1 {axes = array<i64: 4>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %u2 = anvil.unsqueeze %y2 {axes = array<i64: 4>} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %st = anvil.concat %u1, %u2 {axis = 4 : i64} : (tensor<1x2x3x4x1xf32>, tensor<1x2x3x4x1xf32>) -> tensor<1x2x3x4x2xf32>
  %y = anvil.reshape %st, %flat_shape : (tensor<1x2x3x4x2xf32>, tensor<4xi64>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// The even and odd elements taken by strided slices (x[..., 0::2],
// x[..., 1::2]) of a [tokens, heads, d] input, the pairs' halves read
// through slices of the stacked axis' ones.
// CHECK-LABEL: func.func @interleaved_strided
// CHECK-SAME: (%[[X:.*]]: tensor<5x2x4xf32>, %[[C:.*]]: tensor<5x1x2xf32>, %[[S:.*]]: tensor<5x1x2xf32>)
// CHECK: %[[Y:.*]] = anvil.rope %[[X]], %[[C]], %[[S]] {interleaved = true}
// CHECK-NEXT: return %[[Y]]
func.func @interleaved_strided(%x: tensor<5x2x4xf32>, %cos: tensor<5x1x2xf32>, %sin: tensor<5x1x2xf32>) -> tensor<5x2x4xf32> {
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %cm1 = anvil.constant dense<-1> : tensor<1xi64>
  %cmax = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %stack_shape = anvil.constant dense<[5, 2, 2, 1]> : tensor<4xi64>
  %flat_shape = anvil.constant dense<[5, 2, 4]> : tensor<3xi64>
  %e = anvil.slice %x, %c0, %cmax, %cm1, %c2 : (tensor<5x2x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x2xf32>
  %o = anvil.slice %x, %c1, %cmax, %cm1, %c2 : (tensor<5x2x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x2xf32>
  %ec = anvil.mul %cos, %e : (tensor<5x1x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %os = anvil.mul %o, %sin : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %y1 = anvil.sub %ec, %os : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %oc = anvil.mul %o, %cos : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %es = anvil.mul %sin, %e : (tensor<5x1x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %y2 = anvil.add %oc, %es : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %u1 = anvil.reshape %y1, %stack_shape : (tensor<5x2x2xf32>, tensor<4xi64>) -> tensor<5x2x2x1xf32>
  %u2 = anvil.unsqueeze %y2 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  %st = anvil.concat %u1, %u2 {axis = 3 : i64} : (tensor<5x2x2x1xf32>, tensor<5x2x2x1xf32>) -> tensor<5x2x2x2xf32>
  %y = anvil.reshape %st, %flat_shape : (tensor<5x2x2x2xf32>, tensor<3xi64>) -> tensor<5x2x4xf32>
  return %y : tensor<5x2x4xf32>
}

// -----

// Near misses of the adjacent-pair form: the odd element rotated with the
// wrong sign (o * cos - e * sin first), the pairs stacked in the wrong order,
// the even slice starting at 1, and the sine taken from another table in the
// second product.
// CHECK-LABEL: func.func @not_interleaved
// CHECK-NOT: anvil.rope
// CHECK: return
func.func @not_interleaved(%x: tensor<5x2x4xf32>, %cos: tensor<5x1x2xf32>, %sin: tensor<5x1x2xf32>, %other: tensor<5x1x2xf32>) -> (tensor<5x2x4xf32>, tensor<5x2x4xf32>, tensor<5x2x4xf32>, tensor<5x2x4xf32>) {
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %cm1 = anvil.constant dense<-1> : tensor<1xi64>
  %cmax = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %flat_shape = anvil.constant dense<[5, 2, 4]> : tensor<3xi64>
  %e = anvil.slice %x, %c0, %cmax, %cm1, %c2 : (tensor<5x2x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x2xf32>
  %o = anvil.slice %x, %c1, %cmax, %cm1, %c2 : (tensor<5x2x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x2xf32>
  %ec = anvil.mul %e, %cos : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %os = anvil.mul %o, %sin : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %oc = anvil.mul %o, %cos : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %es = anvil.mul %e, %sin : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %y1 = anvil.sub %ec, %os : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %y2 = anvil.add %oc, %es : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %u1 = anvil.unsqueeze %y1 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  %u2 = anvil.unsqueeze %y2 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  // o * cos - e * sin, o * cos + e * sin.
  %w1 = anvil.sub %oc, %es : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %wu1 = anvil.unsqueeze %w1 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  %wst = anvil.concat %wu1, %u2 {axis = 3 : i64} : (tensor<5x2x2x1xf32>, tensor<5x2x2x1xf32>) -> tensor<5x2x2x2xf32>
  %r1 = anvil.reshape %wst, %flat_shape : (tensor<5x2x2x2xf32>, tensor<3xi64>) -> tensor<5x2x4xf32>
  // Stacked (second, first).
  %swapped = anvil.concat %u2, %u1 {axis = 3 : i64} : (tensor<5x2x2x1xf32>, tensor<5x2x2x1xf32>) -> tensor<5x2x2x2xf32>
  %r2 = anvil.reshape %swapped, %flat_shape : (tensor<5x2x2x2xf32>, tensor<3xi64>) -> tensor<5x2x4xf32>
  // The "even" elements from 1: both slices read the odd ones.
  %o2 = anvil.slice %x, %c1, %cmax, %cm1, %c2 : (tensor<5x2x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x2x2xf32>
  %o2c = anvil.mul %o2, %cos : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %o2s = anvil.mul %o2, %sin : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %z1 = anvil.sub %o2c, %os : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %z2 = anvil.add %oc, %o2s : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %zu1 = anvil.unsqueeze %z1 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  %zu2 = anvil.unsqueeze %z2 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  %zst = anvil.concat %zu1, %zu2 {axis = 3 : i64} : (tensor<5x2x2x1xf32>, tensor<5x2x2x1xf32>) -> tensor<5x2x2x2xf32>
  %r3 = anvil.reshape %zst, %flat_shape : (tensor<5x2x2x2xf32>, tensor<3xi64>) -> tensor<5x2x4xf32>
  // e * other instead of e * sin in the second row.
  %eo = anvil.mul %e, %other : (tensor<5x2x2xf32>, tensor<5x1x2xf32>) -> tensor<5x2x2xf32>
  %v2 = anvil.add %oc, %eo : (tensor<5x2x2xf32>, tensor<5x2x2xf32>) -> tensor<5x2x2xf32>
  %vu2 = anvil.unsqueeze %v2 {axes = array<i64: 3>} : (tensor<5x2x2xf32>) -> tensor<5x2x2x1xf32>
  %vst = anvil.concat %u1, %vu2 {axis = 3 : i64} : (tensor<5x2x2x1xf32>, tensor<5x2x2x1xf32>) -> tensor<5x2x2x2xf32>
  %r4 = anvil.reshape %vst, %flat_shape : (tensor<5x2x2x2xf32>, tensor<3xi64>) -> tensor<5x2x4xf32>
  return %r1, %r2, %r3, %r4 : tensor<5x2x4xf32>, tensor<5x2x4xf32>, tensor<5x2x4xf32>, tensor<5x2x4xf32>
}

// -----

// GPT-J (transformers' export): x * cos2 + rotate_every_two(x) * sin2 on the
// first 4 of 8 values of each head, the tables repeated pairwise
// (repeat_interleave as unsqueeze, tile and reshape), the rest concatenated
// back: one interleaved rope with rotary_dim = 4 on the half-width tables.
// CHECK-LABEL: func.func @gptj_partial
// CHECK-SAME: (%[[X:.*]]: tensor<1x5x4x8xf32>, %[[C:.*]]: tensor<1x5x1x2xf32>, %[[S:.*]]: tensor<1x5x1x2xf32>)
// CHECK: %[[Y:.*]] = anvil.rope %[[X]], %[[C]], %[[S]] {interleaved = true, rotary_dim = 4 : i64} : (tensor<1x5x4x8xf32>, tensor<1x5x1x2xf32>, tensor<1x5x1x2xf32>) -> tensor<1x5x4x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @gptj_partial(%x: tensor<1x5x4x8xf32>, %cos: tensor<1x5x1x2xf32>, %sin: tensor<1x5x1x2xf32>) -> tensor<1x5x4x8xf32> {
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %c3 = anvil.constant dense<3> : tensor<1xi64>
  %c4 = anvil.constant dense<4> : tensor<1xi64>
  %cmax = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %table_shape = anvil.constant dense<[1, 5, 1, 4]> : tensor<4xi64>
  %rot_shape = anvil.constant dense<[1, 5, 4, 4]> : tensor<4xi64>
  %rot = anvil.slice %x, %c0, %c4, %c3, %c1 : (tensor<1x5x4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x5x4x4xf32>
  %rest = anvil.slice %x, %c4, %cmax, %c3, %c1 : (tensor<1x5x4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x5x4x4xf32>
  %cu = anvil.unsqueeze %cos {axes = array<i64: 4>} : (tensor<1x5x1x2xf32>) -> tensor<1x5x1x2x1xf32>
  %ct = anvil.tile %cu {repeats = array<i64: 1, 1, 1, 1, 2>} : (tensor<1x5x1x2x1xf32>) -> tensor<1x5x1x2x2xf32>
  %cos2 = anvil.reshape %ct, %table_shape : (tensor<1x5x1x2x2xf32>, tensor<4xi64>) -> tensor<1x5x1x4xf32>
  %su = anvil.unsqueeze %sin {axes = array<i64: 4>} : (tensor<1x5x1x2xf32>) -> tensor<1x5x1x2x1xf32>
  %st = anvil.tile %su {repeats = array<i64: 1, 1, 1, 1, 2>} : (tensor<1x5x1x2x1xf32>) -> tensor<1x5x1x2x2xf32>
  %sin2 = anvil.reshape %st, %table_shape : (tensor<1x5x1x2x2xf32>, tensor<4xi64>) -> tensor<1x5x1x4xf32>
  %a = anvil.mul %rot, %cos2 : (tensor<1x5x4x4xf32>, tensor<1x5x1x4xf32>) -> tensor<1x5x4x4xf32>
  %e = anvil.slice %rot, %c0, %cmax, %c3, %c2 : (tensor<1x5x4x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x5x4x2xf32>
  %o = anvil.slice %rot, %c1, %cmax, %c3, %c2 : (tensor<1x5x4x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x5x4x2xf32>
  %n = anvil.neg %o : (tensor<1x5x4x2xf32>) -> tensor<1x5x4x2xf32>
  %nu = anvil.unsqueeze %n {axes = array<i64: 4>} : (tensor<1x5x4x2xf32>) -> tensor<1x5x4x2x1xf32>
  %eu = anvil.unsqueeze %e {axes = array<i64: 4>} : (tensor<1x5x4x2xf32>) -> tensor<1x5x4x2x1xf32>
  %stack = anvil.concat %nu, %eu {axis = 4 : i64} : (tensor<1x5x4x2x1xf32>, tensor<1x5x4x2x1xf32>) -> tensor<1x5x4x2x2xf32>
  %r = anvil.reshape %stack, %rot_shape : (tensor<1x5x4x2x2xf32>, tensor<4xi64>) -> tensor<1x5x4x4xf32>
  %b = anvil.mul %r, %sin2 : (tensor<1x5x4x4xf32>, tensor<1x5x1x4xf32>) -> tensor<1x5x4x4xf32>
  %y = anvil.add %a, %b : (tensor<1x5x4x4xf32>, tensor<1x5x4x4xf32>) -> tensor<1x5x4x4xf32>
  %out = anvil.concat %y, %rest {axis = 3 : i64} : (tensor<1x5x4x4xf32>, tensor<1x5x4x4xf32>) -> tensor<1x5x4x8xf32>
  return %out : tensor<1x5x4x8xf32>
}

// -----

// A constant full-width table with equal pairs becomes a constant of its
// even elements; the whole head rotates, and the empty pass-through slice
// (rotary_dim = head_dim) leaves no rotary_dim.
// CHECK-LABEL: func.func @every_two_constant_tables
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// CHECK-DAG: %[[CH:.*]] = anvil.constant dense<{{\[}}[1.000000e+00, 5.000000e-01], [2.500000e-01, 1.250000e-01], [0.000000e+00, 1.000000e+00]]> : tensor<3x2xf32>
// CHECK-DAG: %[[SH:.*]] = anvil.constant dense<{{\[}}[0.000000e+00, 5.000000e-01], [7.500000e-01, 2.500000e-01], [1.000000e+00, 0.000000e+00]]> : tensor<3x2xf32>
// CHECK: %[[Y:.*]] = anvil.rope %[[X]], %[[CH]], %[[SH]] {interleaved = true} : (tensor<3x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @every_two_constant_tables(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %cos2 = anvil.constant dense<[[1.0, 1.0, 0.5, 0.5], [0.25, 0.25, 0.125, 0.125], [0.0, 0.0, 1.0, 1.0]]> : tensor<3x4xf32>
  %sin2 = anvil.constant dense<[[0.0, 0.0, 0.5, 0.5], [0.75, 0.75, 0.25, 0.25], [1.0, 1.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %c4 = anvil.constant dense<4> : tensor<1xi64>
  %cm1 = anvil.constant dense<-1> : tensor<1xi64>
  %cmax = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %flat = anvil.constant dense<[3, 4]> : tensor<2xi64>
  %e = anvil.slice %x, %c0, %cmax, %cm1, %c2 : (tensor<3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2xf32>
  %o = anvil.slice %x, %c1, %cmax, %cm1, %c2 : (tensor<3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2xf32>
  %n = anvil.neg %o : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %nu = anvil.unsqueeze %n {axes = array<i64: 2>} : (tensor<3x2xf32>) -> tensor<3x2x1xf32>
  %eu = anvil.unsqueeze %e {axes = array<i64: 2>} : (tensor<3x2xf32>) -> tensor<3x2x1xf32>
  %stack = anvil.concat %nu, %eu {axis = 2 : i64} : (tensor<3x2x1xf32>, tensor<3x2x1xf32>) -> tensor<3x2x2xf32>
  %r = anvil.reshape %stack, %flat : (tensor<3x2x2xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  %a = anvil.mul %cos2, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %b = anvil.mul %sin2, %r : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = anvil.add %b, %a : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %empty = anvil.slice %x, %c4, %cmax, %cm1, %c1 : (tensor<3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x0xf32>
  %out = anvil.concat %y, %empty {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x0xf32>) -> tensor<3x4xf32>
  return %out : tensor<3x4xf32>
}

// -----

// Near misses of GPT-J's form: a constant table whose pairs differ, the
// rotation stacked as (even, -odd), and a partial rope whose pass-through
// skips an element.
// CHECK-LABEL: func.func @not_every_two
// CHECK-NOT: anvil.rope %arg0
// CHECK: anvil.rope %{{.*}}, %arg1, %arg2 {interleaved = true} : (tensor<3x4xf32>
// CHECK-NOT: anvil.rope
// CHECK: return
func.func @not_every_two(%x: tensor<3x4xf32>, %cos: tensor<3x2xf32>, %sin: tensor<3x2xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x7xf32>) {
  %uneven = anvil.constant dense<[[1.0, 1.0, 0.5, 0.5], [0.25, 0.3, 0.125, 0.125], [0.0, 0.0, 1.0, 1.0]]> : tensor<3x4xf32>
  %sin2 = anvil.constant dense<[[0.0, 0.0, 0.5, 0.5], [0.75, 0.75, 0.25, 0.25], [1.0, 1.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %c0 = anvil.constant dense<0> : tensor<1xi64>
  %c1 = anvil.constant dense<1> : tensor<1xi64>
  %c2 = anvil.constant dense<2> : tensor<1xi64>
  %c5 = anvil.constant dense<5> : tensor<1xi64>
  %cm1 = anvil.constant dense<-1> : tensor<1xi64>
  %cmax = anvil.constant dense<9223372036854775807> : tensor<1xi64>
  %flat = anvil.constant dense<[3, 4]> : tensor<2xi64>
  %e = anvil.slice %x, %c0, %cmax, %cm1, %c2 : (tensor<3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2xf32>
  %o = anvil.slice %x, %c1, %cmax, %cm1, %c2 : (tensor<3x4xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x2xf32>
  %n = anvil.neg %o : (tensor<3x2xf32>) -> tensor<3x2xf32>
  %nu = anvil.unsqueeze %n {axes = array<i64: 2>} : (tensor<3x2xf32>) -> tensor<3x2x1xf32>
  %eu = anvil.unsqueeze %e {axes = array<i64: 2>} : (tensor<3x2xf32>) -> tensor<3x2x1xf32>
  %stack = anvil.concat %nu, %eu {axis = 2 : i64} : (tensor<3x2x1xf32>, tensor<3x2x1xf32>) -> tensor<3x2x2xf32>
  %r = anvil.reshape %stack, %flat : (tensor<3x2x2xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  %a = anvil.mul %uneven, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %b = anvil.mul %sin2, %r : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y1 = anvil.add %a, %b : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wrong = anvil.concat %eu, %nu {axis = 2 : i64} : (tensor<3x2x1xf32>, tensor<3x2x1xf32>) -> tensor<3x2x2xf32>
  %wr = anvil.reshape %wrong, %flat : (tensor<3x2x2xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  %a2 = anvil.mul %sin2, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %b2 = anvil.mul %sin2, %wr : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y2 = anvil.add %a2, %b2 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  // rope(x8[..., :4]) with x8[..., 5:] appended: element 4 is lost.
  %x8 = anvil.concat %x, %x {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x8xf32>
  %c4 = anvil.constant dense<4> : tensor<1xi64>
  %head = anvil.slice %x8, %c0, %c4, %cm1, %c1 : (tensor<3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x4xf32>
  %rope = anvil.rope %head, %cos, %sin {interleaved = true} : (tensor<3x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x4xf32>
  %tail = anvil.slice %x8, %c5, %cmax, %cm1, %c1 : (tensor<3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3x3xf32>
  %y3 = anvil.concat %rope, %tail {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x3xf32>) -> tensor<3x7xf32>
  return %y1, %y2, %y3 : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x7xf32>
}

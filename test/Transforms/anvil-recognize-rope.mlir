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

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

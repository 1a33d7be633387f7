// RUN: anvil-opt %s -split-input-file -canonicalize | FileCheck %s
// GatherND and ScatterElements (reduction none) fold on small constants.
// Expected values are worked out by hand from the ONNX operator
// definitions; an out-of-range index is left for the kernel to report.

// indices [[1, 0], [0, -1]] pick x[1][0] and x[0][2].
// CHECK-LABEL: func.func @gather_nd_elements
// CHECK-NEXT: anvil.constant dense<[4, 3]> : tensor<2xi64>
func.func @gather_nd_elements() -> tensor<2xi64> {
  %x = anvil.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %i = anvil.constant dense<[[1, 0], [0, -1]]> : tensor<2x2xi32>
  %g = anvil.gather_nd %x, %i : (tensor<2x3xi64>, tensor<2x2xi32>) -> tensor<2xi64>
  return %g : tensor<2xi64>
}

// -----

// batch_dims = 1: row b picks its own element [b][i[b]].
// CHECK-LABEL: func.func @gather_nd_batch
// CHECK-NEXT: anvil.constant dense<[3.000000e+00, 4.000000e+00]> : tensor<2xf32>
func.func @gather_nd_batch() -> tensor<2xf32> {
  %x = anvil.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %i = anvil.constant dense<[[2], [0]]> : tensor<2x1xi64>
  %g = anvil.gather_nd %x, %i {batch_dims = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xi64>) -> tensor<2xf32>
  return %g : tensor<2xf32>
}

// -----

// Tuples of one entry pick whole rows.
// CHECK-LABEL: func.func @gather_nd_rows
// CHECK-NEXT: anvil.constant dense<{{\[}}[4, 5, 6], [1, 2, 3], [4, 5, 6]]> : tensor<3x3xi64>
func.func @gather_nd_rows() -> tensor<3x3xi64> {
  %x = anvil.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %i = anvil.constant dense<[[1], [0], [-1]]> : tensor<3x1xi64>
  %g = anvil.gather_nd %x, %i : (tensor<2x3xi64>, tensor<3x1xi64>) -> tensor<3x3xi64>
  return %g : tensor<3x3xi64>
}

// -----

// CHECK-LABEL: func.func @gather_nd_out_of_range
// CHECK: anvil.gather_nd
func.func @gather_nd_out_of_range() -> tensor<1xi64> {
  %x = anvil.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %i = anvil.constant dense<[[2, 0]]> : tensor<1x2xi64>
  %g = anvil.gather_nd %x, %i : (tensor<2x3xi64>, tensor<1x2xi64>) -> tensor<1xi64>
  return %g : tensor<1xi64>
}

// -----

// axis 1: row r gets updates[r][j] at column indices[r][j]; then axis 0:
// index [[0]] at position (0, 0) writes 8 into row 0, column 0.
// CHECK-LABEL: func.func @scatter_elements
// CHECK-NEXT: anvil.constant dense<{{\[}}[8, 7, 0], [0, 0, 9]]> : tensor<2x3xi64>
func.func @scatter_elements() -> tensor<2x3xi64> {
  %x = anvil.constant dense<0> : tensor<2x3xi64>
  %i = anvil.constant dense<[[1], [-1]]> : tensor<2x1xi64>
  %u = anvil.constant dense<[[7], [9]]> : tensor<2x1xi64>
  %s = anvil.scatter_elements %x, %i, %u {axis = 1 : i64} : (tensor<2x3xi64>, tensor<2x1xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
  %j = anvil.constant dense<[[0]]> : tensor<1x1xi64>
  %v = anvil.constant dense<[[8]]> : tensor<1x1xi64>
  %t = anvil.scatter_elements %s, %j, %v {axis = 0 : i64} : (tensor<2x3xi64>, tensor<1x1xi64>, tensor<1x1xi64>) -> tensor<2x3xi64>
  return %t : tensor<2x3xi64>
}

// -----

// Reductions are left to the kernel.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK: anvil.scatter_elements
func.func @scatter_elements_add() -> tensor<3xf32> {
  %x = anvil.constant dense<1.0> : tensor<3xf32>
  %i = anvil.constant dense<[0, 0]> : tensor<2xi64>
  %u = anvil.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %s = anvil.scatter_elements %x, %i, %u {axis = 0 : i64, reduction = "add"} : (tensor<3xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<3xf32>
  return %s : tensor<3xf32>
}

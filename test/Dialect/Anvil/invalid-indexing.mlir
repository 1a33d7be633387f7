// RUN: anvil-opt %s -split-input-file -verify-diagnostics
// Shape inference of the indexing ops rejects operands that
// cannot go together.

func.func @top_k_too_many(%x: tensor<3x4xf32>) {
  %k = anvil.constant dense<5> : tensor<1xi64>
  // expected-error @+1 {{k 5 exceeds the axis size 4}}
  %v, %i = anvil.top_k %x, %k {axis = 1 : i64, largest = true} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x5xf32>, tensor<3x5xi64>)
  return
}

// -----

func.func @top_k_axis(%x: tensor<3x4xf32>, %k: tensor<1xi64>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %v, %i = anvil.top_k %x, %k {axis = 2 : i64, largest = true} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>)
  return
}

// -----

func.func @top_k_two_values(%x: tensor<3x4xf32>, %k: tensor<2xi64>) {
  // expected-error @+1 {{k must hold one value}}
  %v, %i = anvil.top_k %x, %k {axis = 1 : i64, largest = true} : (tensor<3x4xf32>, tensor<2xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>)
  return
}

// -----

func.func @scatter_elements_reduction(%x: tensor<3xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) {
  // expected-error @+1 {{unknown reduction 'sum'}}
  %s = anvil.scatter_elements %x, %i, %u {axis = 0 : i64, reduction = "sum"} : (tensor<3xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @scatter_elements_updates(%x: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x3xf32>) {
  // expected-error @+1 {{updates dim: 3 vs 2}}
  %s = anvil.scatter_elements %x, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x3xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_elements_rank(%x: tensor<3x4xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) {
  // expected-error @+1 {{input and indices must have the same rank}}
  %s = anvil.scatter_elements %x, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<3x4xf32>
  return
}

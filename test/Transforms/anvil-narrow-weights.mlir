// RUN: anvil-opt %s -anvil-narrow-weights=dtype=bf16 -split-input-file | FileCheck %s --check-prefix=BF16
// RUN: anvil-opt %s -anvil-narrow-weights=dtype=f16 -split-input-file | FileCheck %s --check-prefix=F16
// RUN: not anvil-opt %s -anvil-narrow-weights=dtype=f8 -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: anvil-narrow-weights: dtype must be bf16 or f16, not 'f8'

// The weight is rounded to nearest even: 1 + 2^-8 is a tie in bf16 (to
// 1.0), 1 + 3 * 2^-9 rounds up (to 1 + 2^-7); f16 holds both exactly but
// saturates 1e5 to infinity. Activations, result and accumulation stay f32.
// BF16-LABEL: func.func @rounds
// BF16: %[[W:.*]] = anvil.constant dense_resource<narrowed_weight{{.*}}> : tensor<2x2xbf16>
// BF16: anvil.matmul %arg0, %[[W]] : (tensor<3x2xf32>, tensor<2x2xbf16>) -> tensor<3x2xf32>
// F16-LABEL: func.func @rounds
// F16: %[[W:.*]] = anvil.constant dense_resource<narrowed_weight{{.*}}> : tensor<2x2xf16>
// F16: anvil.matmul %arg0, %[[W]] : (tensor<3x2xf32>, tensor<2x2xf16>) -> tensor<3x2xf32>
// The blobs (an alignment word, then little-endian 16-bit values):
// BF16: narrowed_weight: "0x08000000803F813FC347803F"
// F16: narrowed_weight: "0x08000000043C063C007C003C"
func.func @rounds(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = anvil.constant dense<[[1.00390625, 1.005859375], [100000.0, 1.0]]> : tensor<2x2xf32>
  %y = anvil.matmul %x, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A weight the embedding gather also reads keeps its f32 constant for the
// gather; the LM head reads a narrowed copy. Two matmuls of one constant
// share one copy.
// BF16-LABEL: func.func @tied
// BF16-DAG: %[[E:.*]] = anvil.constant dense<{{.*}}> : tensor<4x2xf32>
// BF16-DAG: %[[N:.*]] = anvil.constant dense_resource<{{.*}}> : tensor<4x2xbf16>
// BF16: anvil.gather %[[E]]
// BF16: anvil.matmul %{{.*}}, %[[N]] {transpose_rhs = true}
// BF16: anvil.matmul %{{.*}}, %[[N]] {transpose_rhs = true}
func.func @tied(%ids: tensor<3xi64>, %h: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
  %e = anvil.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %x = anvil.gather %e, %ids {axis = 0 : i64} : (tensor<4x2xf32>, tensor<3xi64>) -> tensor<3x2xf32>
  %l = anvil.matmul %h, %e {transpose_rhs = true} : (tensor<3x2xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  %l2 = anvil.matmul %x, %e {transpose_rhs = true} : (tensor<3x2xf32>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return %x, %l, %l2 : tensor<3x2xf32>, tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// Left alone: activations times activations, f64 products, a batched
// weight.
// BF16-LABEL: func.func @untouched
// BF16-NOT: bf16
func.func @untouched(%x: tensor<3x2xf32>, %y: tensor<2x2xf32>, %d: tensor<3x2xf64>, %b: tensor<2x3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf64>, tensor<2x3x2xf32>) {
  %a = anvil.matmul %x, %y : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %wd = anvil.constant dense<1.0> : tensor<2x2xf64>
  %m = anvil.matmul %d, %wd : (tensor<3x2xf64>, tensor<2x2xf64>) -> tensor<3x2xf64>
  %wb = anvil.constant dense<1.0> : tensor<2x2x2xf32>
  %n = anvil.matmul %b, %wb : (tensor<2x3x2xf32>, tensor<2x2x2xf32>) -> tensor<2x3x2xf32>
  return %a, %m, %n : tensor<3x2xf32>, tensor<3x2xf64>, tensor<2x3x2xf32>
}

// -----

// A constant marked anvil.keep_float (MatMulNBits' float zero point
// correction, computed by the importer) is not a weight: it stays f32.
// BF16-LABEL: func.func @keep_float
// BF16-NOT: bf16
// F16-LABEL: func.func @keep_float
// F16-NOT: f16>
func.func @keep_float(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %c = anvil.constant {anvil.keep_float} dense<0.25> : tensor<4x3xf32>
  %y = anvil.matmul %x, %c {transpose_rhs = true} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

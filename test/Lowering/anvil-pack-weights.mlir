// RUN: anvil-opt %s -anvil-pack-weights=target=cpu | FileCheck %s
// RUN: not anvil-opt %s -anvil-pack-weights=target=nope 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: unknown target 'nope' (registered: cpu)

// Offsets: 64-byte aligned, 4096 from 64 KiB on; identical weights share
// one copy; the section size is recorded on the module.
// CHECK: module attributes {kernel.weight_bytes = 69720 : i64}
// CHECK-LABEL: func.func @offsets
func.func @offsets(%o: memref<3xf32>) {
  // CHECK: kernel.weight[0] dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  %a = kernel.weight dense<[1.0, 2.0, 3.0]> : tensor<3xf32> : memref<3xf32>
  // CHECK: kernel.weight[64] dense<1> : tensor<5xi8>
  %b = kernel.weight dense<1> : tensor<5xi8> : memref<5xi8>
  // CHECK: kernel.weight[0] dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
  %c = kernel.weight dense<[1.0, 2.0, 3.0]> : tensor<3xf32> : memref<3xf32>
  // CHECK: kernel.weight[4096] dense<5.000000e-01> : tensor<16384xf32>
  %d = kernel.weight dense<0.5> : tensor<16384xf32> : memref<16384xf32>
  return
}

// The cpu hook stores a matmul's [N, K] weight as [K, N]: it gives the
// weight layout "kn" and a [K, N] buffer and tells the launch; the value
// keeps its [N, K] bytes (they are transposed only as the weight section is
// written, test/Codegen/weight-layout.test).
// CHECK-LABEL: func.func @transposed
func.func @transposed(%x: memref<1x2xf32>, %o: memref<1x3xf32>, %o2: memref<1x3xf32>) {
  // CHECK: %[[W:.*]] = kernel.weight[69632] dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32> {layout = "kn"} : memref<2x3xf32>
  // CHECK: kernel.launch "matmul" ins(%{{.*}}, %[[W]] : memref<1x2xf32>, memref<2x3xf32>)
  // CHECK-SAME: transpose_rhs = false
  %w = kernel.weight dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32> : memref<3x2xf32>
  kernel.launch "matmul" ins(%x, %w : memref<1x2xf32>, memref<3x2xf32>) outs(%o : memref<1x3xf32>) params {batch = array<i64>, batch_rank = 0 : i64, k = 2 : i64, lhs_batch_strides = array<i64>, m = 1 : i64, n = 3 : i64, rhs_batch_strides = array<i64>, transpose_rhs = true}
  // The same value read untransposed keeps its own copy and its layout:
  // weights share an offset only when value and layout agree.
  // CHECK: %[[V:.*]] = kernel.weight[69696] dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32> : memref<3x2xf32>
  // CHECK: kernel.launch "copy_strided" ins(%[[V]] : memref<3x2xf32>)
  %v = kernel.weight dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32> : memref<3x2xf32>
  kernel.launch "copy_strided" ins(%v : memref<3x2xf32>) outs(%o2 : memref<1x3xf32>) params {dst_offset = 0 : i64, dst_strides = array<i64: 1>, rank = 1 : i64, shape = array<i64: 3>, src_offset = 0 : i64, src_strides = array<i64: 2>}
  return
}

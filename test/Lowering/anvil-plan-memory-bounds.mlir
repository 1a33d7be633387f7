// RUN: anvil-opt %s -split-input-file -anvil-plan-memory -verify-diagnostics

// Bounds so large that a buffer's bytes at the largest size do not fit in
// int64 are refused by name: planned with the wrapped size (here 2^62 rows
// of 8 floats, 2^67 bytes, would wrap to 0) every run would write past the
// arena.
#rows = affine_map<()[s0] -> (s0, 8)>
#n = affine_map<()[s0] -> (s0)>
func.func @huge_buffer(%x: memref<?x8xf32> {kernel.dims = #rows}, %o: memref<?x8xf32> {kernel.dims = #rows}) attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 4611686018427387904 : i64}]} {
  // expected-error @+1 {{'kernel.alloc' op needs more than 2^63 bytes at the largest sizes the bounds allow (seq <= 4611686018427387904); lower the bounds}}
  %a = kernel.alloc {kernel.dims = #rows} : memref<?x8xf32>
  kernel.launch "softmax" ins(%x : memref<?x8xf32>) outs(%a : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  kernel.launch "softmax" ins(%a : memref<?x8xf32>) outs(%o : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  return
}

// -----

// Each buffer fits (2^57 rows of 8 floats: 2^62 bytes), the two together do
// not.
#rows = affine_map<()[s0] -> (s0, 8)>
#n = affine_map<()[s0] -> (s0)>
// expected-error @+1 {{'func.func' op needs more than 2^63 bytes at the largest sizes the bounds allow (seq <= 144115188075855872); lower the bounds}}
func.func @huge_arena(%x: memref<?x8xf32> {kernel.dims = #rows}, %o: memref<?x8xf32> {kernel.dims = #rows}) attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 144115188075855872 : i64}]} {
  %a = kernel.alloc {kernel.dims = #rows} : memref<?x8xf32>
  kernel.launch "softmax" ins(%x : memref<?x8xf32>) outs(%a : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  %b = kernel.alloc {kernel.dims = #rows} : memref<?x8xf32>
  kernel.launch "softmax" ins(%a : memref<?x8xf32>) outs(%b : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  kernel.launch "softmax" ins(%b : memref<?x8xf32>) outs(%o : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  return
}

// -----

// So are static buffers too large to count (bound with a size as large as
// --dim accepts).
func.func @huge_static(%x: memref<4611686018427387904x8xf32>, %o: memref<4611686018427387904x8xf32>) {
  // expected-error @+1 {{'kernel.alloc' op needs more than 2^63 bytes; bind smaller sizes}}
  %a = kernel.alloc : memref<4611686018427387904x8xf32>
  kernel.launch "softmax" ins(%x : memref<4611686018427387904x8xf32>) outs(%a : memref<4611686018427387904x8xf32>) params {inner = 1 : i64, log = false, outer = 4611686018427387904 : i64, size = 8 : i64}
  kernel.launch "softmax" ins(%a : memref<4611686018427387904x8xf32>) outs(%o : memref<4611686018427387904x8xf32>) params {inner = 1 : i64, log = false, outer = 4611686018427387904 : i64, size = 8 : i64}
  return
}

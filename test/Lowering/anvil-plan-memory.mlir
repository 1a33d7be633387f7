// RUN: anvil-opt %s -split-input-file -anvil-plan-memory | FileCheck %s

// Dead buffers' bytes are reused; the plan is recorded on the function.
// 1 KiB buffers: %a dies once %b is computed, so %c takes its place.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: kernel.arena_bytes = 2048 : i64, kernel.naive_arena_bytes = 3072 : i64
func.func @reuse(%x: memref<256xf32>, %o: memref<256xf32>) {
  // CHECK: %[[A:.*]] = kernel.buffer arena[[[OA:[0-9]+]]] : memref<256xf32>
  %a = kernel.alloc : memref<256xf32>
  kernel.launch "softmax" ins(%x : memref<256xf32>) outs(%a : memref<256xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  // CHECK: %[[B:.*]] = kernel.buffer arena[[[OB:[0-9]+]]] : memref<256xf32>
  %b = kernel.alloc : memref<256xf32>
  kernel.launch "softmax" ins(%a : memref<256xf32>) outs(%b : memref<256xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  // CHECK: kernel.buffer arena[[[OA]]] : memref<256xf32>
  %c = kernel.alloc : memref<256xf32>
  kernel.launch "softmax" ins(%b : memref<256xf32>) outs(%c : memref<256xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  kernel.launch "softmax" ins(%c : memref<256xf32>) outs(%o : memref<256xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  return
}

// -----

// Views keep their source alive; offsets are 64-byte aligned.
// CHECK-LABEL: func.func @views
// CHECK-SAME: kernel.arena_bytes = 128 : i64, kernel.naive_arena_bytes = 192 : i64
func.func @views(%x: memref<3xf32>, %o: memref<3xf32>) {
  // CHECK: kernel.buffer arena[0] : memref<3xf32>
  %a = kernel.alloc : memref<3xf32>
  kernel.launch "softmax" ins(%x : memref<3xf32>) outs(%a : memref<3xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  %v = kernel.view %a : memref<3xf32> to memref<1x3xf32>
  // CHECK: kernel.buffer arena[64] : memref<3xf32>
  %b = kernel.alloc : memref<3xf32>
  kernel.launch "softmax" ins(%x : memref<3xf32>) outs(%b : memref<3xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  // %a is still read here through %v: %c cannot take its bytes.
  // CHECK: kernel.buffer arena[64] : memref<1x3xf32>
  %c = kernel.alloc : memref<1x3xf32>
  kernel.launch "softmax" ins(%v : memref<1x3xf32>) outs(%c : memref<1x3xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  kernel.launch "softmax" ins(%c : memref<1x3xf32>) outs(%o : memref<3xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  return
}

// -----

// An elementwise loop overwrites an input that dies there and has its
// shape; a broadcast input is never overwritten.
// CHECK-LABEL: func.func @in_place
// CHECK-SAME: kernel.arena_bytes = 1088 : i64
func.func @in_place(%x: memref<256xf32>, %r: memref<1xf32>, %o: memref<256xf32>) {
  // CHECK: kernel.buffer arena[0] : memref<256xf32>
  %a = kernel.alloc : memref<256xf32>
  kernel.launch "softmax" ins(%x : memref<256xf32>) outs(%a : memref<256xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  // CHECK: kernel.buffer arena[1024] : memref<1xf32>
  %s = kernel.alloc : memref<1xf32>
  kernel.launch "reduce" ins(%x : memref<256xf32>) outs(%s : memref<1xf32>) params {inner = 1 : i64, kind = "sum", outer = 1 : i64, size = 256 : i64}
  // CHECK: kernel.buffer arena[0] : memref<256xf32>
  %b = kernel.alloc : memref<256xf32>
  kernel.elementwise ins(%a, %s : memref<256xf32>, memref<1xf32>) outs(%b : memref<256xf32>) {
  ^bb0(%p: f32, %q: f32):
    %d = arith.divf %p, %q : f32
    kernel.yield %d : f32
  }
  kernel.launch "softmax" ins(%b : memref<256xf32>) outs(%o : memref<256xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 256 : i64}
  return
}

// -----

// A widening loop (f32 -> i64) is never in place: writing element i would
// clobber input element i + 1. Both buffers round to 64 bytes.
// CHECK-LABEL: func.func @widening
// CHECK-SAME: kernel.arena_bytes = 128 : i64
func.func @widening(%x: memref<2xf32>, %o: memref<2xi64>) {
  // CHECK: kernel.buffer arena[[[S:[0-9]+]]] : memref<2xf32>
  %s = kernel.alloc : memref<2xf32>
  kernel.launch "reduce" ins(%x : memref<2xf32>) outs(%s : memref<2xf32>) params {inner = 1 : i64, kind = "sum", outer = 1 : i64, size = 256 : i64}
  // CHECK-NOT: kernel.buffer arena[[[S]]] : memref<2xi64>
  // CHECK: kernel.buffer arena[{{[0-9]+}}] : memref<2xi64>
  %c = kernel.alloc : memref<2xi64>
  kernel.elementwise ins(%s : memref<2xf32>) outs(%c : memref<2xi64>) {
  ^bb0(%a: f32):
    %i = arith.fptosi %a : f32 to i64
    kernel.yield %i : i64
  }
  kernel.launch "copy_strided" ins(%c : memref<2xi64>) outs(%o : memref<2xi64>) params {dst_offset = 0 : i64, dst_strides = array<i64: 1>, rank = 1 : i64, shape = array<i64: 2>, src_offset = 0 : i64, src_strides = array<i64: 1>}
  return
}

// -----

// Bounded dims: buffers are planned at the largest size the bounds allow
// (2 * 64 rows of 8 floats: 4096 bytes each), so the offsets stay static;
// the arena slots keep their dims. An elementwise loop over buffers of the
// same dim expressions still works in place.
// CHECK-LABEL: func.func @bounded
// CHECK-SAME: kernel.arena_bytes = 8192 : i64
#rows = affine_map<()[s0] -> (s0 * 2, 8)>
#n = affine_map<()[s0] -> (s0 * 2)>
func.func @bounded(%x: memref<?x8xf32> {kernel.dims = #rows}, %o: memref<?x8xf32> {kernel.dims = #rows}) attributes {kernel.sizes = [{name = "seq", min = 1 : i64, max = 64 : i64}]} {
  // CHECK: %[[A:.*]] = kernel.buffer arena[[[OA:[0-9]+]]] {kernel.dims = #{{.*}}} : memref<?x8xf32>
  %a = kernel.alloc {kernel.dims = #rows} : memref<?x8xf32>
  kernel.launch "softmax" ins(%x : memref<?x8xf32>) outs(%a : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  // CHECK: kernel.buffer arena[[[OA]]] {kernel.dims = #{{.*}}} : memref<?x8xf32>
  %b = kernel.alloc {kernel.dims = #rows} : memref<?x8xf32>
  kernel.elementwise ins(%a : memref<?x8xf32>) outs(%b : memref<?x8xf32>) {
  ^bb0(%p: f32):
    %e = math.exp %p : f32
    kernel.yield %e : f32
  }
  // CHECK: kernel.buffer arena[[[OC:[0-9]+]]] {kernel.dims = #{{.*}}} : memref<?x8xf32>
  // CHECK-NOT: arena[[[OA]]]
  %c = kernel.alloc {kernel.dims = #rows} : memref<?x8xf32>
  kernel.launch "softmax" ins(%b : memref<?x8xf32>) outs(%c : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  kernel.launch "softmax" ins(%c : memref<?x8xf32>) outs(%o : memref<?x8xf32>) params {inner = 1 : i64, log = false, outer = #n, size = 8 : i64}
  return
}

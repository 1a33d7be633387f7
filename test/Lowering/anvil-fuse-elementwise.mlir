// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise | FileCheck %s
// RUN: anvil-opt %s -split-input-file -anvil-fuse-elementwise=max-ops=2 | FileCheck %s --check-prefix=CAP

// A chain of three loops becomes one; the intermediates disappear.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: memref<8xf32>, %[[Y:.*]]: memref<8xf32>, %[[O:.*]]: memref<8xf32>)
func.func @chain(%x: memref<8xf32>, %y: memref<8xf32>, %o: memref<8xf32>) {
  // CHECK-NOT: kernel.alloc
  // CHECK: kernel.elementwise ins(%[[Y]], %[[X]] : memref<8xf32>, memref<8xf32>) outs(%[[O]] : memref<8xf32>) {
  // CHECK-NEXT: ^bb0(%[[B:.*]]: f32, %[[A:.*]]: f32):
  // CHECK-NEXT: %[[E:.*]] = math.exp %[[A]] : f32
  // CHECK-NEXT: %[[N:.*]] = arith.negf %[[E]] : f32
  // CHECK-NEXT: %[[S:.*]] = arith.addf %[[N]], %[[B]] : f32
  // CHECK-NEXT: kernel.yield %[[S]] : f32
  // CHECK-NOT: kernel.elementwise
  %t = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%x : memref<8xf32>) outs(%t : memref<8xf32>) {
  ^bb0(%a: f32):
    %e = math.exp %a : f32
    kernel.yield %e : f32
  }
  %u = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%t : memref<8xf32>) outs(%u : memref<8xf32>) {
  ^bb0(%a: f32):
    %n = arith.negf %a : f32
    kernel.yield %n : f32
  }
  kernel.elementwise ins(%u, %y : memref<8xf32>, memref<8xf32>) outs(%o : memref<8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    kernel.yield %s : f32
  }
  return
}

// -----

// Not fused: the intermediate has two readers (fusing would compute it
// twice), or is broadcast by its reader (fusing would compute it per
// output element).
// CHECK-LABEL: func.func @kept
func.func @kept(%x: memref<8xf32>, %o1: memref<8xf32>, %o2: memref<8xf32>, %o3: memref<4x8xf32>) {
  // CHECK: %[[T:.*]] = kernel.alloc : memref<8xf32>
  // CHECK-COUNT-4: kernel.elementwise
  %t = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%x : memref<8xf32>) outs(%t : memref<8xf32>) {
  ^bb0(%a: f32):
    %e = math.exp %a : f32
    kernel.yield %e : f32
  }
  kernel.elementwise ins(%t : memref<8xf32>) outs(%o1 : memref<8xf32>) {
  ^bb0(%a: f32):
    %n = arith.negf %a : f32
    kernel.yield %n : f32
  }
  kernel.elementwise ins(%t : memref<8xf32>) outs(%o2 : memref<8xf32>) {
  ^bb0(%a: f32):
    %n = math.sqrt %a : f32
    kernel.yield %n : f32
  }
  %b = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%x : memref<8xf32>) outs(%b : memref<8xf32>) {
  ^bb0(%a: f32):
    %e = math.exp %a : f32
    kernel.yield %e : f32
  }
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<8xf32>) outs(%{{.*}} : memref<4x8xf32>)
  kernel.elementwise ins(%b : memref<8xf32>) outs(%o3 : memref<4x8xf32>) {
  ^bb0(%a: f32):
    kernel.yield %a : f32
  }
  return
}

// -----

// A launch reading the intermediate keeps it.
// CHECK-LABEL: func.func @launch_reader
func.func @launch_reader(%x: memref<8xf32>, %o: memref<8xf32>, %o2: memref<8xf32>) {
  // CHECK: kernel.alloc
  // CHECK-COUNT-2: kernel.elementwise
  %t = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%x : memref<8xf32>) outs(%t : memref<8xf32>) {
  ^bb0(%a: f32):
    %e = math.exp %a : f32
    kernel.yield %e : f32
  }
  kernel.elementwise ins(%t : memref<8xf32>) outs(%o : memref<8xf32>) {
  ^bb0(%a: f32):
    %n = arith.negf %a : f32
    kernel.yield %n : f32
  }
  kernel.launch "softmax" ins(%t : memref<8xf32>) outs(%o2 : memref<8xf32>) params {inner = 1 : i64, log = false, outer = 1 : i64, size = 8 : i64}
  return
}

// -----

// Unsigned buffers keep signless scalars in the fused loop.
// CHECK-LABEL: func.func @unsigned
func.func @unsigned(%x: memref<8xui8>, %o: memref<8xf32>) {
  // CHECK: kernel.elementwise ins(%{{.*}} : memref<8xui8>) outs(%{{.*}} : memref<8xf32>) {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: i8):
  // CHECK-NEXT: arith.uitofp %[[A]] : i8 to f32
  // CHECK-NEXT: math.sqrt
  %t = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%x : memref<8xui8>) outs(%t : memref<8xf32>) {
  ^bb0(%a: i8):
    %f = arith.uitofp %a : i8 to f32
    kernel.yield %f : f32
  }
  kernel.elementwise ins(%t : memref<8xf32>) outs(%o : memref<8xf32>) {
  ^bb0(%a: f32):
    %s = math.sqrt %a : f32
    kernel.yield %s : f32
  }
  return
}

// -----

// A tree fuses into one loop: inputs are the root's own, then each
// producer's in input order; bodies run producers first, in input order.
// With max-ops=2 the loops stop growing at two body ops: the root takes
// its first producer (1 + 1 ops) and keeps the second's buffer (a third
// op would pass the bound).
// CHECK-LABEL: func.func @tree
// CHECK-SAME: (%[[X:.*]]: memref<8xf32>, %[[Y:.*]]: memref<8xf32>, %[[O:.*]]: memref<8xf32>)
// CAP-LABEL: func.func @tree
func.func @tree(%x: memref<8xf32>, %y: memref<8xf32>, %o: memref<8xf32>) {
  // CHECK-NOT: kernel.alloc
  // CHECK: kernel.elementwise ins(%[[X]], %[[Y]] : memref<8xf32>, memref<8xf32>) outs(%[[O]] : memref<8xf32>) {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32):
  // CHECK-NEXT: %[[E:.*]] = math.exp %[[A]] : f32
  // CHECK-NEXT: %[[N:.*]] = arith.negf %[[B]] : f32
  // CHECK-NEXT: %[[S:.*]] = arith.addf %[[E]], %[[N]] : f32
  // CHECK-NEXT: kernel.yield %[[S]] : f32
  // CHECK-NOT: kernel.elementwise
  // CAP: %[[T:.*]] = kernel.alloc : memref<8xf32>
  // CAP: kernel.elementwise ins(%{{.*}} : memref<8xf32>) outs(%[[T]] : memref<8xf32>)
  // CAP: arith.negf
  // CAP-NOT: kernel.alloc
  // CAP: kernel.elementwise ins(%[[T]], %{{.*}} : memref<8xf32>, memref<8xf32>) outs(%{{.*}} : memref<8xf32>)
  // CAP-NEXT: ^bb0
  // CAP-NEXT: math.exp
  // CAP-NEXT: arith.addf
  // CAP-NOT: kernel.elementwise
  %t = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%x : memref<8xf32>) outs(%t : memref<8xf32>) {
  ^bb0(%a: f32):
    %e = math.exp %a : f32
    kernel.yield %e : f32
  }
  %u = kernel.alloc : memref<8xf32>
  kernel.elementwise ins(%y : memref<8xf32>) outs(%u : memref<8xf32>) {
  ^bb0(%a: f32):
    %n = arith.negf %a : f32
    kernel.yield %n : f32
  }
  kernel.elementwise ins(%t, %u : memref<8xf32>, memref<8xf32>) outs(%o : memref<8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    kernel.yield %s : f32
  }
  return
}

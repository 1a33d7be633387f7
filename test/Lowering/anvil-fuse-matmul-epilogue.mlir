// RUN: anvil-opt %s -split-input-file -anvil-fuse-matmul-epilogue | FileCheck %s

#mm = {batch = array<i64>, batch_rank = 0 : i64, k = 4 : i64, lhs_batch_strides = array<i64>, m = 6 : i64, n = 8 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}

// A bias add and a residual add (a chain fuse-elementwise merged) after a
// matmul of [2, 3, 4] rows: the launch writes the loop's output, the loop
// reads it in place as the launch's epilogue, the intermediate is gone.
// CHECK-LABEL: func.func @bias_residual
// CHECK-SAME: (%[[X:.*]]: memref<2x3x4xf32>, %[[B:.*]]: memref<8xf32>, %[[R:.*]]: memref<2x3x8xf32>, %[[O:.*]]: memref<2x3x8xf32>)
func.func @bias_residual(%x: memref<2x3x4xf32>, %bias: memref<8xf32>, %res: memref<2x3x8xf32>, %o: memref<2x3x8xf32>) {
  // CHECK-NOT: kernel.alloc
  // CHECK: kernel.launch "matmul" ins(%[[X]], %{{.*}} : memref<2x3x4xf32>, memref<4x8xf32>) outs(%[[O]] : memref<2x3x8xf32>)
  // CHECK-NEXT: kernel.elementwise ins(%[[O]], %[[B]], %[[R]] : memref<2x3x8xf32>, memref<8xf32>, memref<2x3x8xf32>) outs(%[[O]] : memref<2x3x8xf32>)
  // CHECK: } {kernel.epilogue}
  %w = kernel.weight dense<0.5> : tensor<4x8xf32> : memref<4x8xf32>
  %t = kernel.alloc : memref<2x3x8xf32>
  kernel.launch "matmul" ins(%x, %w : memref<2x3x4xf32>, memref<4x8xf32>) outs(%t : memref<2x3x8xf32>) params #mm
  kernel.elementwise ins(%t, %bias, %res : memref<2x3x8xf32>, memref<8xf32>, memref<2x3x8xf32>) outs(%o : memref<2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32, %r: f32):
    %s = arith.addf %a, %b : f32
    %u = arith.addf %s, %r : f32
    kernel.yield %u : f32
  }
  return
}

// -----

#mq = {bits = 8 : i64, group = 4 : i64, k = 4 : i64, k_stored = 4 : i64, lhs_bf16 = false, lhs_runtime = false, lhs_scale = 0.000000e+00 : f64, lhs_unsigned = false, lhs_zero_point = 0 : i64, m = 6 : i64, n = 8 : i64, quantize_lhs = false, rhs_kn = false, scale_g_stride = 0 : i64, scale_n_stride = 1 : i64, zero_offset = 128 : i64}

// matmul_quant takes one too, here a per-row scale ([6, 1]: n 1 last) into
// an intermediate, whose alloc and the loop's weight (defined after the
// launch) move up to the launch; a relu follows as an ordinary loop.
// CHECK-LABEL: func.func @quant_per_row
func.func @quant_per_row(%x: memref<6x4xf32>, %rs: memref<6x1xf32>, %o: memref<6x8xf32>) {
  // CHECK: %[[C:.*]] = kernel.weight dense<2.000000e+00> : tensor<8xf32>
  // CHECK: %[[Y:.*]] = kernel.alloc : memref<6x8xf32>
  // CHECK: kernel.launch "matmul_quant" {{.*}} outs(%[[Y]] : memref<6x8xf32>)
  // CHECK-NEXT: kernel.elementwise ins(%[[Y]], %{{.*}}, %[[C]] : memref<6x8xf32>, memref<6x1xf32>, memref<8xf32>) outs(%[[Y]] : memref<6x8xf32>)
  // CHECK: } {kernel.epilogue}
  // CHECK: kernel.elementwise ins(%[[Y]] : memref<6x8xf32>) outs(%{{.*}} : memref<6x8xf32>) {
  // CHECK-NOT: kernel.epilogue
  %q = kernel.weight dense<3> : tensor<8x4xi8> : memref<8x4xi8>
  %s = kernel.weight dense<0.25> : tensor<8xf32> : memref<8xf32>
  %t = kernel.alloc : memref<6x8xf32>
  kernel.launch "matmul_quant" ins(%x, %q, %s : memref<6x4xf32>, memref<8x4xi8>, memref<8xf32>) outs(%t : memref<6x8xf32>) params #mq
  %c = kernel.weight dense<2.0> : tensor<8xf32> : memref<8xf32>
  %y = kernel.alloc : memref<6x8xf32>
  kernel.elementwise ins(%t, %rs, %c : memref<6x8xf32>, memref<6x1xf32>, memref<8xf32>) outs(%y : memref<6x8xf32>) {
  ^bb0(%a: f32, %r: f32, %b: f32):
    %p = arith.mulf %a, %r : f32
    %u = arith.addf %p, %b : f32
    kernel.yield %u : f32
  }
  kernel.elementwise ins(%y : memref<6x8xf32>) outs(%o : memref<6x8xf32>) {
  ^bb0(%a: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maxf %a, %z : f32
    kernel.yield %m : f32
  }
  return
}

// -----

#mm = {batch = array<i64>, batch_rank = 0 : i64, k = 4 : i64, lhs_batch_strides = array<i64>, m = 6 : i64, n = 8 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}

// SwiGLU's product: two matmuls feed one loop; the later launch takes it
// and reads the earlier one's result as an ordinary input.
// CHECK-LABEL: func.func @two_matmuls
func.func @two_matmuls(%x: memref<6x4xf32>, %o: memref<6x8xf32>) {
  // CHECK: kernel.launch "matmul" {{.*}} outs(%[[G:.*]] : memref<6x8xf32>)
  // CHECK: kernel.launch "matmul" {{.*}} outs(%[[O:.*]] : memref<6x8xf32>)
  // CHECK-NEXT: kernel.elementwise ins(%[[G]], %[[O]] : memref<6x8xf32>, memref<6x8xf32>) outs(%[[O]] : memref<6x8xf32>)
  // CHECK: } {kernel.epilogue}
  %w = kernel.weight dense<0.5> : tensor<4x8xf32> : memref<4x8xf32>
  %v = kernel.weight dense<0.25> : tensor<4x8xf32> : memref<4x8xf32>
  %g = kernel.alloc : memref<6x8xf32>
  kernel.launch "matmul" ins(%x, %w : memref<6x4xf32>, memref<4x8xf32>) outs(%g : memref<6x8xf32>) params #mm
  %u = kernel.alloc : memref<6x8xf32>
  kernel.launch "matmul" ins(%x, %v : memref<6x4xf32>, memref<4x8xf32>) outs(%u : memref<6x8xf32>) params #mm
  kernel.elementwise ins(%g, %u : memref<6x8xf32>, memref<6x8xf32>) outs(%o : memref<6x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %p = arith.mulf %a, %b : f32
    kernel.yield %p : f32
  }
  return
}

// -----

#mm = {batch = array<i64>, batch_rank = 0 : i64, k = 4 : i64, lhs_batch_strides = array<i64>, m = 6 : i64, n = 8 : i64, rhs_batch_strides = array<i64>, rhs_panel = 0 : i64, transpose_rhs = false}

// Not fused: the result has two readers; a loop broadcasts an input over
// some leading dims only ([2, 1, 8] over [2, 3, 8] rows); an input is
// written between the launch and the loop.
// CHECK-LABEL: func.func @not_fused
func.func @not_fused(%x: memref<6x4xf32>, %x3: memref<2x3x4xf32>, %p: memref<2x1x8xf32>, %o1: memref<6x8xf32>, %o2: memref<6x8xf32>, %o3: memref<2x3x8xf32>, %o4: memref<6x8xf32>) {
  // CHECK-NOT: kernel.epilogue
  %w = kernel.weight dense<0.5> : tensor<4x8xf32> : memref<4x8xf32>
  %t = kernel.alloc : memref<6x8xf32>
  kernel.launch "matmul" ins(%x, %w : memref<6x4xf32>, memref<4x8xf32>) outs(%t : memref<6x8xf32>) params #mm
  kernel.elementwise ins(%t : memref<6x8xf32>) outs(%o1 : memref<6x8xf32>) {
  ^bb0(%a: f32):
    %n = arith.negf %a : f32
    kernel.yield %n : f32
  }
  kernel.elementwise ins(%t : memref<6x8xf32>) outs(%o2 : memref<6x8xf32>) {
  ^bb0(%a: f32):
    %e = math.exp %a : f32
    kernel.yield %e : f32
  }
  %t3 = kernel.alloc : memref<2x3x8xf32>
  kernel.launch "matmul" ins(%x3, %w : memref<2x3x4xf32>, memref<4x8xf32>) outs(%t3 : memref<2x3x8xf32>) params #mm
  kernel.elementwise ins(%t3, %p : memref<2x3x8xf32>, memref<2x1x8xf32>) outs(%o3 : memref<2x3x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    kernel.yield %s : f32
  }
  %t4 = kernel.alloc : memref<6x8xf32>
  kernel.launch "matmul" ins(%x, %w : memref<6x4xf32>, memref<4x8xf32>) outs(%t4 : memref<6x8xf32>) params #mm
  %late = kernel.alloc : memref<6x8xf32>
  kernel.elementwise ins(%o1 : memref<6x8xf32>) outs(%late : memref<6x8xf32>) {
  ^bb0(%a: f32):
    kernel.yield %a : f32
  }
  kernel.elementwise ins(%t4, %late : memref<6x8xf32>, memref<6x8xf32>) outs(%o4 : memref<6x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    kernel.yield %s : f32
  }
  return
}

// -----

#bmm = {batch = array<i64: 2>, batch_rank = 1 : i64, k = 4 : i64, lhs_batch_strides = array<i64: 12>, m = 3 : i64, n = 8 : i64, rhs_batch_strides = array<i64: 32>, rhs_panel = 0 : i64, transpose_rhs = false}

// Not fused: a batched matmul (batch_rank 1), whose kernel takes no
// epilogue.
// CHECK-LABEL: func.func @batched
func.func @batched(%x: memref<2x3x4xf32>, %o: memref<2x3x8xf32>) {
  // CHECK-NOT: kernel.epilogue
  %w = kernel.weight dense<0.5> : tensor<2x4x8xf32> : memref<2x4x8xf32>
  %t = kernel.alloc : memref<2x3x8xf32>
  kernel.launch "matmul" ins(%x, %w : memref<2x3x4xf32>, memref<2x4x8xf32>) outs(%t : memref<2x3x8xf32>) params #bmm
  kernel.elementwise ins(%t : memref<2x3x8xf32>) outs(%o : memref<2x3x8xf32>) {
  ^bb0(%a: f32):
    %n = arith.negf %a : f32
    kernel.yield %n : f32
  }
  return
}

// -----

#cv = {c = 3 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 5 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 8 : i64, n = 2 : i64, oh = 5 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}

// A convolution takes one too, its [2, 8, 5, 6] output seen as 16 rows
// (image, channel) of 30 pixel columns: a residual of the same shape and a
// [5, 6] plane broadcast over the rows both index that way.
// CHECK-LABEL: func.func @conv_residual_relu
// CHECK-SAME: (%[[X:.*]]: memref<2x3x5x6xf32>, %[[R:.*]]: memref<2x8x5x6xf32>, %[[P:.*]]: memref<5x6xf32>, %[[O:.*]]: memref<2x8x5x6xf32>)
func.func @conv_residual_relu(%x: memref<2x3x5x6xf32>, %res: memref<2x8x5x6xf32>, %plane: memref<5x6xf32>, %o: memref<2x8x5x6xf32>) {
  // CHECK-NOT: kernel.alloc
  // CHECK: kernel.launch "conv2d" ins(%[[X]], %{{.*}} : memref<2x3x5x6xf32>, memref<8x3x3x3xf32>) outs(%[[O]] : memref<2x8x5x6xf32>)
  // CHECK-NEXT: kernel.elementwise ins(%[[O]], %[[R]], %[[P]] : {{.*}}) outs(%[[O]] : memref<2x8x5x6xf32>)
  // CHECK: } {kernel.epilogue}
  %w = kernel.weight dense<0.5> : tensor<8x3x3x3xf32> : memref<8x3x3x3xf32>
  %t = kernel.alloc : memref<2x8x5x6xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<2x3x5x6xf32>, memref<8x3x3x3xf32>) outs(%t : memref<2x8x5x6xf32>) params #cv
  kernel.elementwise ins(%t, %res, %plane : memref<2x8x5x6xf32>, memref<2x8x5x6xf32>, memref<5x6xf32>) outs(%o : memref<2x8x5x6xf32>) {
  ^bb0(%a: f32, %r: f32, %q: f32):
    %s = arith.addf %a, %r : f32
    %u = arith.addf %s, %q : f32
    %z = arith.constant 0.0 : f32
    %m = arith.maxf %u, %z : f32
    kernel.yield %m : f32
  }
  return
}

// -----

#cv = {c = 3 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 5 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 8 : i64, n = 2 : i64, oh = 5 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}

// A per-channel scale of a batch of two ([8, 1, 1]: the rows would need
// the channel, row % 8) and a per-row operand ([5, 1]: some spatial dims
// only) cannot be indexed by (row, column): no epilogue.
// CHECK-LABEL: func.func @conv_channel_scale
// CHECK: kernel.alloc
// CHECK: kernel.launch "conv2d"
// CHECK-NOT: kernel.epilogue
func.func @conv_channel_scale(%x: memref<2x3x5x6xf32>, %s: memref<8x1x1xf32>, %o: memref<2x8x5x6xf32>) {
  %w = kernel.weight dense<0.5> : tensor<8x3x3x3xf32> : memref<8x3x3x3xf32>
  %t = kernel.alloc : memref<2x8x5x6xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<2x3x5x6xf32>, memref<8x3x3x3xf32>) outs(%t : memref<2x8x5x6xf32>) params #cv
  kernel.elementwise ins(%t, %s : memref<2x8x5x6xf32>, memref<8x1x1xf32>) outs(%o : memref<2x8x5x6xf32>) {
  ^bb0(%a: f32, %c: f32):
    %u = arith.mulf %a, %c : f32
    kernel.yield %u : f32
  }
  return
}

// -----

#cv = {c = 3 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 5 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 8 : i64, n = 1 : i64, oh = 5 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}

// CHECK-LABEL: func.func @conv_spatial_row
// CHECK: kernel.alloc
// CHECK: kernel.launch "conv2d"
// CHECK-NOT: kernel.epilogue
func.func @conv_spatial_row(%x: memref<1x3x5x6xf32>, %s: memref<5x1xf32>, %o: memref<1x8x5x6xf32>) {
  %w = kernel.weight dense<0.5> : tensor<8x3x3x3xf32> : memref<8x3x3x3xf32>
  %t = kernel.alloc : memref<1x8x5x6xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<1x3x5x6xf32>, memref<8x3x3x3xf32>) outs(%t : memref<1x8x5x6xf32>) params #cv
  kernel.elementwise ins(%t, %s : memref<1x8x5x6xf32>, memref<5x1xf32>) outs(%o : memref<1x8x5x6xf32>) {
  ^bb0(%a: f32, %c: f32):
    %u = arith.mulf %a, %c : f32
    kernel.yield %u : f32
  }
  return
}

// -----

#cv = {c = 3 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 5 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 8 : i64, n = 1 : i64, oh = 5 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}

// With one image a per-channel scale ([8, 1, 1]: one per row) is indexed
// by the row: fused.
// CHECK-LABEL: func.func @conv_channel_scale_one_image
// CHECK-NOT: kernel.alloc
// CHECK: kernel.launch "conv2d"
// CHECK-NEXT: kernel.elementwise
// CHECK: } {kernel.epilogue}
func.func @conv_channel_scale_one_image(%x: memref<1x3x5x6xf32>, %s: memref<8x1x1xf32>, %o: memref<1x8x5x6xf32>) {
  %w = kernel.weight dense<0.5> : tensor<8x3x3x3xf32> : memref<8x3x3x3xf32>
  %t = kernel.alloc : memref<1x8x5x6xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<1x3x5x6xf32>, memref<8x3x3x3xf32>) outs(%t : memref<1x8x5x6xf32>) params #cv
  kernel.elementwise ins(%t, %s : memref<1x8x5x6xf32>, memref<8x1x1xf32>) outs(%o : memref<1x8x5x6xf32>) {
  ^bb0(%a: f32, %c: f32):
    %u = arith.mulf %a, %c : f32
    kernel.yield %u : f32
  }
  return
}

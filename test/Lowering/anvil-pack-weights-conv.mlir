// RUN: anvil-opt %s -anvil-pack-weights=target=cpu | FileCheck %s

// The cpu hook stores a float conv2d's [M, C, kh, kw] weight as [K, M] in
// column panels ("nk_panels32", K = C x kh x kw) where the kernel's pixel
// rows pay (backends/cpu/kernels/conv_gemm.h): group 1, at least 256
// output channels, output planes of at most 256 pixels whose 32-pixel
// panels would leave more than a tenth of the lanes empty (7 x 7 = 49
// pixels: a panel of 32 and one of 17, 77%). It tells the launch
// (weight_panel = 32); the value keeps its bytes, rearranged only as the
// weight section is written.
// CHECK-LABEL: func.func @pixel_rows
func.func @pixel_rows(%x: memref<1x2x7x7xf32>, %o: memref<1x256x7x7xf32>) {
  // CHECK: %[[W:.*]] = kernel.weight[{{[0-9]+}}] dense<5.000000e-01> : tensor<256x2x3x3xf32> {layout = "nk_panels32"} : memref<18x256xf32>
  // CHECK: kernel.launch "conv2d" ins(%{{.*}}, %[[W]] : memref<1x2x7x7xf32>, memref<18x256xf32>)
  // CHECK-SAME: weight_panel = 32 : i64
  %w = kernel.weight dense<0.5> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<1x2x7x7xf32>, memref<256x2x3x3xf32>) outs(%o : memref<1x256x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64}
  return
}

// Left in place: 14 x 14 outputs (196 pixels fill 94% of their panels'
// lanes), two groups, fewer than 256 output channels, and a weight another
// launch reads too.
// CHECK-LABEL: func.func @column_panels
func.func @column_panels(%x: memref<1x2x14x14xf32>, %o: memref<1x256x14x14xf32>, %xg: memref<1x4x7x7xf32>, %og: memref<1x256x7x7xf32>, %x2: memref<1x2x7x7xf32>, %o128: memref<1x128x7x7xf32>, %o256: memref<1x256x7x7xf32>, %o256b: memref<1x256x7x7xf32>) {
  // CHECK: kernel.weight{{.*}} : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64
  %w = kernel.weight dense<0.25> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<1x2x14x14xf32>, memref<256x2x3x3xf32>) outs(%o : memref<1x256x14x14xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 14 : i64, has_bias = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 14 : i64, ow = 14 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 14 : i64, weight_panel = 0 : i64}
  // CHECK: kernel.weight{{.*}} : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: group = 2 : i64
  // CHECK-SAME: weight_panel = 0 : i64
  %wg = kernel.weight dense<0.125> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%xg, %wg : memref<1x4x7x7xf32>, memref<256x2x3x3xf32>) outs(%og : memref<1x256x7x7xf32>) params {c = 4 : i64, dilations = array<i64: 1, 1>, group = 2 : i64, h = 7 : i64, has_bias = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64}
  // CHECK: kernel.weight{{.*}} : tensor<128x2x3x3xf32> : memref<128x2x3x3xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64
  %w128 = kernel.weight dense<2.0> : tensor<128x2x3x3xf32> : memref<128x2x3x3xf32>
  kernel.launch "conv2d" ins(%x2, %w128 : memref<1x2x7x7xf32>, memref<128x2x3x3xf32>) outs(%o128 : memref<1x128x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, kh = 3 : i64, kw = 3 : i64, m = 128 : i64, n = 1 : i64, oh = 7 : i64, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64}
  // CHECK: kernel.weight{{.*}} : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64
  %ws = kernel.weight dense<4.0> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%x2, %ws : memref<1x2x7x7xf32>, memref<256x2x3x3xf32>) outs(%o256 : memref<1x256x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64}
  kernel.launch "conv2d" ins(%x2, %ws : memref<1x2x7x7xf32>, memref<256x2x3x3xf32>) outs(%o256b : memref<1x256x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64}
  return
}

// RUN: anvil-opt %s -anvil-pack-weights=target=cpu | FileCheck %s

// The cpu hook stores a float conv2d's [M, C, kh, kw] weight as [K, M] in
// column panels ("nk_panels32", K = C x kh x kw) where the kernel's pixel
// rows pay (backends/cpu/kernels/conv_gemm.h): group 1, at least 256
// output channels, output planes of at most 256 pixels whose 32-pixel
// panels would leave more than a tenth of the lanes empty (7 x 7 = 49
// pixels: a panel of 32 and one of 17, 77%). It tells the launch
// (weight_panel = 32); the value keeps its bytes, rearranged only as the
// weight section is written. A kernel of several taps takes pixel rows
// where its panels would leave more than a twentieth of the lanes empty
// (14 x 14: 94%).
// CHECK-LABEL: func.func @pixel_rows
func.func @pixel_rows(%x: memref<1x2x7x7xf32>, %o: memref<1x256x7x7xf32>, %x14: memref<1x2x14x14xf32>, %o14: memref<1x256x14x14xf32>) {
  // CHECK: %[[W:.*]] = kernel.weight[{{[0-9]+}}] dense<5.000000e-01> : tensor<256x2x3x3xf32> {layout = "nk_panels32"} : memref<18x256xf32>
  // CHECK: kernel.launch "conv2d" ins(%{{.*}}, %[[W]] : memref<1x2x7x7xf32>, memref<18x256xf32>)
  // CHECK-SAME: weight_panel = 32 : i64
  %w = kernel.weight dense<0.5> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<1x2x7x7xf32>, memref<256x2x3x3xf32>) outs(%o : memref<1x256x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, out_nhwc = false, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  // CHECK: %[[W14:.*]] = kernel.weight{{.*}} : tensor<256x2x3x3xf32> {layout = "nk_panels32"} : memref<18x256xf32>
  // CHECK: kernel.launch "conv2d" ins(%{{.*}}, %[[W14]] : memref<1x2x14x14xf32>, memref<18x256xf32>)
  // CHECK-SAME: weight_panel = 32 : i64
  %w14 = kernel.weight dense<0.75> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%x14, %w14 : memref<1x2x14x14xf32>, memref<256x2x3x3xf32>) outs(%o14 : memref<1x256x14x14xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 14 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 14 : i64, out_nhwc = false, ow = 14 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 14 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  return
}

// No column panels for a 1x1 convolution's 14 x 14 outputs (196 pixels
// fill 94% of their panels' lanes) or fewer than 256 output channels: those
// weights take row tiles instead ("row_tiles12", [ceil(M / 12), K, 12]; weight_tile_rows =
// 12), the rows of conv_gemm.h's product. Two groups, and a weight another
// launch reads too, stay as they are.
// CHECK-LABEL: func.func @column_panels
func.func @column_panels(%x: memref<1x8x14x14xf32>, %o: memref<1x256x14x14xf32>, %xg: memref<1x4x7x7xf32>, %og: memref<1x256x7x7xf32>, %x2: memref<1x2x7x7xf32>, %o128: memref<1x128x7x7xf32>, %o256: memref<1x256x7x7xf32>, %o256b: memref<1x256x7x7xf32>) {
  // CHECK: %[[T:.*]] = kernel.weight{{.*}} : tensor<256x8x1x1xf32> {layout = "row_tiles12"} : memref<22x8x12xf32>
  // CHECK: kernel.launch "conv2d" ins(%{{.*}}, %[[T]] : memref<1x8x14x14xf32>, memref<22x8x12xf32>)
  // CHECK-SAME: weight_panel = 0 : i64, weight_tile_rows = 12 : i64
  %w = kernel.weight dense<0.25> : tensor<256x8x1x1xf32> : memref<256x8x1x1xf32>
  kernel.launch "conv2d" ins(%x, %w : memref<1x8x14x14xf32>, memref<256x8x1x1xf32>) outs(%o : memref<1x256x14x14xf32>) params {c = 8 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 14 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 256 : i64, n = 1 : i64, oh = 14 : i64, out_nhwc = false, ow = 14 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 14 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  // CHECK: kernel.weight{{.*}} : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: group = 2 : i64
  // CHECK-SAME: weight_panel = 0 : i64, weight_tile_rows = 0 : i64
  %wg = kernel.weight dense<0.125> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%xg, %wg : memref<1x4x7x7xf32>, memref<256x2x3x3xf32>) outs(%og : memref<1x256x7x7xf32>) params {c = 4 : i64, dilations = array<i64: 1, 1>, group = 2 : i64, h = 7 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, out_nhwc = false, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  // CHECK: kernel.weight{{.*}} : tensor<128x2x3x3xf32> {layout = "row_tiles12"} : memref<11x18x12xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64, weight_tile_rows = 12 : i64
  %w128 = kernel.weight dense<2.0> : tensor<128x2x3x3xf32> : memref<128x2x3x3xf32>
  kernel.launch "conv2d" ins(%x2, %w128 : memref<1x2x7x7xf32>, memref<128x2x3x3xf32>) outs(%o128 : memref<1x128x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 128 : i64, n = 1 : i64, oh = 7 : i64, out_nhwc = false, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  // CHECK: kernel.weight{{.*}} : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64, weight_tile_rows = 0 : i64
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: weight_panel = 0 : i64, weight_tile_rows = 0 : i64
  %ws = kernel.weight dense<4.0> : tensor<256x2x3x3xf32> : memref<256x2x3x3xf32>
  kernel.launch "conv2d" ins(%x2, %ws : memref<1x2x7x7xf32>, memref<256x2x3x3xf32>) outs(%o256 : memref<1x256x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, out_nhwc = false, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%x2, %ws : memref<1x2x7x7xf32>, memref<256x2x3x3xf32>) outs(%o256b : memref<1x256x7x7xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 7 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 256 : i64, n = 1 : i64, oh = 7 : i64, out_nhwc = false, ow = 7 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 7 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  return
}

// An inverted residual block (1x1 expansion -> depthwise -> 1x1
// projection, each inner tensor an arena buffer only the next launch
// reads) keeps its inner tensors channels last: out_nhwc on the expansion
// and the depthwise launch, in_nhwc on the depthwise launch and the
// projection, and both 1x1 weights in column panels.
// CHECK-LABEL: func.func @channels_last_chain
func.func @channels_last_chain(%x: memref<1x8x6x6xf32>, %y: memref<1x8x6x6xf32>) {
  // CHECK: kernel.weight{{.*}} : tensor<24x8x1x1xf32> {layout = "nk_panels32"} : memref<8x24xf32>
  // CHECK: kernel.weight{{.*}} : tensor<24x1x3x3xf32> : memref<24x1x3x3xf32>
  // CHECK: kernel.weight{{.*}} : tensor<8x24x1x1xf32> {layout = "nk_panels32"} : memref<24x8xf32>
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: in_nhwc = false
  // CHECK-SAME: out_nhwc = true
  // CHECK-SAME: weight_panel = 32
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: group = 24
  // CHECK-SAME: in_nhwc = true
  // CHECK-SAME: out_nhwc = true
  // CHECK-SAME: weight_panel = 0
  // CHECK: kernel.launch "conv2d"
  // CHECK-SAME: in_nhwc = true
  // CHECK-SAME: out_nhwc = false
  // CHECK-SAME: weight_panel = 32
  %we = kernel.weight dense<0.5> : tensor<24x8x1x1xf32> : memref<24x8x1x1xf32>
  %wd = kernel.weight dense<0.25> : tensor<24x1x3x3xf32> : memref<24x1x3x3xf32>
  %wp = kernel.weight dense<2.0> : tensor<8x24x1x1xf32> : memref<8x24x1x1xf32>
  %e = kernel.buffer arena[0] : memref<1x24x6x6xf32>
  %d = kernel.buffer arena[4096] : memref<1x24x6x6xf32>
  kernel.launch "conv2d" ins(%x, %we : memref<1x8x6x6xf32>, memref<24x8x1x1xf32>) outs(%e : memref<1x24x6x6xf32>) params {c = 8 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 24 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%e, %wd : memref<1x24x6x6xf32>, memref<24x1x3x3xf32>) outs(%d : memref<1x24x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 24 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 24 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%d, %wp : memref<1x24x6x6xf32>, memref<8x24x1x1xf32>) outs(%y : memref<1x8x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 8 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  return
}

// Left planar: a block whose projection weight another launch reads too,
// and one whose expansion reads 4 channels (a planar 1x1 convolution of
// fewer than 8 taps takes the direct loop, whose bits differ). Their 1x1
// weights of 8 or more taps read by one launch take row tiles; the
// depthwise weights, the shared one and the 4-tap one stay.
// CHECK-LABEL: func.func @planar_blocks
// CHECK-NOT: _nhwc = true
// CHECK: kernel.weight{{.*}} : tensor<24x8x1x1xf32> {layout = "row_tiles12"} : memref<2x8x12xf32>
// CHECK: kernel.weight{{.*}} : tensor<24x1x3x3xf32> : memref<24x1x3x3xf32>
// CHECK: kernel.weight{{.*}} : tensor<8x24x1x1xf32> : memref<8x24x1x1xf32>
// CHECK-NOT: _nhwc = true
// CHECK: kernel.weight{{.*}} : tensor<24x4x1x1xf32> : memref<24x4x1x1xf32>
// CHECK: kernel.weight{{.*}} : tensor<24x1x3x3xf32> : memref<24x1x3x3xf32>
// CHECK: kernel.weight{{.*}} : tensor<8x24x1x1xf32> {layout = "row_tiles12"} : memref<1x24x12xf32>
// CHECK-NOT: _nhwc = true
func.func @planar_blocks(%x: memref<1x8x6x6xf32>, %y: memref<1x8x6x6xf32>, %z: memref<1x8x6x6xf32>, %x4: memref<1x4x6x6xf32>, %y4: memref<1x8x6x6xf32>) {
  %we = kernel.weight dense<0.5> : tensor<24x8x1x1xf32> : memref<24x8x1x1xf32>
  %wd = kernel.weight dense<0.25> : tensor<24x1x3x3xf32> : memref<24x1x3x3xf32>
  %wp = kernel.weight dense<2.0> : tensor<8x24x1x1xf32> : memref<8x24x1x1xf32>
  %e = kernel.buffer arena[0] : memref<1x24x6x6xf32>
  %d = kernel.buffer arena[4096] : memref<1x24x6x6xf32>
  kernel.launch "conv2d" ins(%x, %we : memref<1x8x6x6xf32>, memref<24x8x1x1xf32>) outs(%e : memref<1x24x6x6xf32>) params {c = 8 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 24 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%e, %wd : memref<1x24x6x6xf32>, memref<24x1x3x3xf32>) outs(%d : memref<1x24x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 24 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 24 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%d, %wp : memref<1x24x6x6xf32>, memref<8x24x1x1xf32>) outs(%y : memref<1x8x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 8 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  %d2 = kernel.buffer arena[8192] : memref<1x24x6x6xf32>
  kernel.launch "conv2d" ins(%d2, %wp : memref<1x24x6x6xf32>, memref<8x24x1x1xf32>) outs(%z : memref<1x8x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 8 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  %we4 = kernel.weight dense<0.5> : tensor<24x4x1x1xf32> : memref<24x4x1x1xf32>
  %wd4 = kernel.weight dense<0.25> : tensor<24x1x3x3xf32> : memref<24x1x3x3xf32>
  %wp4 = kernel.weight dense<3.0> : tensor<8x24x1x1xf32> : memref<8x24x1x1xf32>
  %e4 = kernel.buffer arena[12288] : memref<1x24x6x6xf32>
  %f4 = kernel.buffer arena[16384] : memref<1x24x6x6xf32>
  kernel.launch "conv2d" ins(%x4, %we4 : memref<1x4x6x6xf32>, memref<24x4x1x1xf32>) outs(%e4 : memref<1x24x6x6xf32>) params {c = 4 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 24 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%e4, %wd4 : memref<1x24x6x6xf32>, memref<24x1x3x3xf32>) outs(%f4 : memref<1x24x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 24 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 24 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%f4, %wp4 : memref<1x24x6x6xf32>, memref<8x24x1x1xf32>) outs(%y4 : memref<1x8x6x6xf32>) params {c = 24 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 1 : i64, kw = 1 : i64, m = 8 : i64, n = 1 : i64, oh = 6 : i64, out_nhwc = false, ow = 6 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  return
}

// Row tiles for a 3x3 convolution of 13 output channels (a whole tile and
// one of a single row, zeros past it); none for 3 output channels or 4
// taps (the kernel's direct loop reads those), nor for an f16 convolution.
// CHECK-LABEL: func.func @row_tiles
// CHECK: kernel.weight{{.*}} : tensor<13x2x3x3xf32> {layout = "row_tiles12"} : memref<2x18x12xf32>
// CHECK: kernel.weight{{.*}} : tensor<3x2x3x3xf32> : memref<3x2x3x3xf32>
// CHECK: kernel.weight{{.*}} : tensor<8x1x2x2xf32> : memref<8x1x2x2xf32>
// CHECK: kernel.weight{{.*}} : tensor<8x2x3x3xf16> : memref<8x2x3x3xf16>
// CHECK: kernel.launch "conv2d"
// CHECK-SAME: weight_tile_rows = 12 : i64
// CHECK-COUNT-3: weight_tile_rows = 0 : i64
func.func @row_tiles(%x: memref<1x2x6x6xf32>, %x1: memref<1x1x6x6xf32>, %xh: memref<1x2x6x6xf16>, %o13: memref<1x13x4x4xf32>, %o3: memref<1x3x4x4xf32>, %o8: memref<1x8x5x5xf32>, %oh: memref<1x8x4x4xf16>) {
  %w13 = kernel.weight dense<0.5> : tensor<13x2x3x3xf32> : memref<13x2x3x3xf32>
  %w3 = kernel.weight dense<0.25> : tensor<3x2x3x3xf32> : memref<3x2x3x3xf32>
  %w4 = kernel.weight dense<2.0> : tensor<8x1x2x2xf32> : memref<8x1x2x2xf32>
  %wh = kernel.weight dense<1.0> : tensor<8x2x3x3xf16> : memref<8x2x3x3xf16>
  kernel.launch "conv2d" ins(%x, %w13 : memref<1x2x6x6xf32>, memref<13x2x3x3xf32>) outs(%o13 : memref<1x13x4x4xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 13 : i64, n = 1 : i64, oh = 4 : i64, out_nhwc = false, ow = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%x, %w3 : memref<1x2x6x6xf32>, memref<3x2x3x3xf32>) outs(%o3 : memref<1x3x4x4xf32>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 3 : i64, n = 1 : i64, oh = 4 : i64, out_nhwc = false, ow = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%x1, %w4 : memref<1x1x6x6xf32>, memref<8x1x2x2xf32>) outs(%o8 : memref<1x8x5x5xf32>) params {c = 1 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 2 : i64, kw = 2 : i64, m = 8 : i64, n = 1 : i64, oh = 5 : i64, out_nhwc = false, ow = 5 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  kernel.launch "conv2d" ins(%xh, %wh : memref<1x2x6x6xf16>, memref<8x2x3x3xf16>) outs(%oh : memref<1x8x4x4xf16>) params {c = 2 : i64, dilations = array<i64: 1, 1>, group = 1 : i64, h = 6 : i64, has_bias = false, in_nhwc = false, kh = 3 : i64, kw = 3 : i64, m = 8 : i64, n = 1 : i64, oh = 4 : i64, out_nhwc = false, ow = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, w = 6 : i64, weight_panel = 0 : i64, weight_tile_rows = 0 : i64}
  return
}

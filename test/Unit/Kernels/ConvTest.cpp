//===- ConvTest.cpp - the 2-D convolution kernel against long double ------===//
//
// Built once per x86-64 level (conv_gemm.h's panels and tiles over simd.h
// at v2, v3 and v4). The reference is the convolution's definition summed
// in long double, tap by tap; each float output must lie within
// (taps + 2) x 2^-24 x sum |w x| + |bias| x 2^-24 + 1e-30 of it (a float
// FMA chain over the taps, then the bias: the recursive-summation bound).
// Shapes cover the kernel's three paths (the product on the matmul
// micro-kernel, with its three ways of feeding pixels: the image in place,
// a padded copy, gathered patches; the depthwise kernel; and the direct
// loop the rest take):
// strides, dilations, asymmetric padding, taps wholly in the padding,
// groups, batches, outputs not a multiple of a 32-pixel panel, output
// channels not a multiple of a 12-row tile, more taps than one k block of
// 256, a 1-D convolution (h = 1), and the same bits whatever the chunking
// over threads.
//
//===----------------------------------------------------------------------===//

#include "ChunkingHost.h"
#include "KernelLevel.h"
#include "ReversedHost.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

namespace {

struct Case {
  int64_t n, c, h, w, m, kh, kw;
  int64_t sy, sx, dy, dx;
  int64_t top, left, bottom, right;
  int64_t group;
  bool bias;
};

anvil::Conv2dParams params(const Case &c) {
  anvil::Conv2dParams p{};
  p.n = c.n, p.c = c.c, p.h = c.h, p.w = c.w, p.m = c.m;
  p.kh = c.kh, p.kw = c.kw;
  p.oh = (c.h + c.top + c.bottom - (c.kh - 1) * c.dy - 1) / c.sy + 1;
  p.ow = (c.w + c.left + c.right - (c.kw - 1) * c.dx - 1) / c.sx + 1;
  p.strides[0] = c.sy, p.strides[1] = c.sx;
  p.pads[0] = c.top, p.pads[1] = c.left, p.pads[2] = c.bottom,
  p.pads[3] = c.right;
  p.dilations[0] = c.dy, p.dilations[1] = c.dx;
  p.group = c.group;
  p.has_bias = c.bias;
  return p;
}

using anvil_test::ChunkingHost;

/// Input, weight and bias of case c, uniform in [-1, 1].
std::tuple<std::vector<float>, std::vector<float>, std::vector<float>>
randomOperands(const Case &c, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(c.n * c.c * c.h * c.w),
      w(c.m * (c.c / c.group) * c.kh * c.kw), b(c.m);
  for (auto *values : {&x, &w, &b})
    for (float &v : *values)
      v = dist(rng);
  return {x, w, b};
}

/// w [m, K] (K = c x kh x kw, group 1) in column panels of 32 channels,
/// as the layout nk_panels32 stores it (dialects/Kernel/WeightData.h),
/// written from its definition: panel q holds channels [32q, 32q + width)
/// K-major, element (k, channel) at q * 32 * K + k * width + channel - 32q.
std::vector<float> columnPanels(const std::vector<float> &w, int64_t m,
                                int64_t K) {
  std::vector<float> packed(w.size());
  for (int64_t q = 0; q * 32 < m; ++q) {
    const int64_t width = std::min<int64_t>(32, m - q * 32);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < width; ++j)
        packed[q * 32 * K + k * width + j] = w[(q * 32 + j) * K + k];
  }
  return packed;
}

std::vector<float> run(const anvil_host_api *api, const anvil::Conv2dParams &p,
                       const std::vector<float> &x, const std::vector<float> &w,
                       const std::vector<float> &b) {
  std::vector<float> out(p.n * p.m * p.oh * p.ow, std::nanf("1"));
  anvil::cpu::RunScope scope(api, nullptr);
  const int status =
      p.has_bias ? anvil::cpu::conv2d<float>(scope.host(), p, x.data(),
                                             w.data(), b.data(), out.data())
                 : anvil::cpu::conv2d<float>(scope.host(), p, x.data(),
                                             w.data(), out.data());
  EXPECT_EQ(status, 0);
  return out;
}

/// Case c against the long double reference, on every chunking; with
/// `pixelRows` its weight in column panels (weight_panel 32: conv_gemm.h's
/// pixel rows).
void check(const Case &c, unsigned seed, bool pixelRows = false) {
  anvil::Conv2dParams p = params(c);
  if (pixelRows)
    p.weight_panel = 32;
  SCOPED_TRACE(testing::Message()
               << "n " << c.n << " c " << c.c << " " << c.h << "x" << c.w
               << " m " << c.m << " kernel " << c.kh << "x" << c.kw
               << " strides " << c.sy << "," << c.sx << " dilations " << c.dy
               << "," << c.dx << " pads " << c.top << "," << c.left << ","
               << c.bottom << "," << c.right << " group " << c.group << " bias "
               << c.bias << " -> " << p.oh << "x" << p.ow);
  const int64_t cg = c.c / c.group, mg = c.m / c.group;
  const auto [x, w, b] = randomOperands(c, seed);
  const std::vector<float> stored =
      pixelRows ? columnPanels(w, c.m, cg * c.kh * c.kw) : w;

  ChunkingHost whole(1 << 30), single(1);
  const anvil_host_api reversed = anvil_test::reversedHost();
  const std::vector<float> out = run(&whole.api, p, x, stored, b);
  EXPECT_EQ(run(&single.api, p, x, stored, b), out)
      << "chunks of one item, last first";
  EXPECT_EQ(run(&reversed, p, x, stored, b), out) << "chunks in reverse order";

  const long double u = std::ldexp(1.0L, -24);
  const int64_t taps = cg * c.kh * c.kw;
  int64_t bad = 0;
  for (int64_t bi = 0; bi < c.n; ++bi)
    for (int64_t oc = 0; oc < c.m; ++oc)
      for (int64_t oy = 0; oy < p.oh; ++oy)
        for (int64_t ox = 0; ox < p.ow; ++ox) {
          const int64_t g = oc / mg;
          long double sum = 0, magnitude = 0;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t ky = 0; ky < c.kh; ++ky)
              for (int64_t kx = 0; kx < c.kw; ++kx) {
                const int64_t iy = oy * c.sy - c.top + ky * c.dy;
                const int64_t ix = ox * c.sx - c.left + kx * c.dx;
                if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w)
                  continue;
                const long double term =
                    (long double)w[((oc * cg + ic) * c.kh + ky) * c.kw + kx] *
                    x[((bi * c.c + g * cg + ic) * c.h + iy) * c.w + ix];
                sum += term;
                magnitude += std::fabs(term);
              }
          long double bound = (taps + 2) * u * magnitude + 1e-30L;
          if (c.bias) {
            sum += b[oc];
            bound += u * std::fabs((long double)b[oc]) + u * std::fabs(sum);
          }
          const float got = out[((bi * c.m + oc) * p.oh + oy) * p.ow + ox];
          if (!(std::fabs((long double)got - sum) <= bound) && bad++ < 5)
            ADD_FAILURE() << "out[" << bi << "," << oc << "," << oy << "," << ox
                          << "] = " << got << ", reference " << (double)sum
                          << " (bound " << (double)bound << ")";
        }
  EXPECT_EQ(bad, 0);
}

/// A product-path case and the feed conv_gemm.h takes for it.
struct FeedCase {
  Case c;
  anvil::cpu::conv_gemm::Feed feed;
};

// clang-format off
TEST(Conv2d, ProductPathMatchesLongDouble) {
  REQUIRE_LEVEL();
  using anvil::cpu::conv_gemm::Feed;
  const FeedCase cases[] = {
      // n  c   h   w   m  kh kw sy sx dy dx  t  l  b  r  g  bias
      {{1, 16, 13, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, Feed::Packed},  // 3x3 same
      {{2, 3, 20, 18, 16, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true}, Feed::Packed},   // stem 7x7/2
      {{1, 40, 9, 10, 50, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false}, Feed::Image},   // 1x1
      {{1, 20, 7, 9, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, Feed::Image},     // 1x1, P 63
      {{1, 300, 7, 10, 26, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, Feed::Image},   // P 70: a last panel of 6, 2 k blocks
      {{1, 24, 15, 15, 36, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, true}, Feed::Packed},  // 1x1/2
      {{1, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true}, Feed::Packed},  // 2 groups
      {{1, 8, 11, 14, 20, 3, 3, 1, 1, 2, 2, 0, 2, 1, 0, 1, true}, Feed::Packed},   // dilated
      {{1, 64, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, Feed::Packed},    // K 576
      {{1, 6, 1, 37, 13, 1, 5, 1, 1, 1, 1, 0, 2, 0, 2, 1, true}, Feed::PaddedImage}, // 1-D
      {{1, 4, 3, 3, 12, 5, 5, 1, 1, 1, 1, 4, 4, 4, 4, 1, false}, Feed::Packed},    // taps in pads
      {{3, 9, 8, 5, 4, 3, 3, 2, 1, 1, 1, 1, 0, 1, 1, 1, true}, Feed::Packed},      // mixed strides
      {{1, 16, 6, 40, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, Feed::PaddedImage},  // rows 32 + 8
      {{1, 8, 4, 48, 25, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, Feed::PaddedImage},   // rows 32 + 16
      // Virtual columns with 3 k blocks and a bias; a 5x5 reading its
      // dropped columns 4 floats past the last plane:
      {{1, 64, 10, 40, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, Feed::PaddedImage},
      {{2, 6, 9, 45, 20, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, true}, Feed::PaddedImage},
      {{1, 40, 14, 14, 26, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, Feed::Packed},      // P 196: 6 x 32 + 4, 2 k blocks
      {{1, 8, 5, 30, 20, 3, 3, 1, 1, 2, 2, 0, 2, 1, 0, 1, true}, Feed::PaddedImage},   // dilated
      {{1, 64, 4, 30, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false}, Feed::PaddedImage}, // K 576
      {{2, 16, 5, 26, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true}, Feed::PaddedImage},  // groups
      {{1, 12, 3, 70, 14, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, true}, Feed::PaddedImage},  // 1x1 padded
      {{1, 3, 9, 60, 16, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true}, Feed::PaddedImage},   // stem 7x7/2
      {{1, 5, 7, 80, 12, 3, 3, 2, 3, 1, 2, 1, 2, 1, 0, 1, false}, Feed::PaddedImage},  // strides 2,3 dil 2
      {{1, 10, 5, 60, 16, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, true}, Feed::PaddedImage},  // 1x1/2
      // Virtual columns at strides (row phases; K >= 256): 28-wide rows of
      // 29 virtual columns, a 1x1/2 of exactly 28, strides 2 x 1:
      {{1, 32, 56, 56, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true}, Feed::PaddedImage},
      {{1, 256, 56, 56, 20, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, true}, Feed::PaddedImage},
      {{1, 30, 20, 50, 12, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, false}, Feed::PaddedImage},
  };
  unsigned seed = 1;
  for (const auto &[c, feed] : cases) {
    ASSERT_TRUE(anvil::cpu::conv_gemm::applies(params(c)));
    ASSERT_FALSE(anvil::cpu::conv_depthwise::applies(params(c)));
    ASSERT_EQ(int(anvil::cpu::conv_gemm::feed_for(params(c))), int(feed));
    check(c, seed++);
  }
}

// Pixel rows (the weight in column panels): channels in the vector lanes,
// pixels in the tiles' rows. Planes of 7 x 7 (10 + 10 + 10 + 10 + 9
// pixels a tile) and other sizes, channels not a multiple of a 32-wide
// panel, 1x1 in place and strided, 3x3 with padding and dilation, more
// taps than a k block, and a batch of 2. The same bits as the weight read
// in place (the column-panel path): every output is one FMA chain over k.
TEST(Conv2d, PixelRowsMatchLongDoubleAndPanelBits) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      // n  c   h   w   m  kh kw sy sx dy dx  t  l  b  r  g  bias
      {1, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},    // 3x3 at 7x7, K 576
      {2, 40, 7, 7, 50, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},    // 1x1 in place, m 50
      {1, 300, 14, 14, 33, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, false}, // 1x1/2, 2 k blocks
      {1, 16, 9, 11, 40, 3, 3, 2, 1, 2, 1, 2, 0, 1, 2, 1, true},   // dilated, asymmetric pads
      {1, 8, 3, 3, 32, 5, 5, 1, 1, 1, 1, 4, 4, 4, 4, 1, true},     // taps in pads, P 49
      {1, 4, 5, 5, 36, 9, 9, 1, 1, 1, 1, 4, 4, 4, 4, 1, false},    // 81 taps
      {1, 12, 1, 1, 64, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},    // one pixel
      {2, 20, 2, 2, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},   // 2x2: one tile of 4 rows, 4 panels a call
      {1, 0, 7, 7, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},     // no input channels: K 0
  };
  unsigned seed = 200;
  for (const Case &c : cases) {
    check(c, seed, true);
    anvil::Conv2dParams panels = params(c);
    panels.weight_panel = 32;
    const auto [x, w, b] = randomOperands(c, seed++);
    ChunkingHost whole(1 << 30);
    EXPECT_EQ(run(&whole.api, panels, x,
                  columnPanels(w, c.m, c.c * c.kh * c.kw), b),
              run(&whole.api, params(c), x, w, b))
        << "pixel rows and column panels differ in bits, m " << c.m;
  }
}

TEST(Conv2d, DepthwisePathMatchesLongDouble) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {1, 8, 14, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, true},    // 3x3
      {2, 6, 15, 16, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, true},    // 3x3/2
      {1, 6, 9, 101, 6, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, 6, true},    // 3x3/2, rows of 101: vector phase split
      {1, 4, 9, 9, 8, 5, 5, 1, 1, 2, 1, 2, 0, 3, 1, 4, false},     // x2 channels, dilated
      {1, 3, 10, 50, 3, 3, 4, 2, 3, 1, 2, 0, 3, 2, 1, 3, true},    // strides 2,3
      {1, 2, 3, 4, 2, 5, 5, 1, 1, 1, 1, 4, 4, 4, 4, 2, true},      // taps in pads
      {1, 5, 7, 33, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 5, false},    // 1x1
      {1, 2, 3, 90, 2, 1, 35, 1, 1, 1, 1, 0, 17, 0, 17, 2, true},  // 1x35
      {1, 2, 3, 90, 2, 1, 35, 1, 2, 1, 1, 0, 17, 0, 17, 2, true},  // 1x35/2
      // Row phases (a flat run at any row stride):
      {1, 9, 14, 14, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9, true},    // 14 -> 7
      {2, 3, 17, 23, 3, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 3, true},    // 5x5/2, odd
      {1, 2, 20, 11, 4, 4, 3, 3, 1, 2, 1, 3, 1, 2, 1, 2, true},    // /3 rows, dilated
      {1, 3, 12, 12, 3, 3, 3, 3, 3, 3, 2, 0, 1, 4, 2, 3, false},   // /3, dilation 3
  };
  unsigned seed = 100;
  for (const Case &c : cases) {
    ASSERT_TRUE(anvil::cpu::conv_depthwise::applies(params(c)));
    check(c, seed++);
  }
}

/// The channel-blocked depthwise kernel (AVX-512, conv_depthwise_blocked.h)
/// against the long double reference (through conv2d, which takes it for
/// these shapes) and, bit for bit, against the plane kernel
/// (conv_depthwise.h) called directly: both are bias + the taps in (ky,
/// kx) order.
TEST(Conv2d, DepthwiseChannelBlocksMatchPlanesAndLongDouble) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {1, 40, 14, 14, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 40, true},  // 2 blocks + 8
      {2, 16, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, true},    // 7 x 7, batch 2
      {1, 19, 23, 21, 19, 5, 5, 1, 2, 2, 1, 4, 2, 3, 2, 19, false}, // dilated, odd
      {1, 33, 30, 30, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 33, true},  // rows of 30
      {1, 5, 9, 40, 5, 1, 7, 3, 1, 1, 1, 0, 3, 0, 3, 5, true},      // 1x7, /3 rows
      // Bands of output rows (more than 4096 padded pixels):
      {1, 17, 70, 70, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, true},  // 2 bands
      {2, 18, 101, 90, 18, 5, 5, 2, 2, 2, 2, 4, 4, 3, 4, 18, true}, // /2, dilated
  };
  unsigned seed = 400;
  for (const Case &c : cases) {
    const anvil::Conv2dParams p = params(c);
#if defined(__AVX512F__)
    ASSERT_TRUE(anvil::cpu::conv_depthwise_blocked::applies(p));
#else
    GTEST_SKIP() << "the channel-blocked kernel needs AVX-512";
#endif
    check(c, seed);
    const auto [x, w, b] = randomOperands(c, seed++);
    std::vector<float> blocked(p.n * p.m * p.oh * p.ow, std::nanf("1")),
        planes = blocked;
    ChunkingHost whole(1 << 30);
    anvil::cpu::RunScope scope(&whole.api, nullptr);
#if defined(__AVX512F__)
    ASSERT_EQ(anvil::cpu::conv_depthwise_blocked::conv2d(
                  scope.host(), p, x.data(), w.data(), b.data(),
                  blocked.data(), anvil::cpu::NoEpilogue()),
              0);
#endif
    ASSERT_EQ(anvil::cpu::conv_depthwise::conv2d(
                  scope.host(), p, x.data(), w.data(), b.data(), planes.data(),
                  anvil::cpu::NoEpilogue()),
              0);
    EXPECT_EQ(std::memcmp(blocked.data(), planes.data(),
                          sizeof(float) * blocked.size()),
              0)
        << "channel blocks and planes differ in bits, " << c.c << " channels";
  }
}

TEST(Conv2d, DirectPathMatchesLongDouble) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {1, 3, 6, 40, 2, 2, 2, 1, 3, 1, 1, 0, 1, 0, 1, 1, true},     // few outputs
      {2, 8, 9, 41, 4, 3, 3, 1, 1, 1, 2, 1, 2, 1, 2, 2, true},     // 2 per group
      {1, 6, 8, 8, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, false},     // 1 per group /2
  };
  unsigned seed = 150;
  for (const Case &c : cases) {
    ASSERT_FALSE(anvil::cpu::conv_gemm::applies(params(c)));
    ASSERT_FALSE(anvil::cpu::conv_depthwise::applies(params(c)));
    check(c, seed++);
  }
}
// clang-format on

// An epilogue (anvil-fuse-matmul-epilogue) sees every (image and channel,
// pixel) element of the output exactly once, after its value is final: a
// ReLU applied there equals ReLU of the convolution without one, on every
// path.
TEST(Conv2d, EpilogueSeesEachOutputOnceWhenFinal) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {2, 16, 13, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, // Packed
      {1, 20, 7, 9, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},   // Image
      {1, 16, 6, 40, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, false}, // PaddedImage
      {1, 8, 14, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, true},   // depthwise
      {2, 6, 15, 16, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, true},   // depthwise/2
      {2, 17, 70, 70, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, true}, // dw bands
      {1, 6, 15, 16, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, true},   // dw x2 /2
      {2, 8, 9, 41, 4, 3, 3, 1, 1, 1, 2, 1, 2, 1, 2, 2, true},     // direct
      {2, 64, 4, 30, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},   // K 576
      {2, 20, 7, 9, 26, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, true}, // Image, groups
      {2, 5, 9, 60, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, false}, // Padded /2
      {1, 8, 3, 3, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},  // row chunks
      {1, 8, 2, 40, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
       true}, // virtual, chunks
      {2, 64, 7, 7, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, // pixel rows
      {1, 40, 7, 7, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
       false}, // pixel rows 1x1
  };
  const size_t pixelRowCases = 2; // the last ones: weight in column panels
  unsigned seed = 300;
  for (const Case &c : cases) {
    anvil::Conv2dParams p = params(c);
    auto [x, w, b] = randomOperands(c, seed++);
    if (&c >= std::end(cases) - pixelRowCases) {
      p.weight_panel = 32;
      w = columnPanels(w, c.m, c.c * c.kh * c.kw);
    }
    ChunkingHost whole(1 << 30);
    std::vector<float> want = run(&whole.api, p, x, w, b);
    for (float &v : want)
      v = std::max(v, 0.0f);
    const int64_t planes = p.n * p.m, pixels = p.oh * p.ow;
    for (const anvil_host_api &api : {whole.api, anvil_test::reversedHost()}) {
      std::vector<float> out(planes * pixels, std::nanf(""));
      std::vector<int> seen(out.size(), 0);
      bool emptyBlock = false;
      auto relu = [&](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
        emptyBlock = emptyBlock || i0 >= i1 || n0 >= n1;
        for (int64_t r = i0; r < i1; ++r)
          for (int64_t col = n0; col < n1; ++col) {
            ++seen[r * pixels + col];
            out[r * pixels + col] = std::max(out[r * pixels + col], 0.0f);
          }
      };
      anvil::cpu::RunScope scope(&api, nullptr);
      ASSERT_EQ(anvil::cpu::conv2d<float>(scope.host(), p, x.data(), w.data(),
                                          c.bias ? b.data() : nullptr,
                                          out.data(), relu),
                0);
      EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), int64_t(seen.size()))
          << "an element seen other than once";
      EXPECT_FALSE(emptyBlock) << "an epilogue call on an empty block";
      EXPECT_EQ(out, want);
    }
  }
}

/// w [m, K] (group 1) in row tiles of 12 output channels, as the layout
/// row_tiles12 stores it (dialects/Kernel/WeightData.h), written from its
/// definition: element (i, k) at (i / 12 * K + k) * 12 + i % 12. The last
/// tile's rows past m hold `padding` (the packer writes zeros; NaN here
/// shows that the kernel never reads them).
std::vector<float> rowTiles(const std::vector<float> &w, int64_t m, int64_t K,
                            float padding) {
  std::vector<float> packed((m + 11) / 12 * K * 12, padding);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t k = 0; k < K; ++k)
      packed[(i / 12 * K + k) * 12 + i % 12] = w[i * K + k];
  return packed;
}

// A weight in row tiles (weight_tile_rows = 12, the cpu packer's layout
// for group-1 products) gives the bits of its rows read in place, on every
// feed (the image in place, the padded copy in rows, virtual columns, at
// strides, gathered panels), with tiles of 1 to 12 rows, 1 to 3 k blocks,
// with and without a bias and a fused clamp, whatever the chunking; the
// padding rows of the last tile are never read.
TEST(Conv2d, RowTilesMatchRowsInPlace) {
  REQUIRE_LEVEL();
  using anvil::cpu::conv_gemm::Feed;
  const FeedCase cases[] = {
      // n  c   h   w   m  kh kw sy sx dy dx  t  l  b  r  g  bias
      {{1, 16, 13, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
       Feed::Packed}, // 2 whole tiles
      {{2, 3, 20, 18, 16, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, true},
       Feed::Packed}, // stem, 12 + 4
      {{1, 64, 7, 7, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, false},
       Feed::Packed}, // K 576: 3 k blocks
      {{1, 40, 14, 14, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
       Feed::Packed}, // 12 + 1, P 196
      {{1, 40, 9, 10, 50, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false},
       Feed::Image}, // 4 x 12 + 2
      {{1, 300, 7, 10, 26, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       Feed::Image}, // 2 k blocks
      {{1, 16, 6, 40, 25, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
       Feed::PaddedImage}, // rows
      {{1, 64, 10, 40, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
       Feed::PaddedImage}, // virtual
      {{1, 32, 56, 56, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true},
       Feed::PaddedImage}, // virtual /2
      {{1, 8, 5, 30, 5, 3, 3, 1, 1, 2, 2, 0, 2, 1, 0, 1, true},
       Feed::PaddedImage}, // dilated, 5 rows
  };
  unsigned seed = 900;
  for (const auto &[c, feed] : cases) {
    const anvil::Conv2dParams rows = params(c);
    ASSERT_EQ(int(anvil::cpu::conv_gemm::feed_for(rows)), int(feed));
    anvil::Conv2dParams tiled = rows;
    tiled.weight_tile_rows = 12;
    SCOPED_TRACE(testing::Message()
                 << "c " << c.c << " " << c.h << "x" << c.w << " m " << c.m
                 << " kernel " << c.kh << "x" << c.kw << " strides " << c.sy);
    const auto [x, w, b] = randomOperands(c, seed++);
    const std::vector<float> tiles =
        rowTiles(w, c.m, c.c * c.kh * c.kw, std::nanf(""));
    ChunkingHost whole(1 << 30), single(1);
    const anvil_host_api reversed = anvil_test::reversedHost();
    const std::vector<float> want = run(&whole.api, rows, x, w, b);
    for (const anvil_host_api *api :
         {(const anvil_host_api *)&whole.api,
          (const anvil_host_api *)&single.api, &reversed})
      EXPECT_EQ(run(api, tiled, x, tiles, b), want)
          << "row tiles and rows in place differ in bits";
    // The clamp applied in the stores.
    std::vector<float> clampRows(want.size()), clampTiles(want.size());
    anvil::cpu::RunScope scope(&whole.api, nullptr);
    auto noLoop = [](int64_t, int64_t, int64_t, int64_t) {
      ADD_FAILURE() << "the fused clamp called its loop";
    };
    ASSERT_EQ(anvil::cpu::conv2d<float>(
                  scope.host(), rows, x.data(), w.data(),
                  c.bias ? b.data() : nullptr, clampRows.data(),
                  anvil::cpu::clamp_epilogue(-0.25f, 0.5f, noLoop)),
              0);
    ASSERT_EQ(anvil::cpu::conv2d<float>(
                  scope.host(), tiled, x.data(), tiles.data(),
                  c.bias ? b.data() : nullptr, clampTiles.data(),
                  anvil::cpu::clamp_epilogue(-0.25f, 0.5f, noLoop)),
              0);
    EXPECT_EQ(clampTiles, clampRows);
  }
}

/// A convolution whose layout parameters no kernel runs: in_nhwc /
/// out_nhwc, weight_panel, and weight_tile_rows (the weight then as many
/// floats as its row tiles).
struct BadLayout {
  Case c;
  bool in, out;
  int64_t panel;
};

/// conv2d fails on bc (with weight_tile_rows = tileRows) and leaves its
/// output untouched.
void expectRejected(const BadLayout &bc, int64_t tileRows) {
  anvil::Conv2dParams p = params(bc.c);
  p.in_nhwc = bc.in, p.out_nhwc = bc.out, p.weight_panel = bc.panel;
  p.weight_tile_rows = tileRows;
  const auto [x, w, b] = randomOperands(bc.c, 1);
  std::vector<float> weight = w;
  if (tileRows) // as many floats as the tiles of the weight read as [m, rest]
    weight.assign((bc.c.m + 11) / 12 * 12 * (w.size() / bc.c.m), 0.5f);
  std::vector<float> out(p.n * p.m * p.oh * p.ow, 7.0f);
  ChunkingHost whole(1 << 30);
  anvil::cpu::RunScope scope(&whole.api, nullptr);
  EXPECT_NE(anvil::cpu::conv2d<float>(scope.host(), p, x.data(), weight.data(),
                                      b.data(), out.data()),
            0)
      << "m " << bc.c.m << " group " << bc.c.group << " in_nhwc " << bc.in
      << " out_nhwc " << bc.out << " panel " << bc.panel;
  EXPECT_EQ(std::count(out.begin(), out.end(), 7.0f), int64_t(out.size()));
}

// Row tiles are the product's layout alone: a launch whose convolution
// takes another kernel (two groups, a depthwise one, fewer than 4 output
// channels or 8 taps, channels last, column panels too) fails with a
// message instead of reading the tiles as rows.
// clang-format off
TEST(Conv2d, RowTilesRejectWhatTheProductCannotRun) {
  REQUIRE_LEVEL();
  const BadLayout bad[] = {
      {{1, 16, 8, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true}, false, false, 0},  // 2 groups
      {{1, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, true}, false, false, 0}, // depthwise
      {{1, 16, 8, 8, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, false, false, 0},   // 3 channels
      {{1, 1, 8, 8, 16, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, false, false, 0},   // 4 taps
      {{1, 16, 8, 8, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, true, false, 0},   // in_nhwc
      {{1, 16, 8, 8, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, false, true, 0},   // out_nhwc
      {{1, 16, 8, 8, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, false, false, 32}, // panels
  };
  for (const BadLayout &bc : bad)
    expectRejected(bc, 12);
}
// clang-format on

/// Whether conv2d's path for p applies a ClampEpilogue's bounds itself
/// (conv.h's dispatch order): the product paths and the channel-blocked
/// depthwise kernel do; the depthwise plane kernel and the direct loop call
/// the epilogue's loop.
bool fusesClamp(const anvil::Conv2dParams &p) {
  using namespace anvil::cpu;
  if (conv_gemm::pixel_rows_chosen(p))
    return true;
#if defined(__AVX512F__)
  if (conv_depthwise_blocked::applies(p))
    return true;
#endif
  if (conv_depthwise::applies(p))
    return false;
  return conv_gemm::applies(p);
}

// A clamp epilogue (the generated code's Relu/Clip after a convolution,
// anvil::cpu::clamp_epilogue) gives the bits of its own loop (max_nan,
// then min_nan, as the generated loop calls them) on every path, with NaN
// and infinite inputs and outputs that tie with the bounds (channels of
// zero weights whose bias is a bound, or -0), whatever the chunking; the
// paths that fuse it never call the loop.
TEST(Conv2d, ClampEpilogueMatchesItsLoop) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {2, 16, 13, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, // Packed
      {1, 20, 7, 9, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},   // Image
      {1, 300, 5, 9, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},  // 2 k blocks
      {1, 16, 6, 40, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, false}, // PaddedImage
      {1, 8, 2, 40, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},  // virtual
      {2, 5, 9, 60, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, false},  // Padded /2
      {1, 8, 14, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, true},   // depthwise
      {2, 17, 70, 70, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, true}, // dw bands
      {1, 6, 15, 16, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6, true},   // dw x2 /2
      {2, 8, 9, 41, 4, 3, 3, 1, 1, 1, 2, 1, 2, 1, 2, 2, true},     // direct
      {2, 64, 7, 7, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},    // pixel rows
      {1, 40, 7, 7, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
       false}, // pixel rows 1x1
  };
  const size_t pixelRowCases = 2; // the last ones: weight in column panels
  const float inf = std::numeric_limits<float>::infinity();
  // (-0 bounds: a zero-weight channel's +0 sums tie with them, and only
  // the <= / >= compares give -0 there.)
  const anvil::cpu::ClampBounds bounds[] = {{0.0f, inf},   {0.0f, 6.0f},
                                            {-0.5f, 0.5f}, {-inf, 2.0f},
                                            {-0.0f, inf},  {-inf, -0.0f}};
  unsigned seed = 500;
  for (const Case &c : cases) {
    anvil::Conv2dParams p = params(c);
    auto [x, w, b] = randomOperands(c, seed++);
    // Non-finite inputs; channels 0-2 of zero weights (one pixel of
    // channel 0 aside, so NaN and infinities reach some outputs).
    x[0] = std::nanf("");
    x[x.size() / 2] = inf;
    x[x.size() - 1] = -inf;
    const int64_t K = c.c / c.group * c.kh * c.kw;
    std::fill(w.begin(), w.begin() + 3 * K, 0.0f);
    const bool pixelRows = &c >= std::end(cases) - pixelRowCases;
    if (pixelRows)
      p.weight_panel = 32;
    const std::vector<float> stored = pixelRows ? columnPanels(w, c.m, K) : w;
    for (const anvil::cpu::ClampBounds &clamp : bounds) {
      SCOPED_TRACE(testing::Message()
                   << "c " << c.c << " m " << c.m << " " << c.h << "x" << c.w
                   << " group " << c.group << " bounds " << clamp.lo << ", "
                   << clamp.hi);
      b[0] = clamp.lo, b[1] = std::isinf(clamp.hi) ? 3.0f : clamp.hi,
      b[2] = -0.0f;
      const int64_t pixels = p.oh * p.ow;
      ChunkingHost whole(1 << 30);
      for (const anvil_host_api &api :
           {whole.api, anvil_test::reversedHost()}) {
        std::vector<float> want(p.n * p.m * pixels, std::nanf("1")), got = want;
        auto loopOver = [&](std::vector<float> &out, int *calls) {
          return [&out, calls, clamp, pixels](int64_t i0, int64_t i1,
                                              int64_t n0, int64_t n1) {
            ++*calls;
            for (int64_t r = i0; r < i1; ++r)
              for (int64_t col = n0; col < n1; ++col) {
                float &v = out[r * pixels + col];
                v = anvil::cpu::min_nan(anvil::cpu::max_nan(v, clamp.lo),
                                        clamp.hi);
              }
          };
        };
        int plainCalls = 0, clampCalls = 0;
        anvil::cpu::RunScope scope(&api, nullptr);
        ASSERT_EQ(
            anvil::cpu::conv2d<float>(scope.host(), p, x.data(), stored.data(),
                                      c.bias ? b.data() : nullptr, want.data(),
                                      loopOver(want, &plainCalls)),
            0);
        ASSERT_EQ(anvil::cpu::conv2d<float>(
                      scope.host(), p, x.data(), stored.data(),
                      c.bias ? b.data() : nullptr, got.data(),
                      anvil::cpu::clamp_epilogue(clamp.lo, clamp.hi,
                                                 loopOver(got, &clampCalls))),
                  0);
        EXPECT_EQ(
            std::memcmp(got.data(), want.data(), sizeof(float) * got.size()), 0)
            << "the fused clamp and its loop differ in bits";
        EXPECT_GT(plainCalls, 0);
        if (fusesClamp(p))
          EXPECT_EQ(clampCalls, 0) << "a fusing path called the loop";
        else
          EXPECT_EQ(clampCalls, plainCalls) << "the loop not called";
      }
    }
  }
}

/// x [n, c, hw] planes as [n, hw, c] (channels last), or back with
/// `toPlanes`.
std::vector<float> channelsLast(const std::vector<float> &x, int64_t n,
                                int64_t c, int64_t hw, bool toPlanes = false) {
  std::vector<float> y(x.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t q = 0; q < hw; ++q) {
        const int64_t planar = (b * c + ch) * hw + q,
                      last = (b * hw + q) * c + ch;
        if (toPlanes)
          y[planar] = x[last];
        else
          y[last] = x[planar];
      }
  return y;
}

// Convolutions with channels-last tensors (conv_channels_last.h: the
// inverted residual block's 1x1 expansion writing channels last, its
// depthwise convolution on both sides, its 1x1 projection reading them)
// give, element for element, the bits of the planar kernels, with a clamp
// epilogue, on every chunking; the projection's planar output takes any
// epilogue (a residual add here).
TEST(Conv2d, ChannelsLastMatchesPlanes) {
  REQUIRE_LEVEL();
  struct LayoutCase {
    Case c;
    bool in, out; // in_nhwc, out_nhwc
  };
  const LayoutCase cases[] = {
      // n  c   h   w   m  kh kw sy sx dy dx  t  l  b  r  g  bias
      {{1, 24, 9, 11, 144, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       false,
       true}, // expand
      {{2, 16, 5, 5, 40, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, false},
       false,
       true}, // m 40, P 25
      {{1, 160, 7, 7, 960, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       false,
       true}, // 7 x 7: panel chunks
      {{1, 960, 7, 7, 160, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       true,
       false}, // and back, 4 k blocks
      {{1, 0, 5, 5, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       false,
       true}, // K 0
      {{1, 0, 5, 5, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       true,
       false}, // K 0
      {{1, 300, 4, 7, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       true,
       false}, // project, 2 k blocks
      {{2, 144, 7, 7, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       true,
       false}, // project, batch 2
      {{1, 33, 6, 6, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
       true,
       true}, // both
      {{1, 144, 14, 14, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 144, true},
       true,
       true}, // dw
      {{2, 40, 15, 16, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 40, true},
       true,
       true}, // dw /2
      {{1, 7, 9, 9, 7, 5, 5, 1, 2, 2, 1, 2, 0, 3, 1, 7, false},
       true,
       true}, // dw 7 ch, dilated
      {{1, 17, 70, 70, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, true},
       true,
       true}, // dw: interior runs of 8, border groups
      {{2, 16, 12, 13, 16, 9, 9, 1, 1, 1, 1, 4, 4, 4, 4, 16, true},
       true,
       true}, // dw 81 taps
      {{2, 20, 6, 1, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 20, false},
       true,
       true}, // dw 1 column: no interior
      {{1, 32, 9, 40, 32, 3, 3, 1, 2, 1, 1, 0, 1, 2, 0, 32, true},
       true,
       true}, // dw /1,2 asymmetric pads
  };
  const float inf = std::numeric_limits<float>::infinity();
  unsigned seed = 600;
  for (const LayoutCase &lc : cases) {
    const Case &c = lc.c;
    anvil::Conv2dParams p = params(c);
    auto [x, w, b] = randomOperands(c, seed++);
    // A NaN and infinities in the input (the clamp's and the transposes'
    // paths see them).
    if (!x.empty()) {
      x[0] = std::nanf("");
      x[x.size() / 2] = std::numeric_limits<float>::infinity();
      x[x.size() - 1] = -std::numeric_limits<float>::infinity();
    }
    const int64_t K = c.c / c.group * c.kh * c.kw, P = p.oh * p.ow;
    const bool depthwise = c.group > 1;
    for (const anvil::cpu::ClampBounds &clamp :
         {anvil::cpu::ClampBounds{-inf, inf},
          anvil::cpu::ClampBounds{0.0f, 6.0f}}) {
      SCOPED_TRACE(testing::Message()
                   << "c " << c.c << " m " << c.m << " " << c.h << "x" << c.w
                   << " group " << c.group << " in_nhwc " << lc.in
                   << " out_nhwc " << lc.out << " clamp " << clamp.lo);
      auto clampLoop = [](std::vector<float> &out, anvil::cpu::ClampBounds cb,
                          int64_t pixels) {
        return anvil::cpu::clamp_epilogue(
            cb.lo, cb.hi,
            [&out, cb, pixels](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
              for (int64_t r = i0; r < i1; ++r)
                for (int64_t col = n0; col < n1; ++col)
                  out[r * pixels + col] =
                      anvil::cpu::clamp_nan(out[r * pixels + col], cb);
            });
      };
      ChunkingHost whole(1 << 30);
      // The planar reference.
      std::vector<float> want(p.n * p.m * P, std::nanf("1"));
      {
        anvil::cpu::RunScope scope(&whole.api, nullptr);
        ASSERT_EQ(anvil::cpu::conv2d<float>(scope.host(), p, x.data(), w.data(),
                                            c.bias ? b.data() : nullptr,
                                            want.data(),
                                            clampLoop(want, clamp, P)),
                  0);
      }
      anvil::Conv2dParams q = p;
      q.in_nhwc = lc.in, q.out_nhwc = lc.out;
      if (!depthwise)
        q.weight_panel = 32;
      const std::vector<float> stored = depthwise ? w : columnPanels(w, c.m, K);
      const std::vector<float> input =
          lc.in ? channelsLast(x, c.n, c.c, c.h * c.w) : x;
      for (const anvil_host_api &api :
           {whole.api, anvil_test::reversedHost()}) {
        std::vector<float> got(want.size(), std::nanf("2"));
        anvil::cpu::RunScope scope(&api, nullptr);
        int calls = 0;
        auto counted = anvil::cpu::clamp_epilogue(
            clamp.lo, clamp.hi,
            [&calls](int64_t, int64_t, int64_t, int64_t) { ++calls; });
        ASSERT_EQ(anvil::cpu::conv2d<float>(
                      scope.host(), q, input.data(), stored.data(),
                      c.bias ? b.data() : nullptr, got.data(), counted),
                  0);
        EXPECT_EQ(calls, 0) << "the clamp's loop called";
        if (lc.out)
          got = channelsLast(got, c.n, c.m, P, true);
        EXPECT_EQ(
            std::memcmp(got.data(), want.data(), sizeof(float) * got.size()), 0)
            << "channels last and planes differ in bits";
      }
    }
    // A planar output (the projection) takes any epilogue: a residual add.
    if (!lc.out) {
      ChunkingHost whole(1 << 30);
      std::vector<float> residual(p.n * p.m * P);
      for (size_t i = 0; i < residual.size(); ++i)
        residual[i] = float(i % 13) - 6.0f;
      auto addInto = [&residual, P](std::vector<float> &out) {
        return [&out, &residual, P](int64_t i0, int64_t i1, int64_t n0,
                                    int64_t n1) {
          for (int64_t r = i0; r < i1; ++r)
            for (int64_t col = n0; col < n1; ++col)
              out[r * P + col] += residual[r * P + col];
        };
      };
      std::vector<float> want(residual.size()), got(residual.size());
      anvil::Conv2dParams q = p;
      q.in_nhwc = true, q.weight_panel = 32;
      const std::vector<float> input = channelsLast(x, c.n, c.c, c.h * c.w);
      const std::vector<float> stored = columnPanels(w, c.m, K);
      anvil::cpu::RunScope scope(&whole.api, nullptr);
      ASSERT_EQ(anvil::cpu::conv2d<float>(scope.host(), p, x.data(), w.data(),
                                          c.bias ? b.data() : nullptr,
                                          want.data(), addInto(want)),
                0);
      ASSERT_EQ(anvil::cpu::conv2d<float>(
                    scope.host(), q, input.data(), stored.data(),
                    c.bias ? b.data() : nullptr, got.data(), addInto(got)),
                0);
      EXPECT_EQ(
          std::memcmp(got.data(), want.data(), sizeof(float) * got.size()), 0)
          << "the projection's residual epilogue";
    }
  }
}

// Channels-last layouts the kernels do not take (a 3x3 group-1
// convolution, a depthwise one planar on one side, a weight not in
// panels) fail with an error, writing nothing.
// clang-format off
TEST(Conv2d, ChannelsLastRejectsWhatItCannotRun) {
  REQUIRE_LEVEL();
  const BadLayout bad[] = {
      {{1, 8, 6, 6, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, false, true, 32},
      {{1, 16, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, true}, true, false, 0},
      {{1, 16, 6, 6, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, true, false, 0},
  };
  for (const BadLayout &bc : bad)
    expectRejected(bc, 0);
}
// clang-format on

// A channels-last output hands any other epilogue (a unary loop in place,
// as the compiler passes: HardSwish, Sigmoid) runs of its buffer in memory
// order, each element once, after it is final: the values of the planar
// output with the same loop.
TEST(Conv2d, ChannelsLastOutputsHandTheirEpilogueRuns) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {2, 16, 6, 7, 70, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},  // expansion
      {1, 96, 7, 7, 960, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true}, // panel chunks
      {2, 40, 15, 16, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 40, true}, // depthwise
      {1, 17, 70, 70, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 17, true}, // dw rows
  };
  unsigned seed = 700;
  for (const Case &c : cases) {
    anvil::Conv2dParams p = params(c);
    const auto [x, w, b] = randomOperands(c, seed++);
    const int64_t P = p.oh * p.ow, K = c.c / c.group * c.kh * c.kw;
    const bool depthwise = c.group > 1;
    auto hardSigmoid = [P](std::vector<float> &out, std::vector<int> *seen) {
      return [&out, seen, P](int64_t i0, int64_t i1, int64_t n0, int64_t n1) {
        for (int64_t r = i0; r < i1; ++r)
          for (int64_t col = n0; col < n1; ++col) {
            float &v = out[r * P + col];
            v = std::min(std::max(v * 0.2f + 0.5f, 0.0f), 1.0f);
            if (seen)
              ++(*seen)[r * P + col];
          }
      };
    };
    ChunkingHost whole(1 << 30);
    std::vector<float> want(p.n * p.m * P);
    {
      anvil::cpu::RunScope scope(&whole.api, nullptr);
      ASSERT_EQ(anvil::cpu::conv2d<float>(scope.host(), p, x.data(), w.data(),
                                          b.data(), want.data(),
                                          hardSigmoid(want, nullptr)),
                0);
    }
    anvil::Conv2dParams q = p;
    q.out_nhwc = true, q.in_nhwc = depthwise;
    if (!depthwise)
      q.weight_panel = 32;
    const std::vector<float> stored = depthwise ? w : columnPanels(w, c.m, K);
    const std::vector<float> input =
        depthwise ? channelsLast(x, c.n, c.c, c.h * c.w) : x;
    for (const anvil_host_api &api : {whole.api, anvil_test::reversedHost()}) {
      std::vector<float> got(want.size(), std::nanf(""));
      std::vector<int> seen(got.size(), 0);
      anvil::cpu::RunScope scope(&api, nullptr);
      ASSERT_EQ(anvil::cpu::conv2d<float>(scope.host(), q, input.data(),
                                          stored.data(), b.data(), got.data(),
                                          hardSigmoid(got, &seen)),
                0);
      EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), int64_t(seen.size()))
          << "an element seen other than once, " << c.c << " channels";
      EXPECT_EQ(channelsLast(got, c.n, c.m, P, true), want)
          << c.c << " channels";
    }
  }
}

// A non-const bias pointer (as callers outside generated code pass) takes
// the bias overload, not the one with an epilogue after the output.
TEST(Conv2d, NonConstBiasIsTheBias) {
  REQUIRE_LEVEL();
  const Case c{1, 4, 5, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true};
  const anvil::Conv2dParams p = params(c);
  auto [x, w, b] = randomOperands(c, 7);
  ChunkingHost whole(1 << 30);
  const std::vector<float> want = run(&whole.api, p, x, w, b);
  std::vector<float> out(want.size());
  anvil::cpu::RunScope scope(&whole.api, nullptr);
  ASSERT_EQ(anvil::cpu::conv2d<float>(scope.host(), p, x.data(), w.data(),
                                      b.data(), out.data()),
            0);
  EXPECT_EQ(out, want);
}

// An empty batch (a bounded dim at 0) writes nothing and calls no epilogue
// on any path.
TEST(Conv2d, EmptyBatch) {
  REQUIRE_LEVEL();
  const Case cases[] = {
      {0, 16, 6, 40, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},  // Padded
      {0, 20, 7, 9, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},   // Image
      {0, 16, 13, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, // Packed
      {0, 8, 14, 70, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, true},   // depthwise
      {0, 8, 9, 41, 4, 3, 3, 1, 1, 1, 2, 1, 2, 1, 2, 2, true},    // direct
  };
  for (const Case &c : cases) {
    const anvil::Conv2dParams p = params(c);
    const auto [x, w, b] = randomOperands(c, 5);
    float sentinel = 7.0f;
    int calls = 0;
    const anvil_host_api api = anvil_test::reversedHost();
    anvil::cpu::RunScope scope(&api, nullptr);
    EXPECT_EQ(anvil::cpu::conv2d<float>(
                  scope.host(), p, x.data(), w.data(), b.data(), &sentinel,
                  [&](int64_t, int64_t, int64_t, int64_t) { ++calls; }),
              0);
    EXPECT_EQ(sentinel, 7.0f);
    EXPECT_EQ(calls, 0);
  }
}

// A batch whose padded copy exceeds the budget is worked a few images per
// pass, with the same bits.
TEST(Conv2d, PaddedImagesInPasses) {
  REQUIRE_LEVEL();
  const Case c{5, 6, 7, 30, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true};
  const anvil::Conv2dParams p = params(c);
  ASSERT_EQ(int(anvil::cpu::conv_gemm::feed_for(p)),
            int(anvil::cpu::conv_gemm::Feed::PaddedImage));
  const auto [x, w, b] = randomOperands(c, 11);
  ChunkingHost whole(1 << 30);
  const std::vector<float> want = run(&whole.api, p, x, w, b);
  // One padded image is 6 planes of 9 x 32 floats: 1728.
  for (int64_t budget : {1, 1728, 2 * 1728, 4 * 1728}) {
    std::vector<float> out(want.size(), std::nanf(""));
    anvil::cpu::RunScope scope(&whole.api, nullptr);
    ASSERT_EQ(anvil::cpu::conv_gemm::conv2d(scope.host(), p, x.data(), w.data(),
                                            b.data(), out.data(),
                                            anvil::cpu::NoEpilogue(), budget),
              0);
    EXPECT_EQ(out, want) << "budget " << budget;
  }
}

struct PoolCase {
  bool max;
  int64_t rank, outer;
  int64_t in[3], kernel[3], strides[3], pads[6], dilations[3];
  bool ceil, countIncludePad;
};

/// The pool kernel's parameters for case c, with the input and output
/// elements per plane.
anvil::PoolParams poolParams(const PoolCase &c, int64_t &inSize,
                             int64_t &outSize) {
  anvil::PoolParams p{};
  std::strcpy(p.kind, c.max ? "max" : "avg");
  p.outer = c.outer, p.rank = c.rank, p.count_include_pad = c.countIncludePad;
  outSize = 1, inSize = 1;
  for (int64_t i = 0; i < c.rank; ++i) {
    p.in_dims[i] = c.in[i], p.kernel[i] = c.kernel[i];
    p.strides[i] = c.strides[i], p.dilations[i] = c.dilations[i];
    p.pads[i] = c.pads[i], p.pads[c.rank + i] = c.pads[3 + i];
    const int64_t span = c.in[i] + c.pads[i] + c.pads[3 + i] -
                         (c.kernel[i] - 1) * c.dilations[i] - 1;
    p.out_dims[i] = (c.ceil ? (span + c.strides[i] - 1) / c.strides[i]
                            : span / c.strides[i]) +
                    1;
    outSize *= p.out_dims[i], inSize *= c.in[i];
  }
  return p;
}

/// The pool kernel against the definition (taps tested one by one, sums in
/// long double): max exactly, NaN propagated; average within 4 ulp.
void checkPool(const PoolCase &c, unsigned seed) {
  int64_t inSize, outSize;
  const anvil::PoolParams p = poolParams(c, inSize, outSize);
  SCOPED_TRACE(testing::Message() << (c.max ? "max" : "avg") << " rank "
                                  << c.rank << " seed " << seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<float> x(c.outer * inSize);
  for (float &v : x)
    v = dist(rng);
  x[x.size() / 3] = std::nanf(""); // one window (or more) gives NaN
  std::vector<float> out(c.outer * outSize, -1.0f);
  const anvil_host_api reversed = anvil_test::reversedHost();
  {
    anvil::cpu::RunScope scope(&reversed, nullptr);
    ASSERT_EQ(anvil::cpu::pool<float>(scope.host(), p, x.data(), out.data()),
              0);
  }
  int64_t bad = 0;
  for (int64_t plane = 0; plane < c.outer; ++plane)
    for (int64_t e = 0; e < outSize; ++e) {
      int64_t idx[3], rem = e;
      for (int64_t i = c.rank - 1; i >= 0; --i)
        idx[i] = rem % p.out_dims[i], rem /= p.out_dims[i];
      long double best = -INFINITY, sum = 0;
      int64_t valid = 0, padded = 0;
      bool nan = false;
      const int64_t taps = c.kernel[0] * (c.rank > 1 ? c.kernel[1] : 1) *
                           (c.rank > 2 ? c.kernel[2] : 1);
      for (int64_t t = 0; t < taps; ++t) {
        int64_t tap[3], r = t, offset = 0;
        bool inside = true, inPadded = true;
        for (int64_t i = c.rank - 1; i >= 0; --i)
          tap[i] = r % c.kernel[i], r /= c.kernel[i];
        for (int64_t i = 0; i < c.rank; ++i) {
          const int64_t at =
              idx[i] * c.strides[i] - c.pads[i] + tap[i] * c.dilations[i];
          inPadded = inPadded && at < c.in[i] + c.pads[3 + i];
          inside = inside && at >= 0 && at < c.in[i];
          offset = offset * c.in[i] + at;
        }
        padded += inPadded;
        if (!inside)
          continue;
        const float v = x[plane * inSize + offset];
        ++valid;
        nan = nan || v != v;
        best = std::max<long double>(best, v);
        sum += v;
      }
      const float got = out[plane * outSize + e];
      long double want =
          c.max ? best
                : sum / (c.countIncludePad ? padded : (valid ? valid : 1));
      const bool ok =
          nan ? got != got
              : (c.max ? (long double)got == want
                       : std::fabs((long double)got - want) <=
                             4 * std::ldexp(1.0L, -24) * std::fabs(want) +
                                 1e-30L);
      if (!ok && bad++ < 5)
        ADD_FAILURE() << "out[" << plane << ", " << e << "] = " << got
                      << ", reference " << (double)want;
    }
  EXPECT_EQ(bad, 0);
}

/// Integer max pooling (quantized CNNs): the largest valid tap exactly,
/// the type's lowest value for a window with none.
template <class T> void checkIntegerMaxPool(const PoolCase &c, unsigned seed) {
  int64_t inSize, outSize;
  const anvil::PoolParams p = poolParams(c, inSize, outSize);
  SCOPED_TRACE(testing::Message() << "integer max rank " << c.rank << " seed "
                                  << seed << " bytes " << sizeof(T));
  std::mt19937 rng(seed);
  std::vector<T> x(c.outer * inSize);
  for (T &v : x)
    v = T(rng());
  std::vector<T> out(c.outer * outSize, T(7));
  const anvil_host_api reversed = anvil_test::reversedHost();
  {
    anvil::cpu::RunScope scope(&reversed, nullptr);
    ASSERT_EQ(anvil::cpu::pool<T>(scope.host(), p, x.data(), out.data()), 0);
  }
  int64_t bad = 0;
  for (int64_t plane = 0; plane < c.outer; ++plane)
    for (int64_t e = 0; e < outSize; ++e) {
      int64_t idx[3], rem = e;
      for (int64_t i = c.rank - 1; i >= 0; --i)
        idx[i] = rem % p.out_dims[i], rem /= p.out_dims[i];
      T want = std::numeric_limits<T>::lowest();
      const int64_t taps = c.kernel[0] * (c.rank > 1 ? c.kernel[1] : 1) *
                           (c.rank > 2 ? c.kernel[2] : 1);
      for (int64_t t = 0; t < taps; ++t) {
        int64_t tap[3], r = t, offset = 0;
        bool inside = true;
        for (int64_t i = c.rank - 1; i >= 0; --i)
          tap[i] = r % c.kernel[i], r /= c.kernel[i];
        for (int64_t i = 0; i < c.rank; ++i) {
          const int64_t at =
              idx[i] * c.strides[i] - c.pads[i] + tap[i] * c.dilations[i];
          inside = inside && at >= 0 && at < c.in[i];
          offset = offset * c.in[i] + at;
        }
        if (inside)
          want = std::max(want, x[plane * inSize + offset]);
      }
      const T got = out[plane * outSize + e];
      if (got != want && bad++ < 5)
        ADD_FAILURE() << "out[" << plane << ", " << e << "] = " << int64_t(got)
                      << ", reference " << int64_t(want);
    }
  EXPECT_EQ(bad, 0);
}

// clang-format off
// Float 2-D max pooling (pool's two passes over rows, conv.h) gives, bit
// for bit, the fold its comment defines: per output max_select over the
// valid taps in (ky, kx) order from -inf, which keeps the last of equal
// maxima (+0 and -0 alike) and the first NaN (payloads told apart here).
TEST(Pool, FloatMaxRowsKeepTheFoldsBits) {
  REQUIRE_LEVEL();
  const PoolCase cases[] = {
      // max  rank outer  in          kernel     strides    pads                dilations  ceil   incl
      {true,  2, 3, {13, 57, 0}, {3, 3, 0}, {2, 2, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, false, false},
      {true,  2, 2, {9, 41, 0},  {3, 3, 0}, {1, 1, 0}, {1, 1, 0, 1, 1, 0}, {1, 2, 0}, true,  false},
      {true,  2, 2, {8, 40, 0},  {2, 3, 0}, {3, 3, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, false, false},
      {true,  2, 2, {10, 36, 0}, {3, 3, 0}, {2, 2, 0}, {0, 0, 0, 0, 0, 0}, {1, 1, 0}, true,  false},
  };
  unsigned seed = 700;
  for (const PoolCase &c : cases) {
    int64_t inSize, outSize;
    const anvil::PoolParams p = poolParams(c, inSize, outSize);
    std::mt19937 rng(seed++);
    // Few distinct values (many ties), zeros of both signs, NaNs with
    // three payloads.
    const float values[] = {-1.0f, 0.0f, -0.0f, 2.0f, -0.0f, 0.0f,
                            std::nanf("1"), std::nanf("2"), std::nanf("3")};
    std::uniform_int_distribution<int> pick(0, 60);
    std::vector<float> x(c.outer * inSize);
    for (float &v : x) {
      const int i = pick(rng);
      v = i < 9 ? values[i] : values[i % 6];
    }
    std::vector<float> got(c.outer * outSize, 7.0f), want(got.size());
    ChunkingHost whole(1 << 30);
    anvil::cpu::RunScope scope(&whole.api, nullptr);
    ASSERT_EQ(anvil::cpu::pool<float>(scope.host(), p, x.data(), got.data()),
              0);
    const int64_t oh = p.out_dims[0], ow = p.out_dims[1];
    for (int64_t plane = 0; plane < c.outer; ++plane)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          float m = -std::numeric_limits<float>::infinity();
          for (int64_t ky = 0; ky < c.kernel[0]; ++ky)
            for (int64_t kx = 0; kx < c.kernel[1]; ++kx) {
              const int64_t iy = oy * c.strides[0] - c.pads[0] + ky * c.dilations[0];
              const int64_t ix = ox * c.strides[1] - c.pads[1] + kx * c.dilations[1];
              if (iy >= 0 && iy < c.in[0] && ix >= 0 && ix < c.in[1])
                m = anvil::cpu::max_select(m, x[plane * inSize + iy * c.in[1] + ix]);
            }
          want[plane * outSize + oy * ow + ox] = m;
        }
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
        << "in " << c.in[0] << "x" << c.in[1] << " stride " << c.strides[1];
  }
}

TEST(Pool, MatchesDefinition) {
  REQUIRE_LEVEL();
  const PoolCase cases[] = {
      // max  rank outer  in          kernel     strides    pads                dilations  ceil   incl
      {true,  2, 3, {13, 17, 0}, {3, 3, 0}, {2, 2, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, false, false},
      {true,  2, 2, {10, 9, 0},  {3, 2, 0}, {2, 3, 0}, {0, 1, 0, 1, 0, 0}, {2, 1, 0}, true,  false},
      {false, 2, 2, {11, 12, 0}, {3, 3, 0}, {2, 2, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, true,  true},
      {false, 2, 2, {11, 12, 0}, {3, 3, 0}, {2, 2, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, true,  false},
      {false, 1, 4, {30, 0, 0},  {4, 0, 0}, {3, 0, 0}, {2, 0, 0, 2, 0, 0}, {1, 0, 0}, false, true},
      {true,  3, 2, {5, 6, 7},   {2, 3, 2}, {1, 2, 2}, {1, 1, 0, 0, 1, 1}, {1, 1, 2}, true,  false},
      {false, 3, 2, {5, 6, 7},   {2, 3, 2}, {2, 1, 2}, {1, 0, 1, 1, 1, 0}, {2, 1, 1}, false, true},
      // Max rows with long interiors (the vectorized columns), stride 1
      // and 2, and one with no interior column (every window clipped).
      {true,  2, 2, {7, 61, 0},  {3, 3, 0}, {2, 2, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, false, false},
      {true,  1, 3, {45, 0, 0},  {3, 0, 0}, {1, 0, 0}, {1, 0, 0, 1, 0, 0}, {1, 0, 0}, false, false},
      {true,  1, 2, {3, 0, 0},   {5, 0, 0}, {1, 0, 0}, {2, 0, 0, 2, 0, 0}, {1, 0, 0}, false, false},
      // Float max rows (two passes): stride 2 with dilation 2 and an odd
      // width, stride 3 (its interior one output at a time), stride 1
      // dilated, ceil mode at stride 2.
      {true,  2, 2, {9, 41, 0},  {3, 3, 0}, {2, 2, 0}, {2, 2, 0, 2, 2, 0}, {2, 2, 0}, false, false},
      {true,  2, 2, {8, 40, 0},  {3, 4, 0}, {3, 3, 0}, {1, 1, 0, 1, 1, 0}, {1, 1, 0}, false, false},
      {true,  2, 1, {6, 50, 0},  {2, 3, 0}, {1, 1, 0}, {0, 2, 0, 1, 2, 0}, {1, 2, 0}, false, false},
      {true,  2, 2, {10, 36, 0}, {3, 3, 0}, {2, 2, 0}, {0, 0, 0, 0, 0, 0}, {1, 1, 0}, true,  false},
  };
  unsigned seed = 200;
  for (const PoolCase &c : cases) {
    checkPool(c, seed++);
    if (c.max) {
      checkIntegerMaxPool<uint8_t>(c, seed);
      checkIntegerMaxPool<int8_t>(c, seed);
      checkIntegerMaxPool<int32_t>(c, seed);
    }
  }
}
// clang-format on

} // namespace

//===- ConvIntegerTest.cpp - the int8 convolution kernel against int64 ----===//
//
// conv2d_integer (conv_integer.h) must equal the convolution's definition
// summed in int64 and wrapped to int32, exactly. Built once per x86-64
// level (v2, v3, v4: the float-chunk path) and once more for x86-64-v4
// with AVX512-VNNI (the vpdpbusd product; skipped where the CPU lacks
// VNNI). Shapes cover: uint8 and int8 activations with zero points,
// strides, dilations, asymmetric padding, taps wholly in the padding,
// groups, batches, K not a multiple of 4, more k than one 512-k block,
// output channels not a multiple of a 12-row tile, panels of 32 pixels
// with a last one of at most 16 and of 17 to 31, 1x1 windows whose panels
// span output rows (with and without padding; uint8 read in place), 1-D
// windows, narrow
// groups the product leaves to the float path, sums that wrap int32, and
// the same bits whatever the chunking over threads.
//
//===----------------------------------------------------------------------===//

#include "ChunkingHost.h"
#include "KernelLevel.h"
#include "ReversedHost.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace {

struct Case {
  int64_t n, c, h, w, m, kh, kw;
  int64_t sy, sx, dy, dx;
  int64_t top, left, bottom, right;
  int64_t group;
};

anvil::Conv2dIntegerParams params(const Case &c) {
  anvil::Conv2dIntegerParams p{};
  p.n = c.n, p.c = c.c, p.h = c.h, p.w = c.w, p.m = c.m;
  p.kh = c.kh, p.kw = c.kw;
  p.oh = (c.h + c.top + c.bottom - (c.kh - 1) * c.dy - 1) / c.sy + 1;
  p.ow = (c.w + c.left + c.right - (c.kw - 1) * c.dx - 1) / c.sx + 1;
  p.strides[0] = c.sy, p.strides[1] = c.sx;
  p.pads[0] = c.top, p.pads[1] = c.left, p.pads[2] = c.bottom,
  p.pads[3] = c.right;
  p.dilations[0] = c.dy, p.dilations[1] = c.dx;
  p.group = c.group;
  return p;
}

/// The definition: sum over the window of (x - zero) * w in int64, taps in
/// the padding skipped (they hold the zero point), wrapped to int32.
template <class X>
std::vector<int32_t> reference(const anvil::Conv2dIntegerParams &p,
                               const std::vector<X> &x,
                               const std::vector<int8_t> &w, X zero) {
  const int64_t cg = p.c / p.group, mg = p.m / p.group;
  std::vector<int32_t> out(p.n * p.m * p.oh * p.ow);
  for (int64_t b = 0; b < p.n; ++b)
    for (int64_t m = 0; m < p.m; ++m)
      for (int64_t oy = 0; oy < p.oh; ++oy)
        for (int64_t ox = 0; ox < p.ow; ++ox) {
          const int64_t g = m / mg;
          int64_t sum = 0;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t ky = 0; ky < p.kh; ++ky)
              for (int64_t kx = 0; kx < p.kw; ++kx) {
                const int64_t iy =
                    oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
                const int64_t ix =
                    ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w)
                  continue;
                sum +=
                    (int64_t(
                         x[((b * p.c + g * cg + ic) * p.h + iy) * p.w + ix]) -
                     zero) *
                    w[((m * cg + ic) * p.kh + ky) * p.kw + kx];
              }
          out[((b * p.m + m) * p.oh + oy) * p.ow + ox] =
              int32_t(uint32_t(uint64_t(sum)));
        }
  return out;
}

template <class X>
std::vector<int32_t>
run(const anvil_host_api *api, const anvil::Conv2dIntegerParams &p,
    const std::vector<X> &x, const std::vector<int8_t> &w, X zero) {
  std::vector<int32_t> out(p.n * p.m * p.oh * p.ow, 0x5a5a5a5a);
  anvil::cpu::RunScope scope(api, nullptr);
  EXPECT_EQ(anvil::cpu::conv2d_integer<X>(scope.host(), p, x.data(), w.data(),
                                          &zero, out.data()),
            0);
  return out;
}

template <class X> void check(const Case &c, unsigned seed) {
  const anvil::Conv2dIntegerParams p = params(c);
  SCOPED_TRACE(testing::Message()
               << (std::is_signed<X>::value ? "int8" : "uint8") << " n " << c.n
               << " c " << c.c << " " << c.h << "x" << c.w << " m " << c.m
               << " kernel " << c.kh << "x" << c.kw << " strides " << c.sy
               << "," << c.sx << " dilations " << c.dy << "," << c.dx
               << " pads " << c.top << "," << c.left << "," << c.bottom << ","
               << c.right << " group " << c.group << " -> " << p.oh << "x"
               << p.ow);
  std::mt19937 rng(seed);
  std::vector<X> x(c.n * c.c * c.h * c.w);
  std::vector<int8_t> w(c.m * (c.c / c.group) * c.kh * c.kw);
  for (X &v : x)
    v = X(rng());
  for (int8_t &v : w)
    v = int8_t(rng());
  const X zero = X(rng());
  const std::vector<int32_t> want = reference(p, x, w, zero);
  anvil_test::ChunkingHost whole(1 << 30), single(1);
  const anvil_host_api reversed = anvil_test::reversedHost();
  EXPECT_EQ(run(&whole.api, p, x, w, zero), want);
  EXPECT_EQ(run(&single.api, p, x, w, zero), want)
      << "chunks of one item, last first";
  EXPECT_EQ(run(&reversed, p, x, w, zero), want) << "chunks in reverse order";
}

// clang-format off
const Case kCases[] = {
    // n  c   h   w   m  kh kw sy sx dy dx  t  l  b  r  g
    {1, 16, 9, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 3x3 same, P 99
    {2, 7, 10, 13, 13, 3, 3, 2, 1, 1, 2, 0, 2, 1, 0, 1},   // K 63, strides, dilation
    {1, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // K 576: two k blocks
    {1, 600, 5, 5, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // K 5400
    {1, 8, 7, 7, 16, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2},     // 1x1, 2 groups, P 49
    {1, 6, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},     // narrow groups
    {3, 5, 1, 40, 9, 1, 5, 1, 3, 1, 1, 0, 2, 0, 1, 1},     // 1-D, stride 3
    {1, 3, 40, 40, 37, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},   // stem 7x7/2
    {2, 48, 6, 6, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},    // groups of 24 in, 48 out
    {1, 32, 3, 3, 20, 3, 3, 1, 1, 1, 1, 5, 5, 5, 5, 1},    // taps wholly in pads
    {1, 24, 15, 15, 36, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},  // 1x1/2, P 64
    {2, 40, 7, 9, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},    // 1x1: one run, x in place
    {1, 16, 5, 9, 24, 1, 1, 1, 1, 1, 1, 1, 2, 0, 1, 1},    // 1x1 with padding
};
// clang-format on

TEST(Conv2dInteger, Uint8MatchesInt64) {
  REQUIRE_LEVEL();
  unsigned seed = 1;
  for (const Case &c : kCases)
    check<uint8_t>(c, seed++);
}

TEST(Conv2dInteger, Int8MatchesInt64) {
  REQUIRE_LEVEL();
  unsigned seed = 100;
  for (const Case &c : kCases)
    check<int8_t>(c, seed++);
}

TEST(Conv2dInteger, SumsWrapAsInt32) {
  REQUIRE_LEVEL();
  // 70000 channels of 255 x -128: -2.28e9, beyond int32, wraps.
  const Case c{1, 70000, 1, 1, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1};
  const anvil::Conv2dIntegerParams p = params(c);
  std::vector<uint8_t> x(c.c, 255);
  std::vector<int8_t> w(c.m * c.c, -128);
  w[c.c] = 127; // the second output differs
  const std::vector<int32_t> want = reference<uint8_t>(p, x, w, 0);
  EXPECT_EQ(want[0], int32_t(uint32_t(uint64_t(int64_t(70000) * 255 * -128))));
  anvil_test::ChunkingHost whole(1 << 30);
  EXPECT_EQ(run<uint8_t>(&whole.api, p, x, w, 0), want);
}

} // namespace

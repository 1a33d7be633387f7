//===- QuantizeRowTest.cpp - per-token int8 quantization's bytes ----------===//
//
// quant::quantize_row_int8 (matmul_quant.h) against anvil.quantize_per_token's
// definition, restated here in scalar float: scale = max|x| / 127 (1 for an
// all-zero row), q = x / scale rounded half to even, clamped to +-127, and
// the sum of the q. On AVX-512 and AVX2 the kernel multiplies by 1 / scale
// and divides only the lanes near a half-integer; the rows here put quotients
// on and within a few ulps of every half-integer, besides random rows of
// many magnitudes and subnormal and huge scales, so a wrong threshold or a
// lane left undivided shows as a byte that differs.
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

struct Quantized {
  std::vector<int8_t> q;
  float scale = 0;
  int32_t sum = 0;
};

/// The definition, one value at a time in float (no NaN in these rows).
Quantized reference(const std::vector<float> &x) {
  float m = 0;
  for (float v : x)
    m = std::fabs(v) > m ? std::fabs(v) : m;
  Quantized r;
  r.scale = m > 0 ? m / 127.0f : 1.0f;
  for (float v : x) {
    volatile float quotient = v / r.scale;
    float n = std::nearbyint(static_cast<float>(quotient));
    n = n < -127.0f ? -127.0f : (n > 127.0f ? 127.0f : n);
    r.q.push_back(static_cast<int8_t>(n));
    r.sum += r.q.back();
  }
  return r;
}

void expectSameBytes(const std::vector<float> &x, const char *what) {
  Quantized want = reference(x);
  Quantized got;
  got.q.assign(x.size(), 0);
  anvil::cpu::quant::quantize_row_int8(x.data(), int64_t(x.size()),
                                       got.q.data(), got.scale, got.sum);
  ASSERT_EQ(got.scale, want.scale) << what;
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(int(got.q[i]), int(want.q[i]))
        << what << ": element " << i << " = " << x[i] << " (x / scale "
        << x[i] / want.scale << ")";
  EXPECT_EQ(got.sum, want.sum) << what;
}

/// A row whose maximum is m (element 0) and whose other elements put
/// x / scale on, and 1-3 ulps either side of, half-integers from -127.5
/// to 126.5.
std::vector<float> nearTies(float m) {
  const float scale = m / 127.0f;
  std::vector<float> x{m};
  for (int n = -128; n <= 126; ++n) {
    float tie = static_cast<float>((n + 0.5) * double(scale));
    if (std::fabs(tie) > m)
      continue;
    x.push_back(tie);
    float up = tie, down = tie;
    for (int u = 0; u < 3; ++u) {
      up = std::nextafter(up, INFINITY);
      down = std::nextafter(down, -INFINITY);
      if (std::fabs(up) <= m)
        x.push_back(up);
      if (std::fabs(down) <= m)
        x.push_back(down);
    }
  }
  return x;
}

TEST(QuantizeRowInt8, NearHalfIntegers) {
  REQUIRE_LEVEL();
  std::mt19937 random(7);
  std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
  std::uniform_int_distribution<int> exponent(-120, 120);
  for (int row = 0; row < 400; ++row) {
    const float m = std::ldexp(mantissa(random), exponent(random));
    expectSameBytes(nearTies(m), "near half-integers");
  }
  // Scales just above and below the smallest normal float, and the
  // largest row maximum.
  for (float m : {127.0f * 0x1p-126f, 126.0f * 0x1p-126f, 1e-40f, 3.4e38f})
    expectSameBytes(nearTies(m), "edge scales");
}

TEST(QuantizeRowInt8, RandomRows) {
  REQUIRE_LEVEL();
  std::mt19937 random(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // Lengths around the 8- and 16-lane vectors and the AVX2 path's 32-value
  // steps (and tails), magnitudes from subnormal to near the largest float.
  for (int64_t k : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 1031}) {
    for (float magnitude : {1e-42f, 1e-30f, 1e-3f, 1.0f, 3e3f, 1e30f, 1e37f}) {
      for (int row = 0; row < 20; ++row) {
        std::vector<float> x(static_cast<size_t>(k));
        for (float &v : x)
          v = normal(random) * magnitude;
        expectSameBytes(x, "random");
      }
    }
  }
  expectSameBytes(std::vector<float>(40, 0.0f), "zeros");
}

// quant::sum_int8 (W4A8's per-group activation sums; 32 bytes a step on
// AVX2) against a plain sum: every length to 100 from five starts (0, 1
// and 31 into the random bytes, 190 and 390 across the runs of -128 and
// 127), and the whole array.
TEST(SumInt8, MatchesPlainSum) {
  REQUIRE_LEVEL();
  std::mt19937 random(5);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> values(4096);
  for (int8_t &v : values)
    v = static_cast<int8_t>(byte(random));
  for (size_t i = 200; i < 600; ++i)
    values[i] = i < 400 ? -128 : 127;
  for (int64_t start : {0, 1, 31, 190, 390}) {
    for (int64_t n = 0; n <= 100; ++n) {
      int32_t want = 0;
      for (int64_t t = 0; t < n; ++t)
        want += values[size_t(start + t)];
      ASSERT_EQ(anvil::cpu::quant::sum_int8(values.data() + start, n), want)
          << "start " << start << ", length " << n;
    }
  }
  int32_t all = 0;
  for (int8_t v : values)
    all += v;
  EXPECT_EQ(anvil::cpu::quant::sum_int8(values.data(), int64_t(values.size())),
            all);
}

} // namespace

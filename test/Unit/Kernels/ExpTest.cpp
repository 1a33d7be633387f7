//===- ExpTest.cpp - exp_f32, the vectorizable e^x of elementwise loops ---===//
//
// Built once per x86-64 level, as the kernels are. The reference is libm's
// double exp rounded to float (an independent, correctly rounded to within
// the double's own error, value).
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "common.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <vector>

namespace {

using anvil::cpu::exp_f32;

int32_t orderedBits(float v) {
  int32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits < 0 ? std::numeric_limits<int32_t>::min() - bits : bits;
}

/// Distance in units in the last place (adjacent floats are 1 apart).
int64_t ulps(float a, float b) {
  return std::llabs(int64_t(orderedBits(a)) - int64_t(orderedBits(b)));
}

float reference(float x) { return static_cast<float>(std::exp(double(x))); }

TEST(ExpF32, WithinOneUlpOverTheNormalRange) {
  REQUIRE_LEVEL();
  // Every 97th float of [-87.3, 88.7] (about 25 million values tried):
  // results there are normal floats.
  int64_t worst = 0;
  float worstAt = 0;
  for (float lo : {-87.3f, 0.0f}) {
    const float hi = lo < 0 ? 0.0f : 88.7f;
    int32_t from = orderedBits(lo), to = orderedBits(hi);
    if (from > to)
      std::swap(from, to);
    for (int64_t i = from; i <= to; i += 97) {
      int32_t ordered = static_cast<int32_t>(i);
      int32_t bits =
          ordered < 0 ? std::numeric_limits<int32_t>::min() - ordered : ordered;
      float x;
      std::memcpy(&x, &bits, sizeof x);
      int64_t d = ulps(exp_f32(x), reference(x));
      if (d > worst) {
        worst = d;
        worstAt = x;
      }
    }
  }
  EXPECT_LE(worst, 1) << "at x = " << worstAt;
}

TEST(ExpF32, SpecialValuesAndRangeEnds) {
  REQUIRE_LEVEL();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(exp_f32(0.0f), 1.0f);
  EXPECT_EQ(exp_f32(-0.0f), 1.0f);
  EXPECT_EQ(exp_f32(inf), inf);
  EXPECT_EQ(exp_f32(-inf), 0.0f);
  EXPECT_TRUE(std::isnan(exp_f32(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(exp_f32(-std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(exp_f32(88.8f), inf); // e^88.8 > FLT_MAX
  EXPECT_EQ(exp_f32(1000.0f), inf);
  EXPECT_EQ(exp_f32(-105.0f), 0.0f); // below half the smallest subnormal
  EXPECT_EQ(exp_f32(-1000.0f), 0.0f);
  // Just below overflow: finite and close.
  EXPECT_LE(ulps(exp_f32(88.72f), reference(88.72f)), 2);
  // Subnormal results: one rounding, so within a subnormal ulp or two.
  for (float x : {-87.5f, -90.0f, -95.0f, -100.0f, -103.0f})
    EXPECT_LE(ulps(exp_f32(x), reference(x)), 2) << x;
}

/// The scalar path, through a pointer the compiler cannot see through, so
/// it is not vectorized with the loop below.
float (*volatile scalarExp)(float) = exp_f32;

TEST(ExpF32, VectorLoopGivesTheScalarBits) {
  REQUIRE_LEVEL();
  std::vector<float> in(4099), out(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = -110.0f + 200.0f * float(i) / float(in.size()) +
            (i % 3 ? 1e-3f * float(i % 7) : 0.0f);
  in[5] = std::numeric_limits<float>::quiet_NaN();
  in[17] = std::numeric_limits<float>::infinity();
  in[18] = -std::numeric_limits<float>::infinity();
  const float *src = in.data();
  float *dst = out.data();
  const int64_t n = static_cast<int64_t>(in.size());
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    dst[i] = exp_f32(src[i]);
  for (size_t i = 0; i < in.size(); ++i) {
    float scalar = scalarExp(in[i]);
    uint32_t a, b;
    std::memcpy(&a, &out[i], 4);
    std::memcpy(&b, &scalar, 4);
    ASSERT_EQ(a, b) << "x = " << in[i];
  }
}

} // namespace

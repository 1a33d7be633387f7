//===- ExpTest.cpp - exp_f32, erf_f32, tanh_f32 of elementwise loops ------===//
//
// Built once per x86-64 level, as the kernels are. The reference is libm's
// double exp (erf, tanh) rounded to float (an independent, correctly
// rounded to within the double's own error, value).
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

/// The largest ulp distance of f from libm's double `ref` rounded to
/// float over every `step`-th float of [-hi, hi] (both signs, zero and the
/// subnormals included), and every float within 2^14 of each of `edges`
/// (the split points of f's pieces, on both sides and signs).
template <class F, class R>
std::pair<int64_t, float> worstUlps(F f, R ref, float hi, int64_t step,
                                    std::initializer_list<float> edges) {
  int64_t worst = 0;
  float worstAt = 0;
  auto visit = [&](int32_t ordered) {
    int32_t bits =
        ordered < 0 ? std::numeric_limits<int32_t>::min() - ordered : ordered;
    float x;
    std::memcpy(&x, &bits, sizeof x);
    int64_t d = ulps(f(x), static_cast<float>(ref(double(x))));
    if (d > worst)
      worst = d, worstAt = x;
  };
  for (int64_t i = orderedBits(-hi); i <= orderedBits(hi); i += step)
    visit(static_cast<int32_t>(i));
  for (float edge : edges)
    for (float e : {edge, -edge})
      for (int64_t i = -16384; i <= 16384; ++i)
        visit(static_cast<int32_t>(orderedBits(e) + i));
  return {worst, worstAt};
}

TEST(ErfF32, WithinThreeUlps) {
  REQUIRE_LEVEL();
  auto [worst, at] =
      worstUlps(anvil::cpu::erf_f32, [](double x) { return std::erf(x); },
                10.0f, 97, {1.0f, 4.0f, 3.92f});
  EXPECT_LE(worst, 3) << "at x = " << at;
}

TEST(ErfF32, SpecialValues) {
  REQUIRE_LEVEL();
  using anvil::cpu::erf_f32;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(erf_f32(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(erf_f32(-0.0f)));
  EXPECT_EQ(erf_f32(inf), 1.0f);
  EXPECT_EQ(erf_f32(-inf), -1.0f);
  EXPECT_EQ(erf_f32(1e30f), 1.0f);
  EXPECT_EQ(erf_f32(-5.0f), -1.0f);
  EXPECT_TRUE(std::isnan(erf_f32(std::numeric_limits<float>::quiet_NaN())));
  // The smallest subnormal: 2/sqrt(pi) x rounds to the same subnormal.
  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(erf_f32(tiny), tiny);
}

TEST(TanhF32, WithinOneUlp) {
  REQUIRE_LEVEL();
  auto [worst, at] =
      worstUlps(anvil::cpu::tanh_f32, [](double x) { return std::tanh(x); },
                20.0f, 97, {0.625f, 9.01f, 10.0f});
  EXPECT_LE(worst, 1) << "at x = " << at;
}

TEST(TanhF32, SpecialValues) {
  REQUIRE_LEVEL();
  using anvil::cpu::tanh_f32;
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(tanh_f32(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(tanh_f32(-0.0f)));
  EXPECT_EQ(tanh_f32(inf), 1.0f);
  EXPECT_EQ(tanh_f32(-inf), -1.0f);
  EXPECT_EQ(tanh_f32(100.0f), 1.0f);
  EXPECT_TRUE(std::isnan(tanh_f32(std::numeric_limits<float>::quiet_NaN())));
}

/// erf_f32 and tanh_f32 in a `#pragma omp simd` loop, as generated
/// elementwise loops call them, against their scalar calls: the same bits.
float (*volatile scalarErf)(float) = anvil::cpu::erf_f32;
float (*volatile scalarTanh)(float) = anvil::cpu::tanh_f32;

TEST(ErfTanhF32, VectorLoopGivesTheScalarBits) {
  REQUIRE_LEVEL();
  std::vector<float> in(4099), erfs(in.size()), tanhs(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = -12.0f + 24.0f * float(i) / float(in.size()) +
            (i % 3 ? 1e-3f * float(i % 7) : 0.0f);
  in[5] = std::numeric_limits<float>::quiet_NaN();
  in[17] = std::numeric_limits<float>::infinity();
  in[18] = -std::numeric_limits<float>::infinity();
  const float *src = in.data();
  float *e = erfs.data(), *t = tanhs.data();
  const int64_t n = static_cast<int64_t>(in.size());
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    e[i] = anvil::cpu::erf_f32(src[i]);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    t[i] = anvil::cpu::tanh_f32(src[i]);
  for (size_t i = 0; i < in.size(); ++i) {
    float se = scalarErf(in[i]), st = scalarTanh(in[i]);
    ASSERT_EQ(std::memcmp(&erfs[i], &se, 4), 0) << "erf, x = " << in[i];
    ASSERT_EQ(std::memcmp(&tanhs[i], &st, 4), 0) << "tanh, x = " << in[i];
  }
}

} // namespace

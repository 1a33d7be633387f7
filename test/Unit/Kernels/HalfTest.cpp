//===- HalfTest.cpp - float16 conversions: F16C against the portable code -===//
//
// Built once per x86-64 level: at v3 and v4 f16's conversions are F16C's
// instructions, at v2 the portable bit manipulation. Both must give the
// same values: every one of the 65536 half values widened exactly, and
// floats narrowed with rounding to nearest even, checked against a
// reference computed here in double (the nearest half, ties to the even
// one, infinity past 65520, NaN for NaN) on every float exactly halfway
// between two halves and one float either side of it, plus a sweep of
// bit patterns.
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace {

using anvil::cpu::f16;

/// The half value of bits h, in double (no F16C, no shared code).
double halfValue(uint16_t h) {
  const int sign = h & 0x8000 ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0x1f)
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  if (exponent == 0)
    return sign * std::ldexp(double(mantissa), -24);
  return sign * std::ldexp(double(1024 + mantissa), exponent - 25);
}

/// The bits of the half nearest to x, ties to even (x finite or not).
uint16_t nearestHalf(float x) {
  if (x != x)
    return 0x7e00;
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(double(x));
  if (a >= 65520.0) // the midpoint between 65504 and the next power
    return sign | 0x7c00;
  uint16_t best = 0;
  double bestError = std::numeric_limits<double>::infinity();
  // The candidates: the halves around a (a linear scan of 31 binades
  // would be slow; search the two neighbours by bisection).
  uint16_t lo = 0, hi = 0x7bff;
  while (lo < hi) { // the first half >= a
    const uint16_t mid = uint16_t((lo + hi) / 2);
    if (halfValue(mid) < a)
      lo = uint16_t(mid + 1);
    else
      hi = mid;
  }
  for (int candidate : {int(lo) - 1, int(lo)}) {
    if (candidate < 0 || candidate > 0x7bff)
      continue;
    const double error = std::fabs(halfValue(uint16_t(candidate)) - a);
    if (error < bestError || (error == bestError && (candidate & 1) == 0)) {
      best = uint16_t(candidate);
      bestError = error;
    }
  }
  return sign | best;
}

TEST(Half, WidensEveryValueExactly) {
  REQUIRE_LEVEL();
  for (uint32_t h = 0; h < 65536; ++h) {
    const float got = f16::toFloat(uint16_t(h));
    const double want = halfValue(uint16_t(h));
    if (want != want)
      ASSERT_TRUE(got != got) << "bits " << h;
    else
      ASSERT_EQ(double(got), want) << "bits " << h;
    ASSERT_EQ(std::signbit(got), bool(h & 0x8000)) << "bits " << h;
  }
}

TEST(Half, NarrowsToNearestEven) {
  REQUIRE_LEVEL();
  auto check = [](float x) {
    const uint16_t got = f16::fromFloat(x), want = nearestHalf(x);
    if (x != x)
      ASSERT_TRUE(((got >> 10) & 0x1f) == 0x1f && (got & 0x3ff)) << x;
    else
      ASSERT_EQ(got, want) << "x = " << x;
  };
  // Midpoints between neighbouring halves (and the floats next to them).
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const double lo = halfValue(uint16_t(h)), hi = halfValue(uint16_t(h + 1));
    const float mid = float((lo + hi) / 2); // exact: halves have 11 bits
    for (float x :
         {mid, std::nextafter(mid, 0.0f),
          std::nextafter(mid, std::numeric_limits<float>::max()), float(lo)}) {
      check(x);
      check(-x);
    }
  }
  // A sweep of bit patterns: every exponent, mantissas in steps.
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 65537) {
    float x;
    const uint32_t b = uint32_t(bits);
    std::memcpy(&x, &b, 4);
    check(x);
  }
  check(std::numeric_limits<float>::infinity());
  check(-std::numeric_limits<float>::infinity());
  check(std::numeric_limits<float>::quiet_NaN());
}

} // namespace

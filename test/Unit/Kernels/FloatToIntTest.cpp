//===- FloatToIntTest.cpp - float_to_int against its definition -----------===//
//
// float_to_int<To>(v) (common.h): trunc(v) where that lies in To's range,
// else To's minimum for signed To and 0 for unsigned (NaN included): what
// x86's conversions give, without C++'s undefined behaviour. The 8- and
// 16-bit results take a vectorizable form (a clamp into int32's range, an
// int32 conversion, an integer range check); checked here against the
// definition in long double on the edges of every range and 2M random
// values, from float and from double.
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace {

template <class To, class From> To definition(From v) {
  const long double x = v, t = std::trunc(x);
  if (std::isnan(x) || t < (long double)std::numeric_limits<To>::min() ||
      t > (long double)std::numeric_limits<To>::max())
    return std::is_signed<To>::value ? std::numeric_limits<To>::min() : To(0);
  return To(t);
}

template <class To, class From> void check() {
  std::vector<From> values = {
      From(NAN),  From(INFINITY), From(-INFINITY),    From(-0.0),
      From(0.5),  From(-0.5),     From(-0.999),       From(-1),
      From(1e10), From(-1e10),    From(2147483648.0), From(-2147483904.0),
      From(3e38), From(-3e38)};
  for (long double edge : {(long double)std::numeric_limits<To>::min(),
                           (long double)std::numeric_limits<To>::max()})
    for (long double d : {-1.5L, -1.0L, -0.5L, 0.0L, 0.5L, 1.0L, 1.5L})
      values.push_back(From(edge + d));
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> wide(-70000, 70000);
  for (int i = 0; i < 1000000; ++i)
    values.push_back(From(wide(rng)));
  int bad = 0;
  for (From v : values) {
    const To got = anvil::cpu::float_to_int<To>(v), want = definition<To>(v);
    if (got != want && bad++ < 5)
      ADD_FAILURE() << "float_to_int(" << double(v) << ") = " << int64_t(got)
                    << ", want " << int64_t(want);
  }
  EXPECT_EQ(bad, 0);
}

TEST(FloatToInt, NarrowResultsMatchDefinition) {
  REQUIRE_LEVEL();
  check<uint8_t, float>();
  check<int8_t, float>();
  check<uint16_t, float>();
  check<int16_t, float>();
  check<uint8_t, double>();
  check<int8_t, double>();
  check<int16_t, double>();
  check<uint16_t, double>();
}

TEST(FloatToInt, WideResultsMatchDefinition) {
  REQUIRE_LEVEL();
  check<int32_t, float>();
  check<uint32_t, double>();
  check<int64_t, double>();
}

} // namespace

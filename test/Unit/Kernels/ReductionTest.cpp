//===- ReductionTest.cpp - whole-row max/min split over threads -----------===//
//
// reduce's long-row path (a whole tensor's max or min, DynamicQuantizeLinear's
// reductions) folds pieces of the row computed on any thread in any order;
// its result must have the bits of the sequential loop (the first NaN, else
// the extreme value's last occurrence, so -0 and +0 ties resolve alike).
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "ReversedHost.h"
#include "anvil_cpu_kernels.h"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <random>
#include <vector>

namespace {

float sequential(const std::vector<float> &v, bool max) {
  float best = v[0];
  for (size_t i = 1; i < v.size(); ++i)
    best =
        max ? anvil::cpu::max_nan(best, v[i]) : anvil::cpu::min_nan(best, v[i]);
  return best;
}

float reduced(const std::vector<float> &v, bool max) {
  anvil_host_api host = anvil_test::reversedHost();
  anvil::ReduceParams p{};
  std::strcpy(p.kind, max ? "max" : "min");
  p.outer = 1;
  p.size = int64_t(v.size());
  p.inner = 1;
  float out = 0;
  EXPECT_EQ(anvil::cpu::reduce(&host, p, v.data(), &out), 0);
  return out;
}

void expectSameBits(float a, float b, const char *what) {
  EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0)
      << what << ": " << a << " vs " << b;
}

TEST(Reduce, LongRowMaxMinHaveTheSequentialBits) {
  REQUIRE_LEVEL();
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (int64_t size : {65535, 65536, 100003}) {
    std::vector<float> v(size);
    for (float &x : v)
      x = normal(rng);
    for (bool max : {true, false})
      expectSameBits(reduced(v, max), sequential(v, max), "random");
    // Zero ties: every value negative (for max) except -0 and +0 in
    // different pieces; the last occurrence decides the sign.
    std::vector<float> ties(size);
    for (float &x : ties)
      x = -1.0f - std::fabs(normal(rng));
    ties[size / 5] = 0.0f;
    ties[size - 3] = -0.0f;
    expectSameBits(reduced(ties, true), sequential(ties, true), "max ties");
    for (float &x : ties)
      x = -x;
    expectSameBits(reduced(ties, false), sequential(ties, false), "min ties");
    // A NaN in a later piece, another earlier: the first one is the result.
    std::vector<float> nans = v;
    nans[size - 2] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(reduced(nans, true)));
    nans[7] = -std::numeric_limits<float>::quiet_NaN();
    expectSameBits(reduced(nans, true), sequential(nans, true), "max NaN");
    expectSameBits(reduced(nans, false), sequential(nans, false), "min NaN");
  }
}

} // namespace

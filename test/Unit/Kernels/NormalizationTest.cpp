//===- NormalizationTest.cpp - rms_norm against a long double reference ---===//
//
// Built once per x86-64 level (the AVX-512 path at v4, the portable one at
// v2 and v3). The reference computes in long double, independently of the
// kernel's partial sums.
//
//===----------------------------------------------------------------------===//

#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace {

/// A host that runs parallel_for serially, in one chunk.
anvil_host_api serialHost() {
  anvil_host_api api{};
  api.struct_size = sizeof(api);
  api.num_threads = 1;
  api.parallel_for = [](void *, int64_t n, int64_t, anvil_parallel_fn fn,
                        void *arg) { fn(arg, 0, n, 0); };
  return api;
}

TEST(RmsNorm, MatchesLongDoubleAtEverySizeAndTail) {
  REQUIRE_LEVEL();
  anvil_host_api host = serialHost();
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int64_t size : {1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1024, 1031}) {
    for (bool unitOffset : {false, true}) {
      const int64_t outer = 3;
      std::vector<float> in(outer * size), scale(size), out(outer * size);
      for (float &v : in)
        v = normal(rng);
      for (float &v : scale)
        v = normal(rng);
      anvil::RmsNormParams p{};
      p.outer = outer;
      p.size = size;
      p.epsilon = 1e-5;
      p.unit_offset = unitOffset;
      ASSERT_EQ(
          anvil::cpu::rms_norm(&host, p, in.data(), scale.data(), out.data()),
          0);
      for (int64_t r = 0; r < outer; ++r) {
        long double sq = 0;
        for (int64_t i = 0; i < size; ++i)
          sq += (long double)in[r * size + i] * in[r * size + i];
        long double inv = 1.0L / std::sqrt(sq / size + 1e-5L);
        for (int64_t i = 0; i < size; ++i) {
          long double want =
              in[r * size + i] * inv * ((unitOffset ? 1.0L : 0.0L) + scale[i]);
          // One float rounding of a double-accurate value.
          EXPECT_NEAR(out[r * size + i], (double)want,
                      std::fabs((double)want) * 1.2e-7 + 1e-30)
              << "size " << size << " row " << r << " i " << i;
        }
      }
    }
  }
}

} // namespace

//===- NormalizationTest.cpp - norms and softmax against long double ------===//
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

/// layer_norm against long double: the mean and variance in long double,
/// each output one float rounding of a double-accurate value (1.2e-7
/// relative) plus what double's own rounding of x - mean, the products and
/// the bias add leaves (1e-13 of the terms' magnitude), at every size
/// around the 8-wide blocks, with and without a bias, rows with a large
/// offset (x - mean cancels) and a constant row (variance 0: epsilon).
TEST(LayerNorm, MatchesLongDoubleAtEverySizeAndTail) {
  REQUIRE_LEVEL();
  anvil_host_api host = serialHost();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int64_t size : {1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 768, 1031}) {
    for (bool hasBias : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << "size " << size << " bias " << hasBias);
      const int64_t outer = 4;
      std::vector<float> in(outer * size), scale(size), bias(size),
          out(outer * size);
      for (float &v : in)
        v = normal(rng);
      for (int64_t i = 0; i < size; ++i) // row 1: offset by 1000
        in[size + i] += 1000.0f;
      for (int64_t i = 0; i < size; ++i) // row 3: constant
        in[3 * size + i] = 2.5f;
      for (float &v : scale)
        v = normal(rng);
      for (float &v : bias)
        v = normal(rng);
      anvil::LayerNormParams p{};
      p.outer = outer;
      p.size = size;
      p.epsilon = 1e-5;
      p.has_bias = hasBias;
      ASSERT_EQ(anvil::cpu::layer_norm(&host, p, in.data(), scale.data(),
                                       hasBias ? bias.data() : nullptr,
                                       out.data()),
                0);
      for (int64_t r = 0; r < outer; ++r) {
        const float *x = in.data() + r * size;
        long double mean = 0, var = 0;
        for (int64_t i = 0; i < size; ++i)
          mean += x[i];
        mean /= size;
        for (int64_t i = 0; i < size; ++i)
          var += (x[i] - mean) * (x[i] - mean);
        var /= size;
        const long double inv = 1.0L / std::sqrt(var + 1e-5L);
        for (int64_t i = 0; i < size; ++i) {
          const long double scaled = (x[i] - mean) * inv * scale[i];
          const long double want = scaled + (hasBias ? bias[i] : 0.0L);
          const double magnitude =
              std::fabs((double)x[i]) * (double)inv * std::fabs(scale[i]) +
              (hasBias ? std::fabs(bias[i]) : 0.0);
          EXPECT_NEAR(out[r * size + i], (double)want,
                      std::fabs((double)want) * 1.2e-7 + magnitude * 1e-13 +
                          1e-30)
              << "row " << r << " i " << i;
        }
      }
    }
  }
}

/// softmax over contiguous float rows against long double: within 4 ulp
/// relative (exp_f32's 1 ulp, the float difference x - max: |x - max|
/// 2^-24 relative, and one rounding) plus 1e-40 for results near 0, at
/// every size around the 16-wide blocks, with -inf (masked) entries, and
/// the special rows (NaN, +inf, all -inf) as ONNX defines them.
TEST(Softmax, FloatRowsMatchLongDouble) {
  REQUIRE_LEVEL();
  anvil_host_api host = serialHost();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t size : {1, 2, 15, 16, 17, 31, 33, 128, 1000}) {
    const int64_t outer = 4;
    std::vector<float> in(outer * size), out(outer * size, std::nanf(""));
    for (float &v : in)
      v = normal(rng);
    for (int64_t i = 0; i < size; i += 3)
      in[1 * size + i] = i ? -inf : in[1 * size + i]; // masked, one kept
    for (int64_t i = 0; i < size; ++i)
      in[2 * size + i] = 30.0f * normal(rng); // wide range: tiny results
    anvil::SoftmaxParams p{};
    p.outer = outer;
    p.size = size;
    p.inner = 1;
    ASSERT_EQ(anvil::cpu::softmax(&host, p, in.data(), out.data()), 0);
    for (int64_t r = 0; r < outer; ++r) {
      const float *x = in.data() + r * size;
      long double maxv = x[0], sum = 0;
      for (int64_t i = 0; i < size; ++i)
        maxv = std::max<long double>(maxv, x[i]);
      for (int64_t i = 0; i < size; ++i)
        sum += std::exp((long double)x[i] - maxv);
      for (int64_t i = 0; i < size; ++i) {
        const long double want = std::exp((long double)x[i] - maxv) / sum;
        if (std::isinf(x[i])) { // masked: exactly 0
          EXPECT_EQ(out[r * size + i], 0.0f) << "size " << size << " i " << i;
          continue;
        }
        const double spread = 4 + std::fabs(double(x[i] - maxv));
        EXPECT_NEAR(out[r * size + i], (double)want,
                    (double)want * spread * 6e-8 + 1e-40)
            << "size " << size << " row " << r << " i " << i;
      }
    }
  }
  // Special rows: NaN anywhere -> NaN row; +inf -> NaN (inf - inf); all
  // -inf -> NaN (0 / 0); a row of one element -> 1.
  const std::vector<std::vector<float>> rows = {
      {1.0f, std::nanf(""), 2.0f}, {1.0f, inf, 2.0f}, {-inf, -inf, -inf}};
  for (const std::vector<float> &row : rows) {
    std::vector<float> out(row.size(), 0.5f);
    anvil::SoftmaxParams p{};
    p.outer = 1;
    p.size = int64_t(row.size());
    p.inner = 1;
    ASSERT_EQ(anvil::cpu::softmax(&host, p, row.data(), out.data()), 0);
    for (float v : out)
      EXPECT_TRUE(std::isnan(v)) << "from " << row[0] << " " << row[1];
  }
}

} // namespace

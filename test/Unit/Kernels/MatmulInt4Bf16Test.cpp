//===- MatmulInt4Bf16Test.cpp - symmetric int4 on vdpbf16ps vs float64 ----===//
//
// matmul_quant's path for float activations and symmetric 4-bit weights on
// CPUs with AVX512-BF16 (backends/cpu/kernels/matmul_int4_bf16.h), built
// for x86-64-v4 with AVX512-VNNI and AVX512-BF16 as --mcpu=native builds
// it on such a CPU (skipped, saying why, on one without).
//
// Checked against float64 with the activations rounded to bf16 as the
// kernel rounds them (to nearest, ties to even): |y - ref| <= 1e-6 + 1e-5
// B + 2 group 2^-24 T, B = sum_k |x_k W[n, k]| and T = sum_k |x_k| 143
// s(n, k) (the kernel's float sums of x (128 + u) and 136 x per group).
// Batch invariance: row 0 of every m-row product has the bits of the
// product of that row alone (decode GEMV, 8-row calls, tiles of 64 rows,
// chunked by a host that splits the parallel loops). Rows whose group
// sums overflow in the bf16 form (x near 1e36) are summed by the float
// path instead: finite, and within the float path's 1e-5 B of the float64
// product of the unrounded x.
//
//===----------------------------------------------------------------------===//

#include "ChunkingHost.h"
#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace anvil::cpu;

namespace {

#if defined(ANVIL_QUANT_BF16)
float roundToBf16(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  bits = (bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

/// A symmetric int4 weight [n, k] in groups of `group` (stored values u,
/// weights (u - 8) s), packed as "q4_n16_k8" (matmul_quant.h).
struct Int4Weight {
  int64_t n, k, group, groups;
  std::vector<int> u;        // [n, k]
  std::vector<float> scales; // [n, groups]
  std::vector<uint8_t> packed;

  Int4Weight(int64_t n, int64_t k, int64_t group, std::mt19937 &rng)
      : n(n), k(k), group(group), groups((k + group - 1) / group),
        u(size_t(n * k)), scales(size_t(n * groups)) {
    const int64_t kStored = (k + 7) / 8 * 8;
    const int64_t panels = (n + quant::kPanel - 1) / quant::kPanel;
    packed.assign(size_t(panels * quant::kPanel * kStored / 2), 0);
    std::uniform_int_distribution<int> nibble(0, 15);
    std::uniform_real_distribution<float> scale(0.01f, 0.11f);
    for (int64_t c = 0; c < n; ++c)
      for (int64_t t = 0; t < k; ++t) {
        const int v = nibble(rng);
        u[size_t(c * k + t)] = v;
        uint8_t *panel =
            packed.data() + (c / quant::kPanel) * quant::kPanel * (kStored / 2);
        uint8_t &byte =
            panel[((t >> 3) * quant::kPanel + c % quant::kPanel) * 4 + (t & 3)];
        byte |= uint8_t((t & 4) ? v << 4 : v);
      }
    for (float &s : scales)
      s = scale(rng);
  }

  anvil::MatmulQuantParams params(int64_t m) const {
    anvil::MatmulQuantParams p{};
    p.m = m;
    p.n = n;
    p.k = k;
    p.bits = 4;
    p.group = group;
    p.k_stored = (k + 7) / 8 * 8;
    p.scale_n_stride = groups;
    p.scale_g_stride = 1;
    p.zero_offset = 8;
    p.lhs_bf16 = true;
    return p;
  }

  double weight(int64_t c, int64_t t) const {
    return double(u[size_t(c * k + t)] - 8) *
           double(scales[size_t(c * groups + t / group)]);
  }
};

/// out = x [m, k] times w^T through matmul_quant on a host chunking its
/// parallel loops by `chunk` items.
std::vector<float> run(const Int4Weight &w, const std::vector<float> &x,
                       int64_t m, int64_t chunk) {
  anvil_test::ChunkingHost host(chunk);
  char error[256] = "";
  anvil_invocation invocation{};
  invocation.struct_size = sizeof invocation;
  invocation.error = error;
  invocation.error_size = sizeof error;
  RunScope scope(&host.api, &invocation);
  std::vector<float> out(size_t(m * w.n), std::nanf(""));
  const anvil::MatmulQuantParams p = w.params(m);
  EXPECT_TRUE(quant::int4_bf16_path(p));
  EXPECT_EQ(matmul_quant(scope.host(), p, x.data(), w.packed.data(),
                         w.scales.data(), out.data()),
            0)
      << error;
  return out;
}
#endif

TEST(MatmulInt4Bf16, AgainstFloat64AndBatchInvariant) {
  REQUIRE_LEVEL();
#if !defined(ANVIL_QUANT_BF16)
  GTEST_SKIP() << "built without AVX512-BF16";
#else
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  struct Shape {
    int64_t n, k, group;
  };
  // k = 300: a last group of 44 (octets past k read x = 0); n = 37 and
  // 33: a partial last panel and an odd panel count (a 1-panel tile).
  for (const Shape shape : {Shape{37, 80, 32}, Shape{33, 300, 128},
                            Shape{40, 16, 8}, Shape{80, 256, 64}}) {
    const Int4Weight w(shape.n, shape.k, shape.group, rng);
    std::vector<float> row(size_t(shape.k));
    for (float &v : row)
      v = normal(rng);
    const std::vector<float> alone = run(w, row, 1, 1);
    for (int64_t m : {1, 2, 7, 8, 9, 16, 70, 130})
      for (int64_t chunk : {1, 3}) {
        std::vector<float> x(size_t(m * shape.k));
        for (float &v : x)
          v = normal(rng);
        std::copy(row.begin(), row.end(), x.begin());
        const std::vector<float> y = run(w, x, m, chunk);
        for (int64_t c = 0; c < shape.n; ++c)
          ASSERT_EQ(std::memcmp(&y[size_t(c)], &alone[size_t(c)], 4), 0)
              << "row 0, channel " << c << " of m = " << m
              << " differs from the row alone (batch invariance), k "
              << shape.k;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t c = 0; c < shape.n; ++c) {
            double ref = 0, bound = 0, terms = 0;
            for (int64_t t = 0; t < shape.k; ++t) {
              const double xv = roundToBf16(x[size_t(i * shape.k + t)]);
              ref += xv * w.weight(c, t);
              bound += std::fabs(xv * w.weight(c, t));
              terms += std::fabs(xv) * 143.0 *
                       w.scales[size_t(c * w.groups + t / shape.group)];
            }
            const double tol = 1e-6 + 1e-5 * bound +
                               2.0 * double(shape.group) * 0x1p-24 * terms;
            ASSERT_NEAR(y[size_t(i * shape.n + c)], ref, tol)
                << "m " << m << ", row " << i << ", channel " << c << ", k "
                << shape.k << ", group " << shape.group;
          }
      }
  }
#endif
}

// k = 0 (an empty reduction): every output 0, from the GEMV and the tiles
// alike (the output starts as NaN, so a path writing nothing fails).
TEST(MatmulInt4Bf16, EmptyProductsAreZero) {
  REQUIRE_LEVEL();
#if !defined(ANVIL_QUANT_BF16)
  GTEST_SKIP() << "built without AVX512-BF16";
#else
  std::mt19937 rng(3);
  const Int4Weight w(37, 0, 32, rng);
  for (int64_t m : {1, 9, 70}) {
    const std::vector<float> x(1, 1.0f);
    for (float v : run(w, x, m, 2))
      ASSERT_EQ(v, 0.0f) << "m " << m;
  }
#endif
}

TEST(MatmulInt4Bf16, OverflowingRowsTakeTheFloatPath) {
  REQUIRE_LEVEL();
#if !defined(ANVIL_QUANT_BF16)
  GTEST_SKIP() << "built without AVX512-BF16";
#else
  std::mt19937 rng(11);
  const Int4Weight w(37, 80, 32, rng);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t m : {1, 12}) {
    std::vector<float> x(size_t(m * w.k));
    for (float &v : x)
      v = normal(rng);
    // Row 0 all 1e36: two pairs of (128 + u) x overflow float in the bf16
    // form, where the float path's sums of (u - 8) x (at most 2.6e38 over
    // a group of 32) do not.
    for (int64_t t = 0; t < w.k; ++t)
      x[size_t(t)] = 1e36f;
    const std::vector<float> y = run(w, x, m, 2);
    for (int64_t c = 0; c < w.n; ++c) {
      double ref = 0, bound = 0;
      for (int64_t t = 0; t < w.k; ++t) {
        ref += double(x[size_t(t)]) * w.weight(c, t);
        bound += std::fabs(double(x[size_t(t)]) * w.weight(c, t));
      }
      ASSERT_TRUE(std::isfinite(y[size_t(c)]))
          << "m " << m << ", channel " << c;
      ASSERT_NEAR(y[size_t(c)], ref, 1e-5 * bound)
          << "m " << m << ", channel " << c;
    }
  }
#endif
}

} // namespace

//===- AttentionTest.cpp - the float attention kernel against long double -===//
//
// Built once per x86-64 level (the dot-product tiles of simd.h at v2, v3
// and v4). The reference computes softmax(scale q k^T + mask) v in long
// double, row by row, independently of the kernel's tiles: each output
// within 2e-6 x sum_j p_j |v_j| + 1e-30 (float dot products over head_dim,
// exp_f32's 1 ulp, float accumulation over kv_len). Also: grouped KV heads,
// an additive mask with broadcast strides, causal masking with q_len <
// kv_len, the special rows (every key masked: NaN; empty keys: 0), and the
// same bits whatever the chunking of rows over threads. Both float kernels:
// the row kernel (q_len below kBlockedAttentionMinRows) and the blocked one
// (query blocks against packed K/V panels), with the blocked kernel's edges
// (partial query blocks and panels, causal blocks, packed and in-place V).
//
//===----------------------------------------------------------------------===//

#include "ChunkingHost.h"
#include "KernelLevel.h"
#include "anvil_cpu_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

using anvil_test::ChunkingHost;

struct Case {
  int64_t batch, qHeads, kvHeads, qLen, kvLen, headDim, valueDim;
  bool causal, mask;
  // The mask stored [batch, kv_len, q_len] (strides along keys of q_len).
  bool maskTransposed = false;
};

std::vector<float> run(int64_t chunk, const anvil::AttentionParams &p,
                       const std::vector<float> &q, const std::vector<float> &k,
                       const std::vector<float> &v,
                       const std::vector<float> &mask) {
  std::vector<float> out(p.batch * p.q_heads * p.q_len * p.value_dim,
                         std::nanf("1"));
  ChunkingHost host(chunk);
  anvil::cpu::RunScope scope(&host.api, nullptr);
  const int status =
      p.has_mask
          ? anvil::cpu::attention<float, float>(scope.host(), p, q.data(),
                                                k.data(), v.data(), mask.data(),
                                                out.data())
          : anvil::cpu::attention<float>(scope.host(), p, q.data(), k.data(),
                                         v.data(), out.data());
  EXPECT_EQ(status, 0);
  return out;
}

void check(const Case &c, unsigned seed) {
  SCOPED_TRACE(testing::Message()
               << "batch " << c.batch << " heads " << c.qHeads << "/"
               << c.kvHeads << " q_len " << c.qLen << " kv_len " << c.kvLen
               << " head_dim " << c.headDim << " value_dim " << c.valueDim
               << " causal " << c.causal << " mask " << c.mask
               << (c.maskTransposed ? " (transposed)" : ""));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  auto randoms = [&](int64_t n) {
    std::vector<float> x(n);
    for (float &e : x)
      e = normal(rng);
    return x;
  };
  anvil::AttentionParams p{};
  p.batch = c.batch, p.q_heads = c.qHeads, p.kv_heads = c.kvHeads;
  p.q_len = c.qLen, p.kv_len = c.kvLen, p.head_dim = c.headDim;
  p.value_dim = c.valueDim, p.scale = 1.0 / std::sqrt(double(c.headDim));
  p.causal = c.causal, p.has_mask = c.mask;
  std::vector<float> q = randoms(c.batch * c.qHeads * c.qLen * c.headDim);
  std::vector<float> k = randoms(c.batch * c.kvHeads * c.kvLen * c.headDim);
  std::vector<float> v = randoms(c.batch * c.kvHeads * c.kvLen * c.valueDim);
  // A mask [batch, 1, q_len, kv_len] (broadcast over heads) with some
  // -inf entries (padding) and finite biases.
  std::vector<float> mask;
  if (c.mask) {
    mask = randoms(c.batch * c.qLen * c.kvLen);
    for (size_t e = 0; e < mask.size(); e += 5)
      mask[e] = -std::numeric_limits<float>::infinity();
    p.mask_strides[0] = c.qLen * c.kvLen, p.mask_strides[1] = 0;
    p.mask_strides[2] = c.kvLen, p.mask_strides[3] = 1;
    if (c.maskTransposed)
      p.mask_strides[2] = 1, p.mask_strides[3] = c.qLen;
  }
  auto maskAt = [&](int64_t b, int64_t i, int64_t j) {
    return mask[b * p.mask_strides[0] + i * p.mask_strides[2] +
                j * p.mask_strides[3]];
  };
  const std::vector<float> out = run(1 << 30, p, q, k, v, mask);
  const int64_t group = c.qHeads / c.kvHeads;
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t h = 0; h < c.qHeads; ++h)
      for (int64_t i = 0; i < c.qLen; ++i) {
        const int64_t row = (b * c.qHeads + h) * c.qLen + i;
        const int64_t g = h / group;
        std::vector<long double> s(c.kvLen);
        long double best = -INFINITY;
        for (int64_t j = 0; j < c.kvLen; ++j) {
          long double dot = 0;
          for (int64_t d = 0; d < c.headDim; ++d)
            dot += (long double)q[row * c.headDim + d] *
                   k[((b * c.kvHeads + g) * c.kvLen + j) * c.headDim + d];
          s[j] = dot * (long double)p.scale;
          if (c.mask)
            s[j] += maskAt(b, i, j);
          if (c.causal && j > c.kvLen - c.qLen + i)
            s[j] = -INFINITY;
          best = std::max(best, s[j]);
        }
        const float *o = out.data() + row * c.valueDim;
        if (c.kvLen == 0) {
          for (int64_t d = 0; d < c.valueDim; ++d)
            EXPECT_EQ(o[d], 0.0f) << "empty keys, row " << row;
          continue;
        }
        if (best == -INFINITY) {
          for (int64_t d = 0; d < c.valueDim; ++d)
            EXPECT_TRUE(std::isnan(o[d])) << "all keys masked, row " << row;
          continue;
        }
        long double sum = 0;
        for (long double &e : s)
          sum += (e = std::exp(e - best));
        for (int64_t d = 0; d < c.valueDim; ++d) {
          long double want = 0, magnitude = 0;
          for (int64_t j = 0; j < c.kvLen; ++j) {
            const long double x =
                v[((b * c.kvHeads + g) * c.kvLen + j) * c.valueDim + d];
            want += s[j] / sum * x;
            magnitude += s[j] / sum * std::fabs(x);
          }
          ASSERT_NEAR(o[d], (double)want, 2e-6 * (double)magnitude + 1e-30)
              << "row " << row << " d " << d;
        }
      }
  for (int64_t chunk : {1, 3}) {
    const std::vector<float> again = run(chunk, p, q, k, v, mask);
    ASSERT_EQ(std::memcmp(again.data(), out.data(), out.size() * 4), 0)
        << "chunks of " << chunk;
  }
}

TEST(AttentionKernel, FloatMatchesLongDouble) {
  REQUIRE_LEVEL();
  unsigned seed = 1;
  for (int64_t headDim : {1, 7, 16, 17, 64})
    for (int64_t kvLen : {1, 3, 4, 9, 33})
      for (bool causal : {false, true})
        for (bool mask : {false, true})
          check({2, 4, 2, std::min<int64_t>(kvLen, 5), kvLen, headDim,
                 headDim == 7 ? 5 : headDim, causal, mask},
                seed++);
  // A 128-token block of one head, value_dim != head_dim.
  check({1, 2, 2, 128, 128, 64, 40, true, false}, seed++);
  // The blocked kernel (q_len >= kBlockedAttentionMinRows): several query
  // blocks with a partial last one, key panels with a partial last one,
  // values of several panels (packed) and of one (read in place), grouped
  // heads, and a causal block whose rows see different key counts.
  check({2, 6, 3, 29, 45, 24, 72, true, true}, seed++);
  check({1, 4, 1, 13, 70, 33, 32, false, true}, seed++);
  check({1, 2, 1, 40, 40, 16, 65, true, false}, seed++);
  check({1, 3, 3, 4, 100, 8, 8, false, false}, seed++);
  check({2, 2, 2, 17, 23, 8, 8, true, true, true}, seed++);
  check({1, 2, 2, 3, 23, 8, 8, false, true, true}, seed++);
  // More query rows than keys, causal: the first rows see no key (NaN).
  check({1, 2, 2, 20, 7, 16, 16, true, false}, seed++);
  // Empty keys: zeros.
  check({1, 1, 1, 2, 0, 8, 8, false, false}, seed++);
}

TEST(AttentionKernel, EveryKeyMaskedGivesNaN) {
  REQUIRE_LEVEL();
  anvil::AttentionParams p{};
  p.batch = 1, p.q_heads = 1, p.kv_heads = 1, p.q_len = 1, p.kv_len = 3;
  p.head_dim = 4, p.value_dim = 2, p.scale = 0.5, p.has_mask = true;
  p.mask_strides[3] = 1;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> q(4, 1.0f), k(12, 1.0f), v(6, 1.0f);
  std::vector<float> mask = {-inf, -inf, -inf};
  for (float o : run(1, p, q, k, v, mask))
    EXPECT_TRUE(std::isnan(o));
  // A NaN in the mask: NaN as well.
  mask = {0.0f, std::nanf(""), 0.0f};
  for (float o : run(1, p, q, k, v, mask))
    EXPECT_TRUE(std::isnan(o));
}

} // namespace

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
// (partial query blocks and panels, causal blocks, packed and in-place V),
// masks of every stride pattern, and non-finite values (NaN where the ONNX
// reference gives it).
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
  enum Layout {
    kRows,       // [batch, 1, q_len, kv_len], broadcast over heads
    kTransposed, // stored [batch, kv_len, q_len]: strides along keys of q_len
    kPerRow,     // [batch, 1, q_len, 1]: broadcast over keys (stride 0)
    kPerHead,    // [batch, q_heads, q_len, kv_len]
  } layout = kRows;
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
               << " mask layout " << int(c.layout));
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
  // A mask in c.layout with some -inf entries (padding) and finite biases
  // (a per-row mask: finite only, or whole rows would be masked).
  std::vector<float> mask;
  if (c.mask) {
    const int64_t heads = c.layout == Case::kPerHead ? c.qHeads : 1;
    const int64_t keys = c.layout == Case::kPerRow ? 1 : c.kvLen;
    mask = randoms(c.batch * heads * c.qLen * keys);
    if (c.layout != Case::kPerRow)
      for (size_t e = 0; e < mask.size(); e += 5)
        mask[e] = -std::numeric_limits<float>::infinity();
    const int64_t plane = c.qLen * keys;
    p.mask_strides[0] = heads * plane, p.mask_strides[1] = 0;
    p.mask_strides[2] = keys, p.mask_strides[3] = 1;
    if (c.layout == Case::kTransposed)
      p.mask_strides[2] = 1, p.mask_strides[3] = c.qLen;
    if (c.layout == Case::kPerRow)
      p.mask_strides[2] = 1, p.mask_strides[3] = 0;
    if (c.layout == Case::kPerHead)
      p.mask_strides[1] = plane;
  }
  auto maskAt = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
    return mask[b * p.mask_strides[0] + h * p.mask_strides[1] +
                i * p.mask_strides[2] + j * p.mask_strides[3]];
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
            s[j] += maskAt(b, h, i, j);
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
  // Masks with other strides, through both kernels.
  for (int64_t qLen : {3, 17})
    for (Case::Layout layout :
         {Case::kTransposed, Case::kPerRow, Case::kPerHead})
      check({2, 2, 2, qLen, 23, 8, 8, qLen > 3, true, layout}, seed++);
  // More query rows than keys, causal: the first rows see no key (NaN).
  check({1, 2, 2, 20, 7, 16, 16, true, false}, seed++);
  // Empty keys: zeros.
  check({1, 1, 1, 2, 0, 8, 8, false, false}, seed++);
}

TEST(AttentionKernel, EveryKeyMaskedGivesNaN) {
  REQUIRE_LEVEL();
  const float inf = std::numeric_limits<float>::infinity();
  // One query row (the row kernel) and 5 rows sharing the mask row (the
  // blocked kernel).
  for (int64_t qLen : {1, 5}) {
    SCOPED_TRACE(testing::Message() << "q_len " << qLen);
    anvil::AttentionParams p{};
    p.batch = 1, p.q_heads = 1, p.kv_heads = 1, p.q_len = qLen, p.kv_len = 3;
    p.head_dim = 4, p.value_dim = 2, p.scale = 0.5, p.has_mask = true;
    p.mask_strides[3] = 1;
    std::vector<float> q(4 * qLen, 1.0f), k(12, 1.0f), v(6, 1.0f);
    std::vector<float> mask = {-inf, -inf, -inf};
    for (float o : run(1, p, q, k, v, mask))
      EXPECT_TRUE(std::isnan(o));
    // A NaN in the mask: NaN as well.
    mask = {0.0f, std::nanf(""), 0.0f};
    for (float o : run(1, p, q, k, v, mask))
      EXPECT_TRUE(std::isnan(o));
    // A +inf score (inf - inf): NaN.
    mask = {0.0f, inf, 0.0f};
    for (float o : run(1, p, q, k, v, mask))
      EXPECT_TRUE(std::isnan(o));
  }
}

TEST(AttentionKernel, NonFiniteValueReachesEveryRow) {
  REQUIRE_LEVEL();
  // An inf in V at a key whose weight is exactly 0 (masked by -inf): the
  // ONNX reference multiplies it anyway (0 x inf = NaN), and so do both
  // kernels, whatever the row count; the other value column stays finite.
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t qLen : {1, 3, 4, 13}) {
    SCOPED_TRACE(testing::Message() << "q_len " << qLen);
    anvil::AttentionParams p{};
    p.batch = 1, p.q_heads = 1, p.kv_heads = 1, p.q_len = qLen, p.kv_len = 3;
    p.head_dim = 4, p.value_dim = 2, p.scale = 0.5, p.has_mask = true;
    p.mask_strides[3] = 1;
    std::vector<float> q(4 * qLen, 1.0f), k(12, 1.0f);
    std::vector<float> v = {1.0f, 2.0f, inf, 3.0f, 4.0f, 5.0f};
    std::vector<float> mask = {0.0f, -inf, 0.0f};
    const std::vector<float> out = run(1, p, q, k, v, mask);
    for (int64_t i = 0; i < qLen; ++i) {
      EXPECT_TRUE(std::isnan(out[i * 2])) << "row " << i;
      EXPECT_FLOAT_EQ(out[i * 2 + 1], 3.5f) << "row " << i;
    }
  }
}

} // namespace

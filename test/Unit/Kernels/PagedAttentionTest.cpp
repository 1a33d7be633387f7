//===- PagedAttentionTest.cpp - paged_attention against a float64 reference
//===//
//
// The CPU kernel (backends/cpu/kernels/paged_attention.h) on ragged batches
// through non-contiguous block tables, against a plain double-precision
// reference written here. CMake builds this file three times: for the
// portable path, with -march=x86-64-v3 (AVX2) and with -march=x86-64-v4
// (AVX-512); ANVIL_TEST_LANES is the vector width that build must pick and
// ANVIL_TEST_CPU the feature it needs (its tests are skipped without it).
//
// Tolerance: q, k and v are uniform in [-1, 1] (q up to [-4, 4] in the
// sharp cases), so each output is a convex combination of values in
// [-1, 1]. Float scores over <= 128 products carry relative errors near
// 1e-7 of their magnitude (<= ~12), the float exp ~1 ulp: outputs must be
// within 2e-5 of the reference (f32), or of f16 rounding plus that (f16).
// int8 pools: the reference reads the dequantized keys and values (q * s
// in float64) and the kernel q * s in float (relative 2^-24 apart), so the
// f32 tolerance holds; each pool row is scaled by its own factor in
// [0.5, 1] first, so a scale read for the wrong slot or head is seen.
//
//===----------------------------------------------------------------------===//

#include "../../../runtime/src/ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "paged_attention.h"

using anvil::KvWriteInt8Params;
using anvil::KvWriteParams;
using anvil::PagedAttentionParams;
using anvil::runtime::ThreadPool;
namespace cpu = anvil::cpu;

namespace {

#ifdef ANVIL_TEST_CPU
#define ANVIL_NEEDS_CPU()                                                      \
  do {                                                                         \
    __builtin_cpu_init();                                                      \
    if (!__builtin_cpu_supports(ANVIL_TEST_CPU))                               \
      GTEST_SKIP() << "this CPU lacks " ANVIL_TEST_CPU;                        \
  } while (0)
#else
#define ANVIL_NEEDS_CPU()                                                      \
  do {                                                                         \
  } while (0)
#endif

/// The runtime's thread pool behind the host API, as the loader hands it to
/// generated code, plus a run's error buffer.
struct Host {
  ThreadPool pool;
  anvil_host_api api{};
  char error[256] = {};
  anvil_invocation invocation{};
  explicit Host(unsigned threads) : pool(threads) {
    api.struct_size = sizeof(api);
    api.abi_version = ANVIL_ABI_VERSION;
    api.host = &pool;
    api.num_threads = int32_t(pool.size());
    api.parallel_for = [](void *host, int64_t n, int64_t grain,
                          anvil_parallel_fn fn, void *arg) {
      static_cast<ThreadPool *>(host)->parallelFor(n, grain, fn, arg);
    };
    api.scratch = [](void *host, int thread, size_t bytes) {
      return static_cast<ThreadPool *>(host)->scratch(thread, bytes);
    };
    invocation.struct_size = sizeof(invocation);
    invocation.error = error;
    invocation.error_size = sizeof error;
  }
};

/// One sequence of a batch: its keys after the step, and the positions of
/// its query tokens in the step (in batch order).
struct Seq {
  int64_t context;
  std::vector<int64_t> queries;
};

/// The sequence's queries [from, context): a prefill chunk (from 0), a
/// chunk of a longer prompt (from mid-sequence) or a decode token.
Seq tail(int64_t context, int64_t from) {
  Seq s{context, {}};
  for (int64_t p = from; p < context; ++p)
    s.queries.push_back(p);
  return s;
}

struct Case {
  std::string name;
  int64_t q_heads, kv_heads, head_dim, block_size;
  int64_t window = 0;
  double softcap = 0;
  float q_range = 1; // q uniform in [-q_range, q_range]
  std::vector<Seq> seqs;
  /// Batch order of the sequences (default 0..S-1).
  std::vector<int> order;
};

/// The int8 KV quantization of one row of n values, written here from its
/// definition (docs/llm.md): s = max|x| / 127 in float, q = x / s rounded
/// half to even and clamped to [-127, 127]; an all-zero row has s = 0, q = 0.
float quantizeRow(const float *x, int64_t n, int8_t *q) {
  float amax = 0;
  for (int64_t i = 0; i < n; ++i)
    amax = std::max(amax, std::fabs(x[i]));
  float s = amax / 127.0f;
  for (int64_t i = 0; i < n; ++i) {
    long r = s == 0 ? 0 : std::lrint(x[i] / s); // FE_TONEAREST: half-even
    q[i] = int8_t(std::min(127L, std::max(-127L, r)));
  }
  return s;
}

/// A batch as the engine would pass it, with every pool block filled with
/// random values and each sequence's blocks a random, non-contiguous choice.
/// T: queries and outputs; K: the pools' element type (int8_t: quantized
/// with quantizeRow, one scale per slot and KV head).
template <class T, class K = T> struct Batch {
  static constexpr bool kInt8 = std::is_same<K, int8_t>::value;
  PagedAttentionParams p{};
  std::vector<T> q, out;
  std::vector<K> keys, values;
  std::vector<float> key_scales, value_scales; // int8 pools only
  std::vector<int32_t> tables, lens, seq_of_token;
  std::vector<int64_t> positions;

  explicit Batch(const Case &c, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    int64_t max_context = 0, needed = 0;
    for (const Seq &s : c.seqs) {
      max_context = std::max(max_context, s.context);
      needed += (s.context + c.block_size - 1) / c.block_size;
    }
    p.seqs = int64_t(c.seqs.size());
    p.num_blocks = needed * 2 + 3; // unused blocks hold garbage too
    p.q_heads = c.q_heads;
    p.kv_heads = c.kv_heads;
    p.head_dim = p.value_dim = c.head_dim;
    p.block_size = c.block_size;
    p.max_blocks = (max_context + c.block_size - 1) / c.block_size + 1;
    p.scale = 1.0 / std::sqrt(double(c.head_dim));
    p.window = c.window;
    p.softcap = c.softcap;
    std::vector<int32_t> ids(p.num_blocks);
    for (int64_t i = 0; i < p.num_blocks; ++i)
      ids[i] = int32_t(i);
    std::shuffle(ids.begin(), ids.end(), rng);
    tables.assign(p.seqs * p.max_blocks, 0);
    size_t next = 0;
    for (int64_t s = 0; s < p.seqs; ++s) {
      lens.push_back(int32_t(c.seqs[s].context));
      for (int64_t b = 0; b * c.block_size < c.seqs[s].context; ++b)
        tables[s * p.max_blocks + b] = ids[next++];
    }
    std::vector<int> order = c.order;
    if (order.empty())
      for (int s = 0; s < int(p.seqs); ++s)
        order.push_back(s);
    for (int s : order)
      for (int64_t pos : c.seqs[s].queries) {
        seq_of_token.push_back(s);
        positions.push_back(pos);
      }
    p.tokens = int64_t(positions.size());
    int64_t pool = p.num_blocks * c.block_size * c.kv_heads * c.head_dim;
    if constexpr (kInt8) {
      std::uniform_real_distribution<float> factor(0.5f, 1.0f);
      keys.resize(pool);
      values.resize(pool);
      std::vector<float> k(c.head_dim), v(c.head_dim);
      for (int64_t r = 0; r < pool / c.head_dim; ++r) {
        float fk = factor(rng), fv = factor(rng);
        for (int64_t d = 0; d < c.head_dim; ++d) {
          k[d] = unit(rng) * fk;
          v[d] = unit(rng) * fv;
        }
        key_scales.push_back(
            quantizeRow(k.data(), c.head_dim, &keys[r * c.head_dim]));
        value_scales.push_back(
            quantizeRow(v.data(), c.head_dim, &values[r * c.head_dim]));
      }
    } else {
      for (int64_t i = 0; i < pool; ++i) {
        keys.push_back(K(unit(rng)));
        values.push_back(K(unit(rng)));
      }
    }
    for (int64_t i = 0; i < p.tokens * c.q_heads * c.head_dim; ++i)
      q.push_back(T(unit(rng) * c.q_range));
    out.assign(p.tokens * c.q_heads * c.head_dim, T(0.0f));
  }

  int run(Host &host) {
    anvil::cpu::RunScope scope(&host.api, &host.invocation);
    if constexpr (kInt8)
      return cpu::paged_attention(
          scope.host(), p, q.data(), keys.data(), values.data(), tables.data(),
          lens.data(), positions.data(), seq_of_token.data(), key_scales.data(),
          value_scales.data(), out.data());
    else
      return cpu::paged_attention(
          scope.host(), p, q.data(), keys.data(), values.data(), tables.data(),
          lens.data(), positions.data(), seq_of_token.data(), out.data());
  }

  /// Pool element i as the reference reads it (dequantized for int8: its
  /// row of head_dim values shares the scale of its slot and head).
  double key(int64_t i) const {
    if constexpr (kInt8)
      return double(keys[i]) * double(key_scales[i / p.head_dim]);
    else
      return double(float(keys[i]));
  }
  double value(int64_t i) const {
    if constexpr (kInt8)
      return double(values[i]) * double(value_scales[i / p.value_dim]);
    else
      return double(float(values[i]));
  }

  /// The float64 reference: out[t, h] over the keys of t's window.
  std::vector<double> reference() const {
    std::vector<double> ref(p.tokens * p.q_heads * p.value_dim);
    int64_t group = p.q_heads / p.kv_heads;
    int64_t row = p.kv_heads * p.head_dim;
    for (int64_t t = 0; t < p.tokens; ++t) {
      int64_t s = seq_of_token[t], last = positions[t];
      int64_t first =
          p.window > 0 ? std::max<int64_t>(0, last - p.window + 1) : 0;
      for (int64_t h = 0; h < p.q_heads; ++h) {
        int64_t g = h / group;
        const T *qi = &q[(t * p.q_heads + h) * p.head_dim];
        std::vector<double> w;
        std::vector<int64_t> slots;
        double best = -INFINITY;
        for (int64_t j = first; j <= last; ++j) {
          int64_t slot = int64_t(tables[s * p.max_blocks + j / p.block_size]) *
                             p.block_size +
                         j % p.block_size;
          double dot = 0;
          for (int64_t d = 0; d < p.head_dim; ++d)
            dot += double(float(qi[d])) * key(slot * row + g * p.head_dim + d);
          dot *= p.scale;
          if (p.softcap > 0)
            dot = p.softcap * std::tanh(dot / p.softcap);
          w.push_back(dot);
          slots.push_back(slot);
          best = std::max(best, dot);
        }
        double sum = 0;
        for (double &x : w)
          sum += (x = std::exp(x - best));
        for (size_t i = 0; i < w.size(); ++i)
          for (int64_t d = 0; d < p.value_dim; ++d)
            ref[(t * p.q_heads + h) * p.value_dim + d] +=
                w[i] / sum * value(slots[i] * row + g * p.value_dim + d);
      }
    }
    return ref;
  }
};

/// Runs a case and returns the largest |kernel - reference|.
template <class T, class K = T>
double maxError(const Case &c, uint32_t seed, Host &host) {
  Batch<T, K> batch(c, seed);
  EXPECT_EQ(batch.run(host), 0) << c.name << ": " << host.error;
  std::vector<double> ref = batch.reference();
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    double e = std::fabs(double(float(batch.out[i])) - ref[i]);
    if (!(e <= worst)) // NaN too
      worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (int64_t ratio : {1, 4, 8})
    for (int64_t dim : {64, 80, 128}) {
      int64_t kv = ratio == 1 ? 3 : 2;
      std::string tag =
          "gqa" + std::to_string(ratio) + "_d" + std::to_string(dim);
      // Decode: several sequences of different lengths, one token each.
      all.push_back({"decode_" + tag,
                     kv * ratio,
                     kv,
                     dim,
                     16,
                     0,
                     0,
                     1,
                     {tail(1, 0), tail(37, 36), tail(300, 299), tail(129, 128)},
                     {}});
      // Prefill from 0, a chunk from mid-sequence, and decode tokens, in
      // one batch, the sequences out of order.
      Case mixed{"mixed_" + tag,
                 kv * ratio,
                 kv,
                 dim,
                 16,
                 0,
                 0,
                 1,
                 {tail(70, 0), tail(200, 131), tail(45, 44), tail(19, 3)},
                 {}};
      mixed.order = {2, 0, 3, 1};
      all.push_back(mixed);
    }
  // Sliding window, narrower than a block and wider than several.
  all.push_back({"window5",
                 8,
                 2,
                 64,
                 16,
                 5,
                 0,
                 1,
                 {tail(90, 60), tail(7, 6), tail(40, 0)},
                 {}});
  all.push_back({"window40",
                 8,
                 8,
                 80,
                 16,
                 40,
                 0,
                 1,
                 {tail(150, 100), tail(41, 40), tail(33, 0)},
                 {}});
  // Softcap (Gemma 2) with sharp scores.
  all.push_back({"softcap",
                 16,
                 2,
                 128,
                 16,
                 0,
                 30.0,
                 4,
                 {tail(100, 0), tail(60, 59)},
                 {}});
  // Sharp scores: the running max moves often.
  all.push_back(
      {"sharp", 16, 4, 64, 16, 0, 0, 4, {tail(512, 448), tail(64, 0)}, {}});
  // Other block sizes: one position per block, and blocks wider than a
  // vector.
  all.push_back(
      {"block1", 4, 2, 64, 1, 0, 0, 1, {tail(23, 10), tail(5, 4)}, {}});
  all.push_back(
      {"block32", 8, 2, 128, 32, 0, 0, 1, {tail(100, 50), tail(33, 32)}, {}});
  // A head size that is not a multiple of any vector width.
  all.push_back({"d72", 4, 4, 72, 16, 0, 0, 1, {tail(50, 20), tail(9, 8)}, {}});
  // Queries of one sequence at positions that are not consecutive (a tree
  // of speculative tokens shares positions; any order is valid input).
  all.push_back({"gaps",
                 8,
                 2,
                 64,
                 16,
                 0,
                 0,
                 1,
                 {Seq{80, {79, 40, 41, 41, 10, 77}}, tail(20, 0)},
                 {}});
  return all;
}

// Any CPU: compares two compile-time constants.
TEST(PagedAttention, VectorWidthOfThisBuild) {
  EXPECT_EQ(cpu::paged::Vec::N, ANVIL_TEST_LANES);
}

/// Every case with float queries over a pool of K, on `threads` threads
/// (seeds from `seed` on): within 2e-5 of the reference, which reads the
/// pool's own values (rounded to K, or dequantized for int8).
template <class K>
void expectFloatQueriesMatch(uint32_t seed, unsigned threads) {
  Host host(threads);
  for (const Case &c : cases()) {
    double e = maxError<float, K>(c, seed++, host);
    EXPECT_LE(e, 2e-5) << c.name;
  }
}

TEST(PagedAttention, MatchesFloat64ReferenceF32) {
  ANVIL_NEEDS_CPU();
  expectFloatQueriesMatch<float>(1, 3);
}

// A 16-bit KV cache of a float model: the reference reads the same
// rounded keys and values, so the float tolerance holds.
TEST(PagedAttention, MatchesFloat64ReferenceF32QueriesF16Pool) {
  ANVIL_NEEDS_CPU();
  expectFloatQueriesMatch<cpu::f16>(200, 2);
}

// An int8 KV cache (every case: ragged batches, GQA 1/4/8, windows,
// softcap, block sizes 1 to 32): against the dequantized keys and values.
TEST(PagedAttention, MatchesFloat64ReferenceF32QueriesInt8Pool) {
  ANVIL_NEEDS_CPU();
  expectFloatQueriesMatch<int8_t>(300, 3);
}

TEST(PagedAttention, MatchesFloat64ReferenceF16) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  uint32_t seed = 100;
  for (const Case &c : cases()) {
    if (c.name.rfind("mixed_", 0) != 0 && c.name != "window5")
      continue;
    // Outputs in [-1, 1] round to f16 within 2^-12.
    double e = maxError<cpu::f16>(c, seed++, host);
    EXPECT_LE(e, 2e-5 + 1.0 / 4096) << c.name;
  }
}

TEST(PagedAttention, OneThreadMatchesManyBitForBit) {
  ANVIL_NEEDS_CPU();
  Host one(1), three(3);
  for (const Case &c : cases()) {
    Batch<float> a(c, 7), b(c, 7);
    ASSERT_EQ(a.run(one), 0);
    ASSERT_EQ(b.run(three), 0);
    EXPECT_EQ(0, std::memcmp(a.out.data(), b.out.data(),
                             a.out.size() * sizeof(float)))
        << c.name;
  }
}

// A bf16 KV cache (a bf16 model's own pools, widened by a shift): the
// reference reads the same rounded keys and values.
TEST(PagedAttention, MatchesFloat64ReferenceF32QueriesBf16Pool) {
  ANVIL_NEEDS_CPU();
  expectFloatQueriesMatch<cpu::bf16>(400, 2);
}

/// Every token of every case run alone (a batch of one token: a tile of
/// one, which reads a 16-bit or int8 pool's rows in place and widens them
/// in registers) gives the bits it gets in the whole batch (where a tile of
/// several tokens widens each block into scratch first): batch invariance
/// across the two ways of reading the pool.
template <class K> void checkTokensAloneMatchTheBatch(uint32_t seed) {
  Host host(2);
  for (const Case &c : cases()) {
    Batch<float, K> batch(c, seed);
    ASSERT_EQ(batch.run(host), 0) << c.name << ": " << host.error;
    const int64_t row = c.q_heads * c.head_dim;
    for (int64_t t = 0; t < batch.p.tokens; ++t) {
      Batch<float, K> alone = batch;
      alone.p.tokens = 1;
      alone.positions = {batch.positions[t]};
      alone.seq_of_token = {batch.seq_of_token[t]};
      alone.q.assign(batch.q.begin() + t * row,
                     batch.q.begin() + (t + 1) * row);
      alone.out.assign(row, -1.0f);
      ASSERT_EQ(alone.run(host), 0) << c.name << ": " << host.error;
      EXPECT_EQ(0, std::memcmp(alone.out.data(), batch.out.data() + t * row,
                               sizeof(float) * size_t(row)))
          << c.name << ", token " << t;
    }
  }
}

TEST(PagedAttention, TokensAloneMatchTheBatchBitForBitF32Pool) {
  ANVIL_NEEDS_CPU();
  checkTokensAloneMatchTheBatch<float>(600);
}

TEST(PagedAttention, TokensAloneMatchTheBatchBitForBitF16Pool) {
  ANVIL_NEEDS_CPU();
  checkTokensAloneMatchTheBatch<cpu::f16>(601);
}

TEST(PagedAttention, TokensAloneMatchTheBatchBitForBitBf16Pool) {
  ANVIL_NEEDS_CPU();
  checkTokensAloneMatchTheBatch<cpu::bf16>(602);
}

TEST(PagedAttention, TokensAloneMatchTheBatchBitForBitInt8Pool) {
  ANVIL_NEEDS_CPU();
  checkTokensAloneMatchTheBatch<int8_t>(603);
}

TEST(PagedAttention, RefusesBadIndicesBeforeReading) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  Case c{"checks", 4, 2, 64, 16, 0, 0, 1, {tail(40, 30), tail(5, 4)}, {}};
  {
    Batch<float> b(c, 3);
    b.seq_of_token[3] = 2;
    EXPECT_EQ(b.run(host), 1);
    EXPECT_STREQ(host.error,
                 "paged_attention: token 3 belongs to sequence 2 of 2");
  }
  {
    Batch<float> b(c, 3);
    b.positions[10] = 5; // the second sequence has 5 keys
    EXPECT_EQ(b.run(host), 1);
    EXPECT_STREQ(host.error, "paged_attention: token 10 at position 5 of a "
                             "sequence with 5 keys (at most 64)");
  }
  {
    Batch<float> b(c, 3);
    b.tables[1] = int32_t(b.p.num_blocks); // block 1 of sequence 0
    EXPECT_EQ(b.run(host), 1);
    std::string want = "paged_attention: block table of sequence 0 names "
                       "block " +
                       std::to_string(b.p.num_blocks) + " of a pool of " +
                       std::to_string(b.p.num_blocks);
    EXPECT_EQ(std::string(host.error), want);
  }
  {
    Batch<float> b(c, 3);
    b.lens[0] = 65; // more keys than the block table can name
    EXPECT_EQ(b.run(host), 1);
  }
}

TEST(KvWrite, WritesRowsAtSlotsAndRefusesSlotsOutsideThePool) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  KvWriteParams p{};
  p.tokens = 4;
  p.num_blocks = 3;
  p.block_size = 4;
  p.row_size = 6;
  std::vector<float> rows(p.tokens * p.row_size), pool(12 * 6, -1.0f);
  for (size_t i = 0; i < rows.size(); ++i)
    rows[i] = float(i);
  std::vector<int64_t> slots = {11, -1, 0, 5};
  {
    anvil::cpu::RunScope scope(&host.api, &host.invocation);
    ASSERT_EQ(
        cpu::kv_write(scope.host(), p, rows.data(), slots.data(), pool.data()),
        0);
  }
  for (int64_t slot = 0; slot < 12; ++slot)
    for (int64_t i = 0; i < 6; ++i) {
      float want = slot == 11  ? float(0 * 6 + i)
                   : slot == 0 ? float(2 * 6 + i)
                   : slot == 5 ? float(3 * 6 + i)
                               : -1.0f;
      EXPECT_EQ(pool[slot * 6 + i], want) << slot << " " << i;
    }
  std::vector<float> before = pool;
  slots = {1, 2, 12, 3};
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  EXPECT_EQ(
      cpu::kv_write(scope.host(), p, rows.data(), slots.data(), pool.data()),
      1);
  EXPECT_STREQ(host.error,
               "kv_write: slot 12 of token 2 is outside the KV pool of 3 "
               "blocks");
  EXPECT_EQ(pool, before); // checked before anything is written
}

TEST(KvWrite, RoundsFloatRowsIntoA16BitPool) {
  ANVIL_NEEDS_CPU();
  Host host(1);
  KvWriteParams p{};
  p.tokens = 2;
  p.num_blocks = 1;
  p.block_size = 2;
  p.row_size = 3;
  // 1 + 2^-11 is a tie between two halves: it rounds to even (1).
  std::vector<float> rows = {0.1f,     -2.5f, 1.0f + 1.0f / 2048,
                             65504.0f, 1e-8f, -0.0f};
  std::vector<int64_t> slots = {1, 0};
  std::vector<cpu::f16> pool(6, cpu::f16(7.0f));
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  ASSERT_EQ(
      cpu::kv_write(scope.host(), p, rows.data(), slots.data(), pool.data()),
      0);
  const float want[6] = {65504.0f, 0.0f, -0.0f, 0.0999755859375f, -2.5f, 1.0f};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(float(pool[i]), want[i]) << i;
  EXPECT_TRUE(std::signbit(float(pool[2])));
}

/// kv_write_int8 of six tokens (one a padding token) into a pool of 12
/// slots, heads of head_dim values, against quantizeRow; on two threads.
/// Returns the filled parameters, rows, slots, pool and scales for more
/// checks.
void checkInt8Write(int64_t head_dim, Host &host, KvWriteInt8Params &p,
                    std::vector<float> &rows, std::vector<int64_t> &slots,
                    std::vector<int8_t> &pool, std::vector<float> &scales) {
  p = KvWriteInt8Params{};
  p.tokens = 6;
  p.num_blocks = 3;
  p.block_size = 4;
  p.kv_heads = 2;
  p.head_dim = head_dim;
  const int64_t row = p.kv_heads * p.head_dim, heads = 12 * p.kv_heads;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  rows.assign(p.tokens * row, 0.0f);
  for (float &x : rows)
    x = unit(rng) * 3.0f;
  // Token 1 head 0: max 127, so s = 1 and the halves are ties, which round
  // to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2, 0.5 -> 0, -1.5 -> -2); its
  // values past the eighth are 0.
  const float ties[8] = {127.0f, 2.5f, 3.5f, -2.5f, 0.5f, -1.5f, 0.0f, -127.0f};
  std::fill(&rows[1 * row], &rows[1 * row + head_dim], 0.0f);
  std::copy(ties, ties + 8, &rows[1 * row]);
  const int8_t tiesWant[8] = {127, 2, 4, -2, 0, -2, 0, -127};
  // Token 2 head 1: all zeros (s = 0, q = 0); token 4 head 0: one large
  // value, the others small against it (they round to 0 or +-1).
  std::fill(&rows[2 * row + head_dim], &rows[2 * row + 2 * head_dim], 0.0f);
  rows[4 * row] = -1000.0f;
  slots = {11, 4, 0, -1, 5, 8};
  pool.assign(12 * row, int8_t(99));
  scales.assign(heads, -7.0f);
  {
    anvil::cpu::RunScope scope(&host.api, &host.invocation);
    ASSERT_EQ(cpu::kv_write_int8(scope.host(), p, rows.data(), slots.data(),
                                 pool.data(), scales.data()),
              0)
        << host.error;
  }
  std::vector<bool> written(12, false);
  for (int64_t t = 0; t < p.tokens; ++t) {
    if (slots[t] < 0)
      continue;
    written[slots[t]] = true;
    for (int64_t h = 0; h < p.kv_heads; ++h) {
      const float *x = &rows[t * row + h * p.head_dim];
      std::vector<int8_t> want(size_t(p.head_dim));
      float s = quantizeRow(x, p.head_dim, want.data());
      int64_t at = slots[t] * p.kv_heads + h;
      EXPECT_EQ(scales[at], s) << t << " " << h;
      for (int64_t d = 0; d < p.head_dim; ++d) {
        int8_t got = pool[at * p.head_dim + d];
        EXPECT_EQ(got, want[d]) << t << " " << h << " " << d;
        // Within half a step of the value it stores.
        EXPECT_LE(std::fabs(double(got) * s - x[d]), 0.5 * s * (1 + 1e-6))
            << t << " " << h << " " << d;
      }
    }
  }
  for (int64_t d = 0; d < head_dim; ++d)
    EXPECT_EQ(pool[4 * row + d], d < 8 ? tiesWant[d] : 0) << d;
  EXPECT_EQ(scales[4 * p.kv_heads], 1.0f);
  EXPECT_EQ(scales[0 * p.kv_heads + 1], 0.0f); // token 2 at slot 0, head 1
  for (int64_t d = 0; d < head_dim; ++d)
    EXPECT_EQ(pool[0 * row + head_dim + d], 0);
  for (int64_t slot = 0; slot < 12; ++slot)
    if (!written[slot]) {
      for (int64_t i = 0; i < row; ++i)
        EXPECT_EQ(pool[slot * row + i], 99) << slot;
      EXPECT_EQ(scales[slot * p.kv_heads], -7.0f) << slot;
    }
}

// Heads of 8 (the scalar loop with AVX-512, one vector with AVX2), 40
// (two vectors and a scalar tail with AVX-512, five with AVX2) and 43
// (tails on both): the same bytes and scales.
TEST(KvWrite, QuantizesRowsIntoAnInt8PoolPerSlotAndHead) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  KvWriteInt8Params p;
  std::vector<float> rows, scales;
  std::vector<int64_t> slots;
  std::vector<int8_t> pool;
  checkInt8Write(43, host, p, rows, slots, pool, scales);
  checkInt8Write(40, host, p, rows, slots, pool, scales);
  checkInt8Write(8, host, p, rows, slots, pool, scales);
  // A slot outside the pool fails before anything is written.
  std::vector<int8_t> before = pool;
  std::vector<float> scalesBefore = scales;
  slots = {1, 2, 3, 12, 6, 7};
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  EXPECT_EQ(cpu::kv_write_int8(scope.host(), p, rows.data(), slots.data(),
                               pool.data(), scales.data()),
            1);
  EXPECT_STREQ(host.error,
               "kv_write: slot 12 of token 3 is outside the KV pool of 3 "
               "blocks");
  EXPECT_EQ(pool, before);
  EXPECT_EQ(scales, scalesBefore);
}

// Rows with NaNs and infinities, as docs/llm.md defines their bytes: the
// scale skips NaNs (max|x| of the rest / 127) and a NaN stores -127; an
// infinite value makes the scale infinite, so every finite value stores 0
// (x / inf is a zero) and the infinities (inf / inf is NaN) -127. Heads of
// 43: NaNs and infinities in a vector step and in the tail on every ISA.
TEST(KvWrite, Int8RowsWithNaNsAndInfinities) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  KvWriteInt8Params p{};
  p.tokens = 2;
  p.num_blocks = 1;
  p.block_size = 2;
  p.kv_heads = 1;
  p.head_dim = 43;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> rows(2 * 43);
  for (int64_t d = 0; d < 43; ++d) {
    rows[d] = 0.25f * float(d % 9) - 1.0f; // max |x| 1 at d % 9 == 0
    rows[43 + d] = 0.5f - 0.03f * float(d);
  }
  // NaNs in the first vector step, in the last 16-lane one (16..31), in
  // the last lane of the last 8-lane one (39: a NaN let into the running
  // max there would survive the horizontal max) and in the tail.
  rows[3] = nan;
  rows[20] = nan;
  rows[39] = nan;
  rows[41] = nan;
  rows[17] = -4.0f; // the largest magnitude: s = 4 / 127
  rows[43 + 5] = inf;
  rows[43 + 42] = -inf;
  std::vector<int64_t> slots = {0, 1};
  std::vector<int8_t> pool(2 * 43, int8_t(99));
  std::vector<float> scales(2, -7.0f);
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  ASSERT_EQ(cpu::kv_write_int8(scope.host(), p, rows.data(), slots.data(),
                               pool.data(), scales.data()),
            0)
      << host.error;
  const float s = 4.0f / 127.0f;
  EXPECT_EQ(scales[0], s);
  for (int64_t d = 0; d < 43; ++d) {
    const int8_t want =
        std::isnan(rows[d])
            ? int8_t(-127)
            : int8_t(std::max(-127L, std::min(127L, std::lrint(rows[d] / s))));
    EXPECT_EQ(pool[d], want) << d;
  }
  EXPECT_EQ(scales[1], inf);
  for (int64_t d = 0; d < 43; ++d)
    EXPECT_EQ(pool[43 + d], d == 5 || d == 42 ? -127 : 0) << d;
}

/// Rotary tables for tokens at `positions`: row t holds cos/sin of
/// positions[t] * 10000^(-2j / rot) for j < rot / 2 (Su et al. 2021).
struct RopeTablesForTest {
  std::vector<float> cos, sin;
  RopeTablesForTest(const std::vector<int64_t> &positions, int64_t rot) {
    for (int64_t pos : positions)
      for (int64_t j = 0; j < rot / 2; ++j) {
        double angle = double(pos) * std::pow(10000.0, -2.0 * j / rot);
        cos.push_back(float(std::cos(angle)));
        sin.push_back(float(std::sin(angle)));
      }
  }
};

/// The rotation written here from its definition: pairs (2j, 2j+1) or (j,
/// j + rot/2) of the first rot values turn by the row's angle, in double,
/// rounded once to T; the rest is copied.
template <class T>
void rotateRow(const T *x, const float *c, const float *s, int64_t d,
               int64_t rot, bool interleaved, T *y) {
  std::copy(x, x + d, y);
  for (int64_t j = 0; j < rot / 2; ++j) {
    int64_t a = interleaved ? 2 * j : j,
            b = interleaved ? 2 * j + 1 : j + rot / 2;
    double x1 = double(float(x[a])), x2 = double(float(x[b]));
    y[a] = T(float(x1 * double(c[j]) - x2 * double(s[j])));
    y[b] = T(float(x2 * double(c[j]) + x1 * double(s[j])));
  }
}

/// The rotary forms anvil-fuse-rope hands the kernels: Llama's rotate-half
/// over the whole head, adjacent pairs, and a partial rotation (Phi).
struct RopeForm {
  const char *name;
  int64_t rot_of_64; // rot for a 64-wide head; scaled to the case's head
  bool interleaved;
};
const RopeForm kRopeForms[] = {
    {"half", 64, false}, {"pairs", 64, true}, {"partial", 32, false}};

/// paged_attention with the queries' rope fused gives the same bits as the
/// queries rotated first (by rotateRow) and the unfused kernel, and stays
/// within the float64 reference's tolerance of those rotated queries. Each
/// case takes one rotary form in turn (every form meets decode, mixed and
/// window cases).
template <class T, class K = T> void checkFusedQueryRope(uint32_t seed) {
  Host host(3);
  size_t index = 0;
  for (const Case &c : cases()) {
    const RopeForm &form = kRopeForms[index++ % std::size(kRopeForms)];
    {
      int64_t rot = form.rot_of_64 * c.head_dim / 64 / 2 * 2;
      Batch<T, K> fused(c, seed), rotated(c, seed);
      RopeTablesForTest tables(fused.positions, rot);
      for (int64_t t = 0; t < fused.p.tokens; ++t)
        for (int64_t h = 0; h < c.q_heads; ++h) {
          int64_t at = (t * c.q_heads + h) * c.head_dim;
          rotateRow(&fused.q[at], &tables.cos[t * rot / 2],
                    &tables.sin[t * rot / 2], c.head_dim, rot, form.interleaved,
                    &rotated.q[at]);
        }
      ASSERT_EQ(rotated.run(host), 0) << host.error;
      fused.p.rope_dim = rot;
      fused.p.rope_interleaved = form.interleaved;
      fused.p.rope_rows = fused.p.tokens;
      int rc;
      {
        anvil::cpu::RunScope scope(&host.api, &host.invocation);
        if constexpr (std::is_same<K, int8_t>::value)
          rc = cpu::paged_attention(
              scope.host(), fused.p, fused.q.data(), fused.keys.data(),
              fused.values.data(), fused.tables.data(), fused.lens.data(),
              fused.positions.data(), fused.seq_of_token.data(),
              fused.key_scales.data(), fused.value_scales.data(),
              tables.cos.data(), tables.sin.data(), fused.out.data());
        else
          rc = cpu::paged_attention(
              scope.host(), fused.p, fused.q.data(), fused.keys.data(),
              fused.values.data(), fused.tables.data(), fused.lens.data(),
              fused.positions.data(), fused.seq_of_token.data(),
              tables.cos.data(), tables.sin.data(), fused.out.data());
      }
      ASSERT_EQ(rc, 0) << c.name << " " << form.name << ": " << host.error;
      EXPECT_EQ(0, std::memcmp(fused.out.data(), rotated.out.data(),
                               fused.out.size() * sizeof(T)))
          << c.name << " " << form.name;
      std::vector<double> ref = rotated.reference();
      double worst = 0;
      for (size_t i = 0; i < ref.size(); ++i)
        worst =
            std::max(worst, std::fabs(double(float(fused.out[i])) - ref[i]));
      EXPECT_LE(worst, 2e-5) << c.name << " " << form.name;
      ++seed;
    }
  }
}

TEST(PagedAttention, FusedQueryRopeMatchesRotatedQueriesF32) {
  ANVIL_NEEDS_CPU();
  checkFusedQueryRope<float>(400);
}

TEST(PagedAttention, FusedQueryRopeMatchesRotatedQueriesInt8Pool) {
  ANVIL_NEEDS_CPU();
  checkFusedQueryRope<float, int8_t>(500);
}

TEST(PagedAttention, FusedQueryRopeRefusesTablesOfOtherRows) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  Case c{"rows", 4, 2, 64, 16, 0, 0, 1, {tail(40, 30), tail(5, 4)}, {}};
  Batch<float> b(c, 3);
  RopeTablesForTest tables(b.positions, 64);
  b.p.rope_dim = 64;
  b.p.rope_rows = b.p.tokens - 1; // tables broadcast over the tokens
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  EXPECT_EQ(cpu::paged_attention(scope.host(), b.p, b.q.data(), b.keys.data(),
                                 b.values.data(), b.tables.data(),
                                 b.lens.data(), b.positions.data(),
                                 b.seq_of_token.data(), tables.cos.data(),
                                 tables.sin.data(), b.out.data()),
            1);
  EXPECT_STREQ(host.error,
               "paged_attention: rotary tables of 10 rows for 11 tokens");
}

/// kv_write and kv_write_int8 with the keys' rope fused store the same bits
/// as the rows rotated first (by rotateRow) and written unfused; padding
/// tokens (slot -1) write nothing.
template <class U> void checkFusedKeyRope(const RopeForm &form) {
  Host host(1);
  const int64_t tokens = 5, heads = 2, dim = 16, blocks = 2, block = 4;
  const int64_t rot = form.rot_of_64 * dim / 64;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> unit(-2.0f, 2.0f);
  std::vector<float> rows(tokens * heads * dim), rotated(rows.size());
  for (float &x : rows)
    x = unit(rng);
  std::vector<int64_t> positions = {0, 7, 3, 100, 12};
  std::vector<int64_t> slots = {6, 0, -1, 7, 2};
  RopeTablesForTest tables(positions, rot);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t h = 0; h < heads; ++h)
      rotateRow(&rows[(t * heads + h) * dim], &tables.cos[t * rot / 2],
                &tables.sin[t * rot / 2], dim, rot, form.interleaved,
                &rotated[(t * heads + h) * dim]);
  const size_t poolSize = blocks * block * heads * dim;
  std::vector<U> fusedPool(poolSize, U(3.0f)), plainPool(poolSize, U(3.0f));
  std::vector<float> fusedScales(blocks * block * heads, -1.0f),
      plainScales = fusedScales;
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  if constexpr (std::is_same<U, int8_t>::value) {
    KvWriteInt8Params p{};
    p.tokens = tokens;
    p.num_blocks = blocks;
    p.block_size = block;
    p.kv_heads = heads;
    p.head_dim = dim;
    ASSERT_EQ(cpu::kv_write_int8(scope.host(), p, rotated.data(), slots.data(),
                                 plainPool.data(), plainScales.data()),
              0);
    p.rope_dim = rot;
    p.rope_interleaved = form.interleaved;
    p.rope_rows = tokens;
    ASSERT_EQ(cpu::kv_write_int8(scope.host(), p, rows.data(), slots.data(),
                                 tables.cos.data(), tables.sin.data(),
                                 fusedPool.data(), fusedScales.data()),
              0)
        << host.error;
    EXPECT_EQ(fusedScales, plainScales) << form.name;
  } else {
    KvWriteParams p{};
    p.tokens = tokens;
    p.num_blocks = blocks;
    p.block_size = block;
    p.row_size = heads * dim;
    p.head_dim = dim;
    ASSERT_EQ(cpu::kv_write(scope.host(), p, rotated.data(), slots.data(),
                            plainPool.data()),
              0);
    p.rope_dim = rot;
    p.rope_interleaved = form.interleaved;
    p.rope_rows = tokens;
    ASSERT_EQ(cpu::kv_write(scope.host(), p, rows.data(), slots.data(),
                            tables.cos.data(), tables.sin.data(),
                            fusedPool.data()),
              0)
        << host.error;
    // Tables of another row count fail the run.
    p.rope_rows = 1;
    EXPECT_EQ(cpu::kv_write(scope.host(), p, rows.data(), slots.data(),
                            tables.cos.data(), tables.sin.data(),
                            fusedPool.data()),
              1);
    EXPECT_STREQ(host.error, "kv_write: rotary tables of 1 rows for 5 tokens");
  }
  EXPECT_EQ(
      0, std::memcmp(fusedPool.data(), plainPool.data(), poolSize * sizeof(U)))
      << form.name;
  // The untouched slot (1) still holds its old values.
  EXPECT_EQ(float(fusedPool[1 * heads * dim]), float(U(3.0f))) << form.name;
}

// A prefill's worth of int8 KV writes, which split over threads (two
// heads of 64 per token, 300 tokens in one chunk of the pool each): with
// the keys' rope fused, on two threads, the bytes and scales of the rows
// rotated (by rotateRow) and quantized by quantizeRow.
TEST(KvWrite, Int8RowsOnTwoThreadsMatchQuantizeRow) {
  ANVIL_NEEDS_CPU();
  Host host(2);
  const int64_t tokens = 300, heads = 2, dim = 64, block = 16;
  const int64_t blocks = (tokens + block - 1) / block + 1;
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> unit(-2.0f, 2.0f);
  std::vector<float> rows(tokens * heads * dim), rotated(rows.size());
  for (float &x : rows)
    x = unit(rng);
  std::vector<int64_t> positions, slots;
  for (int64_t t = 0; t < tokens; ++t) {
    positions.push_back(t);
    slots.push_back(t % 7 == 3 ? -1 : t + block); // padding tokens too
  }
  RopeTablesForTest tables(positions, dim);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t h = 0; h < heads; ++h)
      rotateRow(&rows[(t * heads + h) * dim], &tables.cos[t * dim / 2],
                &tables.sin[t * dim / 2], dim, dim, false,
                &rotated[(t * heads + h) * dim]);
  std::vector<int8_t> pool(blocks * block * heads * dim, int8_t(99));
  std::vector<float> scales(blocks * block * heads, -7.0f);
  KvWriteInt8Params p{};
  p.tokens = tokens;
  p.num_blocks = blocks;
  p.block_size = block;
  p.kv_heads = heads;
  p.head_dim = dim;
  p.rope_dim = dim;
  p.rope_rows = tokens;
  anvil::cpu::RunScope scope(&host.api, &host.invocation);
  ASSERT_EQ(cpu::kv_write_int8(scope.host(), p, rows.data(), slots.data(),
                               tables.cos.data(), tables.sin.data(),
                               pool.data(), scales.data()),
            0)
      << host.error;
  int64_t checked = 0;
  for (int64_t slot = 0; slot < blocks * block; ++slot) {
    const int64_t t = slot - block;
    const bool written = t >= 0 && t < tokens && slots[t] == slot;
    for (int64_t h = 0; h < heads; ++h) {
      const int8_t *got = &pool[(slot * heads + h) * dim];
      const float scale = scales[slot * heads + h];
      if (!written) {
        EXPECT_EQ(scale, -7.0f) << slot;
        EXPECT_EQ(got[0], 99) << slot;
        continue;
      }
      int8_t want[64];
      EXPECT_EQ(scale, quantizeRow(&rotated[(t * heads + h) * dim], dim, want))
          << t << " " << h;
      EXPECT_EQ(0, std::memcmp(got, want, dim)) << t << " " << h;
      ++checked;
    }
  }
  EXPECT_EQ(checked, heads * std::count_if(slots.begin(), slots.end(),
                                           [](int64_t x) { return x >= 0; }));
}

TEST(KvWrite, FusedKeyRopeMatchesRotatedRows) {
  ANVIL_NEEDS_CPU();
  for (const RopeForm &form : kRopeForms) {
    checkFusedKeyRope<float>(form);
    checkFusedKeyRope<cpu::f16>(form);
    checkFusedKeyRope<int8_t>(form);
  }
}

} // namespace

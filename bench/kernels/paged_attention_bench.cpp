//===- paged_attention_bench.cpp - the CPU paged attention kernel ---------===//
//
// Google Benchmark microbenchmarks of backends/cpu/kernels/paged_attention.h
// (PagedAttention, Kwon et al. 2023, with FlashAttention's online softmax,
// Dao et al. 2022) at the 250M benchmark decoder's heads (16 query heads, 4
// KV heads of 64, blocks of 16 in shuffled order), with f32, f16 and int8
// pools: one sequence decoding at contexts 128, 512 and 2048, 16 sequences
// decoding at context 512, and prefills of 128 and 512 tokens.
//
// Counters: KV_bytes/s, the K/V bytes (and int8 scales) each call's tokens
// read (a decode token reads its sequence's whole context once), and
// FLOP/s, 4 x head_dim per (query head, visible key) (the score and the
// value product). `roofline`: a cold decode's bytes against the read
// bandwidth, a prefill's or a warm decode's FLOPs against the fp32 FMA
// peak, both measured by this binary with the same thread count
// (BenchSupport.h). The pools are cold (warm:0): each iteration reads the
// next of several copies, together at least 4x the last-level cache, as a
// decode step reads every layer's KV cache from memory. A few decodes run
// warm too (warm:1, one copy that stays in cache): the kernel's arithmetic
// alone.
//
//   scripts/build.sh anvil-kernel-bench
//   build/bin/anvil-kernel-bench --benchmark_filter=PagedAttention
//
//===----------------------------------------------------------------------===//

#include "paged_attention.h"

#include "BenchSupport.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <new>
#include <random>
#include <vector>

namespace {

using anvil::bench::Ceilings;
using anvil::bench::ceilings;
using anvil::bench::Host;

constexpr int64_t kQHeads = 16, kKvHeads = 4, kHeadDim = 64, kBlockSize = 16;

/// Whether a pool of K holds a scale per slot and head (int8).
template <class K> constexpr bool kScaled = std::is_same<K, int8_t>::value;

/// A value in [-1, 1) as the pool type stores it (int8: at scale 1/127).
template <class K> K poolValue(float x) {
  if constexpr (std::is_same<K, int8_t>::value)
    return int8_t(std::lrint(x * 127));
  else
    return K(x);
}

/// One copy of the pools: [num_blocks, block_size, kv_heads, head_dim]
/// keys and values, and for int8 their scales (one per slot and head), in
/// one allocation of the runtime's CpuDevice for a KV pool, as the engine
/// allocates its pool (on huge pages where the kernel gives them).
template <class K> struct Pools {
  Pools(anvil::runtime::Device &device, size_t poolSize, size_t slots)
      : device(&device),
        memory(device.allocate(2 * poolSize * sizeof(K) +
                                   (kScaled<K> ? slots * kKvHeads : 0) *
                                       sizeof(float),
                               anvil::runtime::Device::Use::KvPool)) {
    if (!memory)
      throw std::bad_alloc();
    keys = static_cast<K *>(memory);
    values = keys + poolSize;
    scales = reinterpret_cast<float *>(values + poolSize);
  }
  Pools(Pools &&other) noexcept
      : device(other.device), memory(other.memory), keys(other.keys),
        values(other.values), scales(other.scales) {
    other.memory = nullptr;
  }
  Pools(const Pools &) = delete;
  Pools &operator=(const Pools &) = delete;
  ~Pools() {
    if (memory)
      device->release(memory);
  }
  anvil::runtime::Device *device;
  void *memory;
  K *keys, *values;
  float *scales; // kScaled<K> only
};

template <class K> void BM_PagedAttention(benchmark::State &state) {
  const int64_t seqs = state.range(0), context = state.range(1),
                queries = state.range(2);
  const int threads = int(state.range(3));
  const bool warm = state.range(4) != 0;
  constexpr bool kInt8 = kScaled<K>;
  anvil::PagedAttentionParams p{};
  const int64_t perSeq = (context + kBlockSize - 1) / kBlockSize;
  p.seqs = seqs;
  p.num_blocks = perSeq * seqs;
  p.q_heads = kQHeads;
  p.kv_heads = kKvHeads;
  p.head_dim = p.value_dim = kHeadDim;
  p.block_size = kBlockSize;
  p.max_blocks = perSeq;
  p.scale = 1.0 / std::sqrt(double(kHeadDim));
  p.tokens = seqs * queries;
  std::mt19937 rng(1);
  std::vector<int32_t> tables(size_t(p.num_blocks), 0), seqOfToken;
  std::vector<int32_t> lens(static_cast<size_t>(seqs), int32_t{0});
  std::fill(lens.begin(), lens.end(), int32_t(context));
  for (int64_t i = 0; i < p.num_blocks; ++i)
    tables[size_t(i)] = int32_t(i);
  std::shuffle(tables.begin(), tables.end(), rng);
  std::vector<int64_t> positions;
  double flops = 0;
  for (int64_t s = 0; s < seqs; ++s)
    for (int64_t pos = context - queries; pos < context; ++pos) {
      seqOfToken.push_back(int32_t(s));
      positions.push_back(pos);
      flops += double(pos + 1) * kQHeads * 4.0 * kHeadDim;
    }
  const size_t slots = size_t(p.num_blocks * kBlockSize);
  const size_t poolSize = slots * size_t(kKvHeads * kHeadDim);
  const size_t copyBytes =
      2 * poolSize * sizeof(K) + (kInt8 ? 2 * slots * kKvHeads * 4 : 0);
  const size_t llc = size_t(anvil::bench::cpuInfo().llcBytes);
  const size_t copies =
      warm ? 1
           : std::max<size_t>(
                 1, (4 * std::max<size_t>(llc, 1 << 20) + copyBytes - 1) /
                        copyBytes);
  // Not std::uniform_real_distribution: its logl per draw made filling the
  // hundreds of copies that the small contexts' pools need take most of
  // this binary's 17 minutes.
  anvil::bench::Xorshift64 random{0x9E3779B97F4A7C15ull};
  Host host(threads);
  std::vector<Pools<K>> pools;
  pools.reserve(copies);
  for (size_t copy = 0; copy < copies; ++copy) {
    Pools<K> &pool = pools.emplace_back(host.device, poolSize, slots);
    for (size_t i = 0; i < poolSize; ++i) {
      pool.keys[i] = poolValue<K>(random.unit());
      pool.values[i] = poolValue<K>(random.unit());
    }
    if constexpr (kInt8)
      std::fill(pool.scales, pool.scales + slots * kKvHeads, 1.0f / 127);
  }
  std::vector<float> q(size_t(p.tokens * kQHeads * kHeadDim)), out(q.size());
  for (float &x : q)
    x = random.unit();

  char error[256] = {};
  anvil_invocation invocation{};
  invocation.struct_size = sizeof(invocation);
  invocation.error = error;
  invocation.error_size = sizeof error;
  size_t c = 0;
  double seconds = 0;
  for (auto _ : state) {
    const Pools<K> &pool = pools[c];
    auto start = std::chrono::steady_clock::now();
    anvil::cpu::RunScope scope(&host.api, &invocation);
    int rc;
    if constexpr (kInt8)
      rc = anvil::cpu::paged_attention(scope.host(), p, q.data(), pool.keys,
                                       pool.values, tables.data(), lens.data(),
                                       positions.data(), seqOfToken.data(),
                                       pool.scales, pool.scales, out.data());
    else
      rc = anvil::cpu::paged_attention(
          scope.host(), p, q.data(), pool.keys, pool.values, tables.data(),
          lens.data(), positions.data(), seqOfToken.data(), out.data());
    if (rc) {
      state.SkipWithError(error);
      return;
    }
    seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    benchmark::DoNotOptimize(out.data());
    c = (c + 1) % copies;
  }
  // Every token's sequence is read whole (its keys and values, and their
  // scales); with queries > 1 a tile's tokens share each block read.
  const double bytes =
      double(seqs * context * kKvHeads) *
      (2.0 * kHeadDim * double(sizeof(K)) + (kInt8 ? 2.0 * 4 : 0.0));
  state.counters["KV_bytes/s"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  state.counters["FLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
  if (seconds <= 0 || state.iterations() == 0)
    return;
  const Ceilings &ceiling = ceilings(threads);
  const double perCall = seconds / double(state.iterations());
  state.counters["roofline"] =
      queries == 1 && !warm ? bytes / perCall / 1e9 / ceiling.readGBs.max
                            : flops / perCall / 1e9 / ceiling.fp32Gflops.max;
}

/// {seqs, context, queries, threads, warm}: decodes at three contexts, a
/// batch of 16 decoding sequences, two prefills; on 1 and 2 threads. With
/// warm = 1 the pools are one copy that stays in cache (one sequence at
/// contexts 128 and 512: 256 KB and 1 MB of f32 K and V), which times the
/// kernel's arithmetic without the memory system: the gap to the cold
/// case is what the reads cost.
void cases(benchmark::internal::Benchmark *b) {
  b->ArgNames({"seqs", "context", "queries", "threads", "warm"});
  const int64_t shapes[][3] = {{1, 128, 1},  {1, 512, 1},   {1, 2048, 1},
                               {16, 512, 1}, {1, 128, 128}, {1, 512, 512}};
  for (const auto &shape : shapes)
    for (int64_t threads : {1, 2})
      b->Args({shape[0], shape[1], shape[2], threads, 0});
  for (int64_t context : {128, 512})
    for (int64_t threads : {1, 2})
      b->Args({1, context, 1, threads, 1});
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_TEMPLATE(BM_PagedAttention, float)->Apply(cases);
BENCHMARK_TEMPLATE(BM_PagedAttention, anvil::cpu::f16)->Apply(cases);
BENCHMARK_TEMPLATE(BM_PagedAttention, int8_t)->Apply(cases);

} // namespace

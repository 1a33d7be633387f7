//===- Ceilings.cpp - this machine's read bandwidth and arithmetic peaks --===//

#include "Ceilings.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>
#include <unistd.h>

namespace anvil::bench {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

//===--- streaming reads --------------------------------------------------===//
//
// Each thread reads its slice of the buffer as several streams at once (the
// slice cut in parts read side by side, as a GEMV reads several weight
// panels), one accumulator per stream so the adds never wait on each
// other. Two patterns, because CPUs disagree on which reads faster:
//   prefetched: 16 streams, each prefetched 4 KiB ahead in software. On an
//     Intel Xeon (AVX-512) about 10% faster than 8 streams without, and as
//     fast as OpenBLAS's sgemv streams its matrix (bench/kernels).
//   plain: 8 streams and the hardware prefetchers alone. On an AMD EPYC
//     (Zen 3, AVX2) 10-40% faster than the prefetched pattern, whose
//     prefetches land on the next 4 KiB page of every stream.
// measureCeilings times both once and repeats the faster: a ceiling is the
// best rate found, whichever pattern gives it.

enum class ReadPattern { Prefetched, Plain };
constexpr int kPrefetchedStreams = 16, kPlainStreams = 8;
constexpr size_t kPrefetchFloats = 1024;

int streamsOf(ReadPattern pattern) {
  return pattern == ReadPattern::Prefetched ? kPrefetchedStreams
                                            : kPlainStreams;
}

template <int Streams, bool Prefetch>
__attribute__((target("avx512f"))) float readAvx512(const float *data,
                                                    size_t count) {
  const size_t part = count / Streams / 16 * 16;
  __m512 acc[Streams];
  for (int s = 0; s < Streams; ++s)
    acc[s] = _mm512_setzero_ps();
  for (size_t i = 0; i < part; i += 16)
#pragma GCC unroll 16
    for (int s = 0; s < Streams; ++s) {
      if (Prefetch)
        _mm_prefetch(reinterpret_cast<const char *>(data + s * part + i +
                                                    kPrefetchFloats),
                     _MM_HINT_T0);
      acc[s] = _mm512_add_ps(acc[s], _mm512_load_ps(data + s * part + i));
    }
  __m512 sum = acc[0];
  for (int s = 1; s < Streams; ++s)
    sum = _mm512_add_ps(sum, acc[s]);
  return _mm512_reduce_add_ps(sum);
}

/// A whole 64-byte line per stream and step (two ymm loads): 16 ymm
/// registers hold 8 streams' accumulators and the loads, no spills (16
/// accumulators spilled to the stack and read at a third of the rate).
template <int Streams, bool Prefetch>
__attribute__((target("avx2"))) float readAvx2(const float *data,
                                               size_t count) {
  const size_t part = count / Streams / 16 * 16;
  __m256 acc[Streams];
  for (int s = 0; s < Streams; ++s)
    acc[s] = _mm256_setzero_ps();
  for (size_t i = 0; i < part; i += 16)
#pragma GCC unroll 16
    for (int s = 0; s < Streams; ++s) {
      const float *at = data + s * part + i;
      if (Prefetch)
        _mm_prefetch(reinterpret_cast<const char *>(at + kPrefetchFloats),
                     _MM_HINT_T0);
      acc[s] = _mm256_add_ps(
          acc[s], _mm256_add_ps(_mm256_load_ps(at), _mm256_load_ps(at + 8)));
    }
  __m256 sum = acc[0];
  for (int s = 1; s < Streams; ++s)
    sum = _mm256_add_ps(sum, acc[s]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes)
    total += v;
  return total;
}

float readPortable(const float *data, size_t count, int streams) {
  const size_t part = count / size_t(streams);
  float acc[kPrefetchedStreams] = {};
  for (size_t i = 0; i < part; ++i)
    for (int s = 0; s < streams; ++s)
      acc[s] += data[s * part + i];
  float total = 0;
  for (float v : acc)
    total += v;
  return total;
}

/// Floats per step of a stream (whole steps only are read).
size_t stepFloats() {
  return __builtin_cpu_supports("avx512f") || __builtin_cpu_supports("avx2")
             ? 16
             : 1;
}

/// The bytes readStreams actually reads of `count` floats.
size_t bytesRead(size_t count, ReadPattern pattern) {
  const size_t streams = size_t(streamsOf(pattern)), step = stepFloats();
  return count / streams / step * step * streams * sizeof(float);
}

float readStreams(const float *data, size_t count, ReadPattern pattern) {
  const bool prefetched = pattern == ReadPattern::Prefetched;
  if (__builtin_cpu_supports("avx512f"))
    return prefetched ? readAvx512<kPrefetchedStreams, true>(data, count)
                      : readAvx512<kPlainStreams, false>(data, count);
  if (__builtin_cpu_supports("avx2"))
    return prefetched ? readAvx2<kPrefetchedStreams, true>(data, count)
                      : readAvx2<kPlainStreams, false>(data, count);
  return readPortable(data, count, streamsOf(pattern));
}

//===--- register-resident multiply-adds ----------------------------------===//
//
// Independent accumulators (more than FMA latency x ports) updated with one
// instruction each per iteration, no memory operand: the loop runs at the
// core's multiply-add throughput. acc = acc * a + b with a < 1 converges to
// a normal number (no overflow, no denormals).

constexpr int kAccumulators = 16;

__attribute__((target("avx512f"))) double fmaAvx512(int64_t iterations) {
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = _mm512_set1_ps(float(i));
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kAccumulators; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}
constexpr double kFlopsAvx512 = kAccumulators * 16 * 2;

// 12 accumulators: with a and b, 14 of AVX2's 16 ymm registers.
constexpr int kAccumulatorsAvx2 = 12;
__attribute__((target("avx2,fma"))) double fmaAvx2(int64_t iterations) {
  const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-4f);
  __m256 acc[kAccumulatorsAvx2];
  for (int i = 0; i < kAccumulatorsAvx2; ++i)
    acc[i] = _mm256_set1_ps(float(i));
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kAccumulatorsAvx2; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  alignas(32) float lanes[8];
  __m256 sum = acc[0];
  for (int i = 1; i < kAccumulatorsAvx2; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  _mm256_store_ps(lanes, sum);
  double total = 0;
  for (float v : lanes)
    total += v;
  return total;
}
constexpr double kFlopsAvx2 = kAccumulatorsAvx2 * 8 * 2;

// Without FMA: a multiply and an add per accumulator (2 FLOPs), which the
// compiler may vectorize with SSE2.
double fmaPortable(int64_t iterations) {
  float acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = float(i);
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kAccumulators; ++i)
      acc[i] = acc[i] * 0.9999f + 1e-4f;
  double total = 0;
  for (float v : acc)
    total += v;
  return total;
}
constexpr double kFlopsPortable = kAccumulators * 2;

// vpdpbusd: each of 16 int32 lanes adds 4 products of u8 x s8, 64
// multiply-adds (128 ops) per instruction.
__attribute__((target("avx512f,avx512vnni"))) double
vnniAvx512(int64_t iterations) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  __m512i acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = _mm512_set1_epi32(i);
  for (int64_t it = 0; it < iterations; ++it)
    for (int i = 0; i < kAccumulators; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  __m512i sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  return double(_mm512_reduce_add_epi32(sum));
}
constexpr double kOpsVnni = kAccumulators * 64 * 2;

/// Runs work(thread) on `threads` threads started together; the wall
/// seconds from the start signal until the last one finishes (thread
/// creation is not timed).
double runTogether(int threads, const std::function<void(int)> &work) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire))
        ;
      work(t);
      done.fetch_add(1);
    });
  while (ready.load() != threads - 1)
    std::this_thread::yield();
  Clock::time_point start = Clock::now();
  go.store(true, std::memory_order_release);
  work(0);
  while (done.load() != threads - 1)
    ;
  double seconds = secondsSince(start);
  for (std::thread &t : pool)
    t.join();
  return seconds;
}

/// Ops per second of kernel(iterations) (opsPerIteration each) on `threads`
/// threads, each repetition timed for about 0.2 s.
Spread peakRate(int threads, int reps, double opsPerIteration,
                double (*kernel)(int64_t)) {
  std::atomic<double> sink{0};
  // Calibrate on one thread: iterations for about 0.2 s.
  int64_t iterations = 1 << 16;
  for (;;) {
    Clock::time_point start = Clock::now();
    sink.store(kernel(iterations));
    double s = secondsSince(start);
    if (s > 0.05 || iterations > (int64_t(1) << 40)) {
      iterations = int64_t(iterations * (0.2 / std::max(s, 1e-6)));
      break;
    }
    iterations *= 4;
  }
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    double seconds =
        runTogether(threads, [&](int) { sink.store(kernel(iterations)); });
    rates.push_back(double(threads) * double(iterations) * opsPerIteration /
                    seconds / 1e9);
  }
  return Spread::of(rates);
}

} // namespace

Spread Spread::of(std::vector<double> values) {
  Spread s;
  if (values.empty())
    return s;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

CpuInfo cpuInfo() {
  CpuInfo info;
  __builtin_cpu_init();
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        info.model = line.substr(line.find_first_not_of(" \t", colon + 1));
      break;
    }
  if (__builtin_cpu_supports("avx512f"))
    info.fmaIsa = "avx512f";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    info.fmaIsa = "avx2+fma";
  else
    info.fmaIsa = "scalar";
  info.vnni = __builtin_cpu_supports("avx512vnni");
#define ANVIL_FEATURE(name)                                                    \
  if (__builtin_cpu_supports(name))                                            \
    info.features.push_back(name);
  ANVIL_FEATURE("sse4.2")
  ANVIL_FEATURE("avx")
  ANVIL_FEATURE("avx2")
  ANVIL_FEATURE("fma")
  ANVIL_FEATURE("avx512f")
  ANVIL_FEATURE("avx512bw")
  ANVIL_FEATURE("avx512vl")
  ANVIL_FEATURE("avx512vnni")
  ANVIL_FEATURE("avx512bf16")
#undef ANVIL_FEATURE
  long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (llc <= 0)
    llc = sysconf(_SC_LEVEL2_CACHE_SIZE);
  info.llcBytes = llc > 0 ? llc : 0;
  info.hardwareThreads = std::thread::hardware_concurrency();
  return info;
}

size_t defaultBandwidthBufferBytes() {
  // At most 1 GiB: a VM may report its host's whole L3 (256 MiB on an AMD
  // EPYC whose cores each see 32 MiB), and over 4 GiB of 4 KiB pages every
  // stream's page walks missed the caches (3.2 GB/s against 8.2 over 512
  // MiB, one thread, the same loop).
  size_t llc = size_t(cpuInfo().llcBytes);
  return std::min<size_t>(size_t(1) << 30,
                          std::max<size_t>(size_t(512) << 20, 16 * llc));
}

Ceilings measureCeilings(int threads, int reps, size_t bufferBytes) {
  Ceilings c;
  c.threads = threads;
  if (!bufferBytes)
    bufferBytes = defaultBandwidthBufferBytes();
  // Whole 64-byte lines per thread and stream, for either pattern.
  size_t unit = size_t(threads) * kPrefetchedStreams * kPlainStreams * 64;
  bufferBytes = std::max(unit, bufferBytes / unit * unit);
  c.bandwidthBufferBytes = bufferBytes;
  {
    size_t count = bufferBytes / sizeof(float);
    std::unique_ptr<float, decltype(&std::free)> buffer(
        static_cast<float *>(std::aligned_alloc(64, bufferBytes)), &std::free);
    if (buffer) {
      // Written, so every page is backed by its own memory.
      std::fill(buffer.get(), buffer.get() + count, 1.0f);
      size_t slice = count / size_t(threads);
      std::atomic<float> sink{0};
      auto timedPass = [&](ReadPattern pattern) {
        double seconds = runTogether(threads, [&](int t) {
          sink.store(
              readStreams(buffer.get() + size_t(t) * slice, slice, pattern));
        });
        return double(bytesRead(slice, pattern)) * threads / seconds / 1e9;
      };
      // Warm-up, then one pass of each pattern; the faster one is timed.
      timedPass(ReadPattern::Prefetched);
      const double prefetched = timedPass(ReadPattern::Prefetched);
      const double plain = timedPass(ReadPattern::Plain);
      ReadPattern pattern =
          plain > prefetched ? ReadPattern::Plain : ReadPattern::Prefetched;
      c.readStreams = streamsOf(pattern);
      c.readPrefetched = pattern == ReadPattern::Prefetched;
      std::vector<double> rates;
      for (int r = 0; r < reps; ++r)
        rates.push_back(timedPass(pattern));
      c.readGBs = Spread::of(rates);
    }
  }
  if (__builtin_cpu_supports("avx512f"))
    c.fp32Gflops = peakRate(threads, reps, kFlopsAvx512, fmaAvx512);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    c.fp32Gflops = peakRate(threads, reps, kFlopsAvx2, fmaAvx2);
  else
    c.fp32Gflops = peakRate(threads, reps, kFlopsPortable, fmaPortable);
  if (__builtin_cpu_supports("avx512vnni"))
    c.int8Gops = peakRate(threads, reps, kOpsVnni, vnniAvx512);
  return c;
}

} // namespace anvil::bench

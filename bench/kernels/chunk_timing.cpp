//===- chunk_timing.cpp - how a decode GEMV's threads share it ------------===//
//
// anvil-chunk-timing: calls a decode GEMV (m = 1: the fp32 one,
// matmul_panels, or a quantized one, matmul_quant: weight-only int8 or
// int4-g128, W8A8, W4A8-g128) back to back over cold weights on the
// runtime's ThreadPool and times every chunk it hands out, per call: when each
// thread started its first chunk and ended its last. It reports the call time,
// how long the first worker took to join (its start delay), how far apart the
// first two threads finished (the finish gap: the time one of them spun), and
// in how many calls a thread took no chunk at all. Session 37 found with it a
// worker that missed one call in 11 (ThreadPool::workerLoop read the post
// count after its unlock); docs/performance.md, "The decode GEMV without
// masks; a job the thread pool's worker missed".
//
// Not a test and not in `all`: scripts/build.sh anvil-chunk-timing.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"
#include "anvil_cpu_kernels.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double nowUs() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// First chunk start and last chunk end of threads 0 and 1 in one call
/// (microseconds on the steady clock; a thread that ran no chunk keeps
/// first = +inf).
struct CallRecord {
  double first[2] = {INFINITY, INFINITY};
  double last[2] = {0, 0};
};
CallRecord record;
const anvil_host_api *realHost = nullptr;

struct TimedChunk {
  anvil_parallel_fn fn;
  void *arg;
};

void timedChunk(void *arg, int64_t begin, int64_t end, int thread) {
  auto *chunk = static_cast<TimedChunk *>(arg);
  const double start = nowUs();
  chunk->fn(chunk->arg, begin, end, thread);
  const double stop = nowUs();
  if (thread < 2) {
    // Each thread writes only its own slots.
    record.first[thread] = std::min(record.first[thread], start);
    record.last[thread] = std::max(record.last[thread], stop);
  }
}

void timedParallelFor(void *host, int64_t n, int64_t grain,
                      anvil_parallel_fn fn, void *arg) {
  TimedChunk chunk{fn, arg};
  realHost->parallel_for(host, n, grain, timedChunk, &chunk);
}

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return NAN;
  std::sort(v.begin(), v.end());
  return v[size_t(q * double(v.size() - 1))];
}

double mean(const std::vector<double> &v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return v.empty() ? NAN : sum / double(v.size());
}

void usage(FILE *to) {
  std::fprintf(
      to,
      "usage: anvil-chunk-timing [--k K] [--n N] [--threads T] [--calls C]\n"
      "                          [--weights W]\n"
      "\n"
      "Calls the decode GEMV out[1, N] = x[1, K] x W[K, N] C times back\n"
      "to back (after C / 10 untimed ones), each on the next of several\n"
      "weight copies (together at least 2x the last-level cache, at most\n"
      "2 GiB: cold weights), on the runtime's ThreadPool with T threads, and\n"
      "times every chunk. Prints, in microseconds: the call time (median,\n"
      "mean, p90) and its read rate; with T >= 2, the first worker's start\n"
      "delay after the caller's first chunk, the gap between the first two\n"
      "threads' last chunk ends (median, mean, p90), and the calls in which\n"
      "either of them took no chunk.\n"
      "\n"
      "  --k K        the reduction length (default 1024)\n"
      "  --n N        output columns (default 1024)\n"
      "  --threads T  threads, the caller's included (default 2)\n"
      "  --calls C    timed calls (default 2000)\n"
      "  --weights W  f32 (matmul_panels), or matmul_quant's int8 and\n"
      "               int4-g128 (weight-only), w8a8, w4a8-g128 (default f32)\n"
      "  -h, --help   this text\n");
}

bool parseCount(const char *text, int64_t &value) {
  char *end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (!end || *end || v <= 0)
    return false;
  value = v;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  int64_t k = 1024, n = 1024, threads = 2, calls = 2000;
  std::string weightKind = "f32";
  for (int i = 1; i < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    }
    if (arg == "--weights" && i + 1 < argc) {
      weightKind = argv[i + 1];
      continue;
    }
    int64_t *target = arg == "--k"         ? &k
                      : arg == "--n"       ? &n
                      : arg == "--threads" ? &threads
                      : arg == "--calls"   ? &calls
                                           : nullptr;
    if (!target || i + 1 >= argc || !parseCount(argv[i + 1], *target)) {
      std::fprintf(stderr,
                   "anvil-chunk-timing: bad or incomplete option '%s' "
                   "(counts are positive integers; --help lists the options)\n",
                   argv[i]);
      return 2;
    }
  }
  const bool f32 = weightKind == "f32";
  anvil::MatmulQuantParams p{};
  if (!f32) {
    const bool int4 = weightKind == "int4-g128" || weightKind == "w4a8-g128";
    if (!int4 && weightKind != "int8" && weightKind != "w8a8") {
      std::fprintf(stderr,
                   "anvil-chunk-timing: unknown --weights '%s' (f32, int8, "
                   "int4-g128, w8a8 or w4a8-g128)\n",
                   weightKind.c_str());
      return 2;
    }
    // As anvilc passes a symmetric matmul: scales [n, groups].
    p.m = 1;
    p.n = n;
    p.k = k;
    p.bits = int4 ? 4 : 8;
    p.group = int4 ? 128 : k;
    p.k_stored = (k + 7) / 8 * 8;
    p.scale_n_stride = (k + p.group - 1) / p.group;
    p.scale_g_stride = 1;
    p.zero_offset = int4 ? 8 : 128;
    p.rhs_kn = false;
    p.quantize_lhs = weightKind[0] == 'w';
  }
  const size_t scaleCount = f32 ? 0 : size_t(n * p.scale_n_stride);
  const size_t packedBytes = f32 ? size_t(k * n) * sizeof(float)
                                 : size_t((n + anvil::cpu::quant::kPanel - 1) /
                                          anvil::cpu::quant::kPanel *
                                          anvil::cpu::quant::panel_bytes(p));

  anvil::bench::Host host{static_cast<int>(threads)};
  realHost = &host.api;
  anvil_host_api timedApi = host.api;
  timedApi.parallel_for = timedParallelFor;

  const size_t weightBytes = packedBytes + scaleCount * sizeof(float);
  const size_t llc = size_t(anvil::bench::cpuInfo().llcBytes);
  const size_t budget =
      std::min<size_t>(size_t(2) << 30, std::max<size_t>(2 * llc, 1 << 28));
  const size_t copies = std::max<size_t>(2, budget / weightBytes);
  std::fprintf(stderr, "filling %zu weight copies of %.1f MB...\n", copies,
               double(weightBytes) / 1e6);
  // fp32: the weights; quantized: random packed bytes (any byte is a valid
  // stored value) and positive scales.
  std::vector<std::vector<float>> weights(copies), scales(copies);
  std::vector<std::vector<uint8_t>> packed(f32 ? 0 : copies);
  anvil::bench::Xorshift64 rng{0x9e3779b97f4a7c15ull};
  for (size_t c = 0; c < copies; ++c) {
    if (f32) {
      weights[c].resize(size_t(k * n));
      for (float &v : weights[c])
        v = rng.unit();
      continue;
    }
    packed[c].resize(packedBytes);
    for (uint8_t &byte : packed[c])
      byte = uint8_t(rng.next() >> 56);
    scales[c].resize(scaleCount);
    for (float &v : scales[c])
      v = 0.01f + 0.001f * std::fabs(rng.unit());
  }
  std::vector<float> x(static_cast<size_t>(k)), out(static_cast<size_t>(n));
  for (float &v : x)
    v = rng.unit();

  anvil_invocation invocation{};
  anvil::cpu::RunScope scope(&timedApi, &invocation);
  std::vector<double> callUs, delayUs, gapUs;
  int64_t solo = 0;
  const int64_t warmup = std::max<int64_t>(1, calls / 10);
  for (int64_t c = 0; c < warmup + calls; ++c) {
    record = CallRecord();
    const double start = nowUs();
    const size_t w = size_t(c) % copies;
    const int rc =
        f32 ? anvil::cpu::matmul_panels<float>(scope.host(), 1, n, k, x.data(),
                                               weights[w].data(), out.data())
            : anvil::cpu::matmul_quant(scope.host(), p, x.data(),
                                       packed[w].data(), scales[w].data(),
                                       out.data());
    if (rc != 0) {
      std::fprintf(stderr, "anvil-chunk-timing: the GEMV failed\n");
      return 1;
    }
    const double stop = nowUs();
    if (c < warmup)
      continue;
    callUs.push_back(stop - start);
    if (threads < 2)
      continue;
    if (std::isinf(record.first[0]) || std::isinf(record.first[1])) {
      ++solo;
      continue;
    }
    delayUs.push_back(record.first[1] - record.first[0]);
    gapUs.push_back(std::fabs(record.last[1] - record.last[0]));
  }

  const double median = percentile(callUs, 0.5);
  std::printf("%s, k %lld, n %lld, %lld thread(s), %lld calls: call us "
              "median %.1f, mean %.1f, p90 %.1f (%.1f GB/s at the median)\n",
              weightKind.c_str(), (long long)k, (long long)n,
              (long long)threads, (long long)calls, median, mean(callUs),
              percentile(callUs, 0.9), double(weightBytes) / median / 1e3);
  if (threads >= 2)
    std::printf("worker start delay us median %.2f, p90 %.2f; finish gap us "
                "median %.1f, mean %.1f, p90 %.1f; calls where thread 0 or 1 "
                "took no chunk: %lld\n",
                percentile(delayUs, 0.5), percentile(delayUs, 0.9),
                percentile(gapUs, 0.5), mean(gapUs), percentile(gapUs, 0.9),
                (long long)solo);
  return 0;
}

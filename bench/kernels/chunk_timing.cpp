//===- chunk_timing.cpp - how a decode GEMV's threads share it ------------===//
//
// anvil-chunk-timing: calls the fp32 decode GEMV (matmul_panels, m = 1)
// back to back over cold weights on the runtime's ThreadPool and times
// every chunk it hands out, per call: when each thread started its first
// chunk and ended its last. It reports the call time, how long the first
// worker took to join (its start delay), how far apart the first two
// threads finished (the finish gap: the time one of them spun), and in how
// many calls a thread took no chunk at all. Session 37 found with it a
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
      "\n"
      "Calls the fp32 decode GEMV out[1, N] = x[1, K] x W[K, N] C times back\n"
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
  for (int i = 1; i < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    }
    int64_t *target = arg == "--k"         ? &k
                      : arg == "--n"       ? &n
                      : arg == "--threads" ? &threads
                      : arg == "--calls"   ? &calls
                                           : nullptr;
    if (!target || i + 1 >= argc || !parseCount(argv[i + 1], *target)) {
      std::fprintf(stderr,
                   "anvil-chunk-timing: bad or incomplete option '%s' "
                   "(counts are positive integers; --help lists them)\n",
                   argv[i]);
      return 2;
    }
  }

  anvil::bench::Host host{static_cast<int>(threads)};
  realHost = &host.api;
  anvil_host_api timedApi = host.api;
  timedApi.parallel_for = timedParallelFor;

  const size_t weightBytes = size_t(k * n) * sizeof(float);
  const size_t llc = size_t(anvil::bench::cpuInfo().llcBytes);
  const size_t budget =
      std::min<size_t>(size_t(2) << 30, std::max<size_t>(2 * llc, 1 << 28));
  const size_t copies = std::max<size_t>(2, budget / weightBytes);
  std::fprintf(stderr, "filling %zu weight copies of %.1f MB...\n", copies,
               double(weightBytes) / 1e6);
  std::vector<std::vector<float>> weights(copies);
  anvil::bench::Xorshift64 rng{0x9e3779b97f4a7c15ull};
  for (auto &w : weights) {
    w.resize(size_t(k * n));
    for (float &v : w)
      v = rng.unit();
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
    if (anvil::cpu::matmul_panels<float>(scope.host(), 1, n, k, x.data(),
                                         weights[size_t(c) % copies].data(),
                                         out.data()) != 0) {
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
  std::printf("k %lld, n %lld, %lld thread(s), %lld calls: call us median "
              "%.1f, mean %.1f, p90 %.1f (%.1f GB/s at the median)\n",
              (long long)k, (long long)n, (long long)threads, (long long)calls,
              median, mean(callUs), percentile(callUs, 0.9),
              double(weightBytes) / median / 1e3);
  if (threads >= 2)
    std::printf("worker start delay us median %.2f, p90 %.2f; finish gap us "
                "median %.1f, mean %.1f, p90 %.1f; calls where thread 0 or 1 "
                "took no chunk: %lld\n",
                percentile(delayUs, 0.5), percentile(delayUs, 0.9),
                percentile(gapUs, 0.5), mean(gapUs), percentile(gapUs, 0.9),
                (long long)solo);
  return 0;
}

//===- prefetch_hints.cpp - where each software prefetch hint puts a line -===//
//
// anvil-prefetch-hints (bench/README.md): the kernels' prefetches pick a
// locality hint (prefetcht0 for a line the next loads read, prefetcht1 for
// a block a later tile reads), and CPUs honour the hints differently (AMD
// documents T1/T2 filling L2 only from Zen 4 on). This measures it on the
// machine at hand: 64 lines at random places in an 8 MiB buffer are
// flushed, each asked for with one hint (or loaded, or left in memory),
// and after a wait a dependent chase through them is timed with rdtscp.
// The latency per load (TSC reference cycles) names the level the lines
// landed in: L1 about 4, L2 about 12-14, memory hundreds, on AMD Zen 3.
//
//   scripts/build.sh anvil-prefetch-hints
//   build/bin/anvil-prefetch-hints [--rounds N]
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>

namespace {

constexpr int kLines = 64;                // chased lines: 4 KiB of L1's 32+
constexpr size_t kSpan = size_t(8) << 20; // where they lie: beyond L2
constexpr uint64_t kSettleCycles = 30000; // prefetch to chase: ~10 us

void waitCycles(uint64_t cycles) {
  const uint64_t start = __rdtsc();
  while (__rdtsc() - start < cycles)
    _mm_pause();
}

enum class Placement { Memory, Loaded, LoadedThenEvicted, T0, T1, T2, Nta };

struct Case {
  Placement placement;
  const char *name;
};

const Case kCases[] = {
    {Placement::Memory, "flushed (memory)"},
    {Placement::Loaded, "loaded (L1)"},
    {Placement::LoadedThenEvicted, "loaded, then 40 KiB read (L2)"},
    {Placement::T0, "prefetcht0"},
    {Placement::T1, "prefetcht1"},
    {Placement::T2, "prefetcht2"},
    {Placement::Nta, "prefetchnta"},
};

/// Median, 10th and 90th percentile of `samples` (sorted in place).
struct Spread {
  double median, p10, p90;
};
Spread spreadOf(std::vector<double> &samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return {samples[n / 2], samples[n / 10], samples[n * 9 / 10]};
}

} // namespace

int main(int argc, char **argv) {
  int rounds = 400;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--rounds N]\n"
                   "Times a dependent chase through 64 lines placed by each "
                   "prefetch hint\n(median latency per load in TSC reference "
                   "cycles; default 400 rounds).\n",
                   argv[0]);
      return !std::strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (rounds < 10) {
    std::fprintf(stderr, "--rounds must be at least 10\n");
    return 2;
  }
  // Lines at random 4 KiB pages (distinct ones) and random offsets in
  // them: no stride for the hardware prefetchers to follow.
  std::vector<char> buffer(kSpan + 64);
  char *base = reinterpret_cast<char *>(
      (reinterpret_cast<uintptr_t>(buffer.data()) + 63) & ~uintptr_t(63));
  std::mt19937 rng(7);
  std::vector<size_t> pages(kSpan / 4096);
  for (size_t p = 0; p < pages.size(); ++p)
    pages[p] = p;
  std::shuffle(pages.begin(), pages.end(), rng);
  void **line[kLines];
  for (int i = 0; i < kLines; ++i)
    line[i] =
        reinterpret_cast<void **>(base + pages[i] * 4096 + (rng() % 64) * 64);
  for (int i = 0; i < kLines; ++i)
    *line[i] = line[(i + 1) % kLines];
  std::vector<char> evict(1 << 20, 1);

  std::printf("latency per load of a dependent chase through %d lines "
              "(TSC reference cycles, %d rounds)\n",
              kLines, rounds);
  for (const Case &c : kCases) {
    std::vector<double> perLoad(rounds);
    for (int r = 0; r < rounds; ++r) {
      for (void **l : line)
        _mm_clflush(l);
      _mm_mfence();
      waitCycles(5000);
      for (void **l : line) {
        const char *at = reinterpret_cast<const char *>(l);
        switch (c.placement) {
        case Placement::Memory:
          break;
        case Placement::Loaded:
        case Placement::LoadedThenEvicted:
          (void)*reinterpret_cast<const volatile char *>(at);
          break;
        case Placement::T0:
          _mm_prefetch(at, _MM_HINT_T0);
          break;
        case Placement::T1:
          _mm_prefetch(at, _MM_HINT_T1);
          break;
        case Placement::T2:
          _mm_prefetch(at, _MM_HINT_T2);
          break;
        case Placement::Nta:
          _mm_prefetch(at, _MM_HINT_NTA);
          break;
        }
      }
      waitCycles(kSettleCycles);
      if (c.placement == Placement::LoadedThenEvicted) {
        volatile char sink = 0;
        for (size_t j = 0; j < 40 * 1024; j += 64)
          sink = sink + evict[j];
      }
      _mm_mfence();
      _mm_lfence();
      unsigned aux;
      const uint64_t t0 = __rdtscp(&aux);
      void **p = line[0];
      for (int i = 0; i < kLines; ++i)
        p = reinterpret_cast<void **>(*p);
      const uint64_t t1 = __rdtscp(&aux);
      if (p != line[0]) {
        std::fprintf(stderr, "chase broken\n");
        return 1;
      }
      perLoad[r] = double(t1 - t0) / kLines;
    }
    const Spread s = spreadOf(perLoad);
    std::printf("%-30s %6.1f  (p10 %.1f, p90 %.1f)\n", c.name, s.median, s.p10,
                s.p90);
  }
  return 0;
}

#else
int main() {
  std::fprintf(stderr, "anvil-prefetch-hints: x86-64 only\n");
  return 1;
}
#endif

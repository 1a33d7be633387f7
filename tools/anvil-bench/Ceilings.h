//===- Ceilings.h - this machine's read bandwidth and arithmetic peaks ----===//
//
// What anvil-bench compares a model's speed against: the read bandwidth of
// memory (streaming reads over a buffer much larger than the last-level
// cache) and the peak rate of the CPU's multiply-add instructions (fp32 FMA
// with AVX-512 or AVX2, int8 vpdpbusd where the CPU has AVX512-VNNI), each
// measured with a given number of threads. The kernels are compiled with
// target attributes and chosen by __builtin_cpu_supports at run time, so
// the binary runs on any x86-64.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_BENCH_CEILINGS_H
#define ANVIL_TOOLS_ANVIL_BENCH_CEILINGS_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace anvil::bench {

/// Median, min and max of some measurements.
struct Spread {
  double median = 0, min = 0, max = 0;
  static Spread of(std::vector<double> values);
};

/// The CPU as the ceilings see it.
struct CpuInfo {
  std::string model;    // /proc/cpuinfo's model name, or ""
  std::string fmaIsa;   // "avx512f", "avx2+fma" or "scalar"
  bool vnni = false;    // AVX512-VNNI (vpdpbusd on zmm)
  int64_t llcBytes = 0; // the last-level cache, 0 if unknown
  unsigned hardwareThreads = 0;
  std::vector<std::string> features; // the x86 features anvil-bench checks
};
CpuInfo cpuInfo();

/// The ceilings measured with one thread count.
struct Ceilings {
  int threads = 0;
  size_t bandwidthBufferBytes = 0;
  Spread readGBs;              // GB/s (1e9 bytes), over the repetitions
  int readStreams = 0;         // streams per thread of the faster pattern
  bool readPrefetched = false; // whether it prefetches in software
  Spread fp32Gflops;           // GFLOP/s (an FMA is 2 FLOPs)
  Spread int8Gops; // GOP/s (a multiply-add is 2 ops); all 0 without VNNI
};

/// Measures the ceilings with `threads` threads, `reps` times each.
/// `bufferBytes` is the bandwidth buffer (0: 16x the last-level cache, at
/// least 512 MiB and at most 1 GiB). The read bandwidth is the faster of
/// two read patterns (16 streams per thread prefetched in software, 8
/// without), each tried once, then repeated `reps` times.
Ceilings measureCeilings(int threads, int reps, size_t bufferBytes);

/// The bandwidth buffer measureCeilings uses for `bufferBytes` = 0.
size_t defaultBandwidthBufferBytes();

} // namespace anvil::bench

#endif // ANVIL_TOOLS_ANVIL_BENCH_CEILINGS_H

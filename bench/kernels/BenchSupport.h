//===- BenchSupport.h - what the kernel microbenchmarks share -------------===//
//
// The host API the runtime hands generated code (over the runtime's own
// ThreadPool), and this machine's ceilings (read bandwidth, fp32 FMA peak;
// tools/anvil-bench/Ceilings.h) per thread count, measured once per run of
// anvil-kernel-bench so every roofline share in it is against the same
// numbers.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_BENCH_KERNELS_BENCH_SUPPORT_H
#define ANVIL_BENCH_KERNELS_BENCH_SUPPORT_H

#include "Ceilings.h"
#include "ThreadPool.h"
#include "device/CpuDevice.h"

#include "anvil/abi.h"

#include <cstdint>
#include <map>
#include <mutex>

namespace anvil::bench {

/// xorshift64 (Marsaglia 2003): hundreds of MB of benchmark inputs
/// quickly (std::uniform_real_distribution calls logl for every draw).
/// Not for statistics: only to fill weights, pools and activations.
struct Xorshift64 {
  uint64_t state; // any value but 0
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  /// A float in [-1, 1] (the top 32 bits as a signed fraction).
  float unit() { return float(int32_t(next() >> 32)) * (1.0f / 2147483648.0f); }
};

/// The host API over a ThreadPool of `threads` threads (the caller's
/// included): the runtime's own CpuDevice builds it, as the loader does
/// for generated code.
struct Host {
  explicit Host(int threads)
      : pool(unsigned(threads)), device(pool), api(*device.hostApi()) {}
  anvil::runtime::ThreadPool pool;
  anvil::runtime::CpuDevice device;
  const anvil_host_api &api;
};

/// The ceilings with `threads` threads, measured on first use (main
/// measures them before any benchmark runs).
inline const Ceilings &ceilings(int threads) {
  static std::mutex mutex;
  static std::map<int, Ceilings> measured;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = measured.find(threads);
  if (it == measured.end())
    it = measured.emplace(threads, measureCeilings(threads, 3, 0)).first;
  return it->second;
}

} // namespace anvil::bench

#endif // ANVIL_BENCH_KERNELS_BENCH_SUPPORT_H

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

#include <map>
#include <mutex>

namespace anvil::bench {

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

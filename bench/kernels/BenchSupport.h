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

#include "anvil/abi.h"

#include <map>
#include <mutex>

namespace anvil::bench {

/// The host API over a ThreadPool of `threads` threads (the caller's
/// included), as the loader builds it for generated code.
struct Host {
  explicit Host(int threads) : pool(unsigned(threads)) {
    api.struct_size = sizeof(anvil_host_api);
    api.abi_version = ANVIL_ABI_VERSION;
    api.host = &pool;
    api.num_threads = int32_t(pool.size());
    api.parallel_for = [](void *host, int64_t n, int64_t grain,
                          anvil_parallel_fn fn, void *arg) {
      static_cast<anvil::runtime::ThreadPool *>(host)->parallelFor(n, grain, fn,
                                                                   arg);
    };
    api.scratch = [](void *host, int thread, size_t bytes) {
      return static_cast<anvil::runtime::ThreadPool *>(host)->scratch(thread,
                                                                      bytes);
    };
  }
  anvil::runtime::ThreadPool pool;
  anvil_host_api api{};
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

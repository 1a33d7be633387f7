//===- ReversedHost.h - a host that runs parallel chunks out of order -----===//
//
// Kernels split work with parallel_for and must give the same result
// whatever thread runs which chunk, in whatever order. This host runs every
// item as its own chunk, last first, as thread 1: no real threads, so a
// test's result is deterministic, yet any order dependence shows.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TEST_UNIT_KERNELS_REVERSEDHOST_H
#define ANVIL_TEST_UNIT_KERNELS_REVERSEDHOST_H

#include "anvil_cpu_kernels.h"

namespace anvil_test {

inline anvil_host_api reversedHost() {
  anvil_host_api api{};
  api.struct_size = sizeof(api);
  api.num_threads = 2;
  api.parallel_for = [](void *, int64_t n, int64_t, anvil_parallel_fn fn,
                        void *arg) {
    for (int64_t i = n - 1; i >= 0; --i)
      fn(arg, i, i + 1, 1);
  };
  return api;
}

} // namespace anvil_test

#endif // ANVIL_TEST_UNIT_KERNELS_REVERSEDHOST_H

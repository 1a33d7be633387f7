//===- ChunkingHost.h - a host that runs parallel chunks of a set size ----===//
//
// Kernels must give the same bits whatever the chunking of a parallel
// loop. This host runs parallel_for in chunks of `chunk` items, last
// first, on one thread, with per-thread scratch memory as the runtime's
// pool gives it (one growing buffer).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TEST_UNIT_KERNELS_CHUNKINGHOST_H
#define ANVIL_TEST_UNIT_KERNELS_CHUNKINGHOST_H

#include "anvil_cpu_kernels.h"

#include <algorithm>
#include <vector>

namespace anvil_test {

/// Runs parallel_for in chunks of `chunk` items, last first.
struct ChunkingHost {
  anvil_host_api api{};
  int64_t chunk;
  std::vector<char> scratch;
  explicit ChunkingHost(int64_t chunk) : chunk(chunk) {
    api.struct_size = sizeof(api);
    api.host = this;
    api.num_threads = 1;
    api.scratch = [](void *self, int, size_t bytes) -> void * {
      auto &buffer = static_cast<ChunkingHost *>(self)->scratch;
      if (buffer.size() < bytes)
        buffer.resize(bytes);
      return buffer.data();
    };
    api.parallel_for = [](void *self, int64_t n, int64_t, anvil_parallel_fn fn,
                          void *arg) {
      int64_t size = static_cast<ChunkingHost *>(self)->chunk;
      for (int64_t c = (n + size - 1) / size - 1; c >= 0; --c)
        fn(arg, c * size, std::min(n, (c + 1) * size), 0);
    };
  }
};

} // namespace anvil_test

#endif // ANVIL_TEST_UNIT_KERNELS_CHUNKINGHOST_H

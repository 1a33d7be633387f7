//===- CpuDevice.cpp - the host CPU as a device ---------------------------===//

#include "device/CpuDevice.h"

#include "CodeLoader.h"
#include "Manifest.h"
#include "Status.h"
#include "ThreadPool.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

namespace anvil::runtime {
namespace {

/// A KV pool of at least this many bytes starts on a 2 MiB boundary and is
/// offered to the kernel for transparent huge pages (Linux, where THP is
/// "madvise" or "always"). Paged attention reads the pool a block at a time
/// in block-table order, from anywhere in it: with 4 KiB pages each block's
/// rows of a head are on pages of their own, a TLB miss per block and head.
/// On 2 MiB pages w8a8 16-sequence decode of the 250M benchmark decoder ran
/// about 2% faster (docs/performance.md, session 36's "Paged attention"
/// section). Rounding up costs under 2 MiB of address space; pages are
/// still faulted in on first touch. Arenas keep small pages: with them on huge
/// pages as well, neither batch-1 nor batch-16 decode measured faster.
constexpr size_t kHugePageBytes = size_t(2) << 20;

/// False when the environment sets ANVIL_HUGE_PAGES=0 (for measuring, or
/// where touching a 2 MiB page at a time costs too much memory).
bool hugePagesWanted() {
  static const bool wanted = [] {
    const char *value = std::getenv("ANVIL_HUGE_PAGES");
    return !(value && std::strcmp(value, "0") == 0);
  }();
  return wanted;
}

void poolParallelFor(void *host, int64_t n, int64_t grain, anvil_parallel_fn fn,
                     void *arg) {
  static_cast<ThreadPool *>(host)->parallelFor(n, grain, fn, arg);
}

void *poolScratch(void *host, int thread, size_t bytes) {
  return static_cast<ThreadPool *>(host)->scratch(thread, bytes);
}

/// Warnings and errors go to stderr; info and debug are dropped until the
/// instance takes a log callback.
void logToStderr(void *, anvil_log_level level, const char *message) {
  static const char *const names[] = {"error", "warning"};
  if (message && level >= ANVIL_LOG_ERROR && level <= ANVIL_LOG_WARNING)
    std::fprintf(stderr, "anvil: %s: %s\n", names[level], message);
}

} // namespace

CpuDevice::CpuDevice(ThreadPool &pool) {
  host.struct_size = sizeof(anvil_host_api);
  host.abi_version = ANVIL_ABI_VERSION;
  host.host = &pool;
  host.num_threads = static_cast<int32_t>(pool.size());
  host.parallel_for = poolParallelFor;
  host.scratch = poolScratch;
  host.log = logToStderr;
  host.device = nullptr;
}

anvil_status CpuDevice::checkManifest(const Manifest &manifest) const {
  for (const std::string &feature : manifest.cpuFeatures) {
    bool known;
    if (!cpuHasFeature(feature, known))
      return makeStatus(ANVIL_INCOMPATIBLE,
                        known
                            ? "the artifact needs the CPU feature '" + feature +
                                  "', which this CPU does not have; "
                                  "recompile with a lower --mcpu"
                            : "the artifact needs an unknown CPU feature '" +
                                  feature + "'");
  }
  return nullptr;
}

anvil_status CpuDevice::loadCode(const void *data, size_t size,
                                 std::unique_ptr<CodeObject> &out) {
  auto code = std::make_unique<LoadedCode>();
  std::string error;
  if (!code->load(data, size, error))
    return makeStatus(ANVIL_INVALID_ARTIFACT, error);
  out = std::move(code);
  return nullptr;
}

void *CpuDevice::allocate(size_t bytes, Use use) {
  // Rounding up to the alignment must not wrap to a tiny block (the
  // manifest's arena_bytes is bounded at load; this is the last guard).
  if (bytes > SIZE_MAX - 63)
    return nullptr;
  if (use == Use::KvPool && bytes >= kHugePageBytes && hugePagesWanted()) {
    if (bytes > SIZE_MAX - (kHugePageBytes - 1))
      return nullptr;
    const size_t rounded =
        (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    void *memory = std::aligned_alloc(kHugePageBytes, rounded);
#ifdef MADV_HUGEPAGE
    // Advice only: where THP is off ("never") or no huge page is free, the
    // kernel backs the range with small pages, as without the call.
    if (memory)
      madvise(memory, rounded, MADV_HUGEPAGE);
#endif
    return memory;
  }
  return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
}

void CpuDevice::release(void *memory) { std::free(memory); }

} // namespace anvil::runtime

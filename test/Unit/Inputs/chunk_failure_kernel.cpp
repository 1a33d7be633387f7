// Stands in for generated code built from backends/cpu/kernels/common.h:
// a reason recorded with anvil::cpu::fail() inside a worker's chunk must
// reach the run's status (ABI v2's error buffer, reached through the host
// pointer the entry's RunScope makes; under ABI v1 the reason travelled
// through a thread_local of the calling thread and was lost).
//
//   fail_on_worker() -> ran_by[1] (i64): 64 iterations; the one numbered 63
//   fails with "gather: index 63 is out of range" and stores the thread
//   number that ran it. The caller's chunks (thread 0) wait until 63 is done
//   (at most 2 s), so a worker runs it.
#include "common.h"

#include "anvil/anvil.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace {

int fail_on_worker(const anvil_host_api *host,
                   const anvil_invocation *invocation) {
  anvil::cpu::RunScope scope(host, invocation);
  host = scope.host();
  auto *ranBy = static_cast<int64_t *>(invocation->outputs[0]);
  std::atomic<bool> done{false};
  anvil::cpu::parallel_for(
      host, 64, 1, [&](int64_t begin, int64_t end, int thread) {
        bool has63 = begin <= 63 && 63 < end;
        if (thread == 0 && !has63) {
          auto until =
              std::chrono::steady_clock::now() + std::chrono::seconds(2);
          while (!done.load() && std::chrono::steady_clock::now() < until)
            std::this_thread::yield();
        }
        if (has63) {
          *ranBy = thread;
          anvil::cpu::fail(host, "gather: index 63 is out of range");
          done.store(true);
        }
      });
  return anvil::cpu::run_failed(host) ? 1 : 0;
}

// What fail_on_worker was compiled for: ran_by i64[1], no arena, and the
// 24-byte weights section StandInArtifact.h writes.
const int64_t kRanByDims[] = {1};
const anvil_code_tensor kOutputs[] = {{ANVIL_DTYPE_I64, 1, kRanByDims}};
const anvil_code_entry kEntries[] = {{"fail_on_worker", fail_on_worker, 0, 24,
                                      0, 0, 1, 0, nullptr, nullptr, kOutputs}};
const anvil_code_table kTable = {sizeof(anvil_code_table), ANVIL_ABI_VERSION, 1,
                                 kEntries, nullptr};

} // namespace

extern "C" __attribute__((visibility("default"))) const anvil_code_table *
anvil_get_code_table(void) {
  return &kTable;
}

//===- ThreadPool.h - the runtime's worker threads ---------------*- C++
//-*-===//
//
// Backs the host API's parallel_for: [0, n) is cut into one contiguous chunk
// per thread and the calling thread works on the first one. Calls from
// several application threads take turns; a call made from inside a chunk
// (nested parallelism) runs inline rather than deadlocking.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_THREADPOOL_H
#define ANVIL_RUNTIME_THREADPOOL_H

#include "anvil/abi.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace anvil::runtime {

class ThreadPool {
public:
  /// `threads` counts the caller; 0 means one per hardware thread.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  unsigned size() const { return static_cast<unsigned>(workers.size()) + 1; }
  void parallelFor(int64_t n, anvil_parallel_fn fn, void *arg);

private:
  void workerLoop(unsigned index);

  std::vector<std::thread> workers;
  std::mutex callMutex; // one parallelFor at a time
  std::mutex mutex;
  std::condition_variable wake, done;
  uint64_t generation = 0;
  unsigned pending = 0;
  bool stopping = false;
  // The current job.
  anvil_parallel_fn jobFn = nullptr;
  void *jobArg = nullptr;
  int64_t jobSize = 0;
};

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_THREADPOOL_H

//===- ThreadPool.cpp - the runtime's worker threads ----------------------===//

#include "ThreadPool.h"

#include <algorithm>

namespace anvil::runtime {
namespace {
thread_local bool insideChunk = false;

/// Chunk `index` of `parts` over [0, n).
void chunkBounds(int64_t n, unsigned parts, unsigned index, int64_t &begin,
                 int64_t &end) {
  int64_t base = n / parts, extra = n % parts;
  begin = index * base + std::min<int64_t>(index, extra);
  end = begin + base + (static_cast<int64_t>(index) < extra ? 1 : 0);
}
} // namespace

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 1; i < threads; ++i)
    workers.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

void ThreadPool::workerLoop(unsigned index) {
  uint64_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex);
    wake.wait(lock, [&] { return stopping || generation != seen; });
    if (stopping)
      return;
    seen = generation;
    anvil_parallel_fn fn = jobFn;
    void *arg = jobArg;
    int64_t n = jobSize;
    lock.unlock();
    int64_t begin, end;
    chunkBounds(n, size(), index, begin, end);
    if (begin < end) {
      insideChunk = true;
      fn(arg, begin, end);
      insideChunk = false;
    }
    lock.lock();
    if (--pending == 0)
      done.notify_one();
  }
}

void ThreadPool::parallelFor(int64_t n, anvil_parallel_fn fn, void *arg) {
  if (n <= 0)
    return;
  if (insideChunk || workers.empty() || n == 1) {
    fn(arg, 0, n);
    return;
  }
  std::lock_guard<std::mutex> call(callMutex);
  {
    std::lock_guard<std::mutex> lock(mutex);
    jobFn = fn;
    jobArg = arg;
    jobSize = n;
    pending = static_cast<unsigned>(workers.size());
    ++generation;
  }
  wake.notify_all();
  int64_t begin, end;
  chunkBounds(n, size(), 0, begin, end);
  insideChunk = true;
  fn(arg, begin, end);
  insideChunk = false;
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return pending == 0; });
}

} // namespace anvil::runtime

//===- ThreadPool.h - the runtime's worker threads ---------------*- C++
//-*-===//
//
// Backs the host API's parallel_for. A call posts a job; the caller and any
// idle worker take chunks of it from an atomic counter (dynamic, guided
// chunks, each a share of what is left: rows of uneven cost, as in causal
// attention, balance, and threads finish close together), each chunk at
// least `grain` iterations. Jobs from several application threads run at once,
// sharing the workers; nothing serializes them. Idle workers spin for a
// while (a decoder step issues many small loops back to back) and then
// park; a caller spins the same while for its job's last chunks before it
// sleeps. A call made from inside a chunk (nested parallelism) runs inline.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_THREADPOOL_H
#define ANVIL_RUNTIME_THREADPOOL_H

#include "anvil/abi.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace anvil::runtime {

class ThreadPool {
public:
  /// `threads` counts the caller; 0 means one per hardware thread. Throws
  /// std::system_error (resource_unavailable_try_again) naming the thread
  /// that could not be started when the system refuses one; the threads
  /// already started are stopped and joined first.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// Threads that run chunks, the caller included (>= 1).
  unsigned size() const { return static_cast<unsigned>(workers.size()) + 1; }

  /// Runs fn over [0, n) as abi.h's parallel_for describes: the caller is
  /// thread 0, workers are 1..size()-1. Thread-safe; returns when every
  /// chunk of this call is done.
  void parallelFor(int64_t n, int64_t grain, anvil_parallel_fn fn, void *arg);

  /// abi.h's scratch: memory private to the calling OS thread (which runs
  /// the chunks of thread number `thread`), grown on demand and kept until
  /// the thread exits. Null for a thread number outside [0, size()) or when
  /// out of memory.
  void *scratch(int thread, size_t bytes);

private:
  struct Job;
  void workerLoop(unsigned index);
  /// Tells every worker to exit and joins them (the destructor's work, also
  /// needed when the constructor fails half way).
  void stopWorkers();
  /// Takes and runs chunks of `job` as thread `thread` until none is left.
  void runChunks(Job &job, int thread);
  /// A posted job with chunks left, or null. Call with `mutex` held.
  Job *findWork();
  /// Wakes callers sleeping on `finished`, if any (a job's last chunk or
  /// last user is done).
  void notifyParkedCallers();

  std::vector<std::thread> workers;
  std::mutex mutex;                  // guards jobs, stopping
  std::condition_variable wake;      // parked workers wait here
  std::condition_variable finished;  // callers wait here for their job
  std::vector<Job *> jobs;           // posted jobs that may have chunks left
  std::atomic<uint64_t> posted{0};   // bumped per job; spinning workers watch
  std::atomic<int> parkedCallers{0}; // callers asleep on `finished`
  bool stopping = false;
};

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_THREADPOOL_H

//===- ThreadPool.cpp - the runtime's worker threads ----------------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <system_error>

namespace anvil::runtime {
namespace {

/// Set while this thread runs a chunk: a nested parallelFor runs inline.
thread_local bool insideChunk = false;
/// The thread number of the chunk this thread runs (0 outside chunks).
thread_local int chunkThread = 0;

/// How long an idle worker spins for a new job before it parks, and a
/// caller for its job's last chunks before it sleeps: long enough to span
/// the serial work between two loops of a decoder step and a chunk's
/// imbalance, short enough not to burn a shared core for long. Parking
/// costs a futex wake of several microseconds (tens in a VM) on the next
/// job: with a spin of 2000 pause rounds (26 us here) a 250M int4 decode
/// step made about 3 futex calls per parallel loop.
constexpr std::chrono::microseconds kSpinTime{250};

/// Pause rounds between two reads of the clock while spinning.
constexpr int kRoundsPerClockRead = 64;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

/// Per-OS-thread scratch (abi.h's scratch): a thread runs one chunk at a
/// time, so one buffer per thread is private to the chunk's thread number.
struct ScratchBuffer {
  void *data = nullptr;
  size_t size = 0;
  ~ScratchBuffer() { std::free(data); }
};
thread_local ScratchBuffer threadScratch;

/// Spins until done() or kSpinTime passes; returns done()'s last value.
template <class Done> bool spinUntil(Done done) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < kRoundsPerClockRead; ++i) {
      if (done())
        return true;
      cpuRelax();
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return done();
  }
}

} // namespace

struct ThreadPool::Job {
  anvil_parallel_fn fn;
  void *arg;
  int64_t n;
  int64_t grain;   // the smallest chunk (but the last)
  int64_t divisor; // a chunk is the rest's 1 / divisor, at least grain
  std::atomic<int64_t> next{0}; // first iteration not yet taken
  std::atomic<int64_t> done{0}; // iterations finished
  /// Workers holding this job: raised under `mutex` while the job is
  /// posted, lowered without it; a worker touches the job no more once
  /// its decrement is done (the job lives on its caller's stack).
  std::atomic<int> users{0};
  bool finished() const { return done.load() == n && users.load() == 0; }
};

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  try {
    workers.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i)
      workers.emplace_back([this, i] { workerLoop(i); });
  } catch (const std::system_error &e) {
    // The destructor does not run for a half-built object: stop and join
    // the workers already started here, or ~vector<thread> terminates.
    size_t started = workers.size() + 1; // the caller's thread counts
    stopWorkers();
    throw std::system_error(
        e.code(), "cannot start thread " + std::to_string(started + 1) +
                      " of the " + std::to_string(threads) +
                      " requested (the system refuses more threads; ask "
                      "for fewer)");
  } catch (...) {
    stopWorkers();
    throw;
  }
}

ThreadPool::~ThreadPool() { stopWorkers(); }

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
  workers.clear();
}

ThreadPool::Job *ThreadPool::findWork() {
  for (Job *job : jobs)
    if (job->next.load(std::memory_order_relaxed) < job->n)
      return job;
  return nullptr;
}

void ThreadPool::runChunks(Job &job, int thread) {
  bool wasInside = insideChunk;
  int wasThread = chunkThread;
  insideChunk = true;
  chunkThread = thread;
  for (;;) {
    // Guided self-scheduling (Polychronopoulos & Kuck, 1987): each chunk
    // is a share of what is left, so the first are large (few grabs) and
    // the last small (threads finish close together). The sequence of
    // chunk bounds depends only on n, grain and divisor, not on timing.
    int64_t begin = job.next.load(std::memory_order_relaxed), end;
    do {
      if (begin >= job.n)
        break;
      end = begin + std::max(job.grain, (job.n - begin) / job.divisor);
      end = std::min(end, job.n);
    } while (
        !job.next.compare_exchange_weak(begin, end, std::memory_order_relaxed));
    if (begin >= job.n)
      break;
    job.fn(job.arg, begin, end, thread);
    if (job.done.fetch_add(end - begin) + (end - begin) == job.n)
      notifyParkedCallers();
  }
  insideChunk = wasInside;
  chunkThread = wasThread;
}

void ThreadPool::workerLoop(unsigned index) {
  for (;;) {
    Job *job = nullptr;
    // The post count as of this search, read under the mutex that posting
    // holds: a job posted after the search changes it. Read after the
    // unlock, a post in between went unseen, and the worker spun for the
    // next one while the caller ran the whole loop alone (a 4 MiB decode
    // GEMV called back to back on two threads: one call in 11).
    uint64_t seen = 0;
    {
      std::unique_lock<std::mutex> lock(mutex);
      if (stopping)
        return;
      job = findWork();
      if (job)
        ++job->users;
      seen = posted.load(std::memory_order_relaxed);
    }
    if (job) {
      runChunks(*job, static_cast<int>(index));
      if (job->users.fetch_sub(1) == 1) // the job may be gone from here on
        notifyParkedCallers();
      continue;
    }
    if (spinUntil(
            [&] { return posted.load(std::memory_order_acquire) != seen; }))
      continue;
    std::unique_lock<std::mutex> lock(mutex);
    wake.wait(lock, [&] { return stopping || findWork(); });
  }
}

void ThreadPool::parallelFor(int64_t n, int64_t grain, anvil_parallel_fn fn,
                             void *arg) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  if (insideChunk || workers.empty() || n <= grain) {
    fn(arg, 0, n, insideChunk ? chunkThread : 0);
    return;
  }
  // Chunks of a 1 / (2 x threads) share of the rest, never below the
  // kernel's grain: uneven rows balance without an atomic per iteration,
  // and at the end a thread waits for at most about one grain. Fixed
  // chunks of n / (4 x threads) left a thread idle for up to one of them
  // (an eighth of a decode GEMV on two threads).
  Job job;
  job.fn = fn;
  job.arg = arg;
  job.n = n;
  job.grain = grain;
  job.divisor = 2 * static_cast<int64_t>(size());
  {
    std::lock_guard<std::mutex> lock(mutex);
    jobs.push_back(&job);
    posted.fetch_add(1, std::memory_order_release);
  }
  wake.notify_all();
  runChunks(job, 0);
  // Workers finish their last chunks soon after the caller runs out: spin
  // before sleeping on the condition variable. Once every iteration is
  // done no worker can take the job up again (findWork wants one left).
  spinUntil([&] { return job.finished(); });
  std::unique_lock<std::mutex> lock(mutex);
  jobs.erase(std::find(jobs.begin(), jobs.end(), &job));
  if (job.finished())
    return;
  // Workers read parkedCallers after their last decrement: either they see
  // this caller counted, or this caller's check below sees their update
  // (all sequentially consistent), so no wake-up is lost.
  parkedCallers.fetch_add(1);
  finished.wait(lock, [&] { return job.finished(); });
  parkedCallers.fetch_sub(1);
}

void ThreadPool::notifyParkedCallers() {
  if (parkedCallers.load() == 0)
    return;
  // Taking the lock orders this notify after a parked caller's check.
  std::lock_guard<std::mutex> lock(mutex);
  finished.notify_all();
}

void *ThreadPool::scratch(int thread, size_t bytes) {
  if (thread < 0 || static_cast<unsigned>(thread) >= size())
    return nullptr;
  ScratchBuffer &buffer = threadScratch;
  if (bytes <= buffer.size && buffer.data)
    return buffer.data;
  size_t rounded = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
  void *grown = std::aligned_alloc(64, rounded);
  if (!grown)
    return nullptr;
  std::free(buffer.data);
  buffer.data = grown;
  buffer.size = rounded;
  return grown;
}

} // namespace anvil::runtime

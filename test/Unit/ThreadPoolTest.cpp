//===- ThreadPoolTest.cpp - parallel_for: coverage, grain, threads --------===//

#include "../../runtime/src/ThreadPool.h"

#include "anvil/anvil.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using anvil::runtime::ThreadPool;

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(int64_t n) : hits(n) {}
};

void countChunk(void *arg, int64_t begin, int64_t end, int) {
  auto *counts = static_cast<Counts *>(arg);
  for (int64_t i = begin; i < end; ++i)
    counts->hits[i]++;
}

TEST(ThreadPool, EveryIndexExactlyOnce) {
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 7, 8, 9, 1000}) {
      for (int64_t grain : {0, 1, 3, 64}) {
        Counts counts(n);
        pool.parallelFor(n, grain, countChunk, &counts);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(counts.hits[i].load(), 1)
              << threads << " " << n << " " << grain << " " << i;
      }
    }
  }
}

/// Records each chunk: its size, its thread number, and which thread
/// numbers were inside a chunk at the same time.
struct ChunkLog {
  int64_t n = 0;
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> chunks; // begin, end
  std::vector<std::atomic<int>> busy;              // per thread number
  std::atomic<int> clashes{0}, badThread{0};
  explicit ChunkLog(unsigned threads) : busy(threads) {}
};

void logChunk(void *arg, int64_t begin, int64_t end, int thread) {
  auto *log = static_cast<ChunkLog *>(arg);
  if (thread < 0 || thread >= static_cast<int>(log->busy.size())) {
    ++log->badThread;
    return;
  }
  if (log->busy[thread]++ != 0)
    ++log->clashes; // two chunks of one call ran as the same thread
  std::this_thread::sleep_for(std::chrono::microseconds(100));
  --log->busy[thread];
  std::lock_guard<std::mutex> lock(log->mutex);
  log->chunks.push_back({begin, end});
}

TEST(ThreadPool, ChunksRespectGrainAndThreadNumbersAreExclusive) {
  ThreadPool pool(4);
  for (int64_t grain : {1, 5, 16}) {
    ChunkLog log(4);
    pool.parallelFor(100, grain, logChunk, &log);
    EXPECT_EQ(log.badThread.load(), 0);
    EXPECT_EQ(log.clashes.load(), 0);
    int64_t covered = 0;
    for (size_t i = 0; i < log.chunks.size(); ++i) {
      auto [begin, end] = log.chunks[i];
      covered += end - begin;
      // Only the last chunk (the one ending at n) may be shorter.
      if (end != 100)
        EXPECT_GE(end - begin, grain);
    }
    EXPECT_EQ(covered, 100);
  }
  // n <= grain: one chunk, on the caller, as thread 0.
  ChunkLog one(4);
  pool.parallelFor(10, 10, logChunk, &one);
  ASSERT_EQ(one.chunks.size(), 1u);
  EXPECT_EQ(one.chunks[0], std::make_pair(int64_t(0), int64_t(10)));
}

struct Nested {
  ThreadPool *pool;
  Counts *counts;
  std::atomic<int> wrongThread{0};
};

void innerChunk(void *arg, int64_t begin, int64_t end, int thread) {
  auto *expected = static_cast<std::pair<Counts *, int> *>(arg);
  countChunk(expected->first, begin, end, thread);
  if (thread != expected->second)
    expected->second = -1;
}

void nestedChunk(void *arg, int64_t begin, int64_t end, int thread) {
  auto *nested = static_cast<Nested *>(arg);
  for (int64_t i = begin; i < end; ++i) {
    // A parallel loop inside a chunk runs inline, as the same thread,
    // instead of deadlocking.
    Counts inner(4);
    std::pair<Counts *, int> expected{&inner, thread};
    nested->pool->parallelFor(4, 1, innerChunk, &expected);
    for (int k = 0; k < 4; ++k)
      EXPECT_EQ(inner.hits[k].load(), 1);
    if (expected.second != thread)
      ++nested->wrongThread;
    nested->counts->hits[i]++;
  }
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool pool(4);
  Counts counts(64);
  Nested nested{&pool, &counts};
  pool.parallelFor(64, 1, nestedChunk, &nested);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(counts.hits[i].load(), 1);
  EXPECT_EQ(nested.wrongThread.load(), 0);
}

TEST(ThreadPool, ConcurrentCallersAreEachCompleteAndExact) {
  ThreadPool pool(3);
  std::vector<Counts> perCaller;
  perCaller.reserve(4);
  for (int c = 0; c < 4; ++c)
    perCaller.emplace_back(500);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round)
        pool.parallelFor(500, 7, countChunk, &perCaller[c]);
    });
  for (std::thread &t : callers)
    t.join();
  for (auto &counts : perCaller)
    for (auto &hit : counts.hits)
      ASSERT_EQ(hit.load(), 50);
}

/// Aborts the test binary when the scope lasts past a minute: a lost
/// wake-up in the pool hangs, and lit sets no time limit.
class Watchdog {
public:
  explicit Watchdog(const char *name)
      : thread([this, name] {
          std::unique_lock<std::mutex> lock(mutex);
          if (!done.wait_for(lock, std::chrono::seconds(60),
                             [this] { return finished; })) {
            std::fprintf(stderr,
                         "%s: still running after 60 s (a lost "
                         "wake-up?)\n",
                         name);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      finished = true;
    }
    done.notify_all();
    thread.join();
  }

private:
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::thread thread;
};

/// A worker's chunk that outlasts the caller's spin (milliseconds against
/// the pool's sub-millisecond spin) makes the caller sleep; the worker's
/// last decrement must wake it, every time. A lost wake-up would hang: the
/// watchdog turns that into a failure. The caller's chunks wait (up to a
/// second) until a worker holds a chunk, so the worker is sure to take part.
struct SlowWorker {
  Counts counts{64};
  std::atomic<bool> workerStarted{false};
  std::atomic<int> workerChunks{0};
};

void slowOnWorkers(void *arg, int64_t begin, int64_t end, int thread) {
  auto *slow = static_cast<SlowWorker *>(arg);
  if (thread != 0) {
    slow->workerStarted = true;
    ++slow->workerChunks;
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  } else {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!slow->workerStarted && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  }
  countChunk(&slow->counts, begin, end, thread);
}

TEST(ThreadPool, CallerSleepingOnASlowWorkerIsWoken) {
  Watchdog watchdog("CallerSleepingOnASlowWorkerIsWoken");
  ThreadPool pool(2);
  for (int round = 0; round < 20; ++round) {
    SlowWorker slow;
    pool.parallelFor(64, 1, slowOnWorkers, &slow);
    EXPECT_GT(slow.workerChunks.load(), 0) << "round " << round;
    for (auto &hit : slow.counts.hits)
      ASSERT_EQ(hit.load(), 1) << "round " << round;
  }
}

/// Many tiny jobs back to back, with gaps of varying length between them
/// (some shorter than the workers' spin, some longer, so workers both
/// catch jobs spinning and are woken from parking): every job completes
/// exactly.
TEST(ThreadPool, TinyJobsWithGapsAllComplete) {
  Watchdog watchdog("TinyJobsWithGapsAllComplete");
  ThreadPool pool(3);
  for (int round = 0; round < 3000; ++round) {
    Counts counts(6);
    pool.parallelFor(6, 1, countChunk, &counts);
    for (auto &hit : counts.hits)
      ASSERT_EQ(hit.load(), 1) << "round " << round;
    if (round % 500 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    else if (round % 7 == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

/// Each chunk fills its thread's scratch with its own pattern, pauses, and
/// checks that the pattern survived: scratch shared between chunks running
/// at once would be overwritten.
struct ScratchCheck {
  ThreadPool *pool;
  std::atomic<int> nulls{0}, corrupted{0}, misaligned{0};
};

void scratchChunk(void *arg, int64_t begin, int64_t end, int thread) {
  auto *check = static_cast<ScratchCheck *>(arg);
  for (int64_t i = begin; i < end; ++i) {
    size_t bytes = 1000 + static_cast<size_t>(i) * 8;
    auto *p = static_cast<unsigned char *>(check->pool->scratch(thread, bytes));
    if (!p) {
      ++check->nulls;
      continue;
    }
    if (reinterpret_cast<uintptr_t>(p) % 64)
      ++check->misaligned;
    std::memset(p, static_cast<int>(i & 0xff), bytes);
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    for (size_t k = 0; k < bytes; ++k)
      if (p[k] != static_cast<unsigned char>(i & 0xff)) {
        ++check->corrupted;
        break;
      }
  }
}

TEST(ThreadPool, ScratchIsPrivateToItsThread) {
  ThreadPool pool(4);
  ScratchCheck check{&pool};
  std::vector<std::thread> callers;
  for (int c = 0; c < 2; ++c)
    callers.emplace_back(
        [&] { pool.parallelFor(200, 1, scratchChunk, &check); });
  for (std::thread &t : callers)
    t.join();
  EXPECT_EQ(check.nulls.load(), 0);
  EXPECT_EQ(check.corrupted.load(), 0);
  EXPECT_EQ(check.misaligned.load(), 0);
  EXPECT_EQ(pool.scratch(4, 16), nullptr); // no thread number 4
  EXPECT_EQ(pool.scratch(-1, 16), nullptr);
}

// When the system refuses a thread half way through building a pool, the
// threads already started are stopped and joined, and the C API returns
// ANVIL_RESOURCE_EXHAUSTED naming the count (it used to terminate or hang
// in ~vector<thread>). Runs in a forked child whose address space is
// limited (RLIMIT_AS: each thread's stack is a mapping, and unlike
// RLIMIT_NPROC the limit holds for root too); alarm() bounds a hang.
TEST(ThreadPool, RefusedThreadGivesResourceExhaustedNotAHang) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan reserves more address space than the limit allows";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "ASan reserves more address space than the limit allows";
#endif
#endif
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(30);
    // The current size plus 512 MiB: room for a few dozen 8 MiB stacks,
    // not for 1000.
    unsigned long pages = 0;
    FILE *statm = std::fopen("/proc/self/statm", "r");
    if (!statm || std::fscanf(statm, "%lu", &pages) != 1)
      _exit(3);
    std::fclose(statm);
    rlim_t limit = pages * sysconf(_SC_PAGESIZE) + (rlim_t(512) << 20);
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
      _exit(3);
    // (Through the C API: this test is built without exceptions.)
    anvil_instance_options options{sizeof options, 1000};
    anvil_instance *instance = nullptr;
    anvil_status status = anvil_instance_create(&options, &instance);
    if (!status)
      _exit(4); // every thread started: the limit did not bite
    bool ok = anvil_status_get_code(status) == ANVIL_RESOURCE_EXHAUSTED &&
              std::strstr(anvil_status_get_message(status),
                          "of the 1000 requested") != nullptr &&
              instance == nullptr;
    anvil_status_free(status);
    _exit(ok ? 0 : 5);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus))
      << "the child died of signal "
      << (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0)
      << " (SIGALRM: it hung; SIGABRT: std::terminate)";
  EXPECT_EQ(WEXITSTATUS(wstatus), 0)
      << "3: setup failed, 4: no thread was refused, 5: wrong status code "
         "or message";
}

// A thread count above ANVIL_MAX_THREADS is refused up front, by the
// instance and by a model's implicit instance, before any thread starts.
TEST(ThreadPool, ThreadCountAboveTheLimitIsRefused) {
  anvil_instance_options options{sizeof options, ANVIL_MAX_THREADS + 1};
  anvil_instance *instance = nullptr;
  anvil_status status = anvil_instance_create(&options, &instance);
  EXPECT_EQ(anvil_status_get_code(status), ANVIL_INVALID_ARGUMENT);
  EXPECT_STREQ(anvil_status_get_message(status),
               "num_threads 1025 is above the limit of 1024");
  EXPECT_EQ(instance, nullptr);
  anvil_status_free(status);

  anvil_model_options modelOptions{};
  modelOptions.num_threads = 1 << 30;
  anvil_model *model = nullptr;
  const char bytes[] = "not an artifact";
  status = anvil_model_open_memory(bytes, sizeof bytes, &modelOptions, &model);
  EXPECT_EQ(anvil_status_get_code(status), ANVIL_INVALID_ARGUMENT);
  EXPECT_STREQ(anvil_status_get_message(status),
               "num_threads 1073741824 is above the limit of 1024");
  EXPECT_EQ(model, nullptr);
  anvil_status_free(status);
}

} // namespace

//===- ThreadPoolTest.cpp - parallel_for covers every index once ----------===//

#include "../../runtime/src/ThreadPool.h"

#include <atomic>
#include <gtest/gtest.h>
#include <thread>
#include <vector>

using anvil::runtime::ThreadPool;

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(int64_t n) : hits(n) {}
};

void countChunk(void *arg, int64_t begin, int64_t end) {
  auto *counts = static_cast<Counts *>(arg);
  for (int64_t i = begin; i < end; ++i)
    counts->hits[i]++;
}

TEST(ThreadPool, EveryIndexExactlyOnce) {
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 7, 8, 9, 1000}) {
      Counts counts(n);
      pool.parallelFor(n, countChunk, &counts);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(counts.hits[i].load(), 1) << threads << " " << n << " " << i;
    }
  }
}

struct Nested {
  ThreadPool *pool;
  Counts *counts;
};

void nestedChunk(void *arg, int64_t begin, int64_t end) {
  auto *nested = static_cast<Nested *>(arg);
  for (int64_t i = begin; i < end; ++i) {
    // A parallel loop inside a chunk runs inline instead of deadlocking.
    Counts inner(4);
    nested->pool->parallelFor(4, countChunk, &inner);
    for (int k = 0; k < 4; ++k)
      EXPECT_EQ(inner.hits[k].load(), 1);
    nested->counts->hits[i]++;
  }
}

TEST(ThreadPool, NestedCallsRunInline) {
  ThreadPool pool(4);
  Counts counts(64);
  Nested nested{&pool, &counts};
  pool.parallelFor(64, nestedChunk, &nested);
  for (int64_t i = 0; i < 64; ++i)
    EXPECT_EQ(counts.hits[i].load(), 1);
}

TEST(ThreadPool, ConcurrentCallersTakeTurns) {
  ThreadPool pool(3);
  std::vector<Counts> perCaller;
  perCaller.reserve(4);
  for (int c = 0; c < 4; ++c)
    perCaller.emplace_back(500);
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round)
        pool.parallelFor(500, countChunk, &perCaller[c]);
    });
  for (std::thread &t : callers)
    t.join();
  for (auto &counts : perCaller)
    for (auto &hit : counts.hits)
      ASSERT_EQ(hit.load(), 50);
}

} // namespace

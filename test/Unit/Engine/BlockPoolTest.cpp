//===- BlockPoolTest.cpp - free list, refcounts, prefix cache, LRU --------===//

#include "runtime/engine/BlockPool.h"
#include "runtime/engine/KvCacheManager.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace anvil::engine;

namespace {

std::vector<int64_t> range(int64_t from, int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), from);
  return out;
}

TEST(BlockPool, AllocatesAllOrNothing) {
  BlockPool pool(8, 4);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(5, got));
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(pool.numFree(), 3);
  EXPECT_EQ(pool.numUsed(), 5);
  for (int32_t b : got)
    EXPECT_EQ(pool.refCount(b), 1);
  EXPECT_FALSE(pool.allocate(4, got));
  EXPECT_EQ(got.size(), 5u) << "a failed allocation takes nothing";
  EXPECT_EQ(pool.numFree(), 3);
  ASSERT_TRUE(pool.allocate(3, got));
  EXPECT_EQ(pool.numFree(), 0);
  std::vector<int32_t> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end())
      << "no block handed out twice";
  for (int32_t b : got)
    EXPECT_TRUE(pool.release(b));
  EXPECT_EQ(pool.numFree(), 8);
}

TEST(BlockPool, RefusesDoubleFree) {
  BlockPool pool(4, 4);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(1, got));
  pool.addRef(got[0]);
  EXPECT_EQ(pool.refCount(got[0]), 2);
  EXPECT_TRUE(pool.release(got[0]));
  EXPECT_EQ(pool.numFree(), 3) << "still referenced once";
  EXPECT_TRUE(pool.release(got[0]));
  EXPECT_EQ(pool.numFree(), 4);
  EXPECT_FALSE(pool.release(got[0])) << "a double free is refused";
  EXPECT_FALSE(pool.release(-1));
  EXPECT_FALSE(pool.release(4));
  EXPECT_EQ(pool.numFree(), 4);
  // The refused free did not put the block on a free list twice.
  std::vector<int32_t> all;
  ASSERT_TRUE(pool.allocate(4, all));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(BlockPool, HashChainsThePrefix) {
  std::vector<int64_t> a = range(0, 4);
  BlockHash first = BlockPool::hashBlock({}, a.data(), 4);
  BlockHash again = BlockPool::hashBlock({}, a.data(), 4);
  EXPECT_EQ(first, again);
  BlockHash chained = BlockPool::hashBlock(first, a.data(), 4);
  EXPECT_NE(first, chained) << "same tokens after another prefix";
  std::vector<int64_t> b = a;
  b[3] = 99;
  EXPECT_NE(first, BlockPool::hashBlock({}, b.data(), 4));
}

TEST(BlockPool, CachesHitsAndComparesTokens) {
  BlockPool pool(4, 4);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(1, got));
  std::vector<int64_t> tokens = range(10, 4);
  BlockHash hash = BlockPool::hashBlock({}, tokens.data(), 4);
  EXPECT_EQ(pool.lookup(hash, tokens.data()), -1);
  EXPECT_TRUE(pool.cache(got[0], hash, tokens.data()));
  EXPECT_EQ(pool.lookup(hash, tokens.data()), got[0]);
  EXPECT_EQ(pool.numCached(), 1);
  // A (forced) collision: same hash, other tokens, is a miss.
  std::vector<int64_t> other = range(50, 4);
  EXPECT_EQ(pool.lookup(hash, other.data()), -1);
  // A second block with the same contents is not cached twice.
  std::vector<int32_t> second;
  ASSERT_TRUE(pool.allocate(1, second));
  EXPECT_FALSE(pool.cache(second[0], hash, tokens.data()));
  EXPECT_FALSE(pool.isCached(second[0]));
  EXPECT_EQ(pool.lookup(hash, tokens.data()), got[0]);
  // Released, it stays cached and evictable; a hit takes it back.
  EXPECT_TRUE(pool.release(got[0]));
  EXPECT_EQ(pool.refCount(got[0]), 0);
  EXPECT_EQ(pool.numFree(), 3);
  EXPECT_EQ(pool.lookup(hash, tokens.data()), got[0]);
  pool.addRef(got[0]);
  EXPECT_EQ(pool.numFree(), 2);
  EXPECT_TRUE(pool.evictionOrder().empty());
}

TEST(BlockPool, EvictsLeastRecentlyReleasedAfterPlainFree) {
  BlockPool pool(5, 2);
  std::vector<int32_t> got;
  ASSERT_TRUE(pool.allocate(4, got));
  std::vector<BlockHash> hashes;
  for (int i = 0; i < 4; ++i) {
    std::vector<int64_t> tokens = range(2 * i, 2);
    hashes.push_back(BlockPool::hashBlock({}, tokens.data(), 2));
    ASSERT_TRUE(pool.cache(got[i], hashes.back(), tokens.data()));
  }
  // Released in the order 2, 0, 3, 1: the eviction order.
  for (int i : {2, 0, 3, 1})
    ASSERT_TRUE(pool.release(got[i]));
  EXPECT_EQ(pool.evictionOrder(),
            (std::vector<int32_t>{got[2], got[0], got[3], got[1]}));
  EXPECT_EQ(pool.numFree(), 5);
  // A hit on block 0 takes it off the list.
  std::vector<int64_t> zero = range(0, 2);
  ASSERT_EQ(pool.lookup(hashes[0], zero.data()), got[0]);
  pool.addRef(got[0]);
  EXPECT_EQ(pool.evictionOrder(),
            (std::vector<int32_t>{got[2], got[3], got[1]}));
  // The never-cached block goes first, then the LRU head is evicted.
  std::vector<int32_t> fresh;
  ASSERT_TRUE(pool.allocate(1, fresh));
  EXPECT_EQ(pool.numCached(), 4) << "a plain free block, no eviction";
  ASSERT_TRUE(pool.allocate(1, fresh));
  EXPECT_EQ(fresh[1], got[2]);
  EXPECT_FALSE(pool.isCached(got[2]));
  std::vector<int64_t> two = range(4, 2);
  EXPECT_EQ(pool.lookup(hashes[2], two.data()), -1) << "evicted";
  EXPECT_EQ(pool.numCached(), 3);
  EXPECT_EQ(pool.evictionOrder(), (std::vector<int32_t>{got[3], got[1]}));
}

Request makeRequest(std::vector<int64_t> tokens) {
  Request request;
  request.promptLen = tokens.size();
  request.tokens = std::move(tokens);
  return request;
}

TEST(KvCacheManager, HitsFullBlocksButNeverTheLastToken) {
  KvCacheManager kv(16, 4);
  Request first = makeRequest(range(0, 8)); // two full blocks
  std::vector<int32_t> hits;
  EXPECT_EQ(kv.findCachedPrefix(first, hits), 0);
  ASSERT_TRUE(kv.allocateSlots(first, 8, hits));
  EXPECT_EQ(first.blocks.size(), 2u);
  first.numComputed = 8;
  kv.cacheComputedBlocks(first);
  EXPECT_EQ(kv.pool().numCached(), 2);

  // The same 8 tokens: only the first block hits, the last token's block is
  // computed again (for its logits), in a block of its own.
  Request same = makeRequest(range(0, 8));
  hits.clear();
  EXPECT_EQ(kv.findCachedPrefix(same, hits), 4);
  ASSERT_TRUE(kv.allocateSlots(same, 4, hits));
  EXPECT_EQ(same.numComputed, 4);
  EXPECT_EQ(same.blocks[0], first.blocks[0]);
  EXPECT_NE(same.blocks[1], first.blocks[1]);
  EXPECT_EQ(kv.pool().refCount(first.blocks[0]), 2);
  for (int64_t p = 4; p < 8; ++p)
    EXPECT_TRUE(kv.ownsSlot(same, p)) << "writes only into its own block";
  EXPECT_FALSE(kv.ownsSlot(same, 0)) << "the shared block is not written";

  // Nine tokens: both blocks hit, the ninth is computed.
  Request longer = makeRequest(range(0, 9));
  hits.clear();
  EXPECT_EQ(kv.findCachedPrefix(longer, hits), 8);
  ASSERT_TRUE(kv.allocateSlots(longer, 1, hits));
  EXPECT_EQ(longer.blocks.size(), 3u);
  EXPECT_TRUE(kv.ownsSlot(longer, 8));

  EXPECT_TRUE(kv.freeBlocks(first));
  EXPECT_TRUE(kv.freeBlocks(same));
  EXPECT_TRUE(kv.freeBlocks(longer));
  EXPECT_EQ(kv.pool().numFree(), 16);
  EXPECT_EQ(kv.pool().numCached(), 2) << "first's two blocks, evictable";
}

TEST(KvCacheManager, FailedAllocationChangesNothing) {
  KvCacheManager kv(3, 4);
  Request big = makeRequest(range(0, 13));
  std::vector<int32_t> hits;
  EXPECT_FALSE(kv.allocateSlots(big, 13, hits));
  EXPECT_TRUE(big.blocks.empty());
  EXPECT_EQ(kv.pool().numFree(), 3);
  ASSERT_TRUE(kv.allocateSlots(big, 12, hits));
  EXPECT_EQ(kv.pool().numFree(), 0);
  big.numComputed = 12;
  EXPECT_FALSE(kv.allocateSlots(big, 1, hits));
  EXPECT_EQ(big.numComputed, 12);
  EXPECT_EQ(big.blocks.size(), 3u);
  EXPECT_EQ(kv.slot(big, 5), big.blocks[1] * 4 + 1);
}

TEST(KvCacheManager, EvictableHitsCountAgainstTheFreeBlocks) {
  KvCacheManager kv(3, 2);
  Request first = makeRequest(range(0, 5));
  std::vector<int32_t> hits;
  ASSERT_TRUE(kv.allocateSlots(first, 5, hits));
  first.numComputed = 5;
  kv.cacheComputedBlocks(first);
  ASSERT_TRUE(kv.freeBlocks(first));
  EXPECT_EQ(kv.pool().numCached(), 2);
  // Hits on both cached blocks plus one new block: exactly the pool.
  Request again = makeRequest(range(0, 6));
  EXPECT_EQ(kv.findCachedPrefix(again, hits), 4);
  ASSERT_TRUE(kv.allocateSlots(again, 2, hits));
  EXPECT_EQ(kv.pool().numFree(), 0);
  EXPECT_EQ(again.numComputed, 4);
  EXPECT_EQ(kv.pool().numCached(), 2) << "the hits were not evicted";
}

} // namespace

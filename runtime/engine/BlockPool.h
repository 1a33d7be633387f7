//===- BlockPool.h - KV blocks, refcounts, prefix cache ---------*- C++ -*-===//
//
// The KV pool's bookkeeping (vLLM v1's BlockPool): which blocks are free,
// how many requests reference each, and a map from the hash of a full
// block's tokens and its prefix to the block that holds their K/V.
//
// A block with no references is either plain free (no cached contents) or
// evictable (it still holds a cached full block that a later request may
// hit). Allocation takes plain free blocks first and then evicts the least
// recently released cached block. Only full blocks are ever cached, and a
// request only writes past its last full block, so a block that two
// requests share is never written: no copy-on-write is needed
// (KvCacheManager checks that invariant).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_BLOCKPOOL_H
#define ANVIL_RUNTIME_ENGINE_BLOCKPOOL_H

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace anvil::engine {

/// XXH3-128 of a full block's tokens chained with its prefix's hash.
struct BlockHash {
  uint64_t low = 0, high = 0;
  bool operator==(const BlockHash &other) const {
    return low == other.low && high == other.high;
  }
  bool operator!=(const BlockHash &other) const { return !(*this == other); }
};

class BlockPool {
public:
  BlockPool(int32_t numBlocks, int32_t blockSize);

  /// The hash of a full block of `blockSize` tokens whose prefix (the
  /// blocks before it) hashes to `parent` (a default BlockHash for the
  /// first block).
  static BlockHash hashBlock(const BlockHash &parent, const int64_t *tokens,
                             int32_t blockSize);

  int32_t numBlocks() const { return static_cast<int32_t>(refCounts.size()); }
  int32_t blockSize() const { return size; }
  /// Blocks an allocation may take: plain free plus evictable cached ones.
  int32_t numFree() const { return numFreeBlocks; }
  int32_t numUsed() const { return numBlocks() - numFree(); }
  /// Blocks whose contents are in the prefix cache (referenced or not).
  int32_t numCached() const {
    return static_cast<int32_t>(cachedByHash.size());
  }
  int32_t refCount(int32_t block) const { return refCounts[block]; }
  bool isCached(int32_t block) const { return cachedFlags[block] != 0; }

  /// Appends `n` blocks, each with one reference, to `out`; takes plain
  /// free blocks first, then evicts the least recently released cached
  /// blocks. False (and no change) when fewer than `n` are free.
  bool allocate(int32_t n, std::vector<int32_t> &out);
  /// Adds a reference to `block` (a prefix-cache hit); an evictable block
  /// leaves the eviction list.
  void addRef(int32_t block);
  /// Drops a reference. At zero a cached block becomes evictable (the most
  /// recently released, so the last evicted) and any other block is free.
  /// False, changing nothing, for a block with no references (a double
  /// free: the caller's bug).
  bool release(int32_t block);

  /// The cached block holding `tokens` under `hash`, or -1. Compares the
  /// tokens too, so a hash collision is a miss, never a wrong hit.
  int32_t lookup(const BlockHash &hash, const int64_t *tokens) const;
  /// Records that referenced, full `block` holds `tokens` under `hash`.
  /// If another block already holds that hash, the cache keeps that one
  /// and `block` stays uncached (two requests computed the same prefix at
  /// once); returns whether `block` was cached.
  bool cache(int32_t block, const BlockHash &hash, const int64_t *tokens);

  /// The evictable blocks, least recently released first (for tests).
  std::vector<int32_t> evictionOrder() const;

private:
  struct HashOf {
    size_t operator()(const BlockHash &hash) const {
      return static_cast<size_t>(hash.low);
    }
  };
  void unlinkEvictable(int32_t block);
  void evict(int32_t block);

  int32_t size;
  std::vector<int32_t> refCounts;
  std::vector<uint8_t> cachedFlags;
  std::vector<BlockHash> hashes;
  /// blockSize tokens per block, compared on lookup.
  std::vector<int64_t> tokensOf;
  /// Plain free blocks, taken from the back.
  std::vector<int32_t> freeBlocks;
  /// The eviction list: a doubly linked list through prev/next (-1 ends).
  std::vector<int32_t> prev, next;
  int32_t evictHead = -1, evictTail = -1;
  int32_t numFreeBlocks = 0;
  std::unordered_map<BlockHash, int32_t, HashOf> cachedByHash;
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_BLOCKPOOL_H

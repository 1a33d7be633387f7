//===- BlockPool.cpp - KV blocks: free list, refcounts, prefix cache ------===//

#include "runtime/engine/BlockPool.h"

// The state type, to keep the hash state on the stack.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cstring>

namespace anvil::engine {

BlockPool::BlockPool(int32_t numBlocks, int32_t blockSize)
    : size(blockSize), refCounts(numBlocks, 0), cachedFlags(numBlocks, 0),
      hashes(numBlocks),
      tokensOf(static_cast<size_t>(numBlocks) * static_cast<size_t>(blockSize)),
      prev(numBlocks, -1), next(numBlocks, -1), numFreeBlocks(numBlocks) {
  freeBlocks.reserve(numBlocks);
  // Taken from the back: block 0 first.
  for (int32_t b = numBlocks - 1; b >= 0; --b)
    freeBlocks.push_back(b);
  cachedByHash.reserve(static_cast<size_t>(numBlocks));
}

BlockHash BlockPool::hashBlock(const BlockHash &parent, const int64_t *tokens,
                               int32_t blockSize) {
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  XXH3_128bits_update(&state, &parent.low, sizeof parent.low);
  XXH3_128bits_update(&state, &parent.high, sizeof parent.high);
  XXH3_128bits_update(&state, tokens,
                      sizeof(int64_t) * static_cast<size_t>(blockSize));
  XXH128_hash_t hash = XXH3_128bits_digest(&state);
  return BlockHash{hash.low64, hash.high64};
}

bool BlockPool::allocate(int32_t n, std::vector<int32_t> &out) {
  if (n < 0 || n > numFreeBlocks)
    return false;
  for (int32_t i = 0; i < n; ++i) {
    int32_t block;
    if (!freeBlocks.empty()) {
      block = freeBlocks.back();
      freeBlocks.pop_back();
    } else {
      block = evictHead;
      assert(block >= 0 && "free count and lists disagree");
      unlinkEvictable(block);
      evict(block);
    }
    refCounts[block] = 1;
    --numFreeBlocks;
    out.push_back(block);
  }
  return true;
}

void BlockPool::addRef(int32_t block) {
  if (refCounts[block] == 0) {
    // Only cached blocks are found by lookup while unreferenced.
    assert(cachedFlags[block] && "a hit on a free block");
    unlinkEvictable(block);
    --numFreeBlocks;
  }
  ++refCounts[block];
}

bool BlockPool::release(int32_t block) {
  if (block < 0 || block >= numBlocks() || refCounts[block] == 0)
    return false;
  if (--refCounts[block] > 0)
    return true;
  ++numFreeBlocks;
  if (!cachedFlags[block]) {
    freeBlocks.push_back(block);
    return true;
  }
  // The most recently released goes to the tail: evicted last.
  prev[block] = evictTail;
  next[block] = -1;
  if (evictTail >= 0)
    next[evictTail] = block;
  else
    evictHead = block;
  evictTail = block;
  return true;
}

int32_t BlockPool::lookup(const BlockHash &hash, const int64_t *tokens) const {
  auto it = cachedByHash.find(hash);
  if (it == cachedByHash.end())
    return -1;
  const int64_t *held = &tokensOf[static_cast<size_t>(it->second) * size];
  if (std::memcmp(held, tokens, sizeof(int64_t) * size) != 0)
    return -1;
  return it->second;
}

bool BlockPool::cache(int32_t block, const BlockHash &hash,
                      const int64_t *tokens) {
  assert(refCounts[block] > 0 && "caching a free block");
  if (cachedFlags[block])
    return hashes[block] == hash;
  if (!cachedByHash.emplace(hash, block).second)
    return false;
  cachedFlags[block] = 1;
  hashes[block] = hash;
  std::copy(tokens, tokens + size,
            &tokensOf[static_cast<size_t>(block) * size]);
  return true;
}

std::vector<int32_t> BlockPool::evictionOrder() const {
  std::vector<int32_t> order;
  for (int32_t b = evictHead; b >= 0; b = next[b])
    order.push_back(b);
  return order;
}

void BlockPool::unlinkEvictable(int32_t block) {
  if (prev[block] >= 0)
    next[prev[block]] = next[block];
  else
    evictHead = next[block];
  if (next[block] >= 0)
    prev[next[block]] = prev[block];
  else
    evictTail = prev[block];
  prev[block] = next[block] = -1;
}

void BlockPool::evict(int32_t block) {
  cachedByHash.erase(hashes[block]);
  cachedFlags[block] = 0;
  hashes[block] = BlockHash{};
}

} // namespace anvil::engine

//===- KvCacheManager.h - a request's blocks and prefix hits ----*- C++ -*-===//
//
// vLLM v1's KVCacheManager over BlockPool: finds the longest cached prefix
// of a request's tokens, gives a request the blocks its next tokens need,
// adds its newly full blocks to the prefix cache, and frees its blocks.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_KVCACHEMANAGER_H
#define ANVIL_RUNTIME_ENGINE_KVCACHEMANAGER_H

#include "runtime/engine/BlockPool.h"
#include "runtime/engine/Request.h"

#include <cstdint>
#include <vector>

namespace anvil::engine {

class KvCacheManager {
public:
  KvCacheManager(int32_t numBlocks, int32_t blockSize,
                 bool enablePrefixCaching = true);

  BlockPool &pool() { return blocks; }
  const BlockPool &pool() const { return blocks; }
  int32_t blockSize() const { return blocks.blockSize(); }

  /// The cached blocks that hold the longest prefix of `request`'s tokens
  /// (which has no blocks yet), appended to `hits` without taking a
  /// reference; returns how many tokens they hold. The hit stops before the
  /// last token: that one is always computed, for its logits.
  int64_t findCachedPrefix(Request &request, std::vector<int32_t> &hits);

  /// Gives `request` the blocks for `numNew` more tokens after its computed
  /// ones. With `hits` (from findCachedPrefix, for a request with no blocks)
  /// the request first takes those and counts their tokens as computed.
  /// False, changing nothing, when the pool has too few free blocks.
  bool allocateSlots(Request &request, int64_t numNew,
                     const std::vector<int32_t> &hits);

  /// Adds `request`'s computed full blocks that are not yet cached.
  void cacheComputedBlocks(Request &request);

  /// Frees all of `request`'s blocks, its last block first (so the tail of
  /// a sequence, the least likely to be shared, is evicted first) and
  /// resets its computed count. False if a block had no reference (a bug).
  bool freeBlocks(Request &request);

  /// The pool slot of `request`'s token at `position` (which has a block).
  int64_t slot(const Request &request, int64_t position) const {
    int32_t size = blocks.blockSize();
    return static_cast<int64_t>(request.blocks[position / size]) * size +
           position % size;
  }
  /// Whether writing `request`'s token at `position` writes only into a
  /// block the request holds alone and that is not cached (the invariant
  /// that makes copy-on-write unnecessary).
  bool ownsSlot(const Request &request, int64_t position) const;

private:
  void hashFullBlocks(Request &request);

  BlockPool blocks;
  bool prefixCaching;
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_KVCACHEMANAGER_H

//===- KvCacheManager.cpp - a request's blocks and prefix hits ------------===//

#include "runtime/engine/KvCacheManager.h"

#include <algorithm>

namespace anvil::engine {

KvCacheManager::KvCacheManager(int32_t numBlocks, int32_t blockSize,
                               bool enablePrefixCaching)
    : blocks(numBlocks, blockSize), prefixCaching(enablePrefixCaching) {}

void KvCacheManager::hashFullBlocks(Request &request) {
  size_t size = static_cast<size_t>(blocks.blockSize());
  size_t full = request.tokens.size() / size;
  while (request.blockHashes.size() < full) {
    size_t i = request.blockHashes.size();
    BlockHash parent = i ? request.blockHashes[i - 1] : BlockHash{};
    request.blockHashes.push_back(BlockPool::hashBlock(
        parent, &request.tokens[i * size], blocks.blockSize()));
  }
}

int64_t KvCacheManager::findCachedPrefix(Request &request,
                                         std::vector<int32_t> &hits) {
  if (!prefixCaching || request.tokens.empty())
    return 0;
  hashFullBlocks(request);
  int64_t size = blocks.blockSize();
  // vLLM's rule: at most tokens - 1, so the last token is computed.
  size_t most = static_cast<size_t>(
      (static_cast<int64_t>(request.tokens.size()) - 1) / size);
  size_t n = 0;
  for (; n < most; ++n) {
    int32_t block =
        blocks.lookup(request.blockHashes[n], &request.tokens[n * size]);
    if (block < 0)
      break;
    hits.push_back(block);
  }
  return static_cast<int64_t>(n) * size;
}

bool KvCacheManager::allocateSlots(Request &request, int64_t numNew,
                                   const std::vector<int32_t> &hits) {
  int64_t size = blocks.blockSize();
  int64_t computed =
      request.numComputed + static_cast<int64_t>(hits.size()) * size;
  int64_t held = static_cast<int64_t>(request.blocks.size() + hits.size());
  int64_t needed = (computed + numNew + size - 1) / size;
  int64_t fresh = std::max<int64_t>(0, needed - held);
  // A hit on an unreferenced (evictable) block takes it from the free count.
  int64_t taken = 0;
  for (int32_t block : hits)
    taken += blocks.refCount(block) == 0;
  if (fresh + taken > blocks.numFree())
    return false;
  for (int32_t block : hits) {
    blocks.addRef(block);
    request.blocks.push_back(block);
  }
  request.numCachedBlocks += hits.size();
  request.numComputed = computed;
  bool ok = blocks.allocate(static_cast<int32_t>(fresh), request.blocks);
  (void)ok; // fresh <= numFree, checked above.
  return true;
}

void KvCacheManager::cacheComputedBlocks(Request &request) {
  if (!prefixCaching)
    return;
  hashFullBlocks(request);
  size_t size = static_cast<size_t>(blocks.blockSize());
  size_t full = static_cast<size_t>(request.numComputed) / size;
  for (size_t i = request.numCachedBlocks; i < full; ++i)
    blocks.cache(request.blocks[i], request.blockHashes[i],
                 &request.tokens[i * size]);
  request.numCachedBlocks = std::max(request.numCachedBlocks, full);
}

bool KvCacheManager::freeBlocks(Request &request) {
  bool ok = true;
  for (auto it = request.blocks.rbegin(); it != request.blocks.rend(); ++it)
    ok &= blocks.release(*it);
  request.blocks.clear();
  request.numCachedBlocks = 0;
  request.numComputed = 0;
  return ok;
}

bool KvCacheManager::ownsSlot(const Request &request, int64_t position) const {
  size_t index = static_cast<size_t>(position / blocks.blockSize());
  if (index >= request.blocks.size())
    return false;
  int32_t block = request.blocks[index];
  return blocks.refCount(block) == 1 && !blocks.isCached(block);
}

} // namespace anvil::engine

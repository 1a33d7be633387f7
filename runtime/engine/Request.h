//===- Request.h - one generation request, a state machine ------*- C++ -*-===//
//
//   WAITING --schedule--> RUNNING --stop/length--> FINISHED
//      ^                     |
//      +---- preempt --------+   (blocks freed; back at the head of WAITING,
//                                 recomputed from its tokens on resume)
//   WAITING or RUNNING --cancel or a failed step--> FINISHED
//
// The scheduler and the KV cache manager work on requests; only the thread
// that steps the engine touches them.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_REQUEST_H
#define ANVIL_RUNTIME_ENGINE_REQUEST_H

#include "runtime/engine/BlockPool.h"
#include "runtime/engine/SamplingParams.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace anvil::engine {

enum class RequestState { Waiting, Running, Finished };

/// Why a request ended; the values are anvil_finish_reason's.
enum class FinishReason : int {
  None = 0,      ///< still running
  Stop = 1,      ///< EOS, a stop token id or a stop string
  Length = 2,    ///< max new tokens, or the context (or pool) is full
  Cancelled = 3, ///< cancel()
  Error = 4,     ///< the model's step failed on the batch it was in
};

struct Request {
  uint64_t id = 0;
  /// Prompt then generated tokens: what the KV holds once computed.
  std::vector<int64_t> tokens;
  size_t promptLen = 0;
  SamplingParams params;
  uint64_t seed = 0;
  /// Generated tokens at most (params' or what the context/pool allows).
  int64_t maxNewTokens = 0;

  RequestState state = RequestState::Waiting;
  FinishReason finish = FinishReason::None;
  /// Tokens whose K/V is in this request's blocks.
  int64_t numComputed = 0;
  /// Pool blocks in position order; blocks[i] holds positions
  /// [i * blockSize, (i + 1) * blockSize).
  std::vector<int32_t> blocks;
  /// Hashes of the full blocks of `tokens` (grown as tokens are known).
  std::vector<BlockHash> blockHashes;
  /// blocks[0, numCachedBlocks) are in the prefix cache (hit or added).
  size_t numCachedBlocks = 0;
  int64_t numPreemptions = 0;

  std::chrono::steady_clock::time_point arrival;
  bool firstTokenSeen = false;

  size_t numGenerated() const { return tokens.size() - promptLen; }
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_REQUEST_H

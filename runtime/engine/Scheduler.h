//===- Scheduler.h - continuous batching under a token budget ---*- C++ -*-===//
//
// vLLM v1's scheduler, FCFS: each step first gives every running request
// its next tokens (one when decoding, the rest of its prompt, chunked, when
// prefilling), then admits waiting requests in arrival order while the
// token budget, the sequence limit and the pool allow. When a running
// request needs a block and none is free, the newest running request is
// preempted: its blocks are freed and it goes back to the head of the
// waiting queue, to be recomputed (its full blocks usually stay in the
// prefix cache, so recomputing is mostly hits). No waiting request is
// admitted in a step that preempted.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_SCHEDULER_H
#define ANVIL_RUNTIME_ENGINE_SCHEDULER_H

#include "runtime/engine/KvCacheManager.h"
#include "runtime/engine/Request.h"

#include <cstdint>
#include <deque>
#include <vector>

namespace anvil::engine {

struct SchedulerConfig {
  int64_t maxTokensPerStep = 0;
  int64_t maxSeqsPerStep = 0;
};

/// One request's share of a step: tokens [numComputed, numComputed + n)
/// of its tokens, numComputed as it was when scheduled.
struct ScheduledSeq {
  Request *request = nullptr;
  int64_t start = 0;
  int64_t numNew = 0;
};

struct SchedulerOutput {
  std::vector<ScheduledSeq> seqs;
  int64_t numTokens = 0;
  int64_t numPreempted = 0;
  /// Tokens of the requests admitted now, and how many of them were
  /// found in the prefix cache.
  int64_t numQueriedTokens = 0;
  int64_t numCachedTokens = 0;
  void clear() {
    seqs.clear();
    numTokens = numPreempted = numQueriedTokens = numCachedTokens = 0;
  }
};

class Scheduler {
public:
  Scheduler(const SchedulerConfig &config, KvCacheManager &kvCache);

  /// Queues a new request at the tail of the waiting queue.
  void add(Request *request);
  /// Plans one step into `out` (cleared first): every returned request has
  /// the blocks for its new tokens.
  void schedule(SchedulerOutput &out);
  /// Takes `request` out of the queues and frees its blocks (finish,
  /// cancel, failure). False if a block was freed twice (a bug).
  bool remove(Request *request);

  const std::deque<Request *> &waiting() const { return waitingQueue; }
  const std::vector<Request *> &running() const { return runningList; }
  bool idle() const { return waitingQueue.empty() && runningList.empty(); }

private:
  void preemptNewest();

  SchedulerConfig config;
  KvCacheManager &kv;
  std::deque<Request *> waitingQueue;
  std::vector<Request *> runningList;
  std::vector<int32_t> hits; // scratch
  static const std::vector<int32_t> noHits;
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_SCHEDULER_H

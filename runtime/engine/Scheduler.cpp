//===- Scheduler.cpp - continuous batching under a token budget -----------===//

#include "runtime/engine/Scheduler.h"

#include <algorithm>

namespace anvil::engine {

const std::vector<int32_t> Scheduler::noHits;

Scheduler::Scheduler(const SchedulerConfig &config, KvCacheManager &kvCache)
    : config(config), kv(kvCache) {
  runningList.reserve(static_cast<size_t>(config.maxSeqsPerStep));
}

void Scheduler::add(Request *request) {
  request->state = RequestState::Waiting;
  waitingQueue.push_back(request);
}

void Scheduler::preemptNewest() {
  Request *victim = runningList.back();
  runningList.pop_back();
  kv.freeBlocks(*victim);
  victim->state = RequestState::Waiting;
  ++victim->numPreemptions;
  waitingQueue.push_front(victim);
}

void Scheduler::schedule(SchedulerOutput &out) {
  out.clear();
  int64_t budget = config.maxTokensPerStep;
  // Running requests, oldest first.
  for (size_t i = 0; i < runningList.size() && budget > 0;) {
    Request *request = runningList[i];
    int64_t numNew = std::min<int64_t>(
        static_cast<int64_t>(request->tokens.size()) - request->numComputed,
        budget);
    bool preemptedItself = false;
    while (!kv.allocateSlots(*request, numNew, noHits)) {
      preemptedItself = runningList.back() == request;
      preemptNewest();
      ++out.numPreempted;
      if (preemptedItself)
        break;
    }
    if (preemptedItself)
      break;
    out.seqs.push_back({request, request->numComputed, numNew});
    out.numTokens += numNew;
    budget -= numNew;
    ++i;
  }
  if (out.numPreempted)
    return;
  // Waiting requests in order; the head blocks the rest (FCFS).
  while (!waitingQueue.empty() && budget > 0 &&
         static_cast<int64_t>(runningList.size()) < config.maxSeqsPerStep) {
    Request *request = waitingQueue.front();
    hits.clear();
    int64_t cached = kv.findCachedPrefix(*request, hits);
    int64_t numNew = std::min<int64_t>(
        static_cast<int64_t>(request->tokens.size()) - cached, budget);
    if (!kv.allocateSlots(*request, numNew, hits))
      break;
    waitingQueue.pop_front();
    request->state = RequestState::Running;
    runningList.push_back(request);
    out.seqs.push_back({request, request->numComputed, numNew});
    out.numTokens += numNew;
    out.numQueriedTokens += static_cast<int64_t>(request->tokens.size());
    out.numCachedTokens += cached;
    budget -= numNew;
  }
}

bool Scheduler::remove(Request *request) {
  auto running = std::find(runningList.begin(), runningList.end(), request);
  if (running != runningList.end())
    runningList.erase(running);
  auto waiting = std::find(waitingQueue.begin(), waitingQueue.end(), request);
  if (waiting != waitingQueue.end())
    waitingQueue.erase(waiting);
  request->state = RequestState::Finished;
  return kv.freeBlocks(*request);
}

} // namespace anvil::engine

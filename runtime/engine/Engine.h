//===- Engine.h - the LLM engine: requests in, tokens out -------*- C++ -*-===//
//
// Owns a StepModel, its KV pool's bookkeeping, the scheduler and the
// sampler. submit() and cancel() may be called from any thread; step()
// runs one scheduled batch through the model and delivers its tokens, from
// the caller's thread or from the engine's background thread (start()).
// Every request ends with exactly one event whose finish reason is set.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_ENGINE_H
#define ANVIL_RUNTIME_ENGINE_ENGINE_H

#include "runtime/engine/KvCacheManager.h"
#include "runtime/engine/Request.h"
#include "runtime/engine/Sampler.h"
#include "runtime/engine/SamplingParams.h"
#include "runtime/engine/Scheduler.h"
#include "runtime/engine/StepModel.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace anvil::engine {

struct EngineConfig {
  /// The KV budget: blocks, or bytes (divided by the model's bytesPerBlock);
  /// at most one of them nonzero. Both 0: 1 GiB, at least one full context
  /// and at most the model's maxBlocks.
  int64_t kvBlocks = 0;
  int64_t kvBytes = 0;
  /// Tokens and sequences per step; 0: the model's compiled maxima (and no
  /// more than them).
  int64_t maxTokensPerStep = 0;
  int64_t maxSeqsPerStep = 0;
  bool enablePrefixCaching = true;
  /// Token ids that end a request (unless its params ignore EOS).
  std::vector<int64_t> eosTokenIds;
  /// Optional: prompts as text, text pieces and stop strings need it.
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
};

/// What a request produced in one step, or how it ended.
struct TokenEvent {
  uint64_t requestId = 0;
  /// The new token, or -1 in an event that only ends the request (cancel,
  /// a failed step, a stop string completed by held-back text).
  int64_t token = -1;
  /// Text that became final with this token (UTF-8; empty without a
  /// tokenizer, for EOS and stop tokens, and while text that may start a
  /// stop string is held back).
  std::string text;
  FinishReason finish = FinishReason::None;
  /// With params.logprobs >= 0: the token's logprob and the top ones.
  float logprob = 0.0f;
  std::vector<TokenLogprob> top;
  /// Why the request failed (finish == Error), else empty.
  std::string error;
};

/// Called on the thread that steps the engine, once per event; it may
/// submit and cancel but must not step, start, stop or release the engine.
using TokenCallback = std::function<void(const TokenEvent &)>;

struct EngineStats {
  int64_t requestsSubmitted = 0, requestsRejected = 0;
  int64_t requestsFinished = 0, requestsCancelled = 0, requestsFailed = 0;
  /// Queue depth: requests waiting (new or preempted) and running.
  int64_t waiting = 0, running = 0;
  int64_t steps = 0, preemptions = 0;
  /// Tokens run through the model, and those of them in prompts (prefill,
  /// recomputation after preemption included).
  int64_t computedTokens = 0, computedPromptTokens = 0;
  int64_t generatedTokens = 0;
  /// Prefix cache: tokens looked up on admission and tokens hit.
  int64_t prefixQueriedTokens = 0, prefixHitTokens = 0;
  double prefixCacheHitRate = 0.0; ///< hit / queried, 0 before any lookup
  int64_t kvBlocksTotal = 0, kvBlocksUsed = 0, kvBlocksFree = 0;
  int64_t kvBlocksCached = 0;
  /// Seconds spent in step(), and prompt / generated tokens per second of it.
  double busySeconds = 0.0;
  double promptTokensPerSecond = 0.0, generatedTokensPerSecond = 0.0;
  /// Time to first token (submit to first generated token), milliseconds.
  int64_t ttftCount = 0;
  double ttftMsMean = 0.0, ttftMsLast = 0.0, ttftMsMax = 0.0;
};

class Engine {
public:
  /// Checks the model's facts and `config`, sizes the pool and allocates
  /// everything a step needs. ANVIL_INVALID_ARGUMENT names a bad field.
  static anvil_status create(std::unique_ptr<StepModel> model,
                             const EngineConfig &config,
                             std::unique_ptr<Engine> &out);
  /// Stops the background thread; requests still live get no more events.
  ~Engine();
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  /// Queues a request. An empty `callback` queues its events for poll().
  /// ANVIL_INVALID_ARGUMENT for an empty prompt, a token id outside the
  /// vocabulary, a prompt (or prompt + maxNewTokens) beyond the context,
  /// bad parameters, stop strings without a tokenizer;
  /// ANVIL_RESOURCE_EXHAUSTED when it could never fit in the KV pool.
  /// Thread-safe.
  anvil_status submit(std::vector<int64_t> prompt, const SamplingParams &params,
                      TokenCallback callback, uint64_t &outId);
  /// As submit(), the prompt encoded by the tokenizer (with its special
  /// tokens). ANVIL_NOT_FOUND when the engine has no tokenizer.
  anvil_status submitText(std::string_view prompt, const SamplingParams &params,
                          TokenCallback callback, uint64_t &outId);
  /// Ends a request at the next step (its last event says Cancelled).
  /// ANVIL_NOT_FOUND for an id that is not live (unknown or finished).
  /// Thread-safe.
  anvil_status cancel(uint64_t id);

  /// Runs one step: takes new requests and cancels, schedules, runs the
  /// model, samples and delivers events. `outWorked` says whether anything
  /// ran. A failed model step fails that batch's requests (events with
  /// FinishReason::Error) and is returned; the engine keeps serving.
  /// Thread-safe (steps are serialized), but not from a callback.
  anvil_status step(bool *outWorked = nullptr);
  /// Steps until no request is live.
  anvil_status runUntilIdle();

  /// Moves up to `max` queued events of callback-less requests into `out`
  /// (appended); returns how many. Thread-safe.
  size_t poll(std::vector<TokenEvent> &out, size_t max);

  /// Steps on a background thread while requests are live (waiting on a
  /// condition variable otherwise). ANVIL_INVALID_ARGUMENT if running.
  anvil_status start();
  /// Stops and joins the background thread (after its current step).
  anvil_status stop();

  EngineStats stats() const;
  const StepModelInfo &modelInfo() const { return info; }
  /// The longest a request may grow: the context, and the pool.
  int64_t contextLimit() const { return contextCap; }
  /// The engine's internals, for tests; only while nothing steps.
  const KvCacheManager &kvCache() const { return kv; }
  const Scheduler &scheduler() const { return sched; }

private:
  struct Live;
  Engine(std::unique_ptr<StepModel> model, const EngineConfig &config,
         const StepModelInfo &info, int64_t numBlocks);
  anvil_status admit(std::vector<int64_t> prompt, const SamplingParams &params,
                     TokenCallback callback, uint64_t &outId);
  anvil_status reject(anvil_status status);
  void takeSubmissions();
  void finish(Live &live, FinishReason reason, int64_t token,
              std::string error);
  void retire(Live &live, TokenEvent &event);
  void emitToken(Live &live, int64_t token, const SampleResult &sampled);
  void deliver();
  void backgroundLoop();

  std::unique_ptr<StepModel> model;
  EngineConfig config;
  StepModelInfo info;
  int64_t numBlocks, contextCap, tableWidth;
  KvCacheManager kv;
  Scheduler sched;
  Sampler sampler;

  // Stepping state (under stepMutex).
  std::mutex stepMutex;
  std::unordered_map<uint64_t, std::unique_ptr<Live>> requests;
  SchedulerOutput plan;
  std::vector<int64_t> batchTokens, batchPositions, batchSlots;
  std::vector<int32_t> batchSeqOfToken, batchTables, batchContextLens,
      batchLogitRows, logitSeq;
  std::vector<float> logits;
  SampleResult sampled;
  std::vector<std::unique_ptr<Live>> takenSubmissions;
  std::vector<uint64_t> takenCancels;
  /// Events of this step, delivered after it (reused).
  std::vector<TokenEvent> events;
  size_t numEvents = 0;
  std::vector<TokenCallback *> eventCallbacks;
  std::vector<std::unique_ptr<Live>> finishedThisStep;

  // Shared state (under mu).
  mutable std::mutex mu;
  std::condition_variable wake;
  uint64_t nextId = 1;
  std::vector<std::unique_ptr<Live>> submissions;
  std::vector<uint64_t> cancels;
  std::unordered_set<uint64_t> liveIds;
  std::deque<TokenEvent> polled;
  EngineStats counters;
  double ttftMsSum = 0.0;
  bool stopping = false;
  std::thread background;
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_ENGINE_H

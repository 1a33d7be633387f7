//===- ModelService.h - the engine behind the HTTP endpoints ----*- C++ -*-===//
//
// Owns the model, its engine (stepping on its own background thread,
// anvil_engine_start) and a copy of its tokenizer, and turns a validated
// request into engine requests whose events land in a RequestStream that
// the HTTP handler drains. It also keeps the server's admission rules: a
// bound on requests in flight (429 beyond it) and shutdown (503).
//
// Lifetime: the engine holds a raw pointer to each choice until that
// request's last event, so every RequestStream with a live engine request
// is kept alive here (not only by its handler, which may leave early when
// its client disconnects) and released by the last event's callback.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_MODELSERVICE_H
#define ANVIL_TOOLS_ANVIL_SERVE_MODELSERVICE_H

#include "ApiError.h"
#include "Metrics.h"

#include "anvil/anvil.hpp"
#include "runtime/tokenizer/Tokenizer.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace anvil::serve {

using Clock = std::chrono::steady_clock;

/// How to load the model and size the engine (anvil-serve's flags).
struct ModelOptions {
  std::string path;
  /// The id /v1/models reports and requests may name; default: the
  /// artifact's file name without ".anvil".
  std::string name;
  int threads = 0;
  int64_t kvBlocks = 0;
  int64_t maxTokensPerStep = 0, maxSeqsPerStep = 0;
  bool prefixCaching = true;
  bool verifyChecksums = true;
  std::string publicKeyFile;
  /// Engine requests waiting beyond those the engine can run at once
  /// (its sequences per step); more are refused with 429.
  int64_t maxQueue = 64;
};

/// One event of one choice, copied out of the engine's callback.
struct ChoiceEvent {
  size_t choice = 0;
  int64_t tokenId = -1;
  std::string text;
  anvil_finish_reason finish = ANVIL_FINISH_NONE;
  float logprob = 0;
  std::vector<anvil_token_logprob> topLogprobs;
  std::string error;
};

class ModelService;

/// The engine requests (choices) of one HTTP request and their events.
class RequestStream {
public:
  /// Waits until events are queued or `timeout` passes, and moves every
  /// queued event into `out` (appending). Returns whether any came.
  bool wait(std::chrono::milliseconds timeout, std::vector<ChoiceEvent> &out);
  size_t choiceCount() const { return choices.size(); }
  /// The prompt length of choice `index`.
  int64_t promptTokens(size_t index) const {
    return choices[index]->promptTokens;
  }

private:
  friend class ModelService;
  struct Choice {
    RequestStream *stream = nullptr;
    size_t index = 0;
    /// 0 until submitted; read by cancel() from other threads.
    std::atomic<uint64_t> engineId{0};
    int64_t promptTokens = 0;
    Clock::time_point submitted, lastToken;
    bool sawToken = false;
  };
  ModelService *service = nullptr;
  std::vector<std::unique_ptr<Choice>> choices;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<ChoiceEvent> events;
  /// Submitted choices whose last event has not come (ModelService::mutex).
  size_t unfinished = 0;
};

class ModelService {
public:
  /// Opens the artifact, loads its tokenizer, creates the engine and
  /// starts its thread. False with `error` (naming the file) on failure.
  static bool open(const ModelOptions &options,
                   std::unique_ptr<ModelService> &out, std::string &error);
  ~ModelService();

  const std::string &id() const { return modelId; }
  int64_t maxContext() const { return context; }
  int64_t vocabSize() const { return vocab; }
  /// Requests in flight allowed at once (sequences per step + queue).
  int64_t admissionLimit() const { return limit; }
  bool hasTokenizer() const { return bool(tokenizer); }

  /// The token ids of `text` with the tokenizer's special tokens (BOS),
  /// as the engine's own text submission encodes it.
  std::optional<ApiError> encode(const std::string &text,
                                 std::vector<int64_t> &ids) const;
  /// The text of one token, for logprobs ("" without a tokenizer).
  std::string tokenText(int64_t id) const;

  /// Submits each prompt `n` times with `params` (choice i of a prompt
  /// draws with seed + i when a seed is given, so choices differ and
  /// still reproduce). All or nothing: if one is refused the others are
  /// cancelled and the error returned. 429 when the in-flight bound would
  /// be passed, 503 while shutting down.
  std::optional<ApiError>
  submit(const std::vector<std::vector<int64_t>> &prompts, int n,
         const anvil_sampling_params &params,
         std::shared_ptr<RequestStream> &out);
  /// Cancels the stream's requests that are still live (their last
  /// events, CANCELLED, follow at the engine's next step).
  void cancel(RequestStream &stream);

  /// Refuses new requests from now on (503).
  void beginShutdown();
  bool shuttingDown() const;
  /// Cancels every live request.
  void cancelAll();
  /// Waits until no engine request is live or `deadline`; true if none is.
  bool waitIdle(Clock::time_point deadline);

  int64_t inFlight() const;
  anvil_engine_stats stats() const;
  Metrics &metrics() { return serverMetrics; }

private:
  ModelService() = default;
  static void onEvent(const anvil_engine_event *event, void *userData);
  /// Uncounts one choice of `stream` that ended (or was never
  /// submitted); when it was the last, returns the service's reference to
  /// the stream, which the caller drops when done with it.
  std::shared_ptr<RequestStream> finishChoice(RequestStream *stream);

  std::string modelId;
  int64_t context = 0, vocab = 0, limit = 0;
  anvil::Model model;
  anvil::Engine engine;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  Metrics serverMetrics;

  mutable std::mutex mutex;
  std::condition_variable idle;
  std::unordered_map<RequestStream *, std::shared_ptr<RequestStream>> live;
  int64_t liveRequests = 0;
  bool stopping = false;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_MODELSERVICE_H

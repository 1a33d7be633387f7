//===- EngineTestSupport.h - engines over the reference model ---*- C++ -*-===//

#ifndef ANVIL_TEST_UNIT_ENGINE_ENGINETESTSUPPORT_H
#define ANVIL_TEST_UNIT_ENGINE_ENGINETESTSUPPORT_H

#include "ReferenceStepModel.h"

#include "runtime/engine/Engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

namespace anvil::engine::test {

/// What one request produced, from its events.
struct Outcome {
  std::vector<int64_t> tokens;
  std::string text;
  std::vector<std::string> pieces;
  FinishReason finish = FinishReason::None;
  int finals = 0;
  int eventsAfterFinal = 0;
  std::string error;
};

/// Collects events from callbacks (any thread).
class Collector {
public:
  TokenCallback callback() {
    return [this](const TokenEvent &event) { record(event); };
  }
  void record(const TokenEvent &event) {
    std::lock_guard<std::mutex> lock(mu);
    Outcome &outcome = outcomes[event.requestId];
    if (outcome.finals)
      ++outcome.eventsAfterFinal;
    if (event.token >= 0)
      outcome.tokens.push_back(event.token);
    outcome.text += event.text;
    outcome.pieces.push_back(event.text);
    if (event.finish != FinishReason::None) {
      outcome.finish = event.finish;
      outcome.error = event.error;
      ++outcome.finals;
      ++finals;
      done.notify_all();
    }
  }
  /// Waits until `n` requests have ended; false on timeout.
  bool waitForFinals(int n, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return done.wait_for(lock, timeout, [&] { return finals >= n; });
  }
  Outcome get(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    return outcomes[id];
  }
  int finalCount() {
    std::lock_guard<std::mutex> lock(mu);
    return finals;
  }

private:
  std::mutex mu;
  std::condition_variable done;
  std::map<uint64_t, Outcome> outcomes;
  int finals = 0;
};

/// An engine over a ReferenceStepModel.
struct Harness {
  explicit Harness(const StepModelInfo &info = referenceInfo(),
                   const EngineConfig &config = EngineConfig())
      : Harness(std::make_unique<ReferenceStepModel>(info), config) {}
  Harness(std::unique_ptr<ReferenceStepModel> owned,
          const EngineConfig &config) {
    model = owned.get();
    anvil_status status = Engine::create(std::move(owned), config, engine);
    EXPECT_EQ(status, nullptr) << anvil_status_get_message(status);
    anvil_status_free(status);
  }
  uint64_t submit(std::vector<int64_t> prompt, const SamplingParams &params) {
    uint64_t id = 0;
    anvil_status status =
        engine->submit(std::move(prompt), params, collector.callback(), id);
    EXPECT_EQ(status, nullptr) << anvil_status_get_message(status);
    anvil_status_free(status);
    return id;
  }
  void run() {
    anvil_status status = engine->runUntilIdle();
    EXPECT_EQ(status, nullptr) << anvil_status_get_message(status);
    anvil_status_free(status);
  }
  /// Every block free (cached ones are evictable) and unreferenced.
  void expectNoLeaks() {
    const BlockPool &pool = engine->kvCache().pool();
    EXPECT_EQ(pool.numFree(), pool.numBlocks());
    for (int32_t b = 0; b < pool.numBlocks(); ++b)
      EXPECT_EQ(pool.refCount(b), 0) << "block " << b;
    EXPECT_TRUE(engine->scheduler().idle());
  }

  ReferenceStepModel *model = nullptr;
  std::unique_ptr<Engine> engine;
  Collector collector;
};

inline SamplingParams greedyParams(int64_t maxNew) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.maxNewTokens = maxNew;
  return params;
}

inline std::vector<int64_t> randomPrompt(std::mt19937_64 &rng, int64_t length,
                                         int64_t vocab) {
  std::uniform_int_distribution<int64_t> token(0, vocab - 1);
  std::vector<int64_t> prompt;
  for (int64_t i = 0; i < length; ++i)
    prompt.push_back(token(rng));
  return prompt;
}

/// A status's code, freeing it.
inline anvil_status_code takeCode(anvil_status status,
                                  std::string *message = nullptr) {
  anvil_status_code code = anvil_status_get_code(status);
  if (message)
    *message = anvil_status_get_message(status);
  anvil_status_free(status);
  return code;
}

} // namespace anvil::engine::test

#endif // ANVIL_TEST_UNIT_ENGINE_ENGINETESTSUPPORT_H

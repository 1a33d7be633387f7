//===- EngineCApiTest.cpp - anvil_engine_* over the reference model -------===//

#include "EngineTestSupport.h"

#include "runtime/engine/ArtifactStepModel.h"
#include "runtime/engine/EngineCApiInternal.h"

#include "anvil/anvil.hpp"

#include <atomic>
#include <thread>

using namespace anvil::engine;
using namespace anvil::engine::test;

namespace {

constexpr int64_t kVocab = 97;

struct Received {
  std::mutex mu;
  std::map<uint64_t, std::vector<int64_t>> tokens;
  std::map<uint64_t, anvil_finish_reason> finish;
  std::atomic<int> finals{0};
};

void onEvent(const anvil_engine_event *event, void *userData) {
  auto *received = static_cast<Received *>(userData);
  std::lock_guard<std::mutex> lock(received->mu);
  if (event->token_id >= 0)
    received->tokens[event->request_id].push_back(event->token_id);
  EXPECT_EQ(event->text_size, 0u);
  EXPECT_STREQ(event->text, "");
  if (event->finish_reason != ANVIL_FINISH_NONE) {
    received->finish[event->request_id] = event->finish_reason;
    ++received->finals;
  }
}

anvil::Engine makeEngine(const anvil_engine_config *config) {
  anvil_engine *raw = nullptr;
  anvil::Status status{
      createCEngine(std::make_unique<ReferenceStepModel>(referenceInfo()),
                    config, nullptr, {}, &raw)};
  EXPECT_EQ(status, nullptr) << anvil_status_get_message(status.get());
  return anvil::Engine{raw};
}

TEST(EngineCApi, CallbacksPollingCancelAndStats) {
  anvil_engine_config config{};
  config.struct_size = sizeof config;
  config.kv_budget_blocks = 64;
  config.max_tokens_per_step = 16;
  anvil::Engine engine = makeEngine(&config);
  ASSERT_TRUE(engine);

  anvil_sampling_params params = anvil::defaultSamplingParams();
  EXPECT_EQ(params.struct_size, sizeof params);
  EXPECT_EQ(params.temperature, 1.0f);
  EXPECT_EQ(params.top_p, 1.0f);
  EXPECT_EQ(params.logprobs, -1);
  params.temperature = 0.0f;
  params.max_new_tokens = 9;

  Received received;
  const int64_t prompt[] = {3, 5, 7, 11, 13};
  uint64_t byCallback = 0, byPoll = 0, cancelled = 0;
  ASSERT_EQ(anvil_engine_submit_tokens(engine.get(), prompt, 5, &params,
                                       onEvent, &received, &byCallback),
            nullptr);
  params.logprobs = 2;
  ASSERT_EQ(anvil_engine_submit_tokens(engine.get(), prompt, 5, &params,
                                       nullptr, nullptr, &byPoll),
            nullptr);
  params.logprobs = -1;
  ASSERT_EQ(anvil_engine_submit_tokens(engine.get(), prompt, 5, &params,
                                       onEvent, &received, &cancelled),
            nullptr);
  EXPECT_EQ(anvil_engine_cancel(engine.get(), cancelled), nullptr);
  int worked = 0;
  do
    ASSERT_EQ(anvil_engine_step(engine.get(), &worked), nullptr);
  while (worked);

  std::vector<int64_t> want = greedyContinuation({3, 5, 7, 11, 13}, 9, kVocab);
  EXPECT_EQ(received.tokens[byCallback], want);
  EXPECT_EQ(received.finish[byCallback], ANVIL_FINISH_LENGTH);
  EXPECT_EQ(received.finish[cancelled], ANVIL_FINISH_CANCELLED);
  EXPECT_EQ(received.finals, 2);

  anvil_engine_event events[4];
  std::vector<int64_t> polled;
  size_t count = 0;
  do {
    ASSERT_EQ(anvil_engine_poll(engine.get(), events, 4, &count), nullptr);
    for (size_t i = 0; i < count; ++i) {
      EXPECT_EQ(events[i].request_id, byPoll);
      EXPECT_EQ(events[i].top_logprob_count, 2u);
      EXPECT_GE(events[i].top_logprobs[0].logprob,
                events[i].top_logprobs[1].logprob);
      EXPECT_LE(events[i].logprob, 0.0f);
      EXPECT_STREQ(events[i].error, "");
      polled.push_back(events[i].token_id);
    }
  } while (count);
  EXPECT_EQ(polled, want);

  anvil_engine_stats stats{};
  stats.struct_size = sizeof stats;
  ASSERT_EQ(anvil_engine_get_stats(engine.get(), &stats), nullptr);
  EXPECT_EQ(stats.requests_submitted, 3);
  EXPECT_EQ(stats.requests_finished, 2);
  EXPECT_EQ(stats.requests_cancelled, 1);
  EXPECT_EQ(stats.generated_tokens, 18);
  EXPECT_EQ(stats.kv_blocks_total, 64);
  EXPECT_EQ(stats.kv_blocks_free, 64);
  EXPECT_EQ(stats.ttft_count, 2);
  // Admitted in one step, they all compute the prompt (nothing was cached
  // yet); the cancelled one was never admitted.
  EXPECT_EQ(stats.prefix_queried_tokens, 10);
  EXPECT_EQ(stats.prefix_hit_tokens, 0);

  anvil_engine_stats small{};
  small.struct_size = 8;
  EXPECT_EQ(takeCode(anvil_engine_get_stats(engine.get(), &small)),
            ANVIL_INVALID_ARGUMENT);
}

TEST(EngineCApi, BadArgumentsAreStatuses) {
  anvil_engine_config config{};
  config.struct_size = sizeof config;
  anvil::Engine engine = makeEngine(&config);
  anvil_sampling_params params = anvil::defaultSamplingParams();
  uint64_t id = 0;
  std::string message;
  const int64_t prompt[] = {1, 2, 3};
  EXPECT_EQ(takeCode(anvil_engine_submit_tokens(engine.get(), prompt, 0,
                                                &params, nullptr, nullptr, &id),
                     &message),
            ANVIL_INVALID_ARGUMENT);
  EXPECT_NE(message.find("empty"), std::string::npos);
  params.top_p = 0.0f;
  EXPECT_EQ(takeCode(anvil_engine_submit_tokens(engine.get(), prompt, 3,
                                                &params, nullptr, nullptr, &id),
                     &message),
            ANVIL_INVALID_ARGUMENT);
  EXPECT_NE(message.find("top_p"), std::string::npos);
  anvil_sampling_params zeroed{};
  EXPECT_EQ(takeCode(anvil_engine_submit_tokens(engine.get(), prompt, 3,
                                                &zeroed, nullptr, nullptr, &id),
                     &message),
            ANVIL_INVALID_ARGUMENT);
  EXPECT_NE(message.find("anvil_sampling_params_init"), std::string::npos);
  EXPECT_EQ(takeCode(anvil_engine_submit_text(engine.get(), "hi", 2, nullptr,
                                              nullptr, nullptr, &id),
                     &message),
            ANVIL_NOT_FOUND);
  EXPECT_EQ(takeCode(anvil_engine_cancel(engine.get(), 77)), ANVIL_NOT_FOUND);
  EXPECT_EQ(takeCode(anvil_engine_submit_tokens(nullptr, prompt, 3, nullptr,
                                                nullptr, nullptr, &id)),
            ANVIL_INVALID_ARGUMENT);
  EXPECT_EQ(id, 0u);
  // NULL params are the defaults.
  EXPECT_EQ(anvil_engine_submit_tokens(engine.get(), prompt, 3, nullptr,
                                       nullptr, nullptr, &id),
            nullptr);
  EXPECT_NE(id, 0u);

  anvil_engine *raw = nullptr;
  anvil_engine_config threads{};
  threads.struct_size = sizeof threads;
  threads.num_threads = 4;
  EXPECT_EQ(takeCode(anvil_engine_create(nullptr, &threads, &raw)),
            ANVIL_INVALID_ARGUMENT);
  // An artifact without the paged step is refused in anvil-run-generate.test.
  std::unique_ptr<StepModel> stepModel;
  EXPECT_EQ(takeCode(openArtifactStepModel(nullptr, stepModel), &message),
            ANVIL_INVALID_ARGUMENT);
  EXPECT_NE(message.find("no model"), std::string::npos);
  anvil_engine_release(nullptr);
}

TEST(EngineCApi, BackgroundThread) {
  anvil::Engine engine = makeEngine(nullptr);
  ASSERT_EQ(anvil_engine_start(engine.get()), nullptr);
  Received received;
  anvil_sampling_params params = anvil::defaultSamplingParams();
  params.temperature = 0.0f;
  params.max_new_tokens = 6;
  std::vector<uint64_t> ids(20);
  for (int i = 0; i < 20; ++i) {
    const int64_t prompt[] = {i, i + 1, i + 2};
    ASSERT_EQ(anvil_engine_submit_tokens(engine.get(), prompt, 3, &params,
                                         onEvent, &received, &ids[i]),
              nullptr);
  }
  for (int spin = 0; spin < 1000 && received.finals < 20; ++spin)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(anvil_engine_stop(engine.get()), nullptr);
  ASSERT_EQ(received.finals, 20);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(received.tokens[ids[i]],
              greedyContinuation({i, i + 1, i + 2}, 6, kVocab));
}

} // namespace

TEST(EngineCApi, FinishReasonNames) {
  EXPECT_STREQ(anvil_finish_reason_name(ANVIL_FINISH_NONE), "none");
  EXPECT_STREQ(anvil_finish_reason_name(ANVIL_FINISH_STOP), "stop");
  EXPECT_STREQ(anvil_finish_reason_name(ANVIL_FINISH_LENGTH), "length");
  EXPECT_STREQ(anvil_finish_reason_name(ANVIL_FINISH_CANCELLED), "cancelled");
  EXPECT_STREQ(anvil_finish_reason_name(ANVIL_FINISH_ERROR), "error");
  EXPECT_STREQ(anvil_finish_reason_name(static_cast<anvil_finish_reason>(9)),
               "unknown");
}

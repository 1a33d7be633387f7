//===- EngineTest.cpp - the engine over the reference model ---------------===//
//
// Outputs are checked against greedyContinuation(), which computes what the
// reference model gives without any paging, so a wrong slot, block table,
// prefix hit or preemption shows up as a wrong token.
//
//===----------------------------------------------------------------------===//

#include "EngineTestSupport.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

using namespace anvil::engine;
using namespace anvil::engine::test;

namespace {

constexpr int64_t kVocab = 97;

TEST(Engine, GreedyMatchesTheReference) {
  Harness h;
  std::vector<int64_t> prompt{5, 17, 3, 88, 42, 1, 0, 96, 12, 7};
  uint64_t id = h.submit(prompt, greedyParams(20));
  h.run();
  Outcome outcome = h.collector.get(id);
  EXPECT_EQ(outcome.tokens, greedyContinuation(prompt, 20, kVocab));
  EXPECT_EQ(outcome.finish, FinishReason::Length);
  EXPECT_EQ(outcome.finals, 1);
  h.expectNoLeaks();
}

struct Job {
  std::vector<int64_t> prompt;
  SamplingParams params;
};

std::vector<Job> makeJobs(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Job> jobs;
  for (int i = 0; i < n; ++i) {
    Job job;
    job.prompt =
        randomPrompt(rng, 1 + static_cast<int64_t>(rng() % 60), kVocab);
    job.params = greedyParams(1 + static_cast<int64_t>(rng() % 40));
    if (i % 2) {
      // Seeded sampling must not depend on the batch either.
      job.params.temperature = 0.9f;
      job.params.topP = 0.95f;
      job.params.topK = 20;
      job.params.repetitionPenalty = 1.1f;
      job.params.hasSeed = true;
      job.params.seed = 1000 + static_cast<uint64_t>(i);
    }
    jobs.push_back(job);
  }
  return jobs;
}

std::vector<std::vector<int64_t>> runJobs(const std::vector<Job> &jobs,
                                          const EngineConfig &config,
                                          EngineStats *stats = nullptr) {
  Harness h(referenceInfo(), config);
  std::vector<uint64_t> ids;
  for (const Job &job : jobs)
    ids.push_back(h.submit(job.prompt, job.params));
  h.run();
  std::vector<std::vector<int64_t>> outputs;
  for (uint64_t id : ids) {
    Outcome outcome = h.collector.get(id);
    EXPECT_EQ(outcome.finals, 1);
    EXPECT_EQ(outcome.finish, FinishReason::Length);
    outputs.push_back(outcome.tokens);
  }
  h.expectNoLeaks();
  if (stats)
    *stats = h.engine->stats();
  return outputs;
}

TEST(Engine, BatchInvariance) {
  std::vector<Job> jobs = makeJobs(33, 7);
  // Each request alone, in an engine of its own.
  std::vector<std::vector<int64_t>> alone;
  for (const Job &job : jobs)
    alone.push_back(runJobs({job}, EngineConfig())[0]);
  for (size_t i = 0; i < jobs.size(); i += 2)
    EXPECT_EQ(alone[i], greedyContinuation(jobs[i].prompt,
                                           jobs[i].params.maxNewTokens, kVocab))
        << "request " << i;

  EngineStats stats;
  EXPECT_EQ(runJobs(jobs, EngineConfig(), &stats), alone) << "among 32 others";

  EngineConfig chunked;
  chunked.maxTokensPerStep = 7; // prompts of up to 60 tokens in chunks
  EXPECT_EQ(runJobs(jobs, chunked, &stats), alone) << "with chunked prefill";
  EXPECT_GT(stats.steps, 100);

  // A pool that holds about one long request: preemption all the time.
  EngineConfig tiny;
  tiny.kvBlocks = 26; // 104 positions; the longest request needs 100
  EXPECT_EQ(runJobs(jobs, tiny, &stats), alone) << "with preemption";
  EXPECT_GT(stats.preemptions, 10);

  EngineConfig both = tiny;
  both.maxTokensPerStep = 5;
  both.maxSeqsPerStep = 3;
  both.enablePrefixCaching = false;
  EXPECT_EQ(runJobs(jobs, both, &stats), alone)
      << "chunked, preempted, no prefix cache";
  EXPECT_GT(stats.preemptions, 0);
}

TEST(Engine, PrefixIsComputedOnce) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> prefix = randomPrompt(rng, 64, kVocab);
  std::vector<std::vector<int64_t>> prompts;
  for (int i = 0; i < 6; ++i) {
    std::vector<int64_t> prompt = prefix;
    std::vector<int64_t> suffix = randomPrompt(rng, 5, kVocab);
    prompt.insert(prompt.end(), suffix.begin(), suffix.end());
    prompts.push_back(prompt);
  }
  auto run = [&](bool caching, std::vector<std::vector<int64_t>> &outputs) {
    EngineConfig config;
    config.enablePrefixCaching = caching;
    Harness h(referenceInfo(), config);
    std::vector<uint64_t> ids;
    ids.push_back(h.submit(prompts[0], greedyParams(4)));
    h.run();
    for (size_t i = 1; i < prompts.size(); ++i)
      ids.push_back(h.submit(prompts[i], greedyParams(4)));
    h.run();
    for (uint64_t id : ids)
      outputs.push_back(h.collector.get(id).tokens);
    h.expectNoLeaks();
    EngineStats stats = h.engine->stats();
    EXPECT_EQ(stats.computedTokens, h.model->computedTokens.load());
    return stats;
  };
  std::vector<std::vector<int64_t>> cached, uncached;
  EngineStats with = run(true, cached);
  EngineStats without = run(false, uncached);
  // The first computes 69 prompt tokens and 3 fed-back tokens; the others
  // find the 64-token prefix (16 blocks of 4) and compute 5 + 3.
  EXPECT_EQ(with.computedTokens, 72 + 5 * 8);
  EXPECT_EQ(with.computedPromptTokens, 69 + 5 * 5);
  EXPECT_EQ(with.prefixHitTokens, 5 * 64);
  EXPECT_EQ(with.prefixQueriedTokens, 6 * 69);
  EXPECT_NEAR(with.prefixCacheHitRate, 320.0 / 414.0, 1e-9);
  EXPECT_EQ(without.computedTokens, 6 * 72);
  EXPECT_EQ(without.prefixHitTokens, 0);
  EXPECT_EQ(cached, uncached);
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(cached[i], greedyContinuation(prompts[i], 4, kVocab));
}

TEST(Engine, BadRequestsAreRejectedAndOthersKeepRunning) {
  EngineConfig config;
  config.kvBlocks = 64; // 256 positions; the context is 512
  Harness h(referenceInfo(), config);
  std::vector<int64_t> good{1, 2, 3, 4, 5};
  uint64_t goodId = h.submit(good, greedyParams(30));
  ASSERT_EQ(h.engine->step(), nullptr);

  struct Bad {
    std::vector<int64_t> prompt;
    SamplingParams params;
    anvil_status_code code;
    const char *says;
  };
  SamplingParams hot = greedyParams(4);
  hot.temperature = -1.0f;
  SamplingParams stops = greedyParams(4);
  stops.stopStrings = {"end"};
  SamplingParams topP = greedyParams(4);
  topP.topP = 0.0f;
  std::vector<Bad> bad{
      {{}, greedyParams(4), ANVIL_INVALID_ARGUMENT, "empty"},
      {{1, -1}, greedyParams(4), ANVIL_INVALID_ARGUMENT, "vocabulary"},
      {{1, kVocab}, greedyParams(4), ANVIL_INVALID_ARGUMENT, "vocabulary"},
      {std::vector<int64_t>(512, 1), greedyParams(0), ANVIL_INVALID_ARGUMENT,
       "context"},
      {std::vector<int64_t>(100, 1), greedyParams(500), ANVIL_INVALID_ARGUMENT,
       "context"},
      {std::vector<int64_t>(200, 1), greedyParams(100),
       ANVIL_RESOURCE_EXHAUSTED, "KV pool"},
      {std::vector<int64_t>(300, 1), greedyParams(0), ANVIL_RESOURCE_EXHAUSTED,
       "KV pool"},
      {{1}, hot, ANVIL_INVALID_ARGUMENT, "temperature"},
      {{1}, topP, ANVIL_INVALID_ARGUMENT, "top_p"},
      {{1}, stops, ANVIL_INVALID_ARGUMENT, "tokenizer"},
  };
  for (const Bad &b : bad) {
    uint64_t id = 0;
    std::string message;
    EXPECT_EQ(takeCode(h.engine->submit(b.prompt, b.params,
                                        h.collector.callback(), id),
                       &message),
              b.code)
        << message;
    EXPECT_NE(message.find(b.says), std::string::npos) << message;
    EXPECT_EQ(id, 0u) << "no id for a rejected request";
  }
  uint64_t id = 0;
  std::string message;
  EXPECT_EQ(takeCode(h.engine->submitText("hello", greedyParams(3),
                                          h.collector.callback(), id),
                     &message),
            ANVIL_NOT_FOUND);
  EXPECT_NE(message.find("tokenizer"), std::string::npos) << message;
  EXPECT_EQ(takeCode(h.engine->cancel(12345), &message), ANVIL_NOT_FOUND);

  h.run();
  Outcome outcome = h.collector.get(goodId);
  EXPECT_EQ(outcome.tokens, greedyContinuation(good, 30, kVocab));
  EXPECT_EQ(outcome.finals, 1);
  EngineStats stats = h.engine->stats();
  EXPECT_EQ(stats.requestsRejected, static_cast<int64_t>(bad.size()) + 1);
  EXPECT_EQ(stats.requestsSubmitted, 1);
  EXPECT_EQ(stats.requestsFinished, 1);
  h.expectNoLeaks();
}

TEST(Engine, AFailedStepFailsItsBatchAndTheEngineServesOn) {
  Harness h;
  std::vector<int64_t> healthy{4, 8, 15, 16, 23, 42};
  std::vector<int64_t> want = greedyContinuation(healthy, 10, kVocab);
  int64_t poison = 0;
  while (std::count(want.begin(), want.end(), poison) ||
         std::count(healthy.begin(), healthy.end(), poison))
    ++poison;
  h.model->failOnToken = poison;
  uint64_t failing = h.submit({1, 2, poison, 3}, greedyParams(5));
  std::string message;
  EXPECT_EQ(takeCode(h.engine->step(), &message), ANVIL_EXECUTION_FAILED);
  Outcome failed = h.collector.get(failing);
  EXPECT_EQ(failed.finish, FinishReason::Error);
  EXPECT_EQ(failed.finals, 1);
  EXPECT_NE(failed.error.find("the failing token"), std::string::npos)
      << failed.error;
  uint64_t ok = h.submit(healthy, greedyParams(10));
  h.run();
  EXPECT_EQ(h.collector.get(ok).tokens, want);
  EXPECT_EQ(h.engine->stats().requestsFailed, 1);
  h.expectNoLeaks();
}

TEST(Engine, CancelEndsARequestOnceWhereverItIs) {
  EngineConfig config;
  config.maxSeqsPerStep = 2; // some requests wait
  Harness h(referenceInfo(), config);
  std::mt19937_64 rng(11);
  std::vector<std::vector<int64_t>> prompts;
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    prompts.push_back(randomPrompt(rng, 10, kVocab));
    ids.push_back(h.submit(prompts.back(), greedyParams(50)));
  }
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(h.engine->step(), nullptr);
  EXPECT_EQ(h.engine->cancel(ids[1]), nullptr); // running
  EXPECT_EQ(h.engine->cancel(ids[4]), nullptr); // waiting
  EXPECT_EQ(h.engine->cancel(ids[4]), nullptr); // twice is harmless
  uint64_t late = h.submit(prompts[0], greedyParams(50));
  EXPECT_EQ(h.engine->cancel(late), nullptr); // not even taken yet
  h.run();
  for (uint64_t id : {ids[1], ids[4], late}) {
    Outcome outcome = h.collector.get(id);
    EXPECT_EQ(outcome.finish, FinishReason::Cancelled) << id;
    EXPECT_EQ(outcome.finals, 1) << id;
    EXPECT_EQ(outcome.eventsAfterFinal, 0) << id;
  }
  EXPECT_TRUE(h.collector.get(late).tokens.empty());
  for (int i : {0, 2, 3})
    EXPECT_EQ(h.collector.get(ids[i]).tokens,
              greedyContinuation(prompts[i], 50, kVocab));
  EXPECT_EQ(takeCode(h.engine->cancel(ids[0])), ANVIL_NOT_FOUND) << "finished";
  EngineStats stats = h.engine->stats();
  EXPECT_EQ(stats.requestsCancelled, 3);
  EXPECT_EQ(stats.requestsFinished, 3);
  h.expectNoLeaks();
}

TEST(Engine, StopsOnEosStopTokensAndLength) {
  std::vector<int64_t> prompt{9, 9, 9, 1};
  std::vector<int64_t> want = greedyContinuation(prompt, 30, kVocab);
  int64_t eos = want[6];
  size_t upTo = std::find(want.begin(), want.end(), eos) - want.begin() + 1;
  std::vector<int64_t> untilEos(want.begin(), want.begin() + upTo);

  EngineConfig config;
  config.eosTokenIds = {eos};
  Harness h(referenceInfo(), config);
  uint64_t stopped = h.submit(prompt, greedyParams(30));
  SamplingParams ignore = greedyParams(30);
  ignore.ignoreEos = true;
  uint64_t ignoring = h.submit(prompt, ignore);
  SamplingParams byParam = greedyParams(30);
  byParam.ignoreEos = true;
  byParam.stopTokenIds = {want[3]};
  uint64_t stopToken = h.submit(prompt, byParam);
  h.run();
  EXPECT_EQ(h.collector.get(stopped).tokens, untilEos)
      << "the EOS token is delivered, then the request ends";
  EXPECT_EQ(h.collector.get(stopped).finish, FinishReason::Stop);
  EXPECT_EQ(h.collector.get(ignoring).tokens, want);
  EXPECT_EQ(h.collector.get(ignoring).finish, FinishReason::Length);
  size_t stopAt = std::find(want.begin(), want.end(), want[3]) - want.begin();
  EXPECT_EQ(h.collector.get(stopToken).tokens,
            std::vector<int64_t>(want.begin(), want.begin() + stopAt + 1));
  EXPECT_EQ(h.collector.get(stopToken).finish, FinishReason::Stop);
  h.expectNoLeaks();
}

TEST(Engine, RunsUntilTheContextIsFullWithoutMaxNewTokens) {
  Harness h(referenceInfo(97, 4, 64));
  std::vector<int64_t> prompt(60, 3);
  uint64_t id = h.submit(prompt, greedyParams(0));
  h.run();
  EXPECT_EQ(h.collector.get(id).tokens, greedyContinuation(prompt, 4, kVocab));
  EXPECT_EQ(h.collector.get(id).finish, FinishReason::Length);
}

TEST(Engine, PollingDeliversTheSameEvents) {
  Harness h;
  std::vector<int64_t> prompt{3, 1, 4, 1, 5, 9, 2, 6};
  uint64_t id = 0;
  ASSERT_EQ(h.engine->submit(prompt, greedyParams(12), nullptr, id), nullptr);
  h.run();
  std::vector<TokenEvent> events;
  EXPECT_EQ(h.engine->poll(events, 5), 5u);
  EXPECT_EQ(h.engine->poll(events, 100), 7u);
  EXPECT_EQ(h.engine->poll(events, 100), 0u);
  std::vector<int64_t> tokens;
  for (const TokenEvent &event : events) {
    EXPECT_EQ(event.requestId, id);
    tokens.push_back(event.token);
  }
  EXPECT_EQ(tokens, greedyContinuation(prompt, 12, kVocab));
  EXPECT_EQ(events.back().finish, FinishReason::Length);
  EXPECT_EQ(events[10].finish, FinishReason::None);
}

TEST(Engine, StatisticsAddUp) {
  Harness h;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 4; ++i)
    h.submit(randomPrompt(rng, 10, kVocab), greedyParams(6));
  EngineStats before = h.engine->stats();
  EXPECT_EQ(before.waiting, 4) << "submitted, not yet taken";
  h.run();
  EngineStats stats = h.engine->stats();
  EXPECT_EQ(stats.requestsSubmitted, 4);
  EXPECT_EQ(stats.requestsFinished, 4);
  EXPECT_EQ(stats.generatedTokens, 24);
  EXPECT_EQ(stats.computedPromptTokens, 40);
  EXPECT_EQ(stats.computedTokens, 40 + 4 * 5);
  EXPECT_EQ(stats.ttftCount, 4);
  EXPECT_GT(stats.ttftMsMean, 0.0);
  EXPECT_GE(stats.ttftMsMax, stats.ttftMsMean);
  EXPECT_EQ(stats.waiting + stats.running, 0);
  EXPECT_EQ(stats.kvBlocksTotal, 4096);
  EXPECT_EQ(stats.kvBlocksFree, 4096);
  EXPECT_EQ(stats.kvBlocksUsed, 0);
  EXPECT_GT(stats.kvBlocksCached, 0);
  EXPECT_GT(stats.busySeconds, 0.0);
  EXPECT_GT(stats.generatedTokensPerSecond, 0.0);
  EXPECT_GT(stats.promptTokensPerSecond, 0.0);
  EXPECT_EQ(stats.steps, 6);
}

TEST(Engine, RejectsBadConfigs) {
  auto create = [](const StepModelInfo &info, const EngineConfig &config) {
    std::unique_ptr<Engine> engine;
    std::string message;
    anvil_status_code code =
        takeCode(Engine::create(std::make_unique<ReferenceStepModel>(info),
                                config, engine),
                 &message);
    return std::make_pair(code, message);
  };
  EngineConfig both;
  both.kvBlocks = 4;
  both.kvBytes = 4096;
  EXPECT_EQ(create(referenceInfo(), both).first, ANVIL_INVALID_ARGUMENT);
  EngineConfig tooMany;
  tooMany.kvBlocks = 5000;
  EXPECT_NE(create(referenceInfo(), tooMany).second.find("above"),
            std::string::npos);
  EngineConfig bytes;
  bytes.kvBytes = 10; // below one block (64 bytes)
  EXPECT_NE(create(referenceInfo(), bytes).second.find("less than one block"),
            std::string::npos);
  EngineConfig tokens;
  tokens.maxTokensPerStep = 65;
  EXPECT_EQ(create(referenceInfo(), tokens).first, ANVIL_INVALID_ARGUMENT);
  EngineConfig eos;
  eos.eosTokenIds = {97};
  EXPECT_EQ(create(referenceInfo(), eos).first, ANVIL_INVALID_ARGUMENT);
  EXPECT_EQ(create(referenceInfo(0), EngineConfig()).first,
            ANVIL_INVALID_ARGUMENT);
  // Bytes become whole blocks.
  EngineConfig budget;
  budget.kvBytes = 64 * 10 + 63;
  std::unique_ptr<Engine> engine;
  ASSERT_EQ(
      Engine::create(std::make_unique<ReferenceStepModel>(referenceInfo()),
                     budget, engine),
      nullptr);
  EXPECT_EQ(engine->stats().kvBlocksTotal, 10);
  std::unique_ptr<Engine> none;
  EXPECT_EQ(takeCode(Engine::create(nullptr, EngineConfig(), none)),
            ANVIL_INVALID_ARGUMENT);
}

TEST(Engine, BackgroundThreadServesSubmittersOnOtherThreads) {
  Harness h;
  ASSERT_EQ(h.engine->start(), nullptr);
  EXPECT_EQ(takeCode(h.engine->start()), ANVIL_INVALID_ARGUMENT);
  const int threads = 4, perThread = 25;
  std::mutex mu;
  std::map<uint64_t, std::pair<std::vector<int64_t>, bool>> submitted;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      for (int i = 0; i < perThread; ++i) {
        std::vector<int64_t> prompt =
            randomPrompt(rng, 1 + static_cast<int64_t>(rng() % 30), kVocab);
        uint64_t id = h.submit(prompt, greedyParams(20));
        bool cancelled =
            rng() % 5 == 0 && takeCode(h.engine->cancel(id)) == ANVIL_OK;
        std::lock_guard<std::mutex> lock(mu);
        submitted[id] = {prompt, cancelled};
      }
    });
  for (std::thread &worker : workers)
    worker.join();
  ASSERT_TRUE(
      h.collector.waitForFinals(threads * perThread, std::chrono::seconds(60)));
  // Idle: the thread sleeps on its condition variable, no steps.
  int64_t steps = h.engine->stats().steps;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(h.engine->stats().steps, steps);
  ASSERT_EQ(h.engine->stop(), nullptr);
  EXPECT_EQ(submitted.size(), static_cast<size_t>(threads * perThread));
  for (const auto &[id, job] : submitted) {
    Outcome outcome = h.collector.get(id);
    EXPECT_EQ(outcome.finals, 1);
    if (outcome.finish == FinishReason::Cancelled)
      continue;
    EXPECT_EQ(outcome.tokens, greedyContinuation(job.first, 20, kVocab));
  }
  h.expectNoLeaks();
  // Stopped, it can be stepped by the caller and started again.
  uint64_t after = h.submit({1, 2, 3}, greedyParams(2));
  ASSERT_EQ(h.engine->start(), nullptr);
  ASSERT_TRUE(h.collector.waitForFinals(threads * perThread + 1,
                                        std::chrono::seconds(10)));
  EXPECT_EQ(h.collector.get(after).tokens,
            greedyContinuation({1, 2, 3}, 2, kVocab));
}

TEST(Engine, Soak) {
  // 500 in the suite (well under a second); ANVIL_SOAK_REQUESTS runs a
  // longer one (docs/engine.md).
  const char *requests = std::getenv("ANVIL_SOAK_REQUESTS");
  const int total = requests ? std::max(1, std::atoi(requests)) : 500;
  EngineConfig config;
  config.kvBlocks = 96; // 384 positions: heavy preemption
  config.maxSeqsPerStep = 32;
  Harness h(referenceInfo(), config);
  std::mt19937_64 rng(2024);
  std::vector<std::vector<int64_t>> bases;
  for (int i = 0; i < 5; ++i)
    bases.push_back(randomPrompt(rng, 40, kVocab));
  struct Submitted {
    std::vector<int64_t> prompt;
    SamplingParams params;
  };
  std::map<uint64_t, Submitted> submitted;
  std::vector<uint64_t> ids;
  std::set<uint64_t> cancelRequested;
  int next = 0;
  int guard = 0;
  while (h.collector.finalCount() < total) {
    // About 4 steps per request here; far more means no progress.
    ASSERT_LT(++guard, 400 * total) << "no progress";
    for (int k = rng() % 4; k > 0 && next < total; --k, ++next) {
      Submitted job;
      int64_t length = 1 + static_cast<int64_t>(rng() % 120);
      if (rng() % 3 == 0) {
        job.prompt = bases[rng() % bases.size()];
        std::vector<int64_t> tail = randomPrompt(rng, length % 30, kVocab);
        job.prompt.insert(job.prompt.end(), tail.begin(), tail.end());
      } else {
        job.prompt = randomPrompt(rng, length, kVocab);
      }
      job.params = greedyParams(1 + static_cast<int64_t>(rng() % 48));
      if (rng() % 2) {
        job.params.temperature = 0.8f;
        job.params.minP = 0.05f;
        job.params.hasSeed = true;
        job.params.seed = rng();
      }
      uint64_t id = h.submit(job.prompt, job.params);
      submitted[id] = job;
      ids.push_back(id);
    }
    if (rng() % 10 == 0 && !ids.empty()) {
      uint64_t victim = ids[rng() % ids.size()];
      if (takeCode(h.engine->cancel(victim)) == ANVIL_OK)
        cancelRequested.insert(victim);
      else
        EXPECT_EQ(h.collector.get(victim).finals, 1) << "only finished ones";
    }
    anvil_status status = h.engine->step();
    ASSERT_EQ(status, nullptr) << anvil_status_get_message(status);
  }
  EXPECT_EQ(next, total);
  int cancelled = 0, finished = 0;
  for (const auto &[id, job] : submitted) {
    Outcome outcome = h.collector.get(id);
    ASSERT_EQ(outcome.finals, 1) << id;
    EXPECT_EQ(outcome.eventsAfterFinal, 0);
    if (outcome.finish == FinishReason::Cancelled) {
      EXPECT_TRUE(cancelRequested.count(id));
      ++cancelled;
      continue;
    }
    ASSERT_EQ(outcome.finish, FinishReason::Length) << outcome.error;
    ++finished;
    EXPECT_EQ(static_cast<int64_t>(outcome.tokens.size()),
              job.params.maxNewTokens);
    if (job.params.temperature == 0.0f)
      EXPECT_EQ(outcome.tokens,
                greedyContinuation(job.prompt, job.params.maxNewTokens, kVocab))
          << "request " << id;
  }
  EXPECT_EQ(cancelled + finished, total);
  EXPECT_GT(cancelled, 10);
  EngineStats stats = h.engine->stats();
  EXPECT_EQ(stats.requestsCancelled, cancelled);
  EXPECT_EQ(stats.requestsFinished, finished);
  EXPECT_EQ(stats.requestsFailed, 0);
  EXPECT_GT(stats.preemptions, 0);
  EXPECT_GT(stats.prefixHitTokens, 0);
  h.expectNoLeaks();
  std::printf("soak: %d finished, %d cancelled, %lld steps, %lld "
              "preemptions, %lld computed tokens, %lld prefix-hit tokens\n",
              finished, cancelled, static_cast<long long>(stats.steps),
              static_cast<long long>(stats.preemptions),
              static_cast<long long>(stats.computedTokens),
              static_cast<long long>(stats.prefixHitTokens));
}

} // namespace

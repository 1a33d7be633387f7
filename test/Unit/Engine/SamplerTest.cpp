//===- SamplerTest.cpp - penalties, filters, seeds, logprobs --------------===//

#include "runtime/engine/Sampler.h"

#include "anvil/anvil.h"

#include <gtest/gtest.h>
#include <random>

#include <cmath>
#include <map>

using namespace anvil::engine;

namespace {

SamplingParams greedy() {
  SamplingParams params;
  params.temperature = 0.0f;
  return params;
}

double probSum(const std::vector<std::pair<int64_t, float>> &kept) {
  double sum = 0.0;
  for (const auto &item : kept)
    sum += item.second;
  return sum;
}

/// Softmax of `logits` at temperature 1, in double.
std::vector<double> softmax(const std::vector<float> &logits) {
  double max = *std::max_element(logits.begin(), logits.end());
  std::vector<double> out;
  double sum = 0.0;
  for (float l : logits)
    sum += std::exp(l - max);
  for (float l : logits)
    out.push_back(std::exp(l - max) / sum);
  return out;
}

TEST(Sampler, GreedyIsArgmaxWithTiesToTheSmallerId) {
  Sampler sampler(5);
  std::vector<float> logits{0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  SampleResult result;
  std::vector<int64_t> tokens{0};
  sampler.sample(logits.data(), greedy(), 1, tokens, 1, result);
  EXPECT_EQ(result.token, 1);
}

/// The greedy rule, one logit at a time (what greedyToken must equal).
int64_t sequentialGreedy(const std::vector<float> &logits) {
  int64_t best = 0;
  for (int64_t v = 1; v < int64_t(logits.size()); ++v)
    if (logits[v] > logits[best])
      best = v;
  return best;
}

// The vectorized greedy scan against the sequential rule: vocabularies of
// every length around its 16 lanes and 1024-logit blocks, with ties (few
// distinct values), NaNs, infinities and signed zeros, and the largest
// value in the first, a middle and the last block.
TEST(Sampler, GreedyTokenMatchesTheSequentialRule) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> pick(0, 9);
  const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f};
  int64_t cases = 0;
  for (int64_t n : {1, 2, 15, 16, 17, 1023, 1024, 1025, 5000, 32000})
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<float> logits(static_cast<size_t>(n));
      for (float &x : logits) {
        int r = pick(rng);
        // Trials 0-9 draw from few values (many ties); later ones also
        // plant specials.
        x = r < 5 || trial < 10 ? float(pick(rng) % 4) - 2.0f : specials[r % 5];
      }
      if (trial % 4 == 1)
        logits[size_t(n / 2)] = 7.0f;
      if (trial % 4 == 2)
        logits.back() = 7.0f;
      if (trial % 8 == 3)
        logits[0] = NAN;
      EXPECT_EQ(Sampler::greedyToken(logits.data(), n),
                sequentialGreedy(logits))
          << "n " << n << " trial " << trial;
      ++cases;
    }
  // Signed zeros and NaNs only: the first zero, whatever its sign.
  std::vector<float> zeros{NAN, -0.0f, 0.0f, -0.0f};
  zeros[0] = -INFINITY;
  EXPECT_EQ(Sampler::greedyToken(zeros.data(), 4), sequentialGreedy(zeros));
  EXPECT_EQ(cases, 400);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  Sampler sampler(6);
  std::vector<float> logits{2.0f, -2.0f, 3.0f, 1.0f, -1.0f, 0.5f};
  SamplingParams params;
  params.repetitionPenalty = 2.0f;
  // Prompt {0, 1, 0}, generated {4, 4}: 0, 1 and 4 are penalized once each.
  std::vector<int64_t> tokens{0, 1, 0, 4, 4};
  sampler.applyPenalties(logits.data(), params, tokens, 3);
  EXPECT_FLOAT_EQ(logits[0], 1.0f);
  EXPECT_FLOAT_EQ(logits[1], -4.0f);
  EXPECT_FLOAT_EQ(logits[2], 3.0f);
  EXPECT_FLOAT_EQ(logits[3], 1.0f);
  EXPECT_FLOAT_EQ(logits[4], -2.0f);
  EXPECT_FLOAT_EQ(logits[5], 0.5f);
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountGeneratedTokensOnly) {
  Sampler sampler(5);
  std::vector<float> logits(5, 1.0f);
  SamplingParams params;
  params.frequencyPenalty = 0.5f;
  params.presencePenalty = 0.25f;
  // Prompt {2, 2, 2} is not counted; generated: 0 x3, 1 x1, 2 x1.
  std::vector<int64_t> tokens{2, 2, 2, 0, 1, 0, 2, 0};
  sampler.applyPenalties(logits.data(), params, tokens, 3);
  EXPECT_FLOAT_EQ(logits[0], 1.0f - 1.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[1], 1.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[2], 1.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[3], 1.0f);
  EXPECT_FLOAT_EQ(logits[4], 1.0f);
  // Applying again from a clean state gives the same (scratch is reset).
  std::vector<float> again(5, 1.0f);
  sampler.applyPenalties(again.data(), params, tokens, 3);
  EXPECT_EQ(again, logits);
}

TEST(Sampler, TopKKeepsTheKMostLikely) {
  Sampler sampler(8);
  std::vector<float> logits{0, 5, 1, 4, 2, 3, -1, 6};
  SamplingParams params;
  params.topK = 3;
  const auto &kept = sampler.candidates(logits.data(), params);
  std::vector<int64_t> ids;
  for (const auto &item : kept)
    ids.push_back(item.first);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 3, 7}));
  EXPECT_NEAR(probSum(kept), 1.0, 1e-6);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingTheMass) {
  Sampler sampler(64);
  std::vector<float> logits;
  for (int i = 0; i < 64; ++i)
    logits.push_back(std::sin(i * 1.7f) * 3.0f);
  std::vector<double> probs = softmax(logits);
  std::vector<double> sorted = probs;
  std::sort(sorted.rbegin(), sorted.rend());
  for (float topP : {0.1f, 0.5f, 0.9f, 0.99f}) {
    SamplingParams params;
    params.topP = topP;
    const auto &kept = sampler.candidates(logits.data(), params);
    double mass = 0.0;
    for (const auto &item : kept)
      mass += probs[item.first];
    EXPECT_GE(mass, topP - 1e-6) << "top_p " << topP;
    // Without its least likely member the set is below top_p: minimal.
    double least = probs[kept.back().first];
    EXPECT_LT(mass - least, topP) << "top_p " << topP;
    EXPECT_DOUBLE_EQ(least, sorted[kept.size() - 1]) << "the most likely kept";
    EXPECT_NEAR(probSum(kept), 1.0, 1e-5) << "renormalized";
  }
  SamplingParams all;
  EXPECT_EQ(sampler.candidates(logits.data(), all).size(), 64u);
}

TEST(Sampler, MinPDropsTokensBelowAFractionOfTheMostLikely) {
  Sampler sampler(6);
  std::vector<float> logits{0.0f,           std::log(0.5f),
                            std::log(0.2f), std::log(0.09f),
                            std::log(0.8f), -30.0f};
  SamplingParams params;
  params.minP = 0.1f;
  const auto &kept = sampler.candidates(logits.data(), params);
  std::vector<int64_t> ids;
  for (const auto &item : kept)
    ids.push_back(item.first);
  EXPECT_EQ(ids, (std::vector<int64_t>{0, 1, 2, 4}));
}

TEST(Sampler, TemperatureSharpensAndZeroIsGreedy) {
  Sampler sampler(3);
  std::vector<float> logits{1.0f, 2.0f, 0.0f};
  SamplingParams params;
  params.temperature = 0.5f;
  const auto &kept = sampler.candidates(logits.data(), params);
  std::vector<float> scaled{2.0f, 4.0f, 0.0f};
  std::vector<double> want = softmax(scaled);
  for (const auto &item : kept)
    EXPECT_NEAR(item.second, want[item.first], 1e-6);
  // Temperature 0 draws the argmax whatever the seed.
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::vector<float> copy = logits;
    SampleResult result;
    std::vector<int64_t> tokens{0};
    sampler.sample(copy.data(), greedy(), seed, tokens, 1, result);
    EXPECT_EQ(result.token, 1);
  }
}

TEST(Sampler, DrawsFollowTheDistributionAndReproduceBySeed) {
  const int64_t vocab = 10;
  Sampler sampler(vocab);
  std::vector<float> logits;
  for (int i = 0; i < vocab; ++i)
    logits.push_back(0.3f * i);
  std::vector<double> probs = softmax(logits);
  SamplingParams params;
  std::map<int64_t, int> counts;
  const int draws = 40000;
  std::vector<int64_t> tokens{1};
  for (int i = 0; i < draws; ++i) {
    std::vector<float> copy = logits;
    SampleResult result;
    sampler.sample(copy.data(), params, /*seed=*/static_cast<uint64_t>(i),
                   tokens, 1, result);
    ++counts[result.token];
  }
  for (int64_t v = 0; v < vocab; ++v)
    EXPECT_NEAR(counts[v] / double(draws), probs[v], 0.01) << "token " << v;

  // The same seed and draw index give the same token; the sequence of a
  // seed is the same however it is interleaved with others.
  auto drawSequence = [&](uint64_t seed, bool interleave) {
    std::vector<int64_t> seq{3};
    for (int i = 0; i < 30; ++i) {
      if (interleave) {
        std::vector<float> other = logits;
        SampleResult ignored;
        std::vector<int64_t> otherTokens{1, 2};
        sampler.sample(other.data(), params, seed + 1, otherTokens, 1, ignored);
      }
      std::vector<float> copy = logits;
      SampleResult result;
      sampler.sample(copy.data(), params, seed, seq, 1, result);
      seq.push_back(result.token);
    }
    return seq;
  };
  EXPECT_EQ(drawSequence(42, false), drawSequence(42, true));
  EXPECT_NE(drawSequence(42, false), drawSequence(43, false));
}

TEST(Sampler, LogprobsAreTheRawLogSoftmax) {
  Sampler sampler(6);
  std::vector<float> logits{1.0f, 3.0f, -2.0f, 3.0f, 0.5f, 2.0f};
  std::vector<double> probs = softmax(logits);
  SamplingParams params = greedy();
  params.logprobs = 3;
  params.repetitionPenalty = 10.0f; // changes the pick, not the logprobs
  std::vector<float> copy = logits;
  SampleResult result;
  std::vector<int64_t> tokens{1, 3};
  sampler.sample(copy.data(), params, 7, tokens, 2, result);
  EXPECT_EQ(result.token, 5) << "1 and 3 are penalized to 0.3";
  EXPECT_NEAR(result.logprob, std::log(probs[5]), 1e-5);
  ASSERT_EQ(result.top.size(), 3u);
  EXPECT_EQ(result.top[0].token, 1);
  EXPECT_EQ(result.top[1].token, 3);
  EXPECT_EQ(result.top[2].token, 5);
  for (const TokenLogprob &item : result.top)
    EXPECT_NEAR(item.logprob, std::log(probs[item.token]), 1e-5);
}

TEST(Sampler, AllNegativeInfinityFallsBackToGreedy) {
  Sampler sampler(3);
  std::vector<float> logits(3, -INFINITY);
  SamplingParams params;
  SampleResult result;
  std::vector<int64_t> tokens{0};
  sampler.sample(logits.data(), params, 1, tokens, 1, result);
  EXPECT_EQ(result.token, 0);
}

TEST(SamplingParams, InvalidValuesAreRejectedByName) {
  auto check = [](SamplingParams params, const char *field) {
    anvil_status status = validateSamplingParams(params, 100);
    ASSERT_NE(status, nullptr) << field;
    EXPECT_EQ(anvil_status_get_code(status), ANVIL_INVALID_ARGUMENT);
    EXPECT_NE(std::string(anvil_status_get_message(status)).find(field),
              std::string::npos)
        << anvil_status_get_message(status);
    anvil_status_free(status);
  };
  SamplingParams p;
  EXPECT_EQ(validateSamplingParams(p, 100), nullptr);
  p = {};
  p.temperature = -0.1f;
  check(p, "temperature");
  p = {};
  p.temperature = NAN;
  check(p, "temperature");
  p = {};
  p.topK = -1;
  check(p, "top_k");
  p = {};
  p.topP = 0.0f;
  check(p, "top_p");
  p = {};
  p.topP = 1.5f;
  check(p, "top_p");
  p = {};
  p.minP = -0.5f;
  check(p, "min_p");
  p = {};
  p.minP = 1.5f;
  check(p, "min_p");
  p = {};
  p.repetitionPenalty = 0.0f;
  check(p, "repetition_penalty");
  p = {};
  p.frequencyPenalty = 3.0f;
  check(p, "frequency_penalty");
  p = {};
  p.presencePenalty = -2.5f;
  check(p, "presence_penalty");
  p = {};
  p.maxNewTokens = -1;
  check(p, "max_new_tokens");
  p = {};
  p.stopTokenIds = {100};
  check(p, "stop token id");
  p = {};
  p.stopStrings = {""};
  check(p, "stop string");
  p = {};
  p.logprobs = 21;
  check(p, "logprobs");
  p = {};
  p.logprobs = -2;
  check(p, "logprobs");
}

} // namespace

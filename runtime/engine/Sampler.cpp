//===- Sampler.cpp - logits to a token ------------------------------------===//

#include "runtime/engine/Sampler.h"

#include "runtime/src/Status.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace anvil::engine {

using runtime::makeStatus;

namespace {

anvil_status invalid(const std::string &message) {
  return makeStatus(ANVIL_INVALID_ARGUMENT, message);
}

/// More likely first; ties by the smaller id, so every order is the same.
bool moreLikely(const std::pair<int64_t, float> &a,
                const std::pair<int64_t, float> &b) {
  return a.second > b.second || (a.second == b.second && a.first < b.first);
}

bool moreLikelyLogprob(const TokenLogprob &a, const TokenLogprob &b) {
  return a.logprob > b.logprob || (a.logprob == b.logprob && a.token < b.token);
}

uint64_t splitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

anvil_status validateSamplingParams(const SamplingParams &params,
                                    int64_t vocabSize) {
  if (!(params.temperature >= 0.0f) || !std::isfinite(params.temperature))
    return invalid("temperature " + std::to_string(params.temperature) +
                   " must be finite and >= 0 (0 is greedy)");
  if (params.topK < 0)
    return invalid("top_k " + std::to_string(params.topK) +
                   " must be >= 0 (0 keeps every token)");
  if (!(params.topP > 0.0f && params.topP <= 1.0f))
    return invalid("top_p " + std::to_string(params.topP) +
                   " must be in (0, 1]");
  if (!(params.minP >= 0.0f && params.minP <= 1.0f))
    return invalid("min_p " + std::to_string(params.minP) +
                   " must be in [0, 1]");
  if (!(params.repetitionPenalty > 0.0f) ||
      !std::isfinite(params.repetitionPenalty))
    return invalid("repetition_penalty " +
                   std::to_string(params.repetitionPenalty) +
                   " must be finite and > 0 (1 is off)");
  if (!(params.frequencyPenalty >= -2.0f && params.frequencyPenalty <= 2.0f))
    return invalid("frequency_penalty " +
                   std::to_string(params.frequencyPenalty) +
                   " must be in [-2, 2]");
  if (!(params.presencePenalty >= -2.0f && params.presencePenalty <= 2.0f))
    return invalid("presence_penalty " +
                   std::to_string(params.presencePenalty) +
                   " must be in [-2, 2]");
  if (params.maxNewTokens < 0)
    return invalid("max_new_tokens " + std::to_string(params.maxNewTokens) +
                   " must be >= 0 (0 runs to the context's end)");
  for (int64_t id : params.stopTokenIds)
    if (id < 0 || id >= vocabSize)
      return invalid("stop token id " + std::to_string(id) +
                     " is outside the vocabulary [0, " +
                     std::to_string(vocabSize) + ")");
  for (const std::string &stop : params.stopStrings)
    if (stop.empty())
      return invalid("a stop string is empty");
  if (params.logprobs < -1 || params.logprobs > kMaxLogprobs)
    return invalid("logprobs " + std::to_string(params.logprobs) +
                   " must be in [-1, " + std::to_string(kMaxLogprobs) +
                   "] (-1 is none)");
  return nullptr;
}

Sampler::Sampler(int64_t vocabSize)
    : vocab(vocabSize), counts(static_cast<size_t>(vocabSize), 0),
      rawLogits(static_cast<size_t>(vocabSize)) {
  kept.reserve(static_cast<size_t>(vocabSize));
}

int64_t Sampler::greedyToken(const float *logits, int64_t n) {
  // The sequential rule keeps id 0 when its logit is NaN (nothing compares
  // greater); otherwise it ends at the first id of the largest number.
  if (n <= 1 || std::isnan(logits[0]))
    return 0;
  // Blocks of kBlock logits: each block's largest number in kLanes running
  // maxima (independent lanes the compiler vectorizes; `x > m ? x : m`
  // skips NaNs), and the first block whose largest beats the best so far
  // holds the answer, at its first logit equal to that best.
  constexpr int64_t kLanes = 16, kBlock = 1024;
  float best = logits[0];
  int64_t bestBlock = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = std::min(n, b + kBlock);
    float lane[kLanes];
    for (int64_t i = 0; i < kLanes; ++i)
      lane[i] = -INFINITY;
    int64_t v = b;
    for (; v + kLanes <= end; v += kLanes)
      for (int64_t i = 0; i < kLanes; ++i)
        lane[i] = logits[v + i] > lane[i] ? logits[v + i] : lane[i];
    float top = -INFINITY;
    for (int64_t i = 0; i < kLanes; ++i)
      top = lane[i] > top ? lane[i] : top;
    for (; v < end; ++v)
      top = logits[v] > top ? logits[v] : top;
    if (top > best) {
      best = top;
      bestBlock = b;
    }
  }
  for (int64_t v = bestBlock;; ++v)
    if (logits[v] == best)
      return v;
}

double Sampler::uniform(uint64_t seed, uint64_t counter) {
  uint64_t bits = splitMix64(splitMix64(seed) ^ counter);
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

void Sampler::applyPenalties(float *logits, const SamplingParams &params,
                             const std::vector<int64_t> &tokens,
                             size_t promptLen) {
  if (params.repetitionPenalty != 1.0f) {
    auto mark = [&](int64_t id) {
      if (counts[id]++ == 0)
        touched.push_back(id);
    };
    for (int64_t id : tokens)
      mark(id);
    float penalty = params.repetitionPenalty;
    for (int64_t id : touched) {
      float &logit = logits[id];
      logit = logit > 0.0f ? logit / penalty : logit * penalty;
      counts[id] = 0;
    }
    touched.clear();
  }
  if (params.frequencyPenalty != 0.0f || params.presencePenalty != 0.0f) {
    for (size_t i = promptLen; i < tokens.size(); ++i)
      if (counts[tokens[i]]++ == 0)
        touched.push_back(tokens[i]);
    for (int64_t id : touched) {
      logits[id] -= params.frequencyPenalty * static_cast<float>(counts[id]) +
                    params.presencePenalty;
      counts[id] = 0;
    }
    touched.clear();
  }
}

const std::vector<std::pair<int64_t, float>> &
Sampler::candidates(const float *logits, const SamplingParams &params) {
  kept.clear();
  float inverse = 1.0f / params.temperature;
  float maxScaled = -INFINITY;
  for (int64_t v = 0; v < vocab; ++v)
    maxScaled = std::max(maxScaled, logits[v] * inverse);
  // Relative to the most likely (1.0), so min-p compares directly.
  for (int64_t v = 0; v < vocab; ++v) {
    float p = std::exp(logits[v] * inverse - maxScaled);
    if (p > 0.0f && p >= params.minP)
      kept.emplace_back(v, p);
  }
  if (params.topK > 0 && static_cast<size_t>(params.topK) < kept.size()) {
    std::nth_element(kept.begin(), kept.begin() + params.topK, kept.end(),
                     moreLikely);
    kept.resize(static_cast<size_t>(params.topK));
  }
  double total = 0.0;
  for (const auto &candidate : kept)
    total += candidate.second;
  if (params.topP < 1.0f) {
    std::sort(kept.begin(), kept.end(), moreLikely);
    double mass = 0.0, want = params.topP * total;
    size_t n = 0;
    while (n < kept.size()) {
      mass += kept[n++].second;
      if (mass >= want)
        break;
    }
    kept.resize(n);
    total = mass;
  }
  for (auto &candidate : kept)
    candidate.second = static_cast<float>(candidate.second / total);
  return kept;
}

void Sampler::sample(float *logits, const SamplingParams &params, uint64_t seed,
                     const std::vector<int64_t> &tokens, size_t promptLen,
                     SampleResult &out) {
  // Logprobs are of the raw logits: their normalizer before penalties.
  float rawMax = -INFINITY;
  double logTotal = 0.0;
  out.top.clear();
  if (params.logprobs >= 0) {
    for (int64_t v = 0; v < vocab; ++v)
      rawMax = std::max(rawMax, logits[v]);
    double sum = 0.0;
    for (int64_t v = 0; v < vocab; ++v)
      sum += std::exp(static_cast<double>(logits[v] - rawMax));
    logTotal = rawMax + std::log(sum);
    if (params.logprobs > 0) {
      // A running top-n by insertion: n is at most kMaxLogprobs.
      size_t n = static_cast<size_t>(params.logprobs);
      for (int64_t v = 0; v < vocab; ++v) {
        TokenLogprob item{v, logits[v]};
        if (out.top.size() == n && !moreLikelyLogprob(item, out.top.back()))
          continue;
        auto at = std::upper_bound(out.top.begin(), out.top.end(), item,
                                   moreLikelyLogprob);
        out.top.insert(at, item);
        if (out.top.size() > n)
          out.top.pop_back();
      }
      for (auto &item : out.top)
        item.logprob = static_cast<float>(item.logprob - logTotal);
    }
  }
  // The chosen token's logprob is of its raw logit: keep a copy.
  if (params.logprobs >= 0)
    std::copy(logits, logits + vocab, rawLogits.begin());
  applyPenalties(logits, params, tokens, promptLen);

  int64_t token = -1;
  if (params.temperature > 0.0f) {
    const auto &kept = candidates(logits, params);
    double u = uniform(seed, tokens.size() - promptLen);
    double cumulative = 0.0;
    for (const auto &candidate : kept) {
      token = candidate.first;
      cumulative += candidate.second;
      if (u < cumulative)
        break;
    }
  }
  // Greedy, or logits with nothing to draw from (all -inf or NaN).
  if (token < 0)
    token = greedyToken(logits, vocab);
  out.token = token;
  out.logprob = params.logprobs >= 0
                    ? static_cast<float>(rawLogits[token] - logTotal)
                    : 0.0f;
}

} // namespace anvil::engine

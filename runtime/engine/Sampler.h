//===- Sampler.h - logits to a token ----------------------------*- C++ -*-===//
//
// Penalties, temperature, min-p, top-k, top-p and a draw from a counter-
// based RNG keyed by the request's seed and the index of the token being
// drawn, so a request's tokens never depend on what else is in the batch
// (or on a preemption that recomputes it).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_ENGINE_SAMPLER_H
#define ANVIL_RUNTIME_ENGINE_SAMPLER_H

#include "runtime/engine/SamplingParams.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace anvil::engine {

/// What the sampler drew for one token.
struct SampleResult {
  int64_t token = -1;
  /// Log-softmax of the raw logits at `token` (when logprobs >= 0).
  float logprob = 0.0f;
  /// The `logprobs` most likely tokens and their logprobs, most likely
  /// first (ties by smaller id).
  std::vector<TokenLogprob> top;
};

class Sampler {
public:
  explicit Sampler(int64_t vocabSize);

  /// Draws a request's next token from `logits` ([vocabSize] f32,
  /// modified in place: the penalties are applied to it). `tokens` are the
  /// request's tokens so far, the first `promptLen` its prompt; the draw's
  /// counter is the number generated so far. Parameters are valid
  /// (checked at submit).
  void sample(float *logits, const SamplingParams &params, uint64_t seed,
              const std::vector<int64_t> &tokens, size_t promptLen,
              SampleResult &out);

  /// The penalties alone, in place (for tests and for sample()).
  void applyPenalties(float *logits, const SamplingParams &params,
                      const std::vector<int64_t> &tokens, size_t promptLen);

  /// The probabilities sampling draws from after temperature, min-p,
  /// top-k and top-p, as (token, probability), summing to
  /// 1 (for tests and for sample()); sorted when top-p is set, otherwise
  /// in id order. `logits` already has its penalties.
  /// Temperature must be > 0.
  const std::vector<std::pair<int64_t, float>> &
  candidates(const float *logits, const SamplingParams &params);

  /// The greedy token of logits [n] (n >= 1, f32): the first id whose
  /// logit is the largest, as `for v: if (logits[v] > logits[best]) best =
  /// v` from best = 0 chooses it (a NaN is never chosen over a number, and
  /// a NaN at id 0 is kept; all -inf gives 0). Scans in vector lanes: a
  /// batch-16 decode step samples 16 rows of the vocabulary on one thread.
  static int64_t greedyToken(const float *logits, int64_t n);

  /// A uniform double in [0, 1) from (seed, counter): SplitMix64's
  /// finalizer over both (Steele et al. 2014).
  static double uniform(uint64_t seed, uint64_t counter);

private:
  int64_t vocab;
  std::vector<int32_t> counts;  // [vocab] scratch, zero between calls
  std::vector<int64_t> touched; // the ids counts holds
  std::vector<std::pair<int64_t, float>> kept;
  std::vector<float> rawLogits; // [vocab], for logprobs
};

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_SAMPLER_H

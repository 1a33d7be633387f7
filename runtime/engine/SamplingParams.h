//===- SamplingParams.h - how one request picks its tokens ------*- C++ -*-===//

#ifndef ANVIL_RUNTIME_ENGINE_SAMPLINGPARAMS_H
#define ANVIL_RUNTIME_ENGINE_SAMPLINGPARAMS_H

#include "anvil/anvil.h"

#include <cstdint>
#include <string>
#include <vector>

namespace anvil::engine {

/// The most top logprobs a request may ask for per token.
constexpr int32_t kMaxLogprobs = 20;

/// A token and its log-probability (the C API's anvil_token_logprob).
struct TokenLogprob {
  int64_t token = 0;
  float logprob = 0.0f;
};

/// Sampling and stopping, with vLLM's / OpenAI's meanings.
struct SamplingParams {
  /// 0 is greedy (argmax after penalties); otherwise logits / temperature.
  float temperature = 1.0f;
  /// Keep the k most likely tokens; 0 keeps all.
  int32_t topK = 0;
  /// Keep the smallest set of most likely tokens whose mass reaches topP,
  /// in (0, 1]; 1 keeps all.
  float topP = 1.0f;
  /// Drop tokens less likely than minP times the most likely, in [0, 1].
  float minP = 0.0f;
  /// CTRL's penalty (Keskar et al. 2019) over prompt and generated tokens:
  /// a positive logit is divided by it, a negative one multiplied; > 0.
  float repetitionPenalty = 1.0f;
  /// OpenAI's: logit -= frequency * count + presence * (count > 0), count
  /// over the generated tokens only; each in [-2, 2].
  float frequencyPenalty = 0.0f;
  float presencePenalty = 0.0f;
  /// Generated tokens at most; 0 means until the context or pool is full.
  int64_t maxNewTokens = 0;
  /// Ids that end the request (delivered, with no text) besides EOS.
  std::vector<int64_t> stopTokenIds;
  /// Texts that end the request (needs a tokenizer); the stop string
  /// itself and anything after it are not delivered.
  std::vector<std::string> stopStrings;
  /// Keep going past the engine's EOS ids.
  bool ignoreEos = false;
  /// A seeded request draws the same tokens whatever else is batched; an
  /// unseeded one gets a seed from std::random_device at submit.
  bool hasSeed = false;
  uint64_t seed = 0;
  /// -1: no logprobs; 0: the sampled token's; n: also the n most likely,
  /// from the log-softmax of the raw logits (before penalties and
  /// temperature). At most kMaxLogprobs.
  int32_t logprobs = -1;
};

/// Null when `params` are valid for a model with `vocabSize` tokens;
/// otherwise ANVIL_INVALID_ARGUMENT naming the field.
anvil_status validateSamplingParams(const SamplingParams &params,
                                    int64_t vocabSize);

} // namespace anvil::engine

#endif // ANVIL_RUNTIME_ENGINE_SAMPLINGPARAMS_H

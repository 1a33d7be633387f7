//===- GenerationRequest.h - a validated OpenAI request ---------*- C++ -*-===//
//
// What RequestParser makes of the JSON body of POST /v1/completions or
// /v1/chat/completions: every field checked and defaulted, ready to become
// the engine's sampling parameters. Nothing here touches the engine.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_GENERATIONREQUEST_H
#define ANVIL_TOOLS_ANVIL_SERVE_GENERATIONREQUEST_H

#include <cstdint>
#include <string>
#include <vector>

namespace anvil::serve {

enum class Endpoint { Completions, ChatCompletions };

/// A completion prompt: text for the tokenizer, or token ids.
struct Prompt {
  bool isTokens = false;
  std::string text;
  std::vector<int64_t> tokens;
};

/// One chat message, its content flattened to text.
struct ChatMessage {
  std::string role;
  std::string content;
};

struct GenerationRequest {
  Endpoint endpoint = Endpoint::Completions;
  /// The "model" field, empty when absent.
  std::string model;
  /// Completions: one or more prompts (each gets `n` choices).
  std::vector<Prompt> prompts;
  /// Chat: the conversation, rendered into one prompt by ChatTemplate.
  std::vector<ChatMessage> messages;

  /// Generated tokens at most; 0 when the request did not say (the server
  /// then picks: 16 for completions, as OpenAI; the rest of the context
  /// for chat).
  int64_t maxTokens = 0;
  float temperature = 1.0f;
  float topP = 1.0f;
  int32_t topK = 0; // 0: all (vLLM's -1 is accepted as 0)
  float minP = 0.0f;
  float presencePenalty = 0.0f;
  float frequencyPenalty = 0.0f;
  float repetitionPenalty = 1.0f;
  std::vector<std::string> stop;
  bool hasSeed = false;
  uint64_t seed = 0;
  /// -1: no logprobs; k >= 0: the sampled token's and the k most likely.
  int32_t logprobs = -1;
  int n = 1;
  bool stream = false;
  /// stream_options.include_usage: a last chunk with the token counts.
  bool includeUsage = false;
  /// vLLM's extension: keep generating past EOS (fixed-length benchmarks).
  bool ignoreEos = false;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_GENERATIONREQUEST_H

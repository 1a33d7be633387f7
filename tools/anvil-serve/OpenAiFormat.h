//===- OpenAiFormat.h - OpenAI response bodies and SSE chunks ---*- C++ -*-===//
//
// The JSON the official clients parse: text_completion and chat.completion
// objects, their streaming chunks (server-sent events, "data: {...}\n\n",
// ended by "data: [DONE]\n\n"), logprobs in the completions and chat
// shapes, and usage. One ResponseBuilder per HTTP request keeps what a
// stream needs between chunks (each choice's text offset, whether its
// chat role was sent).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_OPENAIFORMAT_H
#define ANVIL_TOOLS_ANVIL_SERVE_OPENAIFORMAT_H

#include "GenerationRequest.h"
#include "ModelService.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace anvil::serve {

/// OpenAI's finish_reason for an engine's: "stop", "length"; a request
/// cancelled by the server's shutdown says "cancelled", a failed step
/// "error" (neither exists in OpenAI's API).
const char *finishReasonName(anvil_finish_reason reason);

/// `value` as one server-sent event: "data: <json>\n\n" (invalid UTF-8 in
/// generated text replaced, never an exception).
std::string sseEvent(const nlohmann::json &value);
/// The stream's end marker, "data: [DONE]\n\n".
const char *sseDone();
/// `value` as a response body (invalid UTF-8 replaced).
std::string jsonBody(const nlohmann::json &value);

/// All a choice produced, for a non-streaming response.
struct ChoiceResult {
  std::string text;
  std::vector<ChoiceEvent> tokens; // events that carried a token
  anvil_finish_reason finish = ANVIL_FINISH_NONE;
  std::string error;
};

class ResponseBuilder {
public:
  /// `tokenText` spells a token id (for logprobs); `logprobs` is the
  /// request's (-1: none).
  ResponseBuilder(Endpoint endpoint, std::string id, std::string model,
                  int64_t created, int32_t logprobs, size_t choices,
                  std::function<std::string(int64_t)> tokenText);

  /// The whole non-streaming response.
  nlohmann::json response(const std::vector<ChoiceResult> &results,
                          int64_t promptTokens) const;

  /// The streaming chunk for `events` of one choice (consecutive events
  /// of it, in order): their text, their tokens' logprobs, and the finish
  /// reason if the last one ends the choice. For chat, the first chunk of
  /// a choice also carries {"role": "assistant"}.
  nlohmann::json chunk(size_t choice, const std::vector<ChoiceEvent> &events);
  /// The usage chunk of stream_options.include_usage (no choices).
  nlohmann::json usageChunk(int64_t promptTokens,
                            int64_t completionTokens) const;

private:
  nlohmann::json envelope(bool streaming) const;
  /// Logprobs of `events`' tokens in the endpoint's shape; `offset`
  /// (completions' text_offset) advances over their text.
  nlohmann::json logprobsOf(const std::vector<const ChoiceEvent *> &events,
                            size_t &offset) const;

  Endpoint endpoint;
  std::string id, model;
  int64_t created;
  int32_t logprobs;
  std::function<std::string(int64_t)> tokenText;
  std::vector<size_t> textOffsets;
  std::vector<bool> roleSent;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_OPENAIFORMAT_H

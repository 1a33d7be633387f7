//===- RequestParser.h - OpenAI request bodies, checked ---------*- C++ -*-===//
//
// Turns the body of POST /v1/completions and /v1/chat/completions into a
// GenerationRequest. The rules follow OpenAI's API (and vLLM's extensions
// where OpenAI has none): unknown fields are ignored, null means "not
// given", a field of the wrong type or out of range is a 400 naming it,
// and a field whose meaning the server cannot honour (echo, logit_bias,
// tools, ...) is refused rather than silently dropped. docs/serving.md
// lists every field.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_REQUESTPARSER_H
#define ANVIL_TOOLS_ANVIL_SERVE_REQUESTPARSER_H

#include "ApiError.h"
#include "GenerationRequest.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace anvil::serve {

/// Bounds a request must keep, beyond the fields' own ranges.
struct RequestLimits {
  /// Choices per request: prompts x n.
  int maxChoices = 16;
  /// Stop strings per request, and bytes per stop string.
  size_t maxStopStrings = 16;
  size_t maxStopBytes = 256;
  /// Nesting of the JSON body (a request needs 4 levels).
  int maxDepth = 16;
};

/// Parses `text` as a JSON object. Malformed JSON, another top-level
/// value, or nesting deeper than limits.maxDepth is a 400.
std::optional<ApiError> parseJsonObject(const std::string &text,
                                        const RequestLimits &limits,
                                        nlohmann::json &out);

/// Checks and reads a /v1/completions body into `out`.
std::optional<ApiError> parseCompletionRequest(const nlohmann::json &body,
                                               const RequestLimits &limits,
                                               GenerationRequest &out);

/// Checks and reads a /v1/chat/completions body into `out`.
std::optional<ApiError> parseChatRequest(const nlohmann::json &body,
                                         const RequestLimits &limits,
                                         GenerationRequest &out);

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_REQUESTPARSER_H

//===- ApiError.h - OpenAI-style error responses ----------------*- C++ -*-===//
//
// Every refusal of anvil-serve is an HTTP status plus the body OpenAI's API
// sends, {"error": {"message", "type", "param", "code"}}, so clients that
// handle OpenAI's errors (the official Python client raises BadRequestError,
// RateLimitError, ... from the status) handle ours.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_APIERROR_H
#define ANVIL_TOOLS_ANVIL_SERVE_APIERROR_H

#include <nlohmann/json.hpp>

#include <string>

namespace anvil::serve {

struct ApiError {
  int status = 400;
  std::string message;
  /// OpenAI's error types: "invalid_request_error", "authentication_error",
  /// "not_found_error", "rate_limit_error", "server_error", ...
  std::string type = "invalid_request_error";
  /// The request field at fault, or empty (sent as null).
  std::string param;
  /// A machine-readable code (e.g. "context_length_exceeded"), or empty.
  std::string code;

  /// The JSON body: {"error": {...}}; empty param and code are null.
  nlohmann::json toJson() const;
};

/// A 400 invalid_request_error about `param`.
ApiError invalidRequest(std::string message, std::string param = "",
                        std::string code = "");

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_APIERROR_H

//===- ApiError.cpp - OpenAI-style error responses ------------------------===//

#include "ApiError.h"

namespace anvil::serve {

nlohmann::json ApiError::toJson() const {
  nlohmann::json error{{"message", message}, {"type", type}};
  error["param"] = param.empty() ? nlohmann::json() : nlohmann::json(param);
  error["code"] = code.empty() ? nlohmann::json() : nlohmann::json(code);
  return nlohmann::json{{"error", error}};
}

ApiError invalidRequest(std::string message, std::string param,
                        std::string code) {
  ApiError error;
  error.message = std::move(message);
  error.param = std::move(param);
  error.code = std::move(code);
  return error;
}

} // namespace anvil::serve

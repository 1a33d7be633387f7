//===- Generation.h - POST /v1/completions and chat/completions -*- C++ -*-===//
//
// One generation request from body to response: parse and check it
// (RequestParser), turn its prompts into token ids (the chat template
// first), check them against the context, submit it (ModelService), and
// answer with one JSON object or a stream of server-sent events
// (OpenAiFormat). A client that leaves, streaming or not, has its request
// cancelled (a non-streaming one is watched through ClientSocket).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_GENERATION_H
#define ANVIL_TOOLS_ANVIL_SERVE_GENERATION_H

#include "ModelService.h"
#include "RequestParser.h"

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace anvil::serve {

/// `error` as the response: its status and OpenAI's error body.
void sendError(httplib::Response &response, const ApiError &error);

class GenerationHandler {
public:
  GenerationHandler(ModelService &service, RequestLimits limits);
  /// Answers one request to the `endpoint`'s route.
  void handle(const httplib::Request &request, httplib::Response &response,
              Endpoint endpoint);

private:
  /// A unique response id, "cmpl-..." or "chatcmpl-...".
  std::string newId(Endpoint endpoint);

  ModelService &service;
  RequestLimits limits;
  std::atomic<uint64_t> nextId{0};
  uint64_t idSalt;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_GENERATION_H

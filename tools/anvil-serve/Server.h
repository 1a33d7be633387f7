//===- Server.h - anvil-serve's HTTP endpoints ------------------*- C++ -*-===//
//
// The routes (docs/serving.md) over cpp-httplib: authentication, body
// limits and OpenAI-style errors for every refusal, the small endpoints
// (/health, /metrics, /v1/models, the page), and a graceful stop. The
// generation endpoints are GenerationHandler's; the engine work is
// ModelService's.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_SERVER_H
#define ANVIL_TOOLS_ANVIL_SERVE_SERVER_H

#include "ApiKey.h"
#include "Generation.h"
#include "ModelService.h"
#include "Options.h"
#include "RequestParser.h"

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace anvil::serve {

class Server {
public:
  Server(const ServeOptions &options, ModelService &service);

  /// Binds --host:--port; returns the port (the chosen one for port 0),
  /// or -1 with `error`.
  int bind(std::string &error);
  /// Serves until drainAndStop(); returns false if the listener failed.
  bool serve();
  /// The graceful stop: refuses new requests (503), gives in-flight ones
  /// `timeoutSeconds` to finish, cancels the rest, waits for their last
  /// events (a few seconds at most) and closes the listener, which ends
  /// serve() once the handlers have written their last bytes.
  void drainAndStop(int timeoutSeconds);

private:
  void routes();

  const ServeOptions &options;
  ModelService &service;
  ApiKeyCheck apiKey;
  GenerationHandler generation;
  httplib::Server http;
  int64_t created;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_SERVER_H

//===- Options.h - anvil-serve's command line -------------------*- C++ -*-===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_OPTIONS_H
#define ANVIL_TOOLS_ANVIL_SERVE_OPTIONS_H

#include "ModelService.h"

#include <string>
#include <vector>

namespace anvil::serve {

struct ServeOptions {
  ModelOptions model;
  std::string host = "127.0.0.1";
  /// 0: any free port (printed on startup).
  int port = 8080;
  std::string apiKey;
  size_t maxBodyBytes = size_t(1) << 20;
  /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
  int shutdownTimeout = 10;
  /// HTTP worker threads; 0: the admission limit plus a few for /health,
  /// /metrics and refusals.
  int httpThreads = 0;
  bool logRequests = false;
};

/// The --help text.
extern const char *const kServeUsage;

/// Parses the arguments after the program name. Returns false with
/// `error` for a bad command line; `help` is set for --help (then the
/// caller prints kServeUsage and exits 0). `environmentApiKey` is
/// ANVIL_API_KEY's value (null when unset), used without --api-key.
bool parseServeOptions(const std::vector<std::string> &args,
                       const char *environmentApiKey, ServeOptions &out,
                       bool &help, std::string &error);

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_OPTIONS_H

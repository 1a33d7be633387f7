//===- Metrics.h - GET /metrics in Prometheus text format -------*- C++ -*-===//
//
// Counters and latency histograms the server keeps, plus the engine's own
// statistics (anvil_engine_get_stats) read at scrape time, rendered in the
// Prometheus text exposition format (version 0.0.4). docs/serving.md lists
// every metric. All members are thread-safe.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_METRICS_H
#define ANVIL_TOOLS_ANVIL_SERVE_METRICS_H

#include "anvil/anvil.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace anvil::serve {

/// A Prometheus histogram with fixed upper bounds (seconds).
class Histogram {
public:
  explicit Histogram(std::vector<double> upperBounds);
  void observe(double value);
  /// Appends the _bucket (cumulative, then le="+Inf"), _sum and _count
  /// lines of `name`, with its HELP and TYPE.
  void render(const std::string &name, const std::string &help,
              std::string &out) const;

private:
  mutable std::mutex mutex;
  std::vector<double> bounds;
  std::vector<uint64_t> counts; // per bucket, not cumulative; last is +Inf
  double sum = 0;
  uint64_t count = 0;
};

class Metrics {
public:
  Metrics();

  /// One HTTP response: `endpoint` is the route ("/v1/completions"), or
  /// "other" for paths the server does not serve (so a scan of random
  /// paths cannot grow the label set).
  void countResponse(const std::string &endpoint, int status);
  void countPromptTokens(int64_t tokens);
  void countGeneratedToken();
  /// A finished engine request: "stop", "length", "cancelled", "error".
  void countFinished(const char *reason);

  /// Submit to first generated token, and between a request's tokens.
  Histogram timeToFirstToken;
  Histogram interTokenLatency;

  /// The whole exposition: the server's metrics, `inFlight` engine
  /// requests the server holds, and the engine's statistics.
  std::string render(const anvil_engine_stats &engine, int64_t inFlight) const;

private:
  mutable std::mutex mutex;
  std::map<std::pair<std::string, int>, uint64_t> responses;
  std::map<std::string, uint64_t> finished;
  uint64_t promptTokens = 0, generatedTokens = 0;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_METRICS_H

//===- Metrics.cpp - GET /metrics in Prometheus text format ---------------===//

#include "Metrics.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace anvil::serve {
namespace {

/// A number as Prometheus reads it: the shortest text that reads back as
/// the same double ("0.005", not "0.0050000000000000001").
std::string number(double value) {
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value)
      break;
  }
  return text;
}

void header(const std::string &name, const char *type, const std::string &help,
            std::string &out) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(const std::string &name, const std::string &labels, double value,
            std::string &out) {
  out += name + (labels.empty() ? "" : "{" + labels + "}") + " " +
         number(value) + "\n";
}

void single(const std::string &name, const char *type, const std::string &help,
            double value, std::string &out) {
  header(name, type, help, out);
  sample(name, "", value, out);
}

} // namespace

Histogram::Histogram(std::vector<double> upperBounds)
    : bounds(std::move(upperBounds)), counts(bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t bucket =
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  std::lock_guard<std::mutex> lock(mutex);
  ++counts[bucket];
  sum += value;
  ++count;
}

void Histogram::render(const std::string &name, const std::string &help,
                       std::string &out) const {
  std::lock_guard<std::mutex> lock(mutex);
  header(name, "histogram", help, out);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
    sample(name + "_bucket", "le=\"" + le + "\"", double(cumulative), out);
  }
  sample(name + "_sum", "", sum, out);
  sample(name + "_count", "", double(count), out);
}

// Buckets in seconds: TTFT from a few milliseconds (a cached prefix on a
// small model) to a minute (a long prompt behind a full queue); token
// gaps from a millisecond to seconds (a preempted request).
Metrics::Metrics()
    : timeToFirstToken(
          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      interTokenLatency({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                         0.5, 1, 2.5, 5}) {}

void Metrics::countResponse(const std::string &endpoint, int status) {
  std::lock_guard<std::mutex> lock(mutex);
  ++responses[{endpoint, status}];
}

void Metrics::countPromptTokens(int64_t tokens) {
  std::lock_guard<std::mutex> lock(mutex);
  promptTokens += uint64_t(tokens);
}

void Metrics::countGeneratedToken() {
  std::lock_guard<std::mutex> lock(mutex);
  ++generatedTokens;
}

void Metrics::countFinished(const char *reason) {
  std::lock_guard<std::mutex> lock(mutex);
  ++finished[reason];
}

std::string Metrics::render(const anvil_engine_stats &engine,
                            int64_t inFlight) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mutex);
    header("anvil_serve_http_responses_total", "counter",
           "HTTP responses by endpoint and status code", out);
    for (const auto &[key, count] : responses)
      sample("anvil_serve_http_responses_total",
             "endpoint=\"" + key.first + "\",code=\"" +
                 std::to_string(key.second) + "\"",
             double(count), out);
    header("anvil_serve_requests_finished_total", "counter",
           "engine requests ended, by finish reason", out);
    for (const auto &[reason, count] : finished)
      sample("anvil_serve_requests_finished_total", "reason=\"" + reason + "\"",
             double(count), out);
    single("anvil_serve_prompt_tokens_total", "counter",
           "prompt tokens of admitted requests", double(promptTokens), out);
    single("anvil_serve_generation_tokens_total", "counter", "tokens generated",
           double(generatedTokens), out);
  }
  timeToFirstToken.render("anvil_serve_time_to_first_token_seconds",
                          "submit to first generated token", out);
  interTokenLatency.render("anvil_serve_inter_token_latency_seconds",
                           "time between a request's generated tokens", out);
  single("anvil_serve_requests_in_flight", "gauge",
         "engine requests submitted by the server and not yet finished",
         double(inFlight), out);
  single("anvil_serve_queue_depth", "gauge",
         "engine requests waiting to be scheduled", double(engine.waiting),
         out);
  single("anvil_serve_requests_running", "gauge",
         "engine requests running (holding KV blocks)", double(engine.running),
         out);
  single("anvil_serve_kv_blocks_total", "gauge", "KV blocks in the pool",
         double(engine.kv_blocks_total), out);
  header("anvil_serve_kv_blocks", "gauge",
         "KV blocks: used by requests, free (including cached), cached", out);
  sample("anvil_serve_kv_blocks", "state=\"used\"",
         double(engine.kv_blocks_used), out);
  sample("anvil_serve_kv_blocks", "state=\"free\"",
         double(engine.kv_blocks_free), out);
  sample("anvil_serve_kv_blocks", "state=\"cached\"",
         double(engine.kv_blocks_cached), out);
  single("anvil_serve_prefix_cache_queried_tokens_total", "counter",
         "prompt tokens looked up in the prefix cache",
         double(engine.prefix_queried_tokens), out);
  single("anvil_serve_prefix_cache_hit_tokens_total", "counter",
         "prompt tokens found in the prefix cache",
         double(engine.prefix_hit_tokens), out);
  single("anvil_serve_prefix_cache_hit_rate", "gauge",
         "prefix cache hits over lookups since start",
         engine.prefix_cache_hit_rate, out);
  single("anvil_serve_preemptions_total", "counter",
         "requests preempted for KV blocks", double(engine.preemptions), out);
  single("anvil_serve_engine_steps_total", "counter", "engine steps run",
         double(engine.steps), out);
  single("anvil_serve_generation_tokens_per_second", "gauge",
         "generated tokens per second of engine step time",
         engine.generated_tokens_per_second, out);
  single("anvil_serve_prompt_tokens_per_second", "gauge",
         "prompt tokens per second of engine step time",
         engine.prompt_tokens_per_second, out);
  return out;
}

} // namespace anvil::serve

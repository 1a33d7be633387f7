//===- Server.cpp - anvil-serve's HTTP endpoints --------------------------===//

#include "Server.h"

#include "ChatTemplate.h"
#include "OpenAiFormat.h"
#include "WebPage.h"

#include <cstdio>
#include <ctime>
#include <memory>
#include <random>

namespace anvil::serve {
namespace {

using Json = nlohmann::json;

/// How often a streaming handler that has nothing to send checks that its
/// client is still there.
constexpr std::chrono::milliseconds kPollInterval(100);

/// The routes, for the metrics' endpoint label; anything else is "other".
const char *endpointLabel(const std::string &path) {
  for (const char *route : {"/", "/health", "/metrics", "/v1/models",
                            "/v1/completions", "/v1/chat/completions"})
    if (path == route)
      return route;
  return "other";
}

/// Whether `path` needs the API key: the API and the metrics. The page
/// and /health stay open (load balancers probe /health without secrets;
/// the page asks for the key itself).
bool needsKey(const std::string &path) {
  return path.rfind("/v1/", 0) == 0 || path == "/metrics";
}

/// What a handler keeps while it streams one request.
struct StreamState {
  std::shared_ptr<RequestStream> stream;
  ResponseBuilder builder;
  bool includeUsage = false;
  int64_t promptTokens = 0;
  int64_t completionTokens = 0;
  size_t finished = 0;
};

} // namespace

Server::Server(const ServeOptions &options, ModelService &service)
    : options(options), service(service), apiKey(options.apiKey),
      created(int64_t(std::time(nullptr))) {
  std::random_device random;
  idSalt = (uint64_t(random()) << 32) ^ random();
  int threads = options.httpThreads ? options.httpThreads
                                    : int(service.admissionLimit()) + 8;
  // Each streaming request holds a worker for its whole length: with
  // fewer workers than admitted requests, the extra connections would
  // wait in httplib's queue instead of being answered (429 included).
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.maxBodyBytes);
  routes();
}

std::string Server::newId(const char *prefix) {
  char text[64];
  std::snprintf(text, sizeof text, "%s-%016llx%08llx", prefix,
                (unsigned long long)idSalt,
                (unsigned long long)nextId.fetch_add(1));
  return text;
}

void Server::sendError(httplib::Response &response,
                       const ApiError &error) const {
  response.status = error.status;
  if (error.status == 401)
    response.set_header("WWW-Authenticate", "Bearer");
  response.set_content(jsonBody(error.toJson()), "application/json");
}

void Server::routes() {
  http.set_pre_routing_handler(
      [this](const httplib::Request &request, httplib::Response &response) {
        if (!needsKey(request.path) ||
            apiKey.allows(request.get_header_value("Authorization")))
          return httplib::Server::HandlerResponse::Unhandled;
        ApiError error;
        error.status = 401;
        error.message = "missing or wrong API key: send 'Authorization: Bearer "
                        "<key>' with the server's --api-key";
        error.code = "invalid_api_key";
        sendError(response, error);
        return httplib::Server::HandlerResponse::Handled;
      });

  // Refusals httplib makes itself (no route, a body over the limit, a
  // malformed request) get the same error body as ours.
  http.set_error_handler(
      [this](const httplib::Request &request, httplib::Response &response) {
        if (!response.body.empty())
          return;
        ApiError error;
        error.status = response.status;
        if (response.status == 404) {
          error.type = "not_found_error";
          error.message =
              "no such endpoint: " + request.method + " " + request.path;
        } else if (response.status == 413) {
          error.message = "the request body is larger than the server's limit "
                          "of " +
                          std::to_string(options.maxBodyBytes) +
                          " bytes (anvil-serve --max-body-bytes)";
          error.code = "body_too_large";
        } else if (response.status >= 500) {
          error.type = "server_error";
          error.message = "internal error";
        } else {
          error.message = "malformed HTTP request";
        }
        sendError(response, error);
      });

  http.set_logger([this](const httplib::Request &request,
                         const httplib::Response &response) {
    service.metrics().countResponse(endpointLabel(request.path),
                                    response.status);
    if (options.logRequests)
      std::fprintf(stderr, "anvil-serve: %s %s %d\n", request.method.c_str(),
                   request.path.c_str(), response.status);
  });

  http.Get("/", [](const httplib::Request &, httplib::Response &response) {
    response.set_content(kIndexHtml, kIndexHtmlSize,
                         "text/html; charset=utf-8");
  });
  http.Get("/health",
           [this](const httplib::Request &, httplib::Response &response) {
             bool stopping = service.shuttingDown();
             response.status = stopping ? 503 : 200;
             response.set_content(
                 jsonBody({{"status", stopping ? "shutting_down" : "ok"}}),
                 "application/json");
           });
  http.Get("/metrics",
           [this](const httplib::Request &, httplib::Response &response) {
             response.set_content(
                 service.metrics().render(service.stats(), service.inFlight()),
                 "text/plain; version=0.0.4; charset=utf-8");
           });
  http.Get("/v1/models",
           [this](const httplib::Request &, httplib::Response &response) {
             Json model{{"id", service.id()},
                        {"object", "model"},
                        {"created", created},
                        {"owned_by", "anvil"},
                        {"max_model_len", service.maxContext()}};
             response.set_content(
                 jsonBody({{"object", "list"}, {"data", Json::array({model})}}),
                 "application/json");
           });
  http.Post("/v1/completions", [this](const httplib::Request &request,
                                      httplib::Response &response) {
    generate(request, response, Endpoint::Completions);
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request &request,
                                           httplib::Response &response) {
    generate(request, response, Endpoint::ChatCompletions);
  });
}

void Server::generate(const httplib::Request &request,
                      httplib::Response &response, Endpoint endpoint) {
  Json body;
  GenerationRequest parsed;
  std::optional<ApiError> error = parseJsonObject(request.body, limits, body);
  if (!error)
    error = endpoint == Endpoint::Completions
                ? parseCompletionRequest(body, limits, parsed)
                : parseChatRequest(body, limits, parsed);
  if (error)
    return sendError(response, *error);
  if (!parsed.model.empty() && parsed.model != service.id()) {
    ApiError notFound;
    notFound.status = 404;
    notFound.message = "the model '" + parsed.model +
                       "' does not exist; this server serves '" + service.id() +
                       "' (GET /v1/models)";
    notFound.param = "model";
    notFound.code = "model_not_found";
    return sendError(response, notFound);
  }

  // Prompts as token ids; chat renders its messages first.
  std::vector<std::vector<int64_t>> prompts;
  const char *promptParam =
      endpoint == Endpoint::Completions ? "prompt" : "messages";
  if (endpoint == Endpoint::ChatCompletions)
    parsed.prompts.push_back({false, renderPlainChat(parsed.messages), {}});
  for (const Prompt &prompt : parsed.prompts) {
    prompts.emplace_back(prompt.tokens);
    if (!prompt.isTokens)
      if (auto e = service.encode(prompt.text, prompts.back())) {
        e->param = promptParam;
        return sendError(response, *e);
      }
  }
  // The context bounds prompt and generated tokens together.
  int64_t context = service.maxContext(), longest = 0, promptTotal = 0;
  for (const std::vector<int64_t> &ids : prompts) {
    int64_t length = int64_t(ids.size());
    longest = std::max(longest, length);
    promptTotal += length;
    if (length >= context)
      return sendError(
          response,
          invalidRequest("the prompt has " + std::to_string(length) +
                             " tokens; the model's context is " +
                             std::to_string(context) +
                             " (prompt and generated tokens together)",
                         promptParam, "context_length_exceeded"));
    if (parsed.maxTokens && length + parsed.maxTokens > context)
      return sendError(response,
                       invalidRequest("the prompt (" + std::to_string(length) +
                                          " tokens) and max_tokens (" +
                                          std::to_string(parsed.maxTokens) +
                                          ") exceed the model's context of " +
                                          std::to_string(context),
                                      "max_tokens", "context_length_exceeded"));
  }
  int64_t maxTokens = parsed.maxTokens;
  // OpenAI's defaults: 16 tokens for completions (fewer if the context
  // is nearly full), the rest of the context for chat (0 tells the
  // engine so).
  if (!maxTokens && endpoint == Endpoint::Completions)
    maxTokens = std::min<int64_t>(16, context - longest);

  anvil_sampling_params params;
  anvil_sampling_params_init(&params);
  params.temperature = parsed.temperature;
  params.top_k = parsed.topK;
  params.top_p = parsed.topP;
  params.min_p = parsed.minP;
  params.repetition_penalty = parsed.repetitionPenalty;
  params.frequency_penalty = parsed.frequencyPenalty;
  params.presence_penalty = parsed.presencePenalty;
  params.max_new_tokens = maxTokens;
  params.ignore_eos = parsed.ignoreEos ? 1 : 0;
  params.has_seed = parsed.hasSeed ? 1 : 0;
  params.seed = parsed.seed;
  params.logprobs = parsed.logprobs;
  std::vector<const char *> stops;
  for (const std::string &stop : parsed.stop)
    stops.push_back(stop.c_str());
  params.stop_strings = stops.data();
  params.stop_string_count = stops.size();

  std::shared_ptr<RequestStream> stream;
  if (auto e = service.submit(prompts, parsed.n, params, stream))
    return sendError(response, *e);
  // n choices per prompt share its tokens: count each prompt once.
  ResponseBuilder builder(
      endpoint, newId(endpoint == Endpoint::Completions ? "cmpl" : "chatcmpl"),
      service.id(), int64_t(std::time(nullptr)), parsed.logprobs,
      stream->choiceCount(),
      [this](int64_t id) { return service.tokenText(id); });

  if (!parsed.stream) {
    std::vector<ChoiceResult> results(stream->choiceCount());
    std::vector<ChoiceEvent> events;
    size_t finished = 0;
    // Not bounded by a timer: the engine ends every request (max_tokens,
    // the context, or a cancel on shutdown).
    while (finished < results.size()) {
      events.clear();
      stream->wait(kPollInterval, events);
      for (ChoiceEvent &event : events) {
        ChoiceResult &result = results[event.choice];
        result.text += event.text;
        if (event.finish != ANVIL_FINISH_NONE) {
          result.finish = event.finish;
          result.error = event.error;
          ++finished;
        }
        if (event.tokenId >= 0)
          result.tokens.push_back(std::move(event));
      }
    }
    for (const ChoiceResult &result : results) {
      if (result.finish == ANVIL_FINISH_ERROR) {
        ApiError failed;
        failed.status = 500;
        failed.type = "server_error";
        failed.message = "the model failed: " + result.error;
        return sendError(response, failed);
      }
      if (result.finish == ANVIL_FINISH_CANCELLED) {
        ApiError cancelled;
        cancelled.status = 503;
        cancelled.type = "server_error";
        cancelled.code = "shutting_down";
        cancelled.message = "the request was cancelled: the server is "
                            "shutting down";
        return sendError(response, cancelled);
      }
    }
    response.set_content(jsonBody(builder.response(results, promptTotal)),
                         "application/json");
    return;
  }

  auto state = std::make_shared<StreamState>(StreamState{
      stream, std::move(builder), parsed.includeUsage, promptTotal});
  response.set_header("Cache-Control", "no-cache");
  response.set_header("X-Accel-Buffering", "no");
  response.set_chunked_content_provider(
      "text/event-stream", [this, state](size_t, httplib::DataSink &sink) {
        RequestStream &stream = *state->stream;
        size_t choices = stream.choiceCount();
        auto send = [&](const std::string &text) {
          return sink.write(text.data(), text.size());
        };
        std::vector<ChoiceEvent> events;
        while (state->finished < choices) {
          events.clear();
          if (!stream.wait(kPollInterval, events)) {
            // Nothing to send: the only way to notice a client that left.
            if (!sink.is_writable()) {
              service.cancel(stream);
              return false;
            }
            continue;
          }
          // Consecutive events of one choice become one chunk.
          for (size_t begin = 0; begin < events.size();) {
            size_t end = begin + 1;
            while (end < events.size() &&
                   events[end].choice == events[begin].choice)
              ++end;
            std::vector<ChoiceEvent> run(
                std::make_move_iterator(events.begin() + begin),
                std::make_move_iterator(events.begin() + end));
            bool ok = true;
            for (const ChoiceEvent &event : run) {
              state->completionTokens += event.tokenId >= 0;
              if (event.finish != ANVIL_FINISH_NONE)
                ++state->finished;
              if (event.finish == ANVIL_FINISH_ERROR) {
                ApiError failed;
                failed.status = 500;
                failed.type = "server_error";
                failed.message = "the model failed: " + event.error;
                ok = ok && send(sseEvent(failed.toJson()));
              }
            }
            ok = ok && send(sseEvent(state->builder.chunk(run[0].choice, run)));
            if (!ok) {
              // The client is gone: free its KV blocks now.
              service.cancel(stream);
              return false;
            }
            begin = end;
          }
        }
        if (state->includeUsage &&
            !send(sseEvent(state->builder.usageChunk(state->promptTokens,
                                                     state->completionTokens))))
          return false;
        if (!send(sseDone()))
          return false;
        sink.done();
        return true;
      });
}

int Server::bind(std::string &error) {
  int port =
      options.port == 0
          ? http.bind_to_any_port(options.host)
          : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0)
    error = "cannot listen on " + options.host + ":" +
            std::to_string(options.port) +
            " (in use, or not an address of this machine)";
  return port;
}

bool Server::serve() { return http.listen_after_bind(); }

void Server::drainAndStop(int timeoutSeconds) {
  service.beginShutdown();
  if (!service.waitIdle(Clock::now() + std::chrono::seconds(timeoutSeconds))) {
    std::fprintf(stderr,
                 "anvil-serve: cancelling %lld requests still running\n",
                 (long long)service.inFlight());
    service.cancelAll();
    // A cancel takes effect at the engine's next step.
    service.waitIdle(Clock::now() + std::chrono::seconds(10));
  }
  http.stop();
}

} // namespace anvil::serve

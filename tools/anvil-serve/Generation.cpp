//===- Generation.cpp - POST /v1/completions and chat/completions ---------===//

#include "Generation.h"

#include "ChatTemplate.h"
#include "ClientSocket.h"
#include "OpenAiFormat.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>

namespace anvil::serve {
namespace {

using Json = nlohmann::json;

/// How often a handler checks that its client is still there: a streaming
/// one when it has nothing to send, a non-streaming one while it waits.
constexpr std::chrono::milliseconds kPollInterval(100);

/// A request ready for the engine.
struct EngineRequest {
  std::vector<std::vector<int64_t>> prompts;
  /// Prompt tokens for usage: each prompt once, whatever n is.
  int64_t promptTokens = 0;
  anvil_sampling_params params;
  /// What params.stop_strings points into.
  std::vector<const char *> stops;
};

ApiError serverError(int status, std::string message, std::string code = "") {
  ApiError error;
  error.status = status;
  error.type = "server_error";
  error.message = std::move(message);
  error.code = std::move(code);
  return error;
}

/// Tokenizes the prompts (rendering a chat first), checks them against the
/// model's context, and fills the engine's sampling parameters.
std::optional<ApiError> prepare(const ModelService &service,
                                GenerationRequest &parsed, EngineRequest &out) {
  if (!parsed.model.empty() && parsed.model != service.id()) {
    ApiError notFound =
        invalidRequest("the model '" + parsed.model +
                           "' does not exist; this server serves '" +
                           service.id() + "' (GET /v1/models)",
                       "model", "model_not_found");
    notFound.status = 404;
    return notFound;
  }
  bool chat = parsed.endpoint == Endpoint::ChatCompletions;
  const char *promptParam = chat ? "messages" : "prompt";
  if (chat)
    parsed.prompts.push_back({false, renderPlainChat(parsed.messages), {}});
  for (const Prompt &prompt : parsed.prompts) {
    out.prompts.emplace_back(prompt.tokens);
    if (!prompt.isTokens)
      if (auto e = service.encode(prompt.text, out.prompts.back())) {
        e->param = promptParam;
        return e;
      }
  }
  // The context bounds prompt and generated tokens together.
  int64_t context = service.maxContext(), longest = 0;
  for (const std::vector<int64_t> &ids : out.prompts) {
    int64_t length = int64_t(ids.size());
    longest = std::max(longest, length);
    out.promptTokens += length;
    if (length >= context)
      return invalidRequest("the prompt has " + std::to_string(length) +
                                " tokens; the model's context is " +
                                std::to_string(context) +
                                " (prompt and generated tokens together)",
                            promptParam, "context_length_exceeded");
    if (parsed.maxTokens && length + parsed.maxTokens > context)
      return invalidRequest(
          "the prompt (" + std::to_string(length) +
              " tokens) and max_tokens (" + std::to_string(parsed.maxTokens) +
              ") exceed the model's context of " + std::to_string(context),
          "max_tokens", "context_length_exceeded");
  }
  int64_t maxTokens = parsed.maxTokens;
  // OpenAI's defaults: 16 tokens for completions (fewer if the context
  // is nearly full), the rest of the context for chat (0 tells the
  // engine so).
  if (!maxTokens && !chat)
    maxTokens = std::min<int64_t>(16, context - longest);

  anvil_sampling_params &params = out.params;
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
  for (const std::string &stop : parsed.stop)
    out.stops.push_back(stop.c_str());
  params.stop_strings = out.stops.data();
  params.stop_string_count = out.stops.size();
  return std::nullopt;
}

/// The status logged for a request whose client left before its answer
/// (nginx's "client closed request"); nobody receives it.
constexpr int kClientClosedRequest = 499;

/// Waits for every choice to end and answers with one JSON object. A
/// client that leaves meanwhile has its requests cancelled, which frees
/// their KV blocks at the engine's next step, and gets no answer.
void respondWhole(ModelService &service, RequestStream &stream,
                  const httplib::Request &request,
                  const ResponseBuilder &builder, int64_t promptTokens,
                  httplib::Response &response) {
  std::vector<ChoiceResult> results(stream.choiceCount());
  std::vector<ChoiceEvent> events;
  size_t finished = 0;
  // cpp-httplib 0.11 cannot tell a handler that its client left (no
  // Request::is_connection_closed, no socket): ClientSocket finds the
  // connection by its addresses, and re-checks before each look that the
  // descriptor is still that connection. When it cannot tell, it says
  // Unknown and the request runs on, as it would without it.
  ClientSocket client(request.local_addr, request.local_port,
                      request.remote_addr, request.remote_port);
  Clock::time_point nextCheck = Clock::now() + kPollInterval;
  // Not bounded by a timer: the engine ends every request (max_tokens,
  // the context, or a cancel on shutdown or disconnect).
  while (finished < results.size()) {
    events.clear();
    stream.wait(kPollInterval, events);
    if (Clock::now() >= nextCheck) {
      nextCheck = Clock::now() + kPollInterval;
      if (client.clientGone()) {
        service.cancel(stream);
        response.status = kClientClosedRequest;
        return;
      }
    }
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
    if (result.finish == ANVIL_FINISH_ERROR)
      return sendError(response,
                       serverError(500, "the model failed: " + result.error));
    if (result.finish == ANVIL_FINISH_CANCELLED)
      return sendError(response, serverError(503,
                                             "the request was cancelled: the "
                                             "server is shutting down",
                                             "shutting_down"));
  }
  response.set_content(jsonBody(builder.response(results, promptTokens)),
                       "application/json");
}

/// What a streaming response keeps between the provider's calls.
struct StreamState {
  std::shared_ptr<RequestStream> stream;
  ResponseBuilder builder;
  bool includeUsage = false;
  int64_t promptTokens = 0;
  int64_t completionTokens = 0;
  size_t finished = 0;
};

/// Sends the stream's events as server-sent events until every choice
/// has ended, then the usage chunk (if asked) and [DONE]. False when the
/// client has gone; its requests are then cancelled, which frees their
/// KV blocks at the engine's next step.
bool sendEvents(ModelService &service, StreamState &state,
                httplib::DataSink &sink) {
  RequestStream &stream = *state.stream;
  auto send = [&](const std::string &text) {
    return sink.write(text.data(), text.size());
  };
  std::vector<ChoiceEvent> events;
  while (state.finished < stream.choiceCount()) {
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
      while (end < events.size() && events[end].choice == events[begin].choice)
        ++end;
      std::vector<ChoiceEvent> run(
          std::make_move_iterator(events.begin() + begin),
          std::make_move_iterator(events.begin() + end));
      bool ok = true;
      for (const ChoiceEvent &event : run) {
        state.completionTokens += event.tokenId >= 0;
        if (event.finish != ANVIL_FINISH_NONE)
          ++state.finished;
        if (event.finish == ANVIL_FINISH_ERROR)
          ok =
              ok &&
              send(sseEvent(serverError(500, "the model failed: " + event.error)
                                .toJson()));
      }
      if (!ok || !send(sseEvent(state.builder.chunk(run[0].choice, run)))) {
        service.cancel(stream);
        return false;
      }
      begin = end;
    }
  }
  if (state.includeUsage && !send(sseEvent(state.builder.usageChunk(
                                state.promptTokens, state.completionTokens))))
    return false;
  if (!send(sseDone()))
    return false;
  sink.done();
  return true;
}

} // namespace

void sendError(httplib::Response &response, const ApiError &error) {
  response.status = error.status;
  if (error.status == 401)
    response.set_header("WWW-Authenticate", "Bearer");
  response.set_content(jsonBody(error.toJson()), "application/json");
}

GenerationHandler::GenerationHandler(ModelService &service,
                                     RequestLimits limits)
    : service(service), limits(limits) {
  std::random_device random;
  idSalt = (uint64_t(random()) << 32) ^ random();
}

std::string GenerationHandler::newId(Endpoint endpoint) {
  char text[64];
  std::snprintf(text, sizeof text, "%s-%016llx%08llx",
                endpoint == Endpoint::Completions ? "cmpl" : "chatcmpl",
                (unsigned long long)idSalt,
                (unsigned long long)nextId.fetch_add(1));
  return text;
}

void GenerationHandler::handle(const httplib::Request &request,
                               httplib::Response &response, Endpoint endpoint) {
  Json body;
  GenerationRequest parsed;
  EngineRequest ready;
  std::optional<ApiError> error = parseJsonObject(request.body, limits, body);
  if (!error)
    error = endpoint == Endpoint::Completions
                ? parseCompletionRequest(body, limits, parsed)
                : parseChatRequest(body, limits, parsed);
  if (!error)
    error = prepare(service, parsed, ready);
  std::shared_ptr<RequestStream> stream;
  if (!error)
    error = service.submit(ready.prompts, parsed.n, ready.params, stream);
  if (error)
    return sendError(response, *error);

  ResponseBuilder builder(endpoint, newId(endpoint), service.id(),
                          int64_t(std::time(nullptr)), parsed.logprobs,
                          stream->choiceCount(),
                          [this](int64_t id) { return service.tokenText(id); });
  if (!parsed.stream)
    return respondWhole(service, *stream, request, builder, ready.promptTokens,
                        response);

  auto state = std::make_shared<StreamState>(StreamState{
      stream, std::move(builder), parsed.includeUsage, ready.promptTokens});
  response.set_header("Cache-Control", "no-cache");
  // Proxies such as nginx buffer responses unless told not to.
  response.set_header("X-Accel-Buffering", "no");
  response.set_chunked_content_provider(
      "text/event-stream", [this, state](size_t, httplib::DataSink &sink) {
        return sendEvents(service, *state, sink);
      });
}

} // namespace anvil::serve

//===- ModelService.cpp - the engine behind the HTTP endpoints ------------===//

#include "ModelService.h"

#include "ArtifactTokenizer.h"

#include "anvil/artifact_signature.h"

#include <nlohmann/json.hpp>

namespace anvil::serve {
namespace {

/// An engine status as the client's error: what the engine refuses at
/// submit (bad ids, a request too large for the context or the pool) is
/// the request's fault; anything else is the server's.
ApiError submitError(const anvil_status_s *status) {
  ApiError error;
  error.message = anvil_status_get_message(status);
  anvil_status_code code = anvil_status_get_code(status);
  if (code == ANVIL_INVALID_ARGUMENT || code == ANVIL_RESOURCE_EXHAUSTED) {
    error.status = 400;
    if (code == ANVIL_RESOURCE_EXHAUSTED)
      error.code = "kv_capacity_exceeded";
  } else {
    error.status = 500;
    error.type = "server_error";
  }
  return error;
}

/// The file name without its folder and ".anvil".
std::string defaultModelName(const std::string &path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  const std::string suffix = ".anvil";
  if (name.size() > suffix.size() &&
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    name.resize(name.size() - suffix.size());
  return name;
}

} // namespace

bool RequestStream::wait(std::chrono::milliseconds timeout,
                         std::vector<ChoiceEvent> &out) {
  std::unique_lock<std::mutex> lock(mutex);
  ready.wait_for(lock, timeout, [&] { return !events.empty(); });
  if (events.empty())
    return false;
  for (ChoiceEvent &event : events)
    out.push_back(std::move(event));
  events.clear();
  return true;
}

bool ModelService::open(const ModelOptions &options,
                        std::unique_ptr<ModelService> &out,
                        std::string &error) {
  std::unique_ptr<ModelService> service(new ModelService());
  anvil::artifact::PublicKey key;
  anvil_model_options modelOptions{};
  modelOptions.skip_checksums = options.verifyChecksums ? 0 : 1;
  modelOptions.num_threads = options.threads;
  if (!options.publicKeyFile.empty()) {
    if (!anvil::artifact::readPublicKeyFile(options.publicKeyFile, key, error))
      return false;
    modelOptions.required_public_key = key.data();
  }
  anvil_model *rawModel = nullptr;
  anvil::Status status{
      anvil_model_open_file(options.path.c_str(), &modelOptions, &rawModel)};
  if (status) {
    error = anvil_status_get_message(status.get());
    return false;
  }
  service->model.reset(rawModel);

  // The paged decoder's facts; anvil_engine_create checks them again.
  auto manifest = nlohmann::json::parse(anvil_model_manifest(rawModel), nullptr,
                                        /*allow_exceptions=*/false);
  auto llm = manifest.is_object() ? manifest.find("llm") : manifest.end();
  if (llm == manifest.end() || !llm->is_object() ||
      !llm->value("max_context", nlohmann::json()).is_number_integer() ||
      !llm->value("vocab_size", nlohmann::json()).is_number_integer() ||
      !llm->value("max_seqs_per_step", nlohmann::json()).is_number_integer()) {
    error = options.path +
            ": not a paged decoder (its manifest has no \"llm\"); compile "
            "the decoder without --kv-cache=graph (docs/llm.md)";
    return false;
  }
  service->context = (*llm)["max_context"].get<int64_t>();
  service->vocab = (*llm)["vocab_size"].get<int64_t>();
  int64_t seqs = options.maxSeqsPerStep
                     ? options.maxSeqsPerStep
                     : (*llm)["max_seqs_per_step"].get<int64_t>();
  service->limit = seqs + options.maxQueue;
  service->modelId =
      options.name.empty() ? defaultModelName(options.path) : options.name;

  if (!loadArtifactTokenizer(options.path, service->tokenizer, error))
    return false;

  anvil_engine_config config{};
  config.struct_size = sizeof config;
  config.kv_budget_blocks = options.kvBlocks;
  config.max_tokens_per_step = options.maxTokensPerStep;
  config.max_seqs_per_step = options.maxSeqsPerStep;
  config.disable_prefix_caching = options.prefixCaching ? 0 : 1;
  anvil_engine *rawEngine = nullptr;
  status.reset(anvil_engine_create(rawModel, &config, &rawEngine));
  if (status) {
    error = options.path + ": " + anvil_status_get_message(status.get());
    return false;
  }
  service->engine.reset(rawEngine);
  status.reset(anvil_engine_start(rawEngine));
  if (status) {
    error = anvil_status_get_message(status.get());
    return false;
  }
  out = std::move(service);
  return true;
}

ModelService::~ModelService() {
  // Joins the engine's thread before anything its callbacks touch goes.
  if (engine)
    anvil::Status(anvil_engine_stop(engine.get()));
  engine.reset();
}

std::optional<ApiError> ModelService::encode(const std::string &text,
                                             std::vector<int64_t> &ids) const {
  if (!tokenizer)
    return invalidRequest("this model has no tokenizer: send the prompt as "
                          "token ids",
                          "prompt");
  ids.clear();
  anvil::Status status{tokenizer->encode(text, true, ids)};
  if (status)
    return invalidRequest(anvil_status_get_message(status.get()), "prompt");
  return std::nullopt;
}

std::string ModelService::tokenText(int64_t id) const {
  return tokenizer ? tokenizer->decode({id}, false) : std::string();
}

std::optional<ApiError>
ModelService::submit(const std::vector<std::vector<int64_t>> &prompts, int n,
                     const anvil_sampling_params &params,
                     std::shared_ptr<RequestStream> &out) {
  auto stream = std::make_shared<RequestStream>();
  stream->service = this;
  size_t count = prompts.size() * size_t(n);
  for (size_t i = 0; i < count; ++i) {
    auto choice = std::make_unique<RequestStream::Choice>();
    choice->stream = stream.get();
    choice->index = i;
    choice->promptTokens = int64_t(prompts[i / n].size());
    stream->choices.push_back(std::move(choice));
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (stopping) {
      ApiError error;
      error.status = 503;
      error.type = "server_error";
      error.code = "shutting_down";
      error.message = "the server is shutting down";
      return error;
    }
    if (liveRequests + int64_t(count) > limit) {
      ApiError error;
      error.status = 429;
      error.type = "rate_limit_error";
      error.code = "queue_full";
      error.message = "the server is busy: " + std::to_string(liveRequests) +
                      " requests in flight, at most " + std::to_string(limit) +
                      " (anvil-serve --max-queue); retry later";
      return error;
    }
    // Counted before submitting: a callback may end a request before
    // anvil_engine_submit_tokens returns.
    liveRequests += int64_t(count);
    stream->unfinished = count;
    live[stream.get()] = stream;
  }
  std::optional<ApiError> failure;
  size_t submitted = 0;
  for (; submitted < count; ++submitted) {
    RequestStream::Choice &choice = *stream->choices[submitted];
    const std::vector<int64_t> &ids = prompts[submitted / n];
    anvil_sampling_params choiceParams = params;
    choiceParams.seed = params.seed + uint64_t(submitted % n);
    choice.submitted = Clock::now();
    uint64_t id = 0;
    anvil::Status status{anvil_engine_submit_tokens(engine.get(), ids.data(),
                                                    ids.size(), &choiceParams,
                                                    onEvent, &choice, &id)};
    if (status) {
      failure = submitError(status.get());
      break;
    }
    choice.engineId = id;
    serverMetrics.countPromptTokens(int64_t(ids.size()));
  }
  if (!failure) {
    out = std::move(stream);
    return std::nullopt;
  }
  // Those never submitted will have no last event: uncount them here.
  for (size_t i = submitted; i < count; ++i)
    finishChoice(stream.get());
  cancel(*stream);
  return failure;
}

void ModelService::cancel(RequestStream &stream) {
  for (const auto &choice : stream.choices)
    if (choice->engineId)
      // NOT_FOUND: its last event is already out; nothing to do.
      anvil::Status(anvil_engine_cancel(engine.get(), choice->engineId));
}

void ModelService::onEvent(const anvil_engine_event *event, void *userData) {
  auto *choice = static_cast<RequestStream::Choice *>(userData);
  RequestStream *stream = choice->stream;
  ModelService &service = *stream->service;
  Clock::time_point now = Clock::now();
  if (event->token_id >= 0) {
    std::chrono::duration<double> gap =
        now - (choice->sawToken ? choice->lastToken : choice->submitted);
    (choice->sawToken ? service.serverMetrics.interTokenLatency
                      : service.serverMetrics.timeToFirstToken)
        .observe(gap.count());
    choice->sawToken = true;
    choice->lastToken = now;
    service.serverMetrics.countGeneratedToken();
  }
  ChoiceEvent copy;
  copy.choice = choice->index;
  copy.tokenId = event->token_id;
  copy.text.assign(event->text, event->text_size);
  copy.finish = event->finish_reason;
  copy.logprob = event->logprob;
  copy.topLogprobs.assign(event->top_logprobs,
                          event->top_logprobs + event->top_logprob_count);
  if (event->error)
    copy.error = event->error;
  bool last = event->finish_reason != ANVIL_FINISH_NONE;
  // A request is uncounted before its handler can see its last event: a
  // client that got its whole answer and sends the next request at once
  // must not find its old one still holding a slot (429). `keep` holds
  // the stream while the event is queued, if that released the service's
  // reference (the handler may be gone: its client disconnected).
  std::shared_ptr<RequestStream> keep;
  if (last) {
    service.serverMetrics.countFinished(
        anvil_finish_reason_name(event->finish_reason));
    keep = service.finishChoice(stream);
  }
  {
    std::lock_guard<std::mutex> lock(stream->mutex);
    stream->events.push_back(std::move(copy));
  }
  stream->ready.notify_all();
  // The engine never uses `choice` again after its last event.
}

std::shared_ptr<RequestStream>
ModelService::finishChoice(RequestStream *stream) {
  std::shared_ptr<RequestStream> release;
  {
    std::lock_guard<std::mutex> lock(mutex);
    --liveRequests;
    if (--stream->unfinished == 0) {
      auto it = live.find(stream);
      release = std::move(it->second);
      live.erase(it);
    }
  }
  idle.notify_all();
  return release;
}

void ModelService::beginShutdown() {
  std::lock_guard<std::mutex> lock(mutex);
  stopping = true;
}

bool ModelService::shuttingDown() const {
  std::lock_guard<std::mutex> lock(mutex);
  return stopping;
}

void ModelService::cancelAll() {
  std::vector<std::shared_ptr<RequestStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto &entry : live)
      streams.push_back(entry.second);
  }
  for (auto &stream : streams)
    cancel(*stream);
}

bool ModelService::waitIdle(Clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex);
  return idle.wait_until(lock, deadline, [&] { return liveRequests == 0; });
}

int64_t ModelService::inFlight() const {
  std::lock_guard<std::mutex> lock(mutex);
  return liveRequests;
}

anvil_engine_stats ModelService::stats() const {
  anvil_engine_stats stats{};
  stats.struct_size = sizeof stats;
  anvil::Status(anvil_engine_get_stats(engine.get(), &stats));
  return stats;
}

} // namespace anvil::serve

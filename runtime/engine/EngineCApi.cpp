//===- EngineCApi.cpp - anvil.h's engine functions over Engine ------------===//

#include "runtime/engine/ArtifactStepModel.h"
#include "runtime/engine/Engine.h"
#include "runtime/engine/EngineCApiInternal.h"

#include "runtime/src/ModelHandle.h"
#include "runtime/src/Status.h"

#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using namespace anvil::engine;
using anvil::runtime::guarded;
using anvil::runtime::makeStatus;

struct anvil_engine_s {
  std::unique_ptr<Engine> engine;
  /// What the last poll handed out: its pointers point here.
  std::mutex pollMutex;
  std::vector<TokenEvent> polled;
};

namespace {

// Every field of these structs is in their first version.
constexpr size_t kEngineConfigV1Size = sizeof(anvil_engine_config);
constexpr size_t kSamplingParamsV1Size = sizeof(anvil_sampling_params);
constexpr size_t kEngineStatsV1Size = sizeof(anvil_engine_stats);

static_assert(sizeof(anvil_token_logprob) == sizeof(TokenLogprob) &&
                  offsetof(anvil_token_logprob, token_id) ==
                      offsetof(TokenLogprob, token) &&
                  offsetof(anvil_token_logprob, logprob) ==
                      offsetof(TokenLogprob, logprob),
              "anvil_token_logprob mirrors TokenLogprob");

anvil_status invalid(const std::string &message) {
  return makeStatus(ANVIL_INVALID_ARGUMENT, message);
}

anvil_engine_event toC(const TokenEvent &event) {
  anvil_engine_event out;
  out.request_id = event.requestId;
  out.token_id = event.token;
  out.text = event.text.c_str();
  out.text_size = event.text.size();
  out.finish_reason = static_cast<anvil_finish_reason>(event.finish);
  out.logprob = event.logprob;
  out.top_logprobs =
      reinterpret_cast<const anvil_token_logprob *>(event.top.data());
  out.top_logprob_count = event.top.size();
  out.error = event.error.c_str();
  return out;
}

anvil_status toParams(const anvil_sampling_params *in, SamplingParams &out) {
  if (!in)
    return nullptr;
  if (in->struct_size < kSamplingParamsV1Size)
    return invalid("anvil_sampling_params.struct_size is " +
                   std::to_string(in->struct_size) +
                   "; fill it with anvil_sampling_params_init");
  out.temperature = in->temperature;
  out.topK = in->top_k;
  out.topP = in->top_p;
  out.minP = in->min_p;
  out.repetitionPenalty = in->repetition_penalty;
  out.frequencyPenalty = in->frequency_penalty;
  out.presencePenalty = in->presence_penalty;
  out.maxNewTokens = in->max_new_tokens;
  if (in->stop_token_id_count && !in->stop_token_ids)
    return invalid("stop_token_ids is NULL with a nonzero count");
  out.stopTokenIds.assign(in->stop_token_ids,
                          in->stop_token_ids + in->stop_token_id_count);
  if (in->stop_string_count && !in->stop_strings)
    return invalid("stop_strings is NULL with a nonzero count");
  for (size_t i = 0; i < in->stop_string_count; ++i) {
    if (!in->stop_strings[i])
      return invalid("stop_strings[" + std::to_string(i) + "] is NULL");
    out.stopStrings.emplace_back(in->stop_strings[i]);
  }
  out.ignoreEos = in->ignore_eos != 0;
  out.hasSeed = in->has_seed != 0;
  out.seed = in->seed;
  out.logprobs = in->logprobs;
  return nullptr;
}

TokenCallback toCallback(anvil_engine_callback callback, void *userData) {
  if (!callback)
    return {};
  return [callback, userData](const TokenEvent &event) {
    anvil_engine_event out = toC(event);
    callback(&out, userData);
  };
}

/// The checks and conversions both submit functions share; `submit` takes
/// the converted params and writes the id.
template <typename Submit>
anvil_status submitWith(anvil_engine *engine,
                        const anvil_sampling_params *params,
                        uint64_t *out_request_id, Submit &&submit) {
  return guarded([&]() -> anvil_status {
    if (!engine || !out_request_id)
      return invalid("engine and out_request_id are required");
    SamplingParams converted;
    if (anvil_status status = toParams(params, converted))
      return status;
    uint64_t id = 0;
    if (anvil_status status = submit(converted, id))
      return status;
    *out_request_id = id;
    return nullptr;
  });
}

} // namespace

anvil_status anvil::engine::createCEngine(
    std::unique_ptr<StepModel> model, const anvil_engine_config *config,
    std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
    std::vector<int64_t> eosTokenIds, anvil_engine **out_engine) {
  EngineConfig engineConfig;
  engineConfig.eosTokenIds = std::move(eosTokenIds);
  if (config) {
    engineConfig.kvBlocks = config->kv_budget_blocks;
    engineConfig.kvBytes = config->kv_budget_bytes;
    engineConfig.maxTokensPerStep = config->max_tokens_per_step;
    engineConfig.maxSeqsPerStep = config->max_seqs_per_step;
    engineConfig.enablePrefixCaching = config->disable_prefix_caching == 0;
    if (config->eos_token_id_count)
      engineConfig.eosTokenIds.assign(config->eos_token_ids,
                                      config->eos_token_ids +
                                          config->eos_token_id_count);
  }
  engineConfig.tokenizer = std::move(tokenizer);
  auto handle = std::make_unique<anvil_engine_s>();
  if (anvil_status status =
          Engine::create(std::move(model), engineConfig, handle->engine))
    return status;
  *out_engine = handle.release();
  return nullptr;
}

/// Checks what every create path shares; null when `config` is usable.
static anvil_status checkConfig(const anvil_engine_config *config) {
  if (!config)
    return nullptr;
  if (config->struct_size < kEngineConfigV1Size)
    return invalid("anvil_engine_config.struct_size is " +
                   std::to_string(config->struct_size) +
                   "; set it to sizeof(anvil_engine_config)");
  if (config->num_threads != 0)
    return invalid("num_threads must be 0: the model's instance's threads "
                   "run the engine's steps");
  if (config->eos_token_id_count && !config->eos_token_ids)
    return invalid("eos_token_ids is NULL with a nonzero count");
  return nullptr;
}

extern "C" {

void anvil_sampling_params_init(anvil_sampling_params *params) {
  if (!params)
    return;
  std::memset(params, 0, sizeof *params);
  SamplingParams defaults;
  params->struct_size = sizeof *params;
  params->temperature = defaults.temperature;
  params->top_k = defaults.topK;
  params->top_p = defaults.topP;
  params->min_p = defaults.minP;
  params->repetition_penalty = defaults.repetitionPenalty;
  params->frequency_penalty = defaults.frequencyPenalty;
  params->presence_penalty = defaults.presencePenalty;
  params->max_new_tokens = defaults.maxNewTokens;
  params->logprobs = defaults.logprobs;
}

anvil_status anvil_engine_create(anvil_model *model,
                                 const anvil_engine_config *config,
                                 anvil_engine **out_engine) {
  return guarded([&]() -> anvil_status {
    if (!model || !out_engine)
      return invalid("model and out_engine are required");
    if (anvil_status status = checkConfig(config))
      return status;
    std::unique_ptr<StepModel> stepModel;
    if (anvil_status status = openArtifactStepModel(model->model, stepModel))
      return status;
    std::shared_ptr<const anvil::tokenizer::Tokenizer> tokenizer;
    if (anvil_status status = openArtifactTokenizer(*model->model, tokenizer))
      return status;
    return createCEngine(std::move(stepModel), config, std::move(tokenizer),
                         artifactEosTokenIds(*model->model), out_engine);
  });
}

void anvil_engine_release(anvil_engine *engine) { delete engine; }

const char *anvil_finish_reason_name(anvil_finish_reason reason) {
  switch (reason) {
  case ANVIL_FINISH_NONE:
    return "none";
  case ANVIL_FINISH_STOP:
    return "stop";
  case ANVIL_FINISH_LENGTH:
    return "length";
  case ANVIL_FINISH_CANCELLED:
    return "cancelled";
  case ANVIL_FINISH_ERROR:
    return "error";
  }
  return "unknown";
}

anvil_status anvil_engine_submit_tokens(anvil_engine *engine,
                                        const int64_t *token_ids, size_t count,
                                        const anvil_sampling_params *params,
                                        anvil_engine_callback callback,
                                        void *user_data,
                                        uint64_t *out_request_id) {
  return submitWith(engine, params, out_request_id,
                    [&](const SamplingParams &converted, uint64_t &id) {
                      if (count && !token_ids)
                        return invalid("token_ids is NULL with a nonzero "
                                       "count");
                      return engine->engine->submit(
                          std::vector<int64_t>(token_ids, token_ids + count),
                          converted, toCallback(callback, user_data), id);
                    });
}

anvil_status anvil_engine_submit_text(anvil_engine *engine, const char *text,
                                      size_t text_size,
                                      const anvil_sampling_params *params,
                                      anvil_engine_callback callback,
                                      void *user_data,
                                      uint64_t *out_request_id) {
  return submitWith(engine, params, out_request_id,
                    [&](const SamplingParams &converted, uint64_t &id) {
                      if (text_size && !text)
                        return invalid("text is NULL with a nonzero size");
                      return engine->engine->submitText(
                          std::string_view(text ? text : "", text_size),
                          converted, toCallback(callback, user_data), id);
                    });
}

anvil_status anvil_engine_cancel(anvil_engine *engine, uint64_t request_id) {
  return guarded([&]() -> anvil_status {
    if (!engine)
      return invalid("engine is NULL");
    return engine->engine->cancel(request_id);
  });
}

anvil_status anvil_engine_step(anvil_engine *engine, int *out_worked) {
  return guarded([&]() -> anvil_status {
    if (!engine)
      return invalid("engine is NULL");
    bool worked = false;
    anvil_status status = engine->engine->step(&worked);
    if (out_worked)
      *out_worked = worked ? 1 : 0;
    return status;
  });
}

anvil_status anvil_engine_poll(anvil_engine *engine, anvil_engine_event *events,
                               size_t capacity, size_t *out_count) {
  return guarded([&]() -> anvil_status {
    if (!engine || !out_count)
      return invalid("engine and out_count are required");
    if (capacity && !events)
      return invalid("events is NULL with a nonzero capacity");
    std::lock_guard<std::mutex> lock(engine->pollMutex);
    engine->polled.clear();
    size_t n = engine->engine->poll(engine->polled, capacity);
    for (size_t i = 0; i < n; ++i)
      events[i] = toC(engine->polled[i]);
    *out_count = n;
    return nullptr;
  });
}

anvil_status anvil_engine_start(anvil_engine *engine) {
  return guarded([&]() -> anvil_status {
    if (!engine)
      return invalid("engine is NULL");
    return engine->engine->start();
  });
}

anvil_status anvil_engine_stop(anvil_engine *engine) {
  return guarded([&]() -> anvil_status {
    if (!engine)
      return invalid("engine is NULL");
    return engine->engine->stop();
  });
}

anvil_status anvil_engine_get_stats(const anvil_engine *engine,
                                    anvil_engine_stats *out_stats) {
  return guarded([&]() -> anvil_status {
    if (!engine || !out_stats)
      return invalid("engine and out_stats are required");
    if (out_stats->struct_size < kEngineStatsV1Size)
      return invalid("anvil_engine_stats.struct_size is " +
                     std::to_string(out_stats->struct_size) +
                     "; set it to sizeof(anvil_engine_stats)");
    EngineStats in = engine->engine->stats();
    anvil_engine_stats out;
    out.struct_size = out_stats->struct_size;
    out.requests_submitted = in.requestsSubmitted;
    out.requests_rejected = in.requestsRejected;
    out.requests_finished = in.requestsFinished;
    out.requests_cancelled = in.requestsCancelled;
    out.requests_failed = in.requestsFailed;
    out.waiting = in.waiting;
    out.running = in.running;
    out.steps = in.steps;
    out.preemptions = in.preemptions;
    out.computed_tokens = in.computedTokens;
    out.computed_prompt_tokens = in.computedPromptTokens;
    out.generated_tokens = in.generatedTokens;
    out.prefix_queried_tokens = in.prefixQueriedTokens;
    out.prefix_hit_tokens = in.prefixHitTokens;
    out.prefix_cache_hit_rate = in.prefixCacheHitRate;
    out.kv_blocks_total = in.kvBlocksTotal;
    out.kv_blocks_used = in.kvBlocksUsed;
    out.kv_blocks_free = in.kvBlocksFree;
    out.kv_blocks_cached = in.kvBlocksCached;
    out.busy_seconds = in.busySeconds;
    out.prompt_tokens_per_second = in.promptTokensPerSecond;
    out.generated_tokens_per_second = in.generatedTokensPerSecond;
    out.ttft_count = in.ttftCount;
    out.ttft_ms_mean = in.ttftMsMean;
    out.ttft_ms_last = in.ttftMsLast;
    out.ttft_ms_max = in.ttftMsMax;
    // Fields past the caller's struct_size (a newer header's) stay theirs.
    std::memcpy(out_stats, &out, std::min(sizeof out, out_stats->struct_size));
    return nullptr;
  });
}

} // extern "C"

//===- EngineBench.cpp - timing prefill and decode through the engine -----===//

#include "EngineBench.h"

#include "anvil/anvil.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <random>

namespace anvil::bench {
namespace {

using Clock = std::chrono::steady_clock;

/// One sequence of a run, as its events tell it.
struct Sequence {
  struct Run *run = nullptr;
  int64_t firstStep = -1; // the step that gave its first token
  int64_t tokens = 0;
  anvil_finish_reason finish = ANVIL_FINISH_NONE;
  std::string error;
};

struct Run {
  int64_t step = 0;                // the step being run (1, 2, ...)
  std::vector<int64_t> stepTokens; // tokens generated in each step
  int64_t finished = 0;
};

void onEvent(const anvil_engine_event *event, void *data) {
  auto *seq = static_cast<Sequence *>(data);
  Run &run = *seq->run;
  if (event->token_id >= 0) {
    if (seq->firstStep < 0)
      seq->firstStep = run.step;
    ++seq->tokens;
    if (run.stepTokens.size() <= size_t(run.step))
      run.stepTokens.resize(run.step + 1, 0);
    ++run.stepTokens[run.step];
  }
  if (event->finish_reason != ANVIL_FINISH_NONE) {
    seq->finish = event->finish_reason;
    if (event->error)
      seq->error = event->error;
    ++run.finished;
  }
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int64_t promptLength(const TestSpec &spec) {
  return spec.kind == TestKind::Prefill ? spec.prompt
                                        : std::max<int64_t>(spec.depth, 1);
}

} // namespace

bool readModelFacts(anvil_model *model, ModelFacts &facts, std::string &error) {
  nlohmann::json manifest = nlohmann::json::parse(
      anvil_model_manifest(model), nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object()) {
    error = "the manifest is not a JSON object";
    return false;
  }
  facts.target = anvil_model_target(model);
  auto integer = [](const nlohmann::json &object, const char *key,
                    int64_t &out) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number_integer())
      return false;
    out = it->get<int64_t>();
    return true;
  };
  auto model_ = manifest.find("model");
  if (model_ != manifest.end() && model_->is_object()) {
    integer(*model_, "weight_bytes", facts.weightBytes);
    if (!integer(*model_, "streamed_weight_bytes", facts.streamedWeightBytes))
      facts.streamedWeightBytes = facts.weightBytes;
  }
  auto llm = manifest.find("llm");
  if (llm == manifest.end() || !llm->is_object()) {
    error = "not a decoder with a paged-KV step function (the manifest has "
            "no llm object; compile the decoder with anvilc's default "
            "--kv-cache=auto at -O1 or above)";
    return false;
  }
  for (auto [key, out] :
       {std::pair<const char *, int64_t *>{"vocab_size", &facts.vocabSize},
        {"block_size", &facts.blockSize},
        {"max_context", &facts.maxContext},
        {"max_kv_blocks", &facts.maxKvBlocks},
        {"max_tokens_per_step", &facts.maxTokensPerStep},
        {"max_seqs_per_step", &facts.maxSeqsPerStep}})
    if (!integer(*llm, key, *out) || *out < 1) {
      error = std::string("the manifest's llm.") + key +
              " is missing or not a positive integer";
      return false;
    }
  return true;
}

int64_t sequenceLength(const TestSpec &spec, const ModelFacts &facts,
                       int64_t &maxNewTokens) {
  int64_t prompt = promptLength(spec);
  if (spec.kind == TestKind::Prefill) {
    maxNewTokens = 1;
  } else {
    // Sequences whose prompts do not fit in one step start decoding while
    // others still prefill: enough tokens that each is still decoding when
    // the last one's gen timed steps end (the rest is cancelled then).
    int64_t staggerSteps = (spec.batch * prompt + facts.maxTokensPerStep - 1) /
                               facts.maxTokensPerStep +
                           1;
    maxNewTokens = spec.gen + 1 + staggerSteps;
  }
  return prompt + maxNewTokens;
}

bool runTest(anvil_engine *engine, const ModelFacts &facts,
             const TestSpec &spec, uint64_t seed, RunResult &result,
             std::string &error) {
  int64_t maxNew = 0;
  int64_t length = sequenceLength(spec, facts, maxNew);
  int64_t prompt = promptLength(spec);
  if (length > facts.maxContext) {
    error = "a sequence of " + std::to_string(length) + " tokens (prompt " +
            std::to_string(prompt) + " + " + std::to_string(maxNew) +
            " generated) does not fit the model's context of " +
            std::to_string(facts.maxContext) +
            " (compile with a larger anvilc --max-context)";
    return false;
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> draw(0, facts.vocabSize - 1);
  std::vector<std::vector<int64_t>> prompts(spec.batch);
  for (auto &p : prompts) {
    p.resize(prompt);
    for (int64_t &id : p)
      id = draw(rng);
  }

  Run run;
  std::vector<Sequence> seqs(spec.batch);
  std::vector<uint64_t> ids(spec.batch);
  std::vector<Clock::time_point> stepEnd; // [0]: before the submits
  anvil_sampling_params params;
  anvil_sampling_params_init(&params);
  params.temperature = 0.0f;
  params.ignore_eos = 1;
  params.max_new_tokens = maxNew;
  stepEnd.push_back(Clock::now());
  for (int64_t s = 0; s < spec.batch; ++s) {
    seqs[s].run = &run;
    anvil::Status status{
        anvil_engine_submit_tokens(engine, prompts[s].data(), prompts[s].size(),
                                   &params, onEvent, &seqs[s], &ids[s])};
    if (status) {
      error = anvil_status_get_message(status.get());
      return false;
    }
  }
  int64_t allStartedStep = -1; // the step where the last first token came
  bool cancelled = false;
  while (run.finished < spec.batch) {
    run.step = int64_t(stepEnd.size());
    int worked = 0;
    // A failed step ends its requests with error events, reported below.
    anvil::Status status{anvil_engine_step(engine, &worked)};
    stepEnd.push_back(Clock::now());
    if (!worked && run.finished < spec.batch) {
      error = "the engine stopped before every sequence finished";
      return false;
    }
    if (allStartedStep < 0 &&
        std::all_of(seqs.begin(), seqs.end(),
                    [](const Sequence &q) { return q.firstStep >= 0; }))
      allStartedStep = run.step;
    if (spec.kind == TestKind::Decode && !cancelled && allStartedStep >= 0 &&
        run.step >= allStartedStep + spec.gen) {
      for (int64_t s = 0; s < spec.batch; ++s)
        if (seqs[s].finish == ANVIL_FINISH_NONE)
          anvil::Status ignored{anvil_engine_cancel(engine, ids[s])};
      cancelled = true;
    }
  }
  for (const Sequence &q : seqs)
    if (q.finish == ANVIL_FINISH_ERROR) {
      error = q.error.empty() ? "a sequence failed" : q.error;
      return false;
    }
  if (allStartedStep < 0) {
    error = "a sequence ended without generating a token";
    return false;
  }
  run.stepTokens.resize(stepEnd.size(), 0);
  result = RunResult{};
  if (spec.kind == TestKind::Prefill) {
    result.seconds = seconds(stepEnd[0], stepEnd[allStartedStep]);
    result.tokens = spec.batch * prompt;
    for (const Sequence &q : seqs)
      result.ttftMs.push_back(1e3 * seconds(stepEnd[0], stepEnd[q.firstStep]));
    return true;
  }
  int64_t last = allStartedStep + spec.gen;
  if (last >= int64_t(stepEnd.size())) {
    error = "the sequences finished before " + std::to_string(spec.gen) +
            " decode steps";
    return false;
  }
  for (int64_t s = allStartedStep + 1; s <= last; ++s) {
    if (run.stepTokens[s] != spec.batch) {
      error = "decode step " + std::to_string(s - allStartedStep) + " ran " +
              std::to_string(run.stepTokens[s]) + " of the " +
              std::to_string(spec.batch) +
              " sequences (is the batch above the engine's sequences per "
              "step?)";
      return false;
    }
    result.tokens += run.stepTokens[s];
  }
  result.seconds = seconds(stepEnd[allStartedStep], stepEnd[last]);
  return true;
}

} // namespace anvil::bench

//===- Generate.cpp - anvil-run generate: text from a paged decoder -------===//
//
// Drives the engine through the C API (anvil_engine_*), as an embedding
// application would: one request, stepped from this thread, its text
// streamed to stdout as the engine produces it and the timings printed to
// stderr (or everything as one JSON object with --json; docs/cli.md lists
// its fields, which scripts depend on).
//
//===----------------------------------------------------------------------===//

#include "Generate.h"

#include "RegularFile.h"
#include "tools/common/ParseNumbers.h"

#include "anvil/anvil.hpp"
#include "anvil/artifact_signature.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace anvil::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char *kGenerateUsage =
    "usage: anvil-run generate MODEL.anvil (--prompt TEXT | --prompt-file F |\n"
    "                          --prompt-ids 1,2,3) [options]\n"
    "\n"
    "Generates text with the engine from an artifact compiled from a decoder\n"
    "with a KV cache (anvilc's paged step function). Text streams to stdout\n"
    "as it is produced; timings go to stderr.\n"
    "\n"
    "  --prompt TEXT            the prompt, encoded by the artifact's "
    "tokenizer\n"
    "  --prompt-file F          the prompt read from file F (UTF-8)\n"
    "  --prompt-ids 1,2,3       the prompt as token ids (no tokenizer needed)\n"
    "  --max-new-tokens N       stop after N generated tokens (default 128)\n"
    "  --temperature T          0 is greedy decoding (default 0)\n"
    "  --top-k K                keep the K most likely tokens (0: all)\n"
    "  --top-p P                keep the smallest set with mass >= P (0 < P "
    "<= 1)\n"
    "  --min-p P                drop tokens below P times the most likely\n"
    "  --repetition-penalty R   CTRL's penalty on tokens seen (1: none)\n"
    "  --frequency-penalty F    OpenAI's, per occurrence (0: none)\n"
    "  --presence-penalty F     OpenAI's, once per token seen (0: none)\n"
    "  --seed S                 seed of this request's sampling\n"
    "  --stop TEXT              end when TEXT is generated (repeatable; not\n"
    "                           printed)\n"
    "  --stop-token-id ID       end at token ID (repeatable)\n"
    "  --ignore-eos             do not end at the artifact's EOS tokens\n"
    "  --json                   print one JSON object instead: token_ids,\n"
    "                           text, finish_reason, prompt_tokens, ttft_ms,\n"
    "                           prefill_tokens_per_s, decode_tokens_per_s\n"
    "  --threads N              threads for the model (default 0: one per\n"
    "                           hardware thread)\n"
    "  --kv-blocks N            KV pool size in blocks (default: enough for\n"
    "                           one full context)\n"
    "  --no-verify              skip the section checksums\n"
    "  --require-signature PUBKEY_FILE\n"
    "                           refuse the artifact unless signed by this "
    "key\n";

/// Whether `flag` is one of generate's options that take a value.
bool takesValue(const std::string &flag) {
  for (const char *name :
       {"--prompt", "--prompt-file", "--prompt-ids", "--max-new-tokens",
        "--temperature", "--top-k", "--top-p", "--min-p",
        "--repetition-penalty", "--frequency-penalty", "--presence-penalty",
        "--seed", "--stop", "--stop-token-id", "--threads", "--kv-blocks",
        "--require-signature"})
    if (flag == name)
      return true;
  return false;
}

int fail(const std::string &message) {
  std::cerr << "anvil-run generate: error: " << message << "\n";
  return 1;
}

bool parseFloat(const std::string &text, float &out) {
  char *end = nullptr;
  float v = std::strtof(text.c_str(), &end);
  if (text.empty() || *end || !std::isfinite(v))
    return false;
  out = v;
  return true;
}

/// What the callback collects.
struct Output {
  bool json = false;
  std::vector<int64_t> tokens;
  std::string text, error;
  anvil_finish_reason finish = ANVIL_FINISH_NONE;
  Clock::time_point first, last;
};

void onEvent(const anvil_engine_event *event, void *data) {
  auto *out = static_cast<Output *>(data);
  Clock::time_point now = Clock::now();
  if (event->token_id >= 0) {
    if (out->tokens.empty())
      out->first = now;
    out->last = now;
    out->tokens.push_back(event->token_id);
  }
  if (event->text_size) {
    out->text.append(event->text, event->text_size);
    if (!out->json) {
      std::fwrite(event->text, 1, event->text_size, stdout);
      std::fflush(stdout);
    }
  }
  if (event->finish_reason != ANVIL_FINISH_NONE) {
    out->finish = event->finish_reason;
    if (event->error)
      out->error = event->error;
  }
}

} // namespace

int generate(const std::vector<std::string> &args) {
  std::string path, prompt, promptFile, promptIds, keyFile;
  bool havePrompt = false, havePromptIds = false, json = false, verify = true;
  int64_t threads = 0, kvBlocks = 0, maxNew = 128;
  anvil_sampling_params params;
  anvil_sampling_params_init(&params);
  params.temperature = 0.0f; // greedy unless --temperature says otherwise
  std::vector<std::string> stops;
  std::vector<int64_t> stopIds;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    bool hasValue = i + 1 < args.size();
    auto value = [&]() -> const std::string & { return args[++i]; };
    int64_t n = 0;
    if (a == "--help" || a == "-h") {
      std::cout << kGenerateUsage;
      return 0;
    }
    if (a == "--json")
      json = true;
    else if (a == "--ignore-eos")
      params.ignore_eos = 1;
    else if (a == "--no-verify")
      verify = false;
    else if (!hasValue && takesValue(a))
      return fail(a + " needs a value (anvil-run generate --help)");
    else if (a == "--prompt") {
      prompt = value();
      havePrompt = true;
    } else if (a == "--prompt-file")
      promptFile = value();
    else if (a == "--prompt-ids") {
      promptIds = value();
      havePromptIds = true;
    } else if (a == "--max-new-tokens") {
      if (!parseInt(value(), 1, int64_t(1) << 30, maxNew))
        return fail("--max-new-tokens " + args[i] + ": expected N >= 1");
    } else if (a == "--threads") {
      if (!parseInt(value(), 0, ANVIL_MAX_THREADS, threads))
        return fail("--threads " + args[i] + ": expected 0 to " +
                    std::to_string(ANVIL_MAX_THREADS));
    } else if (a == "--kv-blocks") {
      if (!parseInt(value(), 1, int64_t(1) << 40, kvBlocks))
        return fail("--kv-blocks " + args[i] + ": expected N >= 1");
    } else if (a == "--top-k") {
      if (!parseInt(value(), 0, INT32_MAX, n))
        return fail("--top-k " + args[i] + ": expected K >= 0");
      params.top_k = int32_t(n);
    } else if (a == "--seed") {
      if (!parseInt(value(), 0, INT64_MAX, n))
        return fail("--seed " + args[i] + ": expected S >= 0");
      params.has_seed = 1;
      params.seed = uint64_t(n);
    } else if (a == "--stop")
      stops.push_back(value());
    else if (a == "--stop-token-id") {
      if (!parseInt(value(), 0, INT64_MAX, n))
        return fail("--stop-token-id " + args[i] + ": expected an id");
      stopIds.push_back(n);
    } else if (a == "--require-signature")
      keyFile = value();
    else if (a == "--temperature" || a == "--top-p" || a == "--min-p" ||
             a == "--repetition-penalty" || a == "--frequency-penalty" ||
             a == "--presence-penalty") {
      float v = 0;
      if (!parseFloat(value(), v))
        return fail(a + " " + args[i] + ": expected a number");
      (a == "--temperature"          ? params.temperature
       : a == "--top-p"              ? params.top_p
       : a == "--min-p"              ? params.min_p
       : a == "--repetition-penalty" ? params.repetition_penalty
       : a == "--frequency-penalty"  ? params.frequency_penalty
                                     : params.presence_penalty) = v;
    } else if (!a.empty() && a[0] == '-')
      return fail("unknown option '" + a + "' (anvil-run generate --help)");
    else if (path.empty())
      path = a;
    else
      return fail("more than one artifact given");
  }
  if (path.empty())
    return fail(std::string("no artifact given\n") + kGenerateUsage);
  int given = havePrompt + !promptFile.empty() + havePromptIds;
  if (given != 1)
    return fail("give exactly one of --prompt, --prompt-file and "
                "--prompt-ids");
  std::vector<int64_t> ids;
  if (havePromptIds && promptIds.empty())
    return fail("the prompt is empty");
  if (havePromptIds) {
    size_t start = 0;
    while (start <= promptIds.size()) {
      size_t comma = promptIds.find(',', start);
      std::string item =
          promptIds.substr(start, comma == std::string::npos ? std::string::npos
                                                             : comma - start);
      int64_t id = 0;
      if (!parseInt(item, 0, INT64_MAX, id))
        return fail("--prompt-ids: '" + item +
                    "' is not a token id (expected 1,2,3)");
      ids.push_back(id);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
  }
  if (!promptFile.empty()) {
    std::string error;
    std::vector<unsigned char> bytes;
    // A prompt longer than any context still fits in 64 MiB of text.
    if (!readRegularFile(promptFile, bytes, size_t(64) << 20, error))
      return fail(error);
    prompt.assign(bytes.begin(), bytes.end());
  }
  params.max_new_tokens = maxNew;
  std::vector<const char *> stopPointers;
  for (const std::string &s : stops)
    stopPointers.push_back(s.c_str());
  params.stop_strings = stopPointers.data();
  params.stop_string_count = stopPointers.size();
  params.stop_token_ids = stopIds.data();
  params.stop_token_id_count = stopIds.size();

  anvil::artifact::PublicKey key;
  anvil_model_options options{};
  options.skip_checksums = verify ? 0 : 1;
  options.num_threads = int(threads);
  if (!keyFile.empty()) {
    std::string error;
    if (!anvil::artifact::readPublicKeyFile(keyFile, key, error))
      return fail(error);
    options.required_public_key = key.data();
  }
  anvil_model *rawModel = nullptr;
  anvil::Status status{
      anvil_model_open_file(path.c_str(), &options, &rawModel)};
  if (status)
    return fail(anvil_status_get_message(status.get()));
  anvil::Model model{rawModel};
  anvil_engine_config config{};
  config.struct_size = sizeof config;
  config.kv_budget_blocks = kvBlocks;
  anvil_engine *rawEngine = nullptr;
  status.reset(anvil_engine_create(model.get(), &config, &rawEngine));
  if (status)
    return fail(path + ": " + anvil_status_get_message(status.get()));
  anvil::Engine engine{rawEngine};

  Output out;
  out.json = json;
  uint64_t id = 0;
  Clock::time_point submitted = Clock::now();
  status.reset(
      ids.empty()
          ? anvil_engine_submit_text(engine.get(), prompt.data(), prompt.size(),
                                     &params, onEvent, &out, &id)
          : anvil_engine_submit_tokens(engine.get(), ids.data(), ids.size(),
                                       &params, onEvent, &out, &id));
  if (status)
    return fail(anvil_status_get_message(status.get()));
  while (out.finish == ANVIL_FINISH_NONE) {
    int worked = 0;
    anvil::Status stepStatus{anvil_engine_step(engine.get(), &worked)};
    // A failed step ends the request with an error event, reported below.
    if (!worked && out.finish == ANVIL_FINISH_NONE)
      return fail("the engine stopped without finishing the request");
  }
  anvil_engine_stats stats{};
  stats.struct_size = sizeof stats;
  anvil::Status statsStatus{anvil_engine_get_stats(engine.get(), &stats)};
  int64_t promptTokens = stats.computed_prompt_tokens;
  double ttftMs =
      out.tokens.empty()
          ? 0.0
          : std::chrono::duration<double, std::milli>(out.first - submitted)
                .count();
  double decodeSeconds =
      out.tokens.size() > 1
          ? std::chrono::duration<double>(out.last - out.first).count()
          : 0.0;
  double prefillRate = ttftMs > 0 ? promptTokens / (ttftMs / 1000.0) : 0.0;
  double decodeRate =
      decodeSeconds > 0 ? (out.tokens.size() - 1) / decodeSeconds : 0.0;
  if (json) {
    nlohmann::json object{
        {"token_ids", out.tokens},
        {"text", out.text},
        {"finish_reason", anvil_finish_reason_name(out.finish)},
        {"prompt_tokens", promptTokens},
        {"ttft_ms", ttftMs},
        {"prefill_tokens_per_s", prefillRate},
        {"decode_tokens_per_s", decodeRate}};
    if (!out.error.empty())
      object["error"] = out.error;
    // Invalid UTF-8 in generated text is replaced, not fatal.
    std::cout << object.dump(-1, ' ', false,
                             nlohmann::json::error_handler_t::replace)
              << "\n";
  } else if (out.finish != ANVIL_FINISH_ERROR) {
    std::fputs("\n", stdout);
    std::fflush(stdout);
    std::fprintf(stderr,
                 "anvil-run generate: %lld prompt tokens, %zu generated "
                 "(%s); time to first token %.1f ms (prefill %.1f tok/s), "
                 "decode %.1f tok/s\n",
                 (long long)promptTokens, out.tokens.size(),
                 anvil_finish_reason_name(out.finish), ttftMs, prefillRate,
                 decodeRate);
  }
  if (out.finish == ANVIL_FINISH_ERROR)
    return fail(out.error.empty() ? "the request failed" : out.error);
  return 0;
}

} // namespace anvil::tools

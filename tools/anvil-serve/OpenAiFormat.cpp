//===- OpenAiFormat.cpp - OpenAI response bodies and SSE chunks -----------===//

#include "OpenAiFormat.h"

namespace anvil::serve {

using Json = nlohmann::json;

const char *finishReasonName(anvil_finish_reason reason) {
  // The engine's names are OpenAI's where OpenAI has one.
  return reason == ANVIL_FINISH_NONE ? nullptr
                                     : anvil_finish_reason_name(reason);
}

std::string jsonBody(const Json &value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string sseEvent(const Json &value) {
  return "data: " + jsonBody(value) + "\n\n";
}

const char *sseDone() { return "data: [DONE]\n\n"; }

namespace {

Json utf8Bytes(const std::string &text) {
  Json bytes = Json::array();
  for (unsigned char c : text)
    bytes.push_back(int(c));
  return bytes;
}

Json finishJson(anvil_finish_reason reason) {
  const char *name = finishReasonName(reason);
  return name ? Json(name) : Json();
}

} // namespace

ResponseBuilder::ResponseBuilder(Endpoint endpoint, std::string id,
                                 std::string model, int64_t created,
                                 int32_t logprobs, size_t choices,
                                 std::function<std::string(int64_t)> tokenText)
    : endpoint(endpoint), id(std::move(id)), model(std::move(model)),
      created(created), logprobs(logprobs), tokenText(std::move(tokenText)),
      textOffsets(choices, 0), roleSent(choices, false) {}

Json ResponseBuilder::envelope(bool streaming) const {
  const char *object = endpoint == Endpoint::Completions ? "text_completion"
                       : streaming ? "chat.completion.chunk"
                                   : "chat.completion";
  return Json{{"id", id},
              {"object", object},
              {"created", created},
              {"model", model},
              {"system_fingerprint", nullptr}};
}

Json ResponseBuilder::logprobsOf(const std::vector<const ChoiceEvent *> &events,
                                 size_t &offset) const {
  if (endpoint == Endpoint::Completions) {
    // The legacy shape: parallel arrays, top_logprobs as {text: logprob}.
    Json tokens = Json::array(), values = Json::array(), tops = Json::array(),
         offsets = Json::array();
    for (const ChoiceEvent *event : events) {
      std::string text = tokenText(event->tokenId);
      tokens.push_back(text);
      values.push_back(event->logprob);
      Json top = Json::object();
      for (const anvil_token_logprob &entry : event->topLogprobs)
        top[tokenText(entry.token_id)] = entry.logprob;
      tops.push_back(top);
      offsets.push_back(offset);
      offset += text.size();
    }
    return Json{{"tokens", tokens},
                {"token_logprobs", values},
                {"top_logprobs", tops},
                {"text_offset", offsets}};
  }
  Json content = Json::array();
  for (const ChoiceEvent *event : events) {
    std::string text = tokenText(event->tokenId);
    Json top = Json::array();
    for (const anvil_token_logprob &entry : event->topLogprobs) {
      std::string candidate = tokenText(entry.token_id);
      top.push_back({{"token", candidate},
                     {"logprob", entry.logprob},
                     {"bytes", utf8Bytes(candidate)}});
    }
    content.push_back({{"token", text},
                       {"logprob", event->logprob},
                       {"bytes", utf8Bytes(text)},
                       {"top_logprobs", top}});
  }
  return Json{{"content", content}};
}

Json ResponseBuilder::response(const std::vector<ChoiceResult> &results,
                               int64_t promptTokens) const {
  Json out = envelope(false);
  Json choices = Json::array();
  int64_t completionTokens = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const ChoiceResult &result = results[i];
    completionTokens += int64_t(result.tokens.size());
    Json choice{{"index", i}, {"finish_reason", finishJson(result.finish)}};
    if (endpoint == Endpoint::Completions)
      choice["text"] = result.text;
    else
      choice["message"] = {{"role", "assistant"}, {"content", result.text}};
    if (logprobs >= 0) {
      std::vector<const ChoiceEvent *> events;
      for (const ChoiceEvent &event : result.tokens)
        events.push_back(&event);
      size_t offset = 0;
      choice["logprobs"] = logprobsOf(events, offset);
    } else {
      choice["logprobs"] = nullptr;
    }
    choices.push_back(choice);
  }
  out["choices"] = choices;
  out["usage"] = {{"prompt_tokens", promptTokens},
                  {"completion_tokens", completionTokens},
                  {"total_tokens", promptTokens + completionTokens}};
  return out;
}

Json ResponseBuilder::chunk(size_t choice,
                            const std::vector<ChoiceEvent> &events) {
  std::string text;
  std::vector<const ChoiceEvent *> tokens;
  anvil_finish_reason finish = ANVIL_FINISH_NONE;
  for (const ChoiceEvent &event : events) {
    text += event.text;
    if (event.tokenId >= 0)
      tokens.push_back(&event);
    if (event.finish != ANVIL_FINISH_NONE)
      finish = event.finish;
  }
  Json entry{{"index", choice}, {"finish_reason", finishJson(finish)}};
  if (endpoint == Endpoint::Completions) {
    entry["text"] = text;
  } else {
    Json delta = Json::object();
    if (!roleSent[choice]) {
      delta["role"] = "assistant";
      roleSent[choice] = true;
    }
    // A chunk that only ends the choice has an empty delta, as OpenAI's.
    if (!text.empty() || finish == ANVIL_FINISH_NONE)
      delta["content"] = text;
    entry["delta"] = delta;
  }
  entry["logprobs"] = logprobs >= 0 && !tokens.empty()
                          ? logprobsOf(tokens, textOffsets[choice])
                          : Json();
  Json out = envelope(true);
  out["choices"] = Json::array({entry});
  return out;
}

Json ResponseBuilder::usageChunk(int64_t promptTokens,
                                 int64_t completionTokens) const {
  Json out = envelope(true);
  out["choices"] = Json::array();
  out["usage"] = {{"prompt_tokens", promptTokens},
                  {"completion_tokens", completionTokens},
                  {"total_tokens", promptTokens + completionTokens}};
  return out;
}

} // namespace anvil::serve

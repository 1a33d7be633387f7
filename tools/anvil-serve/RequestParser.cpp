//===- RequestParser.cpp - OpenAI request bodies, checked -----------------===//

#include "RequestParser.h"

#include <cmath>
#include <limits>

namespace anvil::serve {
namespace {

using Json = nlohmann::json;
using Error = std::optional<ApiError>;

/// JSON's name for the type of `value`, for messages ("got a string").
std::string typeName(const Json &value) {
  if (value.is_number_integer())
    return "an integer";
  if (value.is_number())
    return "a number";
  if (value.is_string())
    return "a string";
  if (value.is_boolean())
    return "a boolean";
  if (value.is_array())
    return "an array";
  if (value.is_object())
    return "an object";
  return "null";
}

/// Reads the optional fields of one request object: each getter leaves its
/// output untouched when the field is absent or null, and returns the
/// error for a wrong type or range.
class Fields {
public:
  explicit Fields(const Json &body) : body(body) {}

  /// The field, or null when absent.
  const Json *find(const char *key) const {
    auto it = body.find(key);
    return it == body.end() || it->is_null() ? nullptr : &*it;
  }

  Error boolean(const char *key, bool &out) const {
    const Json *v = find(key);
    if (!v)
      return std::nullopt;
    if (!v->is_boolean())
      return invalidRequest(
          std::string(key) + " must be a boolean, got " + typeName(*v), key);
    out = v->get<bool>();
    return std::nullopt;
  }

  /// An integer in [min, max]; `what` describes the range for the message.
  Error integer(const char *key, int64_t min, int64_t max, const char *what,
                int64_t &out) const {
    const Json *v = find(key);
    if (!v)
      return std::nullopt;
    if (!v->is_number_integer())
      return invalidRequest(
          std::string(key) + " must be " + what + ", got " + typeName(*v), key);
    // Unsigned values above INT64_MAX are out of every range here.
    if (v->is_number_unsigned() &&
        v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      return invalidRequest(
          std::string(key) + " must be " + what + ", got " + v->dump(), key);
    int64_t value = v->get<int64_t>();
    if (value < min || value > max)
      return invalidRequest(std::string(key) + " must be " + what + ", got " +
                                std::to_string(value),
                            key);
    out = value;
    return std::nullopt;
  }

  /// A finite number accepted by `inRange`; `what` states the range.
  template <typename InRange>
  Error number(const char *key, InRange inRange, const char *what,
               float &out) const {
    const Json *v = find(key);
    if (!v)
      return std::nullopt;
    if (!v->is_number())
      return invalidRequest(
          std::string(key) + " must be " + what + ", got " + typeName(*v), key);
    double value = v->get<double>();
    if (!std::isfinite(value) || !inRange(value))
      return invalidRequest(
          std::string(key) + " must be " + what + ", got " + v->dump(), key);
    out = float(value);
    return std::nullopt;
  }

  /// A field that must be absent, null, false, 0 or empty: something the
  /// server cannot do.
  Error unsupported(const char *key, const char *why) const {
    const Json *v = find(key);
    if (!v)
      return std::nullopt;
    bool empty =
        (v->is_boolean() && !v->get<bool>()) ||
        (v->is_number() && v->get<double>() == 0) ||
        ((v->is_string() || v->is_array() || v->is_object()) && v->empty());
    if (empty)
      return std::nullopt;
    return invalidRequest(std::string(key) + " is not supported: " + why, key,
                          "unsupported_parameter");
  }

private:
  const Json &body;
};

/// Fields the two endpoints share: sampling, stop, seed, n, stream,
/// max_tokens.
Error parseCommon(const Json &body, const RequestLimits &limits,
                  GenerationRequest &out) {
  Fields f(body);
  if (const Json *model = f.find("model")) {
    if (!model->is_string())
      return invalidRequest("model must be a string, got " + typeName(*model),
                            "model");
    out.model = model->get<std::string>();
  }
  auto atLeastZero = [](double v) { return v >= 0; };
  auto unitOpenBelow = [](double v) { return v > 0 && v <= 1; };
  auto unitClosed = [](double v) { return v >= 0 && v <= 1; };
  auto penalty = [](double v) { return v >= -2 && v <= 2; };
  auto positive = [](double v) { return v > 0; };
  if (Error e = f.number("temperature", atLeastZero,
                         "a number >= 0 (0 is greedy)", out.temperature))
    return e;
  if (Error e =
          f.number("top_p", unitOpenBelow, "a number in (0, 1]", out.topP))
    return e;
  if (Error e = f.number("min_p", unitClosed, "a number in [0, 1]", out.minP))
    return e;
  if (Error e = f.number("presence_penalty", penalty, "a number in [-2, 2]",
                         out.presencePenalty))
    return e;
  if (Error e = f.number("frequency_penalty", penalty, "a number in [-2, 2]",
                         out.frequencyPenalty))
    return e;
  if (Error e = f.number("repetition_penalty", positive,
                         "a number > 0 (1 is off)", out.repetitionPenalty))
    return e;
  int64_t value = 0;
  if (f.find("top_k")) {
    // vLLM's -1 means "all", as 0 does for the engine.
    if (Error e = f.integer("top_k", -1, std::numeric_limits<int32_t>::max(),
                            "an integer >= -1 (-1 or 0: all)", value))
      return e;
    out.topK = int32_t(value < 0 ? 0 : value);
  }
  if (const Json *seed = f.find("seed")) {
    if (!seed->is_number_integer())
      return invalidRequest("seed must be an integer, got " + typeName(*seed),
                            "seed");
    // Any 64-bit integer; a negative one keeps its bits.
    out.seed = seed->is_number_unsigned() ? seed->get<uint64_t>()
                                          : uint64_t(seed->get<int64_t>());
    out.hasSeed = true;
  }
  if (f.find("n")) {
    if (Error e = f.integer("n", 1, limits.maxChoices,
                            "an integer from 1 to the server's limit", value))
      return e;
    out.n = int(value);
  }
  if (Error e = f.boolean("stream", out.stream))
    return e;
  if (const Json *options = f.find("stream_options")) {
    if (!options->is_object())
      return invalidRequest("stream_options must be an object, got " +
                                typeName(*options),
                            "stream_options");
    if (Error e = Fields(*options).boolean("include_usage", out.includeUsage))
      return e;
  }
  if (Error e = f.boolean("ignore_eos", out.ignoreEos))
    return e;
  // max_tokens, and chat's newer max_completion_tokens (which wins).
  for (const char *key : {"max_tokens", "max_completion_tokens"})
    if (Error e = f.integer(key, 1, std::numeric_limits<int32_t>::max(),
                            "an integer >= 1", out.maxTokens))
      return e;

  if (const Json *stop = f.find("stop")) {
    std::vector<const Json *> items;
    if (stop->is_string())
      items.push_back(stop);
    else if (stop->is_array())
      for (const Json &item : *stop)
        items.push_back(&item);
    else
      return invalidRequest("stop must be a string or an array of strings, "
                            "got " +
                                typeName(*stop),
                            "stop");
    if (items.size() > limits.maxStopStrings)
      return invalidRequest("stop has " + std::to_string(items.size()) +
                                " strings; at most " +
                                std::to_string(limits.maxStopStrings),
                            "stop");
    for (const Json *item : items) {
      if (!item->is_string())
        return invalidRequest("stop must be a string or an array of "
                              "strings, got an array holding " +
                                  typeName(*item),
                              "stop");
      const std::string &text = item->get_ref<const std::string &>();
      if (text.empty())
        return invalidRequest("a stop string is empty", "stop");
      if (text.size() > limits.maxStopBytes)
        return invalidRequest(
            "a stop string has " + std::to_string(text.size()) +
                " bytes; at most " + std::to_string(limits.maxStopBytes),
            "stop");
      out.stop.push_back(text);
    }
  }

  // What an OpenAI server does and this one cannot: refused, not ignored,
  // so a client never gets a silently different answer.
  for (auto [key, why] : {
           std::pair{"logit_bias", "the engine has no per-token biases"},
           std::pair{"tools", "the server has no tool calling"},
           std::pair{"functions", "the server has no tool calling"},
       })
    if (Error e = f.unsupported(key, why))
      return e;
  return std::nullopt;
}

/// A token-id array of a prompt ("prompt" names the field).
Error tokenIds(const Json &array, Prompt &out) {
  if (array.empty())
    return invalidRequest("prompt is empty", "prompt");
  out.isTokens = true;
  for (const Json &id : array) {
    if (!id.is_number_integer() || id.get<double>() < 0)
      return invalidRequest(
          "a token-id prompt must hold integers >= 0, got " +
              (id.is_number_integer() ? id.dump() : typeName(id)),
          "prompt");
    out.tokens.push_back(id.get<int64_t>());
  }
  return std::nullopt;
}

/// Chat content: a string, or OpenAI's array of parts of which only
/// {"type": "text", "text": ...} is understood.
Error chatContent(const Json &content, size_t index, std::string &out) {
  std::string where = "messages[" + std::to_string(index) + "].content";
  if (content.is_null())
    return std::nullopt; // an assistant turn that only called tools
  if (content.is_string()) {
    out = content.get<std::string>();
    return std::nullopt;
  }
  if (!content.is_array())
    return invalidRequest(where +
                              " must be a string or an array of parts, "
                              "got " +
                              typeName(content),
                          where);
  for (const Json &part : content) {
    auto type = part.is_object() ? part.find("type") : part.end();
    auto text = part.is_object() ? part.find("text") : part.end();
    if (!part.is_object() || type == part.end() || *type != "text" ||
        text == part.end() || !text->is_string())
      return invalidRequest(where + " may only hold {\"type\": \"text\", "
                                    "\"text\": ...} parts (the model reads "
                                    "text)",
                            where);
    out += text->get<std::string>();
  }
  return std::nullopt;
}

} // namespace

std::optional<ApiError> parseJsonObject(const std::string &text,
                                        const RequestLimits &limits,
                                        nlohmann::json &out) {
  // nlohmann's parser does not recurse, but the value it builds is walked
  // by code that may: refuse deep nesting while parsing.
  bool tooDeep = false;
  auto depthCheck = [&](int depth, Json::parse_event_t, Json &) {
    if (depth > limits.maxDepth)
      tooDeep = true;
    return !tooDeep;
  };
  try {
    out = Json::parse(text, depthCheck);
  } catch (const Json::exception &e) {
    // parse_error, and out_of_range for a number beyond double (1e999).
    return invalidRequest(std::string("the body is not valid JSON: ") +
                          e.what());
  }
  if (tooDeep)
    return invalidRequest("the body nests deeper than " +
                          std::to_string(limits.maxDepth) + " levels");
  if (!out.is_object())
    return invalidRequest("the body must be a JSON object, got " +
                          typeName(out));
  return std::nullopt;
}

std::optional<ApiError> parseCompletionRequest(const nlohmann::json &body,
                                               const RequestLimits &limits,
                                               GenerationRequest &out) {
  out = GenerationRequest();
  out.endpoint = Endpoint::Completions;
  if (Error e = parseCommon(body, limits, out))
    return e;
  Fields f(body);
  int64_t logprobs = -1;
  if (Error e =
          f.integer("logprobs", 0, 20, "an integer from 0 to 20", logprobs))
    return e;
  out.logprobs = int32_t(logprobs);
  if (Error e = f.unsupported("echo", "the prompt is not echoed"))
    return e;
  if (Error e = f.unsupported("suffix", "the model does not infill"))
    return e;
  if (const Json *bestOf = f.find("best_of"))
    if (!(bestOf->is_number_integer() && bestOf->get<int64_t>() == out.n))
      return invalidRequest("best_of is not supported unless it equals n",
                            "best_of", "unsupported_parameter");

  const Json *prompt = f.find("prompt");
  if (!prompt)
    return invalidRequest("prompt is required", "prompt");
  // A string, a list of strings, a list of token ids, or a list of lists
  // of token ids (OpenAI's four forms).
  if (prompt->is_string()) {
    out.prompts.push_back({false, prompt->get<std::string>(), {}});
  } else if (prompt->is_array() && !prompt->empty() &&
             (*prompt)[0].is_number()) {
    out.prompts.emplace_back();
    if (Error e = tokenIds(*prompt, out.prompts.back()))
      return e;
  } else if (prompt->is_array() && !prompt->empty()) {
    for (const Json &item : *prompt) {
      out.prompts.emplace_back();
      if (item.is_string())
        out.prompts.back().text = item.get<std::string>();
      else if (item.is_array()) {
        if (Error e = tokenIds(item, out.prompts.back()))
          return e;
      } else
        return invalidRequest("prompt must be a string, an array of "
                              "strings, an array of token ids or an array "
                              "of such arrays; it holds " +
                                  typeName(item),
                              "prompt");
    }
  } else {
    return invalidRequest(prompt->is_array()
                              ? "prompt is empty"
                              : "prompt must be a string or an array, got " +
                                    typeName(*prompt),
                          "prompt");
  }
  for (const Prompt &p : out.prompts)
    if (!p.isTokens && p.text.empty())
      return invalidRequest("prompt is empty", "prompt");
  if (int64_t(out.prompts.size()) * out.n > limits.maxChoices)
    return invalidRequest(std::to_string(out.prompts.size()) +
                              " prompts x n = " + std::to_string(out.n) +
                              " choices; at most " +
                              std::to_string(limits.maxChoices),
                          "n");
  return std::nullopt;
}

std::optional<ApiError> parseChatRequest(const nlohmann::json &body,
                                         const RequestLimits &limits,
                                         GenerationRequest &out) {
  out = GenerationRequest();
  out.endpoint = Endpoint::ChatCompletions;
  if (Error e = parseCommon(body, limits, out))
    return e;
  Fields f(body);
  bool logprobs = false;
  if (Error e = f.boolean("logprobs", logprobs))
    return e;
  int64_t top = 0;
  if (Error e =
          f.integer("top_logprobs", 0, 20, "an integer from 0 to 20", top))
    return e;
  if (f.find("top_logprobs") && !logprobs)
    return invalidRequest("top_logprobs needs logprobs: true", "top_logprobs");
  out.logprobs = logprobs ? int32_t(top) : -1;
  if (const Json *format = f.find("response_format")) {
    auto type = format->is_object() ? format->find("type") : format->end();
    if (!format->is_object() || type == format->end() || *type != "text")
      return invalidRequest("response_format must be {\"type\": \"text\"}: "
                            "the server has no constrained decoding",
                            "response_format", "unsupported_parameter");
  }

  const Json *messages = f.find("messages");
  if (!messages)
    return invalidRequest("messages is required", "messages");
  if (!messages->is_array() || messages->empty())
    return invalidRequest("messages must be a non-empty array", "messages");
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json &message = (*messages)[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!message.is_object())
      return invalidRequest(
          where + " must be an object, got " + typeName(message), where);
    auto role = message.find("role");
    if (role == message.end() || !role->is_string() ||
        role->get_ref<const std::string &>().empty())
      return invalidRequest(where + ".role must be a non-empty string",
                            where + ".role");
    ChatMessage parsed{role->get<std::string>(), ""};
    auto content = message.find("content");
    if (content != message.end())
      if (Error e = chatContent(*content, i, parsed.content))
        return e;
    out.messages.push_back(std::move(parsed));
  }
  return std::nullopt;
}

} // namespace anvil::serve

//===- RequestParserTest.cpp - anvil-serve's request checks ---------------===//
//
// Every malformed or out-of-range body is a 400 naming the field (never an
// exception or a crash), valid bodies read as OpenAI documents them, and
// unknown fields are ignored.
//
//===----------------------------------------------------------------------===//

#include "RequestParser.h"

#include <gtest/gtest.h>

#include <random>

using namespace anvil::serve;
using Json = nlohmann::json;

namespace {

/// The error of a completions body, as "param: message" ("" if accepted).
std::string completionError(const std::string &text) {
  RequestLimits limits;
  Json body;
  GenerationRequest request;
  std::optional<ApiError> error = parseJsonObject(text, limits, body);
  if (!error)
    error = parseCompletionRequest(body, limits, request);
  if (!error)
    return "";
  EXPECT_EQ(error->status, 400);
  EXPECT_EQ(error->type, "invalid_request_error");
  return error->param + ": " + error->message;
}

std::string chatError(const std::string &text) {
  RequestLimits limits;
  Json body;
  GenerationRequest request;
  std::optional<ApiError> error = parseJsonObject(text, limits, body);
  if (!error)
    error = parseChatRequest(body, limits, request);
  return error ? error->param + ": " + error->message : "";
}

GenerationRequest completion(const std::string &text) {
  RequestLimits limits;
  Json body = Json::parse(text);
  GenerationRequest request;
  std::optional<ApiError> error = parseCompletionRequest(body, limits, request);
  EXPECT_FALSE(error) << error->message;
  return request;
}

} // namespace

TEST(RequestParser, ReadsEveryField) {
  GenerationRequest r = completion(
      R"({"model": "m", "prompt": "hi", "max_tokens": 7, "temperature": 0.5,
          "top_p": 0.9, "top_k": 40, "min_p": 0.1, "presence_penalty": 1,
          "frequency_penalty": -1, "repetition_penalty": 1.2,
          "stop": ["a", "b"], "seed": -3, "logprobs": 2, "n": 2,
          "stream": true, "stream_options": {"include_usage": true},
          "ignore_eos": true, "user": "ignored", "something_new": [1]})");
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(r.prompts[0].text, "hi");
  EXPECT_EQ(r.maxTokens, 7);
  EXPECT_FLOAT_EQ(r.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.topP, 0.9f);
  EXPECT_EQ(r.topK, 40);
  EXPECT_FLOAT_EQ(r.minP, 0.1f);
  EXPECT_FLOAT_EQ(r.presencePenalty, 1);
  EXPECT_FLOAT_EQ(r.frequencyPenalty, -1);
  EXPECT_FLOAT_EQ(r.repetitionPenalty, 1.2f);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.hasSeed);
  EXPECT_EQ(r.seed, uint64_t(-3)); // a negative seed keeps its bits
  EXPECT_EQ(r.logprobs, 2);
  EXPECT_EQ(r.n, 2);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.includeUsage);
  EXPECT_TRUE(r.ignoreEos);
}

TEST(RequestParser, DefaultsAndNulls) {
  GenerationRequest r = completion(
      R"({"prompt": "hi", "max_tokens": null, "temperature": null,
          "stop": null, "seed": null, "logprobs": null})");
  EXPECT_EQ(r.maxTokens, 0);
  EXPECT_FLOAT_EQ(r.temperature, 1);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.hasSeed);
  EXPECT_EQ(r.logprobs, -1);
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  // vLLM's top_k -1 is "all", the engine's 0.
  EXPECT_EQ(completion(R"({"prompt": "x", "top_k": -1})").topK, 0);
}

TEST(RequestParser, PromptForms) {
  EXPECT_EQ(completion(R"({"prompt": "a"})").prompts.size(), 1u);
  GenerationRequest ids = completion(R"({"prompt": [1, 2, 3]})");
  ASSERT_EQ(ids.prompts.size(), 1u);
  EXPECT_TRUE(ids.prompts[0].isTokens);
  EXPECT_EQ(ids.prompts[0].tokens, (std::vector<int64_t>{1, 2, 3}));
  GenerationRequest texts = completion(R"({"prompt": ["a", "b"]})");
  ASSERT_EQ(texts.prompts.size(), 2u);
  EXPECT_EQ(texts.prompts[1].text, "b");
  GenerationRequest lists = completion(R"({"prompt": [[1], [2, 3]]})");
  ASSERT_EQ(lists.prompts.size(), 2u);
  EXPECT_EQ(lists.prompts[1].tokens, (std::vector<int64_t>{2, 3}));
}

TEST(RequestParser, RefusesBadJson) {
  EXPECT_NE(completionError("{"), "");
  EXPECT_NE(completionError(""), "");
  EXPECT_NE(completionError("{\"prompt\": \"x\",}"), "");
  // A number beyond double is refused by the parser, not read as inf.
  EXPECT_NE(completionError(R"({"prompt": "x", "temperature": 1e999})")
                .find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(completionError("[1, 2]").find("must be a JSON object"),
            std::string::npos);
  EXPECT_NE(completionError("\"text\"").find("must be a JSON object"),
            std::string::npos);
  // Nesting is bounded while parsing (the limit is 16 levels).
  std::string deep =
      "{\"prompt\": \"x\", \"extra\": " + std::string(100000, '[') +
      std::string(100000, ']') + "}";
  EXPECT_NE(completionError(deep).find("nests deeper"), std::string::npos);
}

TEST(RequestParser, RefusesWrongTypesNamingTheField) {
  struct Case {
    const char *body, *expected;
  } cases[] = {
      {R"({"prompt": "x", "max_tokens": "10"})",
       "max_tokens: max_tokens must be an integer >= 1, got a string"},
      {R"({"prompt": "x", "max_tokens": 1.5})",
       "max_tokens: max_tokens must be an integer >= 1, got a number"},
      {R"({"prompt": "x", "max_tokens": -5})",
       "max_tokens: max_tokens must be an integer >= 1, got -5"},
      {R"({"prompt": "x", "max_tokens": 0})",
       "max_tokens: max_tokens must be an integer >= 1, got 0"},
      {R"({"prompt": "x", "max_tokens": 18446744073709551615})",
       "max_tokens: max_tokens must be an integer >= 1, got "
       "18446744073709551615"},
      {R"({"prompt": "x", "temperature": "hot"})",
       "temperature: temperature must be a number >= 0 (0 is greedy), got a "
       "string"},
      {R"({"prompt": "x", "temperature": -0.1})",
       "temperature: temperature must be a number >= 0 (0 is greedy), got "
       "-0.1"},
      {R"({"prompt": "x", "top_p": 0})",
       "top_p: top_p must be a number in (0, 1], got 0"},
      {R"({"prompt": "x", "top_p": 1.01})",
       "top_p: top_p must be a number in (0, 1], got 1.01"},
      {R"({"prompt": "x", "min_p": 2})",
       "min_p: min_p must be a number in [0, 1], got 2"},
      {R"({"prompt": "x", "top_k": -2})",
       "top_k: top_k must be an integer >= -1 (-1 or 0: all), got -2"},
      {R"({"prompt": "x", "presence_penalty": 3})",
       "presence_penalty: presence_penalty must be a number in [-2, 2], got "
       "3"},
      {R"({"prompt": "x", "frequency_penalty": true})",
       "frequency_penalty: frequency_penalty must be a number in [-2, 2], "
       "got a boolean"},
      {R"({"prompt": "x", "repetition_penalty": 0})",
       "repetition_penalty: repetition_penalty must be a number > 0 (1 is "
       "off), got 0"},
      {R"({"prompt": "x", "seed": 1.5})",
       "seed: seed must be an integer, got a number"},
      {R"({"prompt": "x", "n": 0})",
       "n: n must be an integer from 1 to the server's limit, got 0"},
      {R"({"prompt": "x", "n": 17})",
       "n: n must be an integer from 1 to the server's limit, got 17"},
      {R"({"prompt": "x", "logprobs": 21})",
       "logprobs: logprobs must be an integer from 0 to 20, got 21"},
      {R"({"prompt": "x", "logprobs": true})",
       "logprobs: logprobs must be an integer from 0 to 20, got a boolean"},
      {R"({"prompt": "x", "stream": "yes"})",
       "stream: stream must be a boolean, got a string"},
      {R"({"prompt": "x", "stream_options": 1})",
       "stream_options: stream_options must be an object, got an integer"},
      {R"({"prompt": "x", "stop": 5})",
       "stop: stop must be a string or an array of strings, got an integer"},
      {R"({"prompt": "x", "stop": ["a", 5]})",
       "stop: stop must be a string or an array of strings, got an array "
       "holding an integer"},
      {R"({"prompt": "x", "stop": ""})", "stop: a stop string is empty"},
      {R"({"prompt": "x", "model": 3})",
       "model: model must be a string, got an integer"},
      {R"({})", "prompt: prompt is required"},
      {R"({"prompt": null})", "prompt: prompt is required"},
      {R"({"prompt": ""})", "prompt: prompt is empty"},
      {R"({"prompt": []})", "prompt: prompt is empty"},
      {R"({"prompt": 7})",
       "prompt: prompt must be a string or an array, got an integer"},
      {R"({"prompt": [1, -2]})",
       "prompt: a token-id prompt must hold integers >= 0, got -2"},
      {R"({"prompt": [1, "a"]})",
       "prompt: a token-id prompt must hold integers >= 0, got a string"},
      {R"({"prompt": ["a", {}]})",
       "prompt: prompt must be a string, an array of strings, an array of "
       "token ids or an array of such arrays; it holds an object"},
      {R"({"prompt": [[]]})", "prompt: prompt is empty"},
      {R"({"prompt": "x", "echo": true})",
       "echo: echo is not supported: the prompt is not echoed"},
      {R"({"prompt": "x", "logit_bias": {"1": 5}})",
       "logit_bias: logit_bias is not supported: the engine has no per-token "
       "biases"},
      {R"({"prompt": "x", "best_of": 3})",
       "best_of: best_of is not supported unless it equals n"},
  };
  for (const Case &c : cases)
    EXPECT_EQ(completionError(c.body), c.expected) << c.body;
  // Accepted spellings of "nothing" for unsupported fields.
  EXPECT_EQ(completionError(R"({"prompt": "x", "echo": false,
      "logit_bias": {}, "suffix": null, "best_of": 1})"),
            "");
}

TEST(RequestParser, BoundsChoicesAndStops) {
  std::string prompts = "[";
  for (int i = 0; i < 9; ++i)
    prompts += std::string(i ? "," : "") + "\"p\"";
  prompts += "]";
  EXPECT_EQ(completionError("{\"prompt\": " + prompts + ", \"n\": 2}"),
            "n: 9 prompts x n = 2 choices; at most 16");
  std::string stops = "[";
  for (int i = 0; i < 17; ++i)
    stops += std::string(i ? "," : "") + "\"s\"";
  stops += "]";
  EXPECT_EQ(completionError("{\"prompt\": \"x\", \"stop\": " + stops + "}"),
            "stop: stop has 17 strings; at most 16");
  EXPECT_EQ(completionError("{\"prompt\": \"x\", \"stop\": \"" +
                            std::string(300, 'a') + "\"}"),
            "stop: a stop string has 300 bytes; at most 256");
}

TEST(RequestParser, Chat) {
  RequestLimits limits;
  GenerationRequest r;
  Json body = Json::parse(R"({"messages": [
      {"role": "system", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"},
                                   {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null}],
      "logprobs": true, "top_logprobs": 3, "max_completion_tokens": 9,
      "max_tokens": 4, "response_format": {"type": "text"}})");
  ASSERT_FALSE(parseChatRequest(body, limits, r));
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_EQ(r.logprobs, 3);
  EXPECT_EQ(r.maxTokens, 9); // max_completion_tokens wins
  EXPECT_EQ(r.endpoint, Endpoint::ChatCompletions);

  EXPECT_EQ(chatError(R"({})"), "messages: messages is required");
  EXPECT_EQ(chatError(R"({"messages": []})"),
            "messages: messages must be a non-empty array");
  EXPECT_EQ(chatError(R"({"messages": "hi"})"),
            "messages: messages must be a non-empty array");
  EXPECT_EQ(chatError(R"({"messages": [1]})"),
            "messages[0]: messages[0] must be an object, got an integer");
  EXPECT_EQ(chatError(R"({"messages": [{"content": "x"}]})"),
            "messages[0].role: messages[0].role must be a non-empty string");
  EXPECT_EQ(chatError(R"({"messages": [{"role": "user", "content": 4}]})"),
            "messages[0].content: messages[0].content must be a string or an "
            "array of parts, got an integer");
  EXPECT_EQ(chatError(R"({"messages": [{"role": "user", "content":
          [{"type": "image_url", "image_url": {"url": "x"}}]}]})"),
            "messages[0].content: messages[0].content may only hold {\"type\": "
            "\"text\", \"text\": ...} parts (the model reads text)");
  EXPECT_EQ(chatError(R"({"messages": [{"role": "user", "content": "x"}],
                          "logprobs": 1})"),
            "logprobs: logprobs must be a boolean, got an integer");
  EXPECT_EQ(chatError(R"({"messages": [{"role": "user", "content": "x"}],
                          "top_logprobs": 2})"),
            "top_logprobs: top_logprobs needs logprobs: true");
  EXPECT_EQ(chatError(R"({"messages": [{"role": "user", "content": "x"}],
                          "tools": [{"type": "function"}]})"),
            "tools: tools is not supported: the server has no tool calling");
  EXPECT_EQ(chatError(R"({"messages": [{"role": "user", "content": "x"}],
                          "response_format": {"type": "json_object"}})"),
            "response_format: response_format must be {\"type\": \"text\"}: "
            "the server has no constrained decoding");
}

// Random mutations of a valid body: every one is accepted or refused with
// a 400, never an exception or a crash.
TEST(RequestParser, RandomBodiesNeverThrow) {
  const std::string valid =
      R"({"model": "m", "prompt": ["a", "b"], "max_tokens": 7, "stop": ["x"],
          "temperature": 0.5, "logprobs": 2, "n": 2, "stream": true,
          "messages": [{"role": "user", "content": "hi"}]})";
  std::mt19937 random(1);
  const std::string alphabet = "{}[]\":,0123456789-.eEtruefalsn \\x";
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = valid;
    int edits = 1 + int(random() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = random() % text.size();
      char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
      case 0:
        text[at] = c;
        break;
      case 1:
        text.insert(text.begin() + at, c);
        break;
      default:
        text.erase(at, 1);
      }
    }
    RequestLimits limits;
    Json body;
    GenerationRequest request;
    ASSERT_NO_THROW({
      auto error = parseJsonObject(text, limits, body);
      if (!error)
        error = parseCompletionRequest(body, limits, request);
      if (!error)
        error = parseChatRequest(body, limits, request);
      if (error)
        EXPECT_EQ(error->status, 400) << text;
      else
        ++accepted;
    }) << text;
  }
  // Some mutations keep the body valid: the test would be vacuous if none
  // did.
  EXPECT_GT(accepted, 0);
}

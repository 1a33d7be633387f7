//===- ServeFormatTest.cpp - anvil-serve's responses, metrics, key check --===//

#include "ApiKey.h"
#include "ChatTemplate.h"
#include "Metrics.h"
#include "OpenAiFormat.h"

#include <gtest/gtest.h>

using namespace anvil::serve;
using Json = nlohmann::json;

namespace {

ChoiceEvent token(size_t choice, int64_t id, std::string text, float logprob,
                  anvil_finish_reason finish = ANVIL_FINISH_NONE) {
  ChoiceEvent event;
  event.choice = choice;
  event.tokenId = id;
  event.text = std::move(text);
  event.logprob = logprob;
  event.topLogprobs = {{id, logprob}, {id + 1, logprob - 1}};
  event.finish = finish;
  return event;
}

std::string spell(int64_t id) { return "t" + std::to_string(id); }

} // namespace

TEST(OpenAiFormat, ErrorBody) {
  ApiError error = invalidRequest("bad", "max_tokens");
  Json body = error.toJson();
  EXPECT_EQ(body["error"]["message"], "bad");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["param"], "max_tokens");
  EXPECT_TRUE(body["error"]["code"].is_null());
}

TEST(OpenAiFormat, CompletionWithLogprobs) {
  ResponseBuilder builder(Endpoint::Completions, "cmpl-1", "m", 5, 1, 1, spell);
  ChoiceResult result;
  result.text = "ab";
  result.tokens = {token(0, 7, "a", -0.5f), token(0, 8, "b", -0.25f)};
  result.finish = ANVIL_FINISH_LENGTH;
  Json out = builder.response({result}, 3);
  EXPECT_EQ(out["object"], "text_completion");
  EXPECT_EQ(out["choices"][0]["text"], "ab");
  EXPECT_EQ(out["choices"][0]["finish_reason"], "length");
  Json lp = out["choices"][0]["logprobs"];
  EXPECT_EQ(lp["tokens"], Json({"t7", "t8"}));
  EXPECT_EQ(lp["token_logprobs"], Json({-0.5, -0.25}));
  EXPECT_EQ(lp["text_offset"], Json({0, 2})); // "t7" is 2 bytes
  EXPECT_EQ(lp["top_logprobs"][1]["t9"], -1.25);
  EXPECT_EQ(out["usage"], Json({{"prompt_tokens", 3},
                                {"completion_tokens", 2},
                                {"total_tokens", 5}}));
}

TEST(OpenAiFormat, ChatChunks) {
  ResponseBuilder builder(Endpoint::ChatCompletions, "chatcmpl-1", "m", 5, -1,
                          2, spell);
  Json first = builder.chunk(1, {token(1, 3, "he", -1)});
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["index"], 1);
  EXPECT_EQ(first["choices"][0]["delta"],
            Json({{"role", "assistant"}, {"content", "he"}}));
  EXPECT_TRUE(first["choices"][0]["logprobs"].is_null());
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  // The role goes once per choice; a chunk that only ends it is empty.
  ChoiceEvent end;
  end.choice = 1;
  end.finish = ANVIL_FINISH_CANCELLED;
  Json last = builder.chunk(1, {end});
  EXPECT_EQ(last["choices"][0]["delta"], Json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "cancelled");
  EXPECT_EQ(
      builder.chunk(0, {token(0, 1, "x", -1)})["choices"][0]["delta"]["role"],
      "assistant");
  Json usage = builder.usageChunk(4, 6);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 10);
}

TEST(OpenAiFormat, ServerSentEvents) {
  EXPECT_EQ(sseEvent(Json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_STREQ(sseDone(), "data: [DONE]\n\n");
  // Invalid UTF-8 in generated text is replaced, not thrown.
  EXPECT_EQ(jsonBody(Json("a\xff")), "\"a\xEF\xBF\xBD\"");
}

TEST(ChatTemplate, PlainFallback) {
  EXPECT_EQ(renderPlainChat({{"system", "be brief"}, {"user", "hi"}}),
            "system: be brief\nuser: hi\nassistant:");
}

TEST(Metrics, HistogramIsCumulative) {
  Histogram histogram({0.1, 1});
  histogram.observe(0.05);
  histogram.observe(0.1); // on a bound: counted in that bucket (le)
  histogram.observe(5);
  histogram.observe(0.3);
  histogram.observe(0.7);
  std::string out;
  histogram.render("h", "help", out);
  EXPECT_NE(out.find("# TYPE h histogram\n"), std::string::npos);
  EXPECT_NE(out.find("h_bucket{le=\"0.1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{le=\"1\"} 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_bucket{le=\"+Inf\"} 5\n"), std::string::npos);
  EXPECT_NE(out.find("h_sum 6.15\n"), std::string::npos) << out;
  EXPECT_NE(out.find("h_count 5\n"), std::string::npos);
}

TEST(Metrics, RendersServerAndEngine) {
  Metrics metrics;
  metrics.countResponse("/v1/completions", 200);
  metrics.countResponse("/v1/completions", 200);
  metrics.countResponse("other", 404);
  metrics.countFinished("stop");
  metrics.countGeneratedToken();
  anvil_engine_stats stats{};
  stats.kv_blocks_used = 3;
  stats.kv_blocks_free = 5;
  stats.waiting = 2;
  std::string out = metrics.render(stats, 4);
  for (const char *line :
       {"anvil_serve_http_responses_total{endpoint=\"/v1/completions\","
        "code=\"200\"} 2\n",
        "anvil_serve_http_responses_total{endpoint=\"other\",code=\"404\"} "
        "1\n",
        "anvil_serve_requests_finished_total{reason=\"stop\"} 1\n",
        "anvil_serve_generation_tokens_total 1\n",
        "anvil_serve_kv_blocks{state=\"used\"} 3\n",
        "anvil_serve_kv_blocks{state=\"free\"} 5\n",
        "anvil_serve_queue_depth 2\n", "anvil_serve_requests_in_flight 4\n"})
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
}

TEST(ApiKey, ChecksTheBearerKey) {
  ApiKeyCheck off("");
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.allows(""));
  ApiKeyCheck check("sk-secret");
  EXPECT_TRUE(check.allows("Bearer sk-secret"));
  EXPECT_FALSE(check.allows(""));
  EXPECT_FALSE(check.allows("sk-secret"));
  EXPECT_FALSE(check.allows("Bearer sk-secre"));
  EXPECT_FALSE(check.allows("Bearer sk-secretX"));
  EXPECT_TRUE(check.allows("bearer sk-secret")); // RFC 7235: any case
  EXPECT_FALSE(check.allows("Basic sk-secret"));
  EXPECT_FALSE(check.allows("Bearer "));
  EXPECT_FALSE(check.allows("Bearer  sk-secret"));
}

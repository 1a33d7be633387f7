//===- TokenizerTest.cpp - the runtime tokenizer: pipeline, errors, streams
//===//
//
// Hand-made tokenizer.json files whose ids can be worked out by hand; the
// comparison with Hugging Face itself is test/Tokenizer/compare-hf.test.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/tokenizer/Regex.h"
#include "runtime/tokenizer/SplitPatterns.h"
#include "runtime/tokenizer/Unicode.h"

#include <cstdio>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace anvil::tokenizer;
using Json = nlohmann::json;

namespace {

/// The status's code (ANVIL_OK for null), freeing it; its message in `message`.
anvil_status_code take(anvil_status status, std::string *message = nullptr) {
  if (!status)
    return ANVIL_OK;
  anvil_status_code code = anvil_status_get_code(status);
  if (message)
    *message = anvil_status_get_message(status);
  anvil_status_free(status);
  return code;
}

/// A Llama-2-style tokenizer: Prepend/Replace normalizer, BPE with byte
/// fallback, <s> by TemplateProcessing, the ByteFallback decoder chain.
/// Merges "\u2581 h", "l l", "\u2581h e", "\u2581he ll", "\u2581hell o",
/// in the string or list form.
Json llamaStyle(bool listMerges) {
  Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab[name] = 3 + b;
  }
  int64_t next = 259;
  for (const char *t : {"\u2581", "h", "e", "l", "o", "\u2581h", "ll",
                        "\u2581he", "\u2581hell", "\u2581hello", "w", "r", "d"})
    vocab[t] = next++;
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"\u2581", "h"},
      {"l", "l"},
      {"\u2581h", "e"},
      {"\u2581he", "ll"},
      {"\u2581hell", "o"}};
  Json merges = Json::array();
  for (auto &[a, b] : pairs)
    merges.push_back(listMerges ? Json{a, b} : Json(a + " " + b));
  auto special = [](int id, const char *content) {
    return Json{{"id", id},        {"content", content}, {"single_word", false},
                {"lstrip", false}, {"rstrip", false},    {"normalized", false},
                {"special", true}};
  };
  return {
      {"version", "1.0"},
      {"added_tokens",
       {special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")}},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\u2581"}},
          {{"type", "Replace"},
           {"pattern", {{"String", " "}}},
           {"content", "\u2581"}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", Json::array()},
        {"special_tokens",
         {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"},
           {"pattern", {{"String", "\u2581"}}},
           {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}},
          {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", merges}}}};
}

std::unique_ptr<Tokenizer> load(const Json &json) {
  std::unique_ptr<Tokenizer> tokenizer;
  std::string message;
  EXPECT_EQ(take(Tokenizer::load(json.dump(), tokenizer), &message), ANVIL_OK)
      << message;
  return tokenizer;
}

std::vector<int64_t> encode(const Tokenizer &tokenizer, std::string_view text,
                            bool special = false) {
  std::vector<int64_t> ids;
  EXPECT_EQ(take(tokenizer.encode(text, special, ids)), ANVIL_OK);
  return ids;
}

std::string loadError(std::string_view bytes) {
  std::unique_ptr<Tokenizer> tokenizer;
  std::string message;
  EXPECT_EQ(take(Tokenizer::load(bytes, tokenizer), &message),
            ANVIL_INVALID_ARGUMENT)
      << bytes.substr(0, 200);
  EXPECT_FALSE(tokenizer);
  return message;
}

TEST(Tokenizer, BpeMergesByRankInBothForms) {
  for (bool listMerges : {false, true}) {
    auto tokenizer = load(llamaStyle(listMerges));
    ASSERT_TRUE(tokenizer);
    int64_t hello = tokenizer->tokenToId("\u2581hello");
    EXPECT_EQ(encode(*tokenizer, "hello"), std::vector<int64_t>{hello});
    EXPECT_EQ(encode(*tokenizer, "hello", true),
              (std::vector<int64_t>{1, hello}));
    // "hell" has no "▁hell l"-style shortcut: ▁hell then o is absent.
    EXPECT_EQ(encode(*tokenizer, "hell"),
              std::vector<int64_t>{tokenizer->tokenToId("\u2581hell")});
    EXPECT_EQ(tokenizer->decode({1, hello}, true), "hello");
    EXPECT_EQ(tokenizer->decode({1, hello}, false), "<s> hello");
  }
}

TEST(Tokenizer, ByteFallbackAndDecode) {
  auto tokenizer = load(llamaStyle(false));
  ASSERT_TRUE(tokenizer);
  // é is not in the vocabulary: its two UTF-8 bytes stand in.
  std::vector<int64_t> ids = encode(*tokenizer, "h\xC3\xA9");
  EXPECT_EQ(ids, (std::vector<int64_t>{tokenizer->tokenToId("\u2581h"),
                                       3 + 0xC3, 3 + 0xA9}));
  EXPECT_EQ(tokenizer->decode(ids, true), "h\xC3\xA9");
  // A lone continuation byte decodes to U+FFFD, as HF.
  EXPECT_EQ(tokenizer->decode({3 + 0xA9}, true), "\xEF\xBF\xBD");
  EXPECT_EQ(tokenizer->vocabSize(), 259 + 13);
  EXPECT_TRUE(tokenizer->isSpecial(1));
  EXPECT_FALSE(tokenizer->isSpecial(260));
  EXPECT_EQ(tokenizer->tokenToId("nope"), -1);
  EXPECT_STREQ(tokenizer->kind(), "tokenizer.json");
}

TEST(Tokenizer, IncrementalDecoderNeverSplitsCharacters) {
  auto tokenizer = load(llamaStyle(false));
  ASSERT_TRUE(tokenizer);
  // "hello 😀 world": the emoji as four byte-fallback tokens.
  std::vector<int64_t> ids =
      encode(*tokenizer, "hello \xF0\x9F\x98\x80 world", true);
  std::string whole = tokenizer->decode(ids, true);
  EXPECT_EQ(whole, "hello \xF0\x9F\x98\x80 world");
  for (bool skip : {true, false}) {
    IncrementalDecoder stream(*tokenizer, skip);
    std::string joined;
    for (int64_t id : ids) {
      std::string piece = stream.push(id);
      EXPECT_TRUE(isValidUtf8(piece));
      EXPECT_FALSE(endsWithReplacement(piece));
      joined += piece;
    }
    joined += stream.flush();
    EXPECT_EQ(joined, tokenizer->decode(ids, skip));
  }
  // A truncated character comes out of flush() as U+FFFD, as decode().
  IncrementalDecoder stream(*tokenizer, true);
  EXPECT_EQ(stream.push(3 + 0xF0), "");
  EXPECT_EQ(stream.push(3 + 0x9F), "");
  EXPECT_EQ(stream.flush(), tokenizer->decode({3 + 0xF0, 3 + 0x9F}, true));
}

TEST(Tokenizer, AddedTokensStripAndSingleWord) {
  Json json = llamaStyle(false);
  json["added_tokens"].push_back({{"id", 400},
                                  {"content", "<mask>"},
                                  {"single_word", false},
                                  {"lstrip", true},
                                  {"rstrip", true},
                                  {"normalized", false},
                                  {"special", true}});
  json["added_tokens"].push_back({{"id", 401},
                                  {"content", "ab"},
                                  {"single_word", true},
                                  {"lstrip", false},
                                  {"rstrip", false},
                                  {"normalized", false},
                                  {"special", false}});
  auto tokenizer = load(json);
  ASSERT_TRUE(tokenizer);
  int64_t hello = tokenizer->tokenToId("\u2581hello");
  // The spaces around <mask> go with it.
  EXPECT_EQ(encode(*tokenizer, "hello  <mask>  hello"),
            (std::vector<int64_t>{hello, 400, hello}));
  // "ab" only as a word of its own.
  EXPECT_EQ(encode(*tokenizer, "ab").size(), 1u);
  EXPECT_NE(encode(*tokenizer, "xab")[0], 401);
  EXPECT_EQ(tokenizer->vocabSize(), 402);
}

TEST(Tokenizer, Errors) {
  EXPECT_NE(loadError("{\"model\": ").find("tokenizer.json"),
            std::string::npos);
  EXPECT_NE(loadError("{}").find("no model"), std::string::npos);
  EXPECT_NE(loadError(R"({"model": {"type": "Ngram", "vocab": []}})")
                .find("unsupported model type 'Ngram'"),
            std::string::npos);
  Json json = llamaStyle(false);
  json["normalizer"] = {{"type", "Nmt"}};
  EXPECT_NE(loadError(json.dump()).find("normalizer type 'Nmt'"),
            std::string::npos);
  json = llamaStyle(false);
  json["pre_tokenizer"] = {{"type", "Split"},
                           {"pattern", {{"Regex", "(?<=a)b"}}},
                           {"behavior", "Isolated"},
                           {"invert", false}};
  EXPECT_NE(loadError(json.dump()).find("regex '(?<=a)b' is not supported"),
            std::string::npos);
  json = llamaStyle(false);
  json["model"]["merges"].push_back("q z");
  EXPECT_NE(loadError(json.dump()).find("missing from the vocabulary"),
            std::string::npos);
  json = llamaStyle(false);
  json["model"]["vocab"]["x"] = -3;
  loadError(json.dump());
  json = llamaStyle(false);
  json["model"]["vocab"]["x"] = 5000000; // Far past 272 tokens.
  EXPECT_NE(loadError(json.dump()).find("far past"), std::string::npos);
  json = llamaStyle(false);
  json["model"]["vocab"]["x"] = "seven";
  loadError(json.dump());
  json = llamaStyle(false);
  json["decoder"] = {{"type", "CTC"}};
  loadError(json.dump());
  // Neither JSON nor a SentencePiece model.
  EXPECT_NE(loadError("\x0a\x05hello garbage").find("SentencePiece"),
            std::string::npos);
  loadError("");

  auto tokenizer = load(llamaStyle(false));
  ASSERT_TRUE(tokenizer);
  std::vector<int64_t> ids;
  std::string message;
  EXPECT_EQ(take(tokenizer->encode("bad \xC3\x28 text", false, ids), &message),
            ANVIL_INVALID_ARGUMENT);
  EXPECT_NE(message.find("UTF-8"), std::string::npos);
  EXPECT_EQ(take(tokenizer->encode("\xED\xA0\x80", false, ids)),
            ANVIL_INVALID_ARGUMENT); // A surrogate.
  // Unknown ids decode to nothing.
  EXPECT_EQ(tokenizer->decode({-1, 99999}, false), "");
}

std::vector<std::string> splitWith(SplitPattern pattern,
                                   std::string_view text) {
  std::vector<std::pair<size_t, size_t>> matches;
  findSplitMatches(pattern, text, matches);
  std::vector<std::string> pieces;
  for (auto [b, e] : matches)
    pieces.emplace_back(text.substr(b, e - b));
  return pieces;
}

using Pieces = std::vector<std::string>;

TEST(SplitPatterns, Gpt2) {
  EXPECT_EQ(splitWith(SplitPattern::Gpt2, "Hello world's  12 !!  \n"),
            (Pieces{"Hello", " world", "'s", " ", " 12", " !!", "  \n"}));
  EXPECT_EQ(splitWith(SplitPattern::Gpt2, "a  b"), (Pieces{"a", " ", " b"}));
  EXPECT_EQ(splitWith(SplitPattern::Gpt2, "IT'S"), (Pieces{"IT", "'", "S"}));
}

TEST(SplitPatterns, Cl100kAndQwen2) {
  EXPECT_EQ(
      splitWith(SplitPattern::Cl100k, "IT'S 12345 (x)\r\n\n  y"),
      (Pieces{"IT", "'S", " ", "123", "45", " (", "x", ")\r\n\n", " ", " y"}));
  EXPECT_EQ(splitWith(SplitPattern::Qwen2, "12345"),
            (Pieces{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(splitWith(SplitPattern::Cl100k, "a \n\n b"),
            (Pieces{"a", " \n\n", " b"}));
  SplitPattern known;
  EXPECT_TRUE(identifySplitPattern(gpt2Pattern, known));
  EXPECT_EQ(known, SplitPattern::Gpt2);
  EXPECT_FALSE(identifySplitPattern("\\s+", known));
}

std::vector<std::pair<size_t, size_t>> regexMatches(std::string_view pattern,
                                                    std::string_view text) {
  std::string error;
  auto regex = Regex::compile(pattern, error);
  EXPECT_TRUE(regex) << error;
  std::vector<std::pair<size_t, size_t>> matches;
  if (regex)
    regex->findAll(text, matches);
  return matches;
}

// The general matcher agrees with the hand-written ones on their patterns.
TEST(Regex, AgreesWithHandMatchers) {
  const char *cl100k =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  std::string qwen2 = cl100k;
  qwen2.replace(qwen2.find("{1,3}"), 5, "");
  const char *texts[] = {"Hello world's  12345 !!  \n",
                         "IT'S 12345 (x)\r\n\n  y",
                         "a \n\n b\t\t\n",
                         ("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC 3.14 "
                          "\xF0\x9F\x98\x80\xF0\x9F\x98\x80 x"),
                         "  leading and trailing  ",
                         "'ll 'LL 'Re don't",
                         "\xC2\xA0\xC2\xA0x\n"};
  for (auto [pattern, known] :
       {std::pair<std::string, SplitPattern>{gpt2Pattern, SplitPattern::Gpt2},
        {cl100k, SplitPattern::Cl100k},
        {qwen2, SplitPattern::Qwen2},
        {R"(\w+|[^\w\s]+)", SplitPattern::Whitespace}}) {
    for (const char *text : texts) {
      std::vector<std::pair<size_t, size_t>> hand;
      findSplitMatches(known, text, hand);
      EXPECT_EQ(regexMatches(pattern, text), hand) << pattern << " on " << text;
    }
  }
}

TEST(Regex, SyntaxAndErrors) {
  using Spans = std::vector<std::pair<size_t, size_t>>;
  EXPECT_EQ(regexMatches("[A-Za-z]+|\\d{2,3}?", "ab1234"),
            (Spans{{0, 2}, {2, 4}, {4, 6}}));
  EXPECT_EQ(regexMatches("(?i:ab)+", "aBAbx"), (Spans{{0, 4}}));
  EXPECT_EQ(regexMatches("a(?=b)", "acab"), (Spans{{2, 3}}));
  EXPECT_EQ(regexMatches("\\p{Lu}\\P{Lu}*", "HeLLo"),
            (Spans{{0, 2}, {2, 3}, {3, 5}}));
  EXPECT_EQ(regexMatches("[\\u4e00-\\u9fa5]+", "x\xE4\xB8\x80\xE4\xB8\x80y"),
            (Spans{{1, 7}}));
  for (const char *bad : {"(?<=a)b", "a++", "^a", "[[a]]", "\\p{Han}", "(a",
                          "a)", "\\q", "[z-a]", "*"}) {
    std::string error;
    EXPECT_FALSE(Regex::compile(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  // Exponential backtracking ends in an error, not a hang.
  std::string error;
  auto regex = Regex::compile("(?:a|a)*b", error);
  ASSERT_TRUE(regex);
  std::vector<std::pair<size_t, size_t>> matches;
  EXPECT_THROW(regex->findAll(std::string(40, 'a'), matches),
               RegexTooExpensive);
}

TEST(Unicode, LossyDecodingReplacesMaximalSubparts) {
  EXPECT_EQ(fromUtf8Lossy("\xF0\x9F\x98"), "\xEF\xBF\xBD");
  EXPECT_EQ(fromUtf8Lossy("\xE2\x82"
                          "A"),
            "\xEF\xBF\xBD"
            "A");
  EXPECT_EQ(fromUtf8Lossy("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(fromUtf8Lossy("ok \xF0\x9F\x98\x80"), "ok \xF0\x9F\x98\x80");
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80")); // Past U+10FFFF.
  EXPECT_EQ(normalize("e\xCC\x81", NormalForm::NFC), "\xC3\xA9");
  EXPECT_EQ(toLowercase("\xC4\xB0"
                        "A\xCE\xA3"),
            "i\xCC\x87"
            "a\xCF\x83");
}

} // namespace

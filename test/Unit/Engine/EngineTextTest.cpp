//===- EngineTextTest.cpp - text pieces and stop strings ------------------===//
//
// Through a fake Tokenizer: token v is one letter (with a space after every
// third), ids 90 and 91 are the two bytes of "é", and the decoder shows an
// unfinished UTF-8 character as U+FFFD, as Hugging Face's does.
//
//===----------------------------------------------------------------------===//

#include "EngineTestSupport.h"

using namespace anvil::engine;
using namespace anvil::engine::test;

namespace {

constexpr int64_t kVocab = 97;
constexpr int64_t kSpecial = 96; // decodes to nothing

class FakeTokenizer : public anvil::tokenizer::Tokenizer {
public:
  static std::string piece(int64_t id) {
    if (id == 90)
      return "\xC3";
    if (id == 91)
      return "\xA9";
    std::string text(1, static_cast<char>('a' + id % 26));
    if (id % 3 == 0)
      text += ' ';
    return text;
  }
  anvil_status encode(std::string_view text, bool addSpecialTokens,
                      std::vector<int64_t> &ids) const override {
    (void)addSpecialTokens;
    for (char c : text)
      ids.push_back(c - 'a');
    return nullptr;
  }
  std::string decode(const std::vector<int64_t> &ids,
                     bool skipSpecialTokens) const override {
    std::string text;
    for (int64_t id : ids)
      if (!(skipSpecialTokens && id == kSpecial))
        text += piece(id);
    // An unfinished character at the end shows as U+FFFD.
    if (!text.empty() && static_cast<unsigned char>(text.back()) == 0xC3) {
      text.pop_back();
      text += "\xEF\xBF\xBD";
    }
    return text;
  }
  int64_t vocabSize() const override { return kVocab; }
  int64_t tokenToId(std::string_view token) const override {
    (void)token;
    return -1;
  }
  bool isSpecial(int64_t id) const override { return id == kSpecial; }
  const char *kind() const override { return "fake"; }
};

EngineConfig withTokenizer() {
  EngineConfig config;
  config.tokenizer = std::make_shared<FakeTokenizer>();
  return config;
}

std::string decodeAll(const std::vector<int64_t> &ids) {
  return FakeTokenizer().decode(ids, true);
}

/// Makes "é" (90 then 91) frequent: 90 is likely, and 91 follows it.
class SplitCharModel : public ReferenceStepModel {
public:
  SplitCharModel() : ReferenceStepModel(referenceInfo()) {}
  void adjustLogits(int64_t token, float *row) override {
    if (token == 90)
      row[91] = 100.0f;
    else
      row[90] += 3.0f;
  }
};

TEST(EngineText, PiecesConcatenateToTheDecodedTextAndNeverSplitAChar) {
  Harness h(std::make_unique<SplitCharModel>(), withTokenizer());
  std::mt19937_64 rng(9);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 40; ++i) {
    SamplingParams params = greedyParams(60);
    params.temperature = 1.5f; // many different tokens, 90 and 91 included
    params.hasSeed = true;
    params.seed = static_cast<uint64_t>(i);
    ids.push_back(h.submit(randomPrompt(rng, 8, kVocab), params));
  }
  h.run();
  int splitChars = 0;
  for (uint64_t id : ids) {
    Outcome outcome = h.collector.get(id);
    EXPECT_EQ(outcome.text, decodeAll(outcome.tokens));
    for (size_t i = 0; i + 1 < outcome.tokens.size(); ++i)
      splitChars += outcome.tokens[i] == 90 && outcome.tokens[i + 1] == 91;
    // Only a request cut off after a 90 ends in U+FFFD, in its last piece.
    for (size_t i = 0; i + 1 < outcome.pieces.size(); ++i) {
      const std::string &piece = outcome.pieces[i];
      EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos);
      if (!piece.empty())
        EXPECT_NE(static_cast<unsigned char>(piece.back()), 0xC3)
            << "a piece ends inside a character";
    }
  }
  EXPECT_GT(splitChars, 0) << "the test should see a split character";
}

TEST(EngineText, StopStringsEndTheRequestAndAreNotOutput) {
  Harness h(referenceInfo(), withTokenizer());
  std::vector<int64_t> prompt{1, 2, 3, 4, 5, 6, 7};
  std::vector<int64_t> want = greedyContinuation(prompt, 40, kVocab);
  std::string text = decodeAll(want);
  ASSERT_GT(text.size(), 20u);
  std::string stop = text.substr(12, 3);
  std::string expected = text.substr(0, text.find(stop));

  SamplingParams params = greedyParams(40);
  params.stopStrings = {"never-there", stop};
  uint64_t id = h.submit(prompt, params);
  // The same as text: the tokenizer encodes letters to their ids.
  uint64_t fromText = 0;
  std::string letters;
  for (int64_t token : prompt)
    letters += static_cast<char>('a' + token);
  ASSERT_EQ(
      h.engine->submitText(letters, params, h.collector.callback(), fromText),
      nullptr);
  h.run();
  for (uint64_t request : {id, fromText}) {
    Outcome outcome = h.collector.get(request);
    EXPECT_EQ(outcome.finish, FinishReason::Stop);
    EXPECT_EQ(outcome.text, expected);
    EXPECT_LT(outcome.tokens.size(), want.size());
    EXPECT_EQ(outcome.tokens,
              std::vector<int64_t>(want.begin(),
                                   want.begin() + outcome.tokens.size()));
  }
  h.expectNoLeaks();
}

TEST(EngineText, StopTokensAddNoText) {
  std::vector<int64_t> prompt{10, 20, 30};
  std::vector<int64_t> want = greedyContinuation(prompt, 30, kVocab);
  EngineConfig config = withTokenizer();
  config.eosTokenIds = {want[5]};
  Harness h(referenceInfo(), config);
  uint64_t id = h.submit(prompt, greedyParams(30));
  h.run();
  Outcome outcome = h.collector.get(id);
  ASSERT_EQ(outcome.finish, FinishReason::Stop);
  std::vector<int64_t> before(outcome.tokens.begin(), outcome.tokens.end() - 1);
  EXPECT_EQ(outcome.text, decodeAll(before));
}

} // namespace

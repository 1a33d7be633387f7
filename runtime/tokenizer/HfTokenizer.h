//===- HfTokenizer.h - a Hugging Face tokenizer.json tokenizer ---*- C++
//-*-===//
//
// The `tokenizers` crate's pipeline: added tokens split out first (on the
// raw text, then on the normalized text), normalizer, pre-tokenizer, model,
// post-processor; and decoder for the way back.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_HFTOKENIZER_H
#define ANVIL_RUNTIME_TOKENIZER_HFTOKENIZER_H

#include "runtime/tokenizer/ByteTrie.h"
#include "runtime/tokenizer/HfComponents.h"
#include "runtime/tokenizer/HfModels.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <nlohmann/json_fwd.hpp>

namespace anvil::tokenizer {

class HfTokenizer : public Tokenizer {
public:
  /// Builds the tokenizer of parsed tokenizer.json `json`; false with
  /// `error` when it is malformed or uses something unsupported.
  bool parse(const nlohmann::json &json, std::string &error);

  anvil_status encode(std::string_view text, bool addSpecialTokens,
                      std::vector<int64_t> &ids) const override;
  std::string decode(const std::vector<int64_t> &ids,
                     bool skipSpecialTokens) const override;
  int64_t vocabSize() const override {
    return static_cast<int64_t>(idToToken.size());
  }
  int64_t tokenToId(std::string_view token) const override;
  bool isSpecial(int64_t id) const override;
  const char *kind() const override { return "tokenizer.json"; }

private:
  struct AddedToken {
    std::string content;
    int64_t id;
    bool special, lstrip, rstrip, singleWord, normalized;
  };
  struct Segment {
    std::string text;
    int64_t id; // An added token's, or -1.
    size_t begin;
  };
  /// encode() without its exception wall.
  anvil_status encodeUnguarded(std::string_view text, bool addSpecialTokens,
                               std::vector<int64_t> &ids) const;
  void splitAdded(const ByteTrie &trie, std::string_view text, size_t base,
                  std::vector<Segment> &out) const;

  std::vector<AddedToken> added;
  ByteTrie rawTrie, normalizedTrie; // Added tokens, by index in `added`.
  std::unordered_map<std::string, int64_t> addedIds;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> preTokenizer;
  std::unique_ptr<HfModel> model;
  std::unique_ptr<PostProcessor> postProcessor;
  std::unique_ptr<Decoder> decoder;
  std::vector<std::string> idToToken;
  std::vector<bool> hasToken, special;
};

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_HFTOKENIZER_H

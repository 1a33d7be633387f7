//===- Tokenizer.h - text to token ids and back ------------------*- C++
//-*-===//
//
// The runtime's tokenizer: Hugging Face tokenizer.json and SentencePiece
// models, token-for-token identical to Hugging Face `tokenizers`. The engine
// encodes prompts with it and streams generated text through
// IncrementalDecoder, which never splits a multi-byte UTF-8 character.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_TOKENIZER_H
#define ANVIL_RUNTIME_TOKENIZER_TOKENIZER_H

#include "anvil/anvil.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace anvil::tokenizer {

class Tokenizer {
public:
  virtual ~Tokenizer() = default;

  /// Parses a tokenizer from its bytes: a Hugging Face tokenizer.json
  /// (JSON text) or a SentencePiece model (protobuf). ANVIL_INVALID_ARGUMENT
  /// names what is malformed or unsupported.
  static anvil_status load(std::string_view bytes,
                           std::unique_ptr<Tokenizer> &out);

  /// Token ids of `text`; with `addSpecialTokens`, the BOS/EOS the
  /// tokenizer's post-processor adds (as HF's encode(add_special_tokens)).
  virtual anvil_status encode(std::string_view text, bool addSpecialTokens,
                              std::vector<int64_t> &ids) const = 0;
  /// The text of `ids`, as HF's decode(ids, skip_special_tokens).
  virtual std::string decode(const std::vector<int64_t> &ids,
                             bool skipSpecialTokens) const = 0;
  virtual int64_t vocabSize() const = 0;
  /// The id of token `token` (e.g. "</s>"), or -1.
  virtual int64_t tokenToId(std::string_view token) const = 0;
  virtual bool isSpecial(int64_t id) const = 0;
  /// What was loaded: "tokenizer.json" or "sentencepiece". Not pure, so
  /// that stand-in tokenizers (engine tests) need not say.
  virtual const char *kind() const { return "other"; }
};

/// Streams the text of ids pushed one at a time: push() returns the text
/// that became final (complete UTF-8, which later ids cannot change), and
/// the concatenation of every push() plus flush() equals
/// tokenizer.decode(all ids, skipSpecialTokens). (Except where HF's
/// ByteFallback decoder turns a whole run of byte tokens into U+FFFD for a
/// bad byte late in the run: the valid bytes before it may have been
/// returned already. docs/tokenizer.md.)
class IncrementalDecoder {
public:
  IncrementalDecoder(const Tokenizer &tokenizer, bool skipSpecialTokens);
  std::string push(int64_t id);
  /// The rest (a trailing incomplete character decodes as U+FFFD, as HF).
  std::string flush();

private:
  const Tokenizer &tokenizer;
  bool skipSpecial;
  std::vector<int64_t> ids;
  size_t prefixOffset = 0, readOffset = 0;
};

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_TOKENIZER_H

//===- HfComponents.h - tokenizer.json normalizers to decoders --*- C++ -*-===//
//
// The pipeline stages of Hugging Face `tokenizers` other than the model:
// normalizers, pre-tokenizers, post-processors and decoders, each parsed
// from its tokenizer.json object and behaving as the Rust crate's.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_HFCOMPONENTS_H
#define ANVIL_RUNTIME_TOKENIZER_HFCOMPONENTS_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace anvil::tokenizer {

class Normalizer {
public:
  virtual ~Normalizer() = default;
  virtual std::string apply(std::string text) const = 0;
  static std::unique_ptr<Normalizer> parse(const nlohmann::json &json,
                                           std::string &error);
};

/// A piece of text on its way to the model. `atStart`: it begins at offset
/// 0 of the input (Metaspace's prepend_scheme "first" asks).
struct Split {
  std::string text;
  bool atStart;
};

class PreTokenizer {
public:
  virtual ~PreTokenizer() = default;
  virtual void apply(std::vector<Split> &splits) const = 0;
  static std::unique_ptr<PreTokenizer> parse(const nlohmann::json &json,
                                             std::string &error);
};

class PostProcessor {
public:
  virtual ~PostProcessor() = default;
  /// Adds the special tokens of a single sequence.
  virtual void addSpecialTokens(std::vector<int64_t> &ids) const = 0;
  static std::unique_ptr<PostProcessor> parse(const nlohmann::json &json,
                                              std::string &error);
};

class Decoder {
public:
  virtual ~Decoder() = default;
  /// tokenizers' decode_chain: tokens in, (fewer) strings out.
  virtual void decodeChain(std::vector<std::string> &tokens) const = 0;
  static std::unique_ptr<Decoder> parse(const nlohmann::json &json,
                                        std::string &error);
};

/// GPT-2's byte -> printable character map (bytes_to_unicode).
const std::string &byteLevelChar(unsigned char byte);

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_HFCOMPONENTS_H

//===- HfModels.h - tokenizer.json models ----------------------*- C++ -*-===//
//
// The models of Hugging Face `tokenizers`, each turning one pre-tokenized
// word into ids exactly as the Rust crate does.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_HFMODELS_H
#define ANVIL_RUNTIME_TOKENIZER_HFMODELS_H

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace anvil::tokenizer {

using Vocab = std::unordered_map<std::string, int64_t>;

class HfModel {
public:
  virtual ~HfModel() = default;
  /// Appends the ids of `word`; false (with `error`) when a needed unknown
  /// token is missing from the vocabulary.
  virtual bool tokenize(std::string_view word, std::vector<int64_t> &ids,
                        std::string &error) const = 0;
  const Vocab &vocab() const { return tokens; }
  /// Parses model JSON `json`; null with `error` when malformed.
  static std::unique_ptr<HfModel> parse(const nlohmann::json &json,
                                        std::string &error);

protected:
  Vocab tokens;
};

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_HFMODELS_H

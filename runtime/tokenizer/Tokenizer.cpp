//===- Tokenizer.cpp - loading by format, and incremental decoding -------===//

#include "runtime/tokenizer/Tokenizer.h"

#include "runtime/src/Status.h"
#include "runtime/tokenizer/HfTokenizer.h"
#include "runtime/tokenizer/Regex.h"
#include "runtime/tokenizer/SentencePieceTokenizer.h"
#include "runtime/tokenizer/Unicode.h"

#include <nlohmann/json.hpp>

namespace anvil::tokenizer {

using runtime::makeStatus;

anvil_status Tokenizer::load(std::string_view bytes,
                             std::unique_ptr<Tokenizer> &out) {
  return runtime::guarded([&]() -> anvil_status {
    size_t first = bytes.find_first_not_of(" \t\r\n");
    // A SentencePiece ModelProto starts with field 1's tag (0x0A), never '{'.
    if (first == std::string_view::npos || bytes[first] != '{')
      return loadSentencePiece(bytes, out);
    nlohmann::json json;
    std::string error;
    auto tokenizer = std::make_unique<HfTokenizer>();
    try {
      json = nlohmann::json::parse(bytes.begin(), bytes.end());
      if (!tokenizer->parse(json, error))
        return makeStatus(ANVIL_INVALID_ARGUMENT, "tokenizer.json: " + error);
    } catch (const RegexTooExpensive &e) {
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        std::string("tokenizer.json: ") + e.what());
    } catch (const nlohmann::json::exception &e) {
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        std::string("tokenizer.json: ") + e.what());
    }
    out = std::move(tokenizer);
    return nullptr;
  });
}

IncrementalDecoder::IncrementalDecoder(const Tokenizer &tokenizer,
                                       bool skipSpecialTokens)
    : tokenizer(tokenizer), skipSpecial(skipSpecialTokens) {}

// As text-generation-inference's decode_token: decode a window that starts
// one emitted token back, so that decoders which look at their first token
// (Metaspace, Strip) see the same context as in a full decode; hold the
// text back while it ends in an incomplete character (U+FFFD).
std::string IncrementalDecoder::push(int64_t id) {
  ids.push_back(id);
  std::vector<int64_t> prefix(ids.begin() + prefixOffset,
                              ids.begin() + readOffset);
  std::vector<int64_t> window(ids.begin() + prefixOffset, ids.end());
  std::string prefixText = tokenizer.decode(prefix, skipSpecial);
  std::string text = tokenizer.decode(window, skipSpecial);
  if (text.size() <= prefixText.size() || endsWithReplacement(text) ||
      text.compare(0, prefixText.size(), prefixText) != 0)
    return "";
  prefixOffset = readOffset;
  readOffset = ids.size();
  return text.substr(prefixText.size());
}

std::string IncrementalDecoder::flush() {
  std::vector<int64_t> prefix(ids.begin() + prefixOffset,
                              ids.begin() + readOffset);
  std::vector<int64_t> window(ids.begin() + prefixOffset, ids.end());
  std::string prefixText = tokenizer.decode(prefix, skipSpecial);
  std::string text = tokenizer.decode(window, skipSpecial);
  prefixOffset = readOffset = ids.size();
  if (text.compare(0, prefixText.size(), prefixText) != 0)
    return text;
  return text.substr(prefixText.size());
}

} // namespace anvil::tokenizer

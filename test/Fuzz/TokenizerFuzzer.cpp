//===- TokenizerFuzzer.cpp - libFuzzer over Tokenizer::load and encode ---===//
//
// An input is a tokenizer (tokenizer.json or SentencePiece model bytes),
// optionally followed by "\n#TEXT#\n" and a text to encode. Whatever loads
// encodes the text (with and without special tokens), decodes the ids, the
// ids plus some raw from the input, and streams them through
// IncrementalDecoder. Nothing may crash, hang or leak; errors are statuses.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"

#include <cstdint>
#include <cstring>
#include <string_view>

using anvil::tokenizer::IncrementalDecoder;
using anvil::tokenizer::Tokenizer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  std::string_view text = "Hello world! It's 2024: \xF0\x9F\x98\x80 caf\xC3\xA9"
                          "  <s>  \n\t x";
  size_t split = input.find("\n#TEXT#\n");
  if (split != std::string_view::npos) {
    text = input.substr(split + 8);
    input = input.substr(0, split);
  }
  std::unique_ptr<Tokenizer> tokenizer;
  if (anvil_status status = Tokenizer::load(input, tokenizer)) {
    anvil_status_free(status);
    return 0;
  }
  for (bool special : {false, true}) {
    std::vector<int64_t> ids;
    if (anvil_status status = tokenizer->encode(text, special, ids)) {
      anvil_status_free(status);
      continue;
    }
    // Some ids from nowhere: out of range, negative, specials.
    for (size_t i = 0; i < text.size() && i < 8; ++i)
      ids.push_back(static_cast<int8_t>(text[i]) * 37);
    std::string whole = tokenizer->decode(ids, special);
    IncrementalDecoder stream(*tokenizer, special);
    for (int64_t id : ids)
      stream.push(id);
    stream.flush();
    (void)tokenizer->tokenToId(text.substr(0, 8));
    (void)tokenizer->isSpecial(ids.empty() ? 0 : ids[0]);
  }
  return 0;
}

//===- SplitPatterns.h - the pre-tokenizer regexes, hand-matched -*- C++
//-*-===//
//
// The regexes of Hugging Face pre-tokenizers (GPT-2's, cl100k's as in
// Llama 3, Qwen2's, and Whitespace's) use lookahead and Unicode classes,
// which no Debian regex library matches as Oniguruma does. They are matched
// here by hand, alternative by alternative, with Oniguruma's leftmost-first
// backtracking semantics.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_SPLITPATTERNS_H
#define ANVIL_RUNTIME_TOKENIZER_SPLITPATTERNS_H

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace anvil::tokenizer {

enum class SplitPattern {
  Gpt2,       // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|...|\s+(?!\S)|\s+
  Cl100k,     // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|...
  Qwen2,      // Cl100k with \p{N} instead of \p{N}{1,3}
  Whitespace, // \w+|[^\w\s]+
};

/// The known pattern `regex` is, or false.
bool identifySplitPattern(std::string_view regex, SplitPattern &out);

/// The text of ByteLevel's built-in regex (GPT-2's).
extern const char *const gpt2Pattern;

/// The leftmost non-overlapping matches of `pattern` in valid UTF-8 `text`,
/// as [begin, end) byte offsets.
void findSplitMatches(SplitPattern pattern, std::string_view text,
                      std::vector<std::pair<size_t, size_t>> &matches);

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_SPLITPATTERNS_H

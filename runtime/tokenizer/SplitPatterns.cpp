//===- SplitPatterns.cpp - the pre-tokenizer regexes, hand-matched -------===//

#include "runtime/tokenizer/SplitPatterns.h"

#include "runtime/tokenizer/Unicode.h"

namespace anvil::tokenizer {

const char *const gpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

const char *const cl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *const qwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char *const whitespacePattern = R"(\w+|[^\w\s]+)";

/// A cursor over valid UTF-8.
struct Text {
  std::string_view s;
  char32_t at(size_t pos, size_t &len) const { return decodeAt(s, pos, len); }
  char32_t at(size_t pos) const {
    size_t len;
    return decodeAt(s, pos, len);
  }
  size_t next(size_t pos) const {
    return pos + utf8Length(static_cast<unsigned char>(s[pos]));
  }
  /// The end of the run of characters from `pos` that satisfy `pred`,
  /// at most `limit` of them.
  template <typename Pred>
  size_t run(size_t pos, Pred pred, size_t limit = SIZE_MAX) const {
    size_t count = 0;
    while (pos < s.size() && count < limit && pred(at(pos))) {
      pos = next(pos);
      ++count;
    }
    return pos;
  }
};

bool isOther(char32_t c) {
  return !isWhitespace(c) && !isLetter(c) && !isNumber(c);
}
bool isNewline(char32_t c) { return c == '\r' || c == '\n'; }

/// 's|'t|'re|'ve|'m|'ll|'d at `pos`, optionally ASCII-case-insensitive.
size_t contraction(const Text &t, size_t pos, bool ignoreCase) {
  std::string_view s = t.s;
  if (s[pos] != '\'')
    return 0;
  auto lower = [&](size_t i) -> char {
    if (i >= s.size())
      return 0;
    char c = s[i];
    return ignoreCase && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  };
  char a = lower(pos + 1), b = lower(pos + 2);
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
      (a == 'l' && b == 'l'))
    return 3;
  return 0;
}

/// \s+(?!\S)|\s+ at `pos`, whose character is whitespace.
size_t trailingWhitespace(const Text &t, size_t pos) {
  size_t end = t.run(pos, isWhitespace);
  if (end == t.s.size())
    return end - pos;
  // Back off one character so that the next is whitespace, if any is left.
  size_t last = end - 1;
  while ((static_cast<unsigned char>(t.s[last]) & 0xC0) == 0x80)
    --last;
  return (last > pos ? last : end) - pos;
}

size_t matchGpt2(const Text &t, size_t pos) {
  if (size_t n = contraction(t, pos, /*ignoreCase=*/false))
    return n;
  char32_t c = t.at(pos);
  size_t after = c == ' ' ? pos + 1 : pos;
  if (after < t.s.size()) {
    char32_t d = t.at(after);
    if (isLetter(d))
      return t.run(after, isLetter) - pos;
    if (isNumber(d))
      return t.run(after, isNumber) - pos;
    if (isOther(d))
      return t.run(after, isOther) - pos;
  }
  if (isWhitespace(c))
    return trailingWhitespace(t, pos);
  return 0;
}

size_t matchCl100k(const Text &t, size_t pos, size_t maxDigits) {
  if (size_t n = contraction(t, pos, /*ignoreCase=*/true))
    return n;
  size_t len;
  char32_t c = t.at(pos, len);
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (isLetter(c))
    return t.run(pos, isLetter) - pos;
  if (!isNewline(c) && !isNumber(c) && pos + len < t.s.size() &&
      isLetter(t.at(pos + len)))
    return t.run(pos + len, isLetter) - pos;
  // \p{N}{1,3}
  if (isNumber(c))
    return t.run(pos, isNumber, maxDigits) - pos;
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
  size_t after = c == ' ' ? pos + 1 : pos;
  if (after < t.s.size() && isOther(t.at(after)))
    return t.run(t.run(after, isOther), isNewline) - pos;
  if (!isWhitespace(c))
    return 0;
  // \s*[\r\n]+: up to the last newline of the whitespace run.
  size_t end = t.run(pos, isWhitespace), lastNewline = SIZE_MAX;
  for (size_t i = pos; i < end; i = t.next(i))
    if (isNewline(t.at(i)))
      lastNewline = i;
  if (lastNewline != SIZE_MAX)
    return lastNewline + 1 - pos;
  return trailingWhitespace(t, pos);
}

size_t matchWhitespace(const Text &t, size_t pos) {
  char32_t c = t.at(pos);
  if (isWordChar(c))
    return t.run(pos, isWordChar) - pos;
  if (!isWhitespace(c))
    return t.run(pos, [](char32_t d) {
      return !isWordChar(d) && !isWhitespace(d);
    }) - pos;
  return 0;
}

} // namespace

bool identifySplitPattern(std::string_view regex, SplitPattern &out) {
  if (regex == gpt2Pattern)
    out = SplitPattern::Gpt2;
  else if (regex == cl100kPattern)
    out = SplitPattern::Cl100k;
  else if (regex == qwen2Pattern)
    out = SplitPattern::Qwen2;
  else if (regex == whitespacePattern)
    out = SplitPattern::Whitespace;
  else
    return false;
  return true;
}

void findSplitMatches(SplitPattern pattern, std::string_view text,
                      std::vector<std::pair<size_t, size_t>> &matches) {
  Text t{text};
  for (size_t pos = 0; pos < text.size();) {
    size_t n = 0;
    switch (pattern) {
    case SplitPattern::Gpt2:
      n = matchGpt2(t, pos);
      break;
    case SplitPattern::Cl100k:
      n = matchCl100k(t, pos, 3);
      break;
    case SplitPattern::Qwen2:
      n = matchCl100k(t, pos, 1);
      break;
    case SplitPattern::Whitespace:
      n = matchWhitespace(t, pos);
      break;
    }
    if (n == 0) {
      pos = t.next(pos);
      continue;
    }
    matches.emplace_back(pos, pos + n);
    pos += n;
  }
}

} // namespace anvil::tokenizer

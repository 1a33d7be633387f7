//===- HfComponents.cpp - tokenizer.json normalizers to decoders ---------===//
//
// Each stage follows the `tokenizers` crate's source of the same name
// (normalizers/, pre_tokenizers/, processors/, decoders/).
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/HfComponents.h"

#include "runtime/tokenizer/Regex.h"
#include "runtime/tokenizer/SplitPatterns.h"
#include "runtime/tokenizer/Unicode.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utf8proc.h>

namespace anvil::tokenizer {

using Json = nlohmann::json;

namespace {

//===- JSON helpers -------------------------------------------------------===//

std::string typeOf(const Json &json) {
  auto it = json.find("type");
  return it != json.end() && it->is_string() ? it->get<std::string>() : "";
}

bool getBool(const Json &json, const char *key, bool fallback) {
  auto it = json.find(key);
  return it != json.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

bool getString(const Json &json, const char *key, std::string &out,
               std::string &error, const std::string &where) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_string()) {
    error = where + "." + key + " must be a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

/// A {"String": s} pattern; {"Regex": r} only where `regex` may take it.
bool getPattern(const Json &json, std::string &text, bool &isRegex,
                std::string &error, const std::string &where) {
  auto it = json.find("pattern");
  if (it == json.end() || !it->is_object()) {
    error = where + ".pattern must be {\"String\": ...} or {\"Regex\": ...}";
    return false;
  }
  isRegex = it->contains("Regex");
  return getString(*it, isRegex ? "Regex" : "String", text, error,
                   where + ".pattern");
}

/// The stages of a Sequence: list `key`, each parsed by T::parse.
template <typename T>
bool parseParts(const Json &json, const char *key, const std::string &where,
                std::vector<std::unique_ptr<T>> &parts, std::string &error) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_array()) {
    error = where + " needs a list '" + key + "'";
    return false;
  }
  for (const Json &part : *it) {
    auto parsed = T::parse(part, error);
    if (!parsed)
      return false;
    parts.push_back(std::move(parsed));
  }
  return true;
}

std::string replaceAll(std::string_view text, std::string_view pattern,
                       std::string_view content) {
  if (pattern.empty())
    return std::string(text);
  std::string out;
  size_t pos = 0;
  for (size_t hit; (hit = text.find(pattern, pos)) != std::string_view::npos;
       pos = hit + pattern.size()) {
    out.append(text.substr(pos, hit - pos));
    out.append(content);
  }
  out.append(text.substr(pos));
  return out;
}

template <typename Pred> std::string filterMap(std::string_view text, Pred f) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    size_t n;
    char32_t c = decodeAt(text, i, n);
    f(c, text.substr(i, n), out);
    i += n;
  }
  return out;
}

//===- Normalizers --------------------------------------------------------===//

class SequenceNormalizer : public Normalizer {
public:
  std::vector<std::unique_ptr<Normalizer>> parts;
  std::string apply(std::string text) const override {
    for (const auto &part : parts)
      text = part->apply(std::move(text));
    return text;
  }
};

class PrependNormalizer : public Normalizer {
public:
  std::string prepend;
  std::string apply(std::string text) const override {
    return text.empty() ? text : prepend + text;
  }
};

class ReplaceNormalizer : public Normalizer {
public:
  std::string pattern, content;
  std::shared_ptr<const Regex> regex; // For {"Regex": ...} patterns.
  std::string apply(std::string text) const override {
    if (!regex)
      return replaceAll(text, pattern, content);
    std::vector<std::pair<size_t, size_t>> matches;
    regex->findAll(text, matches);
    std::string out;
    size_t prev = 0;
    for (auto [b, e] : matches) {
      out.append(text, prev, b - prev);
      out += content;
      prev = e;
    }
    out.append(text, prev, std::string::npos);
    return out;
  }
};

class UnicodeNormalizer : public Normalizer {
public:
  NormalForm form;
  explicit UnicodeNormalizer(NormalForm form) : form(form) {}
  std::string apply(std::string text) const override {
    return normalize(text, form);
  }
};

class LowercaseNormalizer : public Normalizer {
public:
  std::string apply(std::string text) const override {
    return toLowercase(text);
  }
};

std::string stripWhitespace(std::string_view text, bool left, bool right) {
  size_t begin = 0, end = text.size();
  while (left && begin < end) {
    size_t n;
    if (!isWhitespace(decodeAt(text, begin, n)))
      break;
    begin += n;
  }
  while (right && end > begin) {
    size_t start = end - 1;
    while (start > begin &&
           (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
      --start;
    size_t n;
    if (!isWhitespace(decodeAt(text, start, n)))
      break;
    end = start;
  }
  return std::string(text.substr(begin, end - begin));
}

class StripNormalizer : public Normalizer {
public:
  bool left = true, right = true;
  std::string apply(std::string text) const override {
    return stripWhitespace(text, left, right);
  }
};

std::string stripAccents(std::string_view text) {
  return filterMap(text,
                   [](char32_t c, std::string_view bytes, std::string &out) {
                     if (!isNonspacingMark(c))
                       out.append(bytes);
                   });
}

class StripAccentsNormalizer : public Normalizer {
public:
  std::string apply(std::string text) const override {
    return stripAccents(text);
  }
};

class ByteLevelNormalizer : public Normalizer {
public:
  std::string apply(std::string text) const override {
    std::string out;
    for (unsigned char b : text)
      out += byteLevelChar(b);
    return out;
  }
};

bool isChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// tokenizers' BertNormalizer: clean text, space out CJK, strip accents,
// lowercase.
class BertNormalizer : public Normalizer {
public:
  bool cleanText = true, chineseChars = true, accents = true, lowercase = true;
  std::string apply(std::string text) const override {
    if (cleanText)
      text = filterMap(
          text, [](char32_t c, std::string_view bytes, std::string &out) {
            bool space = c == '\t' || c == '\n' || c == '\r' || isWhitespace(c);
            if (space) {
              out += ' ';
              return;
            }
            if (c == 0 || c == 0xFFFD || isOtherCategory(c))
              return;
            out.append(bytes);
          });
    if (chineseChars)
      text = filterMap(
          text, [](char32_t c, std::string_view bytes, std::string &out) {
            bool cjk = isChineseChar(c);
            if (cjk)
              out += ' ';
            out.append(bytes);
            if (cjk)
              out += ' ';
          });
    if (accents)
      text = stripAccents(normalize(text, NormalForm::NFD));
    if (lowercase)
      text = toLowercase(text);
    return text;
  }
  static bool isOtherCategory(char32_t c) {
    // Cc, Cf, Cn, Co, Cs: neither letter, mark, number, punctuation,
    // symbol nor separator.
    return !isLetter(c) && !isMark(c) && !isNumber(c) && !isPunctuation(c) &&
           !isWhitespace(c) && !isSymbol(c);
  }
  static bool isSymbol(char32_t c) {
    auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
    return cat == UTF8PROC_CATEGORY_SM || cat == UTF8PROC_CATEGORY_SC ||
           cat == UTF8PROC_CATEGORY_SK || cat == UTF8PROC_CATEGORY_SO;
  }
};

/// Standard base64 with padding; false if malformed.
bool decodeBase64(std::string_view text, std::string &out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0)
      return false;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return true;
}

// SentencePiece's precompiled character map, as the spm_precompiled crate
// reads it: a little-endian byte count, a darts-clone double array of that
// many bytes, then NUL-terminated replacement strings. Applied per extended
// grapheme cluster, then per character, taking the shortest key that
// prefixes the chunk (sentencepiece's own behaviour, kept by tokenizers).
class PrecompiledNormalizer : public Normalizer {
public:
  bool parse(std::string_view blob, std::string &error) {
    if (blob.empty())
      return true; // No map: the identity.
    uint32_t bytes = 0;
    if (blob.size() >= 4)
      std::memcpy(&bytes, blob.data(), 4);
    if (blob.size() < 4 || bytes % 4 != 0 || bytes > blob.size() - 4) {
      error = "normalizer Precompiled: malformed precompiled_charsmap";
      return false;
    }
    array.resize(bytes / 4);
    if (bytes)
      std::memcpy(array.data(), blob.data() + 4, bytes);
    strings = std::string(blob.substr(4 + bytes));
    if (!isValidUtf8(strings)) {
      error = "normalizer Precompiled: the replacements are not UTF-8";
      return false;
    }
    return true;
  }

  std::string apply(std::string text) const override {
    if (array.empty())
      return text;
    std::string out;
    utf8proc_int32_t state = 0;
    size_t begin = 0;
    for (size_t i = 0; i < text.size();) {
      size_t n;
      char32_t c = decodeAt(text, i, n);
      size_t next = i + n;
      bool last = next >= text.size();
      if (!last) {
        size_t m;
        char32_t d = decodeAt(text, next, m);
        last = utf8proc_grapheme_break_stateful(
            static_cast<utf8proc_int32_t>(c), static_cast<utf8proc_int32_t>(d),
            &state);
      }
      if (last) {
        grapheme(std::string_view(text).substr(begin, next - begin), out);
        begin = next;
        state = 0;
      }
      i = next;
    }
    return out;
  }

private:
  void grapheme(std::string_view g, std::string &out) const {
    std::string_view replacement;
    if (g.size() < 6 && transform(g, replacement)) {
      out.append(replacement);
      return;
    }
    for (size_t i = 0; i < g.size();) {
      size_t n = utf8Length(static_cast<unsigned char>(g[i]));
      std::string_view part = g.substr(i, n);
      out.append(transform(part, replacement) ? replacement : part);
      i += n;
    }
  }

  /// The replacement of the shortest key prefixing `chunk`, if any.
  bool transform(std::string_view chunk, std::string_view &out) const {
    auto unit = [&](size_t pos, uint32_t &u) {
      if (pos >= array.size())
        return false;
      u = array[pos];
      return true;
    };
    auto offset = [](uint32_t u) {
      return static_cast<size_t>((u >> 10) << ((u & (1u << 9)) >> 6));
    };
    size_t pos = 0;
    uint32_t u;
    if (!unit(pos, u))
      return false;
    pos ^= offset(u);
    for (unsigned char c : chunk) {
      if (c == 0)
        return false;
      pos ^= c;
      if (!unit(pos, u) || (u & ((1u << 31) | 0xFF)) != c)
        return false;
      pos ^= offset(u);
      if ((u >> 8) & 1) {
        uint32_t leaf;
        if (!unit(pos, leaf))
          return false;
        size_t index = leaf & ((1u << 31) - 1);
        if (index > strings.size())
          return false;
        size_t end = strings.find('\0', index);
        out = std::string_view(strings).substr(
            index, (end == std::string::npos ? strings.size() : end) - index);
        return isValidUtf8(out);
      }
    }
    return false;
  }

  std::vector<uint32_t> array;
  std::string strings;
};

} // namespace

std::unique_ptr<Normalizer> Normalizer::parse(const Json &json,
                                              std::string &error) {
  if (!json.is_object()) {
    error = "normalizer must be an object";
    return nullptr;
  }
  std::string type = typeOf(json);
  std::string where = "normalizer " + type;
  if (type == "Sequence") {
    auto seq = std::make_unique<SequenceNormalizer>();
    return parseParts(json, "normalizers", where, seq->parts, error)
               ? std::move(seq)
               : nullptr;
  }
  if (type == "Prepend") {
    auto n = std::make_unique<PrependNormalizer>();
    return getString(json, "prepend", n->prepend, error, where) ? std::move(n)
                                                                : nullptr;
  }
  if (type == "Replace") {
    auto n = std::make_unique<ReplaceNormalizer>();
    bool isRegex;
    if (!getPattern(json, n->pattern, isRegex, error, where) ||
        !getString(json, "content", n->content, error, where))
      return nullptr;
    std::string why;
    if (isRegex && !(n->regex = Regex::compile(n->pattern, why))) {
      error = "normalizer Replace: regex '" + n->pattern +
              "' is not supported: " + why;
      return nullptr;
    }
    return n;
  }
  if (type == "NFC")
    return std::make_unique<UnicodeNormalizer>(NormalForm::NFC);
  if (type == "NFD")
    return std::make_unique<UnicodeNormalizer>(NormalForm::NFD);
  if (type == "NFKC")
    return std::make_unique<UnicodeNormalizer>(NormalForm::NFKC);
  if (type == "NFKD")
    return std::make_unique<UnicodeNormalizer>(NormalForm::NFKD);
  if (type == "Lowercase")
    return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") {
    auto n = std::make_unique<StripNormalizer>();
    n->left = getBool(json, "strip_left", true);
    n->right = getBool(json, "strip_right", true);
    return n;
  }
  if (type == "StripAccents")
    return std::make_unique<StripAccentsNormalizer>();
  if (type == "Precompiled") {
    auto n = std::make_unique<PrecompiledNormalizer>();
    auto map = json.find("precompiled_charsmap");
    std::string blob;
    if (map != json.end() && !map->is_null() &&
        (!map->is_string() ||
         !decodeBase64(map->get_ref<const std::string &>(), blob))) {
      error = "normalizer Precompiled: precompiled_charsmap must be base64";
      return nullptr;
    }
    return n->parse(blob, error) ? std::move(n) : nullptr;
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelNormalizer>();
  if (type == "BertNormalizer") {
    auto n = std::make_unique<BertNormalizer>();
    n->cleanText = getBool(json, "clean_text", true);
    n->chineseChars = getBool(json, "handle_chinese_chars", true);
    n->lowercase = getBool(json, "lowercase", true);
    n->accents = getBool(json, "strip_accents", n->lowercase);
    return n;
  }
  error = "unsupported normalizer type '" + type +
          "' (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, "
          "Lowercase, Strip, StripAccents, ByteLevel, BertNormalizer, "
          "Precompiled)";
  return nullptr;
}

//===- Pre-tokenizers -----------------------------------------------------===//

namespace {

enum class Behavior {
  Removed,
  Isolated,
  MergedWithPrevious,
  MergedWithNext,
  Contiguous
};

bool parseBehavior(const Json &json, Behavior fallback, Behavior &out,
                   std::string &error, const std::string &where) {
  out = fallback;
  auto it = json.find("behavior");
  if (it == json.end())
    return true;
  std::string name = it->is_string() ? it->get<std::string>() : "";
  if (name == "Removed")
    out = Behavior::Removed;
  else if (name == "Isolated")
    out = Behavior::Isolated;
  else if (name == "MergedWithPrevious")
    out = Behavior::MergedWithPrevious;
  else if (name == "MergedWithNext")
    out = Behavior::MergedWithNext;
  else if (name == "Contiguous")
    out = Behavior::Contiguous;
  else {
    error = where + ": unknown behavior '" + name + "'";
    return false;
  }
  return true;
}

using Spans = std::vector<std::pair<size_t, size_t>>;

/// Splits `split` at `matches` as NormalizedString::split does with
/// `behavior`, appending the non-empty pieces to `out`.
void splitAt(const Split &split, const Spans &matches, Behavior behavior,
             bool invert, std::vector<Split> &out) {
  struct Span {
    size_t begin, end;
    bool isMatch;
  };
  std::vector<Span> spans;
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev < b)
      spans.push_back({prev, b, invert});
    spans.push_back({b, e, !invert});
    prev = e;
  }
  if (prev < split.text.size())
    spans.push_back({prev, split.text.size(), invert});

  std::vector<Span> pieces;
  bool previousMatch = false;
  switch (behavior) {
  case Behavior::Isolated:
    pieces = spans;
    break;
  case Behavior::Removed:
    for (const Span &s : spans)
      if (!s.isMatch)
        pieces.push_back(s);
    break;
  case Behavior::MergedWithPrevious:
    for (const Span &s : spans) {
      if (s.isMatch && !previousMatch && !pieces.empty())
        pieces.back().end = s.end;
      else
        pieces.push_back(s);
      previousMatch = s.isMatch;
    }
    break;
  case Behavior::MergedWithNext:
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
      if (it->isMatch && !previousMatch && !pieces.empty())
        pieces.back().begin = it->begin;
      else
        pieces.push_back(*it);
      previousMatch = it->isMatch;
    }
    std::reverse(pieces.begin(), pieces.end());
    break;
  case Behavior::Contiguous:
    for (size_t i = 0; i < spans.size(); ++i) {
      if (i > 0 && spans[i].isMatch == previousMatch)
        pieces.back().end = spans[i].end;
      else
        pieces.push_back(spans[i]);
      previousMatch = spans[i].isMatch;
    }
    break;
  }
  for (const Span &p : pieces)
    if (p.end > p.begin)
      out.push_back({split.text.substr(p.begin, p.end - p.begin),
                     split.atStart && p.begin == 0});
}

/// Each character satisfying `pred` as a match of its own.
template <typename Pred> Spans charMatches(std::string_view text, Pred pred) {
  Spans spans;
  for (size_t i = 0; i < text.size();) {
    size_t n;
    char32_t c = decodeAt(text, i, n);
    if (pred(c))
      spans.emplace_back(i, i + n);
    i += n;
  }
  return spans;
}

/// A pre-tokenizer that splits every piece at its matches.
template <typename Matcher> class SplitBy : public PreTokenizer {
public:
  SplitBy(Matcher matcher, Behavior behavior, bool invert)
      : matcher(matcher), behavior(behavior), invert(invert) {}
  void apply(std::vector<Split> &splits) const override {
    std::vector<Split> out;
    for (const Split &split : splits)
      splitAt(split, matcher(split.text), behavior, invert, out);
    splits = std::move(out);
  }

private:
  Matcher matcher;
  Behavior behavior;
  bool invert;
};

template <typename Matcher>
std::unique_ptr<PreTokenizer> splitBy(Matcher matcher, Behavior behavior,
                                      bool invert = false) {
  return std::make_unique<SplitBy<Matcher>>(matcher, behavior, invert);
}

Spans patternMatches(SplitPattern pattern, std::string_view text) {
  Spans spans;
  findSplitMatches(pattern, text, spans);
  return spans;
}

Spans stringMatches(std::string_view pattern, std::string_view text) {
  Spans spans;
  if (pattern.empty())
    return spans;
  for (size_t pos = 0;
       (pos = text.find(pattern, pos)) != std::string_view::npos;
       pos += pattern.size())
    spans.emplace_back(pos, pos + pattern.size());
  return spans;
}

class ByteLevelPreTokenizer : public PreTokenizer {
public:
  bool addPrefixSpace = true, useRegex = true;
  void apply(std::vector<Split> &splits) const override {
    std::vector<Split> out;
    for (Split &split : splits) {
      if (addPrefixSpace && split.text.compare(0, 1, " ") != 0)
        split.text.insert(0, " ");
      if (useRegex)
        splitAt(split, patternMatches(SplitPattern::Gpt2, split.text),
                Behavior::Isolated, false, out);
      else
        out.push_back(split);
    }
    for (Split &split : out) {
      std::string mapped;
      for (unsigned char b : split.text)
        mapped += byteLevelChar(b);
      split.text = std::move(mapped);
    }
    splits = std::move(out);
  }
};

enum class PrependScheme { First, Always, Never };

bool parsePrependScheme(const Json &json, PrependScheme &out,
                        std::string &error, const std::string &where) {
  out = PrependScheme::Always;
  auto it = json.find("prepend_scheme");
  if (it == json.end() || it->is_null()) {
    // Files older than prepend_scheme say add_prefix_space.
    if (!getBool(json, "add_prefix_space", true))
      out = PrependScheme::Never;
    return true;
  }
  std::string name = it->is_string() ? it->get<std::string>() : "";
  if (name == "first")
    out = PrependScheme::First;
  else if (name == "always")
    out = PrependScheme::Always;
  else if (name == "never")
    out = PrependScheme::Never;
  else {
    error = where + ": unknown prepend_scheme '" + name + "'";
    return false;
  }
  return true;
}

bool parseReplacement(const Json &json, std::string &out, std::string &error,
                      const std::string &where) {
  if (!getString(json, "replacement", out, error, where))
    return false;
  size_t n;
  if (out.empty() || !isValidUtf8(out) ||
      (decodeAt(out, 0, n), n) != out.size()) {
    error = where + ".replacement must be one character";
    return false;
  }
  return true;
}

class MetaspacePreTokenizer : public PreTokenizer {
public:
  std::string replacement;
  PrependScheme scheme = PrependScheme::Always;
  bool split = true;
  void apply(std::vector<Split> &splits) const override {
    std::vector<Split> out;
    for (Split &s : splits) {
      s.text = replaceAll(s.text, " ", replacement);
      bool starts = s.text.compare(0, replacement.size(), replacement) == 0;
      if (!starts && (scheme == PrependScheme::Always ||
                      (scheme == PrependScheme::First && s.atStart)))
        s.text.insert(0, replacement);
      if (split)
        splitAt(s, stringMatches(replacement, s.text), Behavior::MergedWithNext,
                false, out);
      else
        out.push_back(s);
    }
    splits = std::move(out);
  }
};

class SequencePreTokenizer : public PreTokenizer {
public:
  std::vector<std::unique_ptr<PreTokenizer>> parts;
  void apply(std::vector<Split> &splits) const override {
    for (const auto &part : parts)
      part->apply(splits);
  }
};

bool isBertPunctuation(char32_t c) {
  return (c < 0x80 && c > 0x20 && c != 0x7F &&
          !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
            (c >= 'a' && c <= 'z'))) ||
         isPunctuation(c);
}

} // namespace

std::unique_ptr<PreTokenizer> PreTokenizer::parse(const Json &json,
                                                  std::string &error) {
  if (!json.is_object()) {
    error = "pre_tokenizer must be an object";
    return nullptr;
  }
  std::string type = typeOf(json);
  std::string where = "pre_tokenizer " + type;
  if (type == "Sequence") {
    auto seq = std::make_unique<SequencePreTokenizer>();
    return parseParts(json, "pretokenizers", where, seq->parts, error)
               ? std::move(seq)
               : nullptr;
  }
  if (type == "ByteLevel") {
    auto p = std::make_unique<ByteLevelPreTokenizer>();
    p->addPrefixSpace = getBool(json, "add_prefix_space", true);
    p->useRegex = getBool(json, "use_regex", true);
    return p;
  }
  if (type == "Split") {
    std::string pattern;
    bool isRegex;
    Behavior behavior;
    if (!getPattern(json, pattern, isRegex, error, where) ||
        !parseBehavior(json, Behavior::Isolated, behavior, error, where))
      return nullptr;
    bool invert = getBool(json, "invert", false);
    if (!isRegex)
      return splitBy(
          [pattern](std::string_view text) {
            return stringMatches(pattern, text);
          },
          behavior, invert);
    SplitPattern known;
    if (identifySplitPattern(pattern, known))
      return splitBy(
          [known](std::string_view text) {
            return patternMatches(known, text);
          },
          behavior, invert);
    std::string why;
    auto regex = Regex::compile(pattern, why);
    if (!regex) {
      error = "pre_tokenizer Split: regex '" + pattern +
              "' is not supported: " + why;
      return nullptr;
    }
    return splitBy(
        [regex](std::string_view text) {
          Spans spans;
          regex->findAll(text, spans);
          return spans;
        },
        behavior, invert);
  }
  if (type == "Metaspace") {
    auto p = std::make_unique<MetaspacePreTokenizer>();
    if (!parseReplacement(json, p->replacement, error, where) ||
        !parsePrependScheme(json, p->scheme, error, where))
      return nullptr;
    p->split = getBool(json, "split", true);
    return p;
  }
  if (type == "Digits") {
    bool individual = getBool(json, "individual_digits", false);
    return splitBy([](std::string_view t) { return charMatches(t, isNumber); },
                   individual ? Behavior::Isolated : Behavior::Contiguous);
  }
  if (type == "Whitespace")
    return splitBy(
        [](std::string_view t) {
          return patternMatches(SplitPattern::Whitespace, t);
        },
        Behavior::Removed, /*invert=*/true);
  if (type == "WhitespaceSplit")
    return splitBy(
        [](std::string_view t) { return charMatches(t, isWhitespace); },
        Behavior::Removed);
  if (type == "Punctuation") {
    Behavior behavior;
    if (!parseBehavior(json, Behavior::Isolated, behavior, error, where))
      return nullptr;
    return splitBy(
        [](std::string_view t) { return charMatches(t, isBertPunctuation); },
        behavior);
  }
  if (type == "BertPreTokenizer") {
    auto seq = std::make_unique<SequencePreTokenizer>();
    seq->parts.push_back(
        splitBy([](std::string_view t) { return charMatches(t, isWhitespace); },
                Behavior::Removed));
    seq->parts.push_back(splitBy(
        [](std::string_view t) { return charMatches(t, isBertPunctuation); },
        Behavior::Isolated));
    return seq;
  }
  if (type == "CharDelimiterSplit") {
    std::string delimiter;
    if (!getString(json, "delimiter", delimiter, error, where))
      return nullptr;
    return splitBy(
        [delimiter](std::string_view t) { return stringMatches(delimiter, t); },
        Behavior::Removed);
  }
  error = "unsupported pre_tokenizer type '" + type +
          "' (supported: Sequence, ByteLevel, Split, Metaspace, Digits, "
          "Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer, "
          "CharDelimiterSplit)";
  return nullptr;
}

//===- Post-processors ----------------------------------------------------===//

namespace {

class TemplateProcessor : public PostProcessor {
public:
  // The single-sequence template: ids to add, with -1 standing for the
  // sequence itself.
  std::vector<std::vector<int64_t>> pieces;
  void addSpecialTokens(std::vector<int64_t> &ids) const override {
    std::vector<int64_t> out;
    for (const auto &piece : pieces) {
      if (piece.empty())
        out.insert(out.end(), ids.begin(), ids.end());
      else
        out.insert(out.end(), piece.begin(), piece.end());
    }
    ids = std::move(out);
  }
};

class SequenceProcessor : public PostProcessor {
public:
  std::vector<std::unique_ptr<PostProcessor>> parts;
  void addSpecialTokens(std::vector<int64_t> &ids) const override {
    for (const auto &part : parts)
      part->addSpecialTokens(ids);
  }
};

bool parseTokenPair(const Json &json, const char *key, int64_t &id,
                    std::string &error, const std::string &where) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_array() || it->size() != 2 ||
      !(*it)[1].is_number_unsigned()) {
    error = where + "." + key + " must be [token, id]";
    return false;
  }
  id = (*it)[1].get<int64_t>();
  return true;
}

} // namespace

std::unique_ptr<PostProcessor> PostProcessor::parse(const Json &json,
                                                    std::string &error) {
  if (!json.is_object()) {
    error = "post_processor must be an object";
    return nullptr;
  }
  std::string type = typeOf(json);
  std::string where = "post_processor " + type;
  if (type == "ByteLevel") // Only trims offsets: ids are unchanged.
    return std::make_unique<SequenceProcessor>();
  if (type == "Sequence") {
    auto seq = std::make_unique<SequenceProcessor>();
    return parseParts(json, "processors", where, seq->parts, error)
               ? std::move(seq)
               : nullptr;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    auto p = std::make_unique<TemplateProcessor>();
    int64_t cls, sep;
    if (!parseTokenPair(json, "cls", cls, error, where) ||
        !parseTokenPair(json, "sep", sep, error, where))
      return nullptr;
    p->pieces = {{cls}, {}, {sep}};
    return p;
  }
  if (type == "TemplateProcessing") {
    auto p = std::make_unique<TemplateProcessor>();
    auto single = json.find("single");
    auto special = json.find("special_tokens");
    if (single == json.end() || !single->is_array() || special == json.end() ||
        !special->is_object()) {
      error = where + " needs a list 'single' and an object 'special_tokens'";
      return nullptr;
    }
    for (const Json &item : *single) {
      if (item.is_object() && item.contains("Sequence")) {
        p->pieces.emplace_back();
        continue;
      }
      auto tok = item.is_object() ? item.find("SpecialToken") : item.end();
      if (tok == item.end() || !tok->is_object() || !tok->contains("id") ||
          !(*tok)["id"].is_string()) {
        error = where + ".single: items must be Sequence or SpecialToken";
        return nullptr;
      }
      std::string name = (*tok)["id"].get<std::string>();
      auto def = special->find(name);
      if (def == special->end() || !def->is_object() || !def->contains("ids") ||
          !(*def)["ids"].is_array() || (*def)["ids"].empty()) {
        error = where + ": special token '" + name + "' has no ids";
        return nullptr;
      }
      std::vector<int64_t> ids;
      for (const Json &id : (*def)["ids"]) {
        if (!id.is_number_unsigned()) {
          error = where + ": special token '" + name + "' has a bad id";
          return nullptr;
        }
        ids.push_back(id.get<int64_t>());
      }
      p->pieces.push_back(std::move(ids));
    }
    return p;
  }
  error = "unsupported post_processor type '" + type +
          "' (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
          "BertProcessing, Sequence)";
  return nullptr;
}

//===- Decoders -----------------------------------------------------------===//

namespace {

/// The inverse of byteLevelChar, by code point.
const std::unordered_map<char32_t, unsigned char> &byteLevelBytes() {
  static const auto *map = [] {
    auto *m = new std::unordered_map<char32_t, unsigned char>();
    for (int b = 0; b < 256; ++b) {
      size_t n;
      (*m)[decodeAt(byteLevelChar(static_cast<unsigned char>(b)), 0, n)] =
          static_cast<unsigned char>(b);
    }
    return m;
  }();
  return *map;
}

class ByteLevelDecoder : public Decoder {
public:
  void decodeChain(std::vector<std::string> &tokens) const override {
    const auto &bytes = byteLevelBytes();
    std::string all;
    for (const std::string &token : tokens) {
      std::string mapped;
      bool ok = true;
      for (size_t i = 0; ok && i < token.size();) {
        size_t n;
        auto it = bytes.find(decodeAt(token, i, n));
        ok = it != bytes.end();
        if (ok)
          mapped += static_cast<char>(it->second);
        i += n;
      }
      all += ok ? mapped : token;
    }
    tokens = {fromUtf8Lossy(all)};
  }
};

class MetaspaceDecoder : public Decoder {
public:
  std::string replacement;
  PrependScheme scheme = PrependScheme::Always;
  void decodeChain(std::vector<std::string> &tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] =
          replaceAll(tokens[i], replacement,
                     i == 0 && scheme != PrependScheme::Never ? "" : " ");
  }
};

class ByteFallbackDecoder : public Decoder {
public:
  void decodeChain(std::vector<std::string> &tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    size_t count = 0;
    auto flush = [&] {
      if (count == 0)
        return;
      if (isValidUtf8(bytes))
        out.push_back(bytes);
      else
        for (size_t i = 0; i < count; ++i)
          out.push_back("\xEF\xBF\xBD");
      bytes.clear();
      count = 0;
    };
    for (std::string &token : tokens) {
      int value = byteValue(token);
      if (value >= 0) {
        bytes += static_cast<char>(value);
        ++count;
        continue;
      }
      flush();
      out.push_back(std::move(token));
    }
    flush();
    tokens = std::move(out);
  }
  /// The byte of a "<0xXX>" token, or -1.
  static int byteValue(const std::string &token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>')
      return -1;
    int value = -1;
    auto [end, ec] =
        std::from_chars(token.data() + 3, token.data() + 5, value, 16);
    return ec == std::errc() && end == token.data() + 5 ? value : -1;
  }
};

class FuseDecoder : public Decoder {
public:
  void decodeChain(std::vector<std::string> &tokens) const override {
    std::string all;
    for (const std::string &t : tokens)
      all += t;
    tokens = {all};
  }
};

class StripDecoder : public Decoder {
public:
  std::string content;
  size_t start = 0, stop = 0;
  void decodeChain(std::vector<std::string> &tokens) const override {
    for (std::string &token : tokens) {
      size_t begin = 0, end = token.size();
      for (size_t i = 0;
           i < start && token.compare(begin, content.size(), content) == 0 &&
           begin + content.size() <= end;
           ++i)
        begin += content.size();
      for (size_t i = 0;
           i < stop && end >= begin + content.size() &&
           token.compare(end - content.size(), content.size(), content) == 0;
           ++i)
        end -= content.size();
      token = token.substr(begin, end - begin);
    }
  }
};

class ReplaceDecoder : public Decoder {
public:
  std::string pattern, content;
  void decodeChain(std::vector<std::string> &tokens) const override {
    for (std::string &token : tokens)
      token = replaceAll(token, pattern, content);
  }
};

class WordPieceDecoder : public Decoder {
public:
  std::string prefix = "##";
  bool cleanup = true;
  void decodeChain(std::vector<std::string> &tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string &token = tokens[i];
      if (i != 0) {
        if (token.compare(0, prefix.size(), prefix) == 0)
          token.erase(0, prefix.size());
        else
          token.insert(0, " ");
      }
      if (cleanup)
        for (auto [from, to] : cleanups)
          token = replaceAll(token, from, to);
    }
  }
  static constexpr std::pair<const char *, const char *> cleanups[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
};

class BpeDecoder : public Decoder {
public:
  std::string suffix = "</w>";
  void decodeChain(std::vector<std::string> &tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] =
          replaceAll(tokens[i], suffix, i + 1 == tokens.size() ? "" : " ");
  }
};

class SequenceDecoder : public Decoder {
public:
  std::vector<std::unique_ptr<Decoder>> parts;
  void decodeChain(std::vector<std::string> &tokens) const override {
    for (const auto &part : parts)
      part->decodeChain(tokens);
  }
};

} // namespace

std::unique_ptr<Decoder> Decoder::parse(const Json &json, std::string &error) {
  if (!json.is_object()) {
    error = "decoder must be an object";
    return nullptr;
  }
  std::string type = typeOf(json);
  std::string where = "decoder " + type;
  if (type == "Sequence") {
    auto seq = std::make_unique<SequenceDecoder>();
    return parseParts(json, "decoders", where, seq->parts, error)
               ? std::move(seq)
               : nullptr;
  }
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") {
    auto d = std::make_unique<MetaspaceDecoder>();
    if (!parseReplacement(json, d->replacement, error, where) ||
        !parsePrependScheme(json, d->scheme, error, where))
      return nullptr;
    return d;
  }
  if (type == "ByteFallback")
    return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse")
    return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    auto d = std::make_unique<StripDecoder>();
    if (!getString(json, "content", d->content, error, where))
      return nullptr;
    auto start = json.find("start"), stop = json.find("stop");
    if (start == json.end() || !start->is_number_unsigned() ||
        stop == json.end() || !stop->is_number_unsigned() ||
        d->content.empty()) {
      error = where + " needs a non-empty content and counts start, stop";
      return nullptr;
    }
    d->start = start->get<size_t>();
    d->stop = stop->get<size_t>();
    return d;
  }
  if (type == "Replace") {
    auto d = std::make_unique<ReplaceDecoder>();
    bool isRegex;
    if (!getPattern(json, d->pattern, isRegex, error, where) ||
        !getString(json, "content", d->content, error, where))
      return nullptr;
    if (isRegex) {
      error = "decoder Replace: regex pattern '" + d->pattern +
              "' is not supported (only String patterns)";
      return nullptr;
    }
    return d;
  }
  if (type == "WordPiece") {
    auto d = std::make_unique<WordPieceDecoder>();
    auto prefix = json.find("prefix");
    if (prefix != json.end() && prefix->is_string())
      d->prefix = prefix->get<std::string>();
    d->cleanup = getBool(json, "cleanup", true);
    return d;
  }
  if (type == "BPEDecoder") {
    auto d = std::make_unique<BpeDecoder>();
    auto suffix = json.find("suffix");
    if (suffix != json.end() && suffix->is_string())
      d->suffix = suffix->get<std::string>();
    return d;
  }
  error = "unsupported decoder type '" + type +
          "' (supported: Sequence, ByteLevel, Metaspace, ByteFallback, Fuse, "
          "Strip, Replace, WordPiece, BPEDecoder)";
  return nullptr;
}

const std::string &byteLevelChar(unsigned char byte) {
  // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for
  // themselves, the rest for U+0100 onwards, in byte order.
  static const std::string *table = [] {
    auto *t = new std::string[256];
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      appendUtf8(t[b], printable ? static_cast<char32_t>(b) : next++);
    }
    return t;
  }();
  return table[byte];
}

} // namespace anvil::tokenizer

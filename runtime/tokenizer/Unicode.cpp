//===- Unicode.cpp - UTF-8 and character classes for the tokenizer -------===//

#include "runtime/tokenizer/Unicode.h"

#include <cstdlib>
#include <utf8proc.h>

namespace anvil::tokenizer {

namespace {

/// The length of the well-formed prefix of the sequence at `pos` (Unicode
/// Table 3-7), and whether it is a complete character.
size_t wellFormedPrefix(std::string_view s, size_t pos, bool &complete) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(pos);
  complete = false;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 < 0x80) {
    complete = true;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0)
      lo = 0xA0;
    if (b0 == 0xED)
      hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0)
      lo = 0x90;
    if (b0 == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  size_t got = 1;
  for (size_t k = 0; k < need; ++k) {
    if (pos + got >= s.size())
      return got;
    unsigned char b = byte(pos + got);
    if (b < lo || b > hi)
      return got;
    lo = 0x80;
    hi = 0xBF;
    ++got;
  }
  complete = true;
  return got;
}

utf8proc_category_t category(char32_t c) {
  return static_cast<utf8proc_category_t>(
      utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

} // namespace

bool isValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    bool complete;
    size_t n = wellFormedPrefix(text, i, complete);
    if (!complete)
      return false;
    i += n;
  }
  return true;
}

size_t utf8Length(unsigned char lead) {
  if (lead < 0xC0)
    return 1;
  if (lead < 0xE0)
    return 2;
  if (lead < 0xF0)
    return 3;
  return lead < 0xF8 ? 4 : 1;
}

char32_t decodeAt(std::string_view text, size_t pos, size_t &length) {
  auto b = [&](size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i]));
  };
  length = utf8Length(static_cast<unsigned char>(text[pos]));
  if (pos + length > text.size())
    length = 1;
  switch (length) {
  case 2:
    return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  case 3:
    return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  case 4:
    return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) |
           ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  default:
    return b(0);
  }
}

void appendUtf8(std::string &out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string fromUtf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    bool complete;
    size_t n = wellFormedPrefix(bytes, i, complete);
    if (complete) {
      out.append(bytes.substr(i, n));
    } else {
      out += "\xEF\xBF\xBD";
      n = n == 0 ? 1 : n;
    }
    i += n;
  }
  return out;
}

bool endsWithReplacement(std::string_view text) {
  return text.size() >= 3 && text.substr(text.size() - 3) == "\xEF\xBF\xBD";
}

bool isLetter(char32_t c) {
  switch (category(c)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
    return true;
  default:
    return false;
  }
}

bool isNumber(char32_t c) {
  auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL ||
         cat == UTF8PROC_CATEGORY_NO;
}

bool isWhitespace(char32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || c == 0x85)
    return true;
  auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
         cat == UTF8PROC_CATEGORY_ZP;
}

bool isAlphanumeric(char32_t c) { return isLetter(c) || isNumber(c); }

bool isMark(char32_t c) {
  auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
         cat == UTF8PROC_CATEGORY_ME;
}

bool isNonspacingMark(char32_t c) {
  return category(c) == UTF8PROC_CATEGORY_MN;
}

bool isWordChar(char32_t c) {
  return isLetter(c) || isMark(c) || category(c) == UTF8PROC_CATEGORY_ND ||
         category(c) == UTF8PROC_CATEGORY_PC;
}

bool isPunctuation(char32_t c) {
  switch (category(c)) {
  case UTF8PROC_CATEGORY_PC:
  case UTF8PROC_CATEGORY_PD:
  case UTF8PROC_CATEGORY_PS:
  case UTF8PROC_CATEGORY_PE:
  case UTF8PROC_CATEGORY_PI:
  case UTF8PROC_CATEGORY_PF:
  case UTF8PROC_CATEGORY_PO:
    return true;
  default:
    return false;
  }
}

std::string normalize(std::string_view text, NormalForm form) {
  int options = UTF8PROC_STABLE;
  switch (form) {
  case NormalForm::NFC:
    options |= UTF8PROC_COMPOSE;
    break;
  case NormalForm::NFD:
    options |= UTF8PROC_DECOMPOSE;
    break;
  case NormalForm::NFKC:
    options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    break;
  case NormalForm::NFKD:
    options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
    break;
  }
  utf8proc_uint8_t *result = nullptr;
  utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &result,
                   static_cast<utf8proc_option_t>(options));
  if (n < 0) // Not valid UTF-8: callers validate first.
    return std::string(text);
  std::string out(reinterpret_cast<char *>(result), static_cast<size_t>(n));
  std::free(result);
  return out;
}

std::string toLowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n;
    char32_t c = decodeAt(text, i, n);
    if (c == 0x130) {
      // The one unconditional multi-character lowercase (SpecialCasing.txt);
      // per character, as Rust's char::to_lowercase (no final-sigma rule).
      out += "i\xCC\x87";
    } else {
      appendUtf8(out, static_cast<char32_t>(
                          utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
    i += n;
  }
  return out;
}

} // namespace anvil::tokenizer

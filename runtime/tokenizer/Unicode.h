//===- Unicode.h - UTF-8 and character classes for the tokenizer -*- C++
//-*-===//
//
// UTF-8 decoding and encoding, Rust's from_utf8_lossy, and the character
// classes (Unicode general categories, from utf8proc) that the pre-tokenizer
// patterns and added-token rules of Hugging Face `tokenizers` use.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_UNICODE_H
#define ANVIL_RUNTIME_TOKENIZER_UNICODE_H

#include <cstddef>
#include <string>
#include <string_view>

namespace anvil::tokenizer {

/// Whether `text` is well-formed UTF-8 (no surrogates, overlongs or values
/// past U+10FFFF).
bool isValidUtf8(std::string_view text);

/// Decodes the character at `pos` of valid UTF-8 `text`; sets `length`.
char32_t decodeAt(std::string_view text, size_t pos, size_t &length);

/// Appends the UTF-8 of `c`.
void appendUtf8(std::string &out, char32_t c);

/// Byte length of the UTF-8 character that starts with `lead`, 1 for a stray
/// byte.
size_t utf8Length(unsigned char lead);

/// `bytes` as text, each maximal ill-formed subsequence replaced by U+FFFD,
/// as Rust's String::from_utf8_lossy (Unicode's "substitution of maximal
/// subparts").
std::string fromUtf8Lossy(std::string_view bytes);

/// Whether `text` ends inside, or with, a replacement character U+FFFD.
bool endsWithReplacement(std::string_view text);

// Character classes, as Oniguruma's and Rust's definitions.
bool isLetter(char32_t c);       // \p{L}
bool isNumber(char32_t c);       // \p{N}, Rust's char::is_numeric
bool isWhitespace(char32_t c);   // \s, Rust's char::is_whitespace (White_Space)
bool isAlphanumeric(char32_t c); // Rust's char::is_alphanumeric
bool isWordChar(char32_t c);     // \w: letters, marks, Nd, Pc
bool isPunctuation(char32_t c);  // \p{P}
bool isMark(char32_t c);         // \p{M}
bool isNonspacingMark(char32_t c); // \p{Mn}

enum class NormalForm { NFC, NFD, NFKC, NFKD };
/// `text` (valid UTF-8) in normal form `form`.
std::string normalize(std::string_view text, NormalForm form);
/// Full lowercase mapping of each character of `text`, as Rust's
/// char::to_lowercase (what tokenizers' Lowercase applies).
std::string toLowercase(std::string_view text);

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_UNICODE_H

//===- ParseNumbers.h - command-line numbers, checked -----------*- C++ -*-===//
//
// The tools' flags take whole numbers in a stated range; a value with
// trailing text, out of range or out of int64_t is refused, not clamped.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_COMMON_PARSENUMBERS_H
#define ANVIL_TOOLS_COMMON_PARSENUMBERS_H

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace anvil::tools {

/// `text` as a decimal integer in [min, max]; false (out untouched) when it
/// is empty, has trailing characters, overflows or lies outside the range.
inline bool parseInt(const std::string &text, int64_t min, int64_t max,
                     int64_t &out) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < min || v > max)
    return false;
  out = v;
  return true;
}

} // namespace anvil::tools

#endif // ANVIL_TOOLS_COMMON_PARSENUMBERS_H

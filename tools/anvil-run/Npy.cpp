//===- Npy.cpp - reading and writing numpy .npy files ---------------------===//
//
// Format (numpy's NEP 1): "\x93NUMPY", major, minor, header length (2 bytes
// in 1.0, 4 in 2.0/3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ended by '\n'. The header is read by a small
// single-pass parser (no regex, no recursion): exactly the three keys, each
// once, every dimension a non-negative decimal checked for overflow.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "RegularFile.h"

#include <cctype>
#include <cstring>
#include <string_view>

namespace anvil::npy {
namespace {

struct Descr {
  const char *text;
  anvil_dtype dtype;
};
// From the one dtype table; '|' marks one-byte types, which have no byte
// order. Types numpy cannot hold (4-bit, fp8) have no descriptor and are
// skipped. numpy has no bfloat16: ml_dtypes' bfloat16 arrays are saved as
// two-byte void ("<V2"), which is what this writes for bf16 too; "|V2" is
// read as well.
const Descr kDescrs[] = {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  {NPY, ANVIL_DTYPE_##ID},
#include "anvil/dtypes.def"
    {"|V2", ANVIL_DTYPE_BF16},
};

/// The dtype of a descr string; '=' (native order) reads as '<' here, the
/// only byte order this runtime runs on.
bool dtypeOf(std::string_view descr, anvil_dtype &dtype) {
  for (const Descr &d : kDescrs) {
    std::string_view text = d.text;
    if (text.empty())
      continue;
    if (descr == text || (descr.size() == text.size() && descr[0] == '=' &&
                          descr.substr(1) == text.substr(1))) {
      dtype = d.dtype;
      return true;
    }
  }
  return false;
}

/// `text` for a message, cut to a readable length (a header may hold a
/// 60000-character value).
std::string shown(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  return text.size() <= kMaxShown
             ? std::string(text)
             : std::string(text.substr(0, kMaxShown)) + "...";
}

/// A cursor over the header's dict literal. Each method consumes what it
/// recognizes and reports what it expected on failure.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text(text) {}

  void skipSpaces() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t'))
      ++pos;
  }
  bool atEnd() const { return pos == text.size(); }
  /// Consumes `c` (after spaces) if it is next.
  bool accept(char c) {
    skipSpaces();
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  /// A Python string literal in ' or " quotes, without escapes (numpy
  /// writes none in the three values it reads).
  bool string(std::string_view &out) {
    skipSpaces();
    if (pos >= text.size() || (text[pos] != '\'' && text[pos] != '"'))
      return false;
    char quote = text[pos++];
    size_t start = pos;
    while (pos < text.size() && text[pos] != quote && text[pos] != '\\')
      ++pos;
    if (pos >= text.size() || text[pos] != quote)
      return false;
    out = text.substr(start, pos - start);
    ++pos;
    return true;
  }
  /// A word: letters, digits, '_', '-', '+', '.' (True, 12, -3, 1e9, 5L):
  /// read whole so that what is not a number is reported as written.
  std::string_view word() {
    skipSpaces();
    size_t start = pos;
    while (pos < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[pos])) ||
            text[pos] == '_' || text[pos] == '-' || text[pos] == '+' ||
            text[pos] == '.'))
      ++pos;
    return text.substr(start, pos - start);
  }
  /// What follows the cursor, shortened, for messages.
  std::string context() const {
    std::string rest(text.substr(pos, 20));
    return rest.empty() ? "the end of the header" : "'" + rest + "'";
  }

private:
  std::string_view text;
  size_t pos = 0;
};

/// A dimension: decimal digits only, at most INT64_MAX.
bool parseDim(std::string_view word, int64_t &dim, std::string &why) {
  if (!word.empty() && word[0] == '-') {
    why = "dimension " + shown(word) + " is negative";
    return false;
  }
  uint64_t value = 0;
  for (char c : word) {
    if (c < '0' || c > '9') {
      why = "dimension '" + shown(word) + "' is not a decimal integer";
      return false;
    }
    unsigned digit = static_cast<unsigned>(c - '0');
    if (value > (uint64_t(INT64_MAX) - digit) / 10) {
      why = "dimension " + shown(word) + " is larger than 2^63 - 1";
      return false;
    }
    value = value * 10 + digit;
  }
  dim = static_cast<int64_t>(value);
  return true;
}

/// Parses the dict literal into `array`'s dtype and shape.
bool parseHeader(std::string_view header, Array &array, std::string &why) {
  HeaderParser p(header);
  if (!p.accept('{')) {
    why = "the header is not a dict: expected '{'";
    return false;
  }
  bool haveDescr = false, haveOrder = false, haveShape = false;
  for (;;) {
    if (p.accept('}'))
      break;
    std::string_view key;
    if (!p.string(key)) {
      why = "expected a quoted key or '}' at " + p.context();
      return false;
    }
    if (!p.accept(':')) {
      why = "expected ':' after '" + shown(key) + "'";
      return false;
    }
    if (key == "descr") {
      std::string_view descr;
      if (haveDescr || !p.string(descr)) {
        why = haveDescr ? "'descr' appears twice"
                        : "'descr' is not a quoted type string";
        return false;
      }
      if (!dtypeOf(descr, array.dtype)) {
        why = "dtype '" + shown(descr) +
              "' is not supported (little-endian numeric types only)";
        return false;
      }
      haveDescr = true;
    } else if (key == "fortran_order") {
      std::string_view value = p.word();
      if (haveOrder || (value != "True" && value != "False")) {
        why = haveOrder ? "'fortran_order' appears twice"
                        : "'fortran_order' is '" + shown(value) +
                              "', expected True or False";
        return false;
      }
      if (value == "True") {
        why = "only C-order arrays are supported (fortran_order is True)";
        return false;
      }
      haveOrder = true;
    } else if (key == "shape") {
      if (haveShape) {
        why = "'shape' appears twice";
        return false;
      }
      if (!p.accept('(')) {
        why = "'shape' is not a tuple: expected '(' at " + p.context();
        return false;
      }
      array.shape.clear();
      bool trailingComma = false;
      while (!p.accept(')')) {
        if (array.shape.size() == ANVIL_MAX_RANK) {
          why = "rank above " + std::to_string(ANVIL_MAX_RANK);
          return false;
        }
        int64_t dim = 0;
        std::string context = p.context();
        std::string_view word = p.word();
        if (word.empty()) {
          why = "expected a dimension in 'shape' at " + context;
          return false;
        }
        if (!parseDim(word, dim, why))
          return false;
        array.shape.push_back(dim);
        trailingComma = p.accept(',');
        if (!trailingComma && !p.accept(')')) {
          why = "expected ',' or ')' in 'shape' at " + p.context();
          return false;
        }
        if (!trailingComma)
          break;
      }
      // Python reads "(5)" as the number 5, not a tuple; numpy writes "(5,)".
      if (array.shape.size() == 1 && !trailingComma) {
        why = "'shape' (" + std::to_string(array.shape[0]) +
              ") is not a tuple: a rank-1 shape is written (" +
              std::to_string(array.shape[0]) + ",)";
        return false;
      }
      haveShape = true;
    } else {
      why = "unexpected key '" + shown(key) +
            "' (expected descr, fortran_order and shape)";
      return false;
    }
    if (!p.accept(',')) {
      if (p.accept('}'))
        break;
      why = "expected ',' or '}' at " + p.context();
      return false;
    }
  }
  // After the dict: only the padding and the final newline.
  p.skipSpaces();
  if (!p.accept('\n') || !p.atEnd()) {
    why = "the header does not end in spaces and a newline after the dict";
    return false;
  }
  if (!haveDescr || !haveOrder || !haveShape) {
    why = std::string("the header lacks '") +
          (!haveDescr   ? "descr"
           : !haveOrder ? "fortran_order"
                        : "shape") +
          "'";
    return false;
  }
  return true;
}

} // namespace

bool parse(const unsigned char *bytes, size_t size, const std::string &name,
           Array &array, std::string &error) {
  auto bad = [&](const std::string &why) {
    error = "'" + name + "' is not a usable .npy file: " + why;
    return false;
  };
  if (size < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
    return bad("no NUMPY magic");
  unsigned major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    return bad("format version " + std::to_string(major) + "." +
               std::to_string(minor) + " is unknown (expected 1.0, 2.0, 3.0)");
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = bytes[8] | (size_t(bytes[9]) << 8);
    headerStart = 10;
  } else {
    if (size < 12)
      return bad("truncated header");
    headerLength = bytes[8] | (size_t(bytes[9]) << 8) |
                   (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    headerStart = 12;
  }
  if (headerLength > kMaxHeaderBytes)
    return bad("header length " + std::to_string(headerLength) +
               " is above the limit of " + std::to_string(kMaxHeaderBytes));
  if (headerLength > size - headerStart)
    return bad("truncated header: it says " + std::to_string(headerLength) +
               " bytes, the file has " + std::to_string(size - headerStart));
  std::string_view header(reinterpret_cast<const char *>(bytes) + headerStart,
                          headerLength);
  for (char c : header)
    if (static_cast<unsigned char>(c) >= 0x80 ||
        (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t'))
      return bad("the header holds a byte that is not printable ASCII");
  std::string why;
  if (!parseHeader(header, array, why))
    return bad(why);
  // The data size, overflow-checked: a product of dims can exceed 2^64.
  uint64_t need = anvil_dtype_size(array.dtype);
  for (int64_t dim : array.shape) {
    if (dim != 0 && need > UINT64_MAX / static_cast<uint64_t>(dim))
      return bad("the shape's size in bytes overflows 64 bits");
    need *= static_cast<uint64_t>(dim);
  }
  size_t dataStart = headerStart + headerLength;
  if (size - dataStart != need)
    return bad("it holds " + std::to_string(size - dataStart) +
               " data bytes, its header says " + std::to_string(need));
  array.data.assign(bytes + dataStart, bytes + size);
  return true;
}

bool read(const std::string &path, Array &array, std::string &error) {
  std::vector<unsigned char> bytes;
  if (!tools::readRegularFile(path, bytes, kMaxFileBytes, error))
    return false;
  return parse(bytes.data(), bytes.size(), path, array, error);
}

bool write(const std::string &path, anvil_dtype dtype,
           const std::vector<int64_t> &shape, const void *data, size_t bytes,
           std::string &error) {
  const char *descr = nullptr;
  for (const Descr &d : kDescrs)
    if (d.dtype == dtype && *d.text && !descr)
      descr = d.text;
  if (!descr) {
    error = std::string("cannot write dtype ") + anvil_dtype_name(dtype);
    return false;
  }
  std::string dims; // "2, 3", or "5," for rank 1, as Python writes tuples
  for (size_t i = 0; i < shape.size(); ++i)
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    dims += ",";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  unsigned char prefix[10] = {0x93,
                              'N',
                              'U',
                              'M',
                              'P',
                              'Y',
                              1,
                              0,
                              static_cast<unsigned char>(header.size() & 0xff),
                              static_cast<unsigned char>(header.size() >> 8)};
  return tools::writeRegularFile(
      path,
      {{prefix, sizeof prefix}, {header.data(), header.size()}, {data, bytes}},
      error);
}

} // namespace anvil::npy

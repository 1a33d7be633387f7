//===- SentencePieceCharsMap.cpp - check a model's charsmaps -------------===//
//
// The trie walk here mirrors Darts-clone's DoubleArrayImpl::
// commonPrefixSearch (darts.h, as sentencepiece vendors it) and the blob
// layout sentencepiece's Normalizer::DecodePrecompiledCharsMap reads; see
// SentencePieceCharsMap.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceCharsMap.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace anvil::tokenizer {

namespace {

/// The matches one prefix search keeps (sentencepiece's normalizer.h,
/// kMaxTrieResultsSize).
constexpr int kMaxTrieResults = 32;

/// Larger charsmaps are refused: the check reads 256 units per unit, and
/// the models' own are about 240 KiB.
constexpr size_t kMaxCharsMapBytes = size_t(16) << 20;

// A Darts-clone unit (darts.h, DoubleArrayUnit).
bool hasLeaf(uint32_t unit) { return (unit >> 8 & 1) == 1; }
uint32_t value(uint32_t unit) { return unit & ((1u << 31) - 1); }
uint32_t label(uint32_t unit) { return unit & ((1u << 31) | 0xff); }
uint32_t offset(uint32_t unit) {
  return (unit >> 10) << ((unit & (1u << 9)) >> 6);
}

uint32_t readLe32(const char *at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = v << 8 | static_cast<uint8_t>(at[i]);
  return v;
}

/// The protobuf wire format, just enough to find length-delimited fields.
class WireReader {
public:
  explicit WireReader(std::string_view bytes) : rest(bytes) {}
  bool done() const { return rest.empty(); }

  bool varint(uint64_t &out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest.empty())
        return false;
      const uint8_t byte = static_cast<uint8_t>(rest.front());
      rest.remove_prefix(1);
      out |= uint64_t(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }

  /// The next field's number and wire type, and for wire type 2 its bytes;
  /// other fields are skipped. False at malformed bytes (and for groups,
  /// wire types 3 and 4, which no SentencePiece model uses).
  bool field(uint64_t &number, uint64_t &type, std::string_view &bytes) {
    // protobuf reads a tag as a 32-bit varint of at most 5 bytes, dropping
    // higher bits: a longer or larger tag could name field 3 there and
    // another field here, so it is refused (no writer emits one).
    uint64_t key = 0;
    const size_t before = rest.size();
    if (!varint(key) || before - rest.size() > 5 || key > 0xffffffffu)
      return false;
    number = key >> 3;
    type = key & 7;
    if (number == 0)
      return false;
    uint64_t length = 0;
    switch (type) {
    case 0:
      return varint(length);
    case 1:
      return skip(8);
    case 5:
      return skip(4);
    case 2:
      if (!varint(length) || length > rest.size())
        return false;
      bytes = rest.substr(0, size_t(length));
      rest.remove_prefix(size_t(length));
      return true;
    default:
      return false;
    }
  }

private:
  bool skip(size_t n) {
    if (n > rest.size())
      return false;
    rest.remove_prefix(n);
    return true;
  }
  std::string_view rest;
};

/// Calls f(number, bytes) for each length-delimited field of a protobuf
/// message, in order, until f returns false. Returns false when the
/// message is malformed (before or at the field it could not read).
template <class F> bool forEachBytesField(std::string_view message, F &&f) {
  WireReader reader(message);
  while (!reader.done()) {
    uint64_t number = 0, type = 0;
    std::string_view bytes;
    if (!reader.field(number, type, bytes))
      return false;
    if (type == 2 && !f(number, bytes))
      return true;
  }
  return true;
}

} // namespace

std::string checkPrecompiledCharsMap(std::string_view blob) {
  if (blob.empty())
    return "";
  if (blob.size() <= 4)
    return "the charsmap is shorter than its header";
  const uint64_t trieBytes = readLe32(blob.data());
  if (trieBytes > blob.size() - 4)
    return "the charsmap's trie is larger than the charsmap";
  if (blob.size() > kMaxCharsMapBytes)
    return "the charsmap is larger than 16 MiB";
  const char *trie = blob.data() + 4;
  const uint64_t units = trieBytes / 4;
  std::string_view normalized = blob.substr(size_t(4 + trieBytes));
  if (units == 0)
    return "the charsmap's trie is empty";
  auto unitAt = [&](uint64_t i) { return readLe32(trie + 4 * i); };
  // Every position commonPrefixSearch can stand at before reading a key
  // byte c (then it reads unit position ^ c, c in 0 .. 255), from the
  // root's: each must keep those 256 reads inside the trie.
  // leaves[at]: the most leaf transitions on a walk from the root to at
  // (-1: not reached). libsentencepiece 0.1.97 keeps the first
  // kMaxTrieResults matches of one prefix search but reads back as many
  // as the search counts, so no walk may pass more leaves than that; a
  // cycle through a leaf has no bound and raises the count past it.
  std::vector<int8_t> leaves(size_t(units), -1);
  std::vector<uint32_t> work;
  const uint32_t root = 0 ^ offset(unitAt(0));
  auto reach = [&](uint32_t at, int count) -> bool {
    if ((uint64_t(at) | 0xff) >= units || count > kMaxTrieResults)
      return false;
    if (leaves[at] < count) {
      leaves[at] = int8_t(count);
      work.push_back(at);
    }
    return true;
  };
  if (!reach(root, 0))
    return "the charsmap's trie root points outside the trie";
  while (!work.empty()) {
    const uint32_t at = work.back();
    work.pop_back();
    const int count = leaves[at];
    for (uint32_t c = 0; c < 256; ++c) {
      const uint32_t unit = unitAt(at ^ c);
      if (label(unit) != c)
        continue;
      const uint32_t next = (at ^ c) ^ offset(unit);
      if (hasLeaf(unit)) {
        if (next >= units)
          return "a charsmap trie leaf lies outside the trie";
        const uint32_t v = value(unitAt(next));
        if (v >= normalized.size() ||
            !std::memchr(normalized.data() + v, 0, normalized.size() - v))
          return "a charsmap rule's replacement lies outside the charsmap";
      }
      const int nextCount = count + (hasLeaf(unit) ? 1 : 0);
      if (nextCount > kMaxTrieResults)
        return "a charsmap input can match more than 32 rules";
      if (!reach(next, nextCount))
        return "a charsmap trie node points outside the trie";
    }
  }
  return "";
}

CharsMapVerdict checkSentencePieceCharsMaps(std::string_view modelProto,
                                            std::string &why) {
  why.clear();
  bool specsWellFormed = true;
  const bool modelWellFormed = forEachBytesField(
      modelProto, [&](uint64_t number, std::string_view spec) {
        if (number != 3 && number != 5)
          return true;
        // A NormalizerSpec (3) or the denormalizer's (5).
        specsWellFormed = forEachBytesField(
            spec, [&](uint64_t specNumber, std::string_view blob) {
              if (specNumber != 2)
                return true;
              why = checkPrecompiledCharsMap(blob);
              if (why.empty())
                return true;
              why = (number == 3 ? "normalizer: " : "denormalizer: ") + why;
              return false;
            });
        return specsWellFormed && why.empty();
      });
  if (!why.empty())
    return CharsMapVerdict::Unsafe;
  if (!modelWellFormed || !specsWellFormed) {
    why = "not a well-formed protobuf message";
    return CharsMapVerdict::NotProtobuf;
  }
  return CharsMapVerdict::Safe;
}

} // namespace anvil::tokenizer

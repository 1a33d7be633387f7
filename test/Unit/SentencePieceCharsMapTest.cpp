//===- SentencePieceCharsMapTest.cpp - charsmap checks before sentencepiece
//===//
//
// checkPrecompiledCharsMap on hand-built Darts-clone tries (one rule, "a"
// -> "b", then each way of breaking it), the protobuf walk that finds the
// charsmaps in a ModelProto, and Tokenizer::load on the fuzzed model that
// crashed libsentencepiece (test/Fuzz/Inputs/sentencepiece-charsmap-oob.model).
// That real trained models (nmt_nfkc charsmaps) still load is
// test/Tokenizer/compare-hf.test's, which encodes with them.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceCharsMap.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace anvil::tokenizer;

namespace {

void putLe32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(char(v >> (8 * i) & 0xff));
}

/// A charsmap blob: the header, the units, the replacement bytes.
std::string blobOf(const std::vector<uint32_t> &units,
                   const std::string &normalized) {
  std::string blob;
  putLe32(blob, uint32_t(4 * units.size()));
  for (uint32_t u : units)
    putLe32(blob, u);
  return blob + normalized;
}

/// Darts-clone units for one rule, "a" -> "b": the root block (units
/// 0-255, the root's offset 0) holds 'a' at 0x61, flagged as having a leaf
/// and offset 256, so its child block is 256-511 and the leaf's value
/// unit sits at 0x61 ^ 256; its value 0 indexes "b\0".
std::vector<uint32_t> oneRule() {
  std::vector<uint32_t> units(512, 0);
  units[0x61] = (256u << 10) | (1u << 8) | 0x61;
  units[0x61 ^ 256] = (1u << 31) | 0;
  return units;
}

TEST(SentencePieceCharsMap, AcceptsAWellFormedTrie) {
  EXPECT_EQ(checkPrecompiledCharsMap(""), "");
  EXPECT_EQ(checkPrecompiledCharsMap(blobOf(oneRule(), std::string("b\0", 2))),
            "");
}

/// Whether checkPrecompiledCharsMap refuses `blob` saying `reason`.
::testing::AssertionResult refuses(const std::string &blob,
                                   const std::string &reason) {
  const std::string why = checkPrecompiledCharsMap(blob);
  if (why.find(reason) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected '" << reason << "', got '" << why << "'";
}

TEST(SentencePieceCharsMap, RejectsEachWayOfLeavingTheBlob) {
  const std::string b(std::string("b\0", 2));
  EXPECT_TRUE(refuses("abc", "shorter than its header"));
  std::string tooBig = blobOf(oneRule(), b);
  tooBig[1] = char(0x7f); // the trie size far past the blob
  EXPECT_TRUE(refuses(tooBig, "trie is larger"));
  // The trie size 2 bytes short of the blob's end: past it once the
  // header's 4 bytes are counted.
  std::string justPast = blobOf(oneRule(), b);
  const uint32_t size = uint32_t(justPast.size() - 2);
  for (int i = 0; i < 4; ++i)
    justPast[i] = char(size >> (8 * i) & 0xff);
  EXPECT_TRUE(refuses(justPast, "trie is larger"));
  // Fewer units than the root block: reading root ^ 0xff leaves the trie.
  EXPECT_TRUE(refuses(blobOf(std::vector<uint32_t>(200, 0), b), "root"));
  std::vector<uint32_t> units = oneRule();
  units[0] = 4096u << 10; // the root's block far past the end
  EXPECT_TRUE(refuses(blobOf(units, b), "root"));
  units = oneRule();
  units[0x61] = (4096u << 10) | (1u << 8) | 0x61; // the leaf past the end
  EXPECT_TRUE(refuses(blobOf(units, b), "leaf lies outside"));
  units = oneRule();
  units[0x61 ^ 256] = (1u << 31) | 7; // the replacement past the strings
  EXPECT_TRUE(refuses(blobOf(units, b), "replacement lies outside"));
  // The replacement without its NUL (strlen would run on).
  EXPECT_TRUE(refuses(blobOf(oneRule(), "b"), "replacement lies outside"));
  // A child that is not a leaf but whose block is out of range.
  units = oneRule();
  units[0x62] = (8192u << 10) | 0x62;
  EXPECT_TRUE(refuses(blobOf(units, b), "node points outside"));
  // After "a", another 'a' (unit 0x161 ^ 0x61) with a leaf back to the
  // same node: "aaa..." matches a rule at every byte, more than the 32
  // results libsentencepiece keeps.
  units = oneRule();
  units[0x161 ^ 0x61] = (0x61u << 10) | (1u << 8) | 0x61;
  EXPECT_TRUE(refuses(blobOf(units, b), "more than 32 rules"));
}

/// A length-delimited protobuf field.
std::string field(int number, const std::string &bytes) {
  std::string out;
  auto varint = [&](uint64_t v) {
    do {
      out.push_back(char((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
      v >>= 7;
    } while (v);
  };
  varint(uint64_t(number) << 3 | 2);
  varint(bytes.size());
  return out + bytes;
}

TEST(SentencePieceCharsMap, FindsTheCharsMapsInAModelProto) {
  const std::string good = blobOf(oneRule(), std::string("b\0", 2));
  std::vector<uint32_t> units = oneRule();
  units[0x61 ^ 256] = (1u << 31) | 7;
  const std::string bad = blobOf(units, std::string("b\0", 2));
  std::string why;
  // A piece (field 1), the normalizer spec (3) with a name (1) and charsmap.
  std::string model =
      field(1, field(1, "a")) + field(3, field(1, "nmt_nfkc") + field(2, good));
  EXPECT_EQ(checkSentencePieceCharsMaps(model, why), CharsMapVerdict::Safe);
  EXPECT_EQ(checkSentencePieceCharsMaps(model + field(3, field(2, bad)), why),
            CharsMapVerdict::Unsafe);
  EXPECT_NE(why.find("normalizer"), std::string::npos);
  EXPECT_EQ(checkSentencePieceCharsMaps(model + field(5, field(2, bad)), why),
            CharsMapVerdict::Unsafe);
  EXPECT_NE(why.find("denormalizer"), std::string::npos);
  // A tag protobuf reads as field 3 (5 bytes, the bits past 32 dropped)
  // is refused, not skipped as some other field.
  const std::string longTag =
      std::string("\x9a\x80\x80\x80\x10", 5) + char(0) + model;
  EXPECT_EQ(checkSentencePieceCharsMaps(longTag, why),
            CharsMapVerdict::NotProtobuf);
  // Cut inside a field: not protobuf.
  EXPECT_EQ(checkSentencePieceCharsMaps(model.substr(0, model.size() - 3), why),
            CharsMapVerdict::NotProtobuf);
}

TEST(SentencePieceCharsMap, TheFuzzedModelIsRefusedBeforeSentencePiece) {
  std::ifstream in(ANVIL_SOURCE_DIR
                   "/test/Fuzz/Inputs/sentencepiece-charsmap-oob.model",
                   std::ios::binary);
  ASSERT_TRUE(in) << "missing the fuzzed model";
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  std::unique_ptr<Tokenizer> tokenizer;
  anvil_status status = Tokenizer::load(bytes, tokenizer);
  ASSERT_NE(status, nullptr);
  const std::string message = anvil_status_get_message(status);
  anvil_status_free(status);
  EXPECT_NE(message.find("precompiled charsmap is malformed"),
            std::string::npos)
      << message;
}

} // namespace

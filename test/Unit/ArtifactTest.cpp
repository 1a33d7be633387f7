//===- ArtifactTest.cpp - the .anvil container: writing and checking ------===//

#include "anvil/artifact.h"

#include <cstring>
#include <gtest/gtest.h>
#include <string>

using namespace anvil::artifact;

namespace {

struct Sample {
  std::string manifest = R"({"entry_points": []})";
  std::string code = "\x7f"
                     "ELF pretend shared object";
  std::vector<unsigned char> weights = std::vector<unsigned char>(10000);
  std::vector<unsigned char> file;

  Sample() {
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i] = static_cast<unsigned char>(i * 7);
    std::string error;
    bool ok = writeArtifact(
        "cpu",
        {{SectionKind::Manifest, "manifest", manifest.data(), manifest.size()},
         {SectionKind::Code, "code", code.data(), code.size()},
         {SectionKind::Weights, "weights", weights.data(), weights.size(),
          kPageAlignment}},
        file, error);
    EXPECT_TRUE(ok) << error;
  }

  std::optional<ArtifactView> parse(std::string &error,
                                    ParseOptions options = {}) const {
    return ArtifactView::parse(file.data(), file.size(), options, error);
  }
};

TEST(Artifact, Crc32cMatchesTheStandardCheckValue) {
  // The CRC-32C catalogue's check value for "123456789".
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  // Chaining over pieces equals one pass.
  EXPECT_EQ(crc32c("6789", 4, crc32c("12345", 5)), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  EXPECT_EQ(crc32cPortable("123456789", 9), 0xE3069283u);
  // The hardware path (when present) agrees with the portable one on
  // lengths that exercise both its 8-byte and its tail loop.
  std::string data;
  for (int i = 0; i < 1000; ++i)
    data.push_back(static_cast<char>(i * 31 + 7));
  for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 999, 1000})
    EXPECT_EQ(crc32c(data.data(), n), crc32cPortable(data.data(), n)) << n;
}

TEST(Artifact, RoundTrip) {
  Sample s;
  std::string error;
  auto view = s.parse(error, {true, "cpu"});
  ASSERT_TRUE(view) << error;
  EXPECT_EQ(view->target(), "cpu");
  ASSERT_EQ(view->sections().size(), 3u);
  const SectionView *manifest = view->find(SectionKind::Manifest);
  ASSERT_TRUE(manifest);
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(manifest->data),
                        manifest->size),
            s.manifest);
  const SectionView *weights = view->find(SectionKind::Weights);
  ASSERT_TRUE(weights);
  EXPECT_EQ((weights->data - s.file.data()) % kPageAlignment, 0u);
  EXPECT_EQ(0, std::memcmp(weights->data, s.weights.data(), s.weights.size()));
  EXPECT_EQ(view->find(SectionKind::Tokenizer), nullptr);
}

TEST(Artifact, EveryTruncationIsRejected) {
  Sample s;
  for (size_t length = 0; length < s.file.size(); ++length) {
    std::string error;
    EXPECT_FALSE(ArtifactView::parse(s.file.data(), length, {}, error))
        << length;
    EXPECT_FALSE(error.empty());
  }
  std::string error;
  ArtifactView::parse(s.file.data(), s.file.size() - 1, {}, error);
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST(Artifact, AFlippedByteInEachSectionNamesTheSection) {
  Sample s;
  std::string error;
  auto view = s.parse(error);
  ASSERT_TRUE(view);
  for (const SectionView &section : view->sections()) {
    Sample corrupt;
    size_t at = (section.data - s.file.data()) + section.size / 2;
    corrupt.file[at] ^= 0x40;
    std::string message;
    EXPECT_FALSE(corrupt.parse(message));
    std::string expected = std::string("the ") + sectionKindName(section.kind) +
                           " section '" + section.name +
                           "' is corrupted (checksum mismatch)";
    EXPECT_EQ(message, expected);
    // --no-verify skips section checksums (not the header's or table's).
    EXPECT_TRUE(corrupt.parse(message, {false, ""})) << message;
  }
}

TEST(Artifact, CorruptHeaderOrTableIsAlwaysDetected) {
  Sample s;
  for (size_t at = 0; at < sizeof(FileHeader) + 3 * sizeof(SectionEntry);
       ++at) {
    Sample corrupt;
    corrupt.file[at] ^= 0x01;
    std::string error;
    EXPECT_FALSE(corrupt.parse(error, {false, ""})) << "byte " << at;
  }
}

TEST(Artifact, WrongVersionAndTarget) {
  Sample s;
  FileHeader header;
  std::memcpy(&header, s.file.data(), sizeof(header));
  header.formatVersion = kFormatVersion + 1;
  header.headerChecksum = crc32c(&header, offsetof(FileHeader, headerChecksum));
  std::memcpy(s.file.data(), &header, sizeof(header));
  std::string error;
  EXPECT_FALSE(s.parse(error));
  EXPECT_EQ(error, "artifact format version 2 is not supported: this runtime "
                   "reads version 1; recompile the model");

  Sample t;
  EXPECT_FALSE(t.parse(error, {true, "cuda"}));
  EXPECT_EQ(error, "the artifact was built for target 'cpu' but is being "
                   "loaded for 'cuda'");
}

/// `file` with its header rewritten by `edit` and its checksums recomputed,
/// so that only the edited field is wrong.
template <typename Edit>
void rewriteHeader(std::vector<unsigned char> &file, Edit &&edit) {
  FileHeader header;
  std::memcpy(&header, file.data(), sizeof(header));
  edit(header);
  header.headerChecksum = crc32c(&header, offsetof(FileHeader, headerChecksum));
  std::memcpy(file.data(), &header, sizeof(header));
}

TEST(Artifact, ReservedFieldsMustBeZero) {
  std::string error;
  Sample flagged;
  rewriteHeader(flagged.file, [](FileHeader &h) { h.flags = 4; });
  EXPECT_FALSE(flagged.parse(error));
  EXPECT_EQ(error,
            "the artifact header's flags are 4 but are reserved and must be 0");

  for (size_t field :
       {offsetof(SectionEntry, reserved), offsetof(SectionEntry, reserved2)}) {
    Sample s;
    // The second section entry, 'code'.
    size_t at = sizeof(FileHeader) + sizeof(SectionEntry) + field;
    s.file[at] = 1;
    rewriteHeader(s.file, [&](FileHeader &h) {
      h.tableChecksum = crc32c(s.file.data() + sizeof(FileHeader),
                               h.sectionCount * sizeof(SectionEntry));
    });
    EXPECT_FALSE(s.parse(error));
    EXPECT_EQ(error, field == offsetof(SectionEntry, reserved)
                         ? "section 'code' has nonzero reserved fields (1, 0); "
                           "they must be 0"
                         : "section 'code' has nonzero reserved fields (0, 1); "
                           "they must be 0");
  }
}

// The format puts the table right after the header; a table elsewhere (the
// bytes between would be covered by no checksum) is refused.
TEST(Artifact, TheSectionTableFollowsTheHeader) {
  std::string error;
  for (uint64_t offset : {uint64_t(0), uint64_t(128), uint64_t(1) << 63}) {
    Sample moved;
    rewriteHeader(moved.file,
                  [&](FileHeader &h) { h.sectionTableOffset = offset; });
    EXPECT_FALSE(moved.parse(error)) << offset;
    EXPECT_EQ(error, "the artifact's section table is at offset " +
                         std::to_string(offset) +
                         " but must follow the header at offset 64");
  }
}

TEST(Artifact, ManifestBoundsAreCheckedWithoutRecursion) {
  std::string error;
  std::string deep(32, '[');
  deep += std::string(32, ']');
  EXPECT_TRUE(checkManifestBounds(deep.data(), deep.size(), error)) << error;
  deep = "[" + deep + "]";
  EXPECT_FALSE(checkManifestBounds(deep.data(), deep.size(), error));
  EXPECT_EQ(error, "the manifest nests deeper than 32 levels (at byte 32; "
                   "docs/security.md)");
  // Escaped quotes do not end a string; brackets in strings do not count.
  std::string quoted = "{\"a\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\": 1}";
  EXPECT_TRUE(checkManifestBounds(quoted.data(), quoted.size(), error))
      << error;
}

TEST(Artifact, NotAnArtifact) {
  std::string text = "hello, this is not an artifact at all, not even close";
  std::string error;
  EXPECT_FALSE(
      ArtifactView::parse(reinterpret_cast<const unsigned char *>(text.data()),
                          text.size(), {}, error));
  EXPECT_EQ(error, "not an Anvil artifact (no ANVIL header)");
}

TEST(Artifact, WriterRejectsBadInput) {
  std::vector<unsigned char> out;
  std::string error;
  std::string m = "{}";
  EXPECT_FALSE(writeArtifact("a-target-name-far-too-long",
                             {{SectionKind::Manifest, "m", m.data(), m.size()}},
                             out, error));
  EXPECT_FALSE(
      writeArtifact("cpu",
                    {{SectionKind::Manifest, "m", m.data(), m.size()},
                     {SectionKind::Manifest, "m2", m.data(), m.size()}},
                    out, error));
  EXPECT_EQ(error, "two manifest sections");
  // A file without a manifest can be written but is not loadable.
  ASSERT_TRUE(writeArtifact(
      "cpu", {{SectionKind::Code, "code", m.data(), m.size()}}, out, error));
  EXPECT_FALSE(ArtifactView::parse(out.data(), out.size(), {}, error));
  EXPECT_EQ(error, "the artifact has no manifest section");
}

} // namespace

// A section given as chunks (the compiler's weight section: each weight
// where it already lies) is written as zeros overlaid with the chunks,
// byte for byte what the contiguous section gives, checksum included.
TEST(Artifact, ChunkedSectionsMatchContiguousOnes) {
  const char a[] = "first", b[] = "second";
  std::vector<unsigned char> contiguous(10000, 0);
  std::memcpy(&contiguous[64], a, sizeof a);
  std::memcpy(&contiguous[9000], b, sizeof b);
  std::vector<unsigned char> expected, got;
  std::string error;
  const char manifestText[] = "{}";
  SectionInput manifest{SectionKind::Manifest, "manifest", manifestText, 2,
                        kMinAlignment,         {}};
  ASSERT_TRUE(writeArtifact("cpu",
                            {manifest,
                             {SectionKind::Weights,
                              "weights",
                              contiguous.data(),
                              contiguous.size(),
                              kPageAlignment,
                              {}}},
                            expected, error))
      << error;
  SectionInput chunked{SectionKind::Weights,
                       "weights",
                       nullptr,
                       contiguous.size(),
                       kPageAlignment,
                       {{64, a, sizeof a}, {9000, b, sizeof b}}};
  ASSERT_TRUE(writeArtifact("cpu", {manifest, chunked}, got, error)) << error;
  EXPECT_EQ(got, expected);
  ParseOptions options;
  ASSERT_TRUE(ArtifactView::parse(got.data(), got.size(), options, error))
      << error;

  // Chunks out of order, overlapping or past the end are refused.
  for (std::vector<SectionChunk> bad :
       {std::vector<SectionChunk>{{9000, b, sizeof b}, {64, a, sizeof a}},
        std::vector<SectionChunk>{{64, a, sizeof a}, {66, b, sizeof b}},
        std::vector<SectionChunk>{{9998, b, sizeof b}}}) {
    chunked.chunks = bad;
    std::vector<unsigned char> out;
    error.clear();
    EXPECT_FALSE(writeArtifact("cpu", {manifest, chunked}, out, error));
    EXPECT_EQ(error, "section 'weights' has chunks out of place");
  }
}

// A chunk produced by `fill` (piece by piece: this one spans three 1 MiB
// pieces) writes the same file as its bytes given whole.
TEST(Artifact, FilledChunksMatchDataChunks) {
  std::vector<unsigned char> bytes((5 << 19) + 3);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<unsigned char>(i * 13 + i / 251);
  const char manifestText[] = "{}";
  SectionInput manifest{SectionKind::Manifest, "manifest", manifestText, 2,
                        kMinAlignment,         {}};
  SectionInput weights{SectionKind::Weights, "weights",      nullptr,
                       bytes.size() + 128,   kPageAlignment, {}};
  weights.chunks = {{128, bytes.data(), bytes.size()}};
  std::vector<unsigned char> expected, got;
  std::string error;
  ASSERT_TRUE(writeArtifact("cpu", {manifest, weights}, expected, error))
      << error;
  size_t calls = 0;
  SectionChunk filled{128, nullptr, bytes.size()};
  filled.fill = [&](uint64_t from, void *out, size_t size) {
    ++calls;
    ASSERT_LE(from + size, bytes.size());
    std::memcpy(out, bytes.data() + from, size);
  };
  weights.chunks = {filled};
  ASSERT_TRUE(writeArtifact("cpu", {manifest, weights}, got, error)) << error;
  EXPECT_EQ(got, expected);
  EXPECT_EQ(calls, 6u); // three pieces, checksum then write
}

// A sink that fails (a full disk) fails the write with a message.
TEST(Artifact, FailingSinkIsReported) {
  const char data[] = "manifest";
  std::string error;
  EXPECT_FALSE(writeArtifact(
      "cpu",
      {{SectionKind::Manifest,
        "manifest",
        data,
        sizeof data,
        kMinAlignment,
        {}}},
      [](const void *, size_t) { return false; }, error));
  EXPECT_EQ(error, "cannot write the artifact");
}

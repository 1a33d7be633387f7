//===- LoaderChecksTest.cpp - hostile artifacts refused at load -----------===//
//
// Artifacts whose checksums are all right but whose content is not: the
// loader must refuse them with a message naming the entry point and field
// before any entry point runs. The code section is the stand-in
// Inputs/add_kernel.c, whose table records what each entry point was
// "compiled" for (main: a, b f32[2x3] -> y f32[2x3], no arena, 24 bytes of
// weights; scaled: S in [1, 8], x f32[Sx4] -> y f32[Sx4]).
//
//===----------------------------------------------------------------------===//

#include "StandInArtifact.h"

#include "anvil/artifact.h"
#include "anvil/limits.h"

#include <cstdio>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace anvil::artifact;
using namespace anvil::test;

namespace {

/// A manifest with the one entry point `entry` (JSON).
std::string manifestWith(const std::string &entry) {
  return R"({"manifest_version": 2, "target": {"name": "cpu"},
             "entry_points": [)" +
         entry + "]}";
}

const char *kMain = R"({"name": "main", "arena_bytes": 0,
  "inputs": [{"name": "a", "dtype": "f32", "shape": [2, 3]},
             {"name": "b", "dtype": "f32", "shape": [2, 3]}],
  "outputs": [{"name": "y", "dtype": "f32", "shape": [2, 3]}]})";

/// `text` with its first `from` replaced by `to`.
std::string replaced(std::string text, const std::string &from,
                     const std::string &to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

/// The message of opening a stand-in artifact with the entry `entry`, and
/// its status code in `code`.
std::string openMessage(const std::string &entry,
                        anvil_status_code *code = nullptr) {
  anvil_model *model = nullptr;
  std::string message =
      openModel(standInArtifact(manifestWith(entry)), nullptr, &model, code);
  anvil_model_release(model);
  return message;
}

TEST(LoaderChecks, TheUnchangedManifestLoads) {
  EXPECT_EQ(openMessage(kMain), "");
}

TEST(LoaderChecks, AManifestSmallerThanTheCodeIsRefused) {
  anvil_status_code code;
  EXPECT_EQ(openMessage(replaced(kMain, "[2, 3]", "[1, 3]"), &code),
            "entry point 'main': input 'a' is f32[1x3] in the manifest but "
            "the code was compiled for f32[2x3]");
  EXPECT_EQ(code, ANVIL_INVALID_ARTIFACT);
  EXPECT_EQ(
      openMessage(replaced(kMain, R"("y", "dtype": "f32", "shape": [2, 3])",
                           R"("y", "dtype": "f32", "shape": [2, 2])")),
      "entry point 'main': output 'y' is f32[2x2] in the manifest but "
      "the code was compiled for f32[2x3]");
  EXPECT_EQ(
      openMessage(replaced(kMain, R"("dtype": "f32")", R"("dtype": "f16")")),
      "entry point 'main': input 'a' is f16[2x3] in the manifest but "
      "the code was compiled for f32[2x3]");
  EXPECT_EQ(openMessage(replaced(kMain, "[2, 3]", "[6]")),
            "entry point 'main': input 'a' is f32[6] in the manifest but "
            "the code was compiled for f32[2x3]");
  EXPECT_EQ(
      openMessage(replaced(kMain,
                           R"({"name": "b", "dtype": "f32", "shape": [2, 3]})",
                           R"({"name": "b", "dtype": "f32", "shape": [2, 3]},
                              {"name": "c", "dtype": "f32", "shape": [2, 3]})")),
      "entry point 'main': the number of inputs is 3 in the manifest but the "
      "code was compiled for 2");
}

TEST(LoaderChecks, AMalformedRecordIsRefused) {
  for (const char *name : {"bad_states", "bad_inputs"})
    EXPECT_EQ(openMessage(std::string(R"({"name": ")") + name +
                          R"(", "inputs": [], "outputs": []})"),
              std::string("entry point '") + name +
                  "': the code section's record of what it was compiled "
                  "for is malformed");
}

TEST(LoaderChecks, TheArenaMustBeWhatTheCodeUses) {
  EXPECT_EQ(openMessage(
                replaced(kMain, R"("arena_bytes": 0)", R"("arena_bytes": 16)")),
            "entry point 'main': arena_bytes is 16 in the manifest but the "
            "code was compiled for 0");
  // 2^64 - 1 used to round up to a 0-byte arena.
  EXPECT_EQ(openMessage(replaced(kMain, R"("arena_bytes": 0)",
                                 R"("arena_bytes": 18446744073709551615)")),
            "entry point 'main': arena_bytes is 18446744073709551615, more "
            "than the runtime's limit of 281474976710656 bytes "
            "(docs/security.md)");
}

TEST(LoaderChecks, SizeBoundsMustBeWhatTheCodeWasPlannedFor) {
  const std::string scaled = R"({"name": "scaled", "arena_bytes": 0,
    "sizes": [{"name": "S", "min": 1, "max": 8}],
    "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
    "outputs": [{"name": "y", "dtype": "f32", "shape": ["S", 4]}]})";
  EXPECT_EQ(openMessage(scaled), "");
  EXPECT_EQ(openMessage(replaced(scaled, R"("max": 8)", R"("max": 800)")),
            "entry point 'scaled': size 'S' is [1, 800] in the manifest but "
            "the code was compiled for [1, 8]");
  // A bounded dim made static (or the reverse) is a different signature.
  EXPECT_EQ(
      openMessage(replaced(scaled, R"("y", "dtype": "f32", "shape": ["S", 4])",
                           R"("y", "dtype": "f32", "shape": [8, 4])")),
      "entry point 'scaled': output 'y' is f32[8x4] in the manifest but "
      "the code was compiled for f32[Sx4]");
}

TEST(LoaderChecks, AShortWeightsSectionIsRefused) {
  using namespace anvil::artifact;
  std::string manifest = manifestWith(kMain);
  std::vector<unsigned char> code = readBytes(ANVIL_TEST_ADD_KERNEL);
  for (size_t weightBytes : {size_t(0), size_t(20), size_t(28)}) {
    std::vector<unsigned char> weights(weightBytes), file;
    std::vector<SectionInput> sections = {
        {SectionKind::Manifest, "manifest", manifest.data(), manifest.size()},
        {SectionKind::Code, "code", code.data(), code.size()}};
    if (weightBytes)
      sections.push_back({SectionKind::Weights, "weights", weights.data(),
                          weights.size(), kPageAlignment});
    std::string error;
    ASSERT_TRUE(writeArtifact("cpu", sections, file, error)) << error;
    anvil_model *model = nullptr;
    EXPECT_EQ(openModel(file, nullptr, &model),
              "entry point 'main': the weights section has " +
                  std::to_string(weightBytes) +
                  " bytes but the code was compiled for 24");
    EXPECT_EQ(model, nullptr);
  }
}

TEST(LoaderChecks, TensorsBeyondTheLimitAreRefusedWithTheirSize) {
  // 2^62 x 4 floats: the byte size overflows.
  EXPECT_EQ(openMessage(replaced(kMain, "[2, 3]", "[4611686018427387904, 4]")),
            "entry point 'main' inputs: tensor 'a' has a byte size that "
            "overflows 64 bits, more than the runtime's limit of "
            "281474976710656 bytes per tensor (docs/security.md)");
  // 2^40 x 128 floats: 2^49 bytes.
  EXPECT_EQ(openMessage(replaced(kMain, "[2, 3]", "[1099511627776, 128]")),
            "entry point 'main' inputs: tensor 'a' needs 562949953421312 "
            "bytes, more than the runtime's limit of 281474976710656 bytes "
            "per tensor (docs/security.md)");
  // A bounded dim counts at its maximum.
  EXPECT_EQ(openMessage(R"({"name": "scaled",
    "sizes": [{"name": "S", "min": 1, "max": 9223372036854775807}],
    "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
    "outputs": []})"),
            "entry point 'scaled' inputs: tensor 'x' has a byte size that "
            "overflows 64 bits, more than the runtime's limit of "
            "281474976710656 bytes per tensor (docs/security.md)");
}

TEST(LoaderChecks, ADeeplyNestedManifestIsRefusedWithoutRecursing) {
  const size_t depth = 100000;
  std::string deep = R"({"manifest_version": 2, "target": {"name": "cpu"},
                         "entry_points": [], "model": )" +
                     std::string(depth, '[') + std::string(depth, ']') + "}";
  anvil_model *model = nullptr;
  anvil_status_code code;
  std::string message =
      openModel(standInArtifact(deep), nullptr, &model, &code);
  EXPECT_EQ(
      message.rfind("the manifest nests deeper than 32 levels (at byte ", 0),
      0u)
      << message;
  EXPECT_EQ(code, ANVIL_INVALID_ARTIFACT);
  // Brackets inside strings are not nesting.
  std::string quoted = R"({"manifest_version": 2, "target": {"name": "cpu"},
    "entry_points": [], "model": {"note": ")" +
                       std::string(100, '[') + R"(\"[[["}})";
  EXPECT_EQ(openModel(standInArtifact(quoted), nullptr, &model), "");
  anvil_model_release(model);
}

TEST(LoaderChecks, AnOversizedManifestIsRefused) {
  std::string big = R"({"manifest_version": 2, "target": {"name": "cpu"},
    "entry_points": [], "model": {"note": ")" +
                    std::string(anvil::limits::kMaxManifestBytes, 'x') +
                    R"("}})";
  anvil_model *model = nullptr;
  std::string message = openModel(standInArtifact(big), nullptr, &model);
  EXPECT_EQ(message.rfind("the manifest section has ", 0), 0u) << message;
  EXPECT_NE(message.find("more than the limit of 1048576"), std::string::npos)
      << message;
}

/// The message of opening `path` as an artifact file.
std::string openFileMessage(const std::string &path) {
  anvil_model *model = nullptr;
  anvil_status status = anvil_model_open_file(path.c_str(), nullptr, &model);
  anvil_model_release(model);
  return takeMessage(status);
}

// None of these may block (a FIFO with no writer), read forever (/dev/zero)
// or abort (a directory).
TEST(LoaderChecks, FilesThatAreNotRegularAreRefused) {
  EXPECT_EQ(openFileMessage("/dev/zero"),
            "'/dev/zero' is a device, not a regular file; an artifact is a "
            "regular file");
  std::string dir = ::testing::TempDir();
  EXPECT_EQ(openFileMessage(dir), "'" + dir +
                                      "' is a directory, not a regular file; "
                                      "an artifact is a regular file");
  std::string fifo = dir + "loader-checks-fifo-" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(openFileMessage(fifo), "'" + fifo +
                                       "' is a FIFO, not a regular file; an "
                                       "artifact is a regular file");
  std::remove(fifo.c_str());
}

} // namespace

// State buffers (the paged KV pool) are part of the record: a manifest that
// claims one the code does not take is refused.
TEST(LoaderChecks, StatesMustBeWhatTheCodeTakes) {
  std::string entry = replaced(
      kMain, R"("outputs")",
      R"("states": [{"name": "pool", "dtype": "f32", "shape": [4, 16]}],
         "outputs")");
  EXPECT_EQ(openMessage(entry), "entry point 'main': the number of states is "
                                "1 in the manifest but the code was compiled "
                                "for 0");
}

// The paged decoder's "llm" object is input too: every field is checked
// when the artifact opens, not when an engine first reads it.
TEST(LoaderChecks, TheLlmObjectIsChecked) {
  const std::string good =
      R"("llm": {"entry": "main", "vocab_size": 64, "block_size": 16,
         "max_context": 128, "kv_heads": 2, "head_dim": 8, "num_pools": 2,
         "max_tokens_per_step": 32, "max_seqs_per_step": 4,
         "max_kv_blocks": 64, "eos_token_ids": [2]})";
  auto open = [&](const std::string &llm) {
    std::string manifest = manifestWith(kMain);
    manifest.insert(1, llm + ", ");
    anvil_model *model = nullptr;
    std::string message =
        openModel(standInArtifact(manifest), nullptr, &model, nullptr);
    anvil_model_release(model);
    return message;
  };
  EXPECT_EQ(open(good), "");
  EXPECT_EQ(open(replaced(good, R"("vocab_size": 64)", R"("vocab_size": 0)")),
            "the manifest's llm.vocab_size is missing or out of range [1, "
            "2147483648]");
  EXPECT_EQ(
      open(replaced(good, R"("max_context": 128)", R"("max_context": 100)")),
      "the manifest's llm.max_context is not a multiple of block_size");
  EXPECT_EQ(open(replaced(good, "[2]", "[64]")),
            "the manifest's llm.eos_token_ids holds an id outside the "
            "vocabulary");
  EXPECT_EQ(open(replaced(good, R"("entry": "main", )", "")),
            "the manifest's llm names no entry point");
}

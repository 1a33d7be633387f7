//===- ArtifactSignatureTest.cpp - Ed25519 signatures over artifacts ------===//

#include "anvil/anvil.h"
#include "anvil/artifact_signature.h"

#include <cstdio>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

#include <unistd.h>

using namespace anvil::artifact;

namespace {

struct Signed {
  std::string manifest = R"({"entry_points": []})";
  std::string code = "\x7f"
                     "ELF pretend shared object";
  std::vector<unsigned char> weights = std::vector<unsigned char>(5000, 7);
  std::vector<unsigned char> unsignedFile, signedFile;
  PublicKey publicKey;
  SecretKey secretKey;

  Signed() {
    std::string error;
    EXPECT_TRUE(writeArtifact(
        "cpu",
        {{SectionKind::Manifest, "manifest", manifest.data(), manifest.size()},
         {SectionKind::Code, "code", code.data(), code.size()},
         {SectionKind::Weights, "weights", weights.data(), weights.size(),
          kPageAlignment}},
        unsignedFile, error))
        << error;
    EXPECT_TRUE(generateSigningKey(publicKey, secretKey, error)) << error;
    signedFile = sign(unsignedFile, secretKey);
  }

  static std::vector<unsigned char> sign(const std::vector<unsigned char> &file,
                                         const SecretKey &key) {
    std::string error;
    auto view = parse(file, error);
    EXPECT_TRUE(view) << error;
    std::vector<unsigned char> out;
    EXPECT_TRUE(signArtifact(
        *view, key,
        [&](const void *data, size_t size) {
          auto *bytes = static_cast<const unsigned char *>(data);
          out.insert(out.end(), bytes, bytes + size);
          return true;
        },
        error))
        << error;
    return out;
  }

  static std::optional<ArtifactView>
  parse(const std::vector<unsigned char> &file, std::string &error) {
    return ArtifactView::parse(file.data(), file.size(), ParseOptions{}, error);
  }

  /// verifyArtifactSignature's result on `file`, "" when it passes.
  std::string verify(const std::vector<unsigned char> &file,
                     const PublicKey &key) const {
    std::string error;
    auto view = parse(file, error);
    if (!view)
      return "unparsable: " + error;
    return verifyArtifactSignature(*view, key, error) ? "" : error;
  }
};

TEST(ArtifactSignature, Sha256MatchesTheStandardTestVector) {
  // FIPS 180-2, appendix B.1.
  EXPECT_EQ(sha256Hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223"
                                 "b00361a396177a9cb410ff61f20015ad");
}

TEST(ArtifactSignature, SignedArtifactVerifiesAndKeepsItsSections) {
  Signed s;
  EXPECT_EQ(s.verify(s.signedFile, s.publicKey), "");
  std::string error;
  auto view = Signed::parse(s.signedFile, error);
  ASSERT_TRUE(view) << error;
  ASSERT_NE(view->find(SectionKind::Signature), nullptr);
  EXPECT_EQ(view->find(SectionKind::Signature)->size, kSignatureSectionSize);
  const SectionView *weights = view->find(SectionKind::Weights);
  ASSERT_NE(weights, nullptr);
  EXPECT_EQ(weights->size, s.weights.size());
  EXPECT_EQ(std::memcmp(weights->data, s.weights.data(), s.weights.size()), 0);
}

TEST(ArtifactSignature, UnsignedArtifactIsRefused) {
  Signed s;
  EXPECT_NE(s.verify(s.unsignedFile, s.publicKey).find("not signed"),
            std::string::npos);
}

TEST(ArtifactSignature, AnotherKeyIsRefusedByName) {
  Signed s;
  PublicKey otherPublic;
  SecretKey otherSecret;
  std::string error;
  ASSERT_TRUE(generateSigningKey(otherPublic, otherSecret, error));
  EXPECT_NE(s.verify(s.signedFile, otherPublic).find("signed by another key"),
            std::string::npos);
  // Re-signed by another key: the old key no longer verifies it.
  auto resigned = Signed::sign(s.signedFile, otherSecret);
  EXPECT_EQ(s.verify(resigned, otherPublic), "");
  EXPECT_NE(s.verify(resigned, s.publicKey), "");
}

TEST(ArtifactSignature, AChangedSectionIsRefusedEvenWithItsChecksumRedone) {
  Signed s;
  // Rebuild the artifact from changed sections: every CRC is right, so
  // only the signature (copied over from the signed file) can tell.
  std::string error;
  auto view = Signed::parse(s.signedFile, error);
  ASSERT_TRUE(view) << error;
  for (SectionKind changed :
       {SectionKind::Manifest, SectionKind::Code, SectionKind::Weights}) {
    std::vector<std::vector<unsigned char>> copies;
    std::vector<SectionInput> sections;
    for (const SectionView &section : view->sections())
      copies.emplace_back(section.data, section.data + section.size);
    for (size_t i = 0; i < copies.size(); ++i) {
      const SectionView &section = view->sections()[i];
      if (section.kind == changed)
        copies[i][copies[i].size() / 2] ^= 1;
      sections.push_back({section.kind, section.name, copies[i].data(),
                          copies[i].size(), section.alignment});
    }
    std::vector<unsigned char> tampered;
    ASSERT_TRUE(writeArtifact("cpu", sections, tampered, error)) << error;
    EXPECT_NE(s.verify(tampered, s.publicKey).find("does not match"),
              std::string::npos)
        << sectionKindName(changed);
  }
}

TEST(ArtifactSignature, KeyFilesRoundTripAndRefuseTheOtherKind) {
  Signed s;
  std::string dir =
      testing::TempDir() + "anvil-key-test-" + std::to_string(::getpid());
  std::string error;
  std::remove((dir + ".key").c_str());
  ASSERT_TRUE(writeSecretKeyFile(dir + ".key", s.secretKey, error)) << error;
  ASSERT_TRUE(writePublicKeyFile(dir + ".pub", s.publicKey, error)) << error;
  // A secret key file is never overwritten.
  EXPECT_FALSE(writeSecretKeyFile(dir + ".key", s.secretKey, error));
  PublicKey publicKey;
  SecretKey secretKey;
  ASSERT_TRUE(readPublicKeyFile(dir + ".pub", publicKey, error)) << error;
  ASSERT_TRUE(readSecretKeyFile(dir + ".key", secretKey, error)) << error;
  EXPECT_EQ(publicKey, s.publicKey);
  EXPECT_EQ(secretKey, s.secretKey);
  EXPECT_FALSE(readPublicKeyFile(dir + ".key", publicKey, error));
  EXPECT_NE(error.find("holds an anvil-ed25519-secret-key"), std::string::npos)
      << error;
  EXPECT_FALSE(readPublicKeyFile("/dev/zero", publicKey, error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  std::remove((dir + ".key").c_str());
  std::remove((dir + ".pub").c_str());
}

// The C API's load option: the check runs before the loader looks at the
// manifest or the code (here a pretend shared object that the loader would
// refuse), so a refused signature is the only error an unsigned or
// re-keyed artifact gets, and a good signature lets the loader go on.
TEST(ArtifactSignature, LoadOptionChecksBeforeTheLoader) {
  Signed s;
  auto open = [&](const std::vector<unsigned char> &file,
                  const unsigned char *key) {
    anvil_model_options options{};
    options.required_public_key = key;
    anvil_model *model = nullptr;
    anvil_status status =
        anvil_model_open_memory(file.data(), file.size(), &options, &model);
    std::string message = anvil_status_get_message(status);
    EXPECT_EQ(anvil_status_get_code(status), ANVIL_INVALID_ARTIFACT);
    EXPECT_EQ(model, nullptr);
    anvil_status_free(status);
    return message;
  };
  EXPECT_EQ(open(s.unsignedFile, s.publicKey.data()),
            "signature check failed: the artifact is not signed, and a "
            "signature is required");
  PublicKey other = s.publicKey;
  other[0] ^= 1;
  EXPECT_NE(open(s.signedFile, other.data())
                .find("signature check failed: the artifact is signed by "
                      "another key"),
            std::string::npos);
  // Past the signature check, the loader refuses the pretend manifest.
  std::string passed = open(s.signedFile, s.publicKey.data());
  EXPECT_EQ(passed.find("signature"), std::string::npos) << passed;
  // Without the option, the signature section is ignored.
  EXPECT_EQ(open(s.signedFile, nullptr), open(s.unsignedFile, nullptr));
}

} // namespace

//===- ArtifactSignature.cpp - SHA-256 and Ed25519 for artifacts ----------===//
//
// libsodium's crypto_hash_sha256 and crypto_sign_* (Ed25519) do the
// cryptography; this file only defines which bytes are hashed and how keys
// are stored.
//
//===----------------------------------------------------------------------===//

#include "anvil/artifact_signature.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anvil::artifact {
namespace {

constexpr char kContext[] = "anvil-signature-v1"; // hashed with its NUL
constexpr char kPublicKeyLabel[] = "anvil-ed25519-public-key";
constexpr char kSecretKeyLabel[] = "anvil-ed25519-secret-key";
/// Key files are one short line; anything longer is not one.
constexpr size_t kMaxKeyFileBytes = 1024;

bool initSodium(std::string &error) {
  if (sodium_init() < 0) {
    error = "cannot initialize libsodium";
    return false;
  }
  return true;
}

std::string toHex(const unsigned char *bytes, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < size; ++i) {
    hex += digits[bytes[i] >> 4];
    hex += digits[bytes[i] & 15];
  }
  return hex;
}

void hashU32(crypto_hash_sha256_state &state, uint32_t value) {
  unsigned char le[4];
  for (int i = 0; i < 4; ++i)
    le[i] = static_cast<unsigned char>(value >> (8 * i));
  crypto_hash_sha256_update(&state, le, sizeof le);
}

void hashU64(crypto_hash_sha256_state &state, uint64_t value) {
  unsigned char le[8];
  for (int i = 0; i < 8; ++i)
    le[i] = static_cast<unsigned char>(value >> (8 * i));
  crypto_hash_sha256_update(&state, le, sizeof le);
}

/// The digest that is signed (artifact_signature.h gives the layout).
void signedDigest(const ArtifactView &view,
                  unsigned char digest[crypto_hash_sha256_BYTES]) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state,
                            reinterpret_cast<const unsigned char *>(kContext),
                            sizeof kContext);
  const FileHeader &header = view.header();
  crypto_hash_sha256_update(
      &state, reinterpret_cast<const unsigned char *>(header.target),
      kTargetNameSize);
  hashU32(state, header.formatVersion);
  hashU32(state, header.abiVersion);
  uint32_t count = 0;
  for (const SectionView &section : view.sections())
    count += section.kind != SectionKind::Signature;
  hashU32(state, count);
  for (const SectionView &section : view.sections()) {
    if (section.kind == SectionKind::Signature)
      continue;
    hashU32(state, static_cast<uint32_t>(section.kind));
    unsigned char name[kSectionNameSize] = {};
    std::memcpy(name, section.name.data(),
                std::min(section.name.size(), kSectionNameSize));
    crypto_hash_sha256_update(&state, name, sizeof name);
    hashU64(state, section.size);
    crypto_hash_sha256_update(&state, section.data, section.size);
  }
  crypto_hash_sha256_final(&state, digest);
}

bool writeKeyFile(const std::string &path, const char *label,
                  const unsigned char *key, size_t size, bool secret,
                  std::string &error) {
  // A secret key is never written over an existing file (O_EXCL), and is
  // readable by its owner only.
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (secret ? O_EXCL : O_TRUNC);
  int fd = ::open(path.c_str(), flags, secret ? 0600 : 0644);
  if (fd < 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::string line = std::string(label) + " " + toHex(key, size) + "\n";
  bool ok = ::write(fd, line.data(), line.size()) ==
            static_cast<ssize_t>(line.size());
  ok = (::close(fd) == 0) && ok;
  if (!ok)
    error = "cannot write '" + path + "': " + std::strerror(errno);
  return ok;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool readKeyFile(const std::string &path, const char *label,
                 const char *otherLabel, unsigned char *key, size_t size,
                 std::string &error) {
  // O_NONBLOCK and fstat: a FIFO or device named as a key is refused, not
  // waited on.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open key file '" + path + "': " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxKeyFileBytes) {
    ::close(fd);
    error = "key file '" + path + "' is not a regular file of at most " +
            std::to_string(kMaxKeyFileBytes) + " bytes";
    return false;
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    error = "cannot read key file '" + path + "'";
    return false;
  }
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  std::string prefix = std::string(label) + " ";
  if (text.compare(0, std::strlen(otherLabel), otherLabel) == 0) {
    error = "key file '" + path + "' holds an " + otherLabel +
            ", expected an " + label;
    return false;
  }
  if (text.compare(0, prefix.size(), prefix) != 0 ||
      text.size() != prefix.size() + 2 * size) {
    error = "key file '" + path + "' is not one line '" + label + " <" +
            std::to_string(2 * size) + " hex digits>'";
    return false;
  }
  for (size_t i = 0; i < size; ++i) {
    int high = hexValue(text[prefix.size() + 2 * i]);
    int low = hexValue(text[prefix.size() + 2 * i + 1]);
    if (high < 0 || low < 0) {
      error = "key file '" + path +
              "' holds a character that is not a hex "
              "digit";
      return false;
    }
    key[i] = static_cast<unsigned char>(high * 16 + low);
  }
  return true;
}

} // namespace

std::string sha256Hex(const void *data, size_t size) {
  std::string error;
  initSodium(error); // SHA-256 works without it; init only picks fast code
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, static_cast<const unsigned char *>(data), size);
  return toHex(digest, sizeof digest);
}

bool generateSigningKey(PublicKey &publicKey, SecretKey &secretKey,
                        std::string &error) {
  static_assert(kPublicKeySize == crypto_sign_PUBLICKEYBYTES);
  static_assert(kSecretKeySize == crypto_sign_SECRETKEYBYTES);
  static_assert(kSignatureSize == crypto_sign_BYTES);
  if (!initSodium(error))
    return false;
  crypto_sign_keypair(publicKey.data(), secretKey.data());
  return true;
}

bool writePublicKeyFile(const std::string &path, const PublicKey &key,
                        std::string &error) {
  return writeKeyFile(path, kPublicKeyLabel, key.data(), key.size(),
                      /*secret=*/false, error);
}

bool writeSecretKeyFile(const std::string &path, const SecretKey &key,
                        std::string &error) {
  return writeKeyFile(path, kSecretKeyLabel, key.data(), key.size(),
                      /*secret=*/true, error);
}

bool readPublicKeyFile(const std::string &path, PublicKey &key,
                       std::string &error) {
  return readKeyFile(path, kPublicKeyLabel, kSecretKeyLabel, key.data(),
                     key.size(), error);
}

bool readSecretKeyFile(const std::string &path, SecretKey &key,
                       std::string &error) {
  return readKeyFile(path, kSecretKeyLabel, kPublicKeyLabel, key.data(),
                     key.size(), error);
}

bool signArtifact(const ArtifactView &view, const SecretKey &secretKey,
                  const ByteSink &sink, std::string &error) {
  if (!initSodium(error))
    return false;
  unsigned char digest[crypto_hash_sha256_BYTES];
  signedDigest(view, digest);
  unsigned char section[kSignatureSectionSize];
  // libsodium's secret key ends with the public key.
  std::memcpy(section, secretKey.data() + (kSecretKeySize - kPublicKeySize),
              kPublicKeySize);
  crypto_sign_detached(section + kPublicKeySize, nullptr, digest, sizeof digest,
                       secretKey.data());
  std::vector<SectionInput> sections;
  for (const SectionView &s : view.sections())
    if (s.kind != SectionKind::Signature)
      sections.push_back({s.kind, s.name, s.data, s.size, s.alignment, {}});
  sections.push_back({SectionKind::Signature,
                      "signature",
                      section,
                      sizeof section,
                      kMinAlignment,
                      {}});
  return writeArtifact(view.target(), sections, sink, error);
}

bool verifyArtifactSignature(const ArtifactView &view,
                             const PublicKey &publicKey, std::string &error) {
  if (!initSodium(error))
    return false;
  const SectionView *section = view.find(SectionKind::Signature);
  if (!section) {
    error = "the artifact is not signed, and a signature is required";
    return false;
  }
  if (section->size != kSignatureSectionSize) {
    error = "the signature section holds " + std::to_string(section->size) +
            " bytes, expected " + std::to_string(kSignatureSectionSize);
    return false;
  }
  if (sodium_memcmp(section->data, publicKey.data(), kPublicKeySize) != 0) {
    error = "the artifact is signed by another key (" +
            toHex(section->data, kPublicKeySize) + "), not by the required " +
            toHex(publicKey.data(), kPublicKeySize);
    return false;
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  signedDigest(view, digest);
  if (crypto_sign_verify_detached(section->data + kPublicKeySize, digest,
                                  sizeof digest, publicKey.data()) != 0) {
    error = "the artifact's signature does not match its contents (it was "
            "changed after signing)";
    return false;
  }
  return true;
}

} // namespace anvil::artifact

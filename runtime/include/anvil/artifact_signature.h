//===- artifact_signature.h - SHA-256 and Ed25519 for artifacts --*- C++
//-*-===//
//
// Establishing trust in an artifact (loading one runs its native code).
// The hash and signature come from libsodium; none of the cryptography is
// Anvil's own. docs/signatures.md describes what is signed:
//
//   digest = SHA-256("anvil-signature-v1\0" || target[16] ||
//                    u32 format version || u32 ABI version ||
//                    u32 count of signed sections ||
//                    for each section but the signature, in table order:
//                      u32 kind || name[16] || u64 size || the bytes)
//   signature section (kind 5, "signature", 96 bytes) =
//                    the signer's Ed25519 public key (32 bytes) ||
//                    Ed25519 signature of the digest (64 bytes)
//
// All integers little-endian. The offsets, alignment and padding are not
// signed: the loader reads nothing but the sections' bytes, which are.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_ARTIFACT_SIGNATURE_H
#define ANVIL_ARTIFACT_SIGNATURE_H

#include "anvil/artifact.h"

#include <array>
#include <cstddef>
#include <string>

namespace anvil::artifact {

constexpr size_t kPublicKeySize = 32;
constexpr size_t kSecretKeySize = 64; ///< libsodium's: seed || public key
constexpr size_t kSignatureSize = 64;
/// The signature section: the public key, then the signature.
constexpr size_t kSignatureSectionSize = kPublicKeySize + kSignatureSize;

using PublicKey = std::array<unsigned char, kPublicKeySize>;
using SecretKey = std::array<unsigned char, kSecretKeySize>;

/// The SHA-256 of `size` bytes at `data`, as 64 lowercase hex digits.
std::string sha256Hex(const void *data, size_t size);

/// A new Ed25519 key pair from the system's random source. Returns false
/// with `error` if libsodium cannot be initialized.
bool generateSigningKey(PublicKey &publicKey, SecretKey &secretKey,
                        std::string &error);

/// Writes a key file: one line "anvil-ed25519-public-key <64 hex digits>"
/// or "anvil-ed25519-secret-key <128 hex digits>". A secret key file is
/// created with mode 0600 and never overwrites an existing file. Returns
/// false with `error` naming the file otherwise.
bool writePublicKeyFile(const std::string &path, const PublicKey &key,
                        std::string &error);
bool writeSecretKeyFile(const std::string &path, const SecretKey &key,
                        std::string &error);

/// Reads a key file as written above. Returns false with `error` naming the
/// file when it cannot be read, is not a regular file, or does not hold
/// exactly one key line of the expected kind (a secret key given where a
/// public key is expected is called by its name).
bool readPublicKeyFile(const std::string &path, PublicKey &key,
                       std::string &error);
bool readSecretKeyFile(const std::string &path, SecretKey &key,
                       std::string &error);

/// Streams a copy of the artifact `view` to `sink` with a signature section
/// by `secretKey` appended (a signature section already there is replaced).
/// Returns false with `error` for a failed write.
bool signArtifact(const ArtifactView &view, const SecretKey &secretKey,
                  const ByteSink &sink, std::string &error);

/// Checks that `view` carries a signature section made by `publicKey` over
/// its other sections. Returns false with `error` saying which: the
/// artifact is unsigned, its signature section is malformed, it is signed
/// by another key (named by its hex), or the signature does not match the
/// contents (the artifact was changed after signing).
bool verifyArtifactSignature(const ArtifactView &view,
                             const PublicKey &publicKey, std::string &error);

} // namespace anvil::artifact

#endif // ANVIL_ARTIFACT_SIGNATURE_H

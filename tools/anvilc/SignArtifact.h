//===- SignArtifact.h - anvilc's signing and key generation ------*- C++
//-*-===//
//
// What `anvilc --sign-key`, `--generate-signing-key` and the SHA-256 line
// do with files; the cryptography is in anvil/artifact_signature.h.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVILC_SIGNARTIFACT_H
#define ANVIL_TOOLS_ANVILC_SIGNARTIFACT_H

#include <string>

namespace anvil::tools {

/// Rewrites the artifact at `path` with a signature section by the secret
/// key in `keyFile` (written to a temporary file beside it, then renamed
/// over it). Returns false with `error` naming the file otherwise.
bool signArtifactFile(const std::string &path, const std::string &keyFile,
                      std::string &error);

/// Writes a new key pair to PREFIX.key (mode 0600, never overwritten) and
/// PREFIX.pub. Returns false with `error` naming the file otherwise.
bool generateSigningKeyFiles(const std::string &prefix, std::string &error);

/// The SHA-256 of the file at `path` in hex, or false with `error`.
bool sha256OfFile(const std::string &path, std::string &hex,
                  std::string &error);

} // namespace anvil::tools

#endif // ANVIL_TOOLS_ANVILC_SIGNARTIFACT_H

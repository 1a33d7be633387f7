//===- SignatureCheck.cpp - the load option that requires a signature -----===//

#include "SignatureCheck.h"

#include "Status.h"

#include "anvil/artifact_signature.h"

#include <cstring>

namespace anvil::runtime {

anvil_status checkRequiredSignature(const ArtifactBytes &bytes,
                                    const unsigned char *publicKey) {
  using namespace anvil::artifact;
  std::string error;
  // The container is checked here only as far as finding the sections
  // needs; the signature then covers every byte of them, so the CRCs add
  // nothing (the loader checks them afterwards as usual).
  ParseOptions options;
  options.verifySectionChecksums = false;
  auto view = ArtifactView::parse(bytes.data(), bytes.size(), options, error);
  if (!view)
    return makeStatus(ANVIL_INVALID_ARTIFACT, error);
  PublicKey key;
  std::memcpy(key.data(), publicKey, key.size());
  if (!verifyArtifactSignature(*view, key, error))
    return makeStatus(ANVIL_INVALID_ARTIFACT,
                      "signature check failed: " + error);
  return nullptr;
}

} // namespace anvil::runtime

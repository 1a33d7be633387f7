//===- SignatureCheck.h - the load option that requires a signature -*- C++
//-*-===//
//
// anvil_model_options.required_public_key: the artifact must carry an
// Ed25519 signature by that key, checked before any of its code is loaded.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_SIGNATURECHECK_H
#define ANVIL_RUNTIME_SIGNATURECHECK_H

#include "ArtifactBytes.h"

#include "anvil/anvil.h"

namespace anvil::runtime {

/// Null if `bytes` form an artifact signed by the 32-byte Ed25519 key at
/// `publicKey`; otherwise an ANVIL_INVALID_ARTIFACT status saying why (not
/// an artifact, unsigned, another key, changed after signing).
anvil_status checkRequiredSignature(const ArtifactBytes &bytes,
                                    const unsigned char *publicKey);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_SIGNATURECHECK_H

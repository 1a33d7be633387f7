//===- CodeRecord.h - the manifest checked against the code's record --*- C++
//-*-===//
//
// Generated code records, per entry point, what it was compiled for
// (abi.h's anvil_code_entry: signature, sizes' bounds, arena and weights
// bytes). The manifest is what the runtime sizes buffers by; a manifest
// that disagrees with the code (edited, with its checksum recomputed)
// would let the code read or write past those buffers, so the loader
// compares the two before any entry point runs.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_CODERECORD_H
#define ANVIL_RUNTIME_CODERECORD_H

#include "Manifest.h"

#include "anvil/abi.h"

#include <cstdint>

namespace anvil::runtime {

/// Null if `code`'s record agrees with the manifest's `entry` in every
/// field (the counts, dtype and dims of each input and output, each size's
/// bounds, arena_bytes) and the code was compiled for a weights section of
/// `weightBytes` (0 when the artifact has none). Otherwise an
/// ANVIL_INVALID_ARTIFACT status naming the entry point and the field, with
/// both values; a malformed record (a rank above ANVIL_MAX_RANK, a missing
/// array, a nonzero reserved field) is refused the same way.
anvil_status checkCodeRecord(const EntryPoint &entry,
                             const anvil_code_entry &code,
                             uint64_t weightBytes);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_CODERECORD_H

//===- ArtifactInfo.h - what anvil-run info prints ---------------*- C++
//-*-===//

#ifndef ANVIL_TOOLS_ANVIL_RUN_ARTIFACTINFO_H
#define ANVIL_TOOLS_ANVIL_RUN_ARTIFACTINFO_H

#include <cstddef>
#include <ostream>
#include <string>

namespace anvil::tools {

/// Checks the artifact in `data` (`size` bytes; section checksums only if
/// `verify`) and prints its header, sections, signatures and manifest to
/// `os`, as text or (`json`) one JSON object; `path` names it in the text.
/// Never loads or reads the code section's content. Returns false with
/// `error` (without the path) when the artifact or its manifest is
/// malformed; the manifest's size and nesting are bounded (anvil/limits.h),
/// so the output is too.
bool printArtifactInfo(const unsigned char *data, size_t size,
                       const std::string &path, bool json, bool verify,
                       std::ostream &os, std::string &error);

} // namespace anvil::tools

#endif // ANVIL_TOOLS_ANVIL_RUN_ARTIFACTINFO_H

//===- artifact.h - writing and checking .anvil files ------------*- C++
//-*-===//
//
// The compiler writes artifacts with writeArtifact(); the runtime's loader
// checks one with ArtifactView::parse() before trusting any byte of it.
// Neither throws: failures return false / nullopt with a message.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_ARTIFACT_H
#define ANVIL_ARTIFACT_H

#include "anvil/artifact_format.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace anvil::artifact {

/// Bytes at an offset of a section given in pieces: `data`, or, when
/// `fill` is set, whatever it writes (`fill(from, out, n)` puts the chunk's
/// bytes [from, from + n) in `out`; called piece by piece, twice). `fill`
/// lets a chunk be produced while it is written, never held whole.
struct SectionChunk {
  uint64_t offset;
  const void *data;
  size_t size;
  std::function<void(uint64_t from, void *out, size_t size)> fill = {};
};

/// One section to write: `size` bytes, either `data` or, when `chunks` is
/// not empty, zeros overlaid with the chunks (sorted by offset, not
/// overlapping), so large weight sections are written straight from where
/// the weights already are. The bytes must stay valid while writing.
struct SectionInput {
  SectionKind kind;
  std::string name;
  const void *data = nullptr;
  size_t size = 0;
  /// Power of two; raised to at least kMinAlignment.
  uint64_t alignment = kMinAlignment;
  std::vector<SectionChunk> chunks = {};
};

/// Receives the file's bytes in order; returns false to stop (write error).
using ByteSink = std::function<bool(const void *data, size_t size)>;

/// Lays out `sections` after the header and the section table, each at an
/// offset that is a multiple of its alignment, and streams the file to
/// `sink` (two passes over each section's bytes: checksum, then write).
/// Returns false with `error` set for invalid input or a failed sink.
bool writeArtifact(const std::string &target,
                   const std::vector<SectionInput> &sections,
                   const ByteSink &sink, std::string &error);

/// The same, appending the file to `out`.
bool writeArtifact(const std::string &target,
                   const std::vector<SectionInput> &sections,
                   std::vector<unsigned char> &out, std::string &error);

/// Checks a manifest section's size and JSON nesting against
/// anvil/limits.h (kMaxManifestBytes, kMaxManifestDepth), in one pass that
/// does not recurse. Returns false with `error` saying which and where.
/// ArtifactView::parse applies it, so any reader of a parsed artifact may
/// hand the manifest to a JSON library that recurses per level.
bool checkManifestBounds(const void *data, size_t size, std::string &error);

/// Opens the artifact file `path` for reading and sets `size`; returns the
/// file descriptor, or -1 with `error` naming the file when it cannot be
/// opened or is not a regular file. A directory, FIFO or device (such as
/// /dev/zero) is refused without reading it: it would block or never end.
/// Opening does not block on a FIFO (O_NONBLOCK). The caller closes it.
int openArtifactFile(const char *path, uint64_t &size, std::string &error);

/// What a file of `st_mode` is, for messages about files that are not
/// regular: "a directory", "a FIFO", "a device", "a socket", else "not a
/// regular file".
const char *fileKindName(unsigned mode);

/// A checked section: a view into the artifact's bytes.
struct SectionView {
  SectionKind kind;
  std::string name;
  const unsigned char *data;
  uint64_t size;
  uint64_t alignment;
};

struct ParseOptions {
  /// Recompute every section's CRC-32C (the `--no-verify` of anvil-run
  /// turns this off; the header and table are always checked).
  bool verifySectionChecksums = true;
  /// If non-empty, the target the artifact must have been built for.
  std::string expectedTarget;
};

/// A parsed, validated artifact over bytes the caller keeps alive.
class ArtifactView {
public:
  /// Validates magic, versions, reserved fields (0), sizes, the section
  /// table (right after the header; bounds, overlap, alignment, duplicates,
  /// required sections), checksums, target, and the manifest's size and
  /// nesting (checkManifestBounds).
  static std::optional<ArtifactView> parse(const unsigned char *data,
                                           size_t size,
                                           const ParseOptions &options,
                                           std::string &error);

  const FileHeader &header() const { return fileHeader; }
  std::string target() const;
  const std::vector<SectionView> &sections() const { return sectionViews; }
  /// The section of `kind`, or null.
  const SectionView *find(SectionKind kind) const;

private:
  FileHeader fileHeader{};
  std::vector<SectionView> sectionViews;
};

} // namespace anvil::artifact

#endif // ANVIL_ARTIFACT_H

//===- Artifact.cpp - writing and checking .anvil files -------------------===//

#include "anvil/artifact.h"

#include "anvil/limits.h"

#include <algorithm>
#include <cstring>

namespace anvil::artifact {

const char *sectionKindName(SectionKind kind) {
  switch (kind) {
  case SectionKind::Manifest:
    return "manifest";
  case SectionKind::Code:
    return "code";
  case SectionKind::Weights:
    return "weights";
  case SectionKind::Tokenizer:
    return "tokenizer";
  case SectionKind::Signature:
    return "signature";
  }
  return "unknown";
}

namespace {

bool isPowerOfTwo(uint64_t x) { return x && !(x & (x - 1)); }

uint64_t alignUp(uint64_t x, uint64_t alignment) {
  return (x + alignment - 1) & ~(alignment - 1);
}

/// The header checksum covers every byte before the checksum field.
uint32_t headerChecksum(const FileHeader &header) {
  return crc32c(&header, offsetof(FileHeader, headerChecksum));
}

std::string quoted(const char *name, size_t max) {
  return "'" + std::string(name, strnlen(name, max)) + "'";
}

} // namespace

namespace {

/// Calls `visit(data, size)` over a section's bytes in order: its data, or
/// zeros overlaid with its chunks. Returns false if a chunk is out of place
/// or `visit` fails.
template <typename Visit>
bool forEachPiece(const SectionInput &in, Visit &&visit) {
  static const unsigned char zeros[4096] = {};
  auto zeroFill = [&](uint64_t n) {
    while (n) {
      size_t step = std::min<uint64_t>(n, sizeof(zeros));
      if (!visit(zeros, step))
        return false;
      n -= step;
    }
    return true;
  };
  if (in.chunks.empty())
    return !in.size || visit(in.data, in.size);
  // Filled chunks are produced a piece at a time into this buffer.
  std::vector<unsigned char> piece;
  auto produce = [&](const SectionChunk &chunk) {
    piece.resize(std::min<uint64_t>(chunk.size, 1 << 20));
    for (uint64_t done = 0; done < chunk.size;) {
      size_t step = std::min<uint64_t>(chunk.size - done, piece.size());
      chunk.fill(done, piece.data(), step);
      if (!visit(piece.data(), step))
        return false;
      done += step;
    }
    return true;
  };
  uint64_t cursor = 0;
  for (const SectionChunk &chunk : in.chunks) {
    if (chunk.offset < cursor || chunk.size > in.size ||
        chunk.offset > in.size - chunk.size ||
        (chunk.size && !chunk.data && !chunk.fill))
      return false;
    if (!zeroFill(chunk.offset - cursor))
      return false;
    if (chunk.size &&
        !(chunk.fill ? produce(chunk) : visit(chunk.data, chunk.size)))
      return false;
    cursor = chunk.offset + chunk.size;
  }
  return zeroFill(in.size - cursor);
}

} // namespace

bool writeArtifact(const std::string &target,
                   const std::vector<SectionInput> &sections,
                   const ByteSink &sink, std::string &error) {
  if (target.empty() || target.size() >= kTargetNameSize) {
    error = "target name must have 1 to " +
            std::to_string(kTargetNameSize - 1) + " characters";
    return false;
  }
  if (sections.size() > kMaxSections) {
    error = "too many sections";
    return false;
  }
  std::vector<SectionEntry> table(sections.size());
  uint64_t tableOffset = sizeof(FileHeader);
  uint64_t cursor = tableOffset + sizeof(SectionEntry) * sections.size();
  for (size_t i = 0; i < sections.size(); ++i) {
    const SectionInput &in = sections[i];
    uint64_t alignment = std::max(in.alignment, kMinAlignment);
    if (!isPowerOfTwo(alignment) || in.name.size() >= kSectionNameSize ||
        (in.size && !in.data && in.chunks.empty())) {
      error = "invalid section '" + in.name + "'";
      return false;
    }
    for (size_t j = 0; j < i; ++j)
      if (sections[j].kind == in.kind) {
        error = std::string("two ") + sectionKindName(in.kind) + " sections";
        return false;
      }
    SectionEntry &entry = table[i];
    entry.kind = static_cast<uint32_t>(in.kind);
    entry.offset = alignUp(cursor, alignment);
    entry.size = in.size;
    entry.alignment = alignment;
    uint32_t crc = 0;
    if (!forEachPiece(in, [&](const void *data, size_t size) {
          crc = crc32c(data, size, crc);
          return true;
        })) {
      error = "section '" + in.name + "' has chunks out of place";
      return false;
    }
    entry.checksum = crc;
    std::memcpy(entry.name, in.name.data(), in.name.size());
    cursor = entry.offset + in.size;
  }

  FileHeader header{};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  header.formatVersion = kFormatVersion;
  header.abiVersion = kAbiVersion;
  header.sectionCount = static_cast<uint32_t>(sections.size());
  header.sectionTableOffset = tableOffset;
  header.fileSize = cursor;
  std::memcpy(header.target, target.data(), target.size());
  header.tableChecksum =
      crc32c(table.data(), table.size() * sizeof(SectionEntry));
  header.headerChecksum = headerChecksum(header);

  uint64_t written = 0;
  auto put = [&](const void *data, size_t size) {
    written += size;
    return sink(data, size);
  };
  static const unsigned char zeros[4096] = {};
  auto padTo = [&](uint64_t offset) {
    while (written < offset) {
      size_t step = std::min<uint64_t>(offset - written, sizeof(zeros));
      if (!put(zeros, step))
        return false;
    }
    return true;
  };
  bool ok = put(&header, sizeof(header)) &&
            put(table.data(), table.size() * sizeof(SectionEntry));
  for (size_t i = 0; ok && i < sections.size(); ++i)
    ok = padTo(table[i].offset) && forEachPiece(sections[i], put);
  if (!ok) {
    error = "cannot write the artifact";
    return false;
  }
  return true;
}

bool writeArtifact(const std::string &target,
                   const std::vector<SectionInput> &sections,
                   std::vector<unsigned char> &out, std::string &error) {
  return writeArtifact(
      target, sections,
      [&](const void *data, size_t size) {
        const auto *bytes = static_cast<const unsigned char *>(data);
        out.insert(out.end(), bytes, bytes + size);
        return true;
      },
      error);
}

bool checkManifestBounds(const void *data, size_t size, std::string &error) {
  if (size > limits::kMaxManifestBytes) {
    error = "the manifest section has " + std::to_string(size) +
            " bytes, more than the limit of " +
            std::to_string(limits::kMaxManifestBytes) + " (docs/security.md)";
    return false;
  }
  // Brackets and braces outside strings, one pass without recursion: JSON
  // readers and printers that recurse per level cannot be handed a deeper
  // text. Malformed JSON is left to the JSON parser.
  const char *text = static_cast<const char *>(data);
  unsigned depth = 0;
  bool inString = false;
  for (size_t i = 0; i < size; ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i; // the escaped character cannot end the string
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limits::kMaxManifestDepth) {
        error = "the manifest nests deeper than " +
                std::to_string(limits::kMaxManifestDepth) +
                " levels (at byte " + std::to_string(i) + "; docs/security.md)";
        return false;
      }
    } else if ((c == ']' || c == '}') && depth) {
      --depth;
    }
  }
  return true;
}

std::string ArtifactView::target() const {
  return std::string(fileHeader.target,
                     strnlen(fileHeader.target, kTargetNameSize));
}

const SectionView *ArtifactView::find(SectionKind kind) const {
  for (const SectionView &section : sectionViews)
    if (section.kind == kind)
      return &section;
  return nullptr;
}

std::optional<ArtifactView> ArtifactView::parse(const unsigned char *data,
                                                size_t size,
                                                const ParseOptions &options,
                                                std::string &error) {
  ArtifactView view;
  FileHeader &header = view.fileHeader;
  if (size < sizeof(FileHeader) || std::memcmp(data, kMagic, sizeof(kMagic))) {
    error = "not an Anvil artifact (no ANVIL header)";
    return std::nullopt;
  }
  std::memcpy(&header, data, sizeof(header));
  if (header.headerChecksum != headerChecksum(header)) {
    error = "the artifact header is corrupted (checksum mismatch)";
    return std::nullopt;
  }
  if (header.formatVersion != kFormatVersion) {
    error = "artifact format version " + std::to_string(header.formatVersion) +
            " is not supported: this runtime reads version " +
            std::to_string(kFormatVersion) + "; recompile the model";
    return std::nullopt;
  }
  if (header.abiVersion != kAbiVersion) {
    error = "the artifact's code ABI version is " +
            std::to_string(header.abiVersion) + " but this runtime has " +
            std::to_string(kAbiVersion) +
            "; recompile the model with the anvilc of this release";
    return std::nullopt;
  }
  if (header.fileSize != size) {
    error = header.fileSize > size
                ? "the artifact is truncated: it should have " +
                      std::to_string(header.fileSize) + " bytes but has " +
                      std::to_string(size)
                : "the artifact has " + std::to_string(size - header.fileSize) +
                      " unexpected trailing bytes";
    return std::nullopt;
  }
  if (!options.expectedTarget.empty() &&
      view.target() != options.expectedTarget) {
    error = "the artifact was built for target '" + view.target() +
            "' but is being loaded for '" + options.expectedTarget + "'";
    return std::nullopt;
  }
  if (header.flags != 0) {
    error = "the artifact header's flags are " + std::to_string(header.flags) +
            " but are reserved and must be 0";
    return std::nullopt;
  }
  // The format puts the table right after the header: a table elsewhere
  // would leave bytes no checksum covers.
  if (header.sectionTableOffset != sizeof(FileHeader)) {
    error = "the artifact's section table is at offset " +
            std::to_string(header.sectionTableOffset) + " but must follow " +
            "the header at offset " + std::to_string(sizeof(FileHeader));
    return std::nullopt;
  }
  uint64_t tableBytes = uint64_t(header.sectionCount) * sizeof(SectionEntry);
  if (header.sectionCount > kMaxSections ||
      tableBytes > size - header.sectionTableOffset) {
    error = "the artifact's section table is out of bounds";
    return std::nullopt;
  }
  std::vector<SectionEntry> table(header.sectionCount);
  if (tableBytes) // no sections: table.data() may be null
    std::memcpy(table.data(), data + header.sectionTableOffset, tableBytes);
  if (crc32c(table.data(), tableBytes) != header.tableChecksum) {
    error = "the artifact's section table is corrupted (checksum mismatch)";
    return std::nullopt;
  }
  uint64_t dataStart = header.sectionTableOffset + tableBytes;
  for (const SectionEntry &entry : table) {
    std::string name = quoted(entry.name, kSectionNameSize);
    auto kind = static_cast<SectionKind>(entry.kind);
    if (std::string(sectionKindName(kind)) == "unknown") {
      error =
          "section " + name + " has unknown kind " + std::to_string(entry.kind);
      return std::nullopt;
    }
    if (entry.reserved || entry.reserved2) {
      error = "section " + name + " has nonzero reserved fields (" +
              std::to_string(entry.reserved) + ", " +
              std::to_string(entry.reserved2) + "); they must be 0";
      return std::nullopt;
    }
    if (view.find(kind)) {
      error = std::string("the artifact has two ") + sectionKindName(kind) +
              " sections";
      return std::nullopt;
    }
    if (!isPowerOfTwo(entry.alignment) || entry.alignment < kMinAlignment ||
        entry.offset % entry.alignment) {
      error = "section " + name + " is misaligned";
      return std::nullopt;
    }
    if (entry.offset < dataStart || entry.offset > size ||
        entry.size > size - entry.offset) {
      error = "section " + name + " lies outside the file";
      return std::nullopt;
    }
    for (const SectionView &other : view.sectionViews) {
      uint64_t otherOffset = other.data - data;
      if (entry.offset < otherOffset + other.size &&
          otherOffset < entry.offset + entry.size) {
        error = "sections " + name + " and '" + other.name + "' overlap";
        return std::nullopt;
      }
    }
    const unsigned char *bytes = data + entry.offset;
    if (options.verifySectionChecksums &&
        crc32c(bytes, entry.size) != entry.checksum) {
      error = std::string("the ") + sectionKindName(kind) + " section " + name +
              " is corrupted (checksum mismatch)";
      return std::nullopt;
    }
    view.sectionViews.push_back(
        {kind, std::string(entry.name, strnlen(entry.name, kSectionNameSize)),
         bytes, entry.size, entry.alignment});
  }
  const SectionView *manifest = view.find(SectionKind::Manifest);
  if (!manifest) {
    error = "the artifact has no manifest section";
    return std::nullopt;
  }
  if (!checkManifestBounds(manifest->data, manifest->size, error))
    return std::nullopt;
  return view;
}

} // namespace anvil::artifact

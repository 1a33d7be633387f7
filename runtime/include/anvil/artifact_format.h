//===- artifact_format.h - the on-disk layout of .anvil files ----*- C++
//-*-===//
//
// One file: a fixed header, a section table, then the sections, each aligned
// and checksummed. Every integer is little-endian. docs/artifact-format.md
// describes the format; this header is its single definition, shared by the
// compiler (which writes) and the runtime (which reads). No LLVM or MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_ARTIFACT_FORMAT_H
#define ANVIL_ARTIFACT_FORMAT_H

#include "anvil/abi.h"

#include <cstddef>
#include <cstdint>

namespace anvil::artifact {

/// "ANVIL", then bytes that catch text-mode and 7-bit transfers (as PNG's).
constexpr unsigned char kMagic[8] = {'A', 'N', 'V', 'I', 'L', 0x1a, '\r', '\n'};

/// Bumped on any change of the layout below.
constexpr uint32_t kFormatVersion = 1;
/// The ABI between generated code and the runtime (abi.h holds the one
/// definition); the loader refuses any other.
constexpr uint32_t kAbiVersion = ANVIL_ABI_VERSION;

constexpr size_t kTargetNameSize = 16;
constexpr size_t kSectionNameSize = 16;
/// Sections are aligned to at least this (a cache line, and what SIMD
/// loads of weights want); large weight sections to kPageAlignment.
constexpr uint64_t kMinAlignment = 64;
constexpr uint64_t kPageAlignment = 4096;
/// Upper bound on the section count, so a corrupt count cannot make the
/// reader allocate or scan much.
constexpr uint32_t kMaxSections = 64;

enum class SectionKind : uint32_t {
  Manifest = 1,  ///< JSON: entry points, signatures, model metadata, options
  Code = 2,      ///< the compiled shared object or device binary
  Weights = 3,   ///< packed constant data, mmappable
  Tokenizer = 4, ///< optional: the tokenizer (e.g. tokenizer.json)
  Signature = 5, ///< optional: an Ed25519 signature (artifact_signature.h)
};

/// Returns a name for messages ("manifest"), or "unknown".
const char *sectionKindName(SectionKind kind);

#pragma pack(push, 1)
struct FileHeader {
  unsigned char magic[8];
  uint32_t formatVersion;
  uint32_t abiVersion;
  uint32_t flags; ///< reserved, 0
  uint32_t sectionCount;
  uint64_t sectionTableOffset;  ///< from the start of the file
  uint64_t fileSize;            ///< the whole file, to detect truncation
  char target[kTargetNameSize]; ///< "cpu", "cuda", ... NUL-padded
  uint32_t tableChecksum;       ///< CRC-32C of the section table
  uint32_t headerChecksum;      ///< CRC-32C of this header up to this field
};

struct SectionEntry {
  uint32_t kind;      ///< SectionKind
  uint32_t reserved;  ///< 0
  uint64_t offset;    ///< from the start of the file; multiple of alignment
  uint64_t size;      ///< bytes
  uint64_t alignment; ///< power of two >= kMinAlignment
  uint32_t checksum;  ///< CRC-32C of the section's bytes
  uint32_t reserved2; ///< 0
  char name[kSectionNameSize]; ///< NUL-padded, for tools
};
#pragma pack(pop)

static_assert(sizeof(FileHeader) == 64, "FileHeader layout changed");
static_assert(sizeof(SectionEntry) == 56, "SectionEntry layout changed");

/// CRC-32C (Castagnoli), the checksum of every section. Uses the SSE4.2
/// instruction when the CPU has it.
uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);
/// The same, always in portable C++ (for tests and non-x86 hosts).
uint32_t crc32cPortable(const void *data, size_t size, uint32_t crc = 0);

} // namespace anvil::artifact

#endif // ANVIL_ARTIFACT_FORMAT_H

//===- ArtifactBytes.h - an artifact's bytes, mapped or copied ---*- C++
//-*-===//

#ifndef ANVIL_RUNTIME_ARTIFACTBYTES_H
#define ANVIL_RUNTIME_ARTIFACTBYTES_H

#include <cstddef>
#include <string>

namespace anvil::runtime {

/// The artifact's bytes: a read-only file mapping, or an owned aligned copy.
/// Both are page-aligned, so the weights section can be used in place.
class ArtifactBytes {
public:
  ArtifactBytes() = default;
  ArtifactBytes(const ArtifactBytes &) = delete;
  ArtifactBytes &operator=(const ArtifactBytes &) = delete;
  ~ArtifactBytes();

  /// Maps `path` read-only; false with `error` (naming the file) if it
  /// cannot be opened or is not a regular file.
  bool mapFile(const char *path, std::string &error);
  /// Copies `n` bytes; false when out of memory.
  bool copy(const void *source, size_t n);

  const unsigned char *data() const { return bytes; }
  size_t size() const { return length; }

private:
  unsigned char *bytes = nullptr;
  size_t length = 0;
  bool mapped = false;
};

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_ARTIFACTBYTES_H

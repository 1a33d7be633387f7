//===- ArtifactBytes.cpp - an artifact's bytes, mapped or copied ----------===//

#include "ArtifactBytes.h"

#include "anvil/artifact.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anvil::runtime {

ArtifactBytes::~ArtifactBytes() {
  if (mapped)
    munmap(bytes, length);
  else
    std::free(bytes);
}

bool ArtifactBytes::mapFile(const char *path, std::string &error) {
  uint64_t size = 0;
  int fd = anvil::artifact::openArtifactFile(path, size, error);
  if (fd < 0)
    return false;
  if (size > SIZE_MAX) {
    error = std::string("'") + path + "' is too large to map";
    close(fd);
    return false;
  }
  length = static_cast<size_t>(size);
  if (length == 0) {
    close(fd);
    return true;
  }
  void *p = mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    error = std::string("cannot map '") + path + "': " + std::strerror(errno);
    length = 0;
    return false;
  }
  bytes = static_cast<unsigned char *>(p);
  mapped = true;
  return true;
}

bool ArtifactBytes::copy(const void *source, size_t n) {
  // The rounding below must not wrap (no such buffer exists, but n is the
  // caller's word).
  if (n > SIZE_MAX - 2 * 4096)
    return false;
  length = n;
  bytes = static_cast<unsigned char *>(
      std::aligned_alloc(4096, (n + 4095) / 4096 * 4096 + 4096));
  if (!bytes) {
    length = 0;
    return false;
  }
  if (n)
    std::memcpy(bytes, source, n);
  return true;
}

} // namespace anvil::runtime

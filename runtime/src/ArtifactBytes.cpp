//===- ArtifactBytes.cpp - an artifact's bytes, mapped or copied ----------===//

#include "ArtifactBytes.h"

#include <cerrno>
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
  // O_NONBLOCK: a FIFO must not block the open; fstat then refuses it.
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot open '") + path + "': " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = std::string("'") + path + "' is not a regular file";
    close(fd);
    return false;
  }
  length = static_cast<size_t>(st.st_size);
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

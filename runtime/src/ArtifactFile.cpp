//===- ArtifactFile.cpp - opening an artifact file safely -----------------===//
//
// The one way artifact files are opened (the loader's mapping, anvil-run
// info): what is not a regular file is refused before a byte is read, since
// a FIFO blocks and a device such as /dev/zero never ends.
//
//===----------------------------------------------------------------------===//

#include "anvil/artifact.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anvil::artifact {

const char *fileKindName(unsigned mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

int openArtifactFile(const char *path, uint64_t &size, std::string &error) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
  // writer. It has no effect on regular files, which are all we read.
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = std::string("cannot open '") + path + "': " + std::strerror(errno);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    error = std::string("cannot read '") + path + "': " + std::strerror(errno);
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    const char *kind = fileKindName(st.st_mode);
    error = std::string("'") + path + "' is " + kind +
            (std::strcmp(kind, "not a regular file") ? ", not a regular file"
                                                     : "") +
            "; an artifact is a regular file";
    close(fd);
    return -1;
  }
  size = static_cast<uint64_t>(st.st_size);
  return fd;
}

} // namespace anvil::artifact

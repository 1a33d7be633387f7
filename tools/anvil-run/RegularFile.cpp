//===- RegularFile.cpp - reading and writing files that are input ---------===//
//
// Opens with O_NONBLOCK and checks the opened descriptor with fstat, so a
// FIFO never blocks the open and the check applies to what was opened (no
// window between a stat and the open).
//
//===----------------------------------------------------------------------===//

#include "RegularFile.h"

#include "anvil/artifact.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <new>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anvil::tools {
namespace {

/// What is not a regular file, for messages (one wording with the
/// artifact loader's).
std::string fileKind(mode_t mode) {
  return anvil::artifact::fileKindName(mode);
}

/// Closes a descriptor when it goes out of scope.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

bool readRegularFile(const std::string &path, std::vector<unsigned char> &bytes,
                     size_t maxBytes, std::string &error) {
  Descriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (file.fd < 0) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(file.fd, &st) != 0) {
    error = "cannot stat '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error =
        "'" + path + "' is " + fileKind(st.st_mode) + ", not a regular file";
    return false;
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > maxBytes) {
    error = "'" + path + "' holds " + std::to_string(size) +
            " bytes, more than the limit of " + std::to_string(maxBytes);
    return false;
  }
  try {
    bytes.resize(size);
  } catch (const std::bad_alloc &) {
    error = "'" + path + "' (" + std::to_string(size) +
            " bytes) does not fit in memory";
    return false;
  }
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(file.fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = "cannot read '" + path + "': " + std::strerror(errno);
      return false;
    }
    if (n == 0) {
      // The file shrank while read: what was stat'ed is not what is here.
      error = "'" + path + "' changed while it was read";
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool writeRegularFile(const std::string &path, const std::vector<Piece> &pieces,
                      std::string &error) {
  // O_NONBLOCK: opening a FIFO without a reader fails (ENXIO) instead of
  // waiting for one.
  Descriptor file{
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0666)};
  if (file.fd < 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(file.fd, &st) != 0) {
    error = "cannot stat '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "cannot write '" + path + "': it is " + fileKind(st.st_mode) +
            ", not a regular file";
    return false;
  }
  if (::ftruncate(file.fd, 0) != 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  for (const Piece &piece : pieces) {
    const char *next = static_cast<const char *>(piece.data);
    size_t left = piece.size;
    while (left > 0) {
      ssize_t n = ::write(file.fd, next, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        error = "cannot write '" + path + "': " + std::strerror(errno);
        return false;
      }
      next += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (::close(file.fd) != 0) {
    file.fd = -1;
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  file.fd = -1;
  return true;
}

bool prepareOutputDirectory(const std::string &path, std::string &error) {
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (std::filesystem::exists(status) &&
      !std::filesystem::is_directory(status)) {
    error = "--output-dir '" + path + "' exists and is not a directory";
    return false;
  }
  if (!std::filesystem::exists(status)) {
    std::filesystem::create_directories(path, ec);
    if (ec) {
      error = "cannot create --output-dir '" + path + "': " + ec.message();
      return false;
    }
  }
  if (::access(path.c_str(), W_OK | X_OK) != 0) {
    error = "cannot write into --output-dir '" + path +
            "': " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace anvil::tools

//===- OnnxFileAccess.cpp - reading the files a model names ---------------===//

#include "compiler/Import/Onnx/OnnxFileAccess.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anvil::onnx_import {
namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// What a non-regular file is, in words.
const char *kindOf(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

/// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// Opens `path` for reading if it is a regular file; `size` gets its size.
/// stat() first, so a FIFO or a device is never opened (opening some
/// devices has effects); O_NONBLOCK, so one swapped in after the check
/// cannot block the open either; fstat() again on what was opened.
llvm::Expected<int> openRegular(llvm::StringRef path, bool noFollow,
                                uint64_t &size) {
  std::string name = path.str();
  struct stat st;
  if (::stat(name.c_str(), &st) != 0)
    return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail(llvm::Twine("it is ") + kindOf(st.st_mode) +
                ", not a regular file");
  int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (noFollow ? O_NOFOLLOW : 0);
  int fd = ::open(name.c_str(), flags);
  if (fd < 0)
    return fail(std::strerror(errno));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("it changed into something that is not a regular file while "
                "being opened");
  }
  size = st.st_size;
  return fd;
}

} // namespace

llvm::Error checkNotSpecialFile(llvm::StringRef path) {
  struct stat st;
  if (::stat(path.str().c_str(), &st) != 0 || S_ISREG(st.st_mode))
    return llvm::Error::success();
  return fail(llvm::Twine("it is ") + kindOf(st.st_mode) +
              ", not a regular file");
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path) {
  uint64_t size = 0;
  llvm::Expected<int> fd = openRegular(path, /*noFollow=*/false, size);
  if (!fd)
    return fd.takeError();
  FdCloser closer{*fd};
  // The size from fstat, not "read to EOF": a file that grows meanwhile is
  // read as it was.
  auto buffer = llvm::MemoryBuffer::getOpenFileSlice(
      llvm::sys::fs::convertFDToNativeFile(*fd), path, size, 0);
  if (!buffer)
    return fail(buffer.getError().message());
  return std::move(*buffer);
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readDataSlice(llvm::StringRef baseDir, llvm::StringRef location, int64_t offset,
              int64_t length) {
  if (location.empty())
    return fail("it has no location");
  if (llvm::sys::path::is_absolute(location))
    return fail("'" + location +
                "' is an absolute path; external data must "
                "be inside the model's folder");
  llvm::SmallString<256> realBase, joined(baseDir), realFile;
  llvm::sys::path::append(joined, location);
  if (std::error_code ec = llvm::sys::fs::real_path(baseDir, realBase))
    return fail("cannot resolve the model's folder '" + baseDir +
                "': " + ec.message());
  if (std::error_code ec = llvm::sys::fs::real_path(joined, realFile))
    return fail("cannot read '" + joined + "': " + ec.message());
  // Checked on the resolved path: a symlink (to a file, or a folder on the
  // way) that leads out of the model's folder is refused like "../x".
  llvm::StringRef inside(realFile);
  llvm::SmallString<256> prefix(realBase);
  if (!prefix.endswith("/"))
    prefix += '/';
  if (!inside.startswith(prefix))
    return fail("'" + joined + "' resolves to '" + realFile +
                "', which is outside the model's folder '" + realBase + "'");
  uint64_t size = 0;
  llvm::Expected<int> fd = openRegular(realFile, /*noFollow=*/true, size);
  if (!fd)
    return fail("cannot read '" + joined + "': " + toString(fd.takeError()));
  FdCloser closer{*fd};
  // Mapping past the end of the file would raise SIGBUS when read; reading
  // past it would leave zeros. Either way the data is not there.
  if (offset < 0 || length < 0 || (uint64_t)offset > size ||
      (uint64_t)length > size - (uint64_t)offset)
    return fail("'" + joined + "' holds " + llvm::Twine(size) +
                " bytes, too few for offset " + llvm::Twine(offset) +
                " and length " + llvm::Twine(length));
  auto buffer = llvm::MemoryBuffer::getOpenFileSlice(
      llvm::sys::fs::convertFDToNativeFile(*fd), realFile, length, offset);
  if (!buffer)
    return fail("cannot read '" + joined + "': " + buffer.getError().message());
  return std::move(*buffer);
}

} // namespace anvil::onnx_import

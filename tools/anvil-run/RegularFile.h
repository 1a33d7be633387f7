//===- RegularFile.h - reading and writing files that are input --*- C++
//-*-===//
//
// anvil-run's file-system boundary. Paths come from the command line, so a
// directory, a FIFO or a device (/dev/zero) may be named: each is refused
// with a message before anything blocks on it or reads it without end.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_RUN_REGULARFILE_H
#define ANVIL_TOOLS_ANVIL_RUN_REGULARFILE_H

#include <cstddef>
#include <string>
#include <vector>

namespace anvil::tools {

/// Reads the whole of `path`, which must be a regular file of at most
/// `maxBytes` bytes, into `bytes`. Returns false with `error` naming the
/// file and the reason (cannot open, not a regular file, too large, out of
/// memory, a read error) otherwise.
bool readRegularFile(const std::string &path, std::vector<unsigned char> &bytes,
                     size_t maxBytes, std::string &error);

/// Bytes to write: `size` bytes at `data`.
struct Piece {
  const void *data;
  size_t size;
};

/// Creates or truncates `path` and writes `pieces` in order. Refuses a path
/// that exists and is not a regular file (a FIFO would block the write, a
/// device would swallow it). Returns false with `error` otherwise.
bool writeRegularFile(const std::string &path, const std::vector<Piece> &pieces,
                      std::string &error);

/// Creates `path` (and its parents) as a directory if it does not exist,
/// then checks that it is a directory this process can write into. Returns
/// false with `error` naming the path otherwise.
bool prepareOutputDirectory(const std::string &path, std::string &error);

} // namespace anvil::tools

#endif // ANVIL_TOOLS_ANVIL_RUN_REGULARFILE_H

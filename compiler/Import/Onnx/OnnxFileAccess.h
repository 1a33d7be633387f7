//===- OnnxFileAccess.h - reading the files a model names ---*- C++ -*-===//
//
// The model file, its external-data files and --constant-input files come
// from the user and may be hostile: a FIFO or /dev/zero would block or read
// forever, a symlink could pull a file from outside the model's folder into
// the artifact, a short file would be mapped past its end (SIGBUS). These
// helpers refuse all of that before any byte is read.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ONNXFILEACCESS_H
#define ANVIL_COMPILER_IMPORT_ONNX_ONNXFILEACCESS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace anvil::onnx_import {

/// Reads the whole file at `path` (symlinks followed). Fails without
/// blocking or reading when `path` is not a regular file: the error says
/// what it is ("a FIFO", "a character device", "a directory", ...), or
/// gives the system's reason when it cannot be opened.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path);

/// Fails, saying what `path` is ("a FIFO", "a directory", ...), when it
/// exists and is not a regular file; looks with stat(), so nothing is
/// opened and nothing blocks. A missing file passes (the reader reports
/// it).
llvm::Error checkNotSpecialFile(llvm::StringRef path);

/// Reads `length` bytes at `offset` of the external-data file `location`,
/// a path relative to the model's folder `baseDir`. Fails, with a message
/// that names the file (and its size where it matters), when:
///  - `location` is empty or absolute, or it (or a symlink on its way)
///    resolves to a path outside `baseDir`'s resolved path;
///  - the file is missing or not a regular file (FIFO, device, directory);
///  - `offset` is negative or past the end, or `offset + length` is.
/// The returned buffer maps or copies exactly `length` bytes.
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readDataSlice(llvm::StringRef baseDir, llvm::StringRef location, int64_t offset,
              int64_t length);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ONNXFILEACCESS_H

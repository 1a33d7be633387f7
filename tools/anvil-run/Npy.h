//===- Npy.h - reading and writing numpy .npy files --------------*- C++
//-*-===//
//
// The subset anvil-run needs: format 1.0-3.0, little-endian, C order, the
// dtypes of anvil.h. Every header field is checked (files are input).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_RUN_NPY_H
#define ANVIL_TOOLS_ANVIL_RUN_NPY_H

#include "anvil/anvil.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace anvil::npy {

struct Array {
  anvil_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<unsigned char> data;
};

/// The largest header accepted (numpy itself refuses headers above 10000
/// bytes unless told otherwise; a header of rank ANVIL_MAX_RANK fits in a
/// few hundred).
constexpr size_t kMaxHeaderBytes = 65536;
/// The largest .npy file read (data is read into memory).
constexpr size_t kMaxFileBytes = size_t(1) << 40;

/// Reads `path`, which must be a regular .npy file. Returns false with
/// `error` naming the file and what was expected for anything not
/// understood: not a regular file, bad magic or version, a header that is
/// not exactly {'descr': ..., 'fortran_order': False, 'shape': (...)}, an
/// unsupported dtype, a negative, non-numeric or overflowing dimension, a
/// rank above ANVIL_MAX_RANK, or a data size other than the shape's.
bool read(const std::string &path, Array &array, std::string &error);

/// The same checks on a file's bytes already in memory; `name` names the
/// file in `error`. Never reads outside [data, data + size).
bool parse(const unsigned char *data, size_t size, const std::string &name,
           Array &array, std::string &error);

/// Writes a C-order little-endian .npy (format 1.0) to `path`, which must
/// be a regular file if it exists. Returns false with `error` for a dtype
/// numpy cannot hold or a write failure.
bool write(const std::string &path, anvil_dtype dtype,
           const std::vector<int64_t> &shape, const void *data, size_t bytes,
           std::string &error);

} // namespace anvil::npy

#endif // ANVIL_TOOLS_ANVIL_RUN_NPY_H

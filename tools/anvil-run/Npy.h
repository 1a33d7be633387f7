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

#include <cstdint>
#include <string>
#include <vector>

namespace anvil::npy {

struct Array {
  anvil_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<unsigned char> data;
};

/// Reads `path`; returns false with `error` for anything not understood.
bool read(const std::string &path, Array &array, std::string &error);

/// Writes a C-order little-endian .npy (format 1.0).
bool write(const std::string &path, anvil_dtype dtype,
           const std::vector<int64_t> &shape, const void *data, size_t bytes,
           std::string &error);

} // namespace anvil::npy

#endif // ANVIL_TOOLS_ANVIL_RUN_NPY_H

//===- Npy.cpp - reading and writing numpy .npy files ---------------------===//
//
// Format: "\x93NUMPY", major, minor, header length (2 bytes in 1.0, 4 in
// 2.0/3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

namespace anvil::npy {
namespace {

struct Descr {
  const char *text;
  anvil_dtype dtype;
};
// From the one dtype table; '|' marks one-byte types, which have no byte
// order. Types numpy cannot hold (4-bit, fp8) have no descriptor and are
// skipped. numpy has no bfloat16: ml_dtypes' bfloat16 arrays are saved as
// two-byte void ("<V2"), which is what this writes for bf16 too; "|V2" is
// read as well.
const Descr kDescrs[] = {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  {NPY, ANVIL_DTYPE_##ID},
#include "anvil/dtypes.def"
    {"|V2", ANVIL_DTYPE_BF16},
};

} // namespace

bool read(const std::string &path, Array &array, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  auto bad = [&](const std::string &why) {
    error = "'" + path + "' is not a usable .npy file: " + why;
    return false;
  };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    return bad("no NUMPY magic");
  unsigned major = bytes[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return bad("truncated header");
    headerLength = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) |
                   (size_t(bytes[11]) << 24);
    headerStart = 12;
  } else {
    return bad("format version " + std::to_string(major) + " is unknown");
  }
  if (headerStart + headerLength > bytes.size())
    return bad("truncated header");
  std::string header(bytes.begin() + headerStart,
                     bytes.begin() + headerStart + headerLength);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    return bad("no descr");
  std::string descr = m[1];
  bool found = false;
  for (const Descr &d : kDescrs)
    if (*d.text &&
        (descr == d.text || (descr.size() == 3 && descr[0] == '=' &&
                             descr.substr(1) == std::string(d.text + 1)))) {
      array.dtype = d.dtype;
      found = true;
    }
  if (!found)
    return bad("dtype '" + descr + "' is not supported");
  if (!std::regex_search(header, m,
                         std::regex("'fortran_order':\\s*(True|False)")) ||
      m[1] == "True")
    return bad("only C-order arrays are supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return bad("no shape");
  std::string dims = m[1];
  array.shape.clear();
  size_t count = 1;
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end;
       it != end; ++it) {
    int64_t dim = std::stoll(it->str());
    if (dim > (int64_t(1) << 40))
      return bad("dimension too large");
    array.shape.push_back(dim);
    count *= static_cast<size_t>(dim);
  }
  if (array.shape.size() > ANVIL_MAX_RANK)
    return bad("rank above " + std::to_string(ANVIL_MAX_RANK));
  size_t dataStart = headerStart + headerLength;
  size_t need = count * anvil_dtype_size(array.dtype);
  if (bytes.size() - dataStart != need)
    return bad("it holds " + std::to_string(bytes.size() - dataStart) +
               " data bytes, its header says " + std::to_string(need));
  array.data.assign(bytes.begin() + dataStart, bytes.end());
  return true;
}

bool write(const std::string &path, anvil_dtype dtype,
           const std::vector<int64_t> &shape, const void *data, size_t bytes,
           std::string &error) {
  const char *descr = nullptr;
  for (const Descr &d : kDescrs)
    if (d.dtype == dtype && *d.text && !descr)
      descr = d.text;
  if (!descr) {
    error = std::string("cannot write dtype ") + anvil_dtype_name(dtype);
    return false;
  }
  std::string dims; // "2, 3", or "5," for rank 1, as Python writes tuples
  for (size_t i = 0; i < shape.size(); ++i)
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    dims += ",";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  unsigned char prefix[10] = {0x93,
                              'N',
                              'U',
                              'M',
                              'P',
                              'Y',
                              1,
                              0,
                              static_cast<unsigned char>(header.size() & 0xff),
                              static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char *>(prefix), sizeof prefix);
  out << header;
  out.write(static_cast<const char *>(data), bytes);
  if (!out) {
    error = "cannot write '" + path + "'";
    return false;
  }
  return true;
}

} // namespace anvil::npy

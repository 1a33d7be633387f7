//===- Tensor.cpp - tensors of the C API ----------------------------------===//

#include "Tensor.h"
#include "Status.h"

#include <cstdlib>
#include <cstring>
#include <new>

using anvil::runtime::makeStatus;

extern "C" {

// The switches read the value as an int: a C caller may pass any number,
// and a value outside the enum's range is not an anvil_dtype in C++.
size_t anvil_dtype_bits(anvil_dtype dtype) {
  switch (static_cast<int>(dtype)) {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  case VALUE:                                                                  \
    return BITS;
#include "anvil/dtypes.def"
  }
  return 0;
}

size_t anvil_dtype_size(anvil_dtype dtype) {
  size_t bits = anvil_dtype_bits(dtype);
  return bits % 8 ? 0 : bits / 8;
}

const char *anvil_dtype_name(anvil_dtype dtype) {
  switch (static_cast<int>(dtype)) {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  case VALUE:                                                                  \
    return NAME;
#include "anvil/dtypes.def"
  }
  return "unknown";
}

} // extern "C"

namespace {

/// Checks dtype and dims and computes the byte size, guarding overflow.
/// Packed 4-bit types take ceil(elements / 2) bytes.
anvil_status checkShape(anvil_dtype dtype, size_t rank, const int64_t *dims,
                        size_t &bytes) {
  size_t bits = anvil_dtype_bits(dtype);
  if (!bits)
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "unknown dtype " + std::to_string(dtype));
  if (rank > ANVIL_MAX_RANK || (rank && !dims))
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "rank must be at most " + std::to_string(ANVIL_MAX_RANK) +
                          " with dims given");
  size_t elements = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "dimension " + std::to_string(i) + " is negative");
    if (dims[i] && elements > SIZE_MAX / 64 / static_cast<size_t>(dims[i]))
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "tensor is too large");
    elements *= static_cast<size_t>(dims[i]);
  }
  bytes = (elements * bits + 7) / 8;
  return nullptr;
}

} // namespace

extern "C" {

anvil_status anvil_tensor_create(anvil_dtype dtype, size_t rank,
                                 const int64_t *dims,
                                 anvil_tensor **out_tensor) {
  return anvil::runtime::guarded([&]() -> anvil_status {
    size_t bytes = 0;
    if (!out_tensor)
      return makeStatus(ANVIL_INVALID_ARGUMENT, "out_tensor is NULL");
    if (anvil_status status = checkShape(dtype, rank, dims, bytes))
      return status;
    size_t rounded = (bytes + 63) / 64 * 64;
    void *data = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!data)
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED,
                        "cannot allocate " + std::to_string(bytes) + " bytes");
    std::memset(data, 0, rounded ? rounded : 64);
    auto *tensor = new (std::nothrow) anvil_tensor_s{
        dtype, std::vector<int64_t>(dims, dims + rank), data, bytes, true};
    if (!tensor) {
      std::free(data);
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "out of memory");
    }
    *out_tensor = tensor;
    return nullptr;
  });
}

anvil_status anvil_tensor_wrap(anvil_dtype dtype, size_t rank,
                               const int64_t *dims, void *data,
                               size_t byte_size, anvil_tensor **out_tensor) {
  return anvil::runtime::guarded([&]() -> anvil_status {
    size_t bytes = 0;
    if (!out_tensor)
      return makeStatus(ANVIL_INVALID_ARGUMENT, "out_tensor is NULL");
    if (anvil_status status = checkShape(dtype, rank, dims, bytes))
      return status;
    if (bytes != byte_size || (bytes && !data))
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "the buffer has " + std::to_string(byte_size) +
                            " bytes but the shape needs " +
                            std::to_string(bytes));
    auto *tensor = new (std::nothrow) anvil_tensor_s{
        dtype, std::vector<int64_t>(dims, dims + rank), data, bytes, false};
    if (!tensor)
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "out of memory");
    *out_tensor = tensor;
    return nullptr;
  });
}

void anvil_tensor_release(anvil_tensor *tensor) {
  if (!tensor)
    return;
  if (tensor->owned)
    std::free(tensor->data);
  delete tensor;
}

anvil_dtype anvil_tensor_dtype(const anvil_tensor *tensor) {
  return tensor->dtype;
}
size_t anvil_tensor_rank(const anvil_tensor *tensor) {
  return tensor->dims.size();
}
int64_t anvil_tensor_dim(const anvil_tensor *tensor, size_t axis) {
  return axis < tensor->dims.size() ? tensor->dims[axis] : -1;
}
void *anvil_tensor_data(anvil_tensor *tensor) { return tensor->data; }
size_t anvil_tensor_byte_size(const anvil_tensor *tensor) {
  return tensor->byteSize;
}

anvil_status_code anvil_status_get_code(const struct anvil_status_s *status) {
  return status ? status->code : ANVIL_OK;
}
const char *anvil_status_get_message(const struct anvil_status_s *status) {
  return status ? status->message.c_str() : "";
}
void anvil_status_free(anvil_status status) { delete status; }

} // extern "C"

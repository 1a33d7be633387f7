//===- Tensor.cpp - tensors of the C API ----------------------------------===//

#include "Tensor.h"
#include "Status.h"

#include <cstdlib>
#include <cstring>
#include <new>

using anvil::runtime::makeStatus;

extern "C" {

size_t anvil_dtype_size(anvil_dtype dtype) {
  switch (dtype) {
  case ANVIL_DTYPE_F64:
  case ANVIL_DTYPE_I64:
  case ANVIL_DTYPE_U64:
    return 8;
  case ANVIL_DTYPE_F32:
  case ANVIL_DTYPE_I32:
  case ANVIL_DTYPE_U32:
    return 4;
  case ANVIL_DTYPE_F16:
  case ANVIL_DTYPE_BF16:
  case ANVIL_DTYPE_I16:
  case ANVIL_DTYPE_U16:
    return 2;
  case ANVIL_DTYPE_I8:
  case ANVIL_DTYPE_U8:
  case ANVIL_DTYPE_BOOL:
    return 1;
  }
  return 0;
}

const char *anvil_dtype_name(anvil_dtype dtype) {
  switch (dtype) {
  case ANVIL_DTYPE_F32:
    return "f32";
  case ANVIL_DTYPE_F16:
    return "f16";
  case ANVIL_DTYPE_BF16:
    return "bf16";
  case ANVIL_DTYPE_F64:
    return "f64";
  case ANVIL_DTYPE_I64:
    return "i64";
  case ANVIL_DTYPE_I32:
    return "i32";
  case ANVIL_DTYPE_I8:
    return "i8";
  case ANVIL_DTYPE_U8:
    return "u8";
  case ANVIL_DTYPE_BOOL:
    return "bool";
  case ANVIL_DTYPE_I16:
    return "i16";
  case ANVIL_DTYPE_U16:
    return "u16";
  case ANVIL_DTYPE_U32:
    return "u32";
  case ANVIL_DTYPE_U64:
    return "u64";
  }
  return "unknown";
}

} // extern "C"

namespace {

/// Checks dtype and dims and computes the byte size, guarding overflow.
anvil_status checkShape(anvil_dtype dtype, size_t rank, const int64_t *dims,
                        size_t &bytes) {
  size_t elementSize = anvil_dtype_size(dtype);
  if (!elementSize)
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "unknown dtype " + std::to_string(dtype));
  if (rank > ANVIL_MAX_RANK || (rank && !dims))
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "rank must be at most " + std::to_string(ANVIL_MAX_RANK) +
                          " with dims given");
  bytes = elementSize;
  for (size_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "dimension " + std::to_string(i) + " is negative");
    if (dims[i] && bytes > SIZE_MAX / static_cast<size_t>(dims[i]))
      return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "tensor is too large");
    bytes *= static_cast<size_t>(dims[i]);
  }
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

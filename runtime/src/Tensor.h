//===- Tensor.h - anvil_tensor inside the runtime ----------------*- C++
//-*-===//

#ifndef ANVIL_RUNTIME_TENSOR_H
#define ANVIL_RUNTIME_TENSOR_H

#include "anvil/anvil.h"

#include <cstdint>
#include <vector>

struct anvil_tensor_s {
  anvil_dtype dtype;
  std::vector<int64_t> dims;
  void *data;
  size_t byteSize;
  bool owned;
};

#endif // ANVIL_RUNTIME_TENSOR_H

//===- Signature.h - checking tensors against an entry point -----*- C++
//-*-===//
//
// Before a run, each input's dims bind the entry point's run-time sizes
// (manifest v2 "sizes"): a dim named by a size gives that size its value,
// which must lie within the size's bounds and be the same wherever the size
// appears. Static dims must match exactly; outputs must have the shape the
// bound sizes give them.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_SIGNATURE_H
#define ANVIL_RUNTIME_SIGNATURE_H

#include "Manifest.h"

#include <cstdint>
#include <vector>

namespace anvil::runtime {

/// The dtype and shape of one tensor a caller passes.
struct TensorShape {
  anvil_dtype dtype;
  const int64_t *dims;
  size_t rank;
};

/// Checks `inputs` and `outputs` (in signature order) against `entry` and
/// sets `sizes` to the value of each of entry.sizes. Null on success;
/// otherwise an ANVIL_INVALID_ARGUMENT status naming the tensor, the dim,
/// the size and its bounds.
anvil_status checkSignature(const EntryPoint &entry, const TensorShape *inputs,
                            size_t inputCount, const TensorShape *outputs,
                            size_t outputCount, std::vector<int64_t> &sizes);

/// Null if every one of `sizes` (entry.sizes.size() values) lies within its
/// bounds; otherwise an ANVIL_INVALID_ARGUMENT status.
anvil_status checkSizeBounds(const EntryPoint &entry, const int64_t *sizes,
                             size_t count);

/// "f32[Sx4]": the dtype and dims of `spec`, sizes by name; with `sizes`,
/// their values instead.
std::string describe(const TensorSpec &spec, const EntryPoint &entry,
                     const int64_t *sizes = nullptr);

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_SIGNATURE_H

//===- WeightData.h - the bytes of constant tensors ---------------*- C++
//-*-===//
//
// Weights reach the artifact as raw row-major bytes (one byte per i1),
// whether the IR holds them as a resource blob (imported initializers) or
// a dense attribute (folded constants).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_KERNEL_WEIGHTDATA_H
#define ANVIL_DIALECTS_KERNEL_WEIGHTDATA_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <string>

namespace anvil::kernel {

/// Appends `attr`'s elements to `out` as they lie in a buffer. Returns
/// false for element types without a buffer layout.
bool appendWeightBytes(mlir::ElementsAttr attr, std::string &out);

/// `attr`'s bytes as they lie in a buffer, without a copy when the
/// attribute holds them that way already (resource blobs, non-splat dense
/// data); otherwise they are built in `storage` and the view points there.
bool viewWeightBytes(mlir::ElementsAttr attr, llvm::ArrayRef<char> &view,
                     std::string &storage);

/// kernel.weight's `layout` for a [N, K] value stored as [K, N].
constexpr llvm::StringLiteral kWeightLayoutKN = "kn";

/// Writes bytes [from, from + size) of a weight stored in `layout` to
/// `out`, given the value's row-major bytes `value` of type `valueType`.
/// An empty layout is the value's own. Lets the weight section be written
/// piece by piece without building the rearranged weight.
void copyWeightBytesInLayout(llvm::StringRef layout, mlir::ShapedType valueType,
                             llvm::ArrayRef<char> value, uint64_t from,
                             char *out, size_t size);

} // namespace anvil::kernel

#endif // ANVIL_DIALECTS_KERNEL_WEIGHTDATA_H

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

} // namespace anvil::kernel

#endif // ANVIL_DIALECTS_KERNEL_WEIGHTDATA_H

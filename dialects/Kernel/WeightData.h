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
#include "llvm/ADT/SmallVector.h"

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

/// Columns per panel of the panel layouts (the cpu kernels' kPanelWidth,
/// backends/cpu/kernels/matmul_panels.h).
constexpr int64_t kWeightPanelWidth = 32;

/// kernel.weight's `layout` for a [K, N] matrix stored in column panels:
/// panels of kWeightPanelWidth columns (the last one narrower when N is
/// not a multiple), each K-major, panel p from element p * 32 * K on. The
/// buffer keeps the type [K, N] (the same bytes, rearranged).
constexpr llvm::StringLiteral kWeightLayoutPanels = "panels32";

/// The same panels from a [N, K] value (a transposed right-hand side).
constexpr llvm::StringLiteral kWeightLayoutNKPanels = "nk_panels32";

/// The buffer shape of a `valueType` weight stored in `layout`, or an
/// empty vector when the layout is unknown or does not apply to it (the
/// verifier names the known ones: knownWeightLayouts()).
llvm::SmallVector<int64_t> storedWeightShape(llvm::StringRef layout,
                                             mlir::ShapedType valueType);
/// The known layouts, for messages: "'kn', 'panels32', ...".
std::string knownWeightLayouts();

/// Writes bytes [from, from + size) of a weight stored in `layout` to
/// `out`, given the value's row-major bytes `value` of type `valueType`.
/// An empty layout is the value's own. Lets the weight section be written
/// piece by piece without building the rearranged weight.
void copyWeightBytesInLayout(llvm::StringRef layout, mlir::ShapedType valueType,
                             llvm::ArrayRef<char> value, uint64_t from,
                             char *out, size_t size);

} // namespace anvil::kernel

#endif // ANVIL_DIALECTS_KERNEL_WEIGHTDATA_H

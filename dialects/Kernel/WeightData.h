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

#include <optional>
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

/// The same panels from a [N, K] value (a transposed right-hand side), or
/// from a [N, d1, d2, ...] value read as [N, d1 x d2 x ...] (a
/// convolution's [M, C, kh, kw] weight as the [K, M] right-hand side of
/// conv_gemm.h's pixel-row products).
constexpr llvm::StringLiteral kWeightLayoutNKPanels = "nk_panels32";

/// Rows per tile of the row-tile layout (the cpu kernels' kMaxRows on
/// AVX-512, backends/cpu/kernels/matmul_panels.h; AVX2's 6-row tiles read
/// half a tile).
constexpr int64_t kWeightTileRows = 12;

/// kernel.weight's `layout` for a [N, d1, d2, ...] value read as the
/// row-major [N, K] matrix (K = d1 x d2 x ...) and stored in tiles of
/// kWeightTileRows rows, each K-major: element (n, k) at (n / 12) * K * 12
/// + k * 12 + n % 12, the last tile's rows past N zero; buffer shape
/// [ceil(N / 12), K, 12]. The weight rows of conv_gemm.h's product (a
/// convolution's [M, C, kh, kw] weight) then give a tile's 12 broadcasts
/// per k from one 48-byte run, where rows in place are 12 streams.
constexpr llvm::StringLiteral kWeightLayoutRowTiles = "row_tiles12";

/// The buffer shape of a `valueType` weight stored in `layout`, or an
/// empty vector when the layout is unknown or does not apply to it (the
/// verifier names the known ones: knownWeightLayouts()).
llvm::SmallVector<int64_t> storedWeightShape(llvm::StringRef layout,
                                             mlir::ShapedType valueType);
/// The known layouts, for messages: "'kn', 'panels32', ..." (the
/// quantized ones included).
std::string knownWeightLayouts();

/// kernel.weight layouts of quantized matmul weights, read by the
/// matmul_quant kernel (backends/cpu/kernels/matmul_quant.h): output
/// channels in panels of kQuantPanel, each holding its channels' k-rows.
/// 8-bit ("q8_n16"): four consecutive k of one channel per 32-bit word,
/// channel after channel (vpdpbusd's order), k padded to a multiple of 4.
/// 4-bit ("q4_n16_k8", the one 4-bit arrangement: "_k8" is required):
/// eight consecutive k of one channel per 32-bit word, channel after
/// channel, k padded to a multiple of 8; byte i of the word holds k + i
/// (low nibble) and k + 4 + i (high), so masking the low nibbles gives
/// vpdpbusd's four bytes of k .. k + 3 and shifting by 4 first those of
/// k + 4 .. k + 7 (W4A8), and a float GEMV takes each k's 16 values from
/// one 64-byte line with a shift (vpermps reads the low four bits).
/// Suffixes: "_kn" when the value is stored [K, N] (4-bit: K rows of
/// N / 2 bytes, packed along N, as a blocked int4 DequantizeLinear's),
/// "_biased" when its signed values are stored unsigned (+128 or +8; the
/// kernel adds the bias to the zero point), "_sums" (8-bit only) when the
/// panels are followed by each channel's sum of its stored bytes over the
/// value's K (int32, little-endian, 16 per panel, 0 for padding channels:
/// static activations with a zero point z take z times it off every
/// output). The buffer is 1-D bytes of the value's element type; channels
/// past N are padding.
struct QuantPanelLayout {
  int64_t bits = 8;
  bool kn = false;
  bool biased = false;
  bool k8 = false;   // 4-bit only, and always there: "q4_n16_k8"
  bool sums = false; // 8-bit only: channel sums after the panels
};
constexpr int64_t kQuantPanel = 16;
std::optional<QuantPanelLayout> parseQuantPanelLayout(llvm::StringRef layout);
std::string quantPanelLayoutName(const QuantPanelLayout &layout);
/// The k-rows a panel stores for rows of `rowValues` values: a multiple of
/// 4 (8-bit) or 8 (4-bit).
int64_t quantPanelKStored(int64_t bits, int64_t rowValues);
/// The stored buffer's length (bytes) for a value of `valueType` (rank 2),
/// or -1 when the layout does not apply to it.
int64_t quantPanelStoredBytes(const QuantPanelLayout &layout,
                              mlir::ShapedType valueType);

/// Writes bytes [from, from + size) of a weight stored in `layout` to
/// `out`, given the value's row-major bytes `value` of type `valueType`.
/// An empty layout is the value's own. Lets the weight section be written
/// piece by piece without building the rearranged weight.
void copyWeightBytesInLayout(llvm::StringRef layout, mlir::ShapedType valueType,
                             llvm::ArrayRef<char> value, uint64_t from,
                             char *out, size_t size);

} // namespace anvil::kernel

#endif // ANVIL_DIALECTS_KERNEL_WEIGHTDATA_H

//===- ConstantValues.h - reading and building constant tensors --*- C++
//-*-===//
//
// Folders and shape inference read small constant tensors (shape vectors,
// slice bounds) through these helpers, whether the constant is a dense
// attribute or a resource blob.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVIL_CONSTANTVALUES_H
#define ANVIL_DIALECTS_ANVIL_CONSTANTVALUES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>
#include <vector>

namespace anvil {

/// Folding is for shape arithmetic and trivial cases, not for evaluating
/// models at compile time: constants larger than this are left alone.
constexpr int64_t kFoldElementLimit = 4096;

/// The element limit folding uses on this thread: kFoldElementLimit unless
/// a ScopedFoldElementLimit raised it.
int64_t foldElementLimit();

/// Raises (or lowers) this thread's fold limit while it lives: the paged-KV
/// rewrite evaluates attention masks of past + tokens columns this way, in
/// a scratch module of its own.
class ScopedFoldElementLimit {
public:
  explicit ScopedFoldElementLimit(int64_t limit);
  ~ScopedFoldElementLimit();
  ScopedFoldElementLimit(const ScopedFoldElementLimit &) = delete;
  ScopedFoldElementLimit &operator=(const ScopedFoldElementLimit &) = delete;

private:
  int64_t saved;
};
/// A slice within kFoldElementLimit may read a constant this large.
constexpr int64_t kSliceInputElementLimit = 1 << 20;

/// Whether `type` is static with dims >= 0 and at most `limit` elements,
/// the product computed without overflow (a type from unchecked shape
/// arithmetic can have dims whose product wraps to a small number).
bool withinFoldLimit(mlir::ShapedType type, int64_t limit = foldElementLimit());

/// A constant's values, widened to int64 or double, in row-major order.
struct ConstantTensor {
  mlir::RankedTensorType type;
  bool isFloat = false;
  std::vector<int64_t> ints;
  std::vector<double> floats;

  int64_t size() const {
    return isFloat ? (int64_t)floats.size() : (int64_t)ints.size();
  }
  double asDouble(int64_t i) const {
    return isFloat ? floats[i] : (double)ints[i];
  }
  int64_t asInt(int64_t i) const {
    return isFloat ? (int64_t)floats[i] : ints[i];
  }
};

/// Reads a static-shaped dense or dense_resource attribute of at most
/// `limit` elements.
std::optional<ConstantTensor> readConstant(mlir::Attribute attr,
                                           int64_t limit = foldElementLimit());

/// The element data of a dense_resource blob or of non-splat dense data,
/// as it lies in memory (row-major, the element type's width), without a
/// copy; std::nullopt for a splat, a blob without data, or another
/// attribute. The caller checks the size against the type it expects.
std::optional<llvm::ArrayRef<char>> rawConstantData(mlir::Attribute attr);

/// Reads the integer values of a value defined by an anvil.constant.
std::optional<llvm::SmallVector<int64_t>>
getConstantInts(mlir::Value value, int64_t limit = foldElementLimit());

/// Rounds `value` to the float type `type` (to nearest, ties to even) and
/// widens it back, as the kernels' C++ converts a double: 16-bit types
/// through float (two roundings). `value` unchanged when `type` is not a
/// float type.
double roundToFloatType(mlir::Type type, double value);

/// Float to a `width`-bit integer as the kernels' float_to_int does: values
/// outside the range (and NaN) give the minimum (signed) or 0 (unsigned).
/// The result is sign-extended (signed) or zero-extended (unsigned).
int64_t floatToInt(double value, unsigned width, bool isUnsigned);

/// Builds a dense attribute of `type` from widened values (narrowing them to
/// the element type: integers wrap, floats round to nearest even, floats to
/// integers truncate to int64 as floatToInt(v, 64, false), then wrap).
/// Returns null for element types it cannot build.
mlir::DenseElementsAttr buildDense(mlir::RankedTensorType type,
                                   llvm::ArrayRef<int64_t> ints);
mlir::DenseElementsAttr buildDense(mlir::RankedTensorType type,
                                   llvm::ArrayRef<double> floats);
mlir::DenseElementsAttr buildDense(mlir::RankedTensorType type,
                                   const ConstantTensor &values);

/// A dense_resource attribute of `type` whose blob owns `bytes` (row-major
/// element data): weights without a second copy.
mlir::ElementsAttr makeOwnedResource(mlir::ShapedType type, std::string bytes,
                                     llvm::StringRef name);

/// Marks an anvil.constant (a unit attribute) that the importer computed
/// from a model's quantization parameters rather than read as a weight
/// (MatMulNBits' float-zero-point correction `(z0 - zp) * scale`): the
/// weight-quantizing passes (anvil-quantize-weights, anvil-narrow-weights)
/// and anvil-merge-matmuls leave it as it is, since rounding it would add
/// error to a model already quantized.
inline constexpr llvm::StringLiteral kKeepFloatAttr = "anvil.keep_float";

/// A float32 dense_resource attribute of `type` that owns a copy of
/// `values` (row-major, one per element of `type`): scales and corrections
/// a pass computes, without a uniqued attribute that would live as long as
/// the context.
mlir::ElementsAttr makeF32Resource(mlir::ShapedType type,
                                   llvm::ArrayRef<float> values,
                                   llvm::StringRef name);

/// Frees the data of the dense_resource weights in `dropped` (constants a
/// pass replaced and erased) that no op of `module` refers to any more: an
/// imported weight's blob maps its slice of the model file, whose pages
/// (read by the pass) count in the compiler's resident set until the
/// mapping goes. The resource entry stays, empty; nothing may read it.
void releaseUnusedResources(mlir::ModuleOp module,
                            llvm::ArrayRef<mlir::Attribute> dropped);

/// The row-major index into an operand of `operandShape` of element `linear`
/// of a result of `resultShape` it is numpy-broadcast to.
int64_t broadcastIndex(llvm::ArrayRef<int64_t> resultShape,
                       llvm::ArrayRef<int64_t> operandShape, int64_t linear);

/// True if `attr` is a splat (or all elements equal) of `value`.
bool isConstantSplat(mlir::Attribute attr, double value);

} // namespace anvil

#endif // ANVIL_DIALECTS_ANVIL_CONSTANTVALUES_H

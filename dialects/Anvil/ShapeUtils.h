//===- ShapeUtils.h - shape arithmetic shared by anvil ops -------*- C++
//-*-===//
//
// Shapes are int64 vectors where mlir::ShapedType::kDynamic marks a dimension
// that is not known at compile time (a symbolic dim nothing has bound yet).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVIL_SHAPEUTILS_H
#define ANVIL_DIALECTS_ANVIL_SHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <string>

namespace anvil {

constexpr int64_t kDynamic = mlir::ShapedType::kDynamic;

/// numpy broadcasting of two shapes. A dynamic dim against 1 stays dynamic;
/// against a static size N > 1 it becomes N (the program is only valid if
/// the dynamic dim is 1 or N). Fails when two static sizes disagree.
mlir::LogicalResult broadcastShapes(llvm::ArrayRef<int64_t> a,
                                    llvm::ArrayRef<int64_t> b,
                                    llvm::SmallVectorImpl<int64_t> &result);

/// The number of elements, or std::nullopt if any dim is dynamic.
std::optional<int64_t> staticElementCount(llvm::ArrayRef<int64_t> shape);

/// "2x?x64" for messages.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// Resolves a possibly negative axis against `rank`; nullopt if out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// The ranked tensor type of `value`, or null if it is unranked.
mlir::RankedTensorType getRankedType(mlir::Value value);

/// A tensor type of `shape` with `elementType`; unranked if shape is nullopt.
mlir::TensorType makeTensorType(std::optional<llvm::ArrayRef<int64_t>> shape,
                                mlir::Type elementType);

/// Returns the most static of two compatible types (same element type, same
/// rank, static dims win), or null when they conflict.
mlir::Type joinTypes(mlir::Type a, mlir::Type b);

} // namespace anvil

#endif // ANVIL_DIALECTS_ANVIL_SHAPEUTILS_H

//===- ShapeUtils.h - shape arithmetic shared by anvil ops -------*- C++
//-*-===//
//
// Shapes are int64 vectors where mlir::ShapedType::kDynamic marks a dimension
// that is not known at compile time (a symbolic dim nothing has bound yet).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVIL_SHAPEUTILS_H
#define ANVIL_DIALECTS_ANVIL_SHAPEUTILS_H

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "runtime/include/anvil/limits.h"
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

/// The most bytes one tensor may hold: 2^48 (256 TiB), far beyond any
/// device, and small enough that element counts, byte sizes and the arena
/// offsets the memory planner adds up never overflow int64_t. Every anvil
/// op's verifier refuses a result larger than this (so the importer,
/// folding and shape inference all do), and so does the importer for graph
/// inputs. It is the runtime's load-time limit (anvil/limits.h, where to
/// change it), so what compiles also loads; docs/importer.md ("Limits").
constexpr int64_t kMaxTensorBytes = int64_t(limits::kMaxTensorBytes);

/// Why a tensor of `type` (a ShapedType) cannot exist, or "" when it can:
/// its static dims alone (dynamic ones count as 1) make more than
/// kMaxTensorBytes bytes, or more elements than int64_t counts. The text
/// names the shape, the element count and the bytes, e.g.
/// "4611686018427387904x4xf32 holds 2^64 bytes ...".
std::string tensorSizeProblem(mlir::Type type);

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

//===----------------------------------------------------------------------===//
// Symbolic sizes
//===----------------------------------------------------------------------===//

/// A dimension size as an expression over the function's bounded sizes
/// (`--dim=sequence_length=1..512`): symbol i is the entry point's sizes[i].
/// Static sizes are constant expressions, so code written with DimExprs
/// folds to the integers it would compute with int64_t; products of sizes
/// (semi-affine, `s0 * s1`) are allowed.
using DimExpr = mlir::AffineExpr;

/// A bounded size: its name (the ONNX dim name) and its bounds.
struct SizeSymbol {
  std::string name;
  int64_t min, max;
};

/// The function attribute listing the bounded sizes, in symbol order:
/// `anvil.sizes = [{name = "sequence_length", min = 1, max = 512}]`.
constexpr llvm::StringLiteral kSizesAttr = "anvil.sizes";
/// A function argument that is an in-out state buffer the runtime keeps
/// across runs (a paged KV pool, from anvil-paged-kv); state arguments come
/// after the inputs.
constexpr llvm::StringLiteral kStateAttr = "anvil.state";
/// The argument attribute naming each dim of an input ("" when unnamed).
constexpr llvm::StringLiteral kDimNamesAttr = "anvil.dim_names";
/// The function attribute with the sizes bound by --dim=NAME=SIZE next to
/// bounded ones: `anvil.dim_values = {past_sequence_length = 0 : i64}`.
constexpr llvm::StringLiteral kDimValuesAttr = "anvil.dim_values";

/// The sizes `attr` (an anvil.sizes or kernel.sizes array) lists, or failure
/// when it is malformed. A null attribute lists none.
mlir::FailureOr<llvm::SmallVector<SizeSymbol>>
parseSizeSymbols(mlir::Attribute attr);
/// The array attribute listing `symbols`.
mlir::ArrayAttr sizeSymbolsAttr(mlir::MLIRContext *context,
                                llvm::ArrayRef<SizeSymbol> symbols);

DimExpr dimConstant(mlir::MLIRContext *context, int64_t value);
/// The value of `expr` when it is a constant.
std::optional<int64_t> constantDim(DimExpr expr);
/// `shape` as expressions (every dim must be static).
llvm::SmallVector<DimExpr> constantDims(mlir::MLIRContext *context,
                                        llvm::ArrayRef<int64_t> shape);
/// The integers of `dims`, or nullopt when one is symbolic.
std::optional<llvm::SmallVector<int64_t>>
constantDims(llvm::ArrayRef<DimExpr> dims);
/// The product of `dims` (1 for none).
DimExpr productOf(mlir::MLIRContext *context, llvm::ArrayRef<DimExpr> dims);
/// Row-major element strides of a buffer of `shape`.
llvm::SmallVector<DimExpr> rowMajorStrides(mlir::MLIRContext *context,
                                           llvm::ArrayRef<DimExpr> shape);
/// `expr` with the sizes substituted (symbol i = sizes[i]).
int64_t evaluateDim(DimExpr expr, llvm::ArrayRef<int64_t> sizes);
/// The same in checked int64 arithmetic: nullopt when a step overflows (or
/// divides by zero), as it may at bounds as large as --dim allows.
std::optional<int64_t> evaluateDimChecked(DimExpr expr,
                                          llvm::ArrayRef<int64_t> sizes);
/// The largest value `expr` takes over the corners of the sizes' bounds
/// (the maximum of a size polynomial with nonnegative coefficients), or
/// nullopt when it does not fit in int64 at one of them.
std::optional<int64_t> maxDim(DimExpr expr, llvm::ArrayRef<SizeSymbol> symbols);
/// `expr` written with the sizes' names for its symbols, for messages:
/// `past_sequence_length + 1`, `2 * sequence_length`.
std::string formatDim(DimExpr expr, llvm::ArrayRef<SizeSymbol> symbols);
/// Row-major shape `dims` as the static memref/tensor shape: ? for symbolic.
llvm::SmallVector<int64_t> staticShape(llvm::ArrayRef<DimExpr> dims);
/// `dims` as one map () [s0, ...] -> (d0, d1, ...) over `numSymbols`.
mlir::AffineMap dimsMap(mlir::MLIRContext *context, unsigned numSymbols,
                        llvm::ArrayRef<DimExpr> dims);

} // namespace anvil

#endif // ANVIL_DIALECTS_ANVIL_SHAPEUTILS_H

//===- SymbolicShapes.h - every ? dim as an expression over the sizes -*- C++
//-*-===//
//
// With bounded dims (`--dim=sequence_length=1..512`) the anvil program keeps
// `?` dims and the shape computations that produce them (shape_of, gather,
// concat, arithmetic on shapes feeding a reshape). This analysis gives every
// dim of every value a DimExpr over the function's sizes (`anvil.sizes`).
//
// It evaluates the program's own shape rules instead of restating them: the
// program is instantiated at several points of the sizes' box (each op's
// `InferShapeOpInterface` and folders run on concrete shapes, so shape-tensor
// subgraphs evaluate to constants), and each `?` dim is fitted exactly by a
// polynomial of degree <= 2 in the sizes (affine, or a product such as
// batch * seq), then checked at further points, the bounds among them. A dim
// no such polynomial matches (a size clamped inside the bounds, a floor
// division of a bounded size) is an error naming the op.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_SYMBOLICSHAPES_H
#define ANVIL_COMPILER_LOWERING_SYMBOLICSHAPES_H

#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace anvil::lowering {

class SymbolicShapes {
public:
  /// Analyzes `func` (an anvil function); reports errors on the ops whose
  /// dims do not follow from the sizes. Without `anvil.sizes` every dim must
  /// be static and the analysis is trivial.
  static mlir::FailureOr<SymbolicShapes> analyze(mlir::func::FuncOp func);

  llvm::ArrayRef<SizeSymbol> symbols() const { return sizeSymbols; }
  /// The dims of a ranked tensor value of the analyzed function.
  llvm::ArrayRef<DimExpr> dims(mlir::Value value) const;
  /// Whether `op` only computes shapes from sizes (its results are small
  /// integer tensors known at compile time at every point): it needs no code.
  bool isShapeComputation(mlir::Operation *op) const {
    return shapeOps.contains(op);
  }
  /// The elements of a shape computation's result (or of a small integer
  /// constant) as expressions over the sizes, when each is a polynomial of
  /// them; null otherwise.
  const llvm::SmallVector<DimExpr> *values(mlir::Value value) const {
    auto it = symbolicValues.find(value);
    return it == symbolicValues.end() ? nullptr : &it->second;
  }

private:
  mlir::MLIRContext *context = nullptr;
  llvm::SmallVector<SizeSymbol> sizeSymbols;
  llvm::DenseMap<mlir::Value, llvm::SmallVector<DimExpr>> symbolicDims;
  llvm::DenseSet<mlir::Operation *> shapeOps;
  llvm::DenseMap<mlir::Value, llvm::SmallVector<DimExpr>> symbolicValues;
};

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_SYMBOLICSHAPES_H

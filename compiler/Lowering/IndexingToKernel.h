//===- IndexingToKernel.h - indexing ops to launches -----------*- C++ -*-===//
//
// anvil.gather_nd, anvil.scatter_elements and anvil.top_k become launches
// of the target's `gather_nd`, `scatter_elements` and `top_k` kernels
// (backends/cpu/kernels/gather_scatter.h). The bufferizer in
// AnvilToKernel.cpp calls lowerIndexingOp with its own ways to find an
// operand's buffer and dims, to allocate a result's buffer and to copy.
// Dims may be size expressions (bounded dims) except where a kernel needs
// a compile-time value (GatherND's tuple length), which is reported.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_INDEXINGTOKERNEL_H
#define ANVIL_COMPILER_LOWERING_INDEXINGTOKERNEL_H

#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace anvil::lowering {

struct IndexingHooks {
  /// The buffer holding a tensor operand.
  llvm::function_ref<mlir::Value(mlir::Value)> input;
  /// A new buffer for an op result, recorded as its buffer.
  llvm::function_ref<mlir::Value(mlir::Value)> alloc;
  /// The dims of a tensor (integers when static).
  llvm::function_ref<llvm::ArrayRef<DimExpr>(mlir::Value)> shapeOf;
  /// Copies the contiguous buffer `src` of dims `shape` into `dst`.
  llvm::function_ref<void(mlir::Location, mlir::Value src, mlir::Value dst,
                          llvm::ArrayRef<DimExpr> shape)>
      copy;
};

/// True for the ops lowerIndexingOp handles.
bool isIndexingOp(mlir::Operation *op);

/// Lowers one indexing op at the builder's insertion point.
mlir::LogicalResult lowerIndexingOp(mlir::Operation *op, mlir::OpBuilder &b,
                                    const IndexingHooks &hooks);

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_INDEXINGTOKERNEL_H

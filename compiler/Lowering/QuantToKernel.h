//===- QuantToKernel.h - quantization ops to launches -----------*- C++ -*-===//
//
// anvil.dequantize, anvil.quantize and anvil.quantize_per_token become
// launches of the target's `dequantize`, `quantize` and
// `quantize_per_token` kernels. The bufferizer in AnvilToKernel.cpp calls
// lowerQuantOp with its own ways to find an operand's buffer and to
// allocate a result's.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_QUANTTOKERNEL_H
#define ANVIL_COMPILER_LOWERING_QUANTTOKERNEL_H

#include "dialects/Anvil/ShapeUtils.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace anvil::lowering {

struct BufferHooks {
  /// The buffer holding a tensor operand.
  llvm::function_ref<mlir::Value(mlir::Value)> input;
  /// A new buffer for an op result, recorded as its buffer.
  llvm::function_ref<mlir::Value(mlir::Value)> alloc;
  /// A tensor's dims: size expressions where bounded.
  llvm::function_ref<llvm::ArrayRef<DimExpr>(mlir::Value)> shapeOf;
};

/// True for the ops lowerQuantOp handles.
bool isQuantOp(mlir::Operation *op);

/// Lowers one quantization op at the builder's insertion point.
mlir::LogicalResult lowerQuantOp(mlir::Operation *op, mlir::OpBuilder &b,
                                 const BufferHooks &hooks);

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_QUANTTOKERNEL_H

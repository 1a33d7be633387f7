//===- SpatialToKernel.h - spatial ops to launches --------------*- C++ -*-===//
//
// anvil.resize and anvil.conv_transpose become launches of the target's
// `resize` and `conv_transpose` kernels. Like QuantToKernel.h, the
// bufferizer in AnvilToKernel.cpp calls lowerSpatialOp with its hooks.
// These kernels take static sizes: an op with a bounded dim is refused by
// name.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_SPATIALTOKERNEL_H
#define ANVIL_COMPILER_LOWERING_SPATIALTOKERNEL_H

#include "compiler/Lowering/QuantToKernel.h"

namespace anvil::lowering {

/// True for the ops lowerSpatialOp handles.
bool isSpatialOp(mlir::Operation *op);

/// Lowers one spatial op at the builder's insertion point.
mlir::LogicalResult lowerSpatialOp(mlir::Operation *op, mlir::OpBuilder &b,
                                   const BufferHooks &hooks);

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_SPATIALTOKERNEL_H

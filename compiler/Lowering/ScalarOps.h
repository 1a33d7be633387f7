//===- ScalarOps.h - anvil elementwise ops as arith/math scalars -*- C++
//-*-===//
//
// Bufferization turns every elementwise anvil op into a kernel.elementwise
// loop whose region computes one element with `arith` and `math` ops. The
// math of each op is its payload, declared in ODS (ElementwiseOpInterface,
// dialects/Anvil/ElementwisePayload.h); these are the lowering's views of
// it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_SCALAROPS_H
#define ANVIL_COMPILER_LOWERING_SCALAROPS_H

#include "dialects/Anvil/ElementwisePayload.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace anvil::lowering {

/// Whether `op` computes each output element from the matching (broadcast)
/// elements of its tensor operands alone (it implements
/// ElementwiseOpInterface). `anvil.expand` counts: it is the identity with
/// broadcasting (its shape operand is not an input).
bool isElementwise(mlir::Operation *op);

/// The number of leading operands of an elementwise op that are data (the
/// rest, such as expand's shape, are not read per element).
unsigned elementwiseDataOperands(mlir::Operation *op);

/// Builds `op`'s payload on `operands` (one scalar per data operand, of the
/// operands' signless element types) at the builder's insertion point.
/// Emits an error on `op` and returns null for element types the op has no
/// scalar form for.
mlir::Value buildScalar(mlir::OpBuilder &builder, mlir::Operation *op,
                        mlir::ValueRange operands);

using anvil::convertScalar;
using anvil::scalarConstant;

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_SCALAROPS_H

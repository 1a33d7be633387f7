//===- ScalarOps.h - anvil elementwise ops as arith/math scalars -*- C++
//-*-===//
//
// Bufferization turns every elementwise anvil op into a kernel.elementwise
// loop whose region computes one element with `arith` and `math` ops; these
// helpers build that scalar computation.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_LOWERING_SCALAROPS_H
#define ANVIL_COMPILER_LOWERING_SCALAROPS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

namespace anvil::lowering {

/// Whether `op` computes each output element from the matching (broadcast)
/// elements of its tensor operands alone. `anvil.expand` counts: it is the
/// identity with broadcasting (its shape operand is not an input).
bool isElementwise(mlir::Operation *op);

/// The number of leading operands of an elementwise op that are data (the
/// rest, such as expand's shape, are not read per element).
unsigned elementwiseDataOperands(mlir::Operation *op);

/// Builds `op`'s scalar computation on `operands` (one scalar per data
/// operand, of the operands' element types) at the builder's insertion
/// point. Emits an error on `op` and returns null for element types the
/// operation has no scalar form for.
mlir::Value buildScalar(mlir::OpBuilder &builder, mlir::Operation *op,
                        mlir::ValueRange operands);

/// A scalar constant of an int or float `type`; integers saturate to the
/// range of the (signed, or with `isUnsigned` unsigned) integers of that
/// width.
mlir::Value scalarConstant(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Type type, double value,
                           bool isUnsigned = false);

/// Converts a scalar between element types with ONNX Cast semantics
/// (bool is 0/1; float to int truncates). Scalars are signless: the
/// flags say whether the integers they hold are unsigned.
mlir::Value convertScalar(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value value, mlir::Type to,
                          bool fromUnsigned = false, bool toUnsigned = false);

} // namespace anvil::lowering

#endif // ANVIL_COMPILER_LOWERING_SCALAROPS_H

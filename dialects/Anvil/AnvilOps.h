//===- AnvilOps.h - operations of the anvil dialect --------------*- C++
//-*-===//

#ifndef ANVIL_DIALECTS_ANVIL_ANVILOPS_H
#define ANVIL_DIALECTS_ANVIL_ANVILOPS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Anvil/AnvilDialect.h"
#include "dialects/Anvil/ElementwisePayload.h"

namespace anvil {
class ScalarBuilder;
/// Verifies an op's declared result types against its shape inference.
mlir::LogicalResult verifyInferredResultTypes(mlir::Operation *op);
} // namespace anvil

#include "dialects/Anvil/AnvilEnums.h.inc"

namespace anvil {
/// Shape inference shared by the elementwise ops (AnvilShapeInference.cpp):
/// numpy broadcasting of two operands of one element type, and the input's
/// type.
mlir::LogicalResult
inferElementwiseBinary(mlir::Operation *op,
                       llvm::SmallVectorImpl<mlir::Type> &resultTypes);
mlir::LogicalResult
inferElementwiseUnary(mlir::Operation *op,
                      llvm::SmallVectorImpl<mlir::Type> &resultTypes);
/// anvil.compare's payload: an i1 from arith.cmpf (ordered, except `ne`,
/// which is true for NaN) or arith.cmpi (by the operands' sign).
mlir::Value buildComparison(ScalarBuilder &s, ComparePredicate predicate);
/// lhs ** rhs for an integer base and an integer exponent (ONNX Pow):
/// exact modulo 2^width (wrapping, as numpy computes it), by squaring
/// (math.ipowi on i64, so at most 64 steps whatever the exponent). A
/// negative exponent gives the truncated quotient 1 / base^-e: 1 for base
/// 1, +-1 for base -1, and 0 otherwise, base 0 included (integer x / 0 is
/// 0 in Anvil). `unsignedExponent`: whether the exponent is unsigned.
mlir::Value buildIntegerPow(ScalarBuilder &s, bool unsignedExponent);
/// The folder of elementwise ops: evaluates `op`'s payload on constant
/// operands (ElementwiseFolding.cpp); `rhsIdentity` folds `x op c` to x
/// when c is a splat of it.
mlir::OpFoldResult foldElementwise(mlir::Operation *op,
                                   llvm::ArrayRef<mlir::Attribute> operands,
                                   std::optional<double> rhsIdentity);
} // namespace anvil
#define GET_ATTRDEF_CLASSES
#include "dialects/Anvil/AnvilAttrs.h.inc"
#include "dialects/Anvil/AnvilInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/Anvil/AnvilOps.h.inc"

#endif // ANVIL_DIALECTS_ANVIL_ANVILOPS_H

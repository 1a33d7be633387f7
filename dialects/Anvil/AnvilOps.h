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

namespace anvil {
/// Verifies an op's declared result types against its shape inference.
mlir::LogicalResult verifyInferredResultTypes(mlir::Operation *op);
} // namespace anvil

#include "dialects/Anvil/AnvilEnums.h.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/Anvil/AnvilAttrs.h.inc"
#include "dialects/Anvil/AnvilInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/Anvil/AnvilOps.h.inc"

#endif // ANVIL_DIALECTS_ANVIL_ANVILOPS_H

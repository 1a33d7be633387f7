//===- Passes.h - Anvil graph passes -----------------------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_TRANSFORMS_PASSES_H
#define ANVIL_COMPILER_TRANSFORMS_PASSES_H

#include "dialects/Anvil/AnvilDialect.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace anvil {

#define GEN_PASS_DECL
#include "compiler/Transforms/Passes.h.inc"

/// Shape inference over one function, usable outside a pass: returns
/// failure after reporting contradictory types; `changed` tells whether any
/// type was refined.
mlir::LogicalResult inferShapes(mlir::func::FuncOp func, bool &changed);

/// Refines one op's result types from its operands; `changed` is set when
/// a type became more static.
mlir::LogicalResult refineResultTypes(anvil::InferShapeOpInterface op,
                                      bool &changed);

#define GEN_PASS_REGISTRATION
#include "compiler/Transforms/Passes.h.inc"

} // namespace anvil

#endif // ANVIL_COMPILER_TRANSFORMS_PASSES_H

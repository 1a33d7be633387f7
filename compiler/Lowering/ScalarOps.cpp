//===- ScalarOps.cpp - anvil elementwise ops as arith/math scalars --------===//

#include "compiler/Lowering/ScalarOps.h"
#include "dialects/Anvil/AnvilOps.h"

using namespace mlir;

namespace anvil::lowering {

bool isElementwise(Operation *op) { return isa<ElementwiseOpInterface>(op); }

unsigned elementwiseDataOperands(Operation *op) {
  return cast<ElementwiseOpInterface>(op).getNumDataOperands();
}

Value buildScalar(OpBuilder &builder, Operation *op, ValueRange operands) {
  ScalarBuilder scalarBuilder(builder, op, operands);
  return cast<ElementwiseOpInterface>(op).buildScalar(scalarBuilder);
}

} // namespace anvil::lowering

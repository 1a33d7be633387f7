//===- AnvilOps.cpp - operations of the anvil dialect ---------------------===//
//
// Generated op definitions plus the hand-written assembly of anvil.constant.
// Shape inference (and so verification) lives in AnvilShapeInference.cpp,
// folders in AnvilFolders.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace anvil;

#include "dialects/Anvil/AnvilInterfaces.cpp.inc"

// `anvil.constant dense<[1, 2]> : tensor<2xi64>`: the attribute carries the
// result type, so it is not repeated.
ParseResult ConstantOp::parse(OpAsmParser &parser, OperationState &result) {
  ElementsAttr value;
  if (parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseAttribute(value, "value", result.attributes))
    return failure();
  result.addTypes(value.getType());
  return success();
}

void ConstantOp::print(OpAsmPrinter &printer) {
  printer.printOptionalAttrDict((*this)->getAttrs(), {"value"});
  printer << ' ';
  printer.printAttribute(getValue());
}

#define GET_OP_CLASSES
#include "dialects/Anvil/AnvilOps.cpp.inc"

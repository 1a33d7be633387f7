//===- AnvilDialect.cpp - the anvil graph dialect -------------------------===//

#include "dialects/Anvil/AnvilDialect.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace anvil;

#include "dialects/Anvil/AnvilDialect.cpp.inc"
#include "dialects/Anvil/AnvilEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/Anvil/AnvilAttrs.cpp.inc"

void AnvilDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Anvil/AnvilOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Anvil/AnvilAttrs.cpp.inc"
      >();
}

Operation *AnvilDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  auto elements = value.dyn_cast<ElementsAttr>();
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}

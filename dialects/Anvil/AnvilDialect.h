//===- AnvilDialect.h - the anvil graph dialect ------------------*- C++
//-*-===//

#ifndef ANVIL_DIALECTS_ANVIL_ANVILDIALECT_H
#define ANVIL_DIALECTS_ANVIL_ANVILDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dialect.h"

#include "dialects/Anvil/AnvilDialect.h.inc"

#endif // ANVIL_DIALECTS_ANVIL_ANVILDIALECT_H

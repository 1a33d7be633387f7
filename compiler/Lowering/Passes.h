//===- Passes.h - lowering anvil to kernel programs --------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_LOWERING_PASSES_H
#define ANVIL_COMPILER_LOWERING_PASSES_H

#include "dialects/Kernel/KernelOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace anvil {

#define GEN_PASS_DECL
#include "compiler/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Lowering/Passes.h.inc"

} // namespace anvil

#endif // ANVIL_COMPILER_LOWERING_PASSES_H

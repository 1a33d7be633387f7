//===- Passes.h - lowering anvil to kernel programs --------------*- C++
//-*-===//

#ifndef ANVIL_COMPILER_LOWERING_PASSES_H
#define ANVIL_COMPILER_LOWERING_PASSES_H

#include "dialects/Kernel/KernelOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <functional>
#include <string>

namespace anvil {

#define GEN_PASS_DECL
#include "compiler/Lowering/Passes.h.inc"

/// A target's weight-packing hook: rewrites weights (and their launches)
/// into the layout the target's kernels want. Runs before offsets are given.
using WeightPacker = std::function<mlir::LogicalResult(mlir::ModuleOp)>;

/// Targets register their hook by name; anvil-pack-weights looks it up.
void registerWeightPacker(const std::string &target, WeightPacker packer);

#define GEN_PASS_REGISTRATION
#include "compiler/Lowering/Passes.h.inc"

} // namespace anvil

#endif // ANVIL_COMPILER_LOWERING_PASSES_H

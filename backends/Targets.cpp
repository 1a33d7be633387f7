//===- Targets.cpp - the target registry ----------------------------------===//

#include "backends/Target.h"
#include "backends/cpu/codegen/CpuTarget.h"
#include "compiler/Lowering/Passes.h"

namespace anvil::backend {

const std::vector<const Target *> &allTargets() {
  static const std::vector<const Target *> targets = {&cpu::cpuTarget()};
  return targets;
}

const Target *lookupTarget(llvm::StringRef name) {
  for (const Target *target : allTargets())
    if (target->name() == name)
      return target;
  return nullptr;
}

void registerTargets() {
  for (const Target *target : allTargets())
    registerWeightPacker(target->name(), [target](mlir::ModuleOp module) {
      return target->packWeights(module);
    });
}

} // namespace anvil::backend

//===- TargetRegistry.cpp - the one target registry -----------------------===//

#include "compiler/Target/Target.h"

#include "llvm/ADT/StringExtras.h"

namespace anvil::target {
namespace {

std::vector<const Target *> &registry() {
  static std::vector<const Target *> targets;
  return targets;
}

} // namespace

void registerTarget(const Target &target) {
  if (!lookupTarget(target.name()))
    registry().push_back(&target);
}

const std::vector<const Target *> &registeredTargets() { return registry(); }

const Target *lookupTarget(llvm::StringRef name) {
  for (const Target *target : registry())
    if (target->name() == name)
      return target;
  return nullptr;
}

std::string registeredTargetNames() {
  std::vector<std::string> names;
  for (const Target *target : registry())
    names.push_back(target->name());
  return names.empty() ? "none" : llvm::join(names, ", ");
}

} // namespace anvil::target

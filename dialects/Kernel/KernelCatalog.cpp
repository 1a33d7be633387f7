//===- KernelCatalog.cpp - KernelCatalog.def as a table --------------------===//

#include "dialects/Kernel/KernelCatalog.h"

using namespace mlir;

namespace anvil::kernel {
namespace {

#define ANVIL_NOT_IN_PLACE false
#define ANVIL_UPDATES_OUTPUT true
#define ANVIL_PARAM_SPEC(kind, name, when, capacity)                           \
  ParamSpec{#name, ParamKind::kind, #when[0] == 'S', capacity},
#define ANVIL_KERNEL(name, Camel, minInputs, maxInputs, outputs, inPlace,      \
                     PARAMS)                                                   \
  const ParamSpec name##Params[] = {PARAMS(ANVIL_PARAM_SPEC)};
#include "dialects/Kernel/KernelCatalog.def"

const KernelSpec kCatalog[] = {
#define ANVIL_KERNEL(name, Camel, minInputs, maxInputs, outputs, inPlace,      \
                     PARAMS)                                                   \
  KernelSpec{#name,     #Camel,  minInputs,    maxInputs,                      \
             outputs,   inPlace, name##Params},
#include "dialects/Kernel/KernelCatalog.def"
};

#undef ANVIL_PARAM_SPEC
#undef ANVIL_NOT_IN_PLACE
#undef ANVIL_UPDATES_OUTPUT

} // namespace

ArrayRef<KernelSpec> kernelCatalog() { return kCatalog; }

const KernelSpec *lookupKernel(StringRef name) {
  for (const KernelSpec &spec : kCatalog)
    if (spec.name == name)
      return &spec;
  return nullptr;
}

StringRef stringifyParamKind(ParamKind kind) {
  switch (kind) {
  case ParamKind::Int:
    return "an integer";
  case ParamKind::Bool:
    return "a boolean";
  case ParamKind::Real:
    return "a float";
  case ParamKind::Str:
    return "a string";
  case ParamKind::Ints:
    return "an integer array";
  }
  llvm_unreachable("unknown param kind");
}

namespace detail {
NamedAttribute attr(Builder &b, StringRef name, int64_t value) {
  return b.getNamedAttr(name, b.getI64IntegerAttr(value));
}
NamedAttribute attr(Builder &b, StringRef name, bool value) {
  return b.getNamedAttr(name, b.getBoolAttr(value));
}
NamedAttribute attr(Builder &b, StringRef name, double value) {
  return b.getNamedAttr(name, b.getF64FloatAttr(value));
}
NamedAttribute attr(Builder &b, StringRef name, StringRef value) {
  return b.getNamedAttr(name, b.getStringAttr(value));
}
NamedAttribute attr(Builder &b, StringRef name, const IntList &value) {
  return b.getNamedAttr(name, b.getDenseI64ArrayAttr(value.values));
}

LaunchOp buildLaunch(OpBuilder &b, Location loc, StringRef kernel,
                     ValueRange ins, ValueRange outs,
                     ArrayRef<NamedAttribute> params) {
  return b.create<LaunchOp>(loc, b.getStringAttr(kernel), ins, outs,
                            b.getDictionaryAttr(params));
}
} // namespace detail

} // namespace anvil::kernel

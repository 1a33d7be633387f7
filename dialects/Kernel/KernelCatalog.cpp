//===- KernelCatalog.cpp - KernelCatalog.def as a table
//--------------------===//

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
  KernelSpec{#name,   #Camel,  minInputs,   maxInputs,                         \
             outputs, inPlace, name##Params},
#include "dialects/Kernel/KernelCatalog.def"
};

#undef ANVIL_PARAM_SPEC
#undef ANVIL_NOT_IN_PLACE
#undef ANVIL_UPDATES_OUTPUT

} // namespace

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
  case ParamKind::Reals:
    return "a float array";
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
NamedAttribute attr(Builder &b, StringRef name, const RealList &value) {
  return b.getNamedAttr(name, b.getDenseF64ArrayAttr(value.values));
}

namespace {
AffineMap sizesMap(ArrayRef<AffineExpr> exprs, MLIRContext *context) {
  unsigned symbols = 0;
  for (AffineExpr e : exprs)
    e.walk([&](AffineExpr sub) {
      if (auto s = sub.dyn_cast<AffineSymbolExpr>())
        symbols = std::max(symbols, s.getPosition() + 1);
    });
  // Simplified, so that equal sizes print (and compare) alike.
  SmallVector<AffineExpr> simplified;
  for (AffineExpr e : exprs)
    simplified.push_back(simplifyAffineExpr(e, 0, symbols));
  return AffineMap::get(0, symbols, simplified, context);
}
} // namespace

NamedAttribute attr(Builder &b, StringRef name, const DimValue &value) {
  if (!value.expr)
    return b.getNamedAttr(name, b.getI64IntegerAttr(value.value));
  return b.getNamedAttr(
      name, AffineMapAttr::get(sizesMap(value.expr, b.getContext())));
}
NamedAttribute attr(Builder &b, StringRef name, const DimList &value) {
  bool symbolic = llvm::any_of(value.values,
                               [](const DimValue &v) { return (bool)v.expr; });
  if (!symbolic) {
    SmallVector<int64_t> ints;
    for (const DimValue &v : value.values)
      ints.push_back(v.value);
    return b.getNamedAttr(name, b.getDenseI64ArrayAttr(ints));
  }
  SmallVector<AffineExpr> exprs;
  for (const DimValue &v : value.values)
    exprs.push_back(v.expr ? v.expr
                           : getAffineConstantExpr(v.value, b.getContext()));
  return b.getNamedAttr(name,
                        AffineMapAttr::get(sizesMap(exprs, b.getContext())));
}

LaunchOp buildLaunch(OpBuilder &b, Location loc, StringRef kernel,
                     ValueRange ins, ValueRange outs,
                     ArrayRef<NamedAttribute> params) {
  return b.create<LaunchOp>(loc, b.getStringAttr(kernel), ins, outs,
                            b.getDictionaryAttr(params));
}
} // namespace detail

} // namespace anvil::kernel

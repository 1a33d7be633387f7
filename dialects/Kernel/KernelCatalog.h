//===- KernelCatalog.h - the kernel catalog, compiler side ------*- C++ -*-===//
//
// KernelCatalog.def read by the compiler: a table of every kernel's
// contract, which the `kernel.launch` verifier checks, and one typed builder
// per kernel, which the lowering fills instead of writing name strings and
// dictionaries:
//
//   kernel::MatmulLaunch l;
//   l.m = 4; l.n = 8; l.k = 16; l.transpose_rhs = false; ...
//   l.build(b, loc, {lhs, rhs}, out);
//
// A field left unset is left out of the launch, so the verifier reports it
// by name instead of the kernel reading a zero.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_KERNEL_KERNELCATALOG_H
#define ANVIL_DIALECTS_KERNEL_KERNELCATALOG_H

#include "dialects/Kernel/KernelOps.h"
#include "dialects/Kernel/KernelParams.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringRef.h"

#include <initializer_list>
#include <iterator>
#include <optional>

namespace anvil::kernel {

enum class ParamKind { Int, Bool, Real, Str, Ints, Reals };

/// Bytes a Str param holds with its terminating zero: the size of the
/// kernels' char arrays (KernelParams.h).
constexpr int64_t kMaxStringParam = ANVIL_KERNEL_MAX_STRING;

struct ParamSpec {
  llvm::StringLiteral name;
  ParamKind kind;
  bool isStatic;    // a compile-time constant, never a run-time size
  int64_t capacity; // array entries (Ints, Reals), else 1
};

struct KernelSpec {
  llvm::StringLiteral name;  // as in `kernel.launch "name"`
  llvm::StringLiteral camel; // the parameter struct is <camel>Params
  unsigned minInputs, maxInputs, outputs;
  bool updatesOutput; // reads its output, which the lowering fills first
  llvm::ArrayRef<ParamSpec> params;
};

/// The kernel named `name`, or null.
const KernelSpec *lookupKernel(llvm::StringRef name);

llvm::StringRef stringifyParamKind(ParamKind kind);

namespace detail {
/// A value for a `Runtime` integer param: an integer, or an expression over
/// the function's sizes (symbol i is the entry point's sizes[i]); constant
/// expressions are integers.
struct DimValue {
  int64_t value = 0;
  mlir::AffineExpr expr;
  DimValue(int64_t value) : value(value) {}
  DimValue(int value) : value(value) {}
  DimValue(mlir::AffineExpr expr) : expr(expr) {
    if (auto c = expr.dyn_cast<mlir::AffineConstantExpr>())
      value = c.getValue(), this->expr = nullptr;
  }
};

/// A value for a `Runtime` `Ints` param: integers or size expressions.
struct DimList {
  llvm::SmallVector<DimValue, 8> values;
  DimList(std::initializer_list<int64_t> list)
      : values(list.begin(), list.end()) {}
  template <class Range>
  DimList(const Range &range) : values(std::begin(range), std::end(range)) {}
};

/// A value for a `Static` `Ints` param: any range of integers.
struct IntList {
  llvm::SmallVector<int64_t, 8> values;
  IntList(std::initializer_list<int64_t> list) : values(list) {}
  template <class Range>
  IntList(const Range &range) : values(std::begin(range), std::end(range)) {}
};

mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name,
                          int64_t value);
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name, bool value);
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name, double value);
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name,
                          llvm::StringRef value);
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name,
                          const IntList &value);
/// A value for a `Static` `Reals` param: any range of doubles.
struct RealList {
  llvm::SmallVector<double, 8> values;
  RealList(std::initializer_list<double> list) : values(list) {}
  template <class Range>
  RealList(const Range &range) : values(std::begin(range), std::end(range)) {}
};
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name,
                          const RealList &value);
/// An integer attribute, or an affine map () [sizes] -> (expr).
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name,
                          const DimValue &value);
/// A dense i64 array, or an affine map () [sizes] -> (e0, e1, ...) when an
/// entry depends on the sizes.
mlir::NamedAttribute attr(mlir::Builder &b, llvm::StringRef name,
                          const DimList &value);

LaunchOp buildLaunch(mlir::OpBuilder &b, mlir::Location loc,
                     llvm::StringRef kernel, mlir::ValueRange ins,
                     mlir::ValueRange outs,
                     llvm::ArrayRef<mlir::NamedAttribute> params);

using IntStaticValue = int64_t;
using IntRuntimeValue = DimValue;
using BoolStaticValue = bool;
using RealStaticValue = double;
using StrStaticValue = llvm::StringRef;
using IntsStaticValue = IntList;
using IntsRuntimeValue = DimList;
using RealsStaticValue = RealList;
} // namespace detail

#define ANVIL_LAUNCH_FIELD(kind, name, when, capacity)                         \
  std::optional<detail::kind##when##Value> name;
#define ANVIL_LAUNCH_ATTR(kind, name, when, capacity)                          \
  if (name)                                                                    \
    attrs_.push_back(detail::attr(builder_, #name, *name));
// (Locals end in '_' so that no parameter name can shadow them.)
#define ANVIL_KERNEL(kernelName, Camel, minInputs, maxInputs, outputs,         \
                     inPlace, PARAMS)                                          \
  struct Camel##Launch {                                                       \
    static constexpr llvm::StringLiteral kKernel = #kernelName;                \
    PARAMS(ANVIL_LAUNCH_FIELD)                                                 \
    LaunchOp build(mlir::OpBuilder &builder_, mlir::Location loc_,             \
                   mlir::ValueRange ins_, mlir::ValueRange outs_) const {      \
      llvm::SmallVector<mlir::NamedAttribute> attrs_;                          \
      PARAMS(ANVIL_LAUNCH_ATTR)                                                \
      return detail::buildLaunch(builder_, loc_, kKernel, ins_, outs_,         \
                                 attrs_);                                      \
    }                                                                          \
  };
#include "dialects/Kernel/KernelCatalog.def"
#undef ANVIL_LAUNCH_FIELD
#undef ANVIL_LAUNCH_ATTR

} // namespace anvil::kernel

#endif // ANVIL_DIALECTS_KERNEL_KERNELCATALOG_H

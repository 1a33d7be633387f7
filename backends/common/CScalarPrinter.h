//===- CScalarPrinter.h - arith/math scalars as C-family code ----*- C++
//-*-===//
//
// The body of a kernel.elementwise loop is one element's computation in
// `arith` and `math` ops: each anvil op's payload, declared once in ODS.
// This printer writes it as C-family statements (`const T tN = expr;`),
// one per op, for every target whose language is C-like (C++ on the cpu
// target; CUDA, HIP and HLS C++ later): a target supplies only how it
// spells element types and where its kernel library's scalar helpers live.
//
// Semantics every target's helpers must give (the folder evaluates
// payloads the same way, dialects/Anvil/ElementwiseFolding.cpp):
// div_int/rem_int: x / 0 and x % 0 are 0, INT_MIN / -1 wraps;
// max_nan/min_nan: NaN if either operand is NaN; float_to_int<T>: values
// out of T's range (and NaN) give T's minimum (signed) or 0 (unsigned).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_BACKENDS_COMMON_CSCALARPRINTER_H
#define ANVIL_BACKENDS_COMMON_CSCALARPRINTER_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace anvil::backend {

/// How one C-family target spells things.
struct CDialect {
  /// The type holding one element of the signless or signed `type` ("float",
  /// "int8_t", "anvil::cpu::f16"); with `forceUnsigned`, the unsigned
  /// integer type of the same width. "" if the target has none.
  std::string (*typeName)(mlir::Type type, bool forceUnsigned);
  /// Prefix of the kernel library's scalar helpers ("anvil::cpu::").
  std::string helperPrefix;
  /// The functions math.exp, math.erf and math.tanh of a 32-bit float
  /// call (ones that vectorize, say); empty: std::exp, std::erf, std::tanh.
  std::string floatExp = {};
  std::string floatErf = {};
  std::string floatTanh = {};
};

/// A literal of a float `value` converted to `type`, exact (17 digits) and
/// with NaN and infinities spelled through std::numeric_limits.
std::string cFloatLiteral(double value, llvm::StringRef type);

/// Prints the scalar ops of one elementwise body. `names` maps values
/// already printed (the loop's element arguments) to their C names; the
/// printer adds `t<next>` for each op it prints.
class CScalarPrinter {
public:
  CScalarPrinter(const CDialect &dialect, llvm::raw_ostream &os,
                 llvm::DenseMap<mlir::Value, std::string> &names, int &next,
                 llvm::StringRef indent)
      : dialect(dialect), os(os), names(names), next(next), indent(indent) {}

  /// Prints `op` as one statement; emits an error on it and fails for an
  /// op or a type the printer or the target cannot express.
  mlir::LogicalResult print(mlir::Operation *op);

private:
  const CDialect &dialect;
  llvm::raw_ostream &os;
  llvm::DenseMap<mlir::Value, std::string> &names;
  int &next;
  std::string indent;

  std::string typeName(mlir::Type type) const {
    return dialect.typeName(type, false);
  }
  std::string unsignedType(mlir::Type type) const;
  std::string v(mlir::Value value) const { return names.lookup(value); }
  /// `value` reinterpreted as the unsigned integer of its width.
  std::string u(mlir::Value value) const {
    return "static_cast<" + unsignedType(value.getType()) + ">(" + v(value) +
           ")";
  }
};

} // namespace anvil::backend

#endif // ANVIL_BACKENDS_COMMON_CSCALARPRINTER_H

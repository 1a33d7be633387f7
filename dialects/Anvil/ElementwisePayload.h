//===- ElementwisePayload.h - one element of an elementwise op ---*- C++
//-*-===//
//
// Every elementwise anvil op declares its math once, in ODS, as a payload:
// C++ that builds the computation of one result element from one element
// of each data operand with `arith` and `math` ops. That one definition
// serves the lowering (kernel.elementwise bodies), the constant folder
// (ElementwiseFolding.cpp evaluates the payload) and, through the C-family
// scalar printer, every target that prints C-like code.
//
// Scalars are signless (arith's convention): the operand's tensor element
// type says whether an integer is unsigned.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_DIALECTS_ANVIL_ELEMENTWISEPAYLOAD_H
#define ANVIL_DIALECTS_ANVIL_ELEMENTWISEPAYLOAD_H

#include "dialects/ElementTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <cmath>
#include <optional>
#include <type_traits>

namespace anvil {

// Payloads in AnvilOps.td are written in namespace anvil with these names.
namespace arith = ::mlir::arith;
namespace math = ::mlir::math;
using ::mlir::Value;

/// A scalar constant of an int or float `type`; integers saturate to the
/// range of the (signed, or with `isUnsigned` unsigned) integers of that
/// width, NaN becomes 0.
mlir::Value scalarConstant(mlir::OpBuilder &builder, mlir::Location loc,
                           mlir::Type type, double value,
                           bool isUnsigned = false);

/// Converts a scalar between (signless) element types with ONNX Cast
/// semantics: nonzero (and NaN) is true; float to int truncates toward
/// zero; the flags say whether the integers are unsigned.
mlir::Value convertScalar(mlir::OpBuilder &builder, mlir::Location loc,
                          mlir::Value value, mlir::Type to,
                          bool fromUnsigned = false, bool toUnsigned = false);

/// What a payload builds with: the builder, the op whose element it
/// computes, and one scalar argument per data operand.
class ScalarBuilder {
public:
  /// `diagnose`: whether fail() reports on the op (the lowering) or stays
  /// quiet (the folder, which simply does not fold).
  ScalarBuilder(mlir::OpBuilder &b, mlir::Operation *op, mlir::ValueRange args,
                bool diagnose = true)
      : b(b), op(op), loc(op->getLoc()), args(args), diagnose(diagnose) {}

  mlir::OpBuilder &b;
  mlir::Operation *op;
  mlir::Location loc;

  mlir::Value arg(unsigned i) const { return args[i]; }
  /// The (signless) type of the first data operand's elements.
  mlir::Type type() const { return args[0].getType(); }
  bool isFloat() const { return type().isa<mlir::FloatType>(); }
  /// Whether operand `i` holds unsigned integers (or i1, which is 0/1).
  bool isUnsigned(unsigned i = 0) const;
  /// A constant of the first operand's type.
  mlir::Value constant(double v) const {
    return scalarConstant(b, loc, type(), v, isUnsigned());
  }
  /// Reports that the op has no scalar form for the element type; returns
  /// null, which every payload returns in turn.
  mlir::Value fail() const;

  /// arith's float op on floats, the integer op otherwise (void: floats
  /// only).
  template <typename FloatOp, typename IntOp = void>
  mlir::Value binary() const {
    if (isFloat())
      return b.create<FloatOp>(loc, arg(0), arg(1));
    if constexpr (std::is_same_v<IntOp, void>)
      return fail();
    else
      return b.create<IntOp>(loc, arg(0), arg(1));
  }
  /// The signed or unsigned integer op by the operand's sign.
  template <typename FloatOp, typename SignedOp, typename UnsignedOp>
  mlir::Value binarySigned() const {
    return isUnsigned() ? binary<FloatOp, UnsignedOp>()
                        : binary<FloatOp, SignedOp>();
  }
  /// A one-operand `math` op, floats only.
  template <typename FloatOp> mlir::Value floatUnary() const {
    if (!isFloat())
      return fail();
    return b.create<FloatOp>(loc, arg(0));
  }
  /// 1 / (1 + exp(-x)).
  mlir::Value sigmoid(mlir::Value x) const;

private:
  mlir::ValueRange args;
  bool diagnose;
};

} // namespace anvil

#endif // ANVIL_DIALECTS_ANVIL_ELEMENTWISEPAYLOAD_H

//===- ScalarOps.cpp - anvil elementwise ops as arith/math scalars --------===//

#include "compiler/Lowering/ScalarOps.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Kernel/KernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace anvil::lowering {

bool isElementwise(Operation *op) {
  return isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp, MinOp, ModOp, AndOp,
             OrOp, XorOp, CompareOp, NegOp, AbsOp, SignOp, SqrtOp, RsqrtOp,
             ExpOp, LogOp, TanhOp, SigmoidOp, ErfOp, SinOp, CosOp, ReciprocalOp,
             FloorOp, CeilOp, RoundOp, ReluOp, NotOp, SiluOp, GeluOp, ClipOp,
             LeakyReluOp, WhereOp, CastOp, ExpandOp>(op);
}

unsigned elementwiseDataOperands(Operation *op) {
  return isa<ExpandOp>(op) ? 1 : op->getNumOperands();
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value,
                     bool isUnsigned) {
  if (auto floatType = type.dyn_cast<FloatType>())
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(floatType, value));
  // Integers saturate to the type's range (Clip's bounds arrive as
  // doubles: INT64_MAX is 2^63 there, which does not convert).
  unsigned width = type.getIntOrFloatBitWidth();
  APInt integer;
  if (width == 1)
    integer = APInt(1, value != 0);
  else if (std::isnan(value))
    integer = APInt(width, 0);
  else if (isUnsigned)
    integer = value <= 0 ? APInt(width, 0)
              : value >= std::ldexp(1.0, width)
                  ? APInt::getMaxValue(width)
                  : APInt(width, static_cast<uint64_t>(value));
  else if (value >= std::ldexp(1.0, width - 1))
    integer = APInt::getSignedMaxValue(width);
  else if (value < -std::ldexp(1.0, width - 1))
    integer = APInt::getSignedMinValue(width);
  else
    integer = APInt(width, static_cast<int64_t>(value), /*isSigned=*/true);
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, integer));
}

Value convertScalar(OpBuilder &b, Location loc, Value value, Type to,
                    bool fromUnsigned, bool toUnsigned) {
  Type from = value.getType();
  if (from == to)
    return value;
  bool fromFloat = from.isa<FloatType>(), toFloat = to.isa<FloatType>();
  if (to.isInteger(1)) {
    // Nonzero is true; NaN is true too (as in numpy and ONNX Runtime).
    Value zero = scalarConstant(b, loc, from, 0);
    if (fromFloat)
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, value,
                                     zero);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, value, zero);
  }
  if (fromFloat && toFloat) {
    unsigned fromBits = from.getIntOrFloatBitWidth();
    unsigned toBits = to.getIntOrFloatBitWidth();
    if (toBits == fromBits) { // f16 <-> bf16: through f32
      value = b.create<arith::ExtFOp>(loc, b.getF32Type(), value);
      return b.create<arith::TruncFOp>(loc, to, value);
    }
    return toBits > fromBits
               ? b.create<arith::ExtFOp>(loc, to, value).getResult()
               : b.create<arith::TruncFOp>(loc, to, value).getResult();
  }
  fromUnsigned = fromUnsigned || from.isInteger(1);
  if (fromFloat)
    return toUnsigned ? b.create<arith::FPToUIOp>(loc, to, value).getResult()
                      : b.create<arith::FPToSIOp>(loc, to, value).getResult();
  if (toFloat)
    return fromUnsigned ? b.create<arith::UIToFPOp>(loc, to, value).getResult()
                        : b.create<arith::SIToFPOp>(loc, to, value).getResult();
  unsigned fromBits = from.getIntOrFloatBitWidth();
  unsigned toBits = to.getIntOrFloatBitWidth();
  if (toBits > fromBits)
    return fromUnsigned ? b.create<arith::ExtUIOp>(loc, to, value).getResult()
                        : b.create<arith::ExtSIOp>(loc, to, value).getResult();
  if (toBits < fromBits)
    return b.create<arith::TruncIOp>(loc, to, value);
  return b.create<arith::BitcastOp>(loc, to, value);
}

namespace {

arith::CmpFPredicate floatPredicate(ComparePredicate p) {
  switch (p) {
  case ComparePredicate::eq:
    return arith::CmpFPredicate::OEQ;
  case ComparePredicate::ne:
    return arith::CmpFPredicate::UNE;
  case ComparePredicate::lt:
    return arith::CmpFPredicate::OLT;
  case ComparePredicate::le:
    return arith::CmpFPredicate::OLE;
  case ComparePredicate::gt:
    return arith::CmpFPredicate::OGT;
  case ComparePredicate::ge:
    return arith::CmpFPredicate::OGE;
  }
  llvm_unreachable("unknown predicate");
}

arith::CmpIPredicate intPredicate(ComparePredicate p, bool isUnsigned) {
  switch (p) {
  case ComparePredicate::eq:
    return arith::CmpIPredicate::eq;
  case ComparePredicate::ne:
    return arith::CmpIPredicate::ne;
  case ComparePredicate::lt:
    return isUnsigned ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt;
  case ComparePredicate::le:
    return isUnsigned ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle;
  case ComparePredicate::gt:
    return isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt;
  case ComparePredicate::ge:
    return isUnsigned ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge;
  }
  llvm_unreachable("unknown predicate");
}

/// Builds scalar code for one op; `fail()` reports unsupported types.
struct ScalarBuilder {
  OpBuilder &b;
  Operation *op;
  Location loc;
  ValueRange args;

  Value arg(unsigned i) const { return args[i]; }
  Type type() const { return args[0].getType(); }
  bool isFloat() const { return type().isa<FloatType>(); }
  /// Scalars are signless; the tensor's element type keeps the sign.
  bool isUnsigned() const {
    Type element = getElementTypeOrSelf(op->getOperand(0).getType());
    return element.isUnsignedInteger() || element.isInteger(1);
  }
  Value constant(double v) const {
    return scalarConstant(b, loc, type(), v, isUnsigned());
  }

  Value fail() const {
    op->emitOpError("has no scalar form for element type ") << type();
    return nullptr;
  }

  template <typename FloatOp, typename IntOp> Value binary() const {
    if (isFloat())
      return b.create<FloatOp>(loc, arg(0), arg(1));
    if constexpr (std::is_same_v<IntOp, void>)
      return fail();
    else
      return b.create<IntOp>(loc, arg(0), arg(1));
  }

  template <typename FloatOp> Value floatUnary() const {
    if (!isFloat())
      return fail();
    return b.create<FloatOp>(loc, arg(0));
  }

  Value sigmoid(Value x) const {
    Value one = scalarConstant(b, loc, x.getType(), 1);
    Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
    return b.create<arith::DivFOp>(loc, one,
                                   b.create<arith::AddFOp>(loc, one, e));
  }

  Value build() const {
    return llvm::TypeSwitch<Operation *, Value>(op)
        .Case([&](AddOp) { return binary<arith::AddFOp, arith::AddIOp>(); })
        .Case([&](SubOp) { return binary<arith::SubFOp, arith::SubIOp>(); })
        .Case([&](MulOp) { return binary<arith::MulFOp, arith::MulIOp>(); })
        .Case([&](DivOp) {
          return isUnsigned() ? binary<arith::DivFOp, arith::DivUIOp>()
                              : binary<arith::DivFOp, arith::DivSIOp>();
        })
        .Case([&](PowOp) -> Value {
          bool unsignedExponent =
              getElementTypeOrSelf(op->getOperand(1).getType())
                  .isUnsignedInteger();
          if (isFloat()) {
            Value exponent =
                convertScalar(b, loc, arg(1), type(), unsignedExponent);
            return b.create<math::PowFOp>(loc, arg(0), exponent);
          }
          // Integer bases: computed in double and truncated, as ONNX
          // Runtime does (exact while the result fits 53 bits).
          Type f64 = b.getF64Type();
          Value base = convertScalar(b, loc, arg(0), f64, isUnsigned());
          Value exponent = convertScalar(b, loc, arg(1), f64, unsignedExponent);
          Value result = b.create<math::PowFOp>(loc, base, exponent);
          return convertScalar(b, loc, result, type(), false, isUnsigned());
        })
        .Case([&](MaxOp) {
          return isUnsigned() ? binary<arith::MaxFOp, arith::MaxUIOp>()
                              : binary<arith::MaxFOp, arith::MaxSIOp>();
        })
        .Case([&](MinOp) {
          return isUnsigned() ? binary<arith::MinFOp, arith::MinUIOp>()
                              : binary<arith::MinFOp, arith::MinSIOp>();
        })
        .Case([&](ModOp mod) -> Value {
          if (isFloat())
            return b.create<arith::RemFOp>(loc, arg(0), arg(1));
          if (isUnsigned())
            return b.create<arith::RemUIOp>(loc, arg(0), arg(1));
          Value rem = b.create<arith::RemSIOp>(loc, arg(0), arg(1));
          if (mod.getFmod())
            return rem;
          // Python-style: the result takes the divisor's sign.
          Value zero = constant(0);
          Value remNeg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                                 rem, zero);
          Value divNeg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                                 arg(1), zero);
          Value nonzero =
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, rem, zero);
          Value signsDiffer = b.create<arith::XOrIOp>(loc, remNeg, divNeg);
          Value adjust = b.create<arith::AndIOp>(loc, signsDiffer, nonzero);
          Value adjusted = b.create<arith::AddIOp>(loc, rem, arg(1));
          return b.create<arith::SelectOp>(loc, adjust, adjusted, rem);
        })
        .Case(
            [&](AndOp) { return b.create<arith::AndIOp>(loc, arg(0), arg(1)); })
        .Case([&](OrOp) { return b.create<arith::OrIOp>(loc, arg(0), arg(1)); })
        .Case(
            [&](XorOp) { return b.create<arith::XOrIOp>(loc, arg(0), arg(1)); })
        .Case([&](CompareOp cmp) -> Value {
          if (isFloat())
            return b.create<arith::CmpFOp>(
                loc, floatPredicate(cmp.getPredicate()), arg(0), arg(1));
          return b.create<arith::CmpIOp>(
              loc, intPredicate(cmp.getPredicate(), isUnsigned()), arg(0),
              arg(1));
        })
        .Case([&](NegOp) -> Value {
          if (isFloat())
            return b.create<arith::NegFOp>(loc, arg(0));
          return b.create<arith::SubIOp>(loc, constant(0), arg(0));
        })
        .Case([&](AbsOp) -> Value {
          if (isFloat())
            return b.create<math::AbsFOp>(loc, arg(0));
          if (isUnsigned())
            return arg(0);
          return b.create<math::AbsIOp>(loc, arg(0));
        })
        .Case([&](SignOp) -> Value {
          Value zero = constant(0), one = constant(1);
          if (isUnsigned()) { // 0 or 1
            Value pos = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                                arg(0), zero);
            return b.create<arith::SelectOp>(loc, pos, one, zero);
          }
          Value minusOne = constant(-1);
          Value pos, neg;
          if (isFloat()) {
            pos = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT,
                                          arg(0), zero);
            neg = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT,
                                          arg(0), zero);
          } else {
            pos = b.create<arith::CmpIOp>(loc,
                                          isUnsigned()
                                              ? arith::CmpIPredicate::ugt
                                              : arith::CmpIPredicate::sgt,
                                          arg(0), zero);
            neg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                          arg(0), zero);
          }
          // NaN stays NaN: neither branch picks a constant for it.
          Value rest = isFloat()
                           ? b.create<arith::SelectOp>(
                                  loc, neg, minusOne,
                                  b.create<arith::SelectOp>(
                                      loc,
                                      b.create<arith::CmpFOp>(
                                          loc, arith::CmpFPredicate::UNO,
                                          arg(0), arg(0)),
                                      arg(0), zero))
                                 .getResult()
                           : b.create<arith::SelectOp>(loc, neg, minusOne, zero)
                                 .getResult();
          return b.create<arith::SelectOp>(loc, pos, one, rest);
        })
        .Case([&](SqrtOp) { return floatUnary<math::SqrtOp>(); })
        .Case([&](RsqrtOp) { return floatUnary<math::RsqrtOp>(); })
        .Case([&](ExpOp) { return floatUnary<math::ExpOp>(); })
        .Case([&](LogOp) { return floatUnary<math::LogOp>(); })
        .Case([&](TanhOp) { return floatUnary<math::TanhOp>(); })
        .Case([&](ErfOp) { return floatUnary<math::ErfOp>(); })
        .Case([&](SinOp) { return floatUnary<math::SinOp>(); })
        .Case([&](CosOp) { return floatUnary<math::CosOp>(); })
        .Case([&](FloorOp) { return floatUnary<math::FloorOp>(); })
        .Case([&](CeilOp) { return floatUnary<math::CeilOp>(); })
        .Case([&](RoundOp) { return floatUnary<math::RoundEvenOp>(); })
        .Case([&](SigmoidOp) -> Value {
          if (!isFloat())
            return fail();
          return sigmoid(arg(0));
        })
        .Case([&](SiluOp) -> Value {
          if (!isFloat())
            return fail();
          return b.create<arith::MulFOp>(loc, arg(0), sigmoid(arg(0)));
        })
        .Case([&](ReciprocalOp) -> Value {
          if (!isFloat())
            return fail();
          return b.create<arith::DivFOp>(loc, constant(1), arg(0));
        })
        .Case([&](ReluOp) -> Value {
          if (isFloat())
            return b.create<arith::MaxFOp>(loc, arg(0), constant(0));
          return b.create<arith::MaxSIOp>(loc, arg(0), constant(0));
        })
        .Case([&](NotOp) {
          return b.create<arith::XOrIOp>(loc, arg(0), constant(1));
        })
        .Case([&](GeluOp gelu) -> Value {
          if (!isFloat())
            return fail();
          Value x = arg(0), half = constant(0.5), one = constant(1);
          Value inner;
          if (gelu.getApproximation() == GeluApproximation::tanh) {
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            Value x3 = b.create<arith::MulFOp>(
                loc, x, b.create<arith::MulFOp>(loc, x, x));
            Value poly = b.create<arith::AddFOp>(
                loc, x, b.create<arith::MulFOp>(loc, constant(0.044715), x3));
            inner = b.create<math::TanhOp>(
                loc, b.create<arith::MulFOp>(
                         loc, constant(std::sqrt(2.0 / M_PI)), poly));
          } else {
            inner = b.create<math::ErfOp>(
                loc, b.create<arith::MulFOp>(loc, x, constant(M_SQRT1_2)));
          }
          Value scaled = b.create<arith::MulFOp>(loc, half, x);
          return b.create<arith::MulFOp>(
              loc, scaled, b.create<arith::AddFOp>(loc, one, inner));
        })
        .Case([&](ClipOp clip) -> Value {
          Value v = arg(0);
          auto bound = [&](std::optional<APFloat> limit, bool isMin) {
            if (!limit)
              return;
            Value c = constant(limit->convertToDouble());
            if (isFloat())
              v = isMin ? b.create<arith::MaxFOp>(loc, v, c).getResult()
                        : b.create<arith::MinFOp>(loc, v, c).getResult();
            else if (isUnsigned())
              v = isMin ? b.create<arith::MaxUIOp>(loc, v, c).getResult()
                        : b.create<arith::MinUIOp>(loc, v, c).getResult();
            else
              v = isMin ? b.create<arith::MaxSIOp>(loc, v, c).getResult()
                        : b.create<arith::MinSIOp>(loc, v, c).getResult();
          };
          bound(clip.getMin(), true);
          bound(clip.getMax(), false);
          return v;
        })
        .Case([&](LeakyReluOp leaky) -> Value {
          if (!isFloat())
            return fail();
          Value alpha = constant(leaky.getAlpha().convertToDouble());
          Value negative = b.create<arith::CmpFOp>(
              loc, arith::CmpFPredicate::OLT, arg(0), constant(0));
          return b.create<arith::SelectOp>(
              loc, negative, b.create<arith::MulFOp>(loc, alpha, arg(0)),
              arg(0));
        })
        .Case([&](WhereOp) {
          return b.create<arith::SelectOp>(loc, arg(0), arg(1), arg(2));
        })
        .Case([&](CastOp cast) {
          Type to = cast.getType().cast<ShapedType>().getElementType();
          return convertScalar(b, loc, arg(0), kernel::signless(to),
                               isUnsigned() && !type().isInteger(1),
                               to.isUnsignedInteger());
        })
        .Case([&](ExpandOp) { return arg(0); })
        .Default([&](Operation *) -> Value {
          op->emitOpError("is not elementwise");
          return nullptr;
        });
  }
};

} // namespace

Value buildScalar(OpBuilder &builder, Operation *op, ValueRange operands) {
  return ScalarBuilder{builder, op, op->getLoc(), operands}.build();
}

} // namespace anvil::lowering

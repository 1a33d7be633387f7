//===- ElementwisePayload.cpp - helpers that payloads build with ----------===//

#include "dialects/Anvil/ElementwisePayload.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;

namespace anvil {

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

bool ScalarBuilder::isUnsigned(unsigned i) const {
  Type element = getElementTypeOrSelf(op->getOperand(i).getType());
  return element.isUnsignedInteger() || element.isInteger(1);
}

Value ScalarBuilder::fail() const {
  if (diagnose)
    op->emitOpError("has no scalar form for element type ") << type();
  return nullptr;
}

Value ScalarBuilder::sigmoid(Value x) const {
  Value one = scalarConstant(b, loc, x.getType(), 1);
  Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
  return b.create<arith::DivFOp>(loc, one,
                                 b.create<arith::AddFOp>(loc, one, e));
}

Value buildComparison(ScalarBuilder &s, ComparePredicate predicate) {
  if (s.isFloat()) {
    arith::CmpFPredicate p = arith::CmpFPredicate::OEQ;
    switch (predicate) {
    case ComparePredicate::eq:
      p = arith::CmpFPredicate::OEQ;
      break;
    case ComparePredicate::ne:
      p = arith::CmpFPredicate::UNE;
      break;
    case ComparePredicate::lt:
      p = arith::CmpFPredicate::OLT;
      break;
    case ComparePredicate::le:
      p = arith::CmpFPredicate::OLE;
      break;
    case ComparePredicate::gt:
      p = arith::CmpFPredicate::OGT;
      break;
    case ComparePredicate::ge:
      p = arith::CmpFPredicate::OGE;
      break;
    }
    return s.b.create<arith::CmpFOp>(s.loc, p, s.arg(0), s.arg(1));
  }
  bool u = s.isUnsigned();
  arith::CmpIPredicate p = arith::CmpIPredicate::eq;
  switch (predicate) {
  case ComparePredicate::eq:
    p = arith::CmpIPredicate::eq;
    break;
  case ComparePredicate::ne:
    p = arith::CmpIPredicate::ne;
    break;
  case ComparePredicate::lt:
    p = u ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt;
    break;
  case ComparePredicate::le:
    p = u ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle;
    break;
  case ComparePredicate::gt:
    p = u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt;
    break;
  case ComparePredicate::ge:
    p = u ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge;
    break;
  }
  return s.b.create<arith::CmpIOp>(s.loc, p, s.arg(0), s.arg(1));
}

Value buildIntegerPow(ScalarBuilder &s, bool unsignedExponent) {
  OpBuilder &b = s.b;
  Location loc = s.loc;
  Type i64 = b.getI64Type();
  bool unsignedBase = s.isUnsigned(0);
  Type exponentType = s.arg(1).getType();
  Value base = convertScalar(b, loc, s.arg(0), i64, unsignedBase);
  Value exponent = convertScalar(b, loc, s.arg(1), i64,
                                 unsignedExponent || exponentType.isInteger(1));
  Value result;
  if (unsignedExponent && exponentType.getIntOrFloatBitWidth() == 64) {
    // A u64 exponent may exceed INT64_MAX, which ipowi reads as negative:
    // b^e = (b^(e >> 1))^2 * b^(e & 1).
    Value one = scalarConstant(b, loc, i64, 1);
    Value half = b.create<arith::ShRUIOp>(loc, exponent, one);
    Value root = b.create<math::IPowIOp>(loc, base, half);
    Value square = b.create<arith::MulIOp>(loc, root, root);
    Value odd =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                b.create<arith::AndIOp>(loc, exponent, one),
                                scalarConstant(b, loc, i64, 0));
    result = b.create<arith::SelectOp>(
        loc, odd, b.create<arith::MulIOp>(loc, square, base), square);
  } else {
    result = b.create<math::IPowIOp>(loc, base, exponent);
  }
  if (unsignedBase && !unsignedExponent) {
    // ipowi reads a zero-extended u64 base as signed (2^64 - 1 as -1); an
    // unsigned base to a negative power is 0 unless the base is 1.
    Value negative =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, exponent,
                                scalarConstant(b, loc, i64, 0));
    Value isOne = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, base,
                                          scalarConstant(b, loc, i64, 1));
    result = b.create<arith::SelectOp>(
        loc, negative, b.create<arith::ExtUIOp>(loc, i64, isOne), result);
  }
  return convertScalar(b, loc, result, s.type(), false, unsignedBase);
}

} // namespace anvil

//===- ElementwiseFolding.cpp - folding elementwise ops by their payload --===//
//
// An elementwise op folds by evaluating its payload (ElementwisePayload.h):
// the same arith/math ops the lowering builds and the targets print. Each
// of those ops is given here the meaning the C-family scalar printer and
// the kernel library give it (integer x / 0 is 0, max/min propagate NaN,
// float to int out of range gives the minimum, shifts past the width give
// 0), and every result is rounded to its type, so a folded constant equals
// what the compiled kernel would compute. Folding is for shape arithmetic
// and trivial cases: it stops at kFoldElementLimit elements.
//
//===----------------------------------------------------------------------===//

#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Kernel/FloatMath.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace anvil {
namespace {

/// One scalar. Floats: a double holding a value of their type. Integers
/// (signless): the low `width` bits, sign-extended; i1 is 0 or 1.
struct Scalar {
  double f = 0;
  int64_t i = 0;
};

unsigned widthOf(Type type) { return type.getIntOrFloatBitWidth(); }

int64_t wrap(unsigned width, uint64_t bits) {
  if (width >= 64)
    return static_cast<int64_t>(bits);
  if (width == 1)
    return bits & 1;
  unsigned shift = 64 - width;
  return static_cast<int64_t>(bits << shift) >> shift;
}

uint64_t zext(unsigned width, int64_t value) {
  if (width >= 64)
    return static_cast<uint64_t>(value);
  return static_cast<uint64_t>(value) & ((uint64_t(1) << width) - 1);
}

double roundTo(Type type, double value) {
  return roundToFloatType(type, value);
}

class PayloadEvaluator {
public:
  void set(Value value, Scalar scalar) { values[value] = scalar; }
  Scalar get(Value value) const { return values.lookup(value); }
  /// Evaluates one op of a payload; failure for ops it does not know (the
  /// op is then not folded).
  LogicalResult evaluate(Operation &op);

private:
  llvm::DenseMap<Value, Scalar> values;
};

LogicalResult PayloadEvaluator::evaluate(Operation &op) {
  if (op.getNumResults() != 1)
    return failure();
  Value result = op.getResult(0);
  Type type = result.getType();
  auto in = [&](unsigned k) { return get(op.getOperand(k)); };
  auto inType = [&](unsigned k) { return op.getOperand(k).getType(); };
  Scalar r;
  bool known = true;
  auto floatOp = [&](auto fn) { r.f = roundTo(type, fn()); };
  // A libm function as the printed C++ calls it: in float for types of 32
  // bits or fewer (f16 and bf16 convert to float), in double for f64.
  // Computing in double and rounding would differ from the kernel in the
  // last bit where the float function is not correctly rounded.
  bool single = type.isa<FloatType>() && widthOf(type) <= 32;
  auto libm = [&](auto fn) {
    r.f = single ? roundTo(type, fn(static_cast<float>(in(0).f)))
                 : roundTo(type, fn(in(0).f));
  };
  // f32 exp, tanh and erf: the cpu kernels' vectorizable functions
  // (FloatMath.h), as the printed C++ calls them (CScalarPrinter's
  // floatExp, floatTanh, floatErf); other types libm's.
  auto floatLibm = [&](float (*f32)(float), auto fn) {
    if (type.isF32())
      r.f = roundTo(type, f32(static_cast<float>(in(0).f)));
    else
      libm(fn);
  };
  auto intOp = [&](auto fn) { r.i = wrap(widthOf(type), fn()); };
  unsigned w =
      type.isIntOrFloat() && !type.isa<FloatType>() ? widthOf(type) : 0;
  auto u = [&](unsigned k) { return zext(widthOf(inType(k)), in(k).i); };
  llvm::TypeSwitch<Operation *>(&op)
      .Case([&](arith::ConstantOp c) {
        if (auto f = c.getValue().dyn_cast<FloatAttr>())
          r.f = roundTo(type, f.getValueAsDouble());
        else if (auto i = c.getValue().dyn_cast<IntegerAttr>())
          r.i = wrap(w, i.getValue().getZExtValue());
        else
          known = false;
      })
      .Case([&](arith::AddFOp) { floatOp([&] { return in(0).f + in(1).f; }); })
      .Case([&](arith::SubFOp) { floatOp([&] { return in(0).f - in(1).f; }); })
      .Case([&](arith::MulFOp) { floatOp([&] { return in(0).f * in(1).f; }); })
      .Case([&](arith::DivFOp) { floatOp([&] { return in(0).f / in(1).f; }); })
      .Case([&](arith::RemFOp) {
        floatOp([&] { return std::fmod(in(0).f, in(1).f); });
      })
      .Case([&](arith::NegFOp) { floatOp([&] { return -in(0).f; }); })
      .Case<arith::MaxFOp, arith::MinFOp>([&](auto m) {
        bool isMax = isa<arith::MaxFOp>(m.getOperation());
        double a = in(0).f, b = in(1).f;
        r.f = std::isnan(a)             ? a
              : std::isnan(b)           ? b
              : (isMax ? a > b : a < b) ? a
                                        : b;
      })
      .Case([&](arith::AddIOp) { intOp([&] { return u(0) + u(1); }); })
      .Case([&](arith::SubIOp) { intOp([&] { return u(0) - u(1); }); })
      .Case([&](arith::MulIOp) { intOp([&] { return u(0) * u(1); }); })
      .Case([&](arith::DivSIOp) {
        int64_t a = in(0).i, b = in(1).i;
        intOp([&]() -> uint64_t {
          if (b == 0)
            return 0;
          if (b == -1)
            return uint64_t(0) - uint64_t(a);
          return uint64_t(a / b);
        });
      })
      .Case([&](arith::DivUIOp) {
        intOp([&]() -> uint64_t { return u(1) == 0 ? 0 : u(0) / u(1); });
      })
      .Case([&](arith::RemSIOp) {
        int64_t a = in(0).i, b = in(1).i;
        intOp([&]() -> uint64_t {
          return (b == 0 || b == -1) ? 0 : uint64_t(a % b);
        });
      })
      .Case([&](arith::RemUIOp) {
        intOp([&]() -> uint64_t { return u(1) == 0 ? 0 : u(0) % u(1); });
      })
      .Case([&](arith::MaxSIOp) { r.i = std::max(in(0).i, in(1).i); })
      .Case([&](arith::MinSIOp) { r.i = std::min(in(0).i, in(1).i); })
      .Case(
          [&](arith::MaxUIOp) { intOp([&] { return std::max(u(0), u(1)); }); })
      .Case(
          [&](arith::MinUIOp) { intOp([&] { return std::min(u(0), u(1)); }); })
      .Case([&](arith::AndIOp) { intOp([&] { return u(0) & u(1); }); })
      .Case([&](arith::OrIOp) { intOp([&] { return u(0) | u(1); }); })
      .Case([&](arith::XOrIOp) { intOp([&] { return u(0) ^ u(1); }); })
      .Case([&](arith::ShLIOp) {
        intOp([&]() -> uint64_t { return u(1) >= w ? 0 : u(0) << u(1); });
      })
      .Case([&](arith::ShRUIOp) {
        intOp([&]() -> uint64_t { return u(1) >= w ? 0 : u(0) >> u(1); });
      })
      .Case([&](arith::CmpFOp cmp) {
        double a = in(0).f, b = in(1).f;
        switch (cmp.getPredicate()) {
        case arith::CmpFPredicate::OEQ:
          r.i = a == b;
          break;
        case arith::CmpFPredicate::UNE:
          r.i = a != b;
          break;
        case arith::CmpFPredicate::OLT:
          r.i = a < b;
          break;
        case arith::CmpFPredicate::OLE:
          r.i = a <= b;
          break;
        case arith::CmpFPredicate::OGT:
          r.i = a > b;
          break;
        case arith::CmpFPredicate::OGE:
          r.i = a >= b;
          break;
        case arith::CmpFPredicate::UNO:
          r.i = std::isnan(a) || std::isnan(b);
          break;
        default:
          known = false;
        }
      })
      .Case([&](arith::CmpIOp cmp) {
        int64_t a = in(0).i, b = in(1).i;
        uint64_t ua = u(0), ub = u(1);
        switch (cmp.getPredicate()) {
        case arith::CmpIPredicate::eq:
          r.i = a == b;
          break;
        case arith::CmpIPredicate::ne:
          r.i = a != b;
          break;
        case arith::CmpIPredicate::slt:
          r.i = a < b;
          break;
        case arith::CmpIPredicate::sle:
          r.i = a <= b;
          break;
        case arith::CmpIPredicate::sgt:
          r.i = a > b;
          break;
        case arith::CmpIPredicate::sge:
          r.i = a >= b;
          break;
        case arith::CmpIPredicate::ult:
          r.i = ua < ub;
          break;
        case arith::CmpIPredicate::ule:
          r.i = ua <= ub;
          break;
        case arith::CmpIPredicate::ugt:
          r.i = ua > ub;
          break;
        case arith::CmpIPredicate::uge:
          r.i = ua >= ub;
          break;
        }
      })
      .Case([&](arith::SelectOp) { r = in(0).i ? in(1) : in(2); })
      .Case<arith::ExtFOp, arith::TruncFOp>(
          [&](auto) { r.f = roundTo(type, in(0).f); })
      .Case([&](arith::SIToFPOp) {
        r.f = roundTo(type, static_cast<double>(in(0).i));
      })
      .Case([&](arith::UIToFPOp) {
        r.f = roundTo(type, static_cast<double>(u(0)));
      })
      .Case([&](arith::FPToSIOp) {
        r.i = wrap(w, uint64_t(floatToInt(in(0).f, w, false)));
      })
      .Case([&](arith::FPToUIOp) {
        r.i = wrap(w, uint64_t(floatToInt(in(0).f, w, true)));
      })
      .Case([&](arith::ExtSIOp) {
        r.i = widthOf(inType(0)) == 1 ? -in(0).i : in(0).i;
      })
      .Case([&](arith::ExtUIOp) { intOp([&] { return u(0); }); })
      .Case([&](arith::TruncIOp) { intOp([&] { return u(0); }); })
      .Case([&](arith::BitcastOp) {
        // Only integer reinterpretations of one width come from payloads.
        if (type.isa<FloatType>() || inType(0).isa<FloatType>())
          known = false;
        else
          r = in(0);
      })
      .Case([&](math::AbsFOp) { floatOp([&] { return std::fabs(in(0).f); }); })
      .Case([&](math::AbsIOp) {
        intOp([&] { return in(0).i < 0 ? uint64_t(0) - u(0) : u(0); });
      })
      .Case([&](math::SqrtOp) { libm([](auto x) { return std::sqrt(x); }); })
      .Case([&](math::RsqrtOp) {
        // Printed as T(1) / std::sqrt(x): two roundings.
        libm([](auto x) { return decltype(x)(1) / std::sqrt(x); });
      })
      .Case([&](math::ExpOp) {
        floatLibm(cpu::exp_f32, [](auto x) { return std::exp(x); });
      })
      .Case([&](math::LogOp) { libm([](auto x) { return std::log(x); }); })
      .Case([&](math::TanhOp) {
        floatLibm(cpu::tanh_f32, [](auto x) { return std::tanh(x); });
      })
      .Case([&](math::ErfOp) {
        floatLibm(cpu::erf_f32, [](auto x) { return std::erf(x); });
      })
      .Case([&](math::SinOp) { libm([](auto x) { return std::sin(x); }); })
      .Case([&](math::CosOp) { libm([](auto x) { return std::cos(x); }); })
      .Case([&](math::AtanOp) { libm([](auto x) { return std::atan(x); }); })
      .Case([&](math::Log1pOp) { libm([](auto x) { return std::log1p(x); }); })
      .Case([&](math::Atan2Op) {
        r.f = single ? roundTo(type, std::atan2(static_cast<float>(in(0).f),
                                                static_cast<float>(in(1).f)))
                     : roundTo(type, std::atan2(in(0).f, in(1).f));
      })
      .Case(
          [&](math::FloorOp) { floatOp([&] { return std::floor(in(0).f); }); })
      .Case([&](math::CeilOp) { floatOp([&] { return std::ceil(in(0).f); }); })
      .Case([&](math::RoundEvenOp) {
        floatOp([&] { return std::nearbyint(in(0).f); });
      })
      .Case([&](math::PowFOp) {
        double a = in(0).f, b = in(1).f;
        r.f = single ? roundTo(type, std::pow(static_cast<float>(a),
                                              static_cast<float>(b)))
                     : std::pow(a, b);
      })
      .Case([&](math::IPowIOp) {
        // As the kernels' ipow_int: by squaring, wrapping; negative
        // exponents give 1 / a^-e truncated (0 for a == 0).
        int64_t a = in(0).i, e = in(1).i;
        intOp([&]() -> uint64_t {
          if (e < 0)
            return a == 1 ? 1 : a == -1 ? ((e & 1) ? uint64_t(-1) : 1) : 0;
          uint64_t result = 1, base = uint64_t(a);
          for (uint64_t n = uint64_t(e); n; n >>= 1) {
            if (n & 1)
              result *= base;
            base *= base;
          }
          return result;
        });
      })
      .Default([&](Operation *) { known = false; });
  if (!known)
    return failure();
  set(result, r);
  return success();
}

} // namespace

OpFoldResult foldElementwise(Operation *op, ArrayRef<Attribute> operands,
                             std::optional<double> rhsIdentity) {
  Value lhs = op->getOperand(0);
  if (rhsIdentity && operands.size() >= 2 &&
      lhs.getType() == op->getResult(0).getType() &&
      isConstantSplat(operands[1], *rhsIdentity))
    return lhs;
  auto resultType = op->getResult(0).getType().dyn_cast<RankedTensorType>();
  if (!resultType || !withinFoldLimit(resultType))
    return {};
  auto elementwise = cast<ElementwiseOpInterface>(op);
  unsigned numData = elementwise.getNumDataOperands();
  SmallVector<ConstantTensor> inputs;
  for (unsigned k = 0; k < numData; ++k) {
    std::optional<ConstantTensor> tensor =
        k < operands.size() ? readConstant(operands[k]) : std::nullopt;
    if (!tensor)
      return {};
    inputs.push_back(std::move(*tensor));
  }

  // Build the payload once, in a block of its own, and evaluate it per
  // element. The block (and the ops in it) is destroyed on return.
  Block scratch;
  for (unsigned k = 0; k < numData; ++k)
    scratch.addArgument(
        signlessType(getElementTypeOrSelf(op->getOperand(k).getType())),
        op->getLoc());
  OpBuilder builder(op->getContext());
  builder.setInsertionPointToEnd(&scratch);
  ScalarBuilder scalarBuilder(builder, op, scratch.getArguments(),
                              /*diagnose=*/false);
  Value payload = elementwise.buildScalar(scalarBuilder);
  if (!payload)
    return {};

  Type resultElement = resultType.getElementType();
  bool floatResult = resultElement.isa<FloatType>();
  bool unsignedResult = resultElement.isUnsignedInteger();
  unsigned resultWidth = resultElement.getIntOrFloatBitWidth();
  ArrayRef<int64_t> shape = resultType.getShape();
  int64_t count = resultType.getNumElements();
  SmallVector<int64_t> ints;
  SmallVector<double> floats;
  PayloadEvaluator evaluator;
  for (int64_t i = 0; i < count; ++i) {
    for (unsigned k = 0; k < numData; ++k) {
      int64_t j = broadcastIndex(shape, inputs[k].type.getShape(), i);
      Type argType = scratch.getArgument(k).getType();
      Scalar value;
      if (argType.isa<FloatType>())
        value.f = inputs[k].asDouble(j);
      else
        value.i = wrap(widthOf(argType), inputs[k].asInt(j));
      evaluator.set(scratch.getArgument(k), value);
    }
    for (Operation &payloadOp : scratch)
      if (failed(evaluator.evaluate(payloadOp)))
        return {};
    Scalar r = evaluator.get(payload);
    if (floatResult)
      floats.push_back(r.f);
    else
      ints.push_back(
          unsignedResult ? static_cast<int64_t>(zext(resultWidth, r.i)) : r.i);
  }
  return floatResult ? buildDense(resultType, floats)
                     : buildDense(resultType, ints);
}

} // namespace anvil

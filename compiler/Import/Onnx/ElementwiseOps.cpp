//===- ElementwiseOps.cpp - importers for elementwise ONNX ops ------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"

#include "onnx/onnx_pb.h"

#include <limits>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

template <typename OpTy> LogicalResult importBinary(NodeContext &ctx) {
  Value lhs = ctx.requiredInput(0, "A"), rhs = ctx.requiredInput(1, "B");
  if (!lhs || !rhs)
    return failure();
  Type elementType = ctx.elementTypeOf(lhs);
  if (ctx.elementTypeOf(rhs) != elementType) {
    // Only Pow allows a differently typed exponent; convert it.
    if (!std::is_same_v<OpTy, PowOp>)
      return ctx.error() << "operands have different element types "
                         << elementType << " and " << ctx.elementTypeOf(rhs);
    FailureOr<Value> cast = ctx.create<CastOp>(elementType, rhs);
    if (failed(cast))
      return failure();
    rhs = *cast;
  }
  return ctx.produce(ctx.create<OpTy>(elementType, lhs, rhs));
}

/// Max, Min, Sum take any number of inputs: fold them left to right.
template <typename OpTy> LogicalResult importVariadic(NodeContext &ctx) {
  Value acc = ctx.requiredInput(0, "data_0");
  if (!acc)
    return failure();
  for (size_t i = 1; i < ctx.numInputs(); ++i) {
    // (An omitted entry, "", is an error, not a null operand.)
    Value input = ctx.requiredInput(i, "data_" + std::to_string(i));
    if (!input)
      return failure();
    FailureOr<Value> next =
        ctx.create<OpTy>(ctx.elementTypeOf(acc), acc, input);
    if (failed(next))
      return failure();
    acc = *next;
  }
  ctx.results.push_back(acc);
  return success();
}

LogicalResult importMean(NodeContext &ctx) {
  if (failed(importVariadic<AddOp>(ctx)))
    return failure();
  Value sum = ctx.results.pop_back_val();
  Type elementType = ctx.elementTypeOf(sum);
  return ctx.produce(ctx.create<DivOp>(
      elementType, sum, ctx.constantScalar(elementType, ctx.numInputs())));
}

template <ComparePredicate predicate>
LogicalResult importCompare(NodeContext &ctx) {
  Value lhs = ctx.requiredInput(0, "A"), rhs = ctx.requiredInput(1, "B");
  if (!lhs || !rhs)
    return failure();
  return ctx.produce(ctx.create<CompareOp>(
      ctx.builder.getI1Type(), lhs, rhs,
      ComparePredicateAttr::get(ctx.builder.getContext(), predicate)));
}

template <typename OpTy> LogicalResult importUnary(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  return ctx.produce(ctx.create<OpTy>(ctx.elementTypeOf(x), x));
}

LogicalResult importIdentity(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  ctx.results.push_back(x);
  return success();
}

/// Inference-time Dropout is the identity and its mask is all true.
LogicalResult importDropout(NodeContext &ctx) {
  auto training = ctx.constantScalarInput(2, "training_mode");
  if (failed(training))
    return failure();
  if (*training && **training != 0)
    return ctx.error() << "training_mode=true is not supported (inference "
                          "only)";
  if (failed(importIdentity(ctx)))
    return failure();
  if (ctx.node.output_size() < 2)
    return success();
  Value x = ctx.results.front();
  Builder &b = ctx.builder;
  FailureOr<Value> shape = ctx.create<ShapeOfOp>(
      b.getI64Type(), x, b.getI64IntegerAttr(0), IntegerAttr());
  if (failed(shape))
    return failure();
  auto one =
      DenseElementsAttr::get(RankedTensorType::get({1}, b.getI1Type()), true);
  return ctx.produce(ctx.create<FillOp>(b.getI1Type(), *shape, one));
}

LogicalResult importLeakyRelu(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  return ctx.produce(ctx.create<LeakyReluOp>(
      ctx.elementTypeOf(x), x,
      ctx.builder.getF32FloatAttr(ctx.attrFloat("alpha", 0.01f))));
}

LogicalResult importGelu(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  std::string approximate = ctx.attrString("approximate", "none");
  GeluApproximation kind;
  if (approximate == "none")
    kind = GeluApproximation::none;
  else if (approximate == "tanh")
    kind = GeluApproximation::tanh;
  else
    return ctx.error() << "unknown approximation '" << approximate << "'";
  return ctx.produce(ctx.create<GeluOp>(
      ctx.elementTypeOf(x), x,
      GeluApproximationAttr::get(ctx.builder.getContext(), kind)));
}

LogicalResult importClip(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  auto lo = ctx.constantScalarInput(1, "min");
  auto hi = ctx.constantScalarInput(2, "max");
  if (failed(lo) || failed(hi))
    return failure();
  FloatAttr minAttr = *lo ? ctx.builder.getF64FloatAttr(**lo) : FloatAttr();
  FloatAttr maxAttr = *hi ? ctx.builder.getF64FloatAttr(**hi) : FloatAttr();
  return ctx.produce(
      ctx.create<ClipOp>(ctx.elementTypeOf(x), x, minAttr, maxAttr));
}

/// HardSigmoid: max(0, min(1, alpha * x + beta)).
FailureOr<Value> buildHardSigmoid(NodeContext &ctx, Value x, double alpha,
                                  double beta) {
  Type t = ctx.elementTypeOf(x);
  FailureOr<Value> scaled =
      ctx.create<MulOp>(t, x, ctx.constantScalar(t, alpha));
  if (failed(scaled))
    return failure();
  FailureOr<Value> shifted =
      ctx.create<AddOp>(t, *scaled, ctx.constantScalar(t, beta));
  if (failed(shifted))
    return failure();
  return ctx.create<ClipOp>(t, *shifted, ctx.builder.getF64FloatAttr(0),
                            ctx.builder.getF64FloatAttr(1));
}

LogicalResult importHardSigmoid(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  return ctx.produce(buildHardSigmoid(ctx, x, ctx.attrFloat("alpha", 0.2f),
                                      ctx.attrFloat("beta", 0.5f)));
}

LogicalResult importHardSwish(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  FailureOr<Value> gate = buildHardSigmoid(ctx, x, 1.0 / 6, 0.5);
  if (failed(gate))
    return failure();
  return ctx.produce(ctx.create<MulOp>(ctx.elementTypeOf(x), x, *gate));
}

LogicalResult importCast(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  if (!x)
    return failure();
  int to = ctx.attrInt("to", 0);
  Type target = convertDataType(ctx.builder.getContext(), to);
  if (!target)
    return ctx.error() << "cannot cast to " << dataTypeName(to);
  return ctx.produce(ctx.create<CastOp>(target, x));
}

LogicalResult importCastLike(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input");
  Value like = ctx.requiredInput(1, "target_type");
  if (!x || !like)
    return failure();
  return ctx.produce(ctx.create<CastOp>(ctx.elementTypeOf(like), x));
}

LogicalResult importWhere(NodeContext &ctx) {
  Value c = ctx.requiredInput(0, "condition");
  Value a = ctx.requiredInput(1, "X"), b = ctx.requiredInput(2, "Y");
  if (!c || !a || !b)
    return failure();
  return ctx.produce(ctx.create<WhereOp>(ctx.elementTypeOf(a), c, a, b));
}

LogicalResult importMod(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), b = ctx.requiredInput(1, "B");
  if (!a || !b)
    return failure();
  return ctx.produce(ctx.create<ModOp>(ctx.elementTypeOf(a), a, b,
                                       ctx.attrInt("fmod", 0) != 0));
}

LogicalResult importBitShift(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), y = ctx.requiredInput(1, "Y");
  if (!x || !y)
    return failure();
  std::string direction = ctx.attrString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return ctx.error() << "BitShift needs direction LEFT or RIGHT, not '"
                       << direction << "'";
  Type type = ctx.elementTypeOf(x);
  if (!type.isUnsignedInteger())
    return ctx.error() << "BitShift needs unsigned integers, not " << type;
  return ctx.produce(ctx.create<BitShiftOp>(type, x, y, direction == "LEFT"));
}

/// Builds chains of elementwise ops of one element type for ops ONNX defines
/// as formulas. After the first failure every call returns null, and
/// `failed()` says so.
class FormulaBuilder {
public:
  FormulaBuilder(NodeContext &ctx, Type type) : ctx(ctx), type(type) {}

  Value constant(double value) { return ctx.constantScalar(type, value); }
  template <typename OpTy> Value unary(Value a) {
    return take(a ? ctx.create<OpTy>(type, a) : FailureOr<Value>(failure()));
  }
  template <typename OpTy> Value binary(Value a, Value b) {
    return take(a && b ? ctx.create<OpTy>(type, a, b)
                       : FailureOr<Value>(failure()));
  }
  Value compare(ComparePredicate predicate, Value a, Value b) {
    if (!a || !b)
      return take(failure());
    return take(ctx.create<CompareOp>(
        ctx.builder.getI1Type(), a, b,
        ComparePredicateAttr::get(ctx.builder.getContext(), predicate)));
  }
  Value select(Value condition, Value a, Value b) {
    return take(condition && a && b ? ctx.create<WhereOp>(type, condition, a, b)
                                    : FailureOr<Value>(failure()));
  }
  /// log(1 + exp(x))
  Value softplus(Value x) {
    return unary<LogOp>(binary<AddOp>(unary<ExpOp>(x), constant(1)));
  }
  /// alpha * (exp(x) - 1), the negative branch of ELU-like ops.
  Value expm1Scaled(Value x, double alpha) {
    return binary<MulOp>(binary<SubOp>(unary<ExpOp>(x), constant(1)),
                         constant(alpha));
  }
  bool failed() const { return hasFailed; }

private:
  Value take(FailureOr<Value> value) {
    if (mlir::failed(value) || hasFailed) {
      hasFailed = true;
      return Value();
    }
    return *value;
  }

  NodeContext &ctx;
  Type type;
  bool hasFailed = false;
};

/// Imports an op defined by a formula over its input X (and attributes).
template <Value (*formula)(NodeContext &, FormulaBuilder &, Value)>
LogicalResult importFormula(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  FormulaBuilder f(ctx, ctx.elementTypeOf(x));
  Value y = formula(ctx, f, x);
  if (f.failed() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

Value eluFormula(NodeContext &ctx, FormulaBuilder &f, Value x) {
  double alpha = ctx.attrFloat("alpha", 1.0f);
  return f.select(f.compare(ComparePredicate::lt, x, f.constant(0)),
                  f.expm1Scaled(x, alpha), x);
}
Value seluFormula(NodeContext &ctx, FormulaBuilder &f, Value x) {
  double alpha = ctx.attrFloat("alpha", 1.67326319217681884765625f);
  double gamma = ctx.attrFloat("gamma", 1.05070102214813232421875f);
  Value inner = f.select(f.compare(ComparePredicate::gt, x, f.constant(0)), x,
                         f.expm1Scaled(x, alpha));
  return f.binary<MulOp>(inner, f.constant(gamma));
}
Value celuFormula(NodeContext &ctx, FormulaBuilder &f, Value x) {
  double alpha = ctx.attrFloat("alpha", 1.0f);
  Value negative = f.expm1Scaled(f.binary<DivOp>(x, f.constant(alpha)), alpha);
  return f.binary<AddOp>(f.binary<MaxOp>(x, f.constant(0)),
                         f.binary<MinOp>(negative, f.constant(0)));
}
Value thresholdedReluFormula(NodeContext &ctx, FormulaBuilder &f, Value x) {
  double alpha = ctx.attrFloat("alpha", 1.0f);
  return f.select(f.compare(ComparePredicate::gt, x, f.constant(alpha)), x,
                  f.constant(0));
}
Value softplusFormula(NodeContext &, FormulaBuilder &f, Value x) {
  return f.softplus(x);
}
Value softsignFormula(NodeContext &, FormulaBuilder &f, Value x) {
  return f.binary<DivOp>(x, f.binary<AddOp>(f.unary<AbsOp>(x), f.constant(1)));
}
Value mishFormula(NodeContext &, FormulaBuilder &f, Value x) {
  return f.binary<MulOp>(x, f.unary<TanhOp>(f.softplus(x)));
}
Value tanFormula(NodeContext &, FormulaBuilder &f, Value x) {
  return f.binary<DivOp>(f.unary<SinOp>(x), f.unary<CosOp>(x));
}
/// sinh / cosh: (exp(x) -/+ exp(-x)) / 2
template <bool isCosh>
Value hyperbolicFormula(NodeContext &, FormulaBuilder &f, Value x) {
  Value a = f.unary<ExpOp>(x), b = f.unary<ExpOp>(f.unary<NegOp>(x));
  Value sum = isCosh ? f.binary<AddOp>(a, b) : f.binary<SubOp>(a, b);
  return f.binary<MulOp>(sum, f.constant(0.5));
}

LogicalResult importPRelu(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), slope = ctx.requiredInput(1, "slope");
  if (!x || !slope)
    return failure();
  FormulaBuilder f(ctx, ctx.elementTypeOf(x));
  Value y = f.select(f.compare(ComparePredicate::lt, x, f.constant(0)),
                     f.binary<MulOp>(x, slope), x);
  if (f.failed())
    return failure();
  ctx.results.push_back(y);
  return success();
}

/// IsNaN: NaN is the only value that differs from itself.
LogicalResult importIsNaN(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  return ctx.produce(
      ctx.create<CompareOp>(ctx.builder.getI1Type(), x, x,
                            ComparePredicateAttr::get(ctx.builder.getContext(),
                                                      ComparePredicate::ne)));
}

//===--- IsInf, Shrink (formulas over existing anvil ops) ----------------===//

/// IsInf: x == +inf and/or x == -inf (|x| == inf when both are detected;
/// x < -inf, false everywhere, when neither is).
LogicalResult importIsInf(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  Type type = ctx.elementTypeOf(x);
  if (!type.isa<FloatType>())
    return ctx.error() << "X must hold floating-point values, got " << type;
  bool positive = ctx.attrInt("detect_positive", 1) != 0;
  bool negative = ctx.attrInt("detect_negative", 1) != 0;
  FormulaBuilder f(ctx, type);
  double inf = std::numeric_limits<double>::infinity();
  Value y;
  if (positive && negative)
    y = f.compare(ComparePredicate::eq, f.unary<AbsOp>(x), f.constant(inf));
  else if (positive)
    y = f.compare(ComparePredicate::eq, x, f.constant(inf));
  else if (negative)
    y = f.compare(ComparePredicate::eq, x, f.constant(-inf));
  else
    y = f.compare(ComparePredicate::lt, x, f.constant(-inf));
  if (f.failed() || !y)
    return failure();
  ctx.results.push_back(y);
  return success();
}

/// Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0.
Value shrinkFormula(NodeContext &ctx, FormulaBuilder &f, Value x) {
  double lambd = ctx.attrFloat("lambd", 0.5f);
  double bias = ctx.attrFloat("bias", 0.0f);
  Value upper = f.select(f.compare(ComparePredicate::gt, x, f.constant(lambd)),
                         f.binary<SubOp>(x, f.constant(bias)), f.constant(0));
  return f.select(f.compare(ComparePredicate::lt, x, f.constant(-lambd)),
                  f.binary<AddOp>(x, f.constant(bias)), upper);
}

/// BitwiseNot: x xor all-ones.
LogicalResult importBitwiseNot(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  Type type = ctx.elementTypeOf(x);
  if (!type.isa<IntegerType>() || type.isInteger(1))
    return ctx.error() << "BitwiseNot needs an integer input";
  return ctx.produce(
      ctx.create<XorOp>(type, x, ctx.constantScalar(type, -1.0)));
}

} // namespace

void addElementwiseOps(OpTable &t) {
  t.add("", "Add", importBinary<AddOp>);
  t.add("", "Sub", importBinary<SubOp>);
  t.add("", "Mul", importBinary<MulOp>);
  t.add("", "Div", importBinary<DivOp>);
  t.add("", "Pow", importBinary<PowOp>);
  t.add("", "Mod", importMod);
  t.add("", "And", importBinary<AndOp>);
  t.add("", "Or", importBinary<OrOp>);
  t.add("", "Xor", importBinary<XorOp>);
  t.add("", "BitwiseAnd", importBinary<AndOp>);
  t.add("", "BitwiseOr", importBinary<OrOp>);
  t.add("", "BitwiseXor", importBinary<XorOp>);
  t.add("", "BitwiseNot", importBitwiseNot);
  t.add("", "BitShift", importBitShift);
  t.add("", "Max", importVariadic<MaxOp>);
  t.add("", "Min", importVariadic<MinOp>);
  t.add("", "Sum", importVariadic<AddOp>);
  t.add("", "Mean", importMean);
  t.add("", "Equal", importCompare<ComparePredicate::eq>);
  t.add("", "Less", importCompare<ComparePredicate::lt>);
  t.add("", "LessOrEqual", importCompare<ComparePredicate::le>);
  t.add("", "Greater", importCompare<ComparePredicate::gt>);
  t.add("", "GreaterOrEqual", importCompare<ComparePredicate::ge>);
  t.add("", "Not", importUnary<NotOp>);
  t.add("", "Neg", importUnary<NegOp>);
  t.add("", "Abs", importUnary<AbsOp>);
  t.add("", "Sign", importUnary<SignOp>);
  t.add("", "Sqrt", importUnary<SqrtOp>);
  t.add("", "Reciprocal", importUnary<ReciprocalOp>);
  t.add("", "Exp", importUnary<ExpOp>);
  t.add("", "Log", importUnary<LogOp>);
  t.add("", "Tanh", importUnary<TanhOp>);
  t.add("", "Sigmoid", importUnary<SigmoidOp>);
  t.add("", "Erf", importUnary<ErfOp>);
  t.add("", "Sin", importUnary<SinOp>);
  t.add("", "Cos", importUnary<CosOp>);
  t.add("", "Atan", importUnary<AtanOp>);
  t.add("", "Floor", importUnary<FloorOp>);
  t.add("", "Ceil", importUnary<CeilOp>);
  t.add("", "Round", importUnary<RoundOp>);
  t.add("", "Relu", importUnary<ReluOp>);
  t.add("", "LeakyRelu", importLeakyRelu);
  t.add("", "Gelu", importGelu);
  t.add("", "HardSigmoid", importHardSigmoid);
  t.add("", "HardSwish", importHardSwish);
  t.add("", "Clip", importClip);
  t.add("", "Cast", importCast);
  t.add("", "CastLike", importCastLike);
  t.add("", "Identity", importIdentity);
  t.add("", "Dropout", importDropout);
  t.add("", "Where", importWhere);
  // Ops ONNX defines by formulas, built from the ops above.
  t.add("", "Elu", importFormula<eluFormula>);
  t.add("", "Selu", importFormula<seluFormula>);
  t.add("", "Celu", importFormula<celuFormula>);
  t.add("", "ThresholdedRelu", importFormula<thresholdedReluFormula>);
  t.add("", "Softplus", importFormula<softplusFormula>);
  t.add("", "Softsign", importFormula<softsignFormula>);
  t.add("", "Mish", importFormula<mishFormula>);
  t.add("", "Tan", importFormula<tanFormula>);
  t.add("", "Sinh", importFormula<hyperbolicFormula<false>>);
  t.add("", "Cosh", importFormula<hyperbolicFormula<true>>);
  t.add("", "PRelu", importPRelu);
  t.add("", "IsNaN", importIsNaN);
  t.add("", "Asin", importUnary<AsinOp>);
  t.add("", "Acos", importUnary<AcosOp>);
  t.add("", "Asinh", importUnary<AsinhOp>);
  t.add("", "Acosh", importUnary<AcoshOp>);
  t.add("", "Atanh", importUnary<AtanhOp>);
  t.add("", "IsInf", importIsInf);
  t.add("", "Shrink", importFormula<shrinkFormula>);
}

} // namespace anvil::onnx_import

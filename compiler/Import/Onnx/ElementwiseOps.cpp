//===- ElementwiseOps.cpp - importers for elementwise ONNX ops ------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"

#include "onnx.pb.h"

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
    FailureOr<Value> next =
        ctx.create<OpTy>(ctx.elementTypeOf(acc), acc, ctx.input(i));
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
}

} // namespace anvil::onnx_import

//===- MicrosoftQLinearOps.cpp - ONNX Runtime's QOperator ops -------------===//
//
// onnxruntime.quantization.quantize_static with QuantFormat.QOperator (and
// the int8 models of the ONNX model zoo) writes ONNX's QLinearConv and
// QLinearMatMul beside com.microsoft ops of the same kind: QLinearAdd,
// QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax,
// QLinearWhere, QLinearAveragePool, QLinearGlobalAveragePool, QLinearConcat
// and QGemm
// (onnxruntime/docs/ContribOperators.md). Each takes 8-bit tensors with a
// per-tensor scale and zero point (QGemm's B per output channel too).
//
// The elementwise, pooling and concat ops import as their definition:
// every quantized input dequantized (anvil.dequantize), the float op of
// the same name on float32 (its ONNX importer, on this node's attributes),
// the result quantized with the output's scale and zero point
// (anvil.quantize: round half to even, saturate). ONNX Runtime computes
// the same values by other roundings (QLinearAdd through the ratios
// A_scale / C_scale and B_scale / C_scale, QLinearSigmoid through a
// 256-entry table), so an output may differ from its by one quantization
// step where the exact value lies within float32 rounding of a half.
// QGemm is exact in integers: MatMulInteger's i32 product plus the i32
// bias C, then requantized as QLinearMatMul is (or scaled to float32 when
// it has no y_scale).
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "compiler/Import/Onnx/QuantizationParts.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// The ONNX opset whose float op an import delegates to: the contrib ops
/// broadcast as numpy does and their pooling attributes are AveragePool's
/// of opset 11 (ceil_mode, count_include_pad; no dilations).
constexpr int64_t kFloatOpset = 11;
/// The elementwise ops': LeakyRelu's latest (Add, Mul and Sigmoid have not
/// changed since 14 and 13).
constexpr int64_t kFloatOpsetRecent = 16;

/// Input `i` (8-bit), with its scale at i + 1 and optional zero point at
/// i + 2 (both per tensor), as float32.
FailureOr<Value> dequantizeInput(NodeContext &ctx, size_t i, StringRef name) {
  Value x = ctx.requiredInput(i, name);
  Value scale = ctx.requiredInput(i + 1, (name + "_scale").str());
  if (!x || !scale || failed(check8Bit(ctx, x, name)))
    return failure();
  if (!ctx.elementTypeOf(scale).isF32())
    return ctx.error() << name << "_scale must be float32, not "
                       << ctx.elementTypeOf(scale);
  Value zero = ctx.input(i + 2);
  if (zero && ctx.elementTypeOf(zero) != ctx.elementTypeOf(x))
    return ctx.error() << name << "_zero_point is " << ctx.elementTypeOf(zero)
                       << ", " << name << " " << ctx.elementTypeOf(x);
  FailureOr<Value> s = perTensor(ctx, scale, (name + "_scale").str());
  FailureOr<Value> z = perTensor(ctx, zero, (name + "_zero_point").str());
  if (failed(s) || failed(z))
    return failure();
  Builder &b = ctx.builder;
  return ctx.create<DequantizeOp>(b.getF32Type(), x, *s, *z,
                                  b.getI64IntegerAttr(8), IntegerAttr(),
                                  IntegerAttr(), BoolAttr(), IntegerAttr());
}

/// `y` (float32) quantized with the scale at input `i` and the optional
/// zero point at i + 1 (per tensor) into `outType` (the zero point's type
/// when given).
FailureOr<Value> quantizeOutput(NodeContext &ctx, Value y, size_t i,
                                Type outType) {
  Value scale = ctx.requiredInput(i, "the output scale");
  if (!scale)
    return failure();
  if (!ctx.elementTypeOf(scale).isF32())
    return ctx.error() << "the output scale must be float32, not "
                       << ctx.elementTypeOf(scale);
  Value zero = ctx.input(i + 1);
  if (zero) {
    if (failed(check8Bit(ctx, zero, "the output zero point")))
      return failure();
    outType = ctx.elementTypeOf(zero);
  }
  FailureOr<Value> s = perTensor(ctx, scale, "the output scale");
  FailureOr<Value> z = perTensor(ctx, zero, "the output zero point");
  if (failed(s) || failed(z))
    return failure();
  Chain c(ctx);
  Value q = c.quantize(outType, y, *s, *z);
  if (c.failed())
    return failure();
  return q;
}

/// The ONNX float op `opType` (opset `opset`) on `inputs`, imported by its
/// own handler with this node's attributes.
FailureOr<Value> floatOp(NodeContext &ctx, StringRef opType,
                         ArrayRef<Value> inputs, int64_t opset) {
  NodeContext inner(ctx.node, inputs, opset, ctx.builder, ctx.loc, ctx.tensors);
  const OpTableEntry *entry = OpTable::get().lookup("", opType);
  if (!entry || !entry->handler)
    return ctx.error() << "has no float " << opType << " to import through";
  if (failed(entry->handler(inner)) || inner.hadAttributeError() ||
      inner.results.empty() || !inner.results[0])
    return failure();
  return inner.results[0];
}

/// QLinearAdd and QLinearMul: A (0-2), B (3-5), C's scale and zero point
/// (6, 7); numpy broadcasting.
template <const char *OpType>
LogicalResult importQLinearBinary(NodeContext &ctx) {
  FailureOr<Value> a = dequantizeInput(ctx, 0, "A");
  FailureOr<Value> b = dequantizeInput(ctx, 3, "B");
  if (failed(a) || failed(b))
    return failure();
  FailureOr<Value> y = floatOp(ctx, OpType, {*a, *b}, kFloatOpsetRecent);
  if (failed(y))
    return failure();
  return ctx.produce(
      quantizeOutput(ctx, *y, 6, ctx.elementTypeOf(ctx.input(0))));
}
constexpr char kAdd[] = "Add";
constexpr char kMul[] = "Mul";

/// QLinearSigmoid, QLinearLeakyRelu (`alpha`, 0.01 by default, as
/// LeakyRelu's), QLinearAveragePool (AveragePool's attributes) and
/// QLinearGlobalAveragePool: X (0-2), Y's scale and zero point (3, 4).
/// The pools' channels_last = 1 (NHWC, as ORT's NHWC transformer writes
/// them) is transposed to NCHW and back around the float pool.
template <const char *OpType, bool Pool>
LogicalResult importQLinearUnary(NodeContext &ctx) {
  FailureOr<Value> x = dequantizeInput(ctx, 0, "X");
  if (failed(x))
    return failure();
  bool channelsLast = Pool && ctx.attrInt("channels_last", 0) != 0;
  int64_t rank = ctx.rankOf(*x);
  Type f32 = ctx.builder.getF32Type();
  if (channelsLast) {
    if (rank < 3)
      return ctx.error() << "channels_last needs an input of rank 3 or "
                            "more";
    SmallVector<int64_t> toFirst{0, rank - 1};
    for (int64_t d = 1; d < rank - 1; ++d)
      toFirst.push_back(d);
    x = ctx.create<TransposeOp>(f32, *x,
                                ctx.builder.getDenseI64ArrayAttr(toFirst));
    if (failed(x))
      return failure();
  }
  FailureOr<Value> y =
      floatOp(ctx, OpType, {*x}, Pool ? kFloatOpset : kFloatOpsetRecent);
  if (failed(y))
    return failure();
  if (channelsLast) {
    SmallVector<int64_t> toLast{0};
    for (int64_t d = 2; d < rank; ++d)
      toLast.push_back(d);
    toLast.push_back(1);
    y = ctx.create<TransposeOp>(f32, *y,
                                ctx.builder.getDenseI64ArrayAttr(toLast));
    if (failed(y))
      return failure();
  }
  return ctx.produce(
      quantizeOutput(ctx, *y, 3, ctx.elementTypeOf(ctx.input(0))));
}
constexpr char kSigmoid[] = "Sigmoid";
constexpr char kLeakyRelu[] = "LeakyRelu";
constexpr char kAveragePool[] = "AveragePool";
constexpr char kGlobalAveragePool[] = "GlobalAveragePool";

/// QLinearSoftmax: X (0-2), Y's scale and zero point (3, 4); `axis` (-1)
/// and `opset`, the Softmax whose semantics it has: from 13 one axis,
/// before 13 the input coerced to 2-D at `axis` (ONNX's old Softmax).
LogicalResult importQLinearSoftmax(NodeContext &ctx) {
  FailureOr<Value> x = dequantizeInput(ctx, 0, "X");
  if (failed(x))
    return failure();
  const int64_t rank = ctx.rankOf(*x);
  FailureOr<int64_t> axis = ctx.normalizeAxis(ctx.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  Type f32 = ctx.builder.getF32Type();
  auto softmax = [&](Value v, int64_t along) {
    return ctx.create<SoftmaxOp>(f32, v, ctx.builder.getI64IntegerAttr(along),
                                 ctx.builder.getBoolAttr(false));
  };
  FailureOr<Value> y;
  if (ctx.attrInt("opset", 13) >= 13 || *axis == rank - 1) {
    y = softmax(*x, *axis);
  } else {
    // [d0 .. d(axis-1)] x [d(axis) ..] as a matrix, softmax over its rows.
    RankedTensorType type = getRankedType(*x);
    if (!type || !type.hasStaticShape())
      return ctx.error() << "opset < 13 (2-D coercion) needs a static shape";
    int64_t rows = 1, cols = 1;
    for (int64_t d = 0; d < rank; ++d)
      (d < *axis ? rows : cols) *= type.getDimSize(d);
    Chain c(ctx);
    Value flat = c.reshape(*x, {rows, cols});
    if (c.failed())
      return failure();
    FailureOr<Value> rowsSoftmax = softmax(flat, 1);
    if (failed(rowsSoftmax))
      return failure();
    y = c.reshape(*rowsSoftmax, type.getShape());
    if (c.failed())
      return failure();
  }
  if (failed(y))
    return failure();
  return ctx.produce(
      quantizeOutput(ctx, *y, 3, ctx.elementTypeOf(ctx.input(0))));
}

/// QLinearWhere: condition (0), X (1-3), Y (4-6), Z's scale and zero point
/// (7, 8); numpy broadcasting.
LogicalResult importQLinearWhere(NodeContext &ctx) {
  Value condition = ctx.requiredInput(0, "condition");
  FailureOr<Value> x = dequantizeInput(ctx, 1, "X");
  FailureOr<Value> y = dequantizeInput(ctx, 4, "Y");
  if (!condition || failed(x) || failed(y))
    return failure();
  FailureOr<Value> z =
      floatOp(ctx, "Where", {condition, *x, *y}, kFloatOpsetRecent);
  if (failed(z))
    return failure();
  return ctx.produce(
      quantizeOutput(ctx, *z, 7, ctx.elementTypeOf(ctx.input(1))));
}

/// QLinearConcat: Y's scale and zero point (0, 1), then each input X_i
/// with its own scale and zero point (2 + 3i ..); `axis`.
LogicalResult importQLinearConcat(NodeContext &ctx) {
  if (ctx.numInputs() < 5 || (ctx.numInputs() - 2) % 3 != 0)
    return ctx.error() << "takes Y_scale, Y_zero_point and then (X, "
                          "X_scale, X_zero_point) triples, not "
                       << ctx.numInputs() << " inputs";
  SmallVector<Value> inputs;
  for (size_t i = 2; i < ctx.numInputs(); i += 3) {
    FailureOr<Value> x = dequantizeInput(ctx, i, "X");
    if (failed(x))
      return failure();
    if (ctx.elementTypeOf(ctx.input(i)) != ctx.elementTypeOf(ctx.input(2)))
      return ctx.error() << "inputs of different types: "
                         << ctx.elementTypeOf(ctx.input(2)) << " and "
                         << ctx.elementTypeOf(ctx.input(i));
    inputs.push_back(*x);
  }
  FailureOr<Value> y = floatOp(ctx, "Concat", inputs, kFloatOpset);
  if (failed(y))
    return failure();
  return ctx.produce(
      quantizeOutput(ctx, *y, 0, ctx.elementTypeOf(ctx.input(2))));
}

/// QGemm: alpha (A' - a_zero_point)(B' - b_zero_point) a_scale b_scale +
/// C a_scale b_scale (A' = A or A^T by transA, B' likewise by transB; C an
/// optional i32 bias broadcast to [M, N]), quantized with y_scale and
/// y_zero_point when y_scale is given, else float32. A's scale and zero
/// point per tensor; B's per tensor or per output channel (N).
LogicalResult importQGemm(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), aScale = ctx.requiredInput(1, "a_scale");
  Value b = ctx.requiredInput(3, "B"), bScale = ctx.requiredInput(4, "b_scale");
  if (!a || !aScale || !b || !bScale)
    return failure();
  Value aZero = ctx.input(2), bZero = ctx.input(5), bias = ctx.input(6);
  Value yScale = ctx.input(7), yZero = ctx.input(8);
  if (ctx.rankOf(a) != 2 || ctx.rankOf(b) != 2)
    return ctx.error() << "A and B must be matrices (rank 2)";
  for (Value s : {aScale, bScale, yScale})
    if (s && !ctx.elementTypeOf(s).isF32())
      return ctx.error() << "scales must be float32, not "
                         << ctx.elementTypeOf(s);
  if (bias && !ctx.elementTypeOf(bias).isInteger(32))
    return ctx.error() << "C must be int32, not " << ctx.elementTypeOf(bias);
  if (yZero && !yScale)
    return ctx.error() << "has y_zero_point without y_scale";
  FailureOr<Value> as = perTensor(ctx, aScale, "a_scale");
  FailureOr<Value> az = perTensor(ctx, aZero, "a_zero_point");
  if (failed(as) || failed(az))
    return failure();
  Type i32 = IntegerType::get(ctx.builder.getContext(), 32);
  Type f32 = ctx.builder.getF32Type();
  auto transposed = [&](Value v) {
    return ctx.create<TransposeOp>(ctx.elementTypeOf(v), v,
                                   ctx.builder.getDenseI64ArrayAttr({1, 0}));
  };
  if (ctx.attrInt("transA", 0)) {
    FailureOr<Value> t = transposed(a);
    if (failed(t))
      return failure();
    a = *t;
  }
  if (ctx.attrInt("transB", 0)) {
    FailureOr<Value> t = transposed(b);
    if (failed(t))
      return failure();
    b = *t;
  }
  // B's per-channel scale and zero point: one per column of B' ([K, N]).
  int64_t n =
      getRankedType(b) ? getRankedType(b).getDimSize(1) : ShapedType::kDynamic;
  for (Value v : {bScale, bZero}) {
    RankedTensorType t = v ? getRankedType(v) : RankedTensorType();
    if (v && (!t || !t.hasStaticShape() || t.getRank() > 1 ||
              (t.getNumElements() != 1 && t.getNumElements() != n)))
      return ctx.error() << "b_scale and b_zero_point must hold one value "
                            "or one per output channel";
  }
  FailureOr<Value> acc = integerMatmul(ctx, a, *az, b, bZero);
  if (failed(acc))
    return failure();
  Chain c(ctx);
  Value sum = bias ? c.make<AddOp>(i32, *acc, bias) : *acc;
  Value bs = getRankedType(bScale).getNumElements() == 1 ? c.reshape(bScale, {})
                                                         : bScale;
  // alpha goes into A's scale (exact when it is 1, the quantizer's value).
  float alpha = ctx.attrFloat("alpha", 1.0f);
  Value xScale = alpha == 1.0f
                     ? *as
                     : c.make<MulOp>(f32, *as, ctx.constantScalar(f32, alpha));
  Value y;
  if (yScale) {
    FailureOr<Value> ys = perTensor(ctx, yScale, "y_scale");
    FailureOr<Value> yz = perTensor(ctx, yZero, "y_zero_point");
    if (failed(ys) || failed(yz))
      return failure();
    if (*yz && failed(check8Bit(ctx, *yz, "y_zero_point")))
      return failure();
    Type outType = *yz ? ctx.elementTypeOf(*yz) : ctx.elementTypeOf(a);
    y = requantize(ctx, c, sum, xScale, bs, *ys, *yz, outType);
  } else {
    y = c.make<MulOp>(f32, c.cast(sum, f32), c.make<MulOp>(f32, xScale, bs));
  }
  if (c.failed())
    return failure();
  return ctx.produce(y);
}

} // namespace

void addMicrosoftQLinearOps(OpTable &table) {
  table.add(kMicrosoftDomain, "QLinearAdd", importQLinearBinary<kAdd>);
  table.add(kMicrosoftDomain, "QLinearMul", importQLinearBinary<kMul>);
  table.add(kMicrosoftDomain, "QLinearSigmoid",
            importQLinearUnary<kSigmoid, false>);
  table.add(kMicrosoftDomain, "QLinearLeakyRelu",
            importQLinearUnary<kLeakyRelu, false>);
  table.add(kMicrosoftDomain, "QLinearAveragePool",
            importQLinearUnary<kAveragePool, true>);
  table.add(kMicrosoftDomain, "QLinearGlobalAveragePool",
            importQLinearUnary<kGlobalAveragePool, true>);
  table.add(kMicrosoftDomain, "QLinearSoftmax", importQLinearSoftmax);
  table.add(kMicrosoftDomain, "QLinearWhere", importQLinearWhere);
  table.add(kMicrosoftDomain, "QLinearConcat", importQLinearConcat);
  table.add(kMicrosoftDomain, "QGemm", importQGemm);
}

} // namespace anvil::onnx_import

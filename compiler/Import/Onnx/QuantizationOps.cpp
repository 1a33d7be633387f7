//===- QuantizationOps.cpp - importers for ONNX quantization ops ----------===//
//
// DequantizeLinear and QuantizeLinear map one to one onto anvil.dequantize
// and anvil.quantize (opsets 13, 19, 21 and later: `axis`, `block_size`,
// `output_dtype`); MatMulInteger becomes an i32-accumulating anvil.matmul
// after the zero points are subtracted. 4-bit values stay packed in ui8
// (OnnxTensors.cpp); their zero points, one per block, are unpacked to i8
// or ui8. Float8 is refused by name.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/ConvolutionParts.h"
#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "compiler/Import/Onnx/QuantizationParts.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// How the integer side of a Q/DQ node stores its values.
struct Storage {
  int64_t bits;
  bool isSigned;                  // only meaningful for 4-bit values
  Type zeroPointType;             // the element type zero points take
  std::optional<int64_t> lastDim; // 4-bit: the logical row length
};

/// Zero points are one per block: 2^28 of them is a model far larger than
/// any that fits in memory, while the fold limit (4096) is too small for a
/// 7B model's (N * K / block_size of them).
constexpr int64_t kZeroPointLimit = int64_t(1) << 28;

/// A 4-bit zero point held as a packed constant, unpacked into `type`
/// (i8 or ui8) of its logical shape.
FailureOr<Value> unpackZeroPoint(NodeContext &ctx, Value zeroPoint,
                                 const PackedValues &info, Type type) {
  auto constant = zeroPoint.getDefiningOp<ConstantOp>();
  std::optional<ConstantTensor> bytes =
      constant ? readConstant(constant.getValue(), kZeroPointLimit)
               : std::nullopt;
  if (!bytes) {
    ctx.error() << "4-bit zero point is too large to unpack at compile time";
    return failure();
  }
  int64_t n = info.lastDim(), rowBytes = (n + 1) / 2;
  int64_t count = 1;
  for (int64_t d : info.shape)
    count *= d;
  SmallVector<int64_t> values;
  for (int64_t f = 0; f < count; ++f) {
    int64_t r = f / n, j = f % n;
    int64_t v = (bytes->asInt(r * rowBytes + j / 2) >> (4 * (j % 2))) & 0xf;
    values.push_back(info.isSigned && v >= 8 ? v - 16 : v);
  }
  auto unpacked = RankedTensorType::get(info.shape, type);
  return Value(
      ctx.builder.create<ConstantOp>(ctx.loc, buildDense(unpacked, values)));
}

/// A scale or zero point of one element given as a 1-D tensor: per tensor,
/// so rank 0 (anvil's per-tensor form).
FailureOr<Value> scalarIfSingle(NodeContext &ctx, Value value,
                                int64_t blockSize) {
  RankedTensorType type = value ? getRankedType(value) : RankedTensorType();
  if (!type || blockSize != 0 || type.getRank() != 1 || type.getDimSize(0) != 1)
    return value;
  return ctx.create<ReshapeOp>(type.getElementType(), value,
                               ctx.constantI64({}));
}

/// The storage of the quantized side: packed 4-bit values as `packed`
/// describes them, else plain integers of `elementType`.
FailureOr<Storage> storageOf(NodeContext &ctx, Type elementType,
                             const PackedValues *packed) {
  MLIRContext *context = ctx.builder.getContext();
  if (packed)
    return Storage{packed->bits, packed->isSigned,
                   IntegerType::get(context, 8,
                                    packed->isSigned ? IntegerType::Signless
                                                     : IntegerType::Unsigned),
                   packed->lastDim()};
  auto integer = elementType.dyn_cast<IntegerType>();
  if (!integer || integer.getWidth() == 1 ||
      (integer.getWidth() != 8 && integer.getWidth() != 16 &&
       integer.getWidth() != 32)) {
    ctx.error() << "quantized values of type " << elementType
                << " are not supported (int8, uint8, int16, uint16, int32, "
                   "int4 and uint4 are)";
    return failure();
  }
  return Storage{integer.getWidth(), false, elementType, std::nullopt};
}

/// Reads the zero point input (index 2) in the form anvil takes: rank 0 for
/// a single value, unpacked if 4-bit, checked against the storage.
FailureOr<Value> zeroPointInput(NodeContext &ctx, const Storage &storage,
                                int64_t blockSize) {
  Value zeroPoint = ctx.input(2);
  if (!zeroPoint)
    return Value();
  if (const PackedValues *info = ctx.tensors.packedInfo(zeroPoint)) {
    if (storage.bits != 4 || info->isSigned != storage.isSigned) {
      ctx.error() << "the zero point's type differs from the values'";
      return failure();
    }
    FailureOr<Value> unpacked =
        unpackZeroPoint(ctx, zeroPoint, *info, storage.zeroPointType);
    if (failed(unpacked))
      return failure();
    zeroPoint = *unpacked;
  } else if (storage.bits == 4 ||
             ctx.elementTypeOf(zeroPoint) != storage.zeroPointType) {
    ctx.error() << "the zero point's type " << ctx.elementTypeOf(zeroPoint)
                << " differs from the quantized values'";
    return failure();
  }
  return scalarIfSingle(ctx, zeroPoint, blockSize);
}

/// The axis for anvil: normalized against the values' rank; 0 per tensor.
FailureOr<int64_t> quantAxis(NodeContext &ctx, Value scale, int64_t rank) {
  RankedTensorType type = getRankedType(scale);
  if (!type) {
    ctx.error() << "needs a scale of known rank";
    return failure();
  }
  if (type.getRank() == 0)
    return int64_t(0);
  if (rank < 0) {
    ctx.error() << "needs an input of known rank";
    return failure();
  }
  return ctx.normalizeAxis(ctx.attrInt("axis", 1), rank);
}

LogicalResult importDequantizeLinear(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "x"), scale = ctx.requiredInput(1, "x_scale");
  if (!x || !scale)
    return failure();
  const PackedValues *packed = ctx.tensors.packedInfo(x);
  FailureOr<Storage> storage = storageOf(ctx, ctx.elementTypeOf(x), packed);
  if (failed(storage))
    return failure();
  if (!ctx.elementTypeOf(scale).isa<FloatType>())
    return ctx.error() << "the scale must be a float tensor";
  int64_t blockSize = ctx.opset >= 21 ? ctx.attrInt("block_size", 0) : 0;
  if (blockSize < 0)
    return ctx.error() << "block_size " << blockSize << " is negative";
  FailureOr<Value> s = scalarIfSingle(ctx, scale, blockSize);
  FailureOr<Value> zp = zeroPointInput(ctx, *storage, blockSize);
  if (failed(s) || failed(zp))
    return failure();
  int64_t rank = packed ? (int64_t)packed->shape.size() : ctx.rankOf(x);
  FailureOr<int64_t> axis = quantAxis(ctx, *s, rank);
  if (failed(axis))
    return failure();
  Builder &b = ctx.builder;
  IntegerAttr lastDim;
  if (packed && storage->lastDim && *storage->lastDim % 2 != 0)
    lastDim = b.getI64IntegerAttr(*storage->lastDim);
  Type floatType = ctx.elementTypeOf(*s);
  FailureOr<Value> y = ctx.create<DequantizeOp>(
      floatType, x, *s, *zp, b.getI64IntegerAttr(storage->bits),
      optionalInt(b, *axis), optionalInt(b, blockSize),
      storage->isSigned ? b.getBoolAttr(true) : BoolAttr(), lastDim);
  if (failed(y))
    return failure();
  // A packed scalar was stored as one row of one value.
  if (packed && packed->shape.empty())
    y = ctx.create<ReshapeOp>(floatType, *y, ctx.constantI64({}));
  if (failed(y))
    return failure();
  // Opset 23's output_dtype may ask for another float type than the scale's.
  if (int64_t dtype = ctx.attrInt("output_dtype", 0)) {
    Type target = convertDataType(b.getContext(), dtype);
    if (!target || !target.isa<FloatType>())
      return ctx.error() << "output_dtype " << dataTypeName(dtype)
                         << " is not a supported float type";
    if (target != floatType)
      y = ctx.create<CastOp>(target, *y);
  }
  return ctx.produce(y);
}

LogicalResult importQuantizeLinear(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "x"), scale = ctx.requiredInput(1, "y_scale");
  if (!x || !scale)
    return failure();
  Value zeroPoint = ctx.input(2);
  // The output type: the zero point's, else output_dtype, else uint8.
  MLIRContext *context = ctx.builder.getContext();
  std::optional<PackedValues> packedOut;
  Type outType;
  if (zeroPoint) {
    if (const PackedValues *info = ctx.tensors.packedInfo(zeroPoint))
      packedOut = PackedValues{info->bits, info->isSigned, {}};
    else
      outType = ctx.elementTypeOf(zeroPoint);
  } else {
    int64_t dtype = ctx.opset >= 21 ? ctx.attrInt("output_dtype", 0) : 0;
    if (dtype == 0)
      dtype = onnx::TensorProto::UINT8;
    if (std::optional<PackedType> p = packedDataType(dtype))
      packedOut = PackedValues{p->bits, p->isSigned, {}};
    else if (!(outType = convertDataType(context, dtype)))
      return ctx.error() << "quantizing to " << dataTypeName(dtype)
                         << " is not supported (float8 is not yet)";
  }
  FailureOr<Storage> storage = packedOut ? storageOf(ctx, Type(), &*packedOut)
                                         : storageOf(ctx, outType, nullptr);
  if (failed(storage))
    return failure();
  if (!packedOut && storage->bits == 32)
    return ctx.error() << "quantizing to int32 is not supported";
  if (packedOut)
    outType = IntegerType::get(context, 8, IntegerType::Unsigned);
  int64_t blockSize = ctx.opset >= 21 ? ctx.attrInt("block_size", 0) : 0;
  if (blockSize < 0)
    return ctx.error() << "block_size " << blockSize << " is negative";
  // x and the scale compute in one float type: an integer x (opset 13's
  // int32) converts to the scale's, a float scale to x's.
  Type floatType = ctx.elementTypeOf(x);
  if (!floatType.isa<FloatType>()) {
    floatType = ctx.elementTypeOf(scale);
    if (!floatType.isa<FloatType>())
      return ctx.error() << "the scale must be a float tensor";
    FailureOr<Value> cast = ctx.create<CastOp>(floatType, x);
    if (failed(cast))
      return failure();
    x = *cast;
  }
  if (ctx.elementTypeOf(scale) != floatType) {
    FailureOr<Value> cast = ctx.create<CastOp>(floatType, scale);
    if (failed(cast))
      return failure();
    scale = *cast;
  }
  FailureOr<Value> s = scalarIfSingle(ctx, scale, blockSize);
  FailureOr<Value> zp = zeroPointInput(ctx, *storage, blockSize);
  if (failed(s) || failed(zp))
    return failure();
  FailureOr<int64_t> axis = quantAxis(ctx, *s, ctx.rankOf(x));
  if (failed(axis))
    return failure();
  Builder &b = ctx.builder;
  FailureOr<Value> y = ctx.create<QuantizeOp>(
      outType, x, *s, *zp, b.getI64IntegerAttr(storage->bits),
      optionalInt(b, *axis), optionalInt(b, blockSize),
      storage->isSigned ? b.getBoolAttr(true) : BoolAttr());
  if (failed(y))
    return failure();
  if (packedOut) {
    RankedTensorType type = getRankedType(x);
    if (!type || !type.hasStaticShape())
      return ctx.error() << "packs 4-bit values, which needs a static shape, "
                         << "not " << x.getType() << bindingHintSuffix(x);
    packedOut->shape.assign(type.getShape().begin(), type.getShape().end());
    ctx.tensors.notePacked(*y, *packedOut);
  }
  return ctx.produce(y);
}

} // namespace

/// (A - a_zero_point) x (B - b_zero_point) in i32, as MatMulInteger
/// defines it. Without zero points the 8-bit operands go to the matmul as
/// they are; with them, both sides are widened to i16 (every difference of
/// two 8-bit values fits) and subtracted first. A's zero point may be one
/// per row (1-D: made a column); B's one per column.
FailureOr<Value> integerMatmul(NodeContext &ctx, Value a, Value aZero, Value b,
                               Value bZero) {
  for (Value v : {a, b}) {
    auto integer = ctx.elementTypeOf(v).dyn_cast<IntegerType>();
    if (!integer || integer.getWidth() != 8) {
      ctx.error() << "operands must be int8 or uint8, not "
                  << ctx.elementTypeOf(v);
      return failure();
    }
  }
  // A constant zero point of all zeros subtracts nothing: left out, an
  // int8 B stays the constant itself, which matmul_quant's integer path
  // takes (QOperator models give symmetric int8 weights such zero points).
  for (Value *zeroPoint : {&aZero, &bZero}) {
    if (!*zeroPoint)
      continue;
    std::optional<SmallVector<int64_t>> values =
        getConstantInts(*zeroPoint, kZeroPointLimit);
    if (values && llvm::all_of(*values, [](int64_t v) { return v == 0; }))
      *zeroPoint = Value();
  }
  MLIRContext *context = ctx.builder.getContext();
  Type i16 = IntegerType::get(context, 16), i32 = IntegerType::get(context, 32);
  auto shifted = [&](Value v, Value zeroPoint,
                     bool perRow) -> FailureOr<Value> {
    if (!zeroPoint)
      return v;
    if (ctx.elementTypeOf(zeroPoint) != ctx.elementTypeOf(v)) {
      ctx.error() << "zero point type " << ctx.elementTypeOf(zeroPoint)
                  << " differs from its operand's";
      return failure();
    }
    // A's zero point may hold one value per row: make it a column.
    RankedTensorType zt = getRankedType(zeroPoint);
    if (perRow && zt && zt.getRank() == 1 && zt.getDimSize(0) != 1) {
      FailureOr<Value> column =
          ctx.create<UnsqueezeOp>(zt.getElementType(), zeroPoint,
                                  ctx.builder.getDenseI64ArrayAttr({1}));
      if (failed(column))
        return failure();
      zeroPoint = *column;
    }
    FailureOr<Value> wide = ctx.create<CastOp>(i16, v);
    FailureOr<Value> wideZero = ctx.create<CastOp>(i16, zeroPoint);
    if (failed(wide) || failed(wideZero))
      return failure();
    return ctx.create<SubOp>(i16, *wide, *wideZero);
  };
  if (aZero || bZero) {
    // Both sides in i16, so the matmul's operands agree in width.
    auto widen = [&](Value v, Value zeroPoint,
                     bool perRow) -> FailureOr<Value> {
      if (zeroPoint)
        return shifted(v, zeroPoint, perRow);
      return ctx.create<CastOp>(i16, v);
    };
    FailureOr<Value> wa = widen(a, aZero, true), wb = widen(b, bZero, false);
    if (failed(wa) || failed(wb))
      return failure();
    a = *wa, b = *wb;
  }
  return ctx.create<MatmulOp>(i32, a, b, false);
}

namespace {

/// MatMulInteger (opset 10): integerMatmul.
LogicalResult importMatMulInteger(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), b = ctx.requiredInput(1, "B");
  if (!a || !b)
    return failure();
  return ctx.produce(integerMatmul(ctx, a, ctx.input(2), b, ctx.input(3)));
}

//===--- DynamicQuantizeLinear, QLinearMatMul, ConvInteger,
//===--- QLinearConv, com.microsoft MatMulNBits and GatherBlockQuantized
//---===//

/// A constant of `shape` and integer `type` with every element `value`.
Value splatInt(NodeContext &ctx, ArrayRef<int64_t> shape, Type type,
               int64_t value) {
  auto tensorType = RankedTensorType::get(shape, type);
  APInt v(type.getIntOrFloatBitWidth(), value);
  return ctx.builder.create<ConstantOp>(
      ctx.loc, DenseElementsAttr::get(tensorType, ArrayRef<APInt>(v)));
}

/// The static shape of `v`, or an error naming `what`.
FailureOr<SmallVector<int64_t>> staticShape(NodeContext &ctx, Value v,
                                            StringRef what) {
  RankedTensorType type = getRankedType(v);
  if (!type || !type.hasStaticShape()) {
    ctx.error() << what << " needs a static shape";
    return failure();
  }
  return SmallVector<int64_t>(type.getShape().begin(), type.getShape().end());
}

int64_t elementCount(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace

/// A 1-D or single-element scale or zero point of a per-tensor input as
/// rank 0; anything else is an error naming `what`.
FailureOr<Value> perTensor(NodeContext &ctx, Value v, StringRef what) {
  if (!v)
    return v;
  RankedTensorType type = getRankedType(v);
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1) {
    ctx.error() << what << " must hold one value (per-tensor quantization)";
    return failure();
  }
  if (type.getRank() == 0)
    return v;
  return ctx.create<ReshapeOp>(type.getElementType(), v, ctx.constantI64({}));
}

/// An 8-bit integer element type, or an error naming `what`.
LogicalResult check8Bit(NodeContext &ctx, Value v, StringRef what) {
  auto integer = ctx.elementTypeOf(v).dyn_cast<IntegerType>();
  if (!integer || integer.getWidth() != 8)
    return ctx.error() << what << " must be int8 or uint8, not "
                       << ctx.elementTypeOf(v);
  return success();
}

namespace {

/// DynamicQuantizeLinear (opset 11): uint8 with scale = (max(x, 0) -
/// min(x, 0)) / 255 (1 when that range is 0, where the spec divides by
/// zero: ONNX Runtime's choice; ONNX's reference gives 1 / 255) and zero point
/// saturate(round(-min(x, 0) / scale)), both rank 0 and computed at run
/// time; y = saturate(round(x / scale) + zero_point), rounding half to
/// even, as ONNX's reference computes it (float32 throughout).
LogicalResult importDynamicQuantizeLinear(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "x");
  if (!x)
    return failure();
  Type f = ctx.elementTypeOf(x);
  if (!f.isF32())
    return ctx.error() << "x must be float32, not " << f;
  Builder &b = ctx.builder;
  MLIRContext *context = b.getContext();
  Type u8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  Chain c(ctx);
  auto reduce = [&](ReduceKind kind) {
    return c.make<ReduceOp>(f, x, ReduceKindAttr::get(context, kind),
                            b.getDenseI64ArrayAttr({}), b.getBoolAttr(false));
  };
  Value zero = ctx.constantScalar(f, 0);
  Value lo = c.make<MinOp>(f, reduce(ReduceKind::min), zero);
  Value hi = c.make<MaxOp>(f, reduce(ReduceKind::max), zero);
  Value range = c.make<SubOp>(f, hi, lo);
  Value flat = c.make<CompareOp>(
      b.getI1Type(), range, zero,
      ComparePredicateAttr::get(context, ComparePredicate::eq));
  Value scale =
      c.make<WhereOp>(f, flat, ctx.constantScalar(f, 1),
                      c.make<DivOp>(f, range, ctx.constantScalar(f, 255)));
  // -min / scale is >= 0: saturating after rounding is clamping before.
  Value zeroPoint = c.quantize(u8, c.make<NegOp>(f, lo), scale, Value());
  Value y = c.quantize(u8, x, scale, zeroPoint);
  if (c.failed())
    return failure();
  ctx.results.append({y, scale, zeroPoint});
  return success();
}

} // namespace

/// Requantizes an i32 (or exact f64) accumulator as ORT's kernels do:
/// saturate(round_half_even(float(acc) * (x_scale * w_scale / y_scale)) +
/// y_zero_point), the multiplier computed in float32 (16-bit scales are
/// widened first). `rowScale` broadcasts against the accumulator (a
/// column for per-row, a row for per-column), `yScale`/`yZero` are per
/// tensor.
Value requantize(NodeContext &ctx, Chain &c, Value acc, Value xScale,
                 Value wScale, Value yScale, Value yZero, Type outType) {
  Type f32 = ctx.builder.getF32Type();
  Value multiplier = c.make<DivOp>(
      f32, c.make<MulOp>(f32, c.cast(xScale, f32), c.cast(wScale, f32)),
      c.cast(yScale, f32));
  Value scaled = c.make<MulOp>(f32, c.cast(acc, f32), multiplier);
  return c.quantize(outType, scaled, ctx.constantScalar(f32, 1), yZero);
}

namespace {

/// QLinearMatMul (opsets 10, 21): integerMatmul, then requantize. a's
/// scale and zero point are per tensor or per row (an M vector, or
/// [..., M, 1]), b's per tensor or per column; y's per tensor.
LogicalResult importQLinearMatMul(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "a"), aScale = ctx.requiredInput(1, "a_scale");
  Value b = ctx.requiredInput(3, "b"), bScale = ctx.requiredInput(4, "b_scale");
  Value yScale = ctx.requiredInput(6, "y_scale");
  if (!a || !aScale || !b || !bScale || !yScale)
    return failure();
  Value aZero = ctx.input(2), bZero = ctx.input(5), yZero = ctx.input(7);
  for (Value s : {aScale, bScale, yScale})
    if (!ctx.elementTypeOf(s).isa<FloatType>())
      return ctx.error() << "scales must be float tensors, not "
                         << ctx.elementTypeOf(s);
  Type outType = yZero ? ctx.elementTypeOf(yZero) : ctx.elementTypeOf(a);
  if (failed(check8Bit(ctx, a, "a")) || failed(check8Bit(ctx, b, "b")) ||
      (yZero && failed(check8Bit(ctx, yZero, "y_zero_point"))))
    return failure();
  FailureOr<Value> ys = perTensor(ctx, yScale, "y_scale");
  FailureOr<Value> yz = perTensor(ctx, yZero, "y_zero_point");
  if (failed(ys) || failed(yz))
    return failure();
  // A per-row scale given as an M vector becomes a column.
  RankedTensorType ast = getRankedType(aScale);
  if (ast && ast.getRank() == 1 && ast.getDimSize(0) != 1) {
    FailureOr<Value> column = ctx.create<UnsqueezeOp>(
        ast.getElementType(), aScale, ctx.builder.getDenseI64ArrayAttr({1}));
    if (failed(column))
      return failure();
    aScale = *column;
  }
  FailureOr<Value> acc = integerMatmul(ctx, a, aZero, b, bZero);
  if (failed(acc))
    return failure();
  Chain c(ctx);
  Value y = requantize(ctx, c, *acc, aScale, bScale, *ys, *yz, outType);
  if (c.failed())
    return failure();
  return ctx.produce(y);
}

/// The largest |v - z| an 8-bit `v` can give with zero points `zeroPoint`
/// (constant values, else any of v's type): at most 255.
int64_t differenceBound(Value v, Value zeroPoint) {
  auto type = NodeContext::elementTypeOf(v).cast<IntegerType>();
  const int64_t lo = type.isUnsigned() ? 0 : -128, hi = lo + 255;
  std::optional<SmallVector<int64_t>> zeros{SmallVector<int64_t>{0}};
  if (zeroPoint)
    zeros = getConstantInts(zeroPoint, int64_t(1) << 20);
  if (!zeros)
    return 255;
  int64_t bound = 0;
  for (int64_t z : *zeros)
    bound = std::max({bound, std::abs(lo - z), std::abs(hi - z)});
  return bound;
}

/// (x - x_zero_point) conv w as one anvil.conv_integer when it takes the
/// node: w int8 with no zero point or an all-zero constant one, x's zero
/// point (null: 0) of x's type, a 1-D or 2-D window, and groups wide
/// enough for the int8 product (at least 4 outputs and 8 taps each: the
/// cpu kernel's conv_integer::applies). Null when it does not
/// (integerConv then takes float convolutions, whose depthwise kernel
/// suits narrow groups, with the weights widened at compile time).
FailureOr<Value> convInteger(NodeContext &ctx, Value x, Value xZero, Value w,
                             Value wZero) {
  RankedTensorType wType = getRankedType(w);
  Type xType = ctx.elementTypeOf(x);
  const int64_t group = ctx.attrInt("group", 1);
  int64_t taps = wType.getDimSize(1);
  for (int64_t d = 2; d < wType.getRank(); ++d)
    taps *= wType.getDimSize(d);
  if (!wType.getElementType().isSignlessInteger(8) ||
      (wType.getRank() != 3 && wType.getRank() != 4) ||
      (xZero && ctx.elementTypeOf(xZero) != xType) || group <= 0 ||
      wType.getDimSize(0) % group != 0 || wType.getDimSize(0) / group < 4 ||
      taps < 8)
    return Value();
  if (wZero) {
    auto zc = wZero.getDefiningOp<ConstantOp>();
    std::optional<ConstantTensor> zeros =
        zc ? readConstant(zc.getValue()) : std::nullopt;
    if (!zeros || !llvm::all_of(zeros->ints, [](int64_t z) { return z == 0; }))
      return Value();
  }
  FailureOr<ConvWindow> window = convWindow(ctx, x, wType);
  if (failed(window))
    return failure();
  if (!xZero)
    xZero = ctx.constantScalar(xType, 0.0);
  Builder &b = ctx.builder;
  return ctx.create<ConvIntegerOp>(
      IntegerType::get(b.getContext(), 32), x, w, xZero,
      b.getDenseI64ArrayAttr(window->strides),
      b.getDenseI64ArrayAttr(window->pads),
      b.getDenseI64ArrayAttr(window->dilations),
      b.getI64IntegerAttr(ctx.attrInt("group", 1)));
}

/// (x - x_zero_point) conv (w - w_zero_point) (+ bias) in i32, computed
/// exactly. After the zero points are subtracted every operand is an
/// integer of magnitude at most 255, so the convolution is exact in float32
/// while every partial sum stays below 2^24: its input channels are cut
/// into chunks of at most 2^24 / (taps x |x - x_zero_point| x |w -
/// w_zero_point|) (bounds from the types and the constant zero points:
/// 57 channels of a 3x3 uint8 x int8 conv), each chunk one float32 conv
/// (the fast product kernels) cast to i32, the chunks and the bias added
/// in i32 (wrapping, as ONNX's int32 does). Grouped convs whose groups are
/// wider than a chunk, and bounds no chunk fits, take one float64 conv
/// (exact up to 2^37 products, cast to i32: sums beyond int32 are out of
/// range there). The convs are imported by the Conv handler on the same
/// node (same attributes: auto_pad, dilations, group, kernel_shape, pads,
/// strides). w's zero point is per tensor or per output channel (an M
/// vector).
FailureOr<Value> integerConv(NodeContext &ctx, Value x, Value xZero, Value w,
                             Value wZero, Value bias) {
  if (failed(check8Bit(ctx, x, "x")) || failed(check8Bit(ctx, w, "w")))
    return failure();
  for (Value zp : {xZero, wZero})
    if (zp && failed(check8Bit(ctx, zp, "zero points")))
      return failure();
  RankedTensorType wType = getRankedType(w);
  if (!wType || wType.getRank() < 3 || !wType.hasStaticShape()) {
    ctx.error() << "needs a weight of static shape and rank 3 or more";
    return failure();
  }
  FailureOr<Value> xz = perTensor(ctx, xZero, "x_zero_point");
  if (failed(xz))
    return failure();
  if (wZero) {
    RankedTensorType zt = getRankedType(wZero);
    if (!zt || !zt.hasStaticShape() || zt.getRank() > 1 ||
        (zt.getNumElements() != 1 &&
         zt.getNumElements() != wType.getDimSize(0))) {
      ctx.error() << "w_zero_point must hold one value or one per output "
                     "channel";
      return failure();
    }
  }
  // int8 weights with no zero point (or all zero: the quantizers' symmetric
  // weights): one anvil.conv_integer, which the cpu target runs on int8
  // dot products (VNNI) where it has them.
  if (FailureOr<Value> direct = convInteger(ctx, x, *xz, w, wZero);
      failed(direct) || *direct) {
    if (failed(direct) || !bias)
      return direct;
    // The bias [M] against the sum's [N, M, spatial...].
    Chain c(ctx);
    SmallVector<int64_t> shape(ctx.rankOf(*direct) - 1, 1);
    shape[0] = wType.getDimSize(0);
    Value sum = c.make<AddOp>(ctx.elementTypeOf(*direct), *direct,
                              c.reshape(bias, shape));
    if (c.failed())
      return failure();
    return sum;
  }
  const int64_t channels = wType.getDimSize(1); // per group
  int64_t taps = 1;
  for (int64_t d = 2; d < wType.getRank(); ++d)
    taps *= wType.getDimSize(d);
  const int64_t perChannel = std::max<int64_t>(
      1, taps * differenceBound(x, *xz) * differenceBound(w, wZero));
  const int64_t chunk = ((int64_t(1) << 24) - 1) / perChannel;
  const bool exactInF32 =
      chunk >= 1 && (channels <= chunk || ctx.attrInt("group", 1) == 1);
  Builder &builder = ctx.builder;
  Type f = exactInF32 ? Type(builder.getF32Type()) : builder.getF64Type();
  Type i32 = IntegerType::get(builder.getContext(), 32);
  Chain c(ctx);
  Value xs = c.cast(x, f);
  if (*xz)
    xs = c.make<SubOp>(f, xs, c.cast(*xz, f));
  // A constant w (and zero points) in float32 at compile time, one
  // constant per chunk: otherwise each run would widen and slice the
  // weights again (the fold limit leaves weights alone).
  std::optional<ConstantTensor> wValues, zValues;
  if (exactInF32) {
    if (auto wc = w.getDefiningOp<ConstantOp>())
      wValues = readConstant(wc.getValue(), wType.getNumElements());
    if (wZero) {
      auto zc = wZero.getDefiningOp<ConstantOp>();
      zValues = zc ? readConstant(zc.getValue()) : std::nullopt;
      if (!zValues)
        wValues.reset();
    }
  }
  Value ws;
  if (!wValues) {
    ws = c.cast(w, f);
    if (wZero) {
      // One per output channel: [M, 1, ...] against w's [M, C, kernel...].
      SmallVector<int64_t> shape(wType.getRank(), 1);
      shape[0] = getRankedType(wZero).getNumElements();
      ws = c.make<SubOp>(f, ws, c.reshape(c.cast(wZero, f), shape));
    }
  }
  if (c.failed())
    return failure();
  // (w - w_zero_point)[:, c0:c1] as a float32 constant (marked keep_float:
  // the weight-quantizing passes must not round it again).
  auto constantWeights = [&](int64_t c0, int64_t c1) -> Value {
    const int64_t outputs = wType.getDimSize(0), width = c1 - c0;
    std::vector<float> values(size_t(outputs * width * taps));
    for (int64_t m = 0; m < outputs; ++m) {
      const int64_t z =
          zValues ? zValues->asInt(zValues->size() == 1 ? 0 : m) : 0;
      for (int64_t ch = 0; ch < width; ++ch)
        for (int64_t t = 0; t < taps; ++t)
          values[size_t((m * width + ch) * taps + t)] =
              float(wValues->asInt((m * channels + c0 + ch) * taps + t) - z);
    }
    SmallVector<int64_t> shape(wType.getShape().begin(),
                               wType.getShape().end());
    shape[1] = width;
    auto op = ctx.builder.create<ConstantOp>(
        ctx.loc, makeF32Resource(RankedTensorType::get(shape, f), values,
                                 "conv_integer_weight_f32"));
    op->setAttr(kKeepFloatAttr, builder.getUnitAttr());
    return op;
  };
  auto conv = [&](Value input, Value weight, Value b) -> FailureOr<Value> {
    SmallVector<Value> inputs{input, weight};
    if (b)
      inputs.push_back(b);
    NodeContext node(ctx.node, inputs, ctx.opset, ctx.builder, ctx.loc,
                     ctx.tensors);
    const OpTableEntry *entry = OpTable::get().lookup("", "Conv");
    if (!entry || !entry->handler || failed(entry->handler(node)) ||
        node.results.empty())
      return failure();
    return ctx.create<CastOp>(i32, node.results[0]);
  };
  if (!exactInF32)
    return conv(xs, ws, bias ? c.cast(bias, f) : Value());
  auto channelSlice = [&](Value v, int64_t c0, int64_t c1) {
    return c.make<SliceOp>(ctx.elementTypeOf(v), v, ctx.constantI64({c0}),
                           ctx.constantI64({c1}), ctx.constantI64({1}),
                           ctx.constantI64({1}));
  };
  Value sum;
  for (int64_t c0 = 0; c0 < channels; c0 += chunk) {
    const int64_t c1 = std::min(channels, c0 + chunk);
    const bool whole = c0 == 0 && c1 == channels;
    Value xc = whole ? xs : channelSlice(xs, c0, c1);
    Value wc = wValues ? constantWeights(c0, c1)
               : whole ? ws
                       : channelSlice(ws, c0, c1);
    if (c.failed())
      return failure();
    FailureOr<Value> part = conv(xc, wc, Value());
    if (failed(part))
      return failure();
    sum = sum ? c.make<AddOp>(i32, sum, *part) : *part;
  }
  if (bias) {
    // The bias [M] against the sum's [N, M, spatial...].
    SmallVector<int64_t> shape(ctx.rankOf(sum) - 1, 1);
    shape[0] = wType.getDimSize(0);
    sum = c.make<AddOp>(i32, sum, c.reshape(bias, shape));
  }
  if (c.failed())
    return failure();
  return sum;
}

/// ConvInteger (opset 10): integerConv without bias, int32 result.
LogicalResult importConvInteger(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "x"), w = ctx.requiredInput(1, "w");
  if (!x || !w)
    return failure();
  return ctx.produce(integerConv(ctx, x, ctx.input(2), w, ctx.input(3), {}));
}

/// QLinearConv (opset 10): integerConv with the int32 bias B, requantized
/// with x_scale * w_scale / y_scale (w_scale per tensor or one per output
/// channel).
LogicalResult importQLinearConv(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "x"), xScale = ctx.requiredInput(1, "x_scale");
  Value w = ctx.requiredInput(3, "w"), wScale = ctx.requiredInput(4, "w_scale");
  Value yScale = ctx.requiredInput(6, "y_scale");
  if (!x || !xScale || !w || !wScale || !yScale)
    return failure();
  Value yZero = ctx.input(7), bias = ctx.input(8);
  if (bias && !ctx.elementTypeOf(bias).isInteger(32))
    return ctx.error() << "B must be int32, not " << ctx.elementTypeOf(bias);
  if (yZero && failed(check8Bit(ctx, yZero, "y_zero_point")))
    return failure();
  Type outType = yZero ? ctx.elementTypeOf(yZero) : ctx.elementTypeOf(x);
  FailureOr<Value> xs = perTensor(ctx, xScale, "x_scale");
  FailureOr<Value> ys = perTensor(ctx, yScale, "y_scale");
  FailureOr<Value> yz = perTensor(ctx, yZero, "y_zero_point");
  if (failed(xs) || failed(ys) || failed(yz))
    return failure();
  FailureOr<Value> acc =
      integerConv(ctx, x, ctx.input(2), w, ctx.input(5), bias);
  if (failed(acc))
    return failure();
  // A per-channel w_scale becomes [M, 1, ...] against y's [N, M, ...].
  Chain c(ctx);
  Value ws = wScale;
  RankedTensorType st = getRankedType(wScale);
  int64_t rank = ctx.rankOf(*acc);
  if (!st || !st.hasStaticShape() || st.getRank() > 1)
    return ctx.error() << "w_scale must hold one value or one per output "
                          "channel";
  RankedTensorType wt = getRankedType(w);
  if (st.getNumElements() != 1 && st.getNumElements() != wt.getDimSize(0))
    return ctx.error() << "w_scale holds " << st.getNumElements()
                       << " values for " << wt.getDimSize(0)
                       << " output channels";
  if (st.getNumElements() != 1) {
    SmallVector<int64_t> shape(rank - 1, 1);
    shape[0] = st.getNumElements();
    ws = c.reshape(wScale, shape);
  } else if (st.getRank() == 1) {
    ws = c.reshape(wScale, {});
  }
  Value y = requantize(ctx, c, *acc, *xs, ws, *ys, *yz, outType);
  if (c.failed())
    return failure();
  return ctx.produce(y);
}

/// Unpacks a constant holding 4-bit values packed per row (two per byte,
/// low nibble first, ceil(cols / 2) bytes per row) into `type` of `shape`.
FailureOr<Value> unpackNibbles(NodeContext &ctx, Value packed,
                               ArrayRef<int64_t> shape, bool isSigned,
                               Type type, StringRef what) {
  int64_t cols = shape.empty() ? 1 : shape.back();
  int64_t bytes =
      elementCount(shape) / std::max<int64_t>(cols, 1) * ((cols + 1) / 2);
  if (!packed.getDefiningOp<ConstantOp>()) {
    ctx.error() << what << " must be a constant (an initializer): 4-bit ones "
                << "are unpacked at compile time";
    return failure();
  }
  RankedTensorType pt = getRankedType(packed);
  if (!pt || !pt.hasStaticShape() || pt.getNumElements() != bytes) {
    ctx.error() << what << " must hold " << bytes
                << " bytes (4-bit values packed two per byte)";
    return failure();
  }
  return unpackZeroPoint(
      ctx, packed,
      PackedValues{4, isSigned,
                   SmallVector<int64_t, 4>(shape.begin(), shape.end())},
      type);
}

/// GPTQ's act-order as a permutation of K: `ids` (g_idx's K block indices,
/// already checked to be in [0, k_blocks)) assign K's rows to blocks out of
/// order; the returned `order` lists K's rows block by block (stably), so
/// that row order[j] is in block j / block_size. Empty when g_idx is the
/// default k / block_size; std::nullopt when some block does not hold
/// exactly block_size rows (the last one: the rest of K), as with
/// act-order g_idx GPTQ writes (each block its block_size columns of the
/// permuted matrix).
std::optional<SmallVector<int64_t>> actOrder(ArrayRef<int64_t> ids, int64_t k,
                                             int64_t blockSize) {
  if ((int64_t)ids.size() != k)
    return std::nullopt;
  int64_t kBlocks = (k + blockSize - 1) / blockSize;
  SmallVector<int64_t> count(kBlocks, 0);
  bool isDefault = true;
  for (int64_t i = 0; i < k; ++i) {
    isDefault &= ids[i] == i / blockSize;
    ++count[ids[i]];
  }
  if (isDefault)
    return SmallVector<int64_t>{};
  SmallVector<int64_t> next(kBlocks); // the next position of each block
  for (int64_t g = 0; g < kBlocks; ++g) {
    if (count[g] != std::min(blockSize, k - g * blockSize))
      return std::nullopt;
    next[g] = g * blockSize;
  }
  SmallVector<int64_t> order(k);
  for (int64_t i = 0; i < k; ++i)
    order[next[ids[i]]++] = i;
  return order;
}

/// MatMulNBits' B rows ([N, row_bytes], `bits` 4 or 8, 4-bit values two a
/// byte, low nibble first) with values j < K taken from order[j]; the
/// padding after K is kept.
std::string permuteRowValues(ArrayRef<char> bytes, int64_t n, int64_t rowBytes,
                             int64_t bits, ArrayRef<int64_t> order) {
  std::string out(bytes.begin(), bytes.end());
  for (int64_t r = 0; r < n; ++r) {
    const auto *src =
        reinterpret_cast<const uint8_t *>(bytes.data()) + r * rowBytes;
    auto *dst = reinterpret_cast<uint8_t *>(out.data()) + r * rowBytes;
    for (int64_t j = 0; j < (int64_t)order.size(); ++j) {
      int64_t from = order[j];
      if (bits == 8) {
        dst[j] = src[from];
        continue;
      }
      uint8_t v = (src[from / 2] >> (4 * (from & 1))) & 0xf;
      uint8_t &to = dst[j / 2];
      to = (j & 1) ? uint8_t((to & 0x0f) | (v << 4)) : uint8_t((to & 0xf0) | v);
    }
  }
  return out;
}

/// com.microsoft MatMulNBits (ORT contrib, version 1): Y = A x W^T (+ bias)
/// with W [N, K] dequantized from B [N, k_blocks, blob_size] (uint8,
/// `bits` 4 or 8, packed low bits first along K) block-wise along K:
/// W[n, k] = (q[n, k] - zp[n, k / block_size]) * scales[n, k / block_size].
/// Zero points: absent (2^(bits - 1)), uint8 (4-bit ones packed two per
/// byte per row of N, a compile-time constant), or of the scales' float
/// type. g_idx [K] (int32) replaces k / block_size. accuracy_level only
/// permits ORT to quantize A, which Anvil does not: ignored. Without g_idx
/// and with integer zero points W is one blocked anvil.dequantize (which
/// the quantized matmul kernel takes); otherwise per-K scales and zero
/// points are gathered and applied with sub and mul. A g_idx that only
/// reorders K (GPTQ's act-order, actOrder) is undone at compile time: B's
/// values permuted into block order and A's columns gathered to match.
/// Constant float zero points become the default one plus a per-block
/// correction, A's block sums times (z0 - zp) * scale. float16 and
/// bfloat16 A are widened to float32 for the product.
LogicalResult importMatMulNBits(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), bq = ctx.requiredInput(1, "B");
  Value scales = ctx.requiredInput(2, "scales");
  if (!a || !bq || !scales)
    return failure();
  Value zeroPoints = ctx.input(3), gIdx = ctx.input(4), bias = ctx.input(5);
  int64_t k = ctx.attrInt("K", 0), n = ctx.attrInt("N", 0);
  int64_t bits = ctx.attrInt("bits", 4),
          blockSize = ctx.attrInt("block_size", 0);
  if (k <= 0 || n <= 0)
    return ctx.error() << "needs positive K and N attributes (K " << k << ", N "
                       << n << ")";
  if (bits != 4 && bits != 8)
    return ctx.error() << "bits " << bits << " is not supported (4 and 8 are)";
  if (blockSize <= 0 || blockSize > (int64_t(1) << 30) ||
      (blockSize * bits) % 8 != 0)
    return ctx.error() << "block_size " << blockSize
                       << " must be positive and fill whole bytes";
  Type t = ctx.elementTypeOf(a);
  if (!t.isa<FloatType>() || ctx.elementTypeOf(scales) != t)
    return ctx.error() << "A and scales must be of one float type, not " << t
                       << " and " << ctx.elementTypeOf(scales);
  if (ctx.elementTypeOf(bq) !=
      IntegerType::get(ctx.builder.getContext(), 8, IntegerType::Unsigned))
    return ctx.error() << "B must be uint8, not " << ctx.elementTypeOf(bq);
  // A dynamic last dim is checked by shape inference once folding makes
  // it static (a head dim the exporter left symbolic, say).
  RankedTensorType at = getRankedType(a);
  if (!at || at.getRank() < 1 ||
      (!at.isDynamicDim(at.getRank() - 1) && at.getShape().back() != k))
    return ctx.error() << "A's last dim must be K = " << k;
  int64_t kBlocks = (k + blockSize - 1) / blockSize;
  int64_t blob = blockSize * bits / 8;
  FailureOr<SmallVector<int64_t>> bShape = staticShape(ctx, bq, "B");
  if (failed(bShape))
    return failure();
  if (*bShape != SmallVector<int64_t>{n, kBlocks, blob})
    return ctx.error() << "B must have shape [" << n << ", " << kBlocks << ", "
                       << blob << "] (N, ceil(K / block_size), block_size * "
                       << "bits / 8)";
  FailureOr<SmallVector<int64_t>> sShape = staticShape(ctx, scales, "scales");
  if (failed(sShape))
    return failure();
  if (elementCount(*sShape) != n * kBlocks)
    return ctx.error() << "scales must hold N * ceil(K / block_size) = "
                       << n * kBlocks << " values";
  MLIRContext *context = ctx.builder.getContext();
  Type u8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  Builder &b = ctx.builder;
  Chain c(ctx);
  Value s2 = c.reshape(scales, {n, kBlocks});
  // Zero points as ui8 [N, k_blocks], or of type t for float ones.
  Value zp;
  bool floatZero = false;
  // One zero point per (n, block), unpacked: reshaped to [N, k_blocks].
  auto perBlock = [&](const char *kind) -> LogicalResult {
    FailureOr<SmallVector<int64_t>> zs =
        staticShape(ctx, zeroPoints, "zero_points");
    if (failed(zs))
      return failure();
    if (elementCount(*zs) != n * kBlocks)
      return ctx.error() << kind << "zero_points must hold N * k_blocks = "
                         << n * kBlocks << " values";
    zp = c.reshape(zeroPoints, {n, kBlocks});
    return success();
  };
  if (!zeroPoints) {
    zp = splatInt(ctx, {n, kBlocks}, u8, int64_t(1) << (bits - 1));
  } else if (ctx.elementTypeOf(zeroPoints) == t) {
    floatZero = true;
    if (failed(perBlock("float ")))
      return failure();
  } else if (ctx.elementTypeOf(zeroPoints) == u8) {
    if (bits == 4) {
      FailureOr<Value> unpacked = unpackNibbles(ctx, zeroPoints, {n, kBlocks},
                                                false, u8, "zero_points");
      if (failed(unpacked))
        return failure();
      zp = *unpacked;
    } else if (failed(perBlock(""))) {
      return failure();
    }
  } else {
    return ctx.error() << "zero_points must be uint8 or the scales' type, not "
                       << ctx.elementTypeOf(zeroPoints);
  }
  std::optional<SmallVector<int64_t>> gIdxValues; // when a constant
  if (gIdx) {
    RankedTensorType gt = getRankedType(gIdx);
    if (!gt || !gt.getElementType().isInteger(32) || gt.getRank() != 1 ||
        gt.getDimSize(0) != k)
      return ctx.error() << "g_idx must be an int32 vector of K = " << k
                         << " block indices";
    gIdxValues = getConstantInts(gIdx, kZeroPointLimit);
    if (gIdxValues)
      for (int64_t id : *gIdxValues)
        if (id < 0 || id >= kBlocks)
          return ctx.error() << "g_idx holds " << id
                             << ", not a block index in [0, " << kBlocks << ")";
  }
  // float16 / bfloat16 A: the product runs in float32 (the quantized
  // kernel's activations; the scales widen exactly) and Y, bias added, is
  // rounded to A's type once at the end.
  const Type io = t;
  if (!t.isF32()) {
    t = b.getF32Type();
    a = c.cast(a, t);
    // Constant scales widen here, whatever their number: the kernel's
    // matcher needs a constant, and a cast folds only below the fold limit.
    auto sc = scales.getDefiningOp<ConstantOp>();
    std::optional<ConstantTensor> sv =
        sc ? readConstant(sc.getValue(), kZeroPointLimit) : std::nullopt;
    if (sv && sv->size() == n * kBlocks) {
      std::vector<float> wide(n * kBlocks);
      for (int64_t i = 0; i < n * kBlocks; ++i)
        wide[i] = float(sv->asDouble(i));
      s2 = ctx.builder.create<ConstantOp>(
          ctx.loc, makeF32Resource(RankedTensorType::get({n, kBlocks}, t), wide,
                                   "scale_f32"));
    } else {
      s2 = c.cast(s2, t);
    }
  }
  // Act-order: sum_k A[k] W[n, k] = sum_j A[order[j]] W[n, order[j]], and
  // W[n, order[j]] is in block j / block_size, so B permuted by `order`
  // (at compile time) is plainly blocked and A gathered by `order` (at run
  // time, K values a row) meets it. A default g_idx is dropped.
  if (gIdx) {
    std::optional<SmallVector<int64_t>> order =
        gIdxValues ? actOrder(*gIdxValues, k, blockSize) : std::nullopt;
    auto bConstant = bq.getDefiningOp<ConstantOp>();
    std::optional<ArrayRef<char>> bytes =
        bConstant ? rawConstantData(bConstant.getValue()) : std::nullopt;
    if (order && order->empty()) {
      gIdx = Value();
    } else if (order && bytes && (int64_t)bytes->size() == n * kBlocks * blob) {
      auto bType = RankedTensorType::get({n, kBlocks, blob}, u8);
      bq = ctx.builder.create<ConstantOp>(
          ctx.loc,
          makeOwnedResource(
              bType, permuteRowValues(*bytes, n, kBlocks * blob, bits, *order),
              "act_order_weight"));
      Value index = ctx.builder.create<ConstantOp>(
          ctx.loc, buildDense(RankedTensorType::get({k}, b.getI64Type()),
                              ArrayRef<int64_t>(*order)));
      a = c.gather(a, index, at.getRank() - 1);
      gIdx = Value();
    }
  }
  // Float zero points (HQQ writes them), z0 = 2^(bits - 1): W = (q - zp) s
  // = (q - z0) s + (z0 - zp) s. The first term is the blocked dequantize
  // with the default zero point (the quantized kernel's pattern); the
  // second is constant over a block, so its product with A is A's sums
  // over each block, G [..., k_blocks], times C = (z0 - zp) s [N, k_blocks]
  // transposed: a float matmul block_size times smaller than W's.
  Value correction;
  if (floatZero && !gIdx) {
    // The initializers themselves ([N * k_blocks] in either shape): their
    // reshapes fold only when small.
    auto zc = zeroPoints.getDefiningOp<ConstantOp>();
    auto sc = scales.getDefiningOp<ConstantOp>();
    std::optional<ConstantTensor> zv =
        zc ? readConstant(zc.getValue(), kZeroPointLimit) : std::nullopt;
    std::optional<ConstantTensor> sv =
        sc ? readConstant(sc.getValue(), kZeroPointLimit) : std::nullopt;
    if (zv && sv && zv->size() == n * kBlocks && sv->size() == n * kBlocks) {
      const double z0 = double(int64_t(1) << (bits - 1));
      std::vector<float> shift(n * kBlocks);
      for (int64_t i = 0; i < n * kBlocks; ++i)
        shift[i] = float((z0 - zv->asDouble(i)) * sv->asDouble(i));
      auto cwOp = ctx.builder.create<ConstantOp>(
          ctx.loc, makeF32Resource(RankedTensorType::get({n, kBlocks}, t),
                                   shift, "zero_point_correction"));
      cwOp->setAttr(kKeepFloatAttr, ctx.builder.getUnitAttr());
      Value cw = cwOp;
      const int64_t rank = at.getRank();
      Value padded = a; // K padded with zeros to whole blocks
      if (kBlocks * blockSize != k) {
        SmallVector<int64_t> pads(2 * rank, 0);
        pads.back() = kBlocks * blockSize - k;
        padded =
            c.make<PadOp>(t, a, b.getDenseI64ArrayAttr(pads),
                          b.getStringAttr("constant"), b.getF64FloatAttr(0.0));
      }
      SmallVector<int64_t> blocked(rank - 1, 0); // 0: the dim as it is
      blocked.append({kBlocks, blockSize});
      Value sums = c.make<ReduceOp>(
          t, c.reshape(padded, blocked),
          ReduceKindAttr::get(context, ReduceKind::sum),
          b.getDenseI64ArrayAttr({rank}), b.getBoolAttr(false));
      correction = c.make<MatmulOp>(t, sums, cw, true);
      zp = splatInt(ctx, {n, kBlocks}, u8, int64_t(1) << (bits - 1));
      floatZero = false;
    }
  }
  // B as rows of N: [N, k_blocks * blob_size] bytes, k_blocks * block_size
  // values.
  Value rows = c.reshape(bq, {n, kBlocks * blob});
  Value w;
  if (!gIdx && !floatZero) {
    w = c.make<DequantizeOp>(
        t, rows, s2, zp, b.getI64IntegerAttr(bits), b.getI64IntegerAttr(1),
        b.getI64IntegerAttr(blockSize), BoolAttr(), IntegerAttr());
  } else {
    // The stored integers as floats (exact: below 256), then per-K scales
    // and zero points gathered by block index.
    Value q = c.make<DequantizeOp>(t, rows, ctx.constantScalar(t, 1), Value(),
                                   b.getI64IntegerAttr(bits), IntegerAttr(),
                                   IntegerAttr(), BoolAttr(), IntegerAttr());
    if (kBlocks * blockSize != k)
      q = c.sliceTo(q, 1, k);
    Value index = gIdx;
    if (!index) {
      SmallVector<int64_t> blockOf(k);
      for (int64_t i = 0; i < k; ++i)
        blockOf[i] = i / blockSize;
      index = ctx.builder.create<ConstantOp>(
          ctx.loc, buildDense(RankedTensorType::get({k}, b.getI64Type()),
                              ArrayRef<int64_t>(blockOf)));
    }
    Value zk = c.cast(c.gather(zp, index, 1), t);
    w = c.make<MulOp>(t, c.make<SubOp>(t, q, zk), c.gather(s2, index, 1));
  }
  if (!gIdx && !floatZero && kBlocks * blockSize != k)
    w = c.sliceTo(w, 1, k);
  Value y = c.make<MatmulOp>(t, a, w, true);
  if (correction)
    y = c.make<AddOp>(t, y, correction);
  if (bias) {
    if (ctx.elementTypeOf(bias) != io)
      return ctx.error() << "bias must be of A's type " << io;
    y = c.make<AddOp>(t, y, c.cast(bias, t));
  }
  y = c.cast(y, io);
  if (c.failed())
    return failure();
  return ctx.produce(y);
}

/// com.microsoft GatherBlockQuantized (ORT contrib, version 1): Gather
/// along `gather_axis` (default 0) of `data` dequantized block-wise along
/// `quantize_axis` (default 1) with `block_size` (default 128): data is an
/// int4/uint4 initializer (zero points of its type, default 0) or uint8
/// (`bits` 4: two values per byte along the last dim, which must be the
/// quantize axis with gather_axis 0, zero points packed likewise, default
/// 8; `bits` 8: default zero point 128). Zero points must be constants.
/// When the gather axis is neither the quantize axis nor a packed one,
/// the rows (and their scales and zero points) are gathered first and only
/// they are dequantized; otherwise the whole table is dequantized first.
/// Out-of-range indices are not ORT's zeros but anvil.gather's behaviour.
LogicalResult importGatherBlockQuantized(NodeContext &ctx) {
  Value data = ctx.requiredInput(0, "data"),
        indices = ctx.requiredInput(1, "indices"),
        scales = ctx.requiredInput(2, "scales");
  if (!data || !indices || !scales)
    return failure();
  Value zeroPoints = ctx.input(3);
  int64_t bits = ctx.attrInt("bits", 4),
          blockSize = ctx.attrInt("block_size", 128);
  MLIRContext *context = ctx.builder.getContext();
  Type u8 = IntegerType::get(context, 8, IntegerType::Unsigned);
  Type i8 = IntegerType::get(context, 8);
  // The logical shape and storage of data.
  const PackedValues *packed = ctx.tensors.packedInfo(data);
  SmallVector<int64_t> shape;
  bool isSigned = false, packedRows = false;
  if (packed) {
    if (bits != 4)
      return ctx.error() << "bits must be 4 for int4/uint4 data, not " << bits;
    shape.assign(packed->shape.begin(), packed->shape.end());
    isSigned = packed->isSigned;
    packedRows = true;
  } else {
    if (ctx.elementTypeOf(data) != u8)
      return ctx.error() << "data must be int4, uint4 or uint8, not "
                         << ctx.elementTypeOf(data);
    if (bits != 4 && bits != 8)
      return ctx.error() << "bits " << bits << " is not supported (4 and 8 "
                         << "are)";
    FailureOr<SmallVector<int64_t>> s = staticShape(ctx, data, "data");
    if (failed(s))
      return failure();
    shape = *s;
    if (shape.empty())
      return ctx.error() << "data must have rank 1 or more";
    if (bits == 4) {
      shape.back() *= 2;
      packedRows = true;
    }
  }
  int64_t rank = shape.size();
  FailureOr<int64_t> gatherAxis =
      ctx.normalizeAxis(ctx.attrInt("gather_axis", 0), rank);
  FailureOr<int64_t> quantAxis =
      ctx.normalizeAxis(ctx.attrInt("quantize_axis", 1), rank);
  if (failed(gatherAxis) || failed(quantAxis))
    return failure();
  if (!packed && (*gatherAxis != 0 || *quantAxis != rank - 1))
    return ctx.error() << "uint8 data needs gather_axis 0 and quantize_axis "
                       << "the last dim";
  // Bounded as MatMulNBits' is: dim + block_size - 1 must not overflow.
  if (blockSize <= 0 || blockSize > (int64_t(1) << 30))
    return ctx.error() << "block_size " << blockSize << " must be in [1, 2^30]";
  Type floatType = ctx.elementTypeOf(scales);
  if (!floatType.isa<FloatType>())
    return ctx.error() << "scales must be a float tensor";
  SmallVector<int64_t> scaleShape = shape;
  scaleShape[*quantAxis] = (shape[*quantAxis] + blockSize - 1) / blockSize;
  FailureOr<SmallVector<int64_t>> sShape = staticShape(ctx, scales, "scales");
  if (failed(sShape))
    return failure();
  if (*sShape != scaleShape)
    return ctx.error() << "scales must have data's shape with dim "
                       << *quantAxis << " divided into blocks of " << blockSize;
  if (!ctx.elementTypeOf(indices).isInteger(32) &&
      !ctx.elementTypeOf(indices).isInteger(64))
    return ctx.error() << "indices must be int32 or int64";
  // Zero points, unpacked, of scales' shape.
  Value zp;
  Type zpType = isSigned ? i8 : u8;
  if (zeroPoints) {
    if (const PackedValues *zinfo = ctx.tensors.packedInfo(zeroPoints)) {
      if (!packed || zinfo->isSigned != isSigned)
        return ctx.error() << "zero_points must have data's type";
      if (SmallVector<int64_t>(zinfo->shape.begin(), zinfo->shape.end()) !=
          scaleShape)
        return ctx.error() << "zero_points must have scales' shape";
      FailureOr<Value> unpacked =
          unpackZeroPoint(ctx, zeroPoints, *zinfo, zpType);
      if (failed(unpacked))
        return failure();
      zp = *unpacked;
    } else if (packed || ctx.elementTypeOf(zeroPoints) != u8) {
      return ctx.error() << "zero_points must have data's type";
    } else if (bits == 4) {
      FailureOr<Value> unpacked =
          unpackNibbles(ctx, zeroPoints, scaleShape, false, u8, "zero_points");
      if (failed(unpacked))
        return failure();
      zp = *unpacked;
    } else {
      FailureOr<SmallVector<int64_t>> zs =
          staticShape(ctx, zeroPoints, "zero_points");
      if (failed(zs))
        return failure();
      if (*zs != scaleShape)
        return ctx.error() << "zero_points must have scales' shape";
      zp = zeroPoints;
    }
  } else if (!packed) {
    zp = splatInt(ctx, scaleShape, u8, int64_t(1) << (bits - 1));
  }
  Builder &b = ctx.builder;
  Chain c(ctx);
  int64_t lastDim = shape.back();
  auto dequantize = [&](Value q, Value s, Value z, int64_t axis) {
    return c.make<DequantizeOp>(
        floatType, q, s, z, b.getI64IntegerAttr(bits), optionalInt(b, axis),
        b.getI64IntegerAttr(blockSize),
        isSigned ? b.getBoolAttr(true) : BoolAttr(),
        packedRows && lastDim % 2 ? b.getI64IntegerAttr(lastDim)
                                  : IntegerAttr());
  };
  Value y;
  bool rowsFirst =
      *gatherAxis != *quantAxis && !(packedRows && *gatherAxis == rank - 1);
  if (rowsFirst) {
    int64_t indexRank = ctx.rankOf(indices);
    if (indexRank < 0)
      return ctx.error() << "needs indices of known rank";
    int64_t axis =
        *quantAxis < *gatherAxis ? *quantAxis : *quantAxis + indexRank - 1;
    y = dequantize(c.gather(data, indices, *gatherAxis),
                   c.gather(scales, indices, *gatherAxis),
                   zp ? c.gather(zp, indices, *gatherAxis) : Value(), axis);
  } else {
    y = c.gather(dequantize(data, scales, zp, *quantAxis), indices,
                 *gatherAxis);
  }
  if (c.failed())
    return failure();
  return ctx.produce(y);
}

} // namespace

void addQuantizationOps(OpTable &table) {
  table.add("", "DequantizeLinear", importDequantizeLinear);
  table.add("", "QuantizeLinear", importQuantizeLinear);
  table.add("", "MatMulInteger", importMatMulInteger);
  // The rest of ONNX's integer ops and ORT's 4-bit LLM ops.
  table.add("", "DynamicQuantizeLinear", importDynamicQuantizeLinear);
  table.add("", "QLinearMatMul", importQLinearMatMul);
  table.add("", "ConvInteger", importConvInteger);
  table.add("", "QLinearConv", importQLinearConv);
  table.add(kMicrosoftDomain, "MatMulNBits", importMatMulNBits);
  table.add(kMicrosoftDomain, "GatherBlockQuantized",
            importGatherBlockQuantized);
}

} // namespace anvil::onnx_import

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

#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

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

/// An attribute that defaults to 0: left out when it is 0.
IntegerAttr optionalInt(Builder &b, int64_t value) {
  return value ? b.getI64IntegerAttr(value) : IntegerAttr();
}

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

/// MatMulInteger: (A - a_zero_point) x (B - b_zero_point) in i32. Without
/// zero points the 8-bit operands go to the matmul as they are; with them,
/// both sides are widened to i16 (every difference of two 8-bit values
/// fits) and subtracted first.
LogicalResult importMatMulInteger(NodeContext &ctx) {
  Value a = ctx.requiredInput(0, "A"), b = ctx.requiredInput(1, "B");
  if (!a || !b)
    return failure();
  for (Value v : {a, b}) {
    auto integer = ctx.elementTypeOf(v).dyn_cast<IntegerType>();
    if (!integer || integer.getWidth() != 8)
      return ctx.error() << "operands must be int8 or uint8, not "
                         << ctx.elementTypeOf(v);
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
  Value aZero = ctx.input(2), bZero = ctx.input(3);
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
  return ctx.produce(ctx.create<MatmulOp>(i32, a, b, false));
}

} // namespace

void addQuantizationOps(OpTable &table) {
  table.add("", "DequantizeLinear", importDequantizeLinear);
  table.add("", "QuantizeLinear", importQuantizeLinear);
  table.add("", "MatMulInteger", importMatMulInteger);
}

} // namespace anvil::onnx_import

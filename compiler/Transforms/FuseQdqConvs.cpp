//===- FuseQdqConvs.cpp - QDQ convolutions as integer convolutions --------===//
//
// A QDQ model (onnxruntime's quantize_static writes this format by
// default) keeps each quantized convolution a float convolution of
// dequantized operands:
//
//   conv(dequantize(xq, sx, zx), dequantize(wq, sw), b)
//
// with xq 8-bit per tensor and wq a constant int8 weight, per tensor or
// per output channel, zero points 0. Every product is an exact integer
// times sx sw[m]:
//
//   sum (xq - zx) sx . wq sw[m] = (sx sw[m]) sum (xq - zx) wq,
//
// so the convolution becomes anvil.conv_integer (the int8 dot products the
// cpu target runs on vpdpbusd), cast to float32, times one float32 factor
// per output channel, plus the bias: the computation ONNX Runtime's QDQ
// transformer runs as QLinearConv. The float convolution rounded every
// product and partial sum; here the sum is exact and is rounded once by
// the cast (above 2^24) and once by the factor, so results move by float32
// roundings of the sum, and a quantize after them can land one step away.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/TypeUtilities.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILFUSEQDQCONVS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

/// The values of a constant (seen as an anvil.constant), or nullopt.
std::optional<ConstantTensor> constantValues(Value v, int64_t limit) {
  auto constant = v ? v.getDefiningOp<ConstantOp>() : ConstantOp();
  if (!constant)
    return std::nullopt;
  return readConstant(constant.getValue(), limit);
}

/// Rewrites `conv` when it has the QDQ form (file comment); false when it
/// does not.
bool fuse(ConvOp conv) {
  auto x = conv.getInput().getDefiningOp<DequantizeOp>();
  auto w = conv.getWeight().getDefiningOp<DequantizeOp>();
  auto result = conv.getType().dyn_cast<RankedTensorType>();
  if (!x || !w || !result || !result.getElementType().isF32() ||
      x.getBits() != 8 || w.getBits() != 8 || x.getBlockSize() != 0 ||
      w.getBlockSize() != 0)
    return false;
  // x: 8-bit, one constant scale (and zero point, if any).
  Value xq = x.getInput();
  Type xElement = getElementTypeOrSelf(xq.getType());
  std::optional<ConstantTensor> sx = constantValues(x.getScale(), 1);
  if (!xElement.isInteger(8) || !sx || sx->size() != 1 || !sx->isFloat)
    return false;
  if (Value zx = x.getZeroPoint()) {
    auto zt = zx.getType().dyn_cast<RankedTensorType>();
    if (!zt || !zt.hasStaticShape() || zt.getNumElements() != 1 ||
        zt.getRank() > 1 || zt.getElementType() != xElement)
      return false;
  }
  // w: a constant int8 [M, C/group, kernel...] with a constant scale per
  // tensor or per output channel and no (or all-zero) zero points.
  auto wq = w.getInput().getDefiningOp<ConstantOp>();
  auto wt = w.getInput().getType().dyn_cast<RankedTensorType>();
  if (!wq || !wt || !wt.hasStaticShape() ||
      !wt.getElementType().isSignlessInteger(8) ||
      (wt.getRank() != 3 && wt.getRank() != 4))
    return false;
  const int64_t outputs = wt.getDimSize(0);
  std::optional<ConstantTensor> sw = constantValues(w.getScale(), outputs);
  if (!sw || !sw->isFloat ||
      (sw->size() != 1 && (sw->size() != outputs || w.getAxis() != 0)))
    return false;
  if (Value zw = w.getZeroPoint()) {
    std::optional<ConstantTensor> zeros = constantValues(zw, outputs);
    if (!zeros || llvm::any_of(zeros->ints, [](int64_t z) { return z != 0; }))
      return false;
  }
  // Groups wide enough for the integer product (conv_integer.h's
  // applies): narrow ones keep the float depthwise kernel.
  const int64_t group = conv.getGroup();
  int64_t taps = 1;
  for (int64_t d = 1; d < wt.getRank(); ++d)
    taps *= wt.getDimSize(d);
  if (group <= 0 || outputs % group != 0 || outputs / group < 4 || taps < 8)
    return false;

  OpBuilder b(conv);
  Location loc = conv.getLoc();
  Value zx = x.getZeroPoint();
  if (!zx)
    zx = b.create<ConstantOp>(
        loc, DenseElementsAttr::get(RankedTensorType::get({}, xElement),
                                    b.getIntegerAttr(xElement, 0))
                 .cast<ElementsAttr>());
  auto i32 = RankedTensorType::get(result.getShape(), b.getI32Type());
  Value sum = b.create<ConvIntegerOp>(
      loc, i32, xq, wq, zx, conv.getStridesAttr(), conv.getPadsAttr(),
      conv.getDilationsAttr(), conv.getGroupAttr());
  Value y = b.create<CastOp>(loc, result, sum);
  // One factor sx sw[m] per output channel, [M, 1, ...] against y's
  // [N, M, spatial...], rounded once to float32 from double.
  SmallVector<int64_t> channelShape(result.getRank() - 1, 1);
  channelShape[0] = outputs;
  auto channelType = RankedTensorType::get(channelShape, b.getF32Type());
  std::vector<float> factors(outputs);
  for (int64_t m = 0; m < outputs; ++m)
    factors[m] = float(double(float(sx->floats[0])) *
                       double(float(sw->floats[sw->size() == 1 ? 0 : m])));
  auto factor = b.create<ConstantOp>(
      loc, makeF32Resource(channelType, factors, "qdq_conv_scale"));
  // Already float32: the weight-narrowing passes must leave it.
  factor->setAttr(kKeepFloatAttr, b.getUnitAttr());
  y = b.create<MulOp>(loc, result, y, factor);
  if (Value bias = conv.getBias()) {
    auto shapeType =
        RankedTensorType::get({int64_t(channelShape.size())}, b.getI64Type());
    Value shape = b.create<ConstantOp>(
        loc, DenseElementsAttr::get(shapeType, ArrayRef<int64_t>(channelShape))
                 .cast<ElementsAttr>());
    Value column = b.create<ReshapeOp>(
        loc, RankedTensorType::get(channelShape, result.getElementType()), bias,
        shape, b.getBoolAttr(false));
    y = b.create<AddOp>(loc, result, y, column);
  }
  conv.getResult().replaceAllUsesWith(y);
  conv.erase();
  return true;
}

struct FuseQdqConvsPass : impl::AnvilFuseQdqConvsBase<FuseQdqConvsPass> {
  void runOnOperation() override {
    SmallVector<ConvOp> convs;
    getOperation().walk([&](ConvOp conv) { convs.push_back(conv); });
    for (ConvOp conv : convs)
      fuse(conv);
  }
};

} // namespace
} // namespace anvil

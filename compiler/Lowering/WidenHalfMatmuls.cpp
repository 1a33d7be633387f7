//===- WidenHalfMatmuls.cpp - 16-bit float matmuls onto the f32 kernels ---===//
//
// See WidenHalfMatmuls.h.
//
//===----------------------------------------------------------------------===//

#include "compiler/Lowering/WidenHalfMatmuls.h"
#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;

namespace anvil::lowering {
namespace {

bool isHalfFloat(Type type) {
  auto f = getElementTypeOrSelf(type).dyn_cast<FloatType>();
  return f && f.getWidth() == 16;
}

/// The dequantize of a half-precision quantized matmul (see the header),
/// or null.
DequantizeOp halfQuantWeight(MatmulOp matmul) {
  auto lhs = matmul.getLhs().getType().dyn_cast<RankedTensorType>();
  auto result = matmul.getType().dyn_cast<RankedTensorType>();
  auto weight = matmul.getRhs().getDefiningOp<DequantizeOp>();
  if (!lhs || !result || !weight || !isHalfFloat(lhs) ||
      result.getElementType() != lhs.getElementType() ||
      getElementTypeOrSelf(weight.getType()) != lhs.getElementType())
    return DequantizeOp();
  auto scale = weight.getScale().getDefiningOp<ConstantOp>();
  if (!scale || !weight.getInput().getDefiningOp<ConstantOp>() ||
      (weight.getZeroPoint() &&
       !weight.getZeroPoint().getDefiningOp<ConstantOp>()))
    return DequantizeOp();
  auto scaleType = scale.getType().dyn_cast<RankedTensorType>();
  if (!scaleType || !scaleType.hasStaticShape())
    return DequantizeOp();
  return weight;
}

/// Whether `matmul` is a 16-bit-float matmul of a constant 2-D weight of
/// its own float type (what the float kernel packs in panels).
bool isHalfConstantMatmul(MatmulOp matmul) {
  auto lhs = matmul.getLhs().getType().dyn_cast<RankedTensorType>();
  auto result = matmul.getType().dyn_cast<RankedTensorType>();
  auto weight = matmul.getRhs().getDefiningOp<ConstantOp>();
  auto type = weight ? weight.getType().dyn_cast<RankedTensorType>()
                     : RankedTensorType();
  return lhs && result && type && isHalfFloat(lhs) && lhs.getRank() >= 1 &&
         result.getElementType() == lhs.getElementType() &&
         type.getElementType() == lhs.getElementType() && type.getRank() == 2 &&
         type.hasStaticShape();
}

/// Whether `matmul` multiplies two 16-bit-float values of the same type
/// into that type and neither operand is a constant (an activation x
/// activation product: attention's Q K^T and P V in a float16 graph).
bool isHalfActivationMatmul(MatmulOp matmul) {
  auto lhs = matmul.getLhs().getType().dyn_cast<RankedTensorType>();
  auto rhs = matmul.getRhs().getType().dyn_cast<RankedTensorType>();
  auto result = matmul.getType().dyn_cast<RankedTensorType>();
  return lhs && rhs && result && isHalfFloat(lhs) &&
         rhs.getElementType() == lhs.getElementType() &&
         result.getElementType() == lhs.getElementType() &&
         !matmul.getLhs().getDefiningOp<ConstantOp>() &&
         !matmul.getRhs().getDefiningOp<ConstantOp>();
}

/// Whether `attention` computes in a 16-bit float type: query, key, value
/// and result of that one type (a mask of any float type).
bool isHalfAttention(AttentionOp attention) {
  auto type = attention.getType().dyn_cast<RankedTensorType>();
  if (!type || !isHalfFloat(type))
    return false;
  Type element = type.getElementType();
  return llvm::all_of(ValueRange{attention.getQuery(), attention.getKey(),
                                 attention.getValue()},
                      [&](Value v) {
                        auto t = v.getType().dyn_cast<RankedTensorType>();
                        return t && t.getElementType() == element;
                      });
}

/// Whether `conv` computes in a 16-bit float type: input, weight, bias and
/// result of that one type.
bool isHalfConv(ConvOp conv) {
  auto type = conv.getType().dyn_cast<RankedTensorType>();
  if (!type || !isHalfFloat(type))
    return false;
  Type element = type.getElementType();
  return llvm::all_of(conv->getOperands(), [&](Value v) {
    auto t = v.getType().dyn_cast<RankedTensorType>();
    return t && t.getElementType() == element;
  });
}

/// `value` cast to float32 right after its definition, once per value.
class Widener {
public:
  explicit Widener(func::FuncOp func) : func(func) {}

  Value toF32(Value value) {
    Value &wide = casts[value];
    if (!wide) {
      OpBuilder b(func.getContext());
      b.setInsertionPointAfterValue(value);
      auto type = value.getType().cast<RankedTensorType>();
      wide =
          b.create<CastOp>(value.getLoc(), type.clone(b.getF32Type()), value);
    }
    return wide;
  }

  /// The float32 copy of a constant (a scale, a convolution's weight; null
  /// if it cannot be read), made at compile time.
  Value constant(ConstantOp constant, StringRef name = "scale_f32") {
    Value &wide = scales[constant.getResult()];
    if (!wide) {
      auto type = constant.getType().cast<RankedTensorType>();
      std::optional<ConstantTensor> values = readConstant(
          constant.getValue(), std::numeric_limits<int64_t>::max());
      if (!values || values->size() != type.getNumElements())
        return Value();
      std::vector<float> floats(values->size());
      for (int64_t i = 0; i < values->size(); ++i)
        floats[i] = (float)values->asDouble(i);
      OpBuilder b(constant);
      b.setInsertionPointAfter(constant);
      auto wideType = type.clone(b.getF32Type());
      ElementsAttr attr = type.getNumElements() <= foldElementLimit()
                              ? ElementsAttr(DenseElementsAttr::get(
                                    wideType, ArrayRef<float>(floats)))
                              : makeF32Resource(wideType, floats, name);
      wide = b.create<ConstantOp>(constant.getLoc(), attr);
    }
    return wide;
  }

  /// Forgets `value`, about to be erased (its address may be reused).
  void forget(Value value) {
    casts.erase(value);
    scales.erase(value);
  }

  /// Drops the casts and scales no widened matmul ended up reading.
  void eraseUnused() {
    for (auto *map : {&casts, &scales})
      for (auto &entry : *map)
        if (entry.second && entry.second.use_empty())
          entry.second.getDefiningOp()->erase();
  }

private:
  func::FuncOp func;
  llvm::DenseMap<Value, Value> casts, scales;
};

/// Replaces `op` (one 16-bit float result) by a clone whose operands
/// `widenOperands` sets and whose result is float32, cast back to the
/// original type for its users.
void replaceWithWide(Operation *op, Widener &widener,
                     llvm::function_ref<void(Operation *wide)> widenOperands) {
  OpBuilder b(op);
  Operation *wide = b.clone(*op);
  widenOperands(wide);
  Value result = op->getResult(0);
  auto type = result.getType().cast<RankedTensorType>();
  wide->getResult(0).setType(type.clone(b.getF32Type()));
  result.replaceAllUsesWith(
      b.create<CastOp>(op->getLoc(), type, wide->getResult(0)).getResult());
  widener.forget(result);
  op->erase();
}

} // namespace

void widenHalfMatmuls(func::FuncOp func,
                      llvm::function_ref<bool(MatmulOp)> kernelTakes) {
  SmallVector<MatmulOp> matmuls, constantMatmuls, activationMatmuls;
  SmallVector<AttentionOp> attentions;
  SmallVector<ConvOp> convs;
  func.walk([&](Operation *op) {
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      if (isHalfAttention(attention))
        attentions.push_back(attention);
      return;
    }
    if (auto conv = dyn_cast<ConvOp>(op)) {
      if (isHalfConv(conv))
        convs.push_back(conv);
      return;
    }
    auto matmul = dyn_cast<MatmulOp>(op);
    if (!matmul)
      return;
    if (halfQuantWeight(matmul))
      matmuls.push_back(matmul);
    else if (isHalfConstantMatmul(matmul))
      constantMatmuls.push_back(matmul);
    else if (isHalfActivationMatmul(matmul))
      activationMatmuls.push_back(matmul);
  });
  if (matmuls.empty() && constantMatmuls.empty() && activationMatmuls.empty() &&
      attentions.empty() && convs.empty())
    return;
  Widener widener(func);
  // Attention the same way: query, key, value (and a 16-bit mask) cast up,
  // the float32 kernel (SIMD dot products, float32 softmax), the result
  // cast back; the kernel's 16-bit path computes in double, element by
  // element.
  for (AttentionOp attention : attentions)
    replaceWithWide(attention, widener, [&](Operation *op) {
      auto wide = cast<AttentionOp>(op);
      wide.getQueryMutable().assign(widener.toF32(attention.getQuery()));
      wide.getKeyMutable().assign(widener.toF32(attention.getKey()));
      wide.getValueMutable().assign(widener.toF32(attention.getValue()));
      if (Value mask = attention.getMask();
          mask && isHalfFloat(mask.getType()) &&
          mask.getType().isa<RankedTensorType>())
        wide.getMaskMutable().assign(widener.toF32(mask));
    });
  // A convolution on the float32 kernels (a product on the matmul
  // micro-kernel, the depthwise kernel): the input cast up at run time, a
  // constant weight and bias copied to float32 at compile time (the
  // artifact holds them in float32), others cast at run time.
  auto widened = [&](Value value, StringRef name) {
    if (auto constant = value.getDefiningOp<ConstantOp>())
      if (Value wide = widener.constant(constant, name))
        return wide;
    return widener.toF32(value);
  };
  for (ConvOp conv : convs) {
    SmallVector<Operation *> constants;
    for (Value operand : {conv.getWeight(), conv.getBias()})
      if (auto constant =
              operand ? operand.getDefiningOp<ConstantOp>() : ConstantOp())
        constants.push_back(constant);
    replaceWithWide(conv, widener, [&](Operation *op) {
      auto wide = cast<ConvOp>(op);
      wide.getInputMutable().assign(widener.toF32(conv.getInput()));
      wide.getWeightMutable().assign(widened(conv.getWeight(), "conv_w_f32"));
      if (Value bias = conv.getBias())
        wide.getBiasMutable().assign(widened(bias, "conv_b_f32"));
    });
    // The 16-bit originals once nothing reads them (as the quantized
    // matmuls' below).
    for (Operation *constant : constants)
      if (constant->use_empty()) {
        widener.forget(constant->getResult(0));
        constant->erase();
      }
  }
  // Both operands are widened (once per value: a K read by every head's
  // product is cast once), the float32 kernel multiplies, the product is
  // cast back. The casts are O(m k + k n + m n) against the product's
  // O(m k n); the general 16-bit kernel converts every operand in its
  // inner loop instead (measured 10-40x slower than this).
  for (MatmulOp matmul : activationMatmuls)
    replaceWithWide(matmul, widener, [&](Operation *op) {
      auto wide = cast<MatmulOp>(op);
      wide.getLhsMutable().assign(widener.toF32(matmul.getLhs()));
      wide.getRhsMutable().assign(widener.toF32(matmul.getRhs()));
    });
  // A 16-bit weight stays as it is: the float kernel takes float32
  // activations times 16-bit weights (mixed operand types).
  for (MatmulOp matmul : constantMatmuls)
    replaceWithWide(matmul, widener, [&](Operation *op) {
      cast<MatmulOp>(op).getLhsMutable().assign(widener.toF32(matmul.getLhs()));
    });
  for (MatmulOp matmul : matmuls) {
    DequantizeOp weight = halfQuantWeight(matmul);
    auto scale = weight.getScale().getDefiningOp<ConstantOp>();
    Value wideLhs = widener.toF32(matmul.getLhs());
    OpBuilder b(matmul);
    Type f32 = b.getF32Type();
    // The same dequantize (attributes, values, zero points) with float32
    // scales and result; the same matmul on float32 operands. The kernel is
    // asked first, with a placeholder scale: the float32 copy of the real
    // one is made only for a matmul it takes.
    auto scaleType = scale.getType().cast<RankedTensorType>().clone(f32);
    auto placeholder = b.create<ConstantOp>(
        scale.getLoc(), DenseElementsAttr::get(scaleType, 1.0f));
    auto wideWeight = cast<DequantizeOp>(b.clone(*weight));
    wideWeight.getScaleMutable().assign(placeholder);
    wideWeight.getResult().setType(
        weight.getType().cast<RankedTensorType>().clone(f32));
    auto wide = cast<MatmulOp>(b.clone(*matmul));
    wide.getLhsMutable().assign(wideLhs);
    wide.getRhsMutable().assign(wideWeight.getResult());
    wide.getResult().setType(
        matmul.getType().cast<RankedTensorType>().clone(f32));
    Value wideScale = kernelTakes(wide) ? widener.constant(scale) : Value();
    if (!wideScale) {
      wide.erase();
      wideWeight.erase();
      placeholder.erase();
      continue;
    }
    wideWeight.getScaleMutable().assign(wideScale);
    placeholder.erase();
    Value narrowed =
        b.create<CastOp>(matmul.getLoc(), matmul.getType(), wide.getResult());
    matmul.getResult().replaceAllUsesWith(narrowed);
    widener.forget(matmul.getResult());
    matmul.erase();
    // The 16-bit originals once nothing reads them (their data is not
    // released here: this runs on one function while others may run in
    // parallel; the scales are small).
    if (weight->use_empty()) {
      weight.erase();
      if (scale->use_empty())
        scale.erase();
    }
  }
  widener.eraseUnused();
}

} // namespace anvil::lowering

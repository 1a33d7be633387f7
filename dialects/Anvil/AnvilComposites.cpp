//===- AnvilComposites.cpp - decomposing imported composites --------------===//

#include "dialects/Anvil/AnvilComposites.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace anvil;

namespace {
/// Builds `OpTy` with a placeholder result type, then sets the type its
/// shape inference gives (as the importer does).
template <typename OpTy, typename... Args>
FailureOr<Value> createInferred(OpBuilder &b, Location loc, Type element,
                                Args &&...args) {
  auto op = b.create<OpTy>(loc, UnrankedTensorType::get(element),
                           std::forward<Args>(args)...);
  SmallVector<Type> types;
  if (failed(cast<InferShapeOpInterface>(op.getOperation())
                 .inferResultTypes(types)))
    return failure();
  op->getResult(0).setType(types.front());
  return op->getResult(0);
}

} // namespace

FailureOr<OnnxAttentionMask>
anvil::buildOnnxAttentionMask(OpBuilder &b, Location loc, Value q, Value k,
                              Value mask, Value pastKey,
                              std::optional<double> scale, bool causal,
                              function_ref<InFlightDiagnostic()> emitError) {
  Type element = q.getType().cast<TensorType>().getElementType();
  auto qType = getRankedType(q), kType = getRankedType(k);
  if (!qType || !kType || !qType.hasStaticShape() || !kType.hasStaticShape())
    return emitError() << "needs static shapes; bind the model's dynamic "
                          "dimensions (--dim, --input-shape)";
  int64_t past = 0;
  if (pastKey) {
    auto pastType = getRankedType(pastKey);
    if (!pastType || pastType.getRank() != 4 || pastType.isDynamicDim(2))
      return emitError() << "past_key needs a static sequence length";
    past = pastType.getDimSize(2);
  }
  int64_t qLen = qType.getDimSize(2), total = kType.getDimSize(2);
  int64_t headDim = qType.getDimSize(3);
  double s = scale ? *scale : 1.0 / std::sqrt(double(headDim));
  const double inf = std::numeric_limits<double>::infinity();
  if (mask) {
    // A mask shorter than the keys masks the rest.
    auto maskType = getRankedType(mask);
    if (!maskType || maskType.getRank() == 0 ||
        maskType.isDynamicDim(maskType.getRank() - 1))
      return emitError() << "attn_mask needs a static last dimension";
    int64_t missing = total - maskType.getShape().back();
    if (missing < 0)
      return emitError() << "attn_mask is longer than the keys";
    if (missing > 0) {
      SmallVector<int64_t> pads(2 * maskType.getRank(), 0);
      pads.back() = missing;
      auto padded = createInferred<PadOp>(
          b, loc, element, mask, b.getDenseI64ArrayAttr(pads),
          b.getStringAttr("constant"), b.getF64FloatAttr(-inf));
      if (failed(padded))
        return failure();
      mask = *padded;
    }
  }
  if (causal) {
    SmallVector<double> values(qLen * total, 0.0);
    for (int64_t i = 0; i < qLen; ++i)
      for (int64_t j = past + i + 1; j < total; ++j)
        values[i * total + j] = -inf;
    auto type = RankedTensorType::get({qLen, total}, element);
    Value causalMask = b.create<ConstantOp>(
        loc, buildDense(type, values).cast<ElementsAttr>());
    if (mask) {
      auto sum = createInferred<AddOp>(b, loc, element, mask, causalMask);
      if (failed(sum))
        return failure();
      mask = *sum;
    } else {
      mask = causalMask;
    }
  }
  return OnnxAttentionMask{mask, s};
}

FailureOr<Value>
anvil::buildOnnxAttention(OpBuilder &b, Location loc, Value q, Value k, Value v,
                          Value mask, Value pastKey,
                          std::optional<double> scale, bool causal,
                          function_ref<InFlightDiagnostic()> emitError) {
  FailureOr<OnnxAttentionMask> parts = buildOnnxAttentionMask(
      b, loc, q, k, mask, pastKey, scale, causal, emitError);
  if (failed(parts))
    return failure();
  Type element = q.getType().cast<TensorType>().getElementType();
  return createInferred<AttentionOp>(b, loc, element, q, k, v, parts->mask,
                                     b.getF32FloatAttr(parts->scale),
                                     b.getBoolAttr(false));
}

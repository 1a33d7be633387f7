//===- RecognizeNorms.cpp - decomposed RMSNorm/LayerNorm to one op --------===//
//
// Exporters write RMSNorm (Zhang & Sennrich 2019) as pow, mean, add, sqrt,
// div and mul, and some write LayerNorm the same way. After -canonicalize
// these are `x * rsqrt(mean(x * x) + eps)` and
// `(x - mean(x)) * rsqrt(mean(d * d) + eps)`; this pass matches those by
// dataflow and checks the reduction (a mean over the last axis, keepdims),
// the epsilon (a scalar constant) and the types.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/AnvilPatterns.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILRECOGNIZENORMS
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

/// `reduce mean` over exactly the last axis of its input, with keepdims.
bool isMeanOverLastAxis(ReduceOp reduce) {
  if (!reduce || reduce.getKind() != ReduceKind::mean || !reduce.getKeepdims())
    return false;
  auto type = reduce.getInput().getType().dyn_cast<RankedTensorType>();
  ArrayRef<int64_t> axes = reduce.getAxes();
  return type && type.getRank() >= 1 && axes.size() == 1 &&
         axes[0] == type.getRank() - 1;
}

/// `x * x` or `pow(x, 2)`: returns x.
Value matchSquare(Value value) {
  if (auto mul = value.getDefiningOp<MulOp>())
    if (mul.getLhs() == mul.getRhs())
      return mul.getLhs();
  if (auto pow = value.getDefiningOp<PowOp>())
    if (isUniformConstant(pow.getRhs(), 2.0, 0.0))
      return pow.getLhs();
  return {};
}

/// `rsqrt(mean(sq) + eps)` with a scalar constant eps: returns the mean's
/// input (the squares) and sets eps.
Value matchInverseRms(Value value, double &eps) {
  auto rsqrt = value.getDefiningOp<RsqrtOp>();
  if (!rsqrt)
    return {};
  auto add = rsqrt.getInput().getDefiningOp<AddOp>();
  if (!add)
    return {};
  for (unsigned i = 0; i < 2; ++i) {
    auto reduce = add->getOperand(i).getDefiningOp<ReduceOp>();
    std::optional<double> e = getUniformConstant(add->getOperand(1 - i));
    auto epsType = add->getOperand(1 - i).getType().dyn_cast<ShapedType>();
    if (!reduce || !e || !isMeanOverLastAxis(reduce) || !epsType ||
        epsType.getNumElements() != 1 || *e < 0)
      continue;
    eps = *e;
    return reduce.getInput();
  }
  return {};
}

/// The static size of the last dim of a float tensor of static rank >= 1.
std::optional<int64_t> lastDim(Value x) {
  auto type = x.getType().dyn_cast<RankedTensorType>();
  if (!type || type.getRank() < 1 || !type.getElementType().isa<FloatType>() ||
      ShapedType::isDynamic(type.getShape().back()))
    return std::nullopt;
  return type.getShape().back();
}

/// When `value`'s only user is an `OpTy` of `value` and a 1-D tensor of
/// `size` elements (and keeps the type), returns that op and the tensor:
/// the scale (a mul) after a normalization, the bias (an add) after it.
template <class OpTy>
std::pair<Operation *, Value> matchVectorOperand(Value value, int64_t size) {
  if (!value.hasOneUse())
    return {};
  auto op = dyn_cast<OpTy>(*value.getUsers().begin());
  if (!op || op.getType() != value.getType())
    return {};
  Value other = op.getLhs() == value ? op.getRhs() : op.getLhs();
  auto type = other.getType().dyn_cast<RankedTensorType>();
  if (!type || type.getRank() != 1 || type.getDimSize(0) != size ||
      type.getElementType() !=
          value.getType().cast<ShapedType>().getElementType())
    return {};
  return {op, other};
}
std::pair<Operation *, Value> matchScale(Value normalized, int64_t size) {
  return matchVectorOperand<MulOp>(normalized, size);
}
std::pair<Operation *, Value> matchBias(Value scaled, int64_t size) {
  return matchVectorOperand<AddOp>(scaled, size);
}

Value ones(PatternRewriter &rewriter, Location loc, Value like, int64_t size) {
  Type element = like.getType().cast<ShapedType>().getElementType();
  auto type = RankedTensorType::get({size}, element);
  auto attr = DenseElementsAttr::get(
      type, rewriter.getFloatAttr(element, 1.0).cast<Attribute>());
  return rewriter.create<ConstantOp>(loc, attr.cast<ElementsAttr>());
}

/// x * rsqrt(mean(x * x) + eps) [* w]  ->  rms_norm(x, w)
struct RmsNormPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (unsigned i = 0; i < 2; ++i) {
      Value x = op->getOperand(i);
      double eps = 0;
      Value squares = matchInverseRms(op->getOperand(1 - i), eps);
      std::optional<int64_t> size = lastDim(x);
      if (!squares || matchSquare(squares) != x || !size ||
          op.getType() != x.getType())
        continue;
      auto [scaleOp, scale] = matchScale(op.getResult(), *size);
      Operation *root = scaleOp ? scaleOp : op.getOperation();
      rewriter.setInsertionPoint(root);
      if (!scale)
        scale = ones(rewriter, op.getLoc(), x, *size);
      rewriter.replaceOpWithNewOp<RmsNormOp>(root, x.getType(), x, scale,
                                             rewriter.getF32FloatAttr(eps));
      return success();
    }
    return failure();
  }
};

/// d = x - mean(x); d * rsqrt(mean(d * d) + eps) [* w] [+ b]
///   ->  layer_norm(x, w, b) over the last axis
struct LayerNormPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp op,
                                PatternRewriter &rewriter) const override {
    for (unsigned i = 0; i < 2; ++i) {
      auto sub = op->getOperand(i).getDefiningOp<SubOp>();
      double eps = 0;
      Value squares = matchInverseRms(op->getOperand(1 - i), eps);
      if (!sub || !squares || matchSquare(squares) != sub.getResult())
        continue;
      Value x = sub.getLhs();
      auto mean = sub.getRhs().getDefiningOp<ReduceOp>();
      std::optional<int64_t> size = lastDim(x);
      if (!mean || mean.getInput() != x || !isMeanOverLastAxis(mean) || !size ||
          sub.getType() != x.getType() || op.getType() != x.getType())
        continue;
      auto [scaleOp, scale] = matchScale(op.getResult(), *size);
      Operation *root = scaleOp ? scaleOp : op.getOperation();
      Operation *biasOp = nullptr;
      Value bias;
      if (scaleOp)
        std::tie(biasOp, bias) = matchBias(scaleOp->getResult(0), *size);
      if (biasOp)
        root = biasOp;
      rewriter.setInsertionPoint(root);
      if (!scale)
        scale = ones(rewriter, op.getLoc(), x, *size);
      int64_t axis = x.getType().cast<RankedTensorType>().getRank() - 1;
      rewriter.replaceOpWithNewOp<LayerNormOp>(
          root, x.getType(), x, scale, bias, rewriter.getI64IntegerAttr(axis),
          rewriter.getF32FloatAttr(eps));
      return success();
    }
    return failure();
  }
};

struct RecognizeNormsPass : impl::AnvilRecognizeNormsBase<RecognizeNormsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // LayerNorm first: its tail is an RMSNorm of x - mean(x).
    patterns.add<LayerNormPattern>(&getContext(), /*benefit=*/2);
    patterns.add<RmsNormPattern>(&getContext());
    // Not converging within the driver's iterations is not an error.
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
} // namespace anvil

//===- RecognizeAttention.cpp - matmul/softmax/matmul to anvil.attention --===//
//
// Scaled dot-product attention (Vaswani et al. 2017) as exporters write it:
// `matmul(softmax(matmul(q, k^T) * scale + mask), v)`, with the scale on q,
// on k (before or after the transpose) or on the scores, written as a
// multiply or a divide by a scalar constant. Grouped KV heads repeated by
// unsqueeze/expand/reshape are folded into anvil.attention's grouped heads
// by the canonicalization pattern this pass also applies.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/AnvilPatterns.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILRECOGNIZEATTENTION
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

/// Strips multiplications and divisions by a one-element constant that keep
/// the value's type, multiplying their factors into `scale`.
Value stripScale(Value value, double &scale) {
  for (int depth = 0; depth < 4; ++depth) {
    Operation *op = value.getDefiningOp();
    if (!op || !isa<MulOp, DivOp>(op) ||
        op->getOperand(0).getType() != op->getResult(0).getType())
      break;
    bool isMul = isa<MulOp>(op);
    Value lhs = op->getOperand(0), rhs = op->getOperand(1);
    std::optional<double> c = getUniformConstant(rhs);
    auto shaped = rhs.getType().dyn_cast<ShapedType>();
    if (!c && isMul && lhs.getType() == rhs.getType()) {
      // A constant on the left (canonicalization moves it, but this pass
      // also runs on its own).
      std::swap(lhs, rhs);
      c = getUniformConstant(rhs);
      shaped = rhs.getType().dyn_cast<ShapedType>();
    }
    if (!c || !shaped || !shaped.hasStaticShape() ||
        shaped.getNumElements() != 1 || *c == 0.0 ||
        lhs.getType() != op->getResult(0).getType())
      break;
    scale *= isMul ? *c : 1.0 / *c;
    value = lhs;
  }
  return value;
}

/// A transpose of a rank-4 tensor whose last two dims are k^T: returns its
/// input and the permutation that makes k from that input (identity when
/// the transpose only swaps the last two dims; BERT's [0, 2, 3, 1] from
/// [batch, seq, heads, dim] gives [0, 2, 1, 3]).
Value matchTransposedKey(Value value, SmallVectorImpl<int64_t> &keyPerm) {
  auto transpose = value.getDefiningOp<TransposeOp>();
  if (!transpose)
    return {};
  ArrayRef<int64_t> perm = transpose.getPerm();
  if (perm.size() != 4)
    return {};
  keyPerm.assign({perm[0], perm[1], perm[3], perm[2]});
  return transpose.getInput();
}

RankedTensorType rank4(Value value) {
  auto type = value.getType().dyn_cast<RankedTensorType>();
  if (!type || type.getRank() != 4 || !type.getElementType().isa<FloatType>())
    return {};
  return type;
}

/// True if a mask of `shape` broadcasts to `scores` (numpy rules) without
/// enlarging them.
bool maskShapeFits(ArrayRef<int64_t> shape, RankedTensorType scores) {
  if (shape.size() > 4)
    return false;
  int64_t offset = 4 - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1 && shape[i] != scores.getDimSize(offset + i))
      return false;
  return true;
}

bool maskFits(Value mask, RankedTensorType scores) {
  auto type = mask.getType().dyn_cast<RankedTensorType>();
  return type && type.getElementType() == scores.getElementType() &&
         maskShapeFits(type.getShape(), scores);
}

/// `where(cond, s, fill)` that masks scores with a huge negative constant
/// (GPT-2's causal mask): the same as adding `where(cond, 0, fill)` to the
/// scores, since s + fill rounds to fill (or is -inf) for any finite score.
WhereOp matchMaskingWhere(Value value) {
  auto where = value.getDefiningOp<WhereOp>();
  if (!where || where.getTrueValue().getType() != where.getType())
    return {};
  std::optional<double> fill = getUniformConstant(where.getFalseValue());
  auto fillType = where.getFalseValue().getType().dyn_cast<ShapedType>();
  if (!fill || !fillType || !fillType.hasStaticShape() ||
      fillType.getNumElements() != 1 || !(*fill <= -1e30))
    return {};
  return where;
}

struct AttentionPattern : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getTransposeRhs())
      return failure();
    auto softmax = op.getLhs().getDefiningOp<SoftmaxOp>();
    Value v = op.getRhs();
    RankedTensorType probs = softmax ? rank4(softmax.getResult()) : nullptr;
    if (!probs || softmax.getLog() || softmax.getAxis() != 3 || !rank4(v))
      return failure();
    Value scores = softmax.getInput();
    double scale = 1.0;
    Value mask;
    // An additive mask on the (possibly scaled, possibly where-masked)
    // scores, in either order.
    auto leadsToScores = [](Value value) {
      double s = 1.0;
      if (WhereOp where = matchMaskingWhere(value))
        value = where.getTrueValue();
      return (bool)stripScale(value, s).getDefiningOp<MatmulOp>();
    };
    if (auto add = scores.getDefiningOp<AddOp>()) {
      for (unsigned i = 0; i < 2; ++i) {
        if (leadsToScores(add->getOperand(i)) &&
            add->getOperand(i).getType() == add.getType() &&
            maskFits(add->getOperand(1 - i), probs)) {
          mask = add->getOperand(1 - i);
          scores = add->getOperand(i);
          break;
        }
      }
      if (!mask)
        return failure();
    }
    // where(cond, s, fill) becomes the additive mask where(cond, 0, fill).
    WhereOp select = matchMaskingWhere(scores);
    SmallVector<int64_t> selectShape, combinedShape;
    if (select) {
      auto cond = select.getCondition().getType().dyn_cast<RankedTensorType>();
      auto fill = select.getFalseValue().getType().cast<RankedTensorType>();
      if (!cond || !cond.hasStaticShape() ||
          failed(
              broadcastShapes(cond.getShape(), fill.getShape(), selectShape)) ||
          !maskShapeFits(selectShape, probs))
        return failure();
      combinedShape = selectShape;
      if (mask) {
        auto maskType = mask.getType().cast<RankedTensorType>();
        if (failed(broadcastShapes(selectShape, maskType.getShape(),
                                   combinedShape)) ||
            !maskShapeFits(combinedShape, probs))
          return failure();
      }
      scores = select.getTrueValue();
    }
    auto qk = stripScale(scores, scale).getDefiningOp<MatmulOp>();
    if (!qk)
      return failure();
    Value q = stripScale(qk.getLhs(), scale);
    Value k;
    SmallVector<int64_t> keyPerm;
    RankedTensorType kPermuted;
    if (qk.getTransposeRhs()) {
      k = stripScale(qk.getRhs(), scale);
    } else {
      k = matchTransposedKey(stripScale(qk.getRhs(), scale), keyPerm);
      if (!k)
        return failure();
      k = stripScale(k, scale);
    }
    bool permuteKey =
        !keyPerm.empty() && keyPerm != ArrayRef<int64_t>{0, 1, 2, 3};
    if (permuteKey) {
      auto input = k.getType().dyn_cast<RankedTensorType>();
      if (!input || input.getRank() != 4)
        return failure();
      SmallVector<int64_t> shape;
      for (int64_t p : keyPerm)
        shape.push_back(input.getDimSize(p));
      kPermuted = RankedTensorType::get(shape, input.getElementType());
    }
    RankedTensorType qType = rank4(q),
                     kType = permuteKey ? kPermuted : rank4(k),
                     vType = rank4(v);
    if (!qType || !kType || !vType || qk.getType() != probs ||
        qType.getElementType() != vType.getElementType() ||
        kType.getElementType() != vType.getElementType())
      return failure();
    // The shapes must be what the matmuls imply without broadcasting:
    // scores [B, H, L, T], v [B, H, T, Dv], q [B, H, L, D], k [B, H, T, D].
    ArrayRef<int64_t> s = probs.getShape();
    if (qType.getShape() !=
            ArrayRef<int64_t>{s[0], s[1], s[2], qType.getDimSize(3)} ||
        kType.getShape() !=
            ArrayRef<int64_t>{s[0], s[1], s[3], qType.getDimSize(3)} ||
        vType.getDimSize(0) != s[0] || vType.getDimSize(1) != s[1] ||
        vType.getDimSize(2) != s[3])
      return failure();
    if (op.getType() !=
        RankedTensorType::get({s[0], s[1], s[2], vType.getDimSize(3)},
                              vType.getElementType()))
      return failure();
    if (permuteKey)
      k = rewriter.create<TransposeOp>(op.getLoc(), kPermuted, k, keyPerm);
    if (select) {
      Type element = probs.getElementType();
      Value zero = rewriter.create<ConstantOp>(
          op.getLoc(),
          DenseElementsAttr::get(RankedTensorType::get({}, element),
                                 rewriter.getZeroAttr(element))
              .cast<ElementsAttr>());
      Value selectMask = rewriter.create<WhereOp>(
          op.getLoc(), RankedTensorType::get(selectShape, element),
          select.getCondition(), zero, select.getFalseValue());
      mask =
          mask ? rewriter.create<AddOp>(
                     op.getLoc(), RankedTensorType::get(combinedShape, element),
                     selectMask, mask)
               : selectMask;
    }
    rewriter.replaceOpWithNewOp<AttentionOp>(op, op.getType(), q, k, v, mask,
                                             rewriter.getF32FloatAttr(scale),
                                             rewriter.getBoolAttr(false));
    return success();
  }
};

struct RecognizeAttentionPass
    : impl::AnvilRecognizeAttentionBase<RecognizeAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionPattern>(&getContext());
    populateAttentionRepeatKvPatterns(patterns);
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
} // namespace anvil

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

/// torch's SDPA decomposition (the dynamo exporter) computes k^T on
/// merged batch and heads: reshape(transpose(reshape(k, [B*H, T, D]),
/// [0, 2, 1]), [B, H, D, T]). Returns the inner reshape's input and the
/// [B, H, T, D] type k has as a reshape of it (built once the match is
/// certain), or a null value.
std::pair<Value, RankedTensorType> matchMergedHeadsKeyTranspose(Value value) {
  auto outer = value.getDefiningOp<ReshapeOp>();
  auto transpose =
      outer ? outer.getInput().getDefiningOp<TransposeOp>() : TransposeOp();
  auto inner =
      transpose ? transpose.getInput().getDefiningOp<ReshapeOp>() : ReshapeOp();
  if (!inner || transpose.getPerm() != ArrayRef<int64_t>{0, 2, 1})
    return {};
  auto result = outer.getType().dyn_cast<RankedTensorType>();
  auto merged = inner.getType().dyn_cast<RankedTensorType>();
  auto source = inner.getInput().getType().dyn_cast<RankedTensorType>();
  if (!result || !merged || !source || !result.hasStaticShape() ||
      !merged.hasStaticShape() || !source.hasStaticShape() ||
      result.getRank() != 4 || merged.getRank() != 3)
    return {};
  ArrayRef<int64_t> r = result.getShape(), m = merged.getShape();
  if (r[0] * r[1] != m[0] || r[2] != m[2] || r[3] != m[1])
    return {};
  return {inner.getInput(), RankedTensorType::get({r[0], r[1], r[3], r[2]},
                                                  result.getElementType())};
}

/// `where(p != p, 0, p)`: torch's SDPA decomposition zeroes the NaN rows
/// of the probabilities (queries whose every key is masked). Returns p.
Value matchNanToZero(Value value) {
  auto where = value.getDefiningOp<WhereOp>();
  if (!where)
    return {};
  auto compare = where.getCondition().getDefiningOp<CompareOp>();
  std::optional<double> zero = getUniformConstant(where.getTrueValue());
  if (!compare || compare.getPredicate() != ComparePredicate::ne ||
      compare.getLhs() != compare.getRhs() ||
      compare.getLhs() != where.getFalseValue() || !zero || *zero != 0.0)
    return {};
  return where.getFalseValue();
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
    Value probsValue = op.getLhs();
    // Zeroed NaN rows: the attention's output rows for them are NaN, so
    // the same where on the output keeps the semantics.
    Value unguarded = matchNanToZero(probsValue);
    if (unguarded)
      probsValue = unguarded;
    auto softmax = probsValue.getDefiningOp<SoftmaxOp>();
    Value v = op.getRhs();
    RankedTensorType probs = softmax ? rank4(softmax.getResult()) : nullptr;
    if (!probs || softmax.getLog() || softmax.getAxis() != 3 || !rank4(v))
      return failure();
    Value scores = softmax.getInput();
    double scale = 1.0;
    Value mask;
    // A scale applied after the mask, (q k^T + mask) * c, scales the mask
    // too.
    double maskScale = 1.0;
    {
      double outer = 1.0;
      Value inner = stripScale(scores, outer);
      if (outer != 1.0 && inner.getDefiningOp<AddOp>()) {
        scores = inner;
        maskScale = outer;
        scale *= outer;
      }
    }
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
    Value k, mergedKeySource;
    RankedTensorType mergedKeyType;
    SmallVector<int64_t> keyPerm;
    RankedTensorType kPermuted;
    if (qk.getTransposeRhs()) {
      k = stripScale(qk.getRhs(), scale);
    } else {
      Value kt = stripScale(qk.getRhs(), scale);
      k = matchTransposedKey(kt, keyPerm);
      if (!k) {
        std::tie(mergedKeySource, mergedKeyType) =
            matchMergedHeadsKeyTranspose(kt);
        if (!mergedKeySource)
          return failure();
      } else {
        k = stripScale(k, scale);
      }
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
                     kType = permuteKey        ? kPermuted
                             : mergedKeySource ? mergedKeyType
                                               : rank4(k),
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
    if (mergedKeySource) {
      auto shapeType = RankedTensorType::get({4}, rewriter.getI64Type());
      Value shape = rewriter.create<ConstantOp>(
          op.getLoc(),
          DenseElementsAttr::get(shapeType, mergedKeyType.getShape())
              .cast<ElementsAttr>());
      k = rewriter.create<ReshapeOp>(op.getLoc(), mergedKeyType,
                                     mergedKeySource, shape,
                                     rewriter.getBoolAttr(false));
    }
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
    if (mask && maskScale != 1.0) {
      auto maskType = mask.getType().cast<RankedTensorType>();
      Type element = maskType.getElementType();
      Value factor = rewriter.create<ConstantOp>(
          op.getLoc(),
          DenseElementsAttr::get(RankedTensorType::get({}, element),
                                 rewriter.getFloatAttr(element, maskScale))
              .cast<ElementsAttr>());
      mask = rewriter.create<MulOp>(op.getLoc(), maskType, mask, factor);
    }
    Value out = rewriter.create<AttentionOp>(
        op.getLoc(), op.getType(), q, k, v, mask,
        rewriter.getF32FloatAttr(scale), rewriter.getBoolAttr(false));
    if (unguarded) {
      Type element = probs.getElementType();
      auto boolType = RankedTensorType::get(
          op.getType().cast<RankedTensorType>().getShape(),
          rewriter.getI1Type());
      Value isNan = rewriter.create<CompareOp>(
          op.getLoc(), boolType, out, out,
          ComparePredicateAttr::get(rewriter.getContext(),
                                    ComparePredicate::ne));
      Value zero = rewriter.create<ConstantOp>(
          op.getLoc(),
          DenseElementsAttr::get(RankedTensorType::get({}, element),
                                 rewriter.getZeroAttr(element))
              .cast<ElementsAttr>());
      out =
          rewriter.create<WhereOp>(op.getLoc(), op.getType(), isNan, zero, out);
    }
    rewriter.replaceOp(op, out);
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

//===- RecognizeRope.cpp - rotate-half rotary embedding to anvil.rope -----===//
//
// Llama-style exporters write rotary embeddings (Su et al. 2021) as
// `x * cos + rotate_half(x) * sin` with full-width tables whose two halves
// repeat (`emb = cat(freqs, freqs)`). anvil.rope takes the half tables, so
// the match also proves the halves equal and builds the half tables from
// where they were made (cos(concat(f, f)) becomes cos(f)).
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/AnvilPatterns.h"
#include "dialects/Anvil/ConstantValues.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILRECOGNIZEROPE
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

// Rotary tables are [max_positions, head_dim] at most; larger constants
// are not inspected.
constexpr int64_t kTableElementLimit = 1 << 22;

RankedTensorType rankedStatic(Value value) {
  auto type = value.getType().dyn_cast<RankedTensorType>();
  return type && type.hasStaticShape() ? type : RankedTensorType();
}

/// `slice(x, [start], [end], [last axis], [1])`: returns x and the bounds.
Value matchLastAxisSlice(Value value, int64_t &start, int64_t &end) {
  auto slice = value.getDefiningOp<SliceOp>();
  if (!slice)
    return {};
  RankedTensorType type = rankedStatic(slice.getInput());
  auto starts = getConstantInts(slice.getStarts());
  auto ends = getConstantInts(slice.getEnds());
  auto axes = getConstantInts(slice.getAxes());
  auto steps = getConstantInts(slice.getSteps());
  if (!type || !starts || !ends || !axes || !steps || starts->size() != 1 ||
      ends->size() != 1 || axes->size() != 1 || steps->size() != 1 ||
      (*steps)[0] != 1)
    return {};
  int64_t rank = type.getRank(), dim = type.getShape().back();
  if ((*axes)[0] != rank - 1 && (*axes)[0] != -1)
    return {};
  auto clamp = [&](int64_t i) {
    if (i < 0)
      i += dim;
    return std::max<int64_t>(0, std::min(i, dim));
  };
  start = clamp((*starts)[0]);
  end = clamp((*ends)[0]);
  return slice.getInput();
}

/// `concat(-x[..., d/2:], x[..., :d/2])` on the last axis: returns x.
Value matchRotateHalf(Value value) {
  auto concat = value.getDefiningOp<ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  RankedTensorType type = rankedStatic(concat.getResult());
  if (!type || (int64_t)concat.getAxis() != type.getRank() - 1)
    return {};
  auto neg = concat.getInputs()[0].getDefiningOp<NegOp>();
  if (!neg)
    return {};
  int64_t hiStart, hiEnd, loStart, loEnd;
  Value hi = matchLastAxisSlice(neg.getInput(), hiStart, hiEnd);
  Value lo = matchLastAxisSlice(concat.getInputs()[1], loStart, loEnd);
  int64_t d = type.getShape().back();
  if (!hi || hi != lo || d % 2 != 0 || rankedStatic(hi).getShape().back() != d)
    return {};
  if (loStart != 0 || loEnd != d / 2 || hiStart != d / 2 || hiEnd != d)
    return {};
  return hi;
}

/// True if the last dim of `value` is two equal halves.
bool halvesEqual(Value value, int depth = 0) {
  RankedTensorType type = rankedStatic(value);
  if (!type || type.getRank() < 1 || type.getShape().back() % 2 != 0 ||
      depth > 8)
    return false;
  int64_t rank = type.getRank();
  Operation *op = value.getDefiningOp();
  if (!op)
    return false;
  if (auto concat = dyn_cast<ConcatOp>(op))
    return concat.getInputs().size() == 2 &&
           concat.getInputs()[0] == concat.getInputs()[1] &&
           (int64_t)concat.getAxis() == rank - 1;
  if (isa<CosOp, SinOp, NegOp, CastOp>(op))
    return halvesEqual(op->getOperand(0), depth + 1);
  if (auto unsqueeze = dyn_cast<UnsqueezeOp>(op))
    return !llvm::is_contained(unsqueeze.getAxes(), rank - 1) &&
           halvesEqual(unsqueeze.getInput(), depth + 1);
  if (auto gather = dyn_cast<GatherOp>(op)) {
    RankedTensorType input = rankedStatic(gather.getInput());
    return input && (int64_t)gather.getAxis() != input.getRank() - 1 &&
           halvesEqual(gather.getInput(), depth + 1);
  }
  if (auto constant = dyn_cast<ConstantOp>(op)) {
    std::optional<ConstantTensor> t =
        readConstant(constant.getValue(), kTableElementLimit);
    if (!t)
      return false;
    int64_t d = type.getShape().back(), half = d / 2;
    for (int64_t row = 0; row < t->size() / d; ++row)
      for (int64_t j = 0; j < half; ++j)
        if (t->asDouble(row * d + j) != t->asDouble(row * d + half + j))
          return false;
    return true;
  }
  return false;
}

RankedTensorType halfType(Value value) {
  auto type = value.getType().cast<RankedTensorType>();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() /= 2;
  return RankedTensorType::get(shape, type.getElementType());
}

/// The first half of the last dim of a value `halvesEqual` accepted, built
/// from its sources.
Value buildFirstHalf(PatternRewriter &rewriter, Value value) {
  Operation *op = value.getDefiningOp();
  if (auto concat = dyn_cast<ConcatOp>(op))
    return concat.getInputs()[0];
  OpBuilder::InsertionGuard guard(rewriter);
  if (isa<CosOp, SinOp, NegOp, CastOp, UnsqueezeOp>(op)) {
    Value input = buildFirstHalf(rewriter, op->getOperand(0));
    rewriter.setInsertionPointAfter(op);
    OperationState state(op->getLoc(), op->getName());
    state.addOperands(input);
    state.addAttributes(op->getAttrs());
    state.addTypes(halfType(value));
    return rewriter.create(state)->getResult(0);
  }
  if (auto gather = dyn_cast<GatherOp>(op)) {
    Value input = buildFirstHalf(rewriter, gather.getInput());
    rewriter.setInsertionPointAfter(op);
    return rewriter.create<GatherOp>(op->getLoc(), halfType(value), input,
                                     gather.getIndices(), gather.getAxis());
  }
  auto constant = cast<ConstantOp>(op);
  std::optional<ConstantTensor> t =
      readConstant(constant.getValue(), kTableElementLimit);
  RankedTensorType type = halfType(value);
  int64_t d = value.getType().cast<RankedTensorType>().getShape().back();
  ConstantTensor half;
  half.type = type;
  half.isFloat = t->isFloat;
  for (int64_t i = 0; i < t->size(); ++i) {
    if (i % d >= d / 2)
      continue;
    if (t->isFloat)
      half.floats.push_back(t->floats[i]);
    else
      half.ints.push_back(t->ints[i]);
  }
  rewriter.setInsertionPointAfter(op);
  return rewriter.create<ConstantOp>(
      op->getLoc(), buildDense(type, half).cast<ElementsAttr>());
}

/// True if a table of `table`'s shape broadcasts over `x`'s leading dims
/// and has x's last dim.
bool isTableFor(Value table, RankedTensorType x) {
  RankedTensorType t = rankedStatic(table);
  if (!t || t.getRank() < 1 || t.getRank() > x.getRank() ||
      t.getElementType() != x.getElementType() ||
      t.getShape().back() != x.getShape().back())
    return false;
  int64_t offset = x.getRank() - t.getRank();
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (t.getDimSize(i) != 1 && t.getDimSize(i) != x.getDimSize(offset + i))
      return false;
  return true;
}

/// x * cos + rotate_half(x) * sin  ->  rope(x, cos[..., :d/2], sin[..., :d/2])
struct RopePattern : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    for (unsigned i = 0; i < 2; ++i) {
      auto direct = op->getOperand(i).getDefiningOp<MulOp>();
      auto rotated = op->getOperand(1 - i).getDefiningOp<MulOp>();
      if (!direct || !rotated)
        continue;
      for (unsigned j = 0; j < 2; ++j) {
        for (unsigned k = 0; k < 2; ++k) {
          Value x = direct->getOperand(j), cos = direct->getOperand(1 - j);
          Value sin = rotated->getOperand(1 - k);
          if (matchRotateHalf(rotated->getOperand(k)) != x)
            continue;
          RankedTensorType type = rankedStatic(x);
          if (!type || type.getRank() < 2 || !hasFloatElements(x) ||
              op.getType() != x.getType() || direct.getType() != x.getType() ||
              rotated.getType() != x.getType() || !isTableFor(cos, type) ||
              !isTableFor(sin, type) || cos.getType() != sin.getType() ||
              !halvesEqual(cos) || !halvesEqual(sin))
            continue;
          Value cosHalf = buildFirstHalf(rewriter, cos);
          Value sinHalf = buildFirstHalf(rewriter, sin);
          rewriter.replaceOpWithNewOp<RopeOp>(op, op.getType(), x, cosHalf,
                                              sinHalf,
                                              rewriter.getBoolAttr(false));
          return success();
        }
      }
    }
    return failure();
  }
};

struct RecognizeRopePass : impl::AnvilRecognizeRopeBase<RecognizeRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RopePattern>(&getContext());
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
} // namespace anvil

//===- RecognizeRope.cpp - written-out rotary embeddings to anvil.rope ----===//
//
// Exporters write rotary embeddings (Su et al. 2021) out of elementwise ops:
//  - Llama's `x * cos + rotate_half(x) * sin` with full-width tables whose
//    two halves repeat (`emb = cat(freqs, freqs)`). anvil.rope takes the
//    half tables, so the match also proves the halves equal and builds the
//    half tables from where they were made (cos(concat(f, f)) becomes
//    cos(f)).
//  - Adjacent pairs rotated and stacked back (Meta's layout), and GPT-J's
//    `x * cos2 + rotate_every_two(x) * sin2` whose tables repeat each
//    element twice: anvil.rope {interleaved}.
//  - A partial rotation (GPT-J, NeoX, Phi): the rope of `x[..., :r]`
//    concatenated with `x[..., r:]` becomes one rope with rotary_dim.
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

/// `slice(x, [start], [end], [last axis], [step])` with step >= 1: returns x
/// and the bounds, clamped to the last dim.
Value matchLastAxisSlice(Value value, int64_t &start, int64_t &end,
                         int64_t &step) {
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
      (*steps)[0] < 1)
    return {};
  step = (*steps)[0];
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

/// `slice(x, [start], [end], [last axis], [1])`: returns x and the bounds.
Value matchLastAxisSlice(Value value, int64_t &start, int64_t &end) {
  int64_t step;
  Value input = matchLastAxisSlice(value, start, end, step);
  return step == 1 ? input : Value();
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

/// `value` is `source` with a trailing unit dim added (`added`: an unsqueeze
/// or a reshape) or dropped (a squeeze or a reshape): returns source.
Value matchTrailingUnit(Value value, bool added) {
  Operation *op = value.getDefiningOp();
  if (!op || !(added ? isa<UnsqueezeOp, ReshapeOp>(op)
                     : isa<SqueezeOp, ReshapeOp>(op)))
    return {};
  Value source = op->getOperand(0);
  RankedTensorType narrow = rankedStatic(added ? source : value);
  RankedTensorType wide = rankedStatic(added ? value : source);
  if (!narrow || !wide || wide.getRank() != narrow.getRank() + 1 ||
      wide.getShape().back() != 1 ||
      wide.getShape().drop_back() != narrow.getShape())
    return {};
  return source;
}

Value matchDropTrailingUnit(Value value) {
  return matchTrailingUnit(value, /*added=*/false);
}

Value matchAddTrailingUnit(Value value) {
  return matchTrailingUnit(value, /*added=*/true);
}

/// Element `which` (0 or 1) of each pair of `pairs` ([..., d/2, 2]): a
/// split of the last axis into ones, or a [which, which + 1) slice of it.
Value matchPairElement(Value value, int64_t which) {
  if (auto result = value.dyn_cast<OpResult>())
    if (auto split = dyn_cast<SplitOp>(result.getOwner())) {
      RankedTensorType type = rankedStatic(split.getInput());
      int64_t axis = split.getAxis();
      if (!type || (axis != type.getRank() - 1 && axis != -1) ||
          split.getSizes() != ArrayRef<int64_t>{1, 1} ||
          result.getResultNumber() != which)
        return {};
      return split.getInput();
    }
  int64_t start, end;
  Value pairs = matchLastAxisSlice(value, start, end);
  if (!pairs || start != which || end != which + 1)
    return {};
  return pairs;
}

/// The even and odd elements of x's last dim: returns x. `even`/`odd` are
/// x[..., 0::2] and x[..., 1::2], or the two elements of each pair of
/// reshape(x, [..., d/2, 2]) with the unit dim dropped.
Value matchEvenOdd(Value even, Value odd) {
  RankedTensorType half = rankedStatic(even);
  if (!half || half.getRank() < 1 || half != rankedStatic(odd))
    return {};
  int64_t evenStart, evenEnd, evenStep, oddStart, oddEnd, oddStep;
  Value x = matchLastAxisSlice(even, evenStart, evenEnd, evenStep);
  if (x && x == matchLastAxisSlice(odd, oddStart, oddEnd, oddStep)) {
    RankedTensorType type = rankedStatic(x);
    int64_t d = type.getShape().back();
    if (evenStep != 2 || oddStep != 2 || evenStart != 0 || oddStart != 1 ||
        d % 2 != 0 || evenEnd < d - 1 || oddEnd < d ||
        half.getShape().back() * 2 != d)
      return {};
    return x;
  }
  Value evenPair = matchDropTrailingUnit(even),
        oddPair = matchDropTrailingUnit(odd);
  if (!evenPair || !oddPair)
    return {};
  Value pairs = matchPairElement(evenPair, 0);
  if (!pairs || pairs != matchPairElement(oddPair, 1))
    return {};
  auto reshape = pairs.getDefiningOp<ReshapeOp>();
  RankedTensorType pairsType = rankedStatic(pairs);
  if (!reshape || pairsType.getShape().back() != 2 ||
      pairsType.getShape().drop_back() != half.getShape())
    return {};
  x = reshape.getInput();
  RankedTensorType type = rankedStatic(x);
  if (!type || type.getShape().drop_back() != half.getShape().drop_back() ||
      type.getShape().back() != 2 * half.getShape().back())
    return {};
  return x;
}

/// GPT-J's `rotate_every_two(x) = flatten(stack(-x_odd, x_even, -1), -2)`:
/// returns x.
Value matchRotateEveryTwo(Value value) {
  auto flatten = value.getDefiningOp<ReshapeOp>();
  if (!flatten)
    return {};
  auto stack = flatten.getInput().getDefiningOp<ConcatOp>();
  RankedTensorType type = rankedStatic(value);
  if (!stack || !type || stack.getInputs().size() != 2)
    return {};
  RankedTensorType stacked = rankedStatic(stack.getResult());
  if (!stacked || stacked.getRank() != type.getRank() + 1 ||
      (int64_t)stack.getAxis() != stacked.getRank() - 1 ||
      stacked.getShape().back() != 2 ||
      stacked.getShape().drop_back(2) != type.getShape().drop_back())
    return {};
  Value negOdd = matchAddTrailingUnit(stack.getInputs()[0]);
  Value even = matchAddTrailingUnit(stack.getInputs()[1]);
  auto neg = negOdd ? negOdd.getDefiningOp<NegOp>() : NegOp();
  if (!neg || !even)
    return {};
  Value x = matchEvenOdd(even, neg.getInput());
  return x && x.getType() == value.getType() ? x : Value();
}

/// A table whose last dim repeats each element twice (torch's
/// `repeat_interleave(t, 2, -1)`, exported as a tile, an expand or a concat
/// of `t` with a trailing unit dim, flattened by a reshape): returns `t`,
/// [..., d/2]; a constant with equal pairs yields a new constant of its even
/// elements, built only with a `rewriter` (without one, the constant itself
/// says the match holds). Null if the pairs are not provably equal.
Value matchPairRepeatedTable(PatternRewriter *rewriter, Value value) {
  RankedTensorType type = rankedStatic(value);
  if (!type || type.getRank() < 1 || type.getShape().back() % 2 != 0)
    return {};
  if (auto constant = value.getDefiningOp<ConstantOp>()) {
    std::optional<ConstantTensor> t =
        readConstant(constant.getValue(), kTableElementLimit);
    if (!t || !t->isFloat)
      return {};
    ConstantTensor half;
    half.type = halfType(value);
    half.isFloat = true;
    for (int64_t i = 0; i < t->size(); i += 2) {
      if (t->floats[i] != t->floats[i + 1])
        return {};
      half.floats.push_back(t->floats[i]);
    }
    if (!rewriter)
      return value;
    OpBuilder::InsertionGuard guard(*rewriter);
    rewriter->setInsertionPointAfter(constant);
    return rewriter->create<ConstantOp>(
        constant.getLoc(), buildDense(half.type, half).cast<ElementsAttr>());
  }
  auto flatten = value.getDefiningOp<ReshapeOp>();
  if (!flatten)
    return {};
  Value repeated = flatten.getInput();
  RankedTensorType pairs = rankedStatic(repeated);
  if (!pairs || pairs.getRank() != type.getRank() + 1 ||
      pairs.getShape().back() != 2 ||
      pairs.getShape().drop_back(2) != type.getShape().drop_back() ||
      pairs.getShape()[pairs.getRank() - 2] * 2 != type.getShape().back())
    return {};
  Operation *op = repeated.getDefiningOp();
  Value unit;
  if (auto tile = dyn_cast_or_null<TileOp>(op)) {
    ArrayRef<int64_t> repeats = tile.getRepeats();
    if (repeats.empty() || repeats.back() != 2 ||
        llvm::any_of(repeats.drop_back(), [](int64_t r) { return r != 1; }))
      return {};
    unit = tile.getInput();
  } else if (auto expand = dyn_cast_or_null<ExpandOp>(op)) {
    unit = expand.getInput();
    RankedTensorType in = rankedStatic(unit);
    if (!in || in.getRank() != pairs.getRank() ||
        in.getShape().drop_back() != pairs.getShape().drop_back())
      return {};
  } else if (auto concat = dyn_cast_or_null<ConcatOp>(op)) {
    if (concat.getInputs().size() != 2 ||
        concat.getInputs()[0] != concat.getInputs()[1] ||
        (int64_t)concat.getAxis() != pairs.getRank() - 1)
      return {};
    unit = concat.getInputs()[0];
  } else {
    return {};
  }
  return matchAddTrailingUnit(unit);
}

/// x * cos + rotate_half(x) * sin  ->  rope(x, cos[..., :d/2], sin[..., :d/2])
/// and GPT-J's x * cos2 + rotate_every_two(x) * sin2  ->  rope(x, cos, sin)
/// {interleaved} (cos2 = repeat_interleave(cos, 2, -1)).
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
          bool interleaved = matchRotateHalf(rotated->getOperand(k)) != x;
          if (interleaved && matchRotateEveryTwo(rotated->getOperand(k)) != x)
            continue;
          RankedTensorType type = rankedStatic(x);
          if (!type || type.getRank() < 2 || !hasFloatElements(x) ||
              op.getType() != x.getType() || direct.getType() != x.getType() ||
              rotated.getType() != x.getType() || !isTableFor(cos, type) ||
              !isTableFor(sin, type) || cos.getType() != sin.getType())
            continue;
          Value cosHalf, sinHalf;
          if (interleaved) {
            // Check both tables before building either.
            if (!matchPairRepeatedTable(nullptr, cos) ||
                !matchPairRepeatedTable(nullptr, sin))
              continue;
            cosHalf = matchPairRepeatedTable(&rewriter, cos);
            sinHalf = matchPairRepeatedTable(&rewriter, sin);
          } else {
            if (!halvesEqual(cos) || !halvesEqual(sin))
              continue;
            cosHalf = buildFirstHalf(rewriter, cos);
            sinHalf = buildFirstHalf(rewriter, sin);
          }
          rewriter.replaceOpWithNewOp<RopeOp>(
              op, op.getType(), x, cosHalf, sinHalf,
              rewriter.getBoolAttr(interleaved));
          return success();
        }
      }
    }
    return failure();
  }
};

/// `value` is `a * b` in either order.
bool isProduct(Value value, Value a, Value b) {
  auto mul = value.getDefiningOp<MulOp>();
  return mul && ((mul.getLhs() == a && mul.getRhs() == b) ||
                 (mul.getLhs() == b && mul.getRhs() == a));
}

/// Rotation of adjacent pairs (GPT-J's and Meta's layout, Su et al. 2021)
/// written out: with e, o the even and odd elements of x's last dim,
///   flatten(stack(e * cos - o * sin, o * cos + e * sin, -1), -2)
/// -> rope(x, cos, sin) {interleaved = true}. The tables are half width
/// already (one angle per pair), so they are used as they are.
struct InterleavedRopePattern : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto stack = op.getInput().getDefiningOp<ConcatOp>();
    RankedTensorType type = rankedStatic(op.getResult());
    if (!stack || !type || stack.getInputs().size() != 2 ||
        !hasFloatElements(op.getResult()))
      return failure();
    RankedTensorType stacked = rankedStatic(stack.getResult());
    if (!stacked || stacked.getRank() != type.getRank() + 1 ||
        (int64_t)stack.getAxis() != stacked.getRank() - 1 ||
        stacked.getShape().back() != 2 ||
        stacked.getShape().drop_back(2) != type.getShape().drop_back() ||
        stacked.getShape()[stacked.getRank() - 2] * 2 != type.getShape().back())
      return failure();
    Value first = matchAddTrailingUnit(stack.getInputs()[0]);
    Value second = matchAddTrailingUnit(stack.getInputs()[1]);
    auto sub = first ? first.getDefiningOp<SubOp>() : SubOp();
    auto add = second ? second.getDefiningOp<AddOp>() : AddOp();
    if (!sub || !add)
      return failure();
    auto lhs = sub.getLhs().getDefiningOp<MulOp>();
    auto rhs = sub.getRhs().getDefiningOp<MulOp>();
    if (!lhs || !rhs)
      return failure();
    // sub = e * cos - o * sin; add = o * cos + e * sin.
    for (unsigned i = 0; i < 2; ++i) {
      for (unsigned j = 0; j < 2; ++j) {
        Value even = lhs->getOperand(i), cos = lhs->getOperand(1 - i);
        Value odd = rhs->getOperand(j), sin = rhs->getOperand(1 - j);
        Value x = matchEvenOdd(even, odd);
        if (!x || x.getType() != op.getType())
          continue;
        bool addMatches = (isProduct(add.getLhs(), odd, cos) &&
                           isProduct(add.getRhs(), even, sin)) ||
                          (isProduct(add.getRhs(), odd, cos) &&
                           isProduct(add.getLhs(), even, sin));
        RankedTensorType half = rankedStatic(even);
        if (!addMatches || cos.getType() != sin.getType() ||
            type.getRank() < 2 || !isTableFor(cos, half) ||
            sub.getType() != half || add.getType() != half)
          continue;
        rewriter.replaceOpWithNewOp<RopeOp>(op, op.getType(), x, cos, sin,
                                            rewriter.getBoolAttr(true));
        return success();
      }
    }
    return failure();
  }
};

/// Partial rotation (GPT-J, GPT-NeoX, Phi): the rope of the first r
/// elements of the last dim and the rest passed through,
///   concat(rope(x[..., :r], cos, sin), x[..., r:])  ->  rope(x, cos, sin)
///   {rotary_dim = r}
/// (with r = d, the pass-through is empty and the rope covers x).
struct PartialRopePattern : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = rankedStatic(op.getResult());
    if (!type || op.getInputs().size() != 2 ||
        (int64_t)op.getAxis() != type.getRank() - 1)
      return failure();
    auto rope = op.getInputs()[0].getDefiningOp<RopeOp>();
    if (!rope || rope.getRotaryDim())
      return failure();
    int64_t headStart, headEnd, restStart, restEnd;
    Value rest = matchLastAxisSlice(op.getInputs()[1], restStart, restEnd);
    Value x = matchLastAxisSlice(rope.getInput(), headStart, headEnd);
    if (!x && rest == rope.getInput()) {
      // The whole of x rotated (its full slice folded away).
      x = rest;
      headStart = 0;
      headEnd = type.getShape().back();
    }
    int64_t d = type.getShape().back(), r = headEnd;
    if (!x || x != rest || x.getType() != op.getType() || headStart != 0 ||
        r % 2 != 0 || r < 2 || (r < d && (restStart != r || restEnd != d)) ||
        (r == d && restEnd > restStart))
      return failure();
    rewriter.replaceOpWithNewOp<RopeOp>(
        op, op.getType(), x, rope.getCos(), rope.getSin(),
        rope.getInterleavedAttr(),
        r < d ? rewriter.getI64IntegerAttr(r) : IntegerAttr());
    return success();
  }
};

struct RecognizeRopePass : impl::AnvilRecognizeRopeBase<RecognizeRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RopePattern, InterleavedRopePattern, PartialRopePattern>(
        &getContext());
    (void)applyPatternsAndFoldGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
} // namespace anvil

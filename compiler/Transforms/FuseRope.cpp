//===- FuseRope.cpp - rotary embedding into the attention prologue --------===//
//
// In a paged decoder step the queries and new keys are projected, split
// into heads, transposed to [batch, heads, tokens, head_dim] for the
// exporter's rope (RoPE, Su et al. 2021), and transposed back to [tokens,
// heads, head_dim] for anvil.paged_attention and anvil.kv_write. Each rope
// then costs a launch and a pass over its rows, and each transpose a copy.
// This pass gives the rope's tables to the op that reads the rotated rows
// (the attention rotates each query row as it loads it, the KV write each
// key row before it stores it) and passes the rows through unrotated; the
// transposes around the rope then cancel. Matched by dataflow only; what
// the pass cannot prove it leaves alone.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"

#include "mlir/IR/Builders.h"

namespace anvil {
#define GEN_PASS_DEF_ANVILFUSEROPE
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

RankedTensorType rankedOf(Value v) {
  return v.getType().dyn_cast<RankedTensorType>();
}

/// A rope whose rotated rows reach `rows` ([tokens, heads, head_dim]) only
/// through an optional transpose that keeps the last dim and an optional
/// reshape that keeps the last two, each read by nothing else, and whose
/// tables give each token one row, broadcast over the heads.
struct RopeFeed {
  RopeOp rope;
  int64_t half = 0; // the tables' columns
};

/// Whether `rows` is fed by a rope the reading op can apply itself (see
/// RopeFeed).
std::optional<RopeFeed> matchRopeFeed(Value rows) {
  auto rowsType = rankedOf(rows);
  if (!rowsType || rowsType.getRank() != 3)
    return std::nullopt;
  Value v = rows;
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    if (!reshape->hasOneUse())
      return std::nullopt;
    v = reshape.getInput();
  }
  // Z: the rotated rows as the reshape reads them, [lead..., heads, dim].
  auto zType = rankedOf(v);
  if (!zType || zType.getRank() < 3)
    return std::nullopt;
  int64_t rank = zType.getRank();
  ArrayRef<int64_t> z = zType.getShape();
  if (z[rank - 2] == kDyn || z[rank - 2] != rowsType.getDimSize(1) ||
      z[rank - 1] == kDyn || z[rank - 1] != rowsType.getDimSize(2))
    return std::nullopt;
  SmallVector<int64_t> perm;
  if (auto transpose = v.getDefiningOp<TransposeOp>()) {
    if (!transpose->hasOneUse() || transpose.getPerm().back() != rank - 1)
      return std::nullopt;
    perm.assign(transpose.getPerm().begin(), transpose.getPerm().end());
    v = transpose.getInput();
  } else {
    for (int64_t i = 0; i < rank; ++i)
      perm.push_back(i);
  }
  auto rope = v.getDefiningOp<RopeOp>();
  if (!rope || !rope->hasOneUse())
    return std::nullopt;
  auto cos = rankedOf(rope.getCos()), sin = rankedOf(rope.getSin());
  if (!cos || !sin || cos != sin || cos.getRank() > rank ||
      cos.getElementType() != sin.getElementType())
    return std::nullopt;
  // The tables' dims in Z's order, padded with leading unit dims as they
  // broadcast.
  SmallVector<int64_t> full(rank - cos.getRank(), 1);
  llvm::append_range(full, cos.getShape());
  int64_t half = full.back();
  if (half == kDyn)
    return std::nullopt;
  // One table row per head row of a token: unit over the heads, and over
  // the token dims equal to Z's (two dynamic dims are taken as equal; the
  // kernels check the tables' rows against the tokens when they run).
  if (full[perm[rank - 2]] != 1)
    return std::nullopt;
  for (int64_t i = 0; i + 2 < rank; ++i) {
    if (full[perm[i]] != z[i])
      return std::nullopt;
  }
  // A reshape of the tables to [rows, half] keeps that row order only if
  // the transpose keeps the order of their non-unit dims.
  int64_t last = -1;
  for (int64_t i = 0; i + 1 < rank; ++i) {
    if (full[perm[i]] == 1)
      continue;
    if (perm[i] < last)
      return std::nullopt;
    last = perm[i];
  }
  return RopeFeed{rope, half};
}

/// The rope's table as [rows, half]: a reshape (the match proved it keeps
/// the rows in the order of the tokens).
Value tokenTable(OpBuilder &b, Location loc, Value table, int64_t half) {
  auto type = rankedOf(table);
  int64_t rows = 1;
  for (int64_t d : type.getShape().drop_back())
    rows = (rows == kDyn || d == kDyn) ? kDyn : rows * d;
  auto shapeType = RankedTensorType::get({2}, b.getI64Type());
  Value shape = b.create<ConstantOp>(
      loc, DenseElementsAttr::get(shapeType, ArrayRef<int64_t>{-1, half})
               .cast<ElementsAttr>());
  return b.create<ReshapeOp>(
      loc, RankedTensorType::get({rows, half}, type.getElementType()), table,
      shape, b.getBoolAttr(false));
}

/// The rope's attributes as the fused op's rope_interleaved and rope_dim.
std::pair<BoolAttr, IntegerAttr> ropeAttrs(OpBuilder &b, RopeOp rope) {
  BoolAttr interleaved =
      rope.getInterleaved() ? b.getBoolAttr(true) : BoolAttr();
  IntegerAttr dim = rope.getRotaryDim()
                        ? b.getI64IntegerAttr((int64_t)*rope.getRotaryDim())
                        : IntegerAttr();
  return {interleaved, dim};
}

/// The rope's cos and sin tables as [rows, half], built before `reader`.
std::pair<Value, Value> takeRope(OpBuilder &b, Operation *reader,
                                 RopeFeed feed) {
  b.setInsertionPoint(reader);
  Location loc = feed.rope.getLoc();
  Value cos = tokenTable(b, loc, feed.rope.getCos(), feed.half);
  Value sin = tokenTable(b, loc, feed.rope.getSin(), feed.half);
  return {cos, sin};
}

void dropRope(RopeOp rope) {
  rope.getResult().replaceAllUsesWith(rope.getInput());
  rope->erase();
}

struct FuseRopePass : impl::AnvilFuseRopeBase<FuseRopePass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    int64_t fused = 0;
    getOperation().walk([&](Operation *op) {
      if (auto attention = dyn_cast<PagedAttentionOp>(op)) {
        if (attention.getRopeCos())
          return;
        std::optional<RopeFeed> feed = matchRopeFeed(attention.getQuery());
        if (!feed)
          return;
        auto [cos, sin] = takeRope(b, op, *feed);
        auto [interleaved, dim] = ropeAttrs(b, feed->rope);
        auto fusedOp = b.create<PagedAttentionOp>(
            attention.getLoc(), attention.getType(), attention.getQuery(),
            attention.getKeyPool(), attention.getValuePool(),
            attention.getBlockTables(), attention.getContextLens(),
            attention.getPositions(), attention.getSeqOfToken(),
            attention.getSinks(), attention.getKeyScales(),
            attention.getValueScales(), cos, sin, attention.getScaleAttr(),
            attention.getWindowAttr(), attention.getSoftcapAttr(), interleaved,
            dim);
        attention.getResult().replaceAllUsesWith(fusedOp.getResult());
        attention->erase();
        dropRope(feed->rope);
        ++fused;
        return;
      }
      if (auto write = dyn_cast<KvWriteOp>(op)) {
        if (write.getRopeCos())
          return;
        std::optional<RopeFeed> feed = matchRopeFeed(write.getRows());
        if (!feed)
          return;
        auto [cos, sin] = takeRope(b, op, *feed);
        auto [interleaved, dim] = ropeAttrs(b, feed->rope);
        auto fusedOp = b.create<KvWriteOp>(
            write.getLoc(), write.getResult().getType(),
            write.getNewScales() ? write.getNewScales().getType() : Type(),
            write.getPool(), write.getRows(), write.getSlotMapping(),
            write.getScales(), cos, sin, interleaved, dim);
        write.getResult().replaceAllUsesWith(fusedOp.getResult());
        if (write.getNewScales())
          write.getNewScales().replaceAllUsesWith(fusedOp.getNewScales());
        write->erase();
        dropRope(feed->rope);
        ++fused;
      }
    });
    numFused += fused;
  }
};

} // namespace
} // namespace anvil

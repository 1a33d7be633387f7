//===- PagedKv.cpp - past/present KV decoder to the paged step function ---===//
//
// DESIGN "Execution model for decoder LLMs": one step over a flattened batch
// of tokens from many sequences, new K/V written at their slots of a paged
// pool, attention reading keys through block tables (vLLM's PagedAttention,
// Kwon et al. 2023). The decoder arrives specialized at proxy sizes (batch
// 1, proxy-tokens new tokens, proxy-past cached positions), so the -O2
// recognizers have turned its attention into anvil.attention. The KV cache is
// found by dataflow, never by names; what the rewrite cannot prove it
// rejects, naming the op.
//
//===----------------------------------------------------------------------===//

#include "compiler/Transforms/Passes.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

namespace anvil {
#define GEN_PASS_DEF_ANVILPAGEDKV
#include "compiler/Transforms/Passes.h.inc"
} // namespace anvil

using namespace mlir;

namespace anvil {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

/// The name the importer gave a graph input, for messages.
std::string argName(func::FuncOp func, BlockArgument arg) {
  if (auto name =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "anvil.name"))
    return name.getValue().str();
  return "#" + std::to_string(arg.getArgNumber());
}

RankedTensorType rankedOf(Value v) {
  return v.getType().dyn_cast<RankedTensorType>();
}

/// One KV-cache tensor: a past input concatenated with the new rows.
struct CacheTensor {
  BlockArgument past;
  ConcatOp concat;
  Value newRows; // [1, kv_heads, tokens, head_dim]
  BlockArgument pool;
  Value written; // the kv_write result
  // An int8 pool's f32 scales [kv_blocks, block_size, kv_heads]: the state
  // argument and the kv_write's second result, which attention reads.
  BlockArgument scales;
  Value writtenScales;
};

/// What the causal-mask check found for one attention.
struct MaskKind {
  int64_t window = 0; // 0: every earlier position
};

class PagedKvRewrite {
public:
  using RunPipeline =
      llvm::function_ref<LogicalResult(OpPassManager &, func::FuncOp)>;
  PagedKvRewrite(ModuleOp module, func::FuncOp func,
                 const AnvilPagedKvOptions &options, RunPipeline runPipeline)
      : module(module), func(func), o(options), b(func.getContext()),
        runPipeline(runPipeline) {}
  LogicalResult run();

private:
  ModuleOp module;
  func::FuncOp func;
  const AnvilPagedKvOptions &o;
  OpBuilder b;
  RunPipeline runPipeline;

  BlockArgument tokenIds, positionIds, attentionMask;
  SmallVector<CacheTensor> caches;

  LogicalResult findInputs();
  /// Appends a graph input named `name` with dims named `dimNames`.
  BlockArgument addInput(Type type, StringRef name,
                         ArrayRef<StringRef> dimNames);
  /// The step's token_ids and positions ([tokens] i64), made first.
  BlockArgument tokenArg, positionsArg;
  LogicalResult assumeFullMask();
  /// `positions` reshaped (and cast) to `type`, at the builder's point.
  Value positionsAs(Location loc, RankedTensorType type);
  FailureOr<CacheTensor *> cacheOf(AttentionOp op, Value kv, StringRef what);
  FailureOr<MaskKind> checkMask(AttentionOp op);
  FailureOr<DenseElementsAttr> evaluate(Value value, Operation *where);
  /// Masks checkMask folded, while the checks run (nothing changes the IR
  /// then, so the values stay valid keys).
  DenseMap<Value, DenseElementsAttr> evaluatedMasks;
  Value reshape(Location loc, Value input, ArrayRef<int64_t> shape);
  Value transpose(Location loc, Value input, ArrayRef<int64_t> perm);
  LogicalResult generalize(ArrayRef<BlockArgument> tokenArgs);
};

Value PagedKvRewrite::reshape(Location loc, Value input,
                              ArrayRef<int64_t> shape) {
  auto type = rankedOf(input);
  auto shapeType =
      RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
  Value shapeValue = b.create<ConstantOp>(
      loc, DenseElementsAttr::get(shapeType, shape).cast<ElementsAttr>());
  SmallVector<int64_t> dims(shape);
  for (int64_t &d : dims)
    if (d < 0)
      d = kDyn;
  return b.create<ReshapeOp>(loc,
                             RankedTensorType::get(dims, type.getElementType()),
                             input, shapeValue, b.getBoolAttr(false));
}

Value PagedKvRewrite::transpose(Location loc, Value input,
                                ArrayRef<int64_t> perm) {
  auto type = rankedOf(input);
  SmallVector<int64_t> dims;
  for (int64_t p : perm)
    dims.push_back(type.getDimSize(p));
  return b.create<TransposeOp>(
      loc, RankedTensorType::get(dims, type.getElementType()), input, perm);
}

/// The graph inputs by their role, found by dataflow: token ids index an
/// embedding table (a gather from a float constant); the attention mask is
/// the integer or bool input of shape [1, past + tokens]; position ids are
/// the other integer input of shape [1, tokens].
LogicalResult PagedKvRewrite::findInputs() {
  int64_t t = o.proxyTokens, total = o.proxyPast + o.proxyTokens;
  // The vocabulary: the last dim of the one [1, tokens, vocab] output.
  int64_t vocab = -1;
  for (Type type : func.getResultTypes())
    if (auto ranked = type.dyn_cast<RankedTensorType>())
      if (ranked.getRank() == 3 && ranked.getDimSize(1) == t &&
          ranked.getElementType().isa<FloatType>())
        vocab = ranked.getDimSize(2);
  for (BlockArgument arg : func.getArguments()) {
    auto type = rankedOf(arg);
    if (!type || !type.getElementType().isa<IntegerType>())
      continue;
    ArrayRef<int64_t> shape = type.getShape();
    if (shape == ArrayRef<int64_t>{1, total}) {
      if (attentionMask)
        return func.emitError("inputs '")
               << argName(func, attentionMask) << "' and '"
               << argName(func, arg)
               << "' both look like the attention mask ([batch, past + "
                  "sequence] integers); the paged-KV rewrite takes one";
      attentionMask = arg;
      continue;
    }
    if (shape != ArrayRef<int64_t>{1, t})
      continue;
    // Token ids index the table with one row per vocabulary entry (the
    // logits' last dim); learned positions (GPT-2) index another.
    bool embeds = llvm::any_of(arg.getUsers(), [&](Operation *user) {
      auto gather = dyn_cast<GatherOp>(user);
      return gather && gather.getIndices() == arg &&
             gather.getInput().getDefiningOp<ConstantOp>() &&
             rankedOf(gather.getInput()).getElementType().isa<FloatType>() &&
             rankedOf(gather.getInput()).getDimSize(0) == vocab;
    });
    BlockArgument &slot = embeds ? tokenIds : positionIds;
    if (slot)
      return func.emitError("inputs '")
             << argName(func, slot) << "' and '" << argName(func, arg)
             << "' both look like the "
             << (embeds ? "token ids" : "position ids")
             << "; the paged-KV rewrite takes one of each";
    slot = arg;
  }
  if (!tokenIds)
    return func.emitError(
        "the paged-KV rewrite found no token-ids input (integers of shape "
        "[batch, sequence] that index an embedding table)");
  if (!positionIds && !attentionMask)
    return func.emitError(
        "the paged-KV rewrite needs a position-ids input or an attention "
        "mask to compute positions from ([batch, sequence] or [batch, past + "
        "sequence] integers besides the token ids)");
  return success();
}

BlockArgument PagedKvRewrite::addInput(Type type, StringRef name,
                                       ArrayRef<StringRef> dimNames) {
  unsigned index = func.getNumArguments();
  SmallVector<Attribute> names;
  for (StringRef n : dimNames)
    names.push_back(b.getStringAttr(n));
  func.insertArgument(
      index, type,
      b.getDictionaryAttr(
          {b.getNamedAttr("anvil.name", b.getStringAttr(name)),
           b.getNamedAttr(kDimNamesAttr, b.getArrayAttr(names))}),
      func.getLoc());
  return func.getArgument(index);
}

/// A paged step has no padding, so the attention mask is all ones: it is
/// replaced by that constant and what depends on it folds (masks, the KV
/// re-packing by sequence lengths of GroupQueryAttention, the zeroing of
/// fully masked rows of transformers' SDPA path). Without a position-ids
/// input (ONNX Runtime GenAI's graphs) the positions are computed from the
/// mask (its sum, a cumsum): first, the values that evaluate to
/// past..past+tokens-1 with a full mask read the step's positions input.
Value PagedKvRewrite::positionsAs(Location loc, RankedTensorType type) {
  Value v = reshape(loc, positionsArg, type.getShape());
  if (type.getElementType() != b.getI64Type())
    v = b.create<CastOp>(loc, type, v);
  return v;
}

LogicalResult PagedKvRewrite::assumeFullMask() {
  // The values computed from the mask that are the positions: integers of
  // [1, tokens] or [tokens] that evaluate to past..past+tokens-1.
  SmallVector<Value> work{attentionMask};
  DenseSet<Value> seen;
  SmallVector<std::pair<Value, int64_t>> positionValues;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (Operation *user : v.getUsers())
      for (Value r : user->getResults())
        work.push_back(r);
  }
  SmallVector<Value> candidates;
  if (!positionIds)
    func.walk([&](Operation *op) {
      for (Value r : op->getResults()) {
        auto type = rankedOf(r);
        if (seen.contains(r) && type &&
            type.getElementType().isa<IntegerType>() &&
            (type.getShape() == ArrayRef<int64_t>{1, o.proxyTokens} ||
             type.getShape() == ArrayRef<int64_t>{o.proxyTokens}))
          candidates.push_back(r);
      }
    });
  for (Value candidate : candidates) {
    ScopedDiagnosticHandler quiet(func.getContext(),
                                  [](Diagnostic &) { return success(); });
    FailureOr<DenseElementsAttr> values =
        evaluate(candidate, candidate.getDefiningOp());
    if (failed(values))
      continue;
    std::optional<ConstantTensor> read = readConstant(*values);
    if (!read || read->isFloat || read->size() != o.proxyTokens)
      continue;
    // The positions, or positions plus a small offset (learned position
    // tables that start at an offset, as OPT's cumsum(mask) + 1): at a past
    // of at least 29 no other formula gives past + i + c with |c| <= 8.
    int64_t offset = read->ints[0] - o.proxyPast;
    bool isPositions = offset >= -8 && offset <= 8;
    for (int64_t i = 0; i < o.proxyTokens && isPositions; ++i)
      isPositions = read->ints[i] == o.proxyPast + i + offset;
    if (isPositions)
      positionValues.push_back({candidate, offset});
  }
  if (!positionIds && positionValues.empty())
    return func.emitError(
        "the decoder has no position-ids input, and no value computed from "
        "its attention mask is the tokens' positions; the paged-KV rewrite "
        "cannot route positions (compile with --kv-cache=graph)");
  for (auto [v, offset] : positionValues) {
    b.setInsertionPointAfterValue(v);
    auto type = rankedOf(v);
    Value replacement = positionsAs(v.getLoc(), type);
    if (offset) {
      auto scalar = RankedTensorType::get({}, type.getElementType());
      Value c = b.create<ConstantOp>(
          v.getLoc(),
          buildDense(scalar, ArrayRef<int64_t>{offset}).cast<ElementsAttr>());
      replacement = b.create<AddOp>(v.getLoc(), type, replacement, c);
    }
    v.replaceAllUsesWith(replacement);
  }
  // The rest of what reads the mask assumes it full, and folds.
  auto maskType = rankedOf(attentionMask);
  SmallVector<int64_t> ones(maskType.getNumElements(), 1);
  b.setInsertionPointToStart(&func.getBody().front());
  Value full = b.create<ConstantOp>(
      func.getLoc(),
      buildDense(maskType, ArrayRef<int64_t>(ones)).cast<ElementsAttr>());
  attentionMask.replaceAllUsesWith(full);
  OpPassManager pm(func::FuncOp::getOperationName());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createAnvilFoldConstants());
  pm.addPass(createCanonicalizerPass());
  return runPipeline(pm, func);
}

/// The cache tensor that `kv` (an attention's key or value) reads: a concat
/// of a past graph input and the new rows along the sequence axis.
FailureOr<CacheTensor *> PagedKvRewrite::cacheOf(AttentionOp op, Value kv,
                                                 StringRef what) {
  auto concat = kv.getDefiningOp<ConcatOp>();
  auto fail = [&]() {
    return op.emitOpError("reads its ")
           << what
           << " from something other than a past-KV input concatenated with "
              "the new "
           << what
           << "s along the sequence axis; the paged-KV rewrite cannot "
              "place it in the KV pool (compile with --kv-cache=graph)";
  };
  if (!concat || concat.getInputs().size() != 2)
    return fail();
  auto type = rankedOf(concat.getResult());
  int64_t axis = concat.getAxis();
  if (!type || type.getRank() != 4 || (axis != 2 && axis != -2))
    return fail();
  auto past = concat.getInputs()[0].dyn_cast<BlockArgument>();
  Value rows = concat.getInputs()[1];
  auto pastType = past ? rankedOf(past) : nullptr;
  auto rowsType = rankedOf(rows);
  if (!past || !pastType || pastType.getDimSize(2) != o.proxyPast ||
      !rowsType || rowsType.getDimSize(2) != o.proxyTokens ||
      pastType.getDimSize(0) != 1)
    return fail();
  for (CacheTensor &c : caches)
    if (c.concat == concat)
      return &c;
  for (CacheTensor &c : caches)
    if (c.past == past)
      return op.emitOpError("reads past input '")
             << argName(func, past)
             << "' through a second concat; the paged-KV rewrite takes one "
                "cache tensor per past input";
  caches.push_back({past, concat, rows, nullptr, nullptr, nullptr, nullptr});
  return &caches.back();
}

/// Evaluates `value` at compile time with the attention mask all ones and
/// positions past..past+tokens-1 (a prompt continuing a cached prefix): the
/// ops it depends on are cloned into a scratch module and folded.
FailureOr<DenseElementsAttr> PagedKvRewrite::evaluate(Value value,
                                                      Operation *where) {
  SetVector<Operation *> slice;
  SmallVector<Value> work{value};
  DenseSet<Value> seen;
  SmallVector<BlockArgument> args;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    if (auto arg = v.dyn_cast<BlockArgument>()) {
      args.push_back(arg);
      continue;
    }
    Operation *op = v.getDefiningOp();
    if (slice.contains(op))
      continue;
    slice.insert(op);
    for (Value operand : op->getOperands())
      work.push_back(operand);
  }
  OpBuilder builder(func.getContext());
  Location loc = where->getLoc();
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(loc);
  builder.setInsertionPointToEnd(scratch->getBody());
  auto evalFunc = builder.create<func::FuncOp>(
      loc, "evaluate", builder.getFunctionType({}, {value.getType()}));
  builder.setInsertionPointToEnd(evalFunc.addEntryBlock());
  IRMapping map;
  for (BlockArgument arg : args) {
    auto type = rankedOf(arg);
    DenseElementsAttr data;
    if (arg == attentionMask) {
      SmallVector<int64_t> ones(type.getNumElements(), 1);
      data = buildDense(type, ArrayRef<int64_t>(ones));
    } else if (arg == positionIds || arg == positionsArg) {
      SmallVector<int64_t> positions;
      for (int64_t i = 0; i < o.proxyTokens; ++i)
        positions.push_back(o.proxyPast + i);
      data = buildDense(type, ArrayRef<int64_t>(positions));
    }
    if (!data)
      return where->emitOpError("has a mask that depends on input '")
             << argName(func, arg)
             << "'; the paged-KV rewrite accepts masks built from the "
                "attention mask and position ids only";
    map.map(
        arg,
        builder.create<ConstantOp>(loc, data.cast<ElementsAttr>()).getResult());
  }
  // Clone in program order (the slice was collected backwards).
  SmallVector<Operation *> ordered(slice.begin(), slice.end());
  llvm::sort(ordered,
             [](Operation *a, Operation *c) { return a->isBeforeInBlock(c); });
  for (Operation *op : ordered)
    builder.clone(*op, map);
  builder.create<func::ReturnOp>(loc, map.lookup(value));
  // Masks have tokens x (past + tokens) elements, more than folding takes
  // by default (the scratch module's one function folds on this thread).
  ScopedFoldElementLimit limit(int64_t(1) << 22);
  PassManager pm(func.getContext(), ModuleOp::getOperationName());
  OpPassManager &nested = pm.nest<func::FuncOp>();
  nested.addPass(createCanonicalizerPass());
  nested.addPass(createAnvilFoldConstants());
  if (failed(pm.run(*scratch)))
    return where->emitOpError(
        "has a mask the paged-KV rewrite could not evaluate at compile time");
  Operation *ret = evalFunc.getBody().front().getTerminator();
  auto constant = ret->getOperand(0).getDefiningOp<ConstantOp>();
  auto dense = constant ? constant.getValue().dyn_cast<DenseElementsAttr>()
                        : DenseElementsAttr();
  if (!dense)
    return where->emitOpError(
        "has a mask that does not fold to a constant when the attention mask "
        "is all ones (the paged-KV rewrite needs a causal mask it can check)");
  return dense;
}

/// Checks that attention `op`'s mask (plus its causal flag) is the
/// end-aligned causal mask, optionally limited to the last `window`
/// positions: in paged form that is what positions and block tables give.
FailureOr<MaskKind> PagedKvRewrite::checkMask(AttentionOp op) {
  const int64_t t = o.proxyTokens, p = o.proxyPast, total = t + p;
  std::vector<double> bias(t * total, 0.0);
  if (Value mask = op.getMask()) {
    // Layers usually share one mask (CSE): it is folded once.
    DenseElementsAttr &cached = evaluatedMasks[mask];
    if (!cached) {
      FailureOr<DenseElementsAttr> folded = evaluate(mask, op);
      if (failed(folded))
        return failure();
      cached = *folded;
    }
    std::optional<ConstantTensor> values = readConstant(cached, 1 << 24);
    if (!values)
      return op.emitOpError("has a mask the paged-KV rewrite cannot read");
    ArrayRef<int64_t> shape = values->type.getShape();
    SmallVector<int64_t> scores{1, rankedOf(op.getQuery()).getDimSize(1), t,
                                total};
    if (shape.size() > 4)
      return op.emitOpError("has a mask of rank > 4");
    // Every head must see the same mask: compare each head's plane.
    int64_t heads = scores[1];
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = 0; j < total; ++j) {
          int64_t linear = (h * t + i) * total + j;
          double v = values->asDouble(broadcastIndex(scores, shape, linear));
          if (h == 0)
            bias[i * total + j] = v;
          else if (v != bias[i * total + j])
            return op.emitOpError(
                "has a mask that differs between heads (ALiBi or another "
                "bias); the paged-KV rewrite takes causal masks only");
        }
  }
  MaskKind kind;
  int64_t commonWindow = -1, longestFull = 0;
  for (int64_t i = 0; i < t; ++i) {
    int64_t last = p + i, first = -1;
    for (int64_t j = 0; j < total; ++j) {
      double v = bias[i * total + j];
      bool hidden = (op.getCausal() && j > last) || v <= -1e4 || std::isinf(v);
      if (!hidden && v != 0.0)
        return op.emitOpError("has a mask that adds ")
               << v << " to a visible score (row " << i << ", key " << j
               << "); the paged-KV rewrite takes causal masks only";
      if (!hidden && j > last)
        return op.emitOpError("lets query ")
               << i << " see the later key " << j
               << ": not a causal mask, so the decoder cannot be paged";
      if (!hidden && first < 0)
        first = j;
      if (hidden && first >= 0 && j <= last)
        return op.emitOpError("has a mask with a gap inside the visible "
                              "keys of query ")
               << i << "; the paged-KV rewrite takes causal masks only";
    }
    if (first < 0)
      return op.emitOpError("hides every key from query ") << i;
    if (first == 0)
      longestFull = std::max(longestFull, last + 1);
    if (first > 0) {
      int64_t window = last - first + 1;
      if (commonWindow >= 0 && commonWindow != window)
        return op.emitOpError(
            "has a mask whose visible window changes between queries");
      commonWindow = window;
    }
  }
  if (commonWindow > 0) {
    // Rows that see every key must fit in the window too.
    if (longestFull > commonWindow)
      return op.emitOpError("has an inconsistent sliding-window mask");
    kind.window = commonWindow;
  }
  return kind;
}

/// Whether `operand` of `op` holds element positions along an axis of a
/// fixed size that is none of the proxy sizes: a gather's indices along a
/// feature axis (the act-order permutation of K that MatMulNBits' import
/// puts in front of a matmul, say). Such values are positions, not sizes,
/// and equal a proxy size only by chance, so they stay valid at every token
/// count.
static bool isFixedAxisPositions(Operation *op, Value operand, int64_t t,
                                 int64_t p) {
  auto gather = dyn_cast<GatherOp>(op);
  if (!gather || operand != gather.getIndices())
    return false;
  auto input = gather.getInput().getType().dyn_cast<RankedTensorType>();
  if (!input)
    return false;
  int64_t axis = gather.getAxis();
  if (axis < 0)
    axis += input.getRank();
  if (axis < 0 || axis >= input.getRank() || input.isDynamicDim(axis))
    return false;
  int64_t size = input.getDimSize(axis);
  return size != t && size != p && size != t + p;
}

/// Makes the proxy token count a bounded size again: every value computed
/// from the step's per-token inputs gets `?` where it had the proxy count,
/// and reshapes that spelled the count as a constant infer it (-1). Any
/// other constant that carries the proxy sizes is an error: the step would
/// be wrong at every other size.
LogicalResult PagedKvRewrite::generalize(ArrayRef<BlockArgument> tokenArgs) {
  const int64_t t = o.proxyTokens, p = o.proxyPast;
  DenseSet<Value> cone(tokenArgs.begin(), tokenArgs.end());
  auto dynamicize = [&](Value v) {
    auto type = rankedOf(v);
    if (!type)
      return;
    SmallVector<int64_t> dims(type.getShape());
    for (int64_t &d : dims)
      if (d == t)
        d = kDyn;
    v.setType(RankedTensorType::get(dims, type.getElementType()));
  };
  for (BlockArgument arg : tokenArgs)
    dynamicize(arg);
  WalkResult walk = func.walk([&](Operation *op) {
    if (isa<func::FuncOp, func::ReturnOp>(op))
      return WalkResult::advance();
    bool inCone = llvm::any_of(op->getOperands(),
                               [&](Value v) { return cone.contains(v); });
    if (auto constant = dyn_cast<ConstantOp>(op)) {
      auto type = rankedOf(constant.getResult());
      if (type && (llvm::is_contained(type.getShape(), t) ||
                   llvm::is_contained(type.getShape(), p) ||
                   llvm::is_contained(type.getShape(), t + p))) {
        op->emitOpError("is a constant of shape ")
            << formatShape(type.getShape())
            << ", sized by the proxy sizes the decoder was specialized at: "
               "it depends on the token count or the past length, which the "
               "paged step cannot express (compile with --kv-cache=graph)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    }
    if (!inCone)
      return WalkResult::advance();
    if (auto reshape = dyn_cast<ReshapeOp>(op)) {
      std::optional<SmallVector<int64_t>> shape =
          getConstantInts(reshape.getShape());
      if (!shape) {
        op->emitOpError("reshapes a per-token value to a shape computed at "
                        "run time; the paged-KV rewrite needs it folded");
        return WalkResult::interrupt();
      }
      // A -1 the exporter left is spelled out from the (proxy-static)
      // result type, so the token count can be the one inferred dim.
      SmallVector<int64_t> fixed(*shape);
      auto resultType = rankedOf(reshape.getResult());
      for (auto [i, d] : llvm::enumerate(fixed))
        if (d == -1 && resultType && resultType.hasStaticShape() &&
            resultType.getDimSize(i) != t)
          d = resultType.getDimSize(i);
      bool inferred =
          llvm::count(fixed, -1) == 1 && !llvm::is_contained(fixed, t);
      if (inferred) {
        // Already a -1 for the token count ([-1, hidden]): it generalizes.
      } else if (llvm::count(fixed, t) == 1 && !llvm::is_contained(fixed, -1)) {
        *llvm::find(fixed, t) = -1;
        OpBuilder rb(op);
        auto shapeType = rankedOf(reshape.getShape());
        Value c = rb.create<ConstantOp>(
            op->getLoc(), buildDense(shapeType, ArrayRef<int64_t>(fixed))
                              .cast<ElementsAttr>());
        reshape.getShapeMutable().assign(c);
      } else if (llvm::is_contained(fixed, t) || llvm::is_contained(fixed, p) ||
                 llvm::is_contained(fixed, -1)) {
        op->emitOpError("reshapes a per-token value with the token count "
                        "folded into its shape in a way the paged-KV rewrite "
                        "cannot generalize");
        return WalkResult::interrupt();
      }
    } else {
      // Shape operands of other ops must not carry the proxy sizes.
      for (Value operand : op->getOperands()) {
        if (cone.contains(operand) || isFixedAxisPositions(op, operand, t, p))
          continue;
        std::optional<SmallVector<int64_t>> ints = getConstantInts(operand);
        if (ints &&
            (llvm::is_contained(*ints, t) || llvm::is_contained(*ints, p) ||
             llvm::is_contained(*ints, t + p))) {
          op->emitOpError("uses the constant ")
              << formatShape(*ints)
              << ", which holds the proxy token count or past length the "
                 "decoder was specialized at; the paged step cannot "
                 "express it (compile with --kv-cache=graph)";
          return WalkResult::interrupt();
        }
      }
    }
    for (Value result : op->getResults()) {
      cone.insert(result);
      dynamicize(result);
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // Nothing may keep a proxy size: a table sliced to past + tokens rows,
  // say, would be wrong at every other length.
  WalkResult sized = func.walk([&](Operation *op) {
    for (Value result : op->getResults()) {
      auto type = rankedOf(result);
      if (!type)
        continue;
      for (int64_t d : type.getShape())
        if (d == t || d == p || d == t + p) {
          op->emitOpError("has a result of shape ")
              << formatShape(type.getShape())
              << ", sized by the token count or past length the decoder was "
                 "specialized at; the paged step cannot express it (compile "
                 "with --kv-cache=graph)";
          return WalkResult::interrupt();
        }
    }
    return WalkResult::advance();
  });
  return failure(sized.wasInterrupted());
}

LogicalResult PagedKvRewrite::run() {
  if (failed(findInputs()))
    return failure();
  auto tokenType = RankedTensorType::get({o.proxyTokens}, b.getI64Type());
  tokenArg = addInput(tokenType, "token_ids", {"tokens"});
  positionsArg = addInput(tokenType, "positions", {"tokens"});
  if (attentionMask && failed(assumeFullMask()))
    return failure();
  SmallVector<AttentionOp> attentions;
  func.walk([&](AttentionOp op) { attentions.push_back(op); });
  if (attentions.empty())
    return func.emitError(
        "the paged-KV rewrite found no attention (anvil.attention) reading a "
        "KV cache; compile with --kv-cache=graph");
  // Check everything before changing anything.
  SmallVector<std::pair<CacheTensor *, CacheTensor *>> kv;
  SmallVector<MaskKind> masks;
  caches.reserve(2 * attentions.size());
  for (AttentionOp op : attentions) {
    auto q = rankedOf(op.getQuery());
    if (!q || q.getRank() != 4 || q.getDimSize(0) != 1 ||
        q.getDimSize(2) != o.proxyTokens)
      return op.emitOpError("has a query that is not [1, heads, tokens, dim]");
    FailureOr<CacheTensor *> k = cacheOf(op, op.getKey(), "key");
    if (failed(k))
      return failure();
    FailureOr<CacheTensor *> v = cacheOf(op, op.getValue(), "value");
    if (failed(v))
      return failure();
    FailureOr<MaskKind> mask = checkMask(op);
    if (failed(mask))
      return failure();
    kv.push_back({*k, *v});
    masks.push_back(*mask);
  }
  // The concats may feed only attention and the outputs (present KV).
  Operation *terminator = func.getBody().front().getTerminator();
  for (CacheTensor &c : caches)
    for (Operation *user : c.concat->getUsers())
      if (!isa<AttentionOp>(user) && user != terminator)
        return user->emitOpError(
                   "reads the concatenated KV cache of past input '")
               << argName(func, c.past)
               << "' outside attention; the paged-KV rewrite cannot page it";
  // The logits: the one output that is not a present KV tensor.
  std::optional<unsigned> logitsIndex;
  for (unsigned i = 0; i < terminator->getNumOperands(); ++i) {
    Value operand = terminator->getOperand(i);
    bool present = llvm::any_of(caches, [&](CacheTensor &c) {
      return c.concat.getResult() == operand;
    });
    if (present)
      continue;
    if (logitsIndex)
      return func.emitError(
          "the decoder has outputs besides the logits and the present KV "
          "cache; the paged step returns logits only");
    logitsIndex = i;
  }
  if (!logitsIndex)
    return func.emitError("the decoder returns no logits");
  Value logits = terminator->getOperand(*logitsIndex);
  auto logitsType = rankedOf(logits);
  if (!logitsType || logitsType.getRank() != 3 ||
      logitsType.getDimSize(0) != 1 ||
      logitsType.getDimSize(1) != o.proxyTokens ||
      !logitsType.getElementType().isa<FloatType>())
    return func.emitError("the decoder's logits are not [1, tokens, vocab] "
                          "floats");
  // Pool geometry, the same for every layer.
  // The new rows' shape: the past's head dim may be symbolic (GenAI's
  // kv_cache_dim).
  auto pastType = rankedOf(caches.front().newRows);
  int64_t kvHeads = pastType.getDimSize(1), headDim = pastType.getDimSize(3);
  for (CacheTensor &c : caches) {
    auto type = rankedOf(c.newRows);
    if (type.getDimSize(1) != kvHeads || type.getDimSize(3) != headDim ||
        ShapedType::isDynamic(headDim) || ShapedType::isDynamic(kvHeads) ||
        type.getElementType() != pastType.getElementType())
      return func.emitError("past input '")
             << argName(func, c.past)
             << "' has another KV-head count, head size or type than the "
                "first; the paged pool takes one geometry";
  }
  if (o.maxContext % o.blockSize)
    return func.emitError("--max-context must be a multiple of the block size");

  Location loc = func.getLoc();
  Block &body = func.getBody().front();
  Type i64 = b.getI64Type(), i32 = b.getI32Type();
  auto vec = [&](Type element) {
    return RankedTensorType::get({kDyn}, element);
  };
  BlockArgument tokens = tokenArg, positions = positionsArg;
  BlockArgument seqOfToken = addInput(
      RankedTensorType::get({o.proxyTokens}, i32), "seq_of_token", {"tokens"});
  BlockArgument slotMapping = addInput(
      RankedTensorType::get({o.proxyTokens}, i64), "slot_mapping", {"tokens"});
  int64_t maxBlocksPerSeq = o.maxContext / o.blockSize;
  BlockArgument blockTables =
      addInput(RankedTensorType::get({kDyn, maxBlocksPerSeq}, i32),
               "block_tables", {"seqs", ""});
  BlockArgument contextLens = addInput(vec(i32), "context_lens", {"seqs"});
  BlockArgument logitRows = addInput(vec(i32), "logit_rows", {"logit_rows"});
  // The pools, one per past input, in the past inputs' order: in-out state.
  // (The attentions hold pointers into `caches`: sort a list of them.)
  SmallVector<CacheTensor *> byInput;
  for (CacheTensor &c : caches)
    byInput.push_back(&c);
  llvm::sort(byInput, [](const CacheTensor *a, const CacheTensor *c) {
    return a->past.getArgNumber() < c->past.getArgNumber();
  });
  // The pools keep the model's KV type unless kv-dtype narrows them: the
  // kernels convert as they write and widen as they read. An int8 pool
  // has f32 scales beside it, one per (slot, KV head), as state inputs
  // after every pool.
  Type poolElement = pastType.getElementType();
  bool int8 = o.kvDtype == "int8";
  if (o.kvDtype == "f32")
    poolElement = b.getF32Type();
  else if (o.kvDtype == "f16")
    poolElement = b.getF16Type();
  else if (int8)
    poolElement = b.getIntegerType(8);
  auto poolType =
      RankedTensorType::get({kDyn, o.blockSize, kvHeads, headDim}, poolElement);
  auto scalesType =
      RankedTensorType::get({kDyn, o.blockSize, kvHeads}, b.getF32Type());
  for (CacheTensor *c : byInput) {
    c->pool = addInput(poolType, ("kv_pool." + argName(func, c->past)),
                       {"kv_blocks", "", "", ""});
    func.setArgAttr(c->pool.getArgNumber(), kStateAttr, b.getUnitAttr());
  }
  if (int8)
    for (CacheTensor *c : byInput) {
      c->scales = addInput(scalesType, ("kv_scales." + argName(func, c->past)),
                           {"kv_blocks", "", ""});
      func.setArgAttr(c->scales.getArgNumber(), kStateAttr, b.getUnitAttr());
    }

  // Token ids and positions replace the [1, tokens] inputs.
  b.setInsertionPointToStart(&body);
  {
    auto idsType = rankedOf(tokenIds);
    Value ids = reshape(loc, tokens, {1, o.proxyTokens});
    if (idsType.getElementType() != i64)
      ids = b.create<CastOp>(loc, idsType, ids);
    tokenIds.replaceAllUsesWith(ids);
  }
  if (positionIds)
    positionIds.replaceAllUsesWith(positionsAs(loc, rankedOf(positionIds)));

  // kv_write per cache tensor, right after its new rows are computed.
  for (CacheTensor &c : caches) {
    if (Operation *def = c.newRows.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(&body);
    Location l = c.concat.getLoc();
    Value rows = transpose(l, c.newRows, {0, 2, 1, 3}); // [1, T, G, D]
    rows = reshape(l, rows, {o.proxyTokens, kvHeads, headDim});
    auto write = b.create<KvWriteOp>(
        l, poolType, c.scales ? scalesType : Type(), c.pool, rows, slotMapping,
        c.scales, Value(), Value(), BoolAttr(), IntegerAttr());
    c.written = write.getResult();
    c.writtenScales = write.getNewScales();
  }
  for (auto [op, pair, mask] : llvm::zip(attentions, kv, masks)) {
    b.setInsertionPoint(op);
    Location l = op.getLoc();
    auto q = rankedOf(op.getQuery());
    int64_t heads = q.getDimSize(1);
    int64_t valueDim = rankedOf(op.getValue()).getDimSize(3);
    Value qRows = transpose(l, op.getQuery(), {0, 2, 1, 3});
    qRows = reshape(l, qRows, {o.proxyTokens, heads, q.getDimSize(3)});
    auto outType = RankedTensorType::get({o.proxyTokens, heads, valueDim},
                                         q.getElementType());
    Value out = b.create<PagedAttentionOp>(
        l, outType, qRows, pair.first->written, pair.second->written,
        blockTables, contextLens, positions, seqOfToken, Value(),
        pair.first->writtenScales, pair.second->writtenScales, Value(), Value(),
        op.getScaleAttr(),
        mask.window ? b.getI64IntegerAttr(mask.window) : IntegerAttr(),
        FloatAttr(), BoolAttr(), IntegerAttr());
    out = reshape(l, out, {1, o.proxyTokens, heads, valueDim});
    out = transpose(l, out, {0, 2, 1, 3});
    op.getResult().replaceAllUsesWith(out);
    op->erase();
  }

  // Logits for the wanted rows only: gather before the LM head's matmul
  // when the logits are one (row-wise), else after it.
  int64_t vocab = logitsType.getDimSize(2);
  Value newLogits;
  auto head = logits.getDefiningOp<MatmulOp>();
  if (head && head.getRhs().getDefiningOp<ConstantOp>() &&
      rankedOf(head.getLhs()) && rankedOf(head.getLhs()).getRank() == 3) {
    b.setInsertionPoint(head);
    auto x = rankedOf(head.getLhs());
    int64_t hidden = x.getDimSize(2);
    Value rows = reshape(head.getLoc(), head.getLhs(), {o.proxyTokens, hidden});
    auto picked = b.create<GatherOp>(
        head.getLoc(),
        RankedTensorType::get({kDyn, hidden}, x.getElementType()), rows,
        logitRows, b.getI64IntegerAttr(0));
    newLogits = b.create<MatmulOp>(
        head.getLoc(),
        RankedTensorType::get({kDyn, vocab}, logitsType.getElementType()),
        picked, head.getRhs(), head.getTransposeRhsAttr());
  } else {
    b.setInsertionPoint(terminator);
    Value rows = reshape(loc, logits, {o.proxyTokens, vocab});
    newLogits = b.create<GatherOp>(
        loc, RankedTensorType::get({kDyn, vocab}, logitsType.getElementType()),
        rows, logitRows, b.getI64IntegerAttr(0));
  }
  // The step returns the logits only.
  auto logitsName =
      func.getResultAttrOfType<StringAttr>(*logitsIndex, "anvil.name");
  b.setInsertionPoint(terminator);
  b.create<func::ReturnOp>(terminator->getLoc(), ValueRange{newLogits});
  terminator->erase();
  SmallVector<Type> results{newLogits.getType()};
  func.setType(
      FunctionType::get(func.getContext(), func.getArgumentTypes(), results));
  func.setResultAttrs(
      0,
      b.getDictionaryAttr({b.getNamedAttr(
          "anvil.name", logitsName ? logitsName : b.getStringAttr("logits"))}));

  // Drop what the old graph computed and nothing reads any more (the mask
  // subgraph, the concats, the LM head over every token).
  bool erased = true;
  while (erased) {
    erased = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body))) {
      if (&op == body.getTerminator() || !op.use_empty() ||
          op.getNumResults() == 0)
        continue;
      op.erase();
      erased = true;
    }
  }
  // The old inputs must be unused now.
  SmallVector<BlockArgument> oldArgs{tokenIds};
  if (positionIds)
    oldArgs.push_back(positionIds);
  if (attentionMask)
    oldArgs.push_back(attentionMask);
  for (CacheTensor &c : caches)
    oldArgs.push_back(c.past);
  for (BlockArgument arg : func.getArguments()) {
    if (arg.getArgNumber() >= tokens.getArgNumber() ||
        llvm::is_contained(oldArgs, arg))
      continue;
    return func.emitError("input '")
           << argName(func, arg)
           << "' is neither token ids, positions, the attention mask nor a "
              "past KV tensor; the paged step cannot feed it";
  }
  for (BlockArgument arg : oldArgs)
    if (!arg.use_empty()) {
      Operation *user = *arg.getUsers().begin();
      return user->emitOpError("still reads input '")
             << argName(func, arg)
             << "' after the paged-KV rewrite (the rewrite replaces it: "
                "masks and past lengths come from positions and block "
                "tables); the decoder cannot be paged";
    }
  llvm::BitVector drop(func.getNumArguments());
  for (BlockArgument arg : oldArgs)
    drop.set(arg.getArgNumber());
  func.eraseArguments(drop);

  SmallVector<BlockArgument> tokenArgs{tokens, positions, seqOfToken,
                                       slotMapping};
  if (failed(generalize(tokenArgs)))
    return failure();
  // Block tables and the pools have no proxy dims; the logits gather is
  // [?, ...] already. Refresh the signature.
  func.setType(FunctionType::get(
      func.getContext(), func.getBody().front().getArgumentTypes(),
      func.getBody().front().getTerminator()->getOperandTypes()));

  auto size = [&](StringRef name, int64_t max) {
    return b.getDictionaryAttr(
        {b.getNamedAttr("name", b.getStringAttr(name)),
         b.getNamedAttr("min", b.getI64IntegerAttr(1)),
         b.getNamedAttr("max", b.getI64IntegerAttr(max))});
  };
  func->setAttr(kSizesAttr, b.getArrayAttr({size("tokens", o.maxTokens),
                                            size("seqs", o.maxSeqs),
                                            size("logit_rows", o.maxSeqs),
                                            size("kv_blocks", o.maxBlocks)}));
  func->removeAttr(kDimValuesAttr);
  // What the engine needs to drive the step (the manifest's "llm").
  SmallVector<NamedAttribute> llm{
      b.getNamedAttr("entry", b.getStringAttr(func.getName())),
      b.getNamedAttr("vocab_size", b.getI64IntegerAttr(vocab)),
      b.getNamedAttr("block_size", b.getI64IntegerAttr(o.blockSize)),
      b.getNamedAttr("max_context", b.getI64IntegerAttr(o.maxContext)),
      b.getNamedAttr("kv_heads", b.getI64IntegerAttr(kvHeads)),
      b.getNamedAttr("head_dim", b.getI64IntegerAttr(headDim)),
      b.getNamedAttr("num_pools", b.getI64IntegerAttr(caches.size())),
      b.getNamedAttr("max_tokens_per_step", b.getI64IntegerAttr(o.maxTokens)),
      b.getNamedAttr("max_seqs_per_step", b.getI64IntegerAttr(o.maxSeqs)),
      b.getNamedAttr("max_kv_blocks", b.getI64IntegerAttr(o.maxBlocks))};
  module->setAttr("anvil.llm", b.getDictionaryAttr(llm));
  return success();
}

struct PagedKvPass : impl::AnvilPagedKvBase<PagedKvPass> {
  using AnvilPagedKvBase::AnvilPagedKvBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    if (funcs.size() != 1) {
      module.emitError("the paged-KV rewrite takes a module with one "
                       "function (one decoder)");
      return signalPassFailure();
    }
    AnvilPagedKvOptions options;
    options.proxyTokens = proxyTokens;
    options.proxyPast = proxyPast;
    options.blockSize = blockSize;
    options.maxTokens = maxTokens;
    options.maxSeqs = maxSeqs;
    options.maxContext = maxContext;
    options.maxBlocks = maxBlocks;
    options.kvDtype = kvDtype;
    if (!kvDtype.empty() && kvDtype != "f32" && kvDtype != "f16" &&
        kvDtype != "int8") {
      module.emitError(
          "anvil-paged-kv: kv-dtype must be f32, f16 or int8, not '")
          << kvDtype << "'";
      return signalPassFailure();
    }
    if (blockSize < 1 || maxTokens < 1 || maxSeqs < 1 || maxContext < 1 ||
        maxBlocks < 1 || proxyTokens < 2 || proxyPast < 1) {
      module.emitError("the paged-KV rewrite's sizes must be positive");
      return signalPassFailure();
    }
    auto run = [&](OpPassManager &pm, func::FuncOp func) {
      return runPipeline(pm, func);
    };
    if (failed(PagedKvRewrite(module, funcs.front(), options, run).run()))
      signalPassFailure();
  }
};

} // namespace
} // namespace anvil

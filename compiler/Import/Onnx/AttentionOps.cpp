//===- AttentionOps.cpp - ONNX Attention and RotaryEmbedding --------------===//
//
// ONNX's RotaryEmbedding (opset 23) becomes anvil.rope, with the cos/sin
// rows gathered by position; partial rotation is its rotary_dim.
//
// ONNX's Attention (opset 23) folds layout changes, a KV cache and masking
// into one op. The importer unfolds what anvil.attention does not model:
// 3-D [batch, seq, heads * dim] inputs become [batch, heads, seq, dim]
// (and back), past keys and values are concatenated in front (the present
// outputs), a boolean mask becomes an additive one, and is_causal becomes
// an additive mask aligned as ONNX defines it (query i of a step after
// `past` cached positions sees keys up to past + i). Those masks and the
// default scale need static shapes: when they are not static yet, the node
// becomes anvil.onnx_attention, decomposed after folding.
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/AttentionParts.h"
#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/AnvilComposites.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ConstantValues.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace anvil::onnx_import {

FailureOr<Value> splitHeads(NodeContext &ctx, Value x, int64_t heads) {
  Type element = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  FailureOr<Value> split = ctx.create<ReshapeOp>(
      element, x, ctx.constantI64({0, 0, heads, -1}), b.getBoolAttr(false));
  if (failed(split))
    return failure();
  return ctx.create<TransposeOp>(element, *split,
                                 b.getDenseI64ArrayAttr({0, 2, 1, 3}));
}

FailureOr<Value> mergeHeads(NodeContext &ctx, Value x) {
  Type element = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  FailureOr<Value> merged =
      ctx.create<TransposeOp>(element, x, b.getDenseI64ArrayAttr({0, 2, 1, 3}));
  if (failed(merged))
    return failure();
  return ctx.create<ReshapeOp>(element, *merged, ctx.constantI64({0, 0, -1}),
                               b.getBoolAttr(false));
}

namespace {

/// Dims [start, end) of x's shape, as a 1-D i64 tensor.
FailureOr<Value> dims(NodeContext &ctx, Value x, int64_t start, int64_t end) {
  Builder &b = ctx.builder;
  // Static dims as a constant, so that the IR is static from import on.
  if (auto type = getRankedType(x)) {
    ArrayRef<int64_t> shape = type.getShape().slice(start, end - start);
    if (llvm::none_of(shape, ShapedType::isDynamic))
      return ctx.constantI64(shape);
  }
  return ctx.create<ShapeOfOp>(b.getI64Type(), x, b.getI64IntegerAttr(start),
                               b.getI64IntegerAttr(end));
}

/// x reshaped to the concatenation of `pieces` (1-D i64 tensors).
FailureOr<Value> reshapeTo(NodeContext &ctx, Value x, ValueRange pieces) {
  Builder &b = ctx.builder;
  FailureOr<Value> shape =
      ctx.create<ConcatOp>(b.getI64Type(), pieces, b.getI64IntegerAttr(0));
  if (failed(shape))
    return failure();
  return ctx.create<ReshapeOp>(ctx.elementTypeOf(x), x, *shape,
                               b.getBoolAttr(false));
}

/// [B, N, ...] <-> [B, Nkv, N / Nkv, ...]: splits (group > 0) or merges
/// (group == 0, `heads` = N) dim 1.
FailureOr<Value> regroupHeads(NodeContext &ctx, Value x, int64_t heads,
                              int64_t group) {
  int64_t rank = ctx.rankOf(x);
  auto type = getRankedType(x);
  if (type && type.hasStaticShape()) { // one constant shape: static IR
    SmallVector<int64_t> shape(type.getShape());
    if (group > 0) {
      shape[1] = heads / group;
      shape.insert(shape.begin() + 2, group);
    } else {
      shape[1] = heads;
      shape.erase(shape.begin() + 2);
    }
    return ctx.create<ReshapeOp>(ctx.elementTypeOf(x), x,
                                 ctx.constantI64(shape),
                                 ctx.builder.getBoolAttr(false));
  }
  FailureOr<Value> lead = dims(ctx, x, 0, 1);
  if (failed(lead))
    return failure();
  if (group > 0) {
    FailureOr<Value> rest = dims(ctx, x, 2, rank);
    if (failed(rest))
      return failure();
    return reshapeTo(ctx, x,
                     {*lead, ctx.constantI64({heads / group, group}), *rest});
  }
  FailureOr<Value> rest = dims(ctx, x, 3, rank);
  if (failed(rest))
    return failure();
  return reshapeTo(ctx, x, {*lead, ctx.constantI64({heads}), *rest});
}

} // namespace

FailureOr<ExplicitAttention>
buildExplicitAttention(NodeContext &ctx, Value q, Value k, Value v, Value mask,
                       const ExplicitAttentionOptions &options) {
  Builder &b = ctx.builder;
  Type t = ctx.elementTypeOf(q);
  auto qType = getRankedType(q), kType = getRankedType(k);
  if (!qType || !kType || qType.getRank() != 4 || kType.getRank() != 4 ||
      qType.isDynamicDim(1) || kType.isDynamicDim(1))
    return ctx.error() << "query and key need 4 dims and static head counts";
  int64_t heads = qType.getDimSize(1), kvHeads = kType.getDimSize(1);
  if (kvHeads <= 0 || heads % kvHeads)
    return ctx.error() << heads << " query heads are not a multiple of "
                       << kvHeads << " key heads";
  int64_t group = heads / kvHeads;
  // Scores [B, N, S, L]; grouped query heads share a key head through a
  // broadcast matmul over [B, Nkv, group, S, H] x [B, Nkv, 1, H, L].
  Value scores;
  if (group == 1) {
    FailureOr<Value> s = ctx.create<MatmulOp>(t, q, k, b.getBoolAttr(true));
    if (failed(s))
      return failure();
    scores = *s;
  } else {
    FailureOr<Value> q5 = regroupHeads(ctx, q, heads, group);
    FailureOr<Value> k5 =
        ctx.create<UnsqueezeOp>(t, k, b.getDenseI64ArrayAttr({2}));
    if (failed(q5) || failed(k5))
      return failure();
    FailureOr<Value> s5 =
        ctx.create<MatmulOp>(t, *q5, *k5, b.getBoolAttr(true));
    if (failed(s5))
      return failure();
    FailureOr<Value> s = regroupHeads(ctx, *s5, heads, 0);
    if (failed(s))
      return failure();
    scores = *s;
  }
  auto step = [&](FailureOr<Value> next) {
    if (succeeded(next))
      scores = *next;
    return succeeded(next);
  };
  if (options.scale != 1.0 &&
      !step(ctx.create<MulOp>(t, scores, ctx.constantScalar(t, options.scale))))
    return failure();
  ExplicitAttention result;
  if (options.qkMode == 0)
    result.qk = scores;
  auto cap = [&]() {
    if (options.softcap <= 0.0f)
      return true;
    Value c = ctx.constantScalar(t, options.softcap);
    return step(ctx.create<DivOp>(t, scores, c)) &&
           step(ctx.create<TanhOp>(t, scores)) &&
           step(ctx.create<MulOp>(t, scores, c));
  };
  if (options.softcapBeforeMask && !cap())
    return failure();
  if (mask && !step(ctx.create<AddOp>(t, scores, mask)))
    return failure();
  if (options.qkMode == 1)
    result.qk = scores;
  if (!options.softcapBeforeMask && !cap())
    return failure();
  if (options.qkMode == 2)
    result.qk = scores;
  Value probs;
  if (options.extraLogit) {
    // softmax over [scores, extra], the extra column dropped after.
    Value extra = options.sink;
    if (extra) {
      FailureOr<Value> column = ctx.create<ReshapeOp>(
          t, extra, ctx.constantI64({1, -1, 1, 1}), b.getBoolAttr(false));
      if (failed(column))
        return failure();
      extra = *column;
    } else {
      extra = ctx.constantScalar(t, 0.0);
    }
    FailureOr<Value> lead = dims(ctx, scores, 0, 3);
    if (failed(lead))
      return failure();
    FailureOr<Value> shape = ctx.create<ConcatOp>(
        b.getI64Type(), ValueRange{*lead, ctx.constantI64({1})},
        b.getI64IntegerAttr(0));
    if (failed(shape))
      return failure();
    FailureOr<Value> filled = ctx.create<ExpandOp>(t, extra, *shape);
    if (failed(filled))
      return failure();
    FailureOr<Value> wide = ctx.create<ConcatOp>(t, ValueRange{scores, *filled},
                                                 b.getI64IntegerAttr(3));
    if (failed(wide))
      return failure();
    FailureOr<Value> soft = ctx.create<SoftmaxOp>(
        t, *wide, b.getI64IntegerAttr(3), b.getBoolAttr(false));
    if (failed(soft))
      return failure();
    FailureOr<Value> cut = ctx.create<SliceOp>(
        t, *soft, ctx.constantI64({0}), ctx.constantI64({-1}),
        ctx.constantI64({3}), ctx.constantI64({1}));
    if (failed(cut))
      return failure();
    probs = *cut;
  } else {
    FailureOr<Value> soft = ctx.create<SoftmaxOp>(
        t, scores, b.getI64IntegerAttr(3), b.getBoolAttr(false));
    if (failed(soft))
      return failure();
    probs = *soft;
  }
  if (options.qkMode == 3)
    result.qk = probs;
  if (group == 1) {
    FailureOr<Value> out =
        ctx.create<MatmulOp>(t, probs, v, b.getBoolAttr(false));
    if (failed(out))
      return failure();
    result.output = *out;
    return result;
  }
  FailureOr<Value> p5 = regroupHeads(ctx, probs, heads, group);
  FailureOr<Value> v5 =
      ctx.create<UnsqueezeOp>(t, v, b.getDenseI64ArrayAttr({2}));
  if (failed(p5) || failed(v5))
    return failure();
  FailureOr<Value> o5 = ctx.create<MatmulOp>(t, *p5, *v5, b.getBoolAttr(false));
  if (failed(o5))
    return failure();
  FailureOr<Value> out = regroupHeads(ctx, *o5, heads, 0);
  if (failed(out))
    return failure();
  result.output = *out;
  return result;
}

namespace {

LogicalResult importAttention(NodeContext &ctx) {
  Value q = ctx.requiredInput(0, "Q"), k = ctx.requiredInput(1, "K"),
        v = ctx.requiredInput(2, "V");
  if (!q || !k || !v)
    return failure();
  Value mask = ctx.input(3), pastKey = ctx.input(4), pastValue = ctx.input(5);
  if (ctx.input(6))
    return ctx.error() << "the nonpad_kv_seqlen input is not supported";
  float softcap = ctx.attrFloat("softcap", 0.0f);
  if (!(softcap >= 0.0f))
    return ctx.error() << "softcap " << softcap << " must be >= 0";
  bool wantQk = ctx.node.output_size() > 3 && !ctx.node.output(3).empty();
  int64_t qkMode = ctx.attrInt("qk_matmul_output_mode", 0);
  if (qkMode < 0 || qkMode > 3)
    return ctx.error() << "qk_matmul_output_mode " << qkMode
                       << " is not 0, 1, 2 or 3";
  if (!pastKey != !pastValue)
    return ctx.error() << "past_key and past_value come together";
  Type element = ctx.elementTypeOf(q);
  Builder &b = ctx.builder;
  int64_t rank = ctx.rankOf(q);
  if (rank == 3) {
    int64_t qHeads = ctx.attrInt("q_num_heads", 0);
    int64_t kvHeads = ctx.attrInt("kv_num_heads", 0);
    if (qHeads <= 0 || kvHeads <= 0)
      return ctx.error() << "3-D inputs need q_num_heads and kv_num_heads";
    auto q4 = splitHeads(ctx, q, qHeads), k4 = splitHeads(ctx, k, kvHeads),
         v4 = splitHeads(ctx, v, kvHeads);
    if (failed(q4) || failed(k4) || failed(v4))
      return failure();
    q = *q4, k = *k4, v = *v4;
  } else if (rank != 4) {
    return ctx.error() << "Q must be 3-D or 4-D";
  }
  if (pastKey) {
    auto key = ctx.create<ConcatOp>(element, ValueRange{pastKey, k},
                                    b.getI64IntegerAttr(2));
    auto value = ctx.create<ConcatOp>(element, ValueRange{pastValue, v},
                                      b.getI64IntegerAttr(2));
    if (failed(key) || failed(value))
      return failure();
    k = *key, v = *value;
  }
  if (mask && ctx.elementTypeOf(mask).isInteger(1)) { // true keeps
    const double inf = std::numeric_limits<double>::infinity();
    auto additive =
        ctx.create<WhereOp>(element, mask, ctx.constantScalar(element, 0.0),
                            ctx.constantScalar(element, -inf));
    if (failed(additive))
      return failure();
    mask = *additive;
  }
  std::optional<double> scale;
  if (ctx.attr("scale"))
    scale = ctx.attrFloat("scale", 0.0f);
  bool causal = ctx.attrInt("is_causal", 0) != 0;
  // The causal mask, the mask padding and the default scale need static
  // shapes. When folding has yet to bind them, import the composite and
  // let anvil-decompose-composites build the same IR later (R8).
  auto isStatic = [](Value value) {
    auto type = getRankedType(value);
    return type && type.hasStaticShape();
  };
  bool allStatic = isStatic(q) && isStatic(k) && (!mask || isStatic(mask)) &&
                   (!pastKey || isStatic(pastKey));
  FailureOr<Value> y;
  Value qk;
  if (softcap > 0.0f || wantQk) {
    // anvil.attention has neither: unfused, on the same mask and scale.
    if (!allStatic)
      return ctx.error() << "softcap and qk_matmul_output need static shapes "
                            "at import; bind the model's dynamic dimensions "
                            "(--dim, --input-shape)";
    FailureOr<OnnxAttentionMask> parts =
        buildOnnxAttentionMask(ctx.builder, ctx.loc, q, k, mask, pastKey, scale,
                               causal, [&] { return ctx.error(); });
    if (failed(parts))
      return failure();
    ExplicitAttentionOptions options;
    options.scale = parts->scale;
    options.softcap = softcap;
    options.qkMode = wantQk ? int(qkMode) : -1;
    FailureOr<ExplicitAttention> unfused =
        buildExplicitAttention(ctx, q, k, v, parts->mask, options);
    if (failed(unfused))
      return failure();
    y = unfused->output;
    qk = unfused->qk;
  } else if (allStatic)
    y = buildOnnxAttention(ctx.builder, ctx.loc, q, k, v, mask, pastKey, scale,
                           causal, [&] { return ctx.error(); });
  else
    y = ctx.create<OnnxAttentionOp>(
        element, q, k, v, mask, pastKey,
        scale ? b.getF32FloatAttr(*scale) : FloatAttr(), b.getBoolAttr(causal));
  if (failed(y))
    return failure();
  Value out = *y;
  if (rank == 3) {
    auto merged = ctx.create<TransposeOp>(element, out,
                                          b.getDenseI64ArrayAttr({0, 2, 1, 3}));
    if (failed(merged))
      return failure();
    auto flat = ctx.create<ReshapeOp>(
        element, *merged, ctx.constantI64({0, 0, -1}), b.getBoolAttr(false));
    if (failed(flat))
      return failure();
    out = *flat;
  }
  ctx.results.push_back(out);
  if (ctx.node.output_size() > 1)
    ctx.results.push_back(k); // present_key
  if (ctx.node.output_size() > 2)
    ctx.results.push_back(v); // present_value
  if (ctx.node.output_size() > 3)
    ctx.results.push_back(qk); // qk_matmul_output
  for (int i = 4; i < ctx.node.output_size(); ++i)
    ctx.results.push_back(Value());
  return success();
}

LogicalResult importRotaryEmbedding(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X"), cos = ctx.requiredInput(1, "cos_cache"),
        sin = ctx.requiredInput(2, "sin_cache");
  if (!x || !cos || !sin)
    return failure();
  Value positions = ctx.input(3);
  Type element = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  // Only the rank is needed here: partial rotation is anvil.rope's
  // rotary_dim, which its verifier checks against the head dim once shape
  // folding has made it known.
  auto xType = getRankedType(x);
  if (!xType)
    return ctx.error() << "needs an input of known rank";
  int64_t rank = xType.getRank();
  // Work on [batch, heads, seq, head_dim].
  if (rank == 3) {
    int64_t heads = ctx.attrInt("num_heads", 0);
    if (heads <= 0)
      return ctx.error() << "3-D input needs num_heads";
    auto split = splitHeads(ctx, x, heads);
    if (failed(split))
      return failure();
    x = *split;
  } else if (rank != 4) {
    return ctx.error() << "X must be 3-D or 4-D";
  }
  int64_t headDim = getRankedType(x).getShape().back();
  int64_t rotary = ctx.attrInt("rotary_embedding_dim", 0);
  if (rotary < 0 || rotary % 2 ||
      (!ShapedType::isDynamic(headDim) && rotary > headDim))
    return ctx.error() << "rotary_embedding_dim " << rotary
                       << " does not fit a head of "
                       << (ShapedType::isDynamic(headDim)
                               ? std::string("unknown size")
                               : std::to_string(headDim));
  if (rotary == headDim)
    rotary = 0;
  // cos/sin rows for each [batch, seq], then broadcast over the heads.
  auto table = [&](Value cache) -> FailureOr<Value> {
    Value rows = cache;
    if (positions) {
      auto gathered = ctx.create<GatherOp>(ctx.elementTypeOf(cache), cache,
                                           positions, b.getI64IntegerAttr(0));
      if (failed(gathered))
        return failure();
      rows = *gathered;
    }
    return ctx.create<UnsqueezeOp>(ctx.elementTypeOf(cache), rows,
                                   b.getDenseI64ArrayAttr({1}));
  };
  auto cosRows = table(cos), sinRows = table(sin);
  if (failed(cosRows) || failed(sinRows))
    return failure();
  bool interleaved = ctx.attrInt("interleaved", 0) != 0;
  IntegerAttr rotaryDim = rotary ? b.getI64IntegerAttr(rotary) : IntegerAttr();
  auto r = ctx.create<RopeOp>(element, x, *cosRows, *sinRows,
                              b.getBoolAttr(interleaved), rotaryDim);
  if (failed(r))
    return failure();
  Value rotated = *r;
  if (rank == 3) {
    auto merged = ctx.create<TransposeOp>(element, rotated,
                                          b.getDenseI64ArrayAttr({0, 2, 1, 3}));
    if (failed(merged))
      return failure();
    return ctx.produce(ctx.create<ReshapeOp>(
        element, *merged, ctx.constantI64({0, 0, -1}), b.getBoolAttr(false)));
  }
  return ctx.produce(rotated);
}

} // namespace

// MicrosoftOps.cpp: ONNX Runtime's com.microsoft transformer ops.
void addMicrosoftOps(OpTable &t);

void addAttentionOps(OpTable &t) {
  t.add("", "Attention", importAttention);
  t.add("", "RotaryEmbedding", importRotaryEmbedding);
  addMicrosoftOps(t);
}

} // namespace anvil::onnx_import

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
namespace {

/// [batch, seq, heads * dim] -> [batch, heads, seq, dim].
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

LogicalResult importAttention(NodeContext &ctx) {
  Value q = ctx.requiredInput(0, "Q"), k = ctx.requiredInput(1, "K"),
        v = ctx.requiredInput(2, "V");
  if (!q || !k || !v)
    return failure();
  Value mask = ctx.input(3), pastKey = ctx.input(4), pastValue = ctx.input(5);
  if (ctx.input(6))
    return ctx.error() << "the nonpad_kv_seqlen input is not supported";
  if (ctx.attrFloat("softcap", 0.0f) != 0.0f)
    return ctx.error() << "softcap is not supported";
  if (ctx.node.output_size() > 3 && !ctx.node.output(3).empty())
    return ctx.error() << "the qk_matmul_output output is not supported";
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
  FailureOr<Value> y;
  if (isStatic(q) && isStatic(k) && (!mask || isStatic(mask)) &&
      (!pastKey || isStatic(pastKey)))
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
  for (int i = 3; i < ctx.node.output_size(); ++i)
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

//===- MicrosoftOps.cpp - ONNX Runtime's com.microsoft transformer ops ----===//
//
// The contrib ops that ONNX Runtime's transformer optimizer and the
// onnxruntime-genai model builder emit, built from anvil ops with the
// semantics of ONNX Runtime's CPU kernels (docs/ContribOperators.md of
// onnxruntime; where the doc is silent, the CPU kernel decides):
//
//   SkipLayerNormalization, SkipSimplifiedLayerNormalization
//       layer_norm / rms_norm of input + skip [+ bias], with every output
//   FastGelu, BiasGelu, QuickGelu, Gelu
//       anvil.gelu (tanh or erf) or x * sigmoid(alpha x), after the bias
//   RotaryEmbedding
//       anvil.rope, cos/sin rows gathered by position
//   GroupQueryAttention
//       rope on q and k, the KV cache written at each sequence's length,
//       and anvil.attention with the causal / local-window mask built from
//       seqlens_k at run time (decomposed when softcap or smooth_softmax
//       needs the scores)
//
//===----------------------------------------------------------------------===//

#include "compiler/Import/Onnx/AttentionParts.h"
#include "compiler/Import/Onnx/OnnxOpTable.h"
#include "dialects/Anvil/AnvilOps.h"
#include "dialects/Anvil/ShapeUtils.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace anvil::onnx_import {
namespace {

/// Chains FailureOr values: the first failure sticks.
#define TRY(var, expr)                                                         \
  FailureOr<Value> var##OrFail = (expr);                                       \
  if (failed(var##OrFail))                                                     \
    return failure();                                                          \
  Value var = *var##OrFail

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Mean over the last axis, kept.
FailureOr<Value> meanLast(NodeContext &ctx, Value x) {
  Builder &b = ctx.builder;
  int64_t rank = ctx.rankOf(x);
  return ctx.create<ReduceOp>(
      ctx.elementTypeOf(x), x,
      ReduceKindAttr::get(b.getContext(), ReduceKind::mean),
      b.getDenseI64ArrayAttr({rank - 1}), b.getBoolAttr(true));
}

/// input + skip [+ bias], the sum both skip norms normalize. `skip` may be
/// broadcast against input ([1, S, H] or [S, H] against [B, S, H]).
FailureOr<Value> skipSum(NodeContext &ctx, Value x, Value skip, Value bias) {
  Type t = ctx.elementTypeOf(x);
  TRY(sum, ctx.create<AddOp>(t, x, skip));
  if (bias)
    return ctx.create<AddOp>(t, sum, bias);
  return sum;
}

/// com.microsoft SkipLayerNormalization and SkipSimplifiedLayerNormalization
/// (ONNX Runtime contrib ops, opset 1). Inputs: input [B, S, H] (or
/// [T, H]), skip (input's shape, or broadcast to it), gamma [H], then beta
/// [H] (SkipLayerNormalization only) and bias [H]. Outputs: output,
/// mean [.., 1] (SkipLayerNormalization; none for the simplified one),
/// inv_std_var [.., 1], and input_skip_bias_sum. Normalizes over the last
/// axis with `epsilon` (default 1e-12 as ORT's kernel).
template <bool Simplified> LogicalResult importSkipNorm(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input"), skip = ctx.requiredInput(1, "skip"),
        gamma = ctx.requiredInput(2, "gamma");
  if (!x || !skip || !gamma)
    return failure();
  Value beta = Simplified ? Value() : ctx.input(3);
  Value bias = ctx.input(Simplified ? 3 : 4);
  int64_t rank = ctx.rankOf(x);
  if (rank != 2 && rank != 3)
    return ctx.error() << "input must be 2-D or 3-D, not of rank " << rank;
  if (ctx.rankOf(gamma) != 1 || (beta && ctx.rankOf(beta) != 1) ||
      (bias && ctx.rankOf(bias) != 1))
    return ctx.error() << "gamma, beta and bias must be 1-D";
  Type t = ctx.elementTypeOf(x);
  Builder &b = ctx.builder;
  float epsilon = ctx.attrFloat("epsilon", 1e-12f);
  if (!(epsilon >= 0.0f))
    return ctx.error() << "epsilon " << epsilon << " must be >= 0";
  TRY(sum, skipSum(ctx, x, skip, bias));
  if (Simplified) {
    if (failed(ctx.produce(
            ctx.create<RmsNormOp>(t, sum, gamma, b.getF32FloatAttr(epsilon)))))
      return failure();
  } else {
    if (failed(ctx.produce(ctx.create<LayerNormOp>(
            t, sum, gamma, beta, b.getI64IntegerAttr(rank - 1),
            b.getF32FloatAttr(epsilon)))))
      return failure();
  }
  int outputs = ctx.node.output_size();
  auto wanted = [&](int i) {
    return i < outputs && !ctx.node.output(i).empty();
  };
  // mean and inv_std_var, [..., 1], computed from the sum as the kernel
  // does (the simplified norm has no mean; its variance is mean(x^2)).
  Value mean, invStd;
  if (wanted(1) || wanted(2)) {
    Value centered = sum;
    if (!Simplified) {
      TRY(m, meanLast(ctx, sum));
      TRY(c, ctx.create<SubOp>(t, sum, m));
      mean = m, centered = c;
    }
    TRY(sq, ctx.create<MulOp>(t, centered, centered));
    TRY(var, meanLast(ctx, sq));
    TRY(shifted, ctx.create<AddOp>(t, var, ctx.constantScalar(t, epsilon)));
    TRY(inv, ctx.create<RsqrtOp>(t, shifted));
    invStd = inv;
  }
  if (outputs > 1)
    ctx.results.push_back(mean);
  if (outputs > 2)
    ctx.results.push_back(invStd);
  if (outputs > 3)
    ctx.results.push_back(sum);
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// x, or x + bias when the node has input `biasIndex`.
FailureOr<Value> withBias(NodeContext &ctx, Value x, int biasIndex) {
  if (Value bias = ctx.input(biasIndex))
    return ctx.create<AddOp>(ctx.elementTypeOf(x), x, bias);
  return x;
}

/// com.microsoft Gelu (erf form), BiasGelu (gelu(A + B), erf form) and
/// FastGelu (tanh form, optional bias): anvil.gelu.
template <GeluApproximation Kind, bool BiasRequired>
LogicalResult importMsGelu(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x || (BiasRequired && !ctx.requiredInput(1, "bias")))
    return failure();
  TRY(in, withBias(ctx, x, 1));
  return ctx.produce(ctx.create<GeluOp>(
      ctx.elementTypeOf(x), in,
      GeluApproximationAttr::get(ctx.builder.getContext(), Kind)));
}

/// com.microsoft QuickGelu: x * sigmoid(alpha * x), alpha default 1.702.
LogicalResult importQuickGelu(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "X");
  if (!x)
    return failure();
  Type t = ctx.elementTypeOf(x);
  float alpha = ctx.attrFloat("alpha", 1.702f);
  Value scaled = x;
  if (alpha != 1.0f) {
    TRY(s, ctx.create<MulOp>(t, x, ctx.constantScalar(t, alpha)));
    scaled = s;
  }
  TRY(gate, ctx.create<SigmoidOp>(t, scaled));
  return ctx.produce(ctx.create<MulOp>(t, x, gate));
}

//===----------------------------------------------------------------------===//
// Rotary embedding
//===----------------------------------------------------------------------===//

/// Dimension `d` of `x` as a rank-0 i64 tensor (a constant once folded).
FailureOr<Value> dimScalar(NodeContext &ctx, Value x, int64_t d) {
  Builder &b = ctx.builder;
  TRY(dim, ctx.create<ShapeOfOp>(b.getI64Type(), x, b.getI64IntegerAttr(d),
                                 b.getI64IntegerAttr(d + 1)));
  return ctx.create<ReshapeOp>(b.getI64Type(), dim,
                               ctx.constantI64({}, /*scalar=*/false),
                               b.getBoolAttr(false));
}

/// cos/sin rows of `cache` ([max_pos, rot/2]) for `positions` ([B, S] or
/// [1, S]), as [B or 1, 1, S, rot/2] tables for anvil.rope.
FailureOr<Value> ropeTable(NodeContext &ctx, Value cache, Value positions) {
  Builder &b = ctx.builder;
  Type t = ctx.elementTypeOf(cache);
  TRY(rows, ctx.create<GatherOp>(t, cache, positions, b.getI64IntegerAttr(0)));
  return ctx.create<UnsqueezeOp>(t, rows, b.getDenseI64ArrayAttr({1}));
}

/// anvil.rope on x [B, N, S, H] with tables from `cos`/`sin` at
/// `positions`; the rotary dim is twice the tables' width (static).
FailureOr<Value> applyRope(NodeContext &ctx, Value x, Value cos, Value sin,
                           Value positions, bool interleaved) {
  Builder &b = ctx.builder;
  auto cosType = getRankedType(cos), xType = getRankedType(x);
  if (!cosType || cosType.getRank() != 2 || cosType.isDynamicDim(1))
    return ctx.error() << "cos_cache must be 2-D with a static last dim";
  int64_t rotary = 2 * cosType.getDimSize(1);
  int64_t headDim = xType ? xType.getShape().back() : ShapedType::kDynamic;
  if (!ShapedType::isDynamic(headDim) && rotary > headDim)
    return ctx.error() << "cos_cache rotates " << rotary
                       << " channels of a head of " << headDim;
  TRY(c, ropeTable(ctx, cos, positions));
  TRY(s, ropeTable(ctx, sin, positions));
  IntegerAttr rotaryDim =
      rotary == headDim ? IntegerAttr() : b.getI64IntegerAttr(rotary);
  return ctx.create<RopeOp>(ctx.elementTypeOf(x), x, c, s,
                            b.getBoolAttr(interleaved), rotaryDim);
}

/// com.microsoft RotaryEmbedding (opset 1). Inputs: input [B, S, hidden]
/// or [B, N, S, H], position_ids (one element: the offset of position 0,
/// positions are offset + s; or [B, S]), cos_cache and sin_cache
/// [max_pos, rot/2]. Attributes: interleaved, num_heads (required with
/// rotary_embedding_dim; else hidden / (2 * cos_cache width)),
/// rotary_embedding_dim (0: the whole head), scale and is_packed_batching
/// (ORT's CPU kernel ignores both; 1 for is_packed_batching is refused).
LogicalResult importMsRotaryEmbedding(NodeContext &ctx) {
  Value x = ctx.requiredInput(0, "input"),
        positions = ctx.requiredInput(1, "position_ids"),
        cos = ctx.requiredInput(2, "cos_cache"),
        sin = ctx.requiredInput(3, "sin_cache");
  if (!x || !positions || !cos || !sin)
    return failure();
  if (ctx.attrInt("is_packed_batching", 0) != 0)
    return ctx.error() << "is_packed_batching=1 is not supported";
  Builder &b = ctx.builder;
  Type element = ctx.elementTypeOf(x);
  auto xType = getRankedType(x), cosType = getRankedType(cos);
  if (!xType || (xType.getRank() != 3 && xType.getRank() != 4))
    return ctx.error() << "input must be 3-D or 4-D";
  if (!cosType || cosType.getRank() != 2 || cosType.isDynamicDim(1))
    return ctx.error() << "cos_cache must be 2-D with a static last dim";
  int64_t rank = xType.getRank();
  int64_t heads = ctx.attrInt("num_heads", 0);
  int64_t rotary = ctx.attrInt("rotary_embedding_dim", 0);
  if (heads < 0 || rotary < 0)
    return ctx.error() << "num_heads and rotary_embedding_dim must be >= 0";
  if (rotary > 0 && heads == 0)
    return ctx.error() << "rotary_embedding_dim needs num_heads";
  if (rotary > 0 && rotary != 2 * cosType.getDimSize(1))
    return ctx.error() << "rotary_embedding_dim " << rotary
                       << " does not match cos_cache's width "
                       << cosType.getDimSize(1);
  if (rank == 3) {
    if (heads == 0) {
      int64_t hidden = xType.getDimSize(2);
      int64_t headDim = 2 * cosType.getDimSize(1);
      if (ShapedType::isDynamic(hidden) || headDim == 0 || hidden % headDim)
        return ctx.error() << "without num_heads the hidden size must be a "
                              "static multiple of 2 * cos_cache's width";
      heads = hidden / headDim;
    }
    TRY(split, splitHeads(ctx, x, heads));
    x = split;
  }
  // One position: the offset of the first token; positions offset + s.
  auto posType = getRankedType(positions);
  if (!posType || posType.getRank() > 2)
    return ctx.error() << "position_ids must have rank 0, 1 or 2";
  if (!posType.getElementType().isInteger(64))
    return ctx.error() << "position_ids must be int64";
  if (posType.getRank() < 2) {
    if (posType.getRank() == 1 && posType.getDimSize(0) != 1)
      return ctx.error() << "1-D position_ids must hold one element";
    TRY(seq, dimScalar(ctx, x, 2));
    TRY(start, ctx.create<ReshapeOp>(b.getI64Type(), positions,
                                     ctx.constantI64({}, false),
                                     b.getBoolAttr(false)));
    // offset + range(0, S): the range's length folds with S.
    TRY(range, ctx.create<RangeOp>(b.getI64Type(),
                                   ctx.constantScalar(b.getI64Type(), 0), seq,
                                   ctx.constantScalar(b.getI64Type(), 1)));
    TRY(shifted, ctx.create<AddOp>(b.getI64Type(), range, start));
    TRY(row, ctx.create<UnsqueezeOp>(b.getI64Type(), shifted,
                                     b.getDenseI64ArrayAttr({0})));
    positions = row;
  }
  TRY(rotated, applyRope(ctx, x, cos, sin, positions,
                         ctx.attrInt("interleaved", 0) != 0));
  (void)element;
  if (rank == 3)
    return ctx.produce(mergeHeads(ctx, rotated));
  return ctx.produce(rotated);
}

} // namespace

void addMicrosoftOps(OpTable &t) {
  t.add(kMicrosoftDomain, "SkipLayerNormalization", importSkipNorm<false>);
  t.add(kMicrosoftDomain, "SkipSimplifiedLayerNormalization",
        importSkipNorm<true>);
  t.add(kMicrosoftDomain, "Gelu", importMsGelu<GeluApproximation::none, false>);
  t.add(kMicrosoftDomain, "BiasGelu",
        importMsGelu<GeluApproximation::none, true>);
  t.add(kMicrosoftDomain, "FastGelu",
        importMsGelu<GeluApproximation::tanh, false>);
  t.add(kMicrosoftDomain, "QuickGelu", importQuickGelu);
  t.add(kMicrosoftDomain, "RotaryEmbedding", importMsRotaryEmbedding);
}

} // namespace anvil::onnx_import

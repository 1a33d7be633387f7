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

//===----------------------------------------------------------------------===//
// GroupQueryAttention
//===----------------------------------------------------------------------===//

/// Builders for i64 index arithmetic (rank-0 or small tensors).
struct IndexMath {
  NodeContext &ctx;
  Type i64;
  explicit IndexMath(NodeContext &ctx)
      : ctx(ctx), i64(ctx.builder.getI64Type()) {}
  Value scalar(int64_t v) { return ctx.constantScalar(i64, double(v)); }
  FailureOr<Value> add(Value a, Value b) {
    return ctx.create<AddOp>(i64, a, b);
  }
  FailureOr<Value> sub(Value a, Value b) {
    return ctx.create<SubOp>(i64, a, b);
  }
  FailureOr<Value> max(Value a, Value b) {
    return ctx.create<MaxOp>(i64, a, b);
  }
  FailureOr<Value> min(Value a, Value b) {
    return ctx.create<MinOp>(i64, a, b);
  }
  FailureOr<Value> compare(Value a, Value b, ComparePredicate p) {
    return ctx.create<CompareOp>(
        ctx.builder.getI1Type(), a, b,
        ComparePredicateAttr::get(ctx.builder.getContext(), p));
  }
  FailureOr<Value> unsqueeze(Value x, ArrayRef<int64_t> axes) {
    return ctx.create<UnsqueezeOp>(ctx.elementTypeOf(x), x,
                                   ctx.builder.getDenseI64ArrayAttr(axes));
  }
  /// [0, 1, ..., n - 1] for a rank-0 `n`.
  FailureOr<Value> iota(Value n) {
    return ctx.create<RangeOp>(i64, scalar(0), n, scalar(1));
  }
};

/// com.microsoft GroupQueryAttention (opset 1) as ONNX Runtime 1.32's CPU
/// kernel computes it (its operator schema is the specification), for the
/// layouts the onnxruntime-genai builder emits: the KV cache in separate
/// past/present buffers (BNSH), full-length or window-sized.
///
/// Inputs: query [B, S, N*H] (or packed [B, S, (N + 2*Nkv)*H] with key and
/// value absent), key/value [B, S, Nkv*H], past_key/past_value
/// [B, Nkv, P, H] (optional), seqlens_k [B] int32 (each sequence's total
/// length T_b - 1), total_sequence_length (int32 scalar; the present
/// length of a full-length cache is taken as P + S, which is what it is for
/// separate buffers), cos_cache / sin_cache [max_pos, rot/2] (with
/// do_rotary), position_ids [B, S] int64, attention_bias, head_sink [N],
/// and query_seqlens [B] int32 (the valid rows Q_b of a right-padded
/// chunk; default min(S, T_b)).
/// Outputs: output [B, S, N*H], present_key/present_value [B, Nkv, P+S, H]
/// (or [B, Nkv, C, H] with sliding_window_cache, C = P the capacity).
///
/// Sequence b had P_b = T_b - Q_b positions cached before this step; its
/// query s sits at position P_b + s (the rotary angle too) and, with
/// causal = 1 (the default), sees keys up to there; with local_window_size
/// w >= 0 only the last w of them (positions p - w < j <= p: the window of
/// ORT >= 1.2x's current kernel and of torch's sliding-window masks; ORT
/// 1.23 and older used w + 1). With causal = 0 it sees every key < T_b.
/// softcap caps the scores before the mask; smooth_softmax and head_sink
/// add a zero or per-head logit to the softmax. Rows of padding queries
/// (s >= Q_b) are unspecified in ORT; here they attend like any other.
///
/// Full-length cache: present row j holds position j; rows below P_b come
/// from past, the Q_b new rows follow, the rest are zero (ORT leaves them
/// unspecified).
///
/// Windowed cache (sliding_window_cache = 1, Gemma 2/3 local layers): past
/// and present have capacity C >= w rows; rows [0, L(T)) hold the last
/// L(T) positions in order, with G = C - w + 1 and L(T) = T for T <= C,
/// else T - G * ceil((T - C) / G) (the schema's eviction rule); the rest of
/// present is zero. attention_bias, which ORT indexes by absolute position
/// there, is refused with a windowed cache.
///
/// position_ids, when given with do_rotary, are the rotary positions
/// instead (in a first prompt, S == total_sequence_length without
/// query_seqlens, ORT reads only its first element: positions offset + s);
/// the mask still follows seqlens_k.
///
/// attention_bias [B or 1, N or 1, S, P+S] is added to the scores after
/// softcap. Refused by name: the output_qk output, a quantized KV cache
/// (k_scale/v_scale, k_quant_type/v_quant_type), and per-head q/k RMS
/// normalization (q_norm_weight/k_norm_weight; ORT's CPU kernel refuses it
/// too).
LogicalResult importGroupQueryAttention(NodeContext &ctx) {
  Value query = ctx.requiredInput(0, "query");
  Value seqlens = ctx.requiredInput(5, "seqlens_k");
  Value totalLen = ctx.requiredInput(6, "total_sequence_length");
  if (!query || !seqlens || !totalLen)
    return failure();
  Value key = ctx.input(1), value = ctx.input(2);
  Value pastKey = ctx.input(3), pastValue = ctx.input(4);
  Value cos = ctx.input(7), sin = ctx.input(8), headSink = ctx.input(11);
  Value attnBias = ctx.input(10), querySeqlens = ctx.input(16);
  if (ctx.attrInt("qk_output", 0) != 0 ||
      (ctx.node.output_size() > 3 && !ctx.node.output(3).empty()))
    return ctx.error() << "the output_qk output is not supported";
  if (ctx.input(12) || ctx.input(13) ||
      ctx.attrString("k_quant_type", "NONE") != "NONE" ||
      ctx.attrString("v_quant_type", "NONE") != "NONE")
    return ctx.error() << "a quantized KV cache (k_scale/v_scale, "
                          "k_quant_type/v_quant_type) is not supported";
  if (ctx.input(14) || ctx.input(15))
    return ctx.error() << "per-head q/k RMS normalization (q_norm_weight/"
                          "k_norm_weight) is not supported (ONNX Runtime's "
                          "CPU kernel refuses it too); export the norm as "
                          "separate nodes";
  if (ctx.node.input_size() > 17)
    return ctx.error() << "takes at most 17 inputs, got "
                       << ctx.node.input_size();
  if (!key != !value)
    return ctx.error() << "key and value come together (or neither, for a "
                          "packed query)";
  if (!pastKey != !pastValue)
    return ctx.error() << "past_key and past_value come together";
  int64_t heads = ctx.attrInt("num_heads", 0);
  int64_t kvHeads = ctx.attrInt("kv_num_heads", 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads)
    return ctx.error() << "num_heads " << heads << " must be a positive "
                       << "multiple of kv_num_heads " << kvHeads;
  bool rotary = ctx.attrInt("do_rotary", 0) != 0;
  if (rotary && (!cos || !sin))
    return ctx.error() << "do_rotary needs cos_cache and sin_cache";
  int64_t causalAttr = ctx.attrInt("causal", 1);
  if (causalAttr != 0 && causalAttr != 1)
    return ctx.error() << "causal " << causalAttr << " must be 0 or 1";
  bool causal = causalAttr == 1;
  int64_t window = ctx.attrInt("local_window_size", -1);
  if (window < -1)
    return ctx.error() << "local_window_size " << window
                       << " must be -1 (no window) or >= 0";
  if (!causal && window != -1)
    return ctx.error() << "local_window_size needs causal = 1";
  if (querySeqlens && (!causal || !pastKey))
    return ctx.error() << "query_seqlens needs causal = 1 and past_key";
  bool windowedCache = ctx.attrInt("sliding_window_cache", 0) != 0;
  if (windowedCache) {
    if (window <= 0 || !pastKey)
      return ctx.error() << "sliding_window_cache needs local_window_size > "
                            "0 and past_key/past_value";
    if (attnBias)
      return ctx.error() << "attention_bias with sliding_window_cache (it "
                            "is indexed by absolute key position) is not "
                            "supported";
    auto pastType = getRankedType(pastKey);
    if (pastType && pastType.getRank() == 4 && !pastType.isDynamicDim(2) &&
        pastType.getDimSize(2) < window)
      return ctx.error() << "sliding_window_cache: the cache capacity "
                         << pastType.getDimSize(2)
                         << " (past_key's dim 2) is smaller than "
                            "local_window_size "
                         << window;
  }
  float softcap = ctx.attrFloat("softcap", 0.0f);
  if (!(softcap >= 0.0f))
    return ctx.error() << "softcap " << softcap << " must be >= 0";
  bool smooth = ctx.attrInt("smooth_softmax", 0) != 0;
  auto qType = getRankedType(query);
  if (!qType || qType.getRank() != 3 || qType.isDynamicDim(2))
    return ctx.error() << "query must be 3-D with a static hidden size";
  for (auto [lengths, name] : {std::pair{seqlens, "seqlens_k"},
                               std::pair{querySeqlens, "query_seqlens"}}) {
    if (!lengths)
      continue;
    auto type = getRankedType(lengths);
    if (!type || type.getRank() != 1 || !type.getElementType().isInteger(32))
      return ctx.error() << name << " must be a 1-D int32 tensor";
  }
  int64_t hidden = qType.getDimSize(2);
  int64_t per = key ? heads : heads + 2 * kvHeads;
  if (hidden % per)
    return ctx.error() << "query's hidden size " << hidden
                       << " is not a multiple of " << per << " heads";
  int64_t headDim = hidden / per;
  Type t = ctx.elementTypeOf(query);
  Builder &b = ctx.builder;
  if (!key) { // packed [q | k | v] along the hidden dim
    auto split = ctx.builder.create<SplitOp>(
        ctx.loc, SmallVector<Type>(3, UnrankedTensorType::get(t)), query,
        b.getI64IntegerAttr(2),
        b.getDenseI64ArrayAttr(
            {heads * headDim, kvHeads * headDim, kvHeads * headDim}));
    if (failed(inferResultTypesInPlace(split)))
      return failure();
    query = split.getResult(0), key = split.getResult(1),
    value = split.getResult(2);
  }
  TRY(q, splitHeads(ctx, query, heads));
  TRY(k, splitHeads(ctx, key, kvHeads));
  TRY(v, splitHeads(ctx, value, kvHeads));
  IndexMath m(ctx);
  // T_b = seqlens_k + 1, Q_b = query_seqlens or min(S, T_b), P_b = T_b -
  // Q_b; query s of sequence b is at position P_b + s.
  TRY(seqLen, dimScalar(ctx, query, 1));
  TRY(lens, ctx.create<CastOp>(m.i64, seqlens));
  TRY(total, m.add(lens, m.scalar(1)));
  Value validRows;
  if (querySeqlens) {
    TRY(given, ctx.create<CastOp>(m.i64, querySeqlens));
    validRows = given;
  } else {
    TRY(clipped, m.min(total, seqLen));
    validRows = clipped;
  }
  TRY(past, m.sub(total, validRows));
  TRY(pastCol, m.unsqueeze(past, {1}));
  TRY(totalCol, m.unsqueeze(total, {1}));
  TRY(validCol, m.unsqueeze(validRows, {1}));
  TRY(steps, m.iota(seqLen));
  TRY(stepRow, m.unsqueeze(steps, {0}));
  TRY(positions, m.add(pastCol, stepRow)); // [B, S]
  if (rotary) {
    // position_ids [B, S] (int64), when given, are the rotary positions;
    // in a first prompt (S == total_sequence_length) ORT reads only its
    // first element, as the offset of position 0.
    Value ropePositions = positions;
    if (Value given = ctx.input(9)) {
      auto givenType = getRankedType(given);
      if (!givenType || givenType.getRank() != 2 ||
          !givenType.getElementType().isInteger(64))
        return ctx.error() << "position_ids must be int64 [batch, sequence]";
      ropePositions = given;
      if (!querySeqlens) {
        TRY(flat, ctx.create<ReshapeOp>(m.i64, given, ctx.constantI64({-1}),
                                        b.getBoolAttr(false)));
        TRY(first, ctx.create<GatherOp>(m.i64, flat, m.scalar(0),
                                        b.getI64IntegerAttr(0)));
        TRY(offsetSteps, m.add(steps, first));
        TRY(offsetRow, m.unsqueeze(offsetSteps, {0}));
        TRY(total64, ctx.create<CastOp>(m.i64, totalLen));
        TRY(totalScalar,
            ctx.create<ReshapeOp>(m.i64, total64, ctx.constantI64({}, false),
                                  b.getBoolAttr(false)));
        TRY(isFirst, m.compare(totalScalar, seqLen, ComparePredicate::eq));
        TRY(chosen, ctx.create<WhereOp>(m.i64, isFirst, offsetRow, given));
        ropePositions = chosen;
      }
    }
    bool interleaved = ctx.attrInt("rotary_interleaved", 0) != 0;
    TRY(qr, applyRope(ctx, q, cos, sin, ropePositions, interleaved));
    TRY(kr, applyRope(ctx, k, cos, sin, ropePositions, interleaved));
    q = qr, k = kr;
  }
  Value zero = ctx.constantScalar(t, 0.0);
  // The gather index of present row j, broadcast to [B, Nkv, Lp, H] by
  // adding zeros, which keeps the static head count and size in the type
  // (an expand to a computed shape would not); and `written` as
  // [B, 1, Lp, 1].
  struct RowGather {
    Value index, written;
  };
  auto rowGather = [&](Value source, Value written) -> FailureOr<RowGather> {
    TRY(source4, m.unsqueeze(source, {1, 3}));   // [B, 1, Lp, 1]
    TRY(written4, m.unsqueeze(written, {1, 3})); // [B, 1, Lp, 1]
    SmallVector<int64_t> zeros(kvHeads * headDim, 0);
    Value spread = ctx.builder.create<ConstantOp>(
        ctx.loc, DenseElementsAttr::get(
                     RankedTensorType::get({1, kvHeads, 1, headDim}, m.i64),
                     ArrayRef<int64_t>(zeros)));
    TRY(index, m.add(source4, spread));
    return RowGather{index, written4};
  };
  auto gatherRows = [&](Value cat, const RowGather &rows) -> FailureOr<Value> {
    TRY(picked, ctx.create<GatherElementsOp>(t, cat, rows.index,
                                             b.getI64IntegerAttr(2)));
    return ctx.create<WhereOp>(t, rows.written, picked, zero);
  };
  // The keys attention reads (`keysK`/`keysV`, [B, Nkv, Lk, H]), the
  // absolute position of each row (`keyPos`, [B or 1, Lk]) and whether the
  // row holds a token (`keyValid`, [B, Lk]); and the present cache, built
  // by a gather over [past | new] (`source`, [B, Lp]) where `written`.
  Value keysK = k, keysV = v, presentKey = k, presentValue = v;
  Value keyPos, keyValid;
  if (!pastKey) {
    TRY(rows, m.iota(seqLen));
    TRY(row, m.unsqueeze(rows, {0}));
    keyPos = row;
    if (!causal) { // only the mask without causality reads it (below)
      TRY(inSequence, m.compare(row, totalCol, ComparePredicate::lt));
      keyValid = inSequence;
    }
  } else {
    TRY(catK, ctx.create<ConcatOp>(t, ValueRange{pastKey, k},
                                   b.getI64IntegerAttr(2)));
    TRY(catV, ctx.create<ConcatOp>(t, ValueRange{pastValue, v},
                                   b.getI64IntegerAttr(2)));
    TRY(capacity, dimScalar(ctx, pastKey, 2));
    TRY(length, dimScalar(ctx, catK, 2));
    TRY(last, m.sub(length, m.scalar(1)));
    TRY(rows, m.iota(length));
    TRY(row, m.unsqueeze(rows, {0})); // [1, P + S]
    if (!windowedCache) {
      // Row j holds position j: past rows below P_b, then the new rows.
      TRY(cached, m.compare(row, pastCol, ComparePredicate::lt));
      TRY(shifted, m.add(row, capacity));
      TRY(fresh, m.sub(shifted, pastCol));
      TRY(freshIn, m.min(fresh, last));
      TRY(source, ctx.create<WhereOp>(m.i64, cached, row, freshIn));
      TRY(written, m.compare(row, totalCol, ComparePredicate::lt));
      FailureOr<RowGather> gather = rowGather(source, written);
      if (failed(gather))
        return failure();
      TRY(pk, gatherRows(catK, *gather));
      TRY(pv, gatherRows(catV, *gather));
      presentKey = keysK = pk, presentValue = keysV = pv;
      keyPos = row, keyValid = written;
    } else {
      // Resident rows L(T) = T - G * ceil(max(T - C, 0) / G), G = C - w + 1
      // (at least 1, so that a capacity below the window, refused above
      // when static, cannot divide by zero).
      TRY(slackRaw, m.sub(capacity, m.scalar(window - 1)));
      TRY(slack, m.max(slackRaw, m.scalar(1)));
      TRY(slackLess1, m.sub(slack, m.scalar(1)));
      auto resident = [&](Value tokens) -> FailureOr<Value> {
        TRY(overRaw, m.sub(tokens, capacity));
        TRY(over, m.max(overRaw, m.scalar(0)));
        TRY(roundUp, m.add(over, slackLess1));
        TRY(evictions, ctx.create<DivOp>(m.i64, roundUp, slack));
        TRY(evicted, ctx.create<MulOp>(m.i64, evictions, slack));
        return m.sub(tokens, evicted);
      };
      TRY(residentBefore, resident(past)); // [B]
      TRY(residentAfter, resident(total)); // [B]
      TRY(beforeCol, m.unsqueeze(residentBefore, {1}));
      TRY(afterCol, m.unsqueeze(residentAfter, {1}));
      // Attention reads [past | new] as it is: past row r < C holds
      // position P_b - L(P_b) + r (when r < L(P_b)), new row r >= C holds
      // P_b + r - C (when r - C < Q_b).
      TRY(isPast, m.compare(row, capacity, ComparePredicate::lt));
      TRY(oldest, m.sub(pastCol, beforeCol));
      TRY(pastPos, m.add(oldest, row));
      TRY(newRow, m.sub(row, capacity));
      TRY(newPos, m.add(pastCol, newRow));
      TRY(pos, ctx.create<WhereOp>(m.i64, isPast, pastPos, newPos));
      TRY(pastHeld, m.compare(row, beforeCol, ComparePredicate::lt));
      TRY(newHeld, m.compare(newRow, validCol, ComparePredicate::lt));
      TRY(held, ctx.create<WhereOp>(b.getI1Type(), isPast, pastHeld, newHeld));
      keysK = catK, keysV = catV, keyPos = pos, keyValid = held;
      // Present row i < L(T_b) holds position T_b - L(T_b) + i, found in
      // the new rows (C + pos - P_b) or in the past ones (pos - oldest).
      TRY(slots, m.iota(capacity));
      TRY(slot, m.unsqueeze(slots, {0})); // [1, C]
      TRY(firstKept, m.sub(totalCol, afterCol));
      TRY(slotPos, m.add(firstKept, slot));
      TRY(isNew, m.compare(slotPos, pastCol, ComparePredicate::ge));
      TRY(sinceNew, m.sub(slotPos, pastCol));
      TRY(fromNew, m.add(sinceNew, capacity));
      TRY(fromPast, m.sub(slotPos, oldest));
      TRY(sourceRaw, ctx.create<WhereOp>(m.i64, isNew, fromNew, fromPast));
      TRY(sourceLow, m.max(sourceRaw, m.scalar(0)));
      TRY(source, m.min(sourceLow, last));
      TRY(written, m.compare(slot, afterCol, ComparePredicate::lt));
      FailureOr<RowGather> gather = rowGather(source, written);
      if (failed(gather))
        return failure();
      TRY(pk, gatherRows(catK, *gather));
      TRY(pv, gatherRows(catV, *gather));
      presentKey = pk, presentValue = pv;
    }
  }
  // Query s of sequence b sees keys at positions j with j <= pos (causal;
  // that also keeps it within its T_b tokens of a full-length cache),
  // pos - w < j (window), among the rows that hold a token (needed
  // without causality, and in a windowed cache whose stale rows carry
  // plausible positions).
  TRY(keyPosRow, m.unsqueeze(keyPos, {1, 2}));   // [B or 1, 1, 1, Lk]
  TRY(queryPos, m.unsqueeze(positions, {1, 3})); // [B, 1, S, 1]
  Value allowed;
  auto require = [&](Value condition) -> LogicalResult {
    if (!allowed) {
      allowed = condition;
      return success();
    }
    FailureOr<Value> both =
        ctx.create<AndOp>(b.getI1Type(), allowed, condition);
    if (failed(both))
      return failure();
    allowed = *both;
    return success();
  };
  if (!causal || windowedCache) {
    TRY(held, m.unsqueeze(keyValid, {1, 2})); // [B, 1, 1, Lk]
    if (failed(require(held)))
      return failure();
  }
  if (causal) {
    TRY(notAfter, m.compare(keyPosRow, queryPos, ComparePredicate::le));
    if (failed(require(notAfter)))
      return failure();
  }
  if (window >= 0) {
    TRY(first, m.sub(queryPos, m.scalar(window - 1)));
    TRY(inWindow, m.compare(keyPosRow, first, ComparePredicate::ge));
    if (failed(require(inWindow)))
      return failure();
  }
  TRY(mask,
      ctx.create<WhereOp>(
          t, allowed, ctx.constantScalar(t, 0.0),
          ctx.constantScalar(t, -std::numeric_limits<double>::infinity())));
  // attention_bias (broadcast to [B, N, S, L]) is added after softcap,
  // with the mask, as ORT does.
  if (attnBias) {
    TRY(biased, ctx.create<AddOp>(t, mask, attnBias));
    mask = biased;
  }
  float scaleAttr = ctx.attrFloat("scale", 0.0f);
  double scale =
      scaleAttr != 0.0f ? scaleAttr : 1.0 / std::sqrt(double(headDim));
  Value attended;
  if (softcap > 0.0f || smooth || headSink) {
    ExplicitAttentionOptions options;
    options.scale = scale;
    options.softcap = softcap;
    options.softcapBeforeMask = true;
    options.extraLogit = smooth || headSink;
    options.sink = headSink;
    FailureOr<ExplicitAttention> unfused =
        buildExplicitAttention(ctx, q, keysK, keysV, mask, options);
    if (failed(unfused))
      return failure();
    attended = unfused->output;
  } else {
    TRY(a, ctx.create<AttentionOp>(t, q, keysK, keysV, mask,
                                   b.getF32FloatAttr(scale),
                                   b.getBoolAttr(false)));
    attended = a;
  }
  if (failed(ctx.produce(mergeHeads(ctx, attended))))
    return failure();
  ctx.results.push_back(presentKey);
  ctx.results.push_back(presentValue);
  for (int i = 3; i < ctx.node.output_size(); ++i)
    ctx.results.push_back(Value());
  return success();
}

//===----------------------------------------------------------------------===//
// MultiHeadAttention
//===----------------------------------------------------------------------===//

/// The masks ORT's MultiHeadAttention and Attention share, and
/// anvil.attention. q [B, N, S, H], k/v [B, N, T, H] (past included).
/// `padding` (may be null), int32: [B, T] or (mask_index only) [B, S, T]
/// with 0 masking a key, or [B] key counts. `attnBias` (may be null) is
/// added. unidirectional masks keys after T - S + i; a masked score gets
/// mask_filter_value (default -10000) added once.
FailureOr<Value> attendMasked(NodeContext &ctx, Value q, Value k, Value v,
                              Value padding, Value attnBias, int64_t headDim,
                              const char *maskWhat) {
  Type t = ctx.elementTypeOf(q);
  Builder &b = ctx.builder;
  IndexMath m(ctx);
  // Which scores are masked: a bool broadcast to [B, N, S, T].
  Value masked;
  auto orMasked = [&](FailureOr<Value> more) {
    if (failed(more))
      return false;
    if (!masked) {
      masked = *more;
      return true;
    }
    FailureOr<Value> both = ctx.create<OrOp>(b.getI1Type(), masked, *more);
    if (succeeded(both))
      masked = *both;
    return succeeded(both);
  };
  TRY(keyLen, dimScalar(ctx, k, 2));
  TRY(keys, m.iota(keyLen));
  TRY(keyRow, m.unsqueeze(keys, {0, 1, 2})); // [1, 1, 1, T]
  if (padding) {
    auto padType = getRankedType(padding);
    int64_t maxRank = maskWhat == StringRef("mask_index") ? 3 : 2;
    if (!padType || !padType.getElementType().isInteger(32) ||
        padType.getRank() < 1 || padType.getRank() > maxRank)
      return ctx.error() << maskWhat << " must be int32 [batch] or "
                         << "[batch, total_length]"
                         << (maxRank == 3 ? " or [batch, seq, total_length]"
                                          : "");
    if (padType.getRank() >= 2) { // 0 masks the key (for each query, 3-D)
      TRY(isZero,
          ctx.create<CompareOp>(
              b.getI1Type(), padding,
              ctx.constantScalar(padType.getElementType(), 0),
              ComparePredicateAttr::get(b.getContext(), ComparePredicate::eq)));
      if (!orMasked(padType.getRank() == 2 ? m.unsqueeze(isZero, {1, 2})
                                           : m.unsqueeze(isZero, {1})))
        return failure();
    } else {
      auto qType = getRankedType(q);
      if (!padType.isDynamicDim(0) && !qType.isDynamicDim(0) &&
          padType.getDimSize(0) != qType.getDimSize(0))
        return ctx.error() << "a 1-D " << maskWhat
                           << " must hold one length per sequence (start "
                              "positions are not supported)";
      TRY(lens, ctx.create<CastOp>(m.i64, padding));
      TRY(lens4, m.unsqueeze(lens, {1, 2, 3}));
      if (!orMasked(m.compare(keyRow, lens4, ComparePredicate::ge)))
        return failure();
    }
  }
  if (ctx.attrInt("unidirectional", 0) != 0) {
    TRY(seqLen, dimScalar(ctx, q, 2));
    TRY(offset, m.sub(keyLen, seqLen));
    TRY(steps, m.iota(seqLen));
    TRY(last, m.add(steps, offset));
    TRY(lastCol, m.unsqueeze(last, {1})); // [S, 1]
    if (!orMasked(m.compare(keyRow, lastCol, ComparePredicate::gt)))
      return failure();
  }
  Value mask;
  if (masked) {
    TRY(filled, ctx.create<WhereOp>(
                    t, masked,
                    ctx.constantScalar(
                        t, ctx.attrFloat("mask_filter_value", -10000.0f)),
                    ctx.constantScalar(t, 0.0)));
    mask = filled;
  }
  if (attnBias) {
    if (mask) {
      TRY(sum, ctx.create<AddOp>(t, mask, attnBias));
      mask = sum;
    } else {
      mask = attnBias;
    }
  }
  float scaleAttr = ctx.attrFloat("scale", 0.0f);
  double scale =
      scaleAttr != 0.0f ? scaleAttr : 1.0 / std::sqrt(double(headDim));
  return ctx.create<AttentionOp>(t, q, k, v, mask, b.getF32FloatAttr(scale),
                                 b.getBoolAttr(false));
}

/// com.microsoft MultiHeadAttention (opset 1), BERT-class, as ONNX
/// Runtime's CPU kernel computes it. Inputs: query [B, S, N*H], key
/// [B, L, N*H] and value [B, L, N*Hv] (3-D only: packed QKV/KV and BNSH
/// keys are refused), bias [N*H + N*H + N*Hv] (added to q, k, v),
/// key_padding_mask (int32 [B, T]: 0 masks the key; or [B]: each
/// sequence's key count), attention_bias (broadcast to [B, N, S, T]),
/// past_key/past_value [B, N, P, H] (concatenated in front: T = P + L; the
/// present outputs). Attributes: num_heads, scale (default 1/sqrt(H)),
/// unidirectional (query i sees keys up to T - S + i), mask_filter_value
/// (default -10000: what a masked score becomes, added once however many
/// masks mask it, as ORT does; not -inf, so a fully masked row averages
/// the values). past_sequence_length, cache_indirection and the qk output
/// are refused by name.
LogicalResult importMultiHeadAttention(NodeContext &ctx) {
  Value query = ctx.requiredInput(0, "query"), key = ctx.input(1),
        value = ctx.input(2);
  if (!query)
    return failure();
  if (!key || !value || ctx.rankOf(key) != 3 || ctx.rankOf(value) != 3)
    return ctx.error() << "only separate 3-D key and value are supported "
                          "(not packed QKV/KV or BNSH keys)";
  Value bias = ctx.input(3), padding = ctx.input(4), attnBias = ctx.input(5);
  Value pastKey = ctx.input(6), pastValue = ctx.input(7);
  if (ctx.input(8) || ctx.input(9))
    return ctx.error() << "past_sequence_length and cache_indirection (beam "
                          "search) are not supported";
  if (ctx.node.output_size() > 3 && !ctx.node.output(3).empty())
    return ctx.error() << "the qk output is not supported";
  if (!pastKey != !pastValue)
    return ctx.error() << "past_key and past_value come together";
  int64_t heads = ctx.attrInt("num_heads", 0);
  if (heads <= 0)
    return ctx.error() << "num_heads must be positive";
  auto qType = getRankedType(query), kType = getRankedType(key),
       vType = getRankedType(value);
  if (!qType || qType.getRank() != 3 || qType.isDynamicDim(2) ||
      kType.isDynamicDim(2) || vType.isDynamicDim(2))
    return ctx.error() << "query, key and value must be 3-D with static "
                          "hidden sizes";
  int64_t dq = qType.getDimSize(2), dk = kType.getDimSize(2),
          dv = vType.getDimSize(2);
  if (dq % heads || dk != dq || dv % heads)
    return ctx.error() << "hidden sizes " << dq << ", " << dk << ", " << dv
                       << " do not split into " << heads << " heads";
  int64_t headDim = dq / heads;
  Type t = ctx.elementTypeOf(query);
  Builder &b = ctx.builder;
  if (bias) {
    auto biasType = getRankedType(bias);
    if (!biasType || biasType.getRank() != 1 ||
        biasType.getDimSize(0) != dq + dk + dv)
      return ctx.error() << "bias must be [" << dq + dk + dv << "]";
    auto piece = [&](Value x, int64_t from, int64_t size) -> FailureOr<Value> {
      TRY(part,
          ctx.create<SliceOp>(t, bias, ctx.constantI64({from}),
                              ctx.constantI64({from + size}),
                              ctx.constantI64({0}), ctx.constantI64({1})));
      return ctx.create<AddOp>(t, x, part);
    };
    TRY(qb, piece(query, 0, dq));
    TRY(kb, piece(key, dq, dk));
    TRY(vb, piece(value, dq + dk, dv));
    query = qb, key = kb, value = vb;
  }
  TRY(q, splitHeads(ctx, query, heads));
  TRY(k, splitHeads(ctx, key, heads));
  TRY(v, splitHeads(ctx, value, heads));
  if (pastKey) {
    TRY(pk, ctx.create<ConcatOp>(t, ValueRange{pastKey, k},
                                 b.getI64IntegerAttr(2)));
    TRY(pv, ctx.create<ConcatOp>(t, ValueRange{pastValue, v},
                                 b.getI64IntegerAttr(2)));
    k = pk, v = pv;
  }
  TRY(attended, attendMasked(ctx, q, k, v, padding, attnBias, headDim,
                             /*maskWhat=*/"key_padding_mask"));
  if (failed(ctx.produce(mergeHeads(ctx, attended))))
    return failure();
  if (ctx.node.output_size() > 1)
    ctx.results.push_back(k);
  if (ctx.node.output_size() > 2)
    ctx.results.push_back(v);
  for (int i = 3; i < ctx.node.output_size(); ++i)
    ctx.results.push_back(Value());
  return success();
}

/// com.microsoft Attention (opset 1), BERT-class, as ONNX Runtime's CPU
/// kernel computes it. Inputs: input [B, S, In], weights [In, Dq+Dk+Dv]
/// (Dq = Dk = Dv unless qkv_hidden_sizes), bias [Dq+Dk+Dv] (optional),
/// mask_index (int32 [B] key counts, [B, T] or [B, S, T] with 0 masking a
/// key; [2B] start/end positions and the 4-D Megatron form are refused),
/// past [2, B, N, P, H] (keys then values, concatenated in front),
/// attention_bias (added). Outputs: output [B, S, Dv], present
/// [2, B, N, P+S, H]. Attributes: num_heads, qkv_hidden_sizes, scale,
/// unidirectional, mask_filter_value as MultiHeadAttention's;
/// past_sequence_length, do_rotary and past_present_share_buffer are
/// refused by name.
LogicalResult importMsAttention(NodeContext &ctx) {
  Value input = ctx.requiredInput(0, "input"),
        weights = ctx.requiredInput(1, "weights");
  if (!input || !weights)
    return failure();
  Value bias = ctx.input(2), padding = ctx.input(3), past = ctx.input(4),
        attnBias = ctx.input(5);
  if (ctx.input(6))
    return ctx.error() << "the past_sequence_length input is not supported";
  if (ctx.attrInt("do_rotary", 0) != 0)
    return ctx.error() << "do_rotary is not supported";
  if (ctx.attrInt("past_present_share_buffer", 0) != 0)
    return ctx.error() << "past_present_share_buffer is not supported";
  int64_t heads = ctx.attrInt("num_heads", 0);
  if (heads <= 0)
    return ctx.error() << "num_heads must be positive";
  auto inType = getRankedType(input), wType = getRankedType(weights);
  if (!inType || inType.getRank() != 3)
    return ctx.error() << "input must be 3-D";
  if (!wType || wType.getRank() != 2 || !wType.hasStaticShape())
    return ctx.error() << "weights must be 2-D with a static shape";
  int64_t width = wType.getDimSize(1);
  SmallVector<int64_t> sizes(3, width / 3);
  if (auto given = ctx.attrInts("qkv_hidden_sizes")) {
    if (given->size() != 3)
      return ctx.error() << "qkv_hidden_sizes must have 3 entries";
    sizes.assign(given->begin(), given->end());
  } else if (width % 3) {
    return ctx.error() << "weights width " << width << " is not 3 equal parts";
  }
  for (int64_t size : sizes)
    if (size <= 0 || size % heads)
      return ctx.error() << "hidden size " << size << " does not split into "
                         << heads << " heads";
  if (sizes[0] != sizes[1])
    return ctx.error() << "query and key hidden sizes must be equal";
  if (sizes[0] + sizes[1] + sizes[2] != width)
    return ctx.error() << "qkv_hidden_sizes sum to "
                       << sizes[0] + sizes[1] + sizes[2]
                       << ", not the weights width " << width;
  if (bias) {
    auto biasType = getRankedType(bias);
    if (!biasType || biasType.getRank() != 1 || biasType.getDimSize(0) != width)
      return ctx.error() << "bias must be [" << width << "]";
  }
  Type t = ctx.elementTypeOf(input);
  Builder &b = ctx.builder;
  TRY(qkv, ctx.create<MatmulOp>(t, input, weights, b.getBoolAttr(false)));
  if (bias) {
    TRY(biased, ctx.create<AddOp>(t, qkv, bias));
    qkv = biased;
  }
  auto split = ctx.builder.create<SplitOp>(
      ctx.loc, SmallVector<Type>(3, UnrankedTensorType::get(t)), qkv,
      b.getI64IntegerAttr(2), b.getDenseI64ArrayAttr(sizes));
  if (failed(inferResultTypesInPlace(split)))
    return failure();
  TRY(q, splitHeads(ctx, split.getResult(0), heads));
  TRY(k, splitHeads(ctx, split.getResult(1), heads));
  TRY(v, splitHeads(ctx, split.getResult(2), heads));
  if (past) {
    auto pastType = getRankedType(past);
    if (!pastType || pastType.getRank() != 5 ||
        (!pastType.isDynamicDim(0) && pastType.getDimSize(0) != 2))
      return ctx.error() << "past must be [2, batch, heads, past, head]";
    auto half = [&](int64_t which) {
      return ctx.create<GatherOp>(
          t, past, ctx.constantScalar(b.getI64Type(), double(which)),
          b.getI64IntegerAttr(0));
    };
    TRY(pastKey, half(0));
    TRY(pastValue, half(1));
    TRY(pk, ctx.create<ConcatOp>(t, ValueRange{pastKey, k},
                                 b.getI64IntegerAttr(2)));
    TRY(pv, ctx.create<ConcatOp>(t, ValueRange{pastValue, v},
                                 b.getI64IntegerAttr(2)));
    k = pk, v = pv;
  }
  TRY(attended, attendMasked(ctx, q, k, v, padding, attnBias, sizes[0] / heads,
                             "mask_index"));
  if (failed(ctx.produce(mergeHeads(ctx, attended))))
    return failure();
  if (ctx.node.output_size() > 1) {
    TRY(k5, ctx.create<UnsqueezeOp>(t, k, b.getDenseI64ArrayAttr({0})));
    TRY(v5, ctx.create<UnsqueezeOp>(t, v, b.getDenseI64ArrayAttr({0})));
    if (failed(ctx.produce(ctx.create<ConcatOp>(t, ValueRange{k5, v5},
                                                b.getI64IntegerAttr(0)))))
      return failure();
  }
  for (int i = 2; i < ctx.node.output_size(); ++i)
    ctx.results.push_back(Value());
  return success();
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
  t.add(kMicrosoftDomain, "GroupQueryAttention", importGroupQueryAttention);
  t.add(kMicrosoftDomain, "MultiHeadAttention", importMultiHeadAttention);
  t.add(kMicrosoftDomain, "Attention", importMsAttention);
}

} // namespace anvil::onnx_import

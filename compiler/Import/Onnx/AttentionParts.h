//===- AttentionParts.h - pieces shared by the attention importers -*- C++
//-*-===//
//
// Used by AttentionOps.cpp (ONNX Attention) and MicrosoftOps.cpp (ONNX
// Runtime's GroupQueryAttention and RotaryEmbedding).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_COMPILER_IMPORT_ONNX_ATTENTIONPARTS_H
#define ANVIL_COMPILER_IMPORT_ONNX_ATTENTIONPARTS_H

#include "compiler/Import/Onnx/OnnxNodeContext.h"

namespace anvil::onnx_import {

/// [batch, seq, heads * dim] -> [batch, heads, seq, dim].
mlir::FailureOr<mlir::Value> splitHeads(NodeContext &ctx, mlir::Value x,
                                        int64_t heads);

/// [batch, heads, seq, dim] -> [batch, seq, heads * dim].
mlir::FailureOr<mlir::Value> mergeHeads(NodeContext &ctx, mlir::Value x);

/// What the unfused attention computes besides softmax(q k^T scale) v.
struct ExplicitAttentionOptions {
  double scale = 1.0;
  /// > 0: scores become softcap * tanh(scores / softcap).
  float softcap = 0.0f;
  /// ONNX Attention caps after adding the mask (so masked scores become
  /// -softcap, as its reference does); ONNX Runtime's GroupQueryAttention
  /// caps first (masked scores stay -inf).
  bool softcapBeforeMask = false;
  /// Each row's softmax gets one more logit, zero or `sink` (ONNX
  /// Runtime's smooth_softmax and head_sink): exp(s_j) / (exp(sink) +
  /// sum exp(s)).
  bool extraLogit = false;
  /// [q_heads] logits of the extra term (null: zero).
  mlir::Value sink;
  /// ONNX Attention's qk_matmul_output_mode (0: q k^T scale, 1: plus the
  /// mask, 2: after softcap, 3: after softmax); -1: not wanted.
  int qkMode = -1;
};

struct ExplicitAttention {
  mlir::Value output; ///< [batch, q_heads, q_len, v_dim]
  mlir::Value qk;     ///< [batch, q_heads, q_len, kv_len], or null
};

/// Attention from matmul, softmax and elementwise ops, for what
/// anvil.attention does not model. query [B, N, S, H]; key [B, Nkv, L, H]
/// and value [B, Nkv, L, Hv] with N a multiple of Nkv (query head n uses
/// key head n / (N / Nkv)), both head counts static; `mask` (may be null)
/// additive and broadcast to [B, N, S, L]. Dims other than the heads may be
/// dynamic.
mlir::FailureOr<ExplicitAttention>
buildExplicitAttention(NodeContext &ctx, mlir::Value query, mlir::Value key,
                       mlir::Value value, mlir::Value mask,
                       const ExplicitAttentionOptions &options);

} // namespace anvil::onnx_import

#endif // ANVIL_COMPILER_IMPORT_ONNX_ATTENTIONPARTS_H

#!/usr/bin/env python3
"""Tiny decoders with a KV cache, built by hand with onnx.helper, that spell
attention the ways exporters do not: for the paged-KV rewrite's end-to-end
test (test/EndToEnd/paged-hand-decoders.test).

  window      one layer, multi-query attention (one KV head), RMSNorm as
              x / sqrt(mean(x*x) + eps) * w, rotary embedding on adjacent
              pairs (interleaved: q's split from a reshape, k's as strided
              slices) from position_ids, and a sliding window of
              WINDOW keys built from the positions, added before the scale
  every-two   the window decoder with GPT-J's spelling of the rotation:
              x * cos2 + rotate_every_two(x) * sin2 on the first half of
              each head (strided slices, Neg, a stack by Unsqueeze/Concat,
              tables repeated pairwise by Unsqueeze/Tile/Reshape), the rest
              passed through by a Concat
  onnx-attn   two layers of ONNX's own Attention op (opset 23) with
              past_key/past_value and present outputs, is_causal=1, grouped
              KV heads (4 query heads, 2 KV heads)
  partial-rope
              two layers of ONNX's Attention op as onnx-attn, with ONNX's
              RotaryEmbedding (opset 23) on q and k rotating only the first
              half of each head (rotary_embedding_dim, as Phi and GPT-NeoX
              do), from position_ids and constant cos/sin caches
  learned     no position_ids input: learned absolute positions computed as
              cumsum(attention_mask) + 1 over the whole mask, sliced to the
              new tokens (OPT's offset of 2 minus 1), and a causal mask
              from the mask's cumsum; two heads, no rotary

Weights are seeded random. Inputs: input_ids, attention_mask, position_ids,
past_key_values.{i}.key/value [1, kv_heads, past, head_dim]; outputs:
logits, present.{i}.key/value.

Usage: hand_decoders.py NAME OUT.onnx
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto as T, helper, numpy_helper

VOCAB, HIDDEN, HEAD_DIM = 64, 32, 8
WINDOW = 24


class Graph:
    def __init__(self, seed):
        self.nodes, self.inits, self.rng = [], [], np.random.default_rng(seed)
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, value, base="c"):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, *shape):
        return self.const((self.rng.standard_normal(shape) * 0.3)
                          .astype(np.float32), "w")

    def op(self, kind, inputs, n_out=1, **attrs):
        outs = [self.name(kind.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(kind, inputs, outs, **attrs))
        return outs[0] if n_out == 1 else outs


def rms_norm(g, x):
    """x / sqrt(mean(x*x) + eps) * w, as ReduceMean, Sqrt and Div."""
    sq = g.op("Mul", [x, x])
    mean = g.op("ReduceMean", [sq, g.const(np.array([-1], np.int64))],
                keepdims=1)
    denom = g.op("Sqrt", [g.op("Add", [mean, g.const(np.float32(1e-5))])])
    return g.op("Mul", [g.op("Div", [x, denom]), g.weight(HIDDEN)])


def heads(g, x, n):
    """[1, S, n*D] -> [1, n, S, D]."""
    r = g.op("Reshape", [x, g.const(np.array([1, -1, n, HEAD_DIM],
                                             np.int64))])
    return g.op("Transpose", [r], perm=[0, 2, 1, 3])


def rope_interleaved(g, x, cos, sin, strided=False):
    """Rotates adjacent pairs (2i, 2i+1) of x [1, H, S, D] by cos/sin
    [1, 1, S, D/2]: the pairs split from a [.., D/2, 2] reshape, or with
    `strided` the even and odd elements as slices with step 2."""
    axis = g.const(np.array([4], np.int64))
    if strided:
        last = g.const(np.array([-1], np.int64))
        step = g.const(np.array([2], np.int64))
        end = g.const(np.array([np.iinfo(np.int64).max], np.int64))
        x1 = g.op("Slice", [x, g.const(np.array([0], np.int64)), end, last,
                            step])
        x2 = g.op("Slice", [x, g.const(np.array([1], np.int64)), end, last,
                            step])
    else:
        pairs = g.op("Reshape", [x, g.const(np.array(
            [1, 0, 0, HEAD_DIM // 2, 2], np.int64))])
        x1, x2 = g.op("Split", [pairs, g.const(np.array([1, 1], np.int64))],
                      n_out=2, axis=4)
        x1, x2 = g.op("Squeeze", [x1, axis]), g.op("Squeeze", [x2, axis])
    y1 = g.op("Sub", [g.op("Mul", [x1, cos]), g.op("Mul", [x2, sin])])
    y2 = g.op("Add", [g.op("Mul", [x2, cos]), g.op("Mul", [x1, sin])])
    y = g.op("Concat", [g.op("Unsqueeze", [y1, axis]),
                        g.op("Unsqueeze", [y2, axis])], axis=4)
    return g.op("Reshape", [y, g.const(np.array([1, 0, 0, HEAD_DIM],
                                                np.int64))])


def rope_every_two(g, x, cos, sin, rotary_dim):
    """GPT-J's partial rotation of x [1, H, S, D]: the first rotary_dim
    values of each head as x * cos2 + rotate_every_two(x) * sin2, where
    rotate_every_two(x) = flatten(stack(-x[..., 1::2], x[..., 0::2], -1))
    and cos2/sin2 repeat each of cos/sin [1, 1, S, rotary_dim/2] twice
    (torch's repeat_interleave, as Unsqueeze + Tile + Reshape); the rest of
    the head passes through."""
    def i64(*values):
        return g.const(np.array(values, np.int64))

    def repeat_pairs(table):
        unit = g.op("Unsqueeze", [table, i64(4)])
        return g.op("Reshape", [g.op("Tile", [unit, i64(1, 1, 1, 1, 2)]),
                                i64(1, 1, -1, rotary_dim)])

    end = i64(np.iinfo(np.int64).max)
    rot = g.op("Slice", [x, i64(0), i64(rotary_dim), i64(3)])
    rest = g.op("Slice", [x, i64(rotary_dim), end, i64(3)])
    even = g.op("Slice", [rot, i64(0), end, i64(3), i64(2)])
    odd = g.op("Slice", [rot, i64(1), end, i64(3), i64(2)])
    stacked = g.op("Concat", [g.op("Unsqueeze", [g.op("Neg", [odd]), i64(4)]),
                              g.op("Unsqueeze", [even, i64(4)])], axis=4)
    rotated = g.op("Reshape", [stacked, i64(1, 0, 0, rotary_dim)])
    y = g.op("Add", [g.op("Mul", [rot, repeat_pairs(cos)]),
                     g.op("Mul", [rotated, repeat_pairs(sin)])])
    return g.op("Concat", [y, rest], axis=3)


def window_model(every_two=False):
    """The window decoder; with `every_two`, its rope is GPT-J's partial
    rotation (rope_every_two) of half of each head."""
    g = Graph(1)
    q_heads, kv_heads = 4, 1
    x = g.op("Gather", [g.weight(VOCAB, HIDDEN), "input_ids"], axis=0)
    h = rms_norm(g, x)
    q = heads(g, g.op("MatMul", [h, g.weight(HIDDEN, q_heads * HEAD_DIM)]),
              q_heads)
    k = heads(g, g.op("MatMul", [h, g.weight(HIDDEN, kv_heads * HEAD_DIM)]),
              kv_heads)
    v = heads(g, g.op("MatMul", [h, g.weight(HIDDEN, kv_heads * HEAD_DIM)]),
              kv_heads)
    # Rotary tables from the positions: angle = pos * inv_freq.
    rotary_dim = HEAD_DIM // 2 if every_two else HEAD_DIM
    inv_freq = (1.0 / (10000 ** (np.arange(0, rotary_dim, 2) / rotary_dim))
                ).astype(np.float32)
    pos = g.op("Cast", ["position_ids"], to=T.FLOAT)           # [1, S]
    pos = g.op("Unsqueeze", [pos, g.const(np.array([2], np.int64))])
    angles = g.op("Mul", [pos, g.const(inv_freq.reshape(1, 1, -1))])
    angles = g.op("Unsqueeze", [angles, g.const(np.array([1], np.int64))])
    cos, sin = g.op("Cos", [angles]), g.op("Sin", [angles])
    if every_two:
        q = rope_every_two(g, q, cos, sin, rotary_dim)
        k = rope_every_two(g, k, cos, sin, rotary_dim)
    else:
        q = rope_interleaved(g, q, cos, sin)
        k = rope_interleaved(g, k, cos, sin, strided=True)
    keys = g.op("Concat", ["past_key_values.0.key", k], axis=2)
    values = g.op("Concat", ["past_key_values.0.value", v], axis=2)
    # Key positions 0..total-1 against each query's position: visible when
    # key <= query and query - key < WINDOW.
    total = g.op("Shape", [keys], start=2, end=3)
    kpos = g.op("Range", [g.const(np.int64(0)),
                          g.op("Squeeze", [total]), g.const(np.int64(1))])
    qpos = g.op("Unsqueeze", ["position_ids", g.const(np.array([2],
                                                          np.int64))])
    diff = g.op("Sub", [qpos, kpos])                          # [1, S, total]
    visible = g.op("And", [
        g.op("GreaterOrEqual", [diff, g.const(np.int64(0))]),
        g.op("Less", [diff, g.const(np.int64(WINDOW))])])
    mask = g.op("Where", [visible, g.const(np.float32(0)),
                          g.const(np.float32(-1e9))])
    mask = g.op("Unsqueeze", [mask, g.const(np.array([1], np.int64))])
    # Repeat the one KV head, then scores + mask before the scale.
    reps = g.const(np.array([1, q_heads, 1, 1], np.int64))
    kt = g.op("Transpose", [g.op("Tile", [keys, reps])], perm=[0, 1, 3, 2])
    scores = g.op("Add", [g.op("MatMul", [q, kt]), mask])
    scores = g.op("Mul", [scores, g.const(np.float32(HEAD_DIM ** -0.5))])
    probs = g.op("Softmax", [scores], axis=-1)
    out = g.op("MatMul", [probs, g.op("Tile", [values, reps])])
    out = g.op("Reshape", [g.op("Transpose", [out], perm=[0, 2, 1, 3]),
                           g.const(np.array([1, -1, q_heads * HEAD_DIM],
                                            np.int64))])
    x = g.op("Add", [x, g.op("MatMul", [out, g.weight(q_heads * HEAD_DIM,
                                                      HIDDEN)])])
    logits = g.op("MatMul", [rms_norm(g, x), g.weight(HIDDEN, VOCAB)])
    return g, [(logits, "logits"), (keys, "present.0.key"),
               (values, "present.0.value")], 1, kv_heads, 18


def onnx_attention_model(seed=2, rotary_dim=0):
    """Two layers of ONNX's Attention op; with rotary_dim, ONNX's
    RotaryEmbedding rotates that many values of each q and k head first."""
    g = Graph(seed)
    q_heads, kv_heads, layers = 4, 2, 2
    if rotary_dim:
        inv_freq = 1.0 / (10000 ** (np.arange(0, rotary_dim, 2) / rotary_dim))
        angles = np.arange(256)[:, None] * inv_freq[None, :]
        cos_cache = g.const(np.cos(angles).astype(np.float32))
        sin_cache = g.const(np.sin(angles).astype(np.float32))
    x = g.op("Gather", [g.weight(VOCAB, HIDDEN), "input_ids"], axis=0)
    outputs = []
    for layer in range(layers):
        h = rms_norm(g, x)
        proj = [g.op("MatMul", [h, g.weight(HIDDEN, n * HEAD_DIM)])
                for n in (q_heads, kv_heads, kv_heads)]
        q, k, v = (heads(g, p, n) for p, n in
                   zip(proj, (q_heads, kv_heads, kv_heads)))
        if rotary_dim:
            q, k = (g.op("RotaryEmbedding", [t, cos_cache, sin_cache,
                                              "position_ids"],
                         rotary_embedding_dim=rotary_dim) for t in (q, k))
        out, present_k, present_v = g.op(
            "Attention", [q, k, v, "", f"past_key_values.{layer}.key",
                          f"past_key_values.{layer}.value"],
            n_out=3, is_causal=1)
        out = g.op("Reshape", [g.op("Transpose", [out], perm=[0, 2, 1, 3]),
                               g.const(np.array([1, -1, q_heads * HEAD_DIM],
                                                np.int64))])
        x = g.op("Add", [x, g.op("MatMul", [out, g.weight(q_heads * HEAD_DIM,
                                                          HIDDEN)])])
        outputs += [(present_k, f"present.{layer}.key"),
                    (present_v, f"present.{layer}.value")]
    logits = g.op("MatMul", [rms_norm(g, x), g.weight(HIDDEN, VOCAB)])
    return g, [(logits, "logits")] + outputs, layers, kv_heads, 23


def partial_rope_model():
    return onnx_attention_model(seed=4, rotary_dim=HEAD_DIM // 2)


def learned_positions_model():
    g = Graph(3)
    q_heads = kv_heads = 2
    max_positions = 160
    x = g.op("Gather", [g.weight(VOCAB, HIDDEN), "input_ids"], axis=0)
    # Positions from the mask: cumsum(mask) + 1 (OPT: cumsum * mask - 1 +
    # its offset of 2), the last `sequence` of them.
    mask = g.op("Cast", ["attention_mask"], to=T.INT64)
    cum = g.op("CumSum", [mask, g.const(np.int64(1))])
    positions_all = g.op("Add", [cum, g.const(np.int64(1))])
    past_len = g.op("Shape", ["past_key_values.0.key"], start=2, end=3)
    positions = g.op("Slice", [positions_all, past_len,
                               g.const(np.array([1 << 40], np.int64)),
                               g.const(np.array([1], np.int64))])
    x = g.op("Add", [x, g.op("Gather", [g.weight(max_positions, HIDDEN),
                                        positions], axis=0)])
    h = rms_norm(g, x)
    q, k, v = (heads(g, g.op("MatMul", [h, g.weight(HIDDEN, n * HEAD_DIM)]),
                     n) for n in (q_heads, kv_heads, kv_heads))
    keys = g.op("Concat", ["past_key_values.0.key", k], axis=2)
    values = g.op("Concat", ["past_key_values.0.value", v], axis=2)
    # Causal by the mask's cumsum: key j is visible to query i when
    # cum[j] <= cum[past + i] (and the key is not padding).
    qcum = g.op("Unsqueeze", [g.op("Slice", [
        cum, past_len, g.const(np.array([1 << 40], np.int64)),
        g.const(np.array([1], np.int64))]), g.const(np.array([2],
                                                             np.int64))])
    kcum = g.op("Unsqueeze", [cum, g.const(np.array([1], np.int64))])
    visible = g.op("And", [g.op("LessOrEqual", [kcum, qcum]),
                           g.op("Cast", [g.op("Unsqueeze", [
                               mask, g.const(np.array([1], np.int64))])],
                                to=T.BOOL)])
    bias = g.op("Where", [visible, g.const(np.float32(0)),
                          g.const(np.float32(-np.inf))])
    bias = g.op("Unsqueeze", [bias, g.const(np.array([1], np.int64))])
    kt = g.op("Transpose", [keys], perm=[0, 1, 3, 2])
    scores = g.op("Div", [g.op("MatMul", [q, kt]),
                          g.const(np.float32(HEAD_DIM ** 0.5))])
    probs = g.op("Softmax", [g.op("Add", [scores, bias])], axis=-1)
    out = g.op("MatMul", [probs, values])
    out = g.op("Reshape", [g.op("Transpose", [out], perm=[0, 2, 1, 3]),
                           g.const(np.array([1, -1, q_heads * HEAD_DIM],
                                            np.int64))])
    x = g.op("Add", [x, g.op("MatMul", [out, g.weight(q_heads * HEAD_DIM,
                                                      HIDDEN)])])
    logits = g.op("MatMul", [rms_norm(g, x), g.weight(HIDDEN, VOCAB)])
    return g, [(logits, "logits"), (keys, "present.0.key"),
               (values, "present.0.value")], 1, kv_heads, 18


def build(name, path):
    g, outputs, layers, kv_heads, opset = {
        "window": window_model, "onnx-attn": onnx_attention_model,
        "partial-rope": partial_rope_model,
        "every-two": lambda: window_model(every_two=True),
        "learned": learned_positions_model}[name]()
    seq, past = "sequence_length", "past_sequence_length"
    inputs = [helper.make_tensor_value_info("input_ids", T.INT64,
                                            ["batch_size", seq]),
              helper.make_tensor_value_info("attention_mask", T.INT64,
                                            ["batch_size", "total_length"])]
    if name != "learned":
        inputs.append(helper.make_tensor_value_info("position_ids", T.INT64,
                                                    ["batch_size", seq]))
    for layer in range(layers):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(
                f"past_key_values.{layer}.{kind}", T.FLOAT,
                ["batch_size", kv_heads, past, HEAD_DIM]))
    # Rename the final values to the output names.
    outs = []
    for value, out_name in outputs:
        g.nodes.append(helper.make_node("Identity", [value], [out_name]))
        shape = (["batch_size", seq, VOCAB] if out_name == "logits" else
                 ["batch_size", kv_heads, "total_length", HEAD_DIM])
        outs.append(helper.make_tensor_value_info(out_name, T.FLOAT, shape))
    graph = helper.make_graph(g.nodes, name, inputs, outs, g.inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    onnx.save(model, path)


if __name__ == "__main__":
    build(sys.argv[1], sys.argv[2])

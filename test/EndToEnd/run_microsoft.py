#!/usr/bin/env python3
"""ONNX Runtime's com.microsoft transformer ops (and the default-domain
SimplifiedLayerNormalization the onnxruntime-genai builder emits), built
here with onnx.helper, compiled by anvilc, run by anvil-run and compared
with ONNX Runtime's CPU kernels on the same inputs.

Every case is one node (or a few) with random inputs from a fixed seed;
the reference is ONNX Runtime (1.32, scripts/requirements-test.txt) with graph optimizations off (so that
it runs the contrib kernel as written, never a fusion of it), never Anvil.

Tolerances: float32 outputs |anvil - ort| <= 1e-5 + 1e-4 |ort| (sums and
exponentials in another order; the tanh-approximated GELU and the
attention softmax included); float16 outputs 2e-3 + 4e-3 |ort|; integers
exactly. NaN or infinity in either side fails. Where ORT leaves part of an
output unspecified (GroupQueryAttention's rows for padding queries, the
present cache past each sequence's length) only the specified part is
compared; the case says which.

Usage: run_microsoft.py --anvilc anvilc --anvil-run anvil-run --work DIR
       [--filter REGEX]
Prints `ok NAME` or `FAIL NAME: why` per case, then
`microsoft: N passed, M failed`; exits nonzero on any failure.
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
F16_RTOL, F16_ATOL = 4e-3, 2e-3
F = TensorProto.FLOAT


def info(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def make(nodes, inputs, outputs, initializers=(), opset=21):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", opset),
        helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    return model


def ms(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, domain="com.microsoft",
                            **attrs)


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- normalization -------------------------------------------------------


def np_skip_sum(x, skip, bias, **_):
    return x.astype(np.float64) + skip + bias


def skip_layer_norm(rng):
    """All four outputs; ORT's CPU kernel leaves mean and inv_std_var
    empty, so those are checked against float64 numpy (mean and
    1/sqrt(var + epsilon) of input + skip + bias over the last axis)."""
    b, s, h = 2, 3, 16
    node = ms("SkipLayerNormalization",
              ["x", "skip", "gamma", "beta", "bias"],
              ["y", "mean", "inv_std", "sum"], epsilon=1e-5)
    model = make([node],
                 [info("x", F, [b, s, h]), info("skip", F, [b, s, h]),
                  info("gamma", F, [h]), info("beta", F, [h]),
                  info("bias", F, [h])],
                 [info("y", F, [b, s, h]), info("mean", F, None),
                  info("inv_std", F, None), info("sum", F, [b, s, h])])
    refs = {
        "mean": lambda **a: np_skip_sum(**a).mean(-1, keepdims=True),
        "inv_std": lambda **a: 1 / np.sqrt(
            np_skip_sum(**a).var(-1, keepdims=True) + 1e-5),
    }
    return model, {"x": randn(rng, b, s, h), "skip": randn(rng, b, s, h),
                   "gamma": randn(rng, h), "beta": randn(rng, h),
                   "bias": randn(rng, h)}, {"numpy": refs}


def skip_layer_norm_broadcast(rng):
    """skip [S, H] broadcast over the batch, no beta or bias, the default
    epsilon, only the first output."""
    b, s, h = 2, 3, 8
    node = ms("SkipLayerNormalization", ["x", "skip", "gamma"], ["y"])
    model = make([node],
                 [info("x", F, [b, s, h]), info("skip", F, [s, h]),
                  info("gamma", F, [h])],
                 [info("y", F, [b, s, h])])
    return model, {"x": randn(rng, b, s, h), "skip": randn(rng, s, h),
                   "gamma": randn(rng, h)}


def skip_simplified_layer_norm(rng):
    b, s, h = 2, 3, 16
    node = ms("SkipSimplifiedLayerNormalization",
              ["x", "skip", "gamma", "bias"],
              ["y", "", "inv_std", "sum"], epsilon=1e-6)
    model = make([node],
                 [info("x", F, [b, s, h]), info("skip", F, [b, s, h]),
                  info("gamma", F, [h]), info("bias", F, [h])],
                 [info("y", F, [b, s, h]), info("inv_std", F, None),
                  info("sum", F, [b, s, h])])
    refs = {"inv_std": lambda **a: 1 / np.sqrt(
        (np_skip_sum(**a) ** 2).mean(-1, keepdims=True) + 1e-6)}
    return model, {"x": randn(rng, b, s, h), "skip": randn(rng, b, s, h),
                   "gamma": randn(rng, h), "bias": randn(rng, h)}, {
                       "numpy": refs}


def simplified_layer_norm_default_domain(rng):
    """The genai builder's SimplifiedLayerNormalization in the default
    domain (onnx.checker refuses it; ORT runs it)."""
    b, s, h = 1, 4, 32
    node = helper.make_node("SimplifiedLayerNormalization", ["x", "gamma"],
                            ["y"], epsilon=1e-6, axis=-1)
    model = make([node], [info("x", F, [b, s, h]), info("gamma", F, [h])],
                 [info("y", F, [b, s, h])])
    return model, {"x": randn(rng, b, s, h), "gamma": randn(rng, h)}


# --- activations ---------------------------------------------------------


def gelus(rng):
    shape = [2, 5, 12]
    nodes = [ms("Gelu", ["x"], ["gelu"]),
             ms("BiasGelu", ["x", "bias"], ["bias_gelu"]),
             ms("FastGelu", ["x"], ["fast_gelu"]),
             ms("FastGelu", ["x", "bias"], ["fast_gelu_bias"]),
             ms("QuickGelu", ["x"], ["quick_gelu"]),
             ms("QuickGelu", ["x"], ["quick_gelu_alpha"], alpha=1.3)]
    outs = ["gelu", "bias_gelu", "fast_gelu", "fast_gelu_bias", "quick_gelu",
            "quick_gelu_alpha"]
    model = make(nodes, [info("x", F, shape), info("bias", F, [12])],
                 [info(o, F, shape) for o in outs])
    return model, {"x": 3 * randn(rng, *shape), "bias": randn(rng, 12)}


# --- rotary embedding ----------------------------------------------------


def rope_caches(rng, max_pos, half):
    angles = rng.uniform(0, 6.3, size=(max_pos, half))
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def rotary(rng, interleaved=0, rank=3, rotary_dim=0, num_heads=2,
           offset_form=False):
    b, s, n, h, max_pos = 2, 5, 2, 16, 32
    half = (rotary_dim or h) // 2
    cos, sin = rope_caches(rng, max_pos, half)
    attrs = {"interleaved": interleaved}
    if rotary_dim:
        attrs["rotary_embedding_dim"] = rotary_dim
    if num_heads:
        attrs["num_heads"] = num_heads
    node = ms("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"], **attrs)
    shape = [b, s, n * h] if rank == 3 else [b, n, s, h]
    if offset_form:
        pos = np.array([7], dtype=np.int64)
    else:
        pos = rng.integers(0, max_pos, size=(b, s)).astype(np.int64)
    model = make([node],
                 [info("x", F, shape), info("pos", TensorProto.INT64,
                                            list(pos.shape)),
                  info("cos", F, [max_pos, half]),
                  info("sin", F, [max_pos, half])],
                 [info("y", F, shape)])
    return model, {"x": randn(rng, *shape), "pos": pos, "cos": cos,
                   "sin": sin}


def rotary_half(rng):
    return rotary(rng)


def rotary_interleaved_4d(rng):
    return rotary(rng, interleaved=1, rank=4, num_heads=0)


def rotary_partial(rng):
    return rotary(rng, rotary_dim=8)


def rotary_offset_no_heads(rng):
    return rotary(rng, num_heads=0, offset_form=True, interleaved=1)


# --- GroupQueryAttention -------------------------------------------------


def resident_rows(tokens, capacity, window):
    """The rows a windowed cache (sliding_window_cache=1) holds after
    `tokens` positions: ORT's operator schema, L(T) = T for T <= C, else
    T - G * ceil((T - C) / G) with G = C - w + 1."""
    slack = capacity - window + 1
    over = np.maximum(tokens - capacity, 0)
    return tokens - slack * ((over + slack - 1) // slack)


def gqa(rng, batch, seq, past, seqlens, heads=4, kv_heads=2, head=8,
        rot_half=0, packed=False, dtype=np.float32, total=None, **attrs):
    """One GroupQueryAttention node as the genai builder emits it (KV cache
    in separate past/present buffers, total_sequence_length = past + seq,
    or `total` when given; with sliding_window_cache, `past` is the
    capacity). ORT leaves unspecified the output rows of padding queries
    (rows s >= Q_b, Q_b = query_seqlens or min(seq, T_b), T_b = seqlens_k
    + 1) and the present rows past T_b (past L(T_b) for a windowed cache):
    those are not compared."""
    et = TensorProto.FLOAT16 if dtype == np.float16 else F
    i32 = TensorProto.INT32
    names = ["q", "" if packed else "k", "" if packed else "v",
             "pk" if past else "", "pv" if past else "", "seqlens", "total"]
    qdim = (heads + 2 * kv_heads) * head if packed else heads * head
    inputs = {"q": rng.standard_normal((batch, seq, qdim)).astype(dtype)}
    if not packed:
        for name in ("k", "v"):
            inputs[name] = rng.standard_normal(
                (batch, seq, kv_heads * head)).astype(dtype)
    if past:
        for name in ("pk", "pv"):
            inputs[name] = rng.standard_normal(
                (batch, kv_heads, past, head)).astype(dtype)
    inputs["seqlens"] = np.array(seqlens, dtype=np.int32)
    inputs["total"] = np.array(past + seq if total is None else total,
                               dtype=np.int32)
    if rot_half:
        names += ["cos", "sin"]
        cos, sin = rope_caches(rng, 64, rot_half)
        inputs["cos"], inputs["sin"] = cos.astype(dtype), sin.astype(dtype)
        attrs["do_rotary"] = 1
    optional = {"position_ids": (9, "pos"), "attention_bias": (10, "ab"),
                "head_sink": (11, "sink"), "query_seqlens": (16, "qlens")}
    for attr, (index, name) in optional.items():
        if attr in attrs:
            names += [""] * (index - len(names)) + [name]
            value = np.asarray(attrs.pop(attr))
            inputs[name] = (value if value.dtype.kind in "iu"
                            else value.astype(dtype))
    while names and not names[-1]:
        names.pop()
    node = ms("GroupQueryAttention", names, ["y", "present_k", "present_v"],
              num_heads=heads, kv_num_heads=kv_heads, **attrs)
    dtypes = {"seqlens": i32, "total": i32, "qlens": i32,
              "pos": TensorProto.INT64}
    graph_inputs = [info(n, dtypes.get(n, et), list(inputs[n].shape))
                    for n in names if n]
    model = make([node], graph_inputs,
                 [info("y", et, [batch, seq, heads * head]),
                  info("present_k", et, None), info("present_v", et, None)])
    lens = np.array(seqlens) + 1
    query_rows = (inputs["qlens"] if "qlens" in inputs
                  else np.minimum(lens, seq))
    rows = np.broadcast_to(
        (np.arange(seq)[None, :] < query_rows[:, None])[:, :, None],
        (batch, seq, heads * head))
    valid = {"y": rows}
    if past:
        if attrs.get("sliding_window_cache"):
            length = past
            held = resident_rows(lens, past, attrs["local_window_size"])
        else:
            length, held = past + seq, lens
        cache_rows = np.broadcast_to(
            (np.arange(length)[None, :] < held[:, None])[:, None, :, None],
            (batch, kv_heads, length, head))
        valid["present_k"] = valid["present_v"] = cache_rows
    return model, inputs, {"valid": valid}


def gqa_prompt_padded(rng):
    """A first prompt of two sequences, the second padded (3 of 5)."""
    return gqa(rng, batch=2, seq=5, past=0, seqlens=[4, 2])


def gqa_decode(rng):
    """One token per sequence after caches of 6 and 3 valid positions (the
    second's new key lands at 3, the cache after it is zero)."""
    return gqa(rng, batch=2, seq=1, past=6, seqlens=[6, 3])


def gqa_chunk(rng):
    """A subsequent prompt of 3 tokens after 6 cached ones."""
    return gqa(rng, batch=1, seq=3, past=6, seqlens=[8])


def gqa_rotary_decode(rng):
    return gqa(rng, batch=2, seq=1, past=6, seqlens=[6, 4], head=16,
               rot_half=8)


def gqa_rotary_interleaved_partial(rng):
    """Interleaved rotation of the first 16 of 32 channels, first prompt."""
    return gqa(rng, batch=2, seq=5, past=0, seqlens=[4, 3], head=32,
               rot_half=8, rotary_interleaved=1)


def gqa_packed(rng):
    return gqa(rng, batch=2, seq=1, past=5, seqlens=[5, 2], packed=True)


def gqa_window_softcap_smooth(rng):
    return gqa(rng, batch=2, seq=1, past=6, seqlens=[6, 5],
               local_window_size=2, softcap=1.5, smooth_softmax=1)


def gqa_window_prompt(rng):
    return gqa(rng, batch=1, seq=6, past=0, seqlens=[5], local_window_size=2)


def gqa_mha_scale(rng):
    """kv_num_heads == num_heads, an explicit scale."""
    return gqa(rng, batch=2, seq=1, past=4, seqlens=[4, 1], kv_heads=4,
               scale=0.3)


def gqa_head_sink(rng):
    return gqa(rng, batch=2, seq=1, past=4, seqlens=[4, 2],
               head_sink=rng.standard_normal(4))


def gqa_window_cache_decode(rng):
    """A windowed cache (sliding_window_cache=1, as the genai builder
    writes Gemma 2's local layers): capacity 5, window 4, one token after 9
    positions (5 resident) and after 3 (3 resident), with rotary."""
    return gqa(rng, batch=2, seq=1, past=5, seqlens=[9, 3], total=10,
               head=16, rot_half=8, local_window_size=4,
               sliding_window_cache=1)


def gqa_window_cache_chunk(rng):
    """Five tokens after five cached (the Gemma 2 trial's shape): the
    window spans past and new rows, two positions are evicted."""
    return gqa(rng, batch=1, seq=5, past=5, seqlens=[9], total=10,
               local_window_size=4, softcap=2.0, sliding_window_cache=1)


def gqa_window_cache_long_step(rng):
    """A step longer than the capacity (7 tokens, capacity 4, window 3)."""
    return gqa(rng, batch=1, seq=7, past=4, seqlens=[12], total=13,
               local_window_size=3, sliding_window_cache=1)


def gqa_window_cache_prompt(rng):
    """A first prompt into an empty windowed cache of capacity 4."""
    return gqa(rng, batch=1, seq=6, past=4, seqlens=[5], total=6,
               local_window_size=4, sliding_window_cache=1)


def gqa_bidirectional(rng):
    """causal=0: every query sees all T_b keys (the second sequence's
    cache ends before the buffer does)."""
    return gqa(rng, batch=2, seq=1, past=4, seqlens=[4, 2], causal=0)


def gqa_bidirectional_prompt(rng):
    """causal=0 in a padded first prompt: each query sees the T_b keys
    after it too."""
    return gqa(rng, batch=2, seq=4, past=0, seqlens=[3, 1], causal=0)


def gqa_query_seqlens(rng):
    """Right-padded chunks (query_seqlens): 2 of 4 rows valid after 6
    cached, 4 of 4 after 2."""
    return gqa(rng, batch=2, seq=4, past=6, seqlens=[7, 5], total=10,
               head=16, rot_half=8,
               query_seqlens=np.array([2, 4], np.int32))


# --- MultiHeadAttention --------------------------------------------------


def mha(rng, batch=2, seq=3, kv_len=4, heads=2, head=8, bias=False,
        padding=None, attn_bias=False, past=0, outputs=("y",), **attrs):
    d = heads * head
    names = ["q", "k", "v", "bias" if bias else "", "kpm" if padding else "",
             "ab" if attn_bias else "", "pk" if past else "",
             "pv" if past else ""]
    while not names[-1]:
        names.pop()
    inputs = {"q": randn(rng, batch, seq, d), "k": randn(rng, batch, kv_len, d),
              "v": randn(rng, batch, kv_len, d)}
    total = past + kv_len
    if bias:
        inputs["bias"] = randn(rng, 3 * d)
    if padding == "2d":
        inputs["kpm"] = (rng.uniform(size=(batch, total)) < 0.7).astype(
            np.int32)
        inputs["kpm"][:, 0] = 1
    elif padding == "1d":
        inputs["kpm"] = rng.integers(1, total + 1, size=batch).astype(np.int32)
    if attn_bias:
        inputs["ab"] = randn(rng, 1, heads, seq, total)
    if past:
        inputs["pk"] = randn(rng, batch, heads, past, head)
        inputs["pv"] = randn(rng, batch, heads, past, head)
    node = ms("MultiHeadAttention", names, list(outputs), num_heads=heads,
              **attrs)
    graph_inputs = [info(n, TensorProto.INT32 if n == "kpm" else F,
                         list(inputs[n].shape)) for n in names if n]
    model = make([node], graph_inputs, [info(o, F, None) for o in outputs])
    return model, inputs


def mha_cross_masks(rng):
    """Cross attention (4 keys for 3 queries) with the packed bias, a 2-D
    key padding mask and an attention bias."""
    return mha(rng, bias=True, padding="2d", attn_bias=True)


def mha_key_lengths(rng):
    return mha(rng, padding="1d", scale=0.2)


def mha_past_causal(rng):
    """Decoder self attention with a cache: present outputs, causal."""
    return mha(rng, seq=3, kv_len=3, past=5, unidirectional=1,
               outputs=("y", "present_k", "present_v"))


def mha_past_causal_padded(rng):
    return mha(rng, seq=2, kv_len=2, past=3, unidirectional=1, padding="2d",
               mask_filter_value=-1000.0,
               outputs=("y", "present_k", "present_v"))



# --- Attention (packed QKV weights) --------------------------------------


def ms_attention(rng, mask=None, past=0, sizes=None, outputs=("y",),
                 **attrs):
    batch, seq, width_in, heads, head = 2, 3, 12, 2, 8
    d = heads * head
    width = sum(sizes) if sizes else 3 * d
    names = ["x", "w", "b", "m" if mask is not None else "",
             "past" if past else ""]
    while not names[-1]:
        names.pop()
    inputs = {"x": randn(rng, batch, seq, width_in),
              "w": randn(rng, width_in, width) / 3,
              "b": randn(rng, width)}
    if mask is not None:
        inputs["m"] = mask
    if past:
        inputs["past"] = randn(rng, 2, batch, heads, past, head)
    if sizes:
        attrs["qkv_hidden_sizes"] = sizes
    node = ms("Attention", names, list(outputs), num_heads=heads, **attrs)
    graph_inputs = [info(n, TensorProto.INT32 if n == "m" else F,
                         list(inputs[n].shape)) for n in names if n]
    model = make([node], graph_inputs, [info(o, F, None) for o in outputs])
    return model, inputs


def ms_attention_mask_2d(rng):
    return ms_attention(rng, mask=np.array([[1, 1, 0], [1, 0, 1]], np.int32))


def ms_attention_mask_lengths(rng):
    return ms_attention(rng, mask=np.array([2, 3], np.int32))


def ms_attention_mask_3d(rng):
    mask = (rng.uniform(size=(2, 3, 3)) < 0.7).astype(np.int32)
    mask[:, :, 0] = 1
    return ms_attention(rng, mask=mask)


def ms_attention_past_causal(rng):
    mask = np.ones((2, 7), np.int32)
    mask[1, :2] = 0
    return ms_attention(rng, mask=mask, past=4, unidirectional=1,
                        outputs=("y", "present"))


def ms_attention_sizes(rng):
    """qkv_hidden_sizes with a wider value head, an explicit scale."""
    return ms_attention(rng, sizes=[16, 16, 24], scale=0.3)



def gqa_position_ids_decode(rng):
    """position_ids (not seqlens_k) give the rotary positions."""
    return gqa(rng, batch=2, seq=1, past=6, seqlens=[6, 3], head=16,
               rot_half=8, position_ids=np.array([[10], [20]], np.int64))


def gqa_position_ids_chunk(rng):
    return gqa(rng, batch=1, seq=3, past=6, seqlens=[8], head=16,
               rot_half=8, position_ids=np.array([[2, 9, 4]], np.int64))


def gqa_position_ids_prompt(rng):
    """In a first prompt ORT reads position_ids[0] as an offset."""
    return gqa(rng, batch=2, seq=5, past=0, seqlens=[4, 2], head=16,
               rot_half=8,
               position_ids=np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]],
                                     np.int64))


def gqa_attention_bias_softcap(rng):
    """attention_bias is added after softcap (ORT's order)."""
    return gqa(rng, batch=2, seq=1, past=5, seqlens=[5, 2], softcap=1.5,
               attention_bias=rng.standard_normal((2, 4, 1, 6)))


def gqa_float16(rng):
    """float16 throughout (ORT computes the scores in float32)."""
    return gqa(rng, batch=2, seq=1, past=6, seqlens=[6, 3], head=16,
               rot_half=8, dtype=np.float16)


def gqa_symbolic(rng):
    """The genai builder's symbolic dims (batch, sequence, past length),
    bound at compile time with --dim."""
    model, inputs, opts = gqa(rng, batch=2, seq=1, past=6, seqlens=[6, 2],
                              head=16, rot_half=8)
    dims = {"q": ["batch", "seq", None], "k": ["batch", "seq", None],
            "v": ["batch", "seq", None], "pk": ["batch", None, "past", None],
            "pv": ["batch", None, "past", None], "seqlens": ["batch"]}
    for value in model.graph.input:
        for d, param in zip(value.type.tensor_type.shape.dim,
                            dims.get(value.name, [])):
            if param:
                d.dim_param = param
    for value in model.graph.output:
        value.type.tensor_type.ClearField("shape")
    opts["anvilc"] = ["--dim=batch=2,seq=1,past=6"]
    return model, inputs, opts

CASES = [skip_layer_norm, skip_layer_norm_broadcast,
         skip_simplified_layer_norm, simplified_layer_norm_default_domain,
         gelus, rotary_half, rotary_interleaved_4d, rotary_partial,
         rotary_offset_no_heads, gqa_prompt_padded, gqa_decode, gqa_chunk,
         gqa_rotary_decode, gqa_rotary_interleaved_partial, gqa_packed,
         gqa_window_softcap_smooth, gqa_window_prompt, gqa_mha_scale,
         gqa_head_sink, gqa_window_cache_decode, gqa_window_cache_chunk,
         gqa_window_cache_long_step, gqa_window_cache_prompt,
         gqa_bidirectional, gqa_bidirectional_prompt, gqa_query_seqlens,
         gqa_position_ids_decode, gqa_position_ids_chunk,
         gqa_position_ids_prompt, gqa_attention_bias_softcap, gqa_float16,
         gqa_symbolic, mha_cross_masks, mha_key_lengths,
         mha_past_causal, mha_past_causal_padded, ms_attention_mask_2d,
         ms_attention_mask_lengths, ms_attention_mask_3d,
         ms_attention_past_causal, ms_attention_sizes]


def check(name, model, inputs, args, opts=None):
    """Compiles and runs `model`; compares every graph output with ORT's.
    opts["valid"] maps an output name to a boolean mask of the elements ORT
    specifies; opts["numpy"] maps an output ORT's CPU kernel leaves empty
    (returns None for) to a float64 numpy reference; opts["anvilc"] lists
    extra anvilc flags."""
    opts = opts or {}
    got, error = e2e_harness.compile_and_run(
        args.anvilc, args.anvil_run, args.work, name, model, inputs,
        anvilc_flags=opts.get("anvilc", ()), error_chars=1500)
    if error:
        return error
    # Graph optimizations off: the contrib kernel as written, never a
    # fusion of it.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    expected = dict(zip(got, session.run(None, inputs)))
    for out, want in expected.items():
        if want is None:
            if out not in opts.get("numpy", {}):
                return f"{out}: ORT gives no value and the case no reference"
            expected[out] = opts["numpy"][out](**inputs).astype(got[out].dtype)
    problems = e2e_harness.compare_outputs(
        got, expected, RTOL, ATOL, f16=(F16_RTOL, F16_ATOL),
        valid=opts.get("valid"))
    return problems[0] if problems else None


def main():
    return e2e_harness.run_cases("microsoft", CASES, check, seed=11,
                                 description=__doc__)


if __name__ == "__main__":
    sys.exit(main())

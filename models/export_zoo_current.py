#!/usr/bin/env python3
"""Export Anvil's second zoo (today's exporters) to models/zoo-current/.

The same tiny architectures as models/zoo (export_zoo.py: Llama, Qwen2,
Mistral, Phi-3, GPT-2, BERT; hidden 64, 2 layers, 4 heads, 2 KV heads, FFN
128, vocabulary 512, seeded random weights, no downloads), exported with the
current toolchain pinned in requirements-current.txt:

  <arch>.onnx             torch.onnx.export(..., dynamo=True): the dynamo
                          exporter (torch.export + onnxscript), with
                          transformers 5's DynamicCache and its own mask
                          construction; named torch.export.Dim for batch,
                          sequence, past and total length.
  llama-dimauto.onnx      the same Llama with Dim.AUTO for every dim (what
                          torch.export infers by itself): dims named s<N>.
  llama-hf.onnx           the same Llama through transformers 5's own ONNX
                          exporter (transformers.exporters.OnnxExporter,
                          dynamic=True): its own I/O names
                          (past_key_values.layers.{i}.keys, cache.layers.*).
  <arch>-genai-<p>.onnx   ONNX Runtime GenAI's model builder
                          (python -m onnxruntime_genai.models.builder -e cpu
                          -p fp32|int4) on the same seeded Qwen2 and Phi-3,
                          saved with save_pretrained: com.microsoft
                          GroupQueryAttention,
                          SkipSimplifiedLayerNormalization, MatMulNBits
                          (int4); weights moved into the .onnx.

Every decoder takes input_ids, attention_mask, [position_ids],
past_key_values.{i}.key/value and returns logits, present.{i}.key/value
(llama-hf: past_key_values.layers.{i}.keys/values in,
cache.layers.{i}.keys/values out; the manifest's cache_io says so).
References (.npz, same key scheme as models/zoo) come from ONNX Runtime;
decoders also store a 32-token greedy continuation.

Run: models/.venv-current/bin/python models/export_zoo_current.py \
         [--only llama,bert]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import common  # noqa: E402

SEED = 0
VOCAB = 512
PROMPT = [1, 17, 42, 7, 99, 3, 250, 11]
# Named dims of the dynamo exports (torch.export.Dim names become ONNX
# dim_params; the exporter writes derived sizes such as present's length as
# the expression "past_sequence_length + sequence_length").
B, S, P, T = ("batch_size", "sequence_length", "past_sequence_length",
              "total_sequence_length")


def versions():
    import importlib.metadata as md
    out = {}
    for p in ("torch", "transformers", "onnxscript", "onnx-ir", "onnx",
              "onnxruntime", "onnxruntime-genai", "numpy", "tokenizers",
              "safetensors"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    return out


def decoder_configs():
    from transformers import (GPT2Config, LlamaConfig, MistralConfig,
                              Phi3Config, Qwen2Config)
    kw = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128,
              num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=128,
              bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    return {
        "llama": (lambda: LlamaConfig(**kw), "LlamaForCausalLM"),
        "qwen2": (lambda: Qwen2Config(**kw, use_sliding_window=False),
                  "Qwen2ForCausalLM"),
        "mistral": (lambda: MistralConfig(**kw, sliding_window=None),
                    "MistralForCausalLM"),
        # original_max_position_embeddings = max_position_embeddings: no
        # LongRoPE (the GenAI builder picks its LongRoPE path otherwise, and
        # fails on a config without rope scaling factors).
        "phi3": (lambda: Phi3Config(**kw, pad_token_id=0,
                                    sliding_window=None,
                                    original_max_position_embeddings=128),
                 "Phi3ForCausalLM"),
        "gpt2": (lambda: GPT2Config(vocab_size=VOCAB, n_embd=64, n_layer=2,
                                    n_head=4, n_positions=128,
                                    bos_token_id=1, eos_token_id=2),
                 "GPT2LMHeadModel"),
    }


def seeded(fn):
    import torch
    torch.manual_seed(SEED)
    return fn()


def make_decoder(arch):
    import transformers
    make_cfg, cls = decoder_configs()[arch]
    cfg = make_cfg()
    model = seeded(lambda: getattr(transformers, cls)(cfg))
    if arch == "qwen2":
        randomize_qkv_bias(model)
    return model.eval()


def randomize_qkv_bias(model):
    """Hugging Face initializes Qwen2's q/k/v biases to zero, and the GenAI
    builder drops all-zero biases; seeded N(0, 0.02^2) biases keep the bias
    path in every export (torch.Generator seeded 1, layer order)."""
    import torch
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for layer in model.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj,
                         layer.self_attn.v_proj):
                proj.bias.copy_(torch.randn(proj.bias.shape, generator=g)
                                * 0.02)


def cache_wrapper(model):
    """A module with a flat signature (input_ids, attention_mask,
    position_ids, past list) that builds a transformers DynamicCache from the
    past tensors, runs the model with it and returns logits and the updated
    cache's keys/values per layer."""
    import torch
    from transformers import DynamicCache

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, position_ids, past):
            cache = DynamicCache([(past[2 * i], past[2 * i + 1])
                                  for i in range(len(past) // 2)],
                                 config=self.m.config)
            out = self.m(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=position_ids, past_key_values=cache,
                         use_cache=True, return_dict=True)
            flat = []
            for layer in out.past_key_values.layers:
                flat += [layer.keys, layer.values]
            return (out.logits, *flat)
    return W(model).eval()


def torch_args(feeds, n_layers):
    import torch
    ins, _ = common.decoder_io_names(n_layers)
    t = {k: torch.from_numpy(v) for k, v in feeds.items()}
    return (t["input_ids"], t["attention_mask"], t["position_ids"],
            [t[n] for n in ins[3:]])


STRIPPED = ("node metadata pkg.torch.onnx.stack_trace removed (it holds "
            "this checkout's absolute paths and line numbers, so it would "
            "make the bytes depend on where and from which revision the zoo "
            "was made); the other node metadata is kept")


def strip_stack_traces(path):
    """Remove the exporter's per-node pkg.torch.onnx.stack_trace metadata
    (absolute file paths and line numbers of the exporting script), in
    place; everything else stays as the exporter wrote it."""
    import onnx
    m = onnx.load(path)

    def graphs(g):
        yield g
        for n in g.node:
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    yield from graphs(a.g)
                for sub in a.graphs:
                    yield from graphs(sub)
    nodes = [n for g in graphs(m.graph) for n in g.node]
    nodes += [n for f in m.functions for n in f.node]
    for n in nodes:
        keep = [p for p in n.metadata_props
                if p.key != "pkg.torch.onnx.stack_trace"]
        del n.metadata_props[:]
        n.metadata_props.extend(keep)
    onnx.save_model(m, path)


def export_dynamo(model, path, dims="named"):
    import torch
    n_layers = common.kv_shape(model.config)[0]
    ins, outs = common.decoder_io_names(n_layers)
    feeds = common.decoder_inputs(model.config, 2, 5, 3, seed=0)
    Dim = torch.export.Dim
    if dims == "named":
        b, s, p, t = Dim(B), Dim(S), Dim(P), Dim(T)
    else:
        b = s = p = t = Dim.AUTO
    dyn = ({0: b, 1: s}, {0: b, 1: t}, {0: b, 1: s},
           [{0: b, 2: p}] * (2 * n_layers))
    with torch.no_grad():
        torch.onnx.export(cache_wrapper(model), torch_args(feeds, n_layers),
                          path, dynamic_shapes=dyn, input_names=ins,
                          output_names=outs, dynamo=True, external_data=False,
                          verbose=False)
    strip_stack_traces(path)
    settings = ("torch.onnx.export(dynamo=True, external_data=False), "
                "default opset and optimize=True; transformers DynamicCache "
                "built from the past inputs; dynamic_shapes: "
                + ("named torch.export.Dim batch_size, sequence_length, "
                   "past_sequence_length, total_sequence_length (mask)"
                   if dims == "named" else "Dim.AUTO for every dim "
                   "(torch.export names them s<N>)") + "; " + STRIPPED)
    return settings


def ort_greedy(sess, prompt, kv, hd, n=common.GREEDY_TOKENS,
               cache_io=("past_key_values.", "present.")):
    """Prefill with an empty past, then one token per step with the cache
    outputs fed back (input <in_prefix>X takes output <out_prefix>X); feeds
    position_ids only if the graph has that input."""
    import numpy as np
    names = {i.name for i in sess.get_inputs()}
    past = {k: np.zeros((1, kv, 0, hd), np.float32) for k in names
            if k.startswith(cache_io[0])}
    outs = [o.name for o in sess.get_outputs()]
    cur, plen, gen = np.asarray([prompt], np.int64), 0, []
    for _ in range(n):
        L = cur.shape[1]
        feeds = {"input_ids": cur,
                 "attention_mask": np.ones((1, plen + L), np.int64)}
        if "position_ids" in names:
            feeds["position_ids"] = np.arange(plen, plen + L,
                                              dtype=np.int64)[None]
        feeds.update(past)
        res = dict(zip(outs, sess.run(None, feeds)))
        nxt = int(np.argmax(res["logits"][0, -1]))
        gen.append(nxt)
        for k in past:
            past[k] = res[cache_io[1] + k[len(cache_io[0]):]]
        plen += L
        cur = np.asarray([[nxt]], np.int64)
    return gen


def torch_logits(model, feeds):
    import torch
    n_layers = common.kv_shape(model.config)[0]
    with torch.no_grad():
        return cache_wrapper(model)(*torch_args(feeds, n_layers))[0].numpy()


def decoder_reference(model, arch, path, zoo, exporter, feeds, tol=1e-3,
                      cache_io=None):
    """ORT reference on feeds (named as in the graph), torch comparison on
    the same values, greedy continuation; returns the manifest entry.
    cache_io: (input prefix, output prefix) of the cache tensors when they
    are not past_key_values.* / present.*; the reference inputs then carry
    the graph's names, mapped back to past_key_values.{i}.key/value (the
    same order) for torch."""
    import numpy as np
    npz, out, sess = common.write_reference(path, feeds, zoo)
    tfeeds = feeds
    if cache_io:
        n_layers = common.kv_shape(model.config)[0]
        std, _ = common.decoder_io_names(n_layers)
        graph = [i.name for i in sess.get_inputs()]
        tfeeds = {a: feeds[b] for a, b in zip(std, graph)}
    err = float(np.max(np.abs(torch_logits(model, tfeeds) - out["logits"])))
    if err > tol:
        raise RuntimeError(f"torch vs ORT logits differ by {err} (> {tol})")
    _, kv, hd = common.kv_shape(model.config)
    gen = ort_greedy(sess, PROMPT, kv, hd,
                     cache_io=cache_io or ("past_key_values.", "present."))
    try:
        tg = common.torch_greedy(model, PROMPT)
    except Exception as ex:  # generate() is only a cross-check
        tg = f"{type(ex).__name__}: {ex}"
    add_greedy_reference(npz, PROMPT, gen)
    e = common.entry_for(path, zoo, arch, model.config, exporter, "decoder",
                         npz, {"hf_class": type(model).__name__,
                               "greedy": {"prompt_ids": PROMPT,
                                          "continuation_ids": gen,
                                          "tokens": common.GREEDY_TOKENS,
                                          "matches_torch_generate": gen == tg,
                                          "method": "onnxruntime loop, past "
                                                    "fed back"},
                               "torch_vs_ort_max_abs_logit_diff": err})
    e["reference"]["runtime"] = "onnxruntime " + versions()["onnxruntime"]
    if cache_io:
        e["cache_io"] = {"input_prefix": cache_io[0],
                         "output_prefix": cache_io[1]}
    return e


def export_decoder(arch, zoo, dims="named", name=None):
    model = make_decoder(arch)
    path = os.path.join(zoo, f"{name or arch}.onnx")
    settings = export_dynamo(model, path, dims)
    v = versions()
    exporter = {"name": "torch.onnx.export(dynamo=True)",
                "version": v["torch"], "torch": v["torch"],
                "transformers": v["transformers"],
                "onnxscript": v.get("onnxscript"),
                "settings": settings}
    feeds = common.decoder_inputs(model.config, 2, 5, 3, seed=1)
    return decoder_reference(model, arch, path, zoo, exporter, feeds)


def export_hf(arch, zoo):
    """transformers 5's own ONNX exporter (transformers.exporters
    OnnxExporter, OnnxConfig(dynamic=True): torch.onnx.export on a
    torch.export program with Dim.AUTO everywhere) on the seeded model with
    a DynamicCache in its sample inputs; its I/O names are its own
    (past_key_values.layers.{i}.keys/values in, cache.layers.{i}.keys/values
    out).  Its external data is folded into the one .onnx."""
    import onnx
    import torch
    from transformers import DynamicCache
    from transformers.exporters.exporter_onnx import OnnxConfig, OnnxExporter
    model = make_decoder(arch)
    n_layers = common.kv_shape(model.config)[0]
    feeds = common.decoder_inputs(model.config, 2, 5, 3, seed=0)
    t = {k: torch.from_numpy(v) for k, v in feeds.items()}
    cache = DynamicCache([(t[f"past_key_values.{i}.key"],
                           t[f"past_key_values.{i}.value"])
                          for i in range(n_layers)], config=model.config)
    inputs = {"input_ids": t["input_ids"],
              "attention_mask": t["attention_mask"],
              "position_ids": t["position_ids"], "past_key_values": cache}
    tmp = tempfile.mkdtemp(prefix=f"anvil-hf-{arch}-")
    try:
        exported = OnnxExporter().export(model, inputs,
                                         config=OnnxConfig(dynamic=True))
        exported.save_pretrained(tmp)
        m = onnx.load(os.path.join(tmp, "model.onnx"))
        path = os.path.join(zoo, f"{arch}-hf.onnx")
        onnx.save_model(m, path)
        strip_stack_traces(path)
        with open(os.path.join(tmp, "export.json")) as f:
            export_json = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    model = make_decoder(arch)   # a fresh copy: the export patched it
    v = versions()
    exporter = {"name": "transformers.exporters.OnnxExporter",
                "version": v["transformers"], "torch": v["torch"],
                "transformers": v["transformers"],
                "onnxscript": v.get("onnxscript"),
                "settings": "OnnxExporter().export(model, inputs, "
                            "config=OnnxConfig(dynamic=True)) with a "
                            "DynamicCache in the sample inputs; default "
                            "opset and optimize=True; model.onnx.data folded "
                            "into the .onnx with onnx.save_model; "
                            + STRIPPED}
    feeds = common.decoder_inputs(model.config, 2, 5, 3, seed=1)
    names = [i.name for i in common.ort_session(path).get_inputs()]
    std, _ = common.decoder_io_names(n_layers)
    if len(names) != len(std):
        raise RuntimeError(f"unexpected inputs {names}")
    feeds = {g: feeds[s] for g, s in zip(names, std)}
    e = decoder_reference(model, arch, path, zoo, exporter, feeds,
                          cache_io=("past_key_values.", "cache."))
    e["hf_export_json"] = export_json
    return e


def save_tiny_tokenizer(folder):
    """The builder loads a tokenizer with AutoTokenizer (and copies it into
    its output); nothing can be downloaded, so write a word-level one over
    the model's 512 ids: <unk>, <s>, </s>, then t3 .. t511."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    vocab.update({f"t{i}": i for i in range(3, VOCAB)})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>",
                            bos_token="<s>", eos_token="</s>",
                            pad_token="<unk>").save_pretrained(folder)


def add_greedy_reference(npz, prompt, continuation):
    """Adds the greedy:prompt_ids and greedy:continuation_ids arrays
    ([1, n] int64) to the reference archive `npz`."""
    import numpy as np
    arrays = dict(np.load(npz))
    arrays["greedy:prompt_ids"] = np.asarray([prompt], np.int64)
    arrays["greedy:continuation_ids"] = np.asarray([continuation], np.int64)
    common.save_npz(npz, arrays)


def export_genai(arch, precision, zoo):
    """save_pretrained the seeded model, run ONNX Runtime GenAI's model
    builder on it (CPU, fp32 or int4), keep model.onnx with its external
    data folded in (the graph is untouched)."""
    import numpy as np
    import onnx
    model = make_decoder(arch)
    tmp = tempfile.mkdtemp(prefix=f"anvil-genai-{arch}-")
    try:
        src = os.path.join(tmp, "hf")
        model.save_pretrained(src)
        save_tiny_tokenizer(src)
        out = os.path.join(tmp, "onnx")
        cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder",
               "-i", src, "-o", out, "-p", precision, "-e", "cpu",
               "-c", os.path.join(tmp, "cache")]
        # The builder stamps producer_version with `git rev-parse HEAD` run
        # in a folder above its package, which inside this venv is Anvil's
        # checkout; GIT_DIR to nowhere makes it use its own wheel's commit.
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp,
                             env=dict(os.environ, HF_HUB_OFFLINE="1",
                                      GIT_DIR=os.path.join(tmp, "no-git")))
        if run.returncode != 0:
            raise RuntimeError("builder failed:\n" + run.stdout[-2000:]
                               + run.stderr[-4000:])
        produced = os.path.join(out, "model.onnx")
        m = onnx.load(produced)   # reads model.onnx.data
        for t in m.graph.initializer:
            if t.data_location == onnx.TensorProto.EXTERNAL:
                raise RuntimeError("external data not folded in")
        path = os.path.join(zoo, f"{arch}-genai-{precision}.onnx")
        onnx.save_model(m, path)
        with open(os.path.join(out, "genai_config.json")) as f:
            genai_config = json.load(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    v = versions()
    exporter = {"name": "onnxruntime_genai.models.builder",
                "version": v["onnxruntime-genai"],
                "torch": v["torch"], "transformers": v["transformers"],
                "settings": f"python -m onnxruntime_genai.models.builder -i "
                            f"<save_pretrained folder> -o <out> -p "
                            f"{precision} -e cpu; model.onnx.data folded "
                            f"into the .onnx with onnx.save_model (graph "
                            f"unchanged)"}
    # GroupQueryAttention derives each row's length from the mask
    # (seqlens_k = sum(mask) - 1), i.e. right padding, and refuses batch > 1
    # when a prompt (sequence > 1) follows a past: the reference is batch 1,
    # sequence 5, past 3, all-ones mask.
    feeds = common.decoder_inputs(model.config, 1, 5, 3, seed=1)
    feeds["attention_mask"][:] = 1
    del feeds["position_ids"]
    sess_inputs = [i.name for i in common.ort_session(path).get_inputs()]
    if set(sess_inputs) != set(feeds):
        raise RuntimeError(f"unexpected inputs {sess_inputs}")
    feeds = {k: feeds[k] for k in sess_inputs}
    tfeeds = dict(feeds)
    tfeeds["position_ids"] = np.broadcast_to(
        np.arange(3, 8, dtype=np.int64), (1, 5)).copy()
    import torch
    n_layers = common.kv_shape(model.config)[0]
    with torch.no_grad():
        ref = cache_wrapper(model)(*torch_args(tfeeds, n_layers))[0].numpy()
    # The builder sets MatMulNBits accuracy_level 4 for int4 on CPU: ONNX
    # Runtime then quantizes the activations to int8 per block, an
    # approximation of the graph's float semantics (4e-3 off on these
    # logits). The reference runs a copy with accuracy_level 0, where ORT
    # dequantizes the weights and multiplies in float32 as the spec reads.
    ref_path, ref_dir = path, None
    if precision == "int4":
        ref_dir = tempfile.mkdtemp(prefix="anvil-genai-ref-")
        ref_path = os.path.join(ref_dir, os.path.basename(path))
        onnx.save_model(common.float_matmulnbits(onnx.load(path)), ref_path)
    try:
        npz, out_, sess = common.write_reference(ref_path, feeds, zoo)
    finally:
        if ref_dir:
            shutil.rmtree(ref_dir, ignore_errors=True)
    err = float(np.max(np.abs(ref - out_["logits"])))
    # int4 weights change the logits by far more than rounding
    tol = 1e-3 if precision == "fp32" else 1.0
    if err > tol:
        raise RuntimeError(f"torch vs ORT logits differ by {err} (> {tol})")
    _, kv, hd = common.kv_shape(model.config)
    gen = ort_greedy(sess, PROMPT, kv, hd)
    add_greedy_reference(npz, PROMPT, gen)
    e = common.entry_for(path, zoo, arch, model.config, exporter, "decoder",
                         npz, {"hf_class": type(model).__name__,
                               "greedy": {"prompt_ids": PROMPT,
                                          "continuation_ids": gen,
                                          "tokens": common.GREEDY_TOKENS,
                                          "method": "onnxruntime loop, past "
                                                    "fed back, no "
                                                    "position_ids"},
                               "torch_vs_ort_max_abs_logit_diff": err,
                               "genai_config": genai_config,
                               "checker": "skip: SimplifiedLayerNormalization"
                                          " in the default domain (an "
                                          "onnxruntime contrib op the builder"
                                          " writes without a domain), which "
                                          "onnx.checker rejects"})
    e["reference"]["runtime"] = "onnxruntime " + v["onnxruntime"]
    if precision == "int4":
        e["reference"]["settings"] = ("MatMulNBits accuracy_level set to 0 "
                                      "in the reference run (float32 "
                                      "products; the model keeps 4)")
    return e


def export_bert(zoo):
    import numpy as np
    import torch
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=128,
                     max_position_embeddings=128, type_vocab_size=2)
    model = seeded(lambda: BertModel(cfg)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    rng = np.random.default_rng(1)
    feeds = {"input_ids": rng.integers(0, VOCAB, (2, 7), dtype=np.int64),
             "attention_mask": np.ones((2, 7), np.int64),
             "token_type_ids": np.zeros((2, 7), np.int64)}
    feeds["attention_mask"][1, 5:] = 0          # right padding in row 1
    feeds["token_type_ids"][:, 4:] = 1

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            o = self.m(input_ids=input_ids, attention_mask=attention_mask,
                       token_type_ids=token_type_ids, return_dict=True)
            return o.last_hidden_state, o.pooler_output
    path = os.path.join(zoo, "bert.onnx")
    ex = tuple(torch.from_numpy(feeds[n]) for n in names)
    b, s = torch.export.Dim(B), torch.export.Dim(S)
    wrapped = W(model).eval()
    with torch.no_grad():
        ref = wrapped(*ex)
        torch.onnx.export(wrapped, ex, path, input_names=names,
                          output_names=["last_hidden_state", "pooler_output"],
                          dynamic_shapes=tuple({0: b, 1: s} for _ in names),
                          dynamo=True, external_data=False)
    strip_stack_traces(path)
    npz, out, _ = common.write_reference(path, feeds, zoo)
    err = float(np.max(np.abs(ref[0].numpy() - out["last_hidden_state"])))
    assert err < 1e-3, err
    v = versions()
    e = common.entry_for(
        path, zoo, "bert", cfg,
        {"name": "torch.onnx.export(dynamo=True)", "version": v["torch"],
         "torch": v["torch"], "transformers": v["transformers"],
         "onnxscript": v.get("onnxscript"),
         "settings": "torch.onnx.export(dynamo=True, external_data=False), "
                     "default opset and optimize=True; dynamic_shapes: named "
                     "torch.export.Dim batch_size, sequence_length; "
                     + STRIPPED},
        "encoder", npz, {"hf_class": "BertModel",
                         "torch_vs_ort_max_abs_diff": err})
    e["reference"]["runtime"] = "onnxruntime " + v["onnxruntime"]
    return e


def dim_names(entry):
    names = set()
    for io in entry["inputs"] + entry["outputs"]:
        for d in io["shape"]:
            if isinstance(d, str):
                names.add(d)
    return sorted(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "zoo-current"))
    ap.add_argument("--only", default=None,
                    help="comma-separated subset (manifest keeps the others)")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    zoo = args.out
    os.makedirs(zoo, exist_ok=True)
    jobs = []
    for arch in decoder_configs():
        jobs.append((arch, lambda a=arch: export_decoder(a, zoo)))
    jobs.append(("llama-dimauto",
                 lambda: export_decoder("llama", zoo, "auto",
                                        "llama-dimauto")))
    jobs.append(("llama-hf", lambda: export_hf("llama", zoo)))
    jobs.append(("bert", lambda: export_bert(zoo)))
    for arch in ("qwen2", "phi3"):
        for prec in ("fp32", "int4"):
            jobs.append((f"{arch}-genai-{prec}",
                         lambda a=arch, p=prec: export_genai(a, p, zoo)))
    only = set(args.only.split(",")) if args.only else None

    mpath = os.path.join(zoo, "manifest.json")
    old = {}
    if only and os.path.exists(mpath):
        with open(mpath) as f:
            old = {os.path.splitext(e["file"])[0]: e
                   for e in json.load(f)["models"]}
    entries, failures = [], {}
    for name, fn in jobs:
        if only and name not in only:
            if name in old:
                entries.append(old[name])
            continue
        print(f"== {name}", flush=True)
        try:
            e = fn()
            e["dim_names"] = dim_names(e)
            entries.append(e)
            print(f"   {e['file']}: {e['bytes']} bytes, opset {e['opset']}, "
                  f"dims {e['dim_names']}", flush=True)
        except Exception as ex:
            traceback.print_exc()
            failures[name] = f"{type(ex).__name__}: {ex}"
            for suffix in (".onnx", ".npz"):
                p = os.path.join(zoo, name + suffix)
                if os.path.exists(p):
                    os.remove(p)
    manifest = {
        "description": "Anvil's second zoo: the tiny models of models/zoo "
                       "exported with today's exporters (torch dynamo, "
                       "ONNX Runtime GenAI builder); see models/README.md",
        "seed": SEED,
        "regenerate": "models/regenerate.sh current",
        "versions": versions(),
        "reference_key_scheme": "input:<name> and output:<name> arrays in "
                                "<model>.npz; decoders also "
                                "greedy:prompt_ids and "
                                "greedy:continuation_ids",
        "models": entries,
    }
    if failures:
        manifest["failed_exports"] = failures
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {mpath}: {len(entries)} models, {len(failures)} failed")
    if failures:
        print("failed:", ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

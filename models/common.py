"""Shared helpers for Anvil's model scripts: ONNX export in the Optimum
style, ONNX Runtime references, and manifest entries.

Reference `.npz` key scheme (one file beside each model):
  input:<name>    the seeded input fed to ONNX Runtime
  output:<name>   what ONNX Runtime returned for it
Decoders additionally store
  greedy:prompt_ids        int64[1, P]  the fixed prompt
  greedy:continuation_ids  int64[1, 32] the greedy continuation, computed by a
                           plain ONNX Runtime loop that feeds present.* back
                           as past_key_values.*
"""

import hashlib
import os
import shutil

OPSET = 17
GREEDY_TOKENS = 32
RTOL, ATOL = 1e-4, 1e-5

# Optimum's names for the symbolic dimensions.
B, S, P, T = ("batch_size", "sequence_length", "past_sequence_length",
              "past_sequence_length + sequence_length")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def versions():
    import importlib.metadata as md
    out = {}
    for p in ("torch", "torchvision", "transformers", "optimum", "onnx",
              "onnxruntime", "numpy", "tokenizers"):
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    return out


def kv_shape(config):
    """(num_layers, kv_heads, head_dim) of a HF decoder config."""
    n_layers = getattr(config, "num_hidden_layers", None) or config.n_layer
    n_heads = getattr(config, "num_attention_heads", None) or config.n_head
    kv = getattr(config, "num_key_value_heads", None) or n_heads
    hidden = getattr(config, "hidden_size", None) or config.n_embd
    head_dim = getattr(config, "head_dim", None) or hidden // n_heads
    return n_layers, kv, head_dim


def decoder_io_names(n_layers):
    ins = ["input_ids", "attention_mask", "position_ids"]
    outs = ["logits"]
    for i in range(n_layers):
        ins += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outs += [f"present.{i}.key", f"present.{i}.value"]
    return ins, outs


def decoder_dynamic_axes(n_layers):
    ax = {"input_ids": {0: B, 1: S}, "attention_mask": {0: B, 1: T},
          "position_ids": {0: B, 1: S}, "logits": {0: B, 1: S}}
    for i in range(n_layers):
        ax[f"past_key_values.{i}.key"] = {0: B, 2: P}
        ax[f"past_key_values.{i}.value"] = {0: B, 2: P}
        ax[f"present.{i}.key"] = {0: B, 2: T}
        ax[f"present.{i}.value"] = {0: B, 2: T}
    return ax


def decoder_inputs(config, batch, seq, past, seed, vocab=None):
    """Seeded numpy inputs: random ids, a left-padded mask for batch>1 (first
    row has one padding position in the past), positions from the mask as
    Optimum/transformers compute them, random past K/V."""
    import numpy as np
    rng = np.random.default_rng(seed)
    n_layers, kv, hd = kv_shape(config)
    vocab = vocab or config.vocab_size
    feeds = {"input_ids": rng.integers(0, vocab, (batch, seq), dtype=np.int64)}
    mask = np.ones((batch, past + seq), dtype=np.int64)
    if batch > 1 and past > 0:
        mask[0, 0] = 0
    feeds["attention_mask"] = mask
    pos = np.cumsum(mask, axis=1) - 1
    pos[mask == 0] = 1
    feeds["position_ids"] = pos[:, past:].astype(np.int64)
    for i in range(n_layers):
        for kvn in ("key", "value"):
            feeds[f"past_key_values.{i}.{kvn}"] = rng.standard_normal(
                (batch, kv, past, hd)).astype(np.float32)
    return feeds


class DecoderWrapper:
    """Flattens a HF *ForCausalLM into the Optimum calling convention."""

    def __new__(cls, model):
        import torch

        class _W(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m
                self.n = kv_shape(m.config)[0]

            def forward(self, input_ids, attention_mask, position_ids, *past):
                pkv = tuple((past[2 * i], past[2 * i + 1])
                            for i in range(self.n))
                out = self.m(input_ids=input_ids,
                             attention_mask=attention_mask,
                             position_ids=position_ids, past_key_values=pkv,
                             use_cache=True, return_dict=True)
                pk = out.past_key_values
                if hasattr(pk, "to_legacy_cache"):
                    pk = pk.to_legacy_cache()
                flat = []
                for k, v in pk:
                    flat += [k, v]
                return (out.logits, *flat)
        return _W(model)


def export_decoder_torch(model, path, opset=OPSET, external_data=None):
    """torch.onnx.export (TorchScript exporter, dynamo=False) of a HF causal
    LM with Optimum's input/output names and dynamic axes."""
    import torch
    n_layers = kv_shape(model.config)[0]
    ins, outs = decoder_io_names(n_layers)
    feeds = decoder_inputs(model.config, 2, 5, 3, seed=0)
    args = tuple(torch.from_numpy(feeds[n]) for n in ins)
    w = DecoderWrapper(model).eval()
    tmpdir = None
    tmp = path
    if external_data is not None:
        # Over 2 GB, torch writes one file per tensor beside its output:
        # keep those in a scratch folder, then gather them into one file.
        tmpdir = os.path.join(os.path.dirname(os.path.abspath(path)),
                              ".export-tmp")
        shutil.rmtree(tmpdir, ignore_errors=True)
        os.makedirs(tmpdir)
        tmp = os.path.join(tmpdir, "model.onnx")
    try:
        with torch.no_grad():
            torch.onnx.export(w, args, tmp, input_names=ins,
                              output_names=outs,
                              dynamic_axes=decoder_dynamic_axes(n_layers),
                              opset_version=opset, do_constant_folding=True,
                              dynamo=False)
        fix_symbolic_dims(tmp, decoder_dynamic_axes(n_layers), external_data,
                          path)
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def fix_symbolic_dims(src, axes, external_data=None, dst=None):
    """Give every named input/output the symbolic dims in `axes` (the
    TorchScript exporter invents names for outputs it cannot trace).  With
    external_data, move every initializer of 1 KiB or more into that one
    file beside dst (64-byte aligned), streaming tensor by tensor so the
    weights are never held twice in memory."""
    import onnx
    m = onnx.load(src, load_external_data=False)
    for vi in list(m.graph.input) + list(m.graph.output):
        if vi.name in axes:
            dims = vi.type.tensor_type.shape.dim
            for ax, name in axes[vi.name].items():
                dims[ax].ClearField("dim_value")
                dims[ax].dim_param = name
    dst = dst or src
    if external_data is None:
        onnx.save_model(m, dst)
        return
    src_dir = os.path.dirname(os.path.abspath(src))
    data_path = os.path.join(os.path.dirname(os.path.abspath(dst)),
                             external_data)
    with open(data_path, "wb") as out:
        for t in m.graph.initializer:
            if t.data_location == onnx.TensorProto.EXTERNAL:
                info = {e.key: e.value for e in t.external_data}
                with open(os.path.join(src_dir, info["location"]), "rb") as f:
                    f.seek(int(info.get("offset", 0)))
                    n = info.get("length")
                    raw = f.read(int(n)) if n else f.read()
            elif t.HasField("raw_data") and len(t.raw_data) >= 1024:
                raw = t.raw_data
            else:
                continue
            pad = (-out.tell()) % 64
            out.write(b"\0" * pad)
            off = out.tell()
            out.write(raw)
            t.ClearField("raw_data")
            del t.external_data[:]
            for k, v in (("location", external_data), ("offset", str(off)),
                         ("length", str(len(raw)))):
                e = t.external_data.add()
                e.key, e.value = k, v
            t.data_location = onnx.TensorProto.EXTERNAL
            del raw
    onnx.save_model(m, dst)


def io_signature(path):
    import onnx
    m = onnx.load(path, load_external_data=False)
    init = {i.name for i in m.graph.initializer}

    def sig(vi):
        t = vi.type.tensor_type
        return {"name": vi.name,
                "dtype": onnx.helper.tensor_dtype_to_np_dtype(
                    t.elem_type).name,
                "shape": [d.dim_param if d.dim_param else
                          (d.dim_value if d.HasField("dim_value") else None)
                          for d in t.shape.dim]}
    opset = max((o.version for o in m.opset_import
                 if o.domain in ("", "ai.onnx")), default=None)
    return ([sig(v) for v in m.graph.input if v.name not in init],
            [sig(v) for v in m.graph.output], opset,
            {"ir_version": m.ir_version, "producer": m.producer_name,
             "producer_version": m.producer_version,
             "num_nodes": len(m.graph.node)})


def float_matmulnbits(model):
    """Sets accuracy_level 0 on every com.microsoft MatMulNBits node of the
    ModelProto `model` (in place) and returns it: ONNX Runtime then
    dequantizes the weights and multiplies in float32, the op's float
    semantics, instead of quantizing the activations to int8 per block
    (the GenAI builder's level 4). The zoo's int4 references are made so."""
    for node in model.graph.node:
        if node.op_type == "MatMulNBits":
            for a in node.attribute:
                if a.name == "accuracy_level":
                    a.i = 0
    return model


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_greedy(sess, config, prompt_ids, n=GREEDY_TOKENS):
    """Plain ORT loop: prefill the prompt with empty past, then feed one
    token at a time with present.* as past_key_values.*."""
    import numpy as np
    n_layers, kv, hd = kv_shape(config)
    ids = np.asarray([prompt_ids], dtype=np.int64)
    past = {}
    for i in range(n_layers):
        for k in ("key", "value"):
            past[f"past_key_values.{i}.{k}"] = np.zeros((1, kv, 0, hd),
                                                        np.float32)
    out_names = [o.name for o in sess.get_outputs()]
    cur, plen, gen = ids, 0, []
    for _ in range(n):
        L = cur.shape[1]
        feeds = {"input_ids": cur,
                 "attention_mask": np.ones((1, plen + L), np.int64),
                 "position_ids": np.arange(plen, plen + L,
                                           dtype=np.int64)[None]}
        feeds.update(past)
        res = dict(zip(out_names, sess.run(None, feeds)))
        nxt = int(np.argmax(res["logits"][0, -1]))
        gen.append(nxt)
        for i in range(n_layers):
            for k in ("key", "value"):
                past[f"past_key_values.{i}.{k}"] = res[f"present.{i}.{k}"]
        plen += L
        cur = np.asarray([[nxt]], np.int64)
    return gen


def torch_greedy(model, prompt_ids, n=GREEDY_TOKENS):
    import torch
    ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids),
                             max_new_tokens=n, min_new_tokens=n,
                             do_sample=False, pad_token_id=0,
                             eos_token_id=None)
    return out[0, len(prompt_ids):].tolist()


def save_npz(path, arrays):
    """np.savez_compressed with fixed zip timestamps and sorted keys, so the
    same arrays always give the same bytes (and the same sha256)."""
    import io
    import zipfile
    import numpy as np
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[k]),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, buf.getvalue())


def write_reference(onnx_path, feeds, outdir, extra=None):
    """Run ORT on feeds; save input:/output: arrays (and extra) to .npz."""
    import numpy as np
    sess = ort_session(onnx_path)
    names = [o.name for o in sess.get_outputs()]
    res = sess.run(None, feeds)
    arrays = {f"input:{k}": v for k, v in feeds.items()}
    arrays.update({f"output:{k}": v for k, v in zip(names, res)})
    if extra:
        arrays.update(extra)
    base = os.path.splitext(os.path.basename(onnx_path))[0]
    npz = os.path.join(outdir, base + ".npz")
    save_npz(npz, arrays)
    return npz, dict(zip(names, res)), sess


def entry_for(onnx_path, outdir, arch, config, exporter, kind, npz,
              extra=None):
    ins, outs, opset, meta = io_signature(onnx_path)
    e = {"file": os.path.basename(onnx_path), "architecture": arch,
         "kind": kind,
         "config": config.to_diff_dict() if hasattr(config, "to_diff_dict")
         else config,
         "exporter": exporter, "opset": opset, "onnx": meta,
         "inputs": ins, "outputs": outs,
         "sha256": sha256_file(onnx_path),
         "bytes": os.path.getsize(onnx_path),
         "reference": {"file": os.path.basename(npz),
                       "sha256": sha256_file(npz), "rtol": RTOL, "atol": ATOL,
                       "runtime": "onnxruntime " + versions()["onnxruntime"],
                       "keys": "input:<name>, output:<name>"
                               + (", greedy:prompt_ids, "
                                  "greedy:continuation_ids"
                                  if kind == "decoder" else "")}}
    if extra:
        e.update(extra)
    return e


def check_against_torch(model, feeds, ort_out, names, tol=1e-3):
    """Sanity check: torch and ORT agree on the reference input."""
    import numpy as np
    import torch
    w = DecoderWrapper(model).eval()
    with torch.no_grad():
        t = w(*[torch.from_numpy(feeds[n]) for n in names])
    err = float(np.max(np.abs(t[0].numpy() - ort_out["logits"])))
    if err > tol:
        raise RuntimeError(f"torch vs ORT logits differ by {err}")
    return err


def export_and_reference(model, arch, onnx_path, outdir, kind="decoder",
                         prompt_ids=None, exporter="torch.onnx",
                         export=True):
    """Export (unless export=False: already written, e.g. by Optimum),
    compute the ORT reference and greedy continuation, return a manifest
    entry."""
    import numpy as np
    import torch
    v = versions()
    if export:
        export_decoder_torch(model, onnx_path)
    n_layers = kv_shape(model.config)[0]
    ins, _ = decoder_io_names(n_layers)
    feeds = decoder_inputs(model.config, 2, 5, 3, seed=1)
    npz, out, sess = write_reference(onnx_path, feeds, outdir)
    err = check_against_torch(model, feeds, out, ins)
    prompt = list(prompt_ids or [1, 17, 42, 7, 99, 3, 250, 11])
    gen = ort_greedy(sess, model.config, prompt)
    tg = torch_greedy(model, prompt)
    arrays = dict(np.load(npz))
    arrays["greedy:prompt_ids"] = np.asarray([prompt], np.int64)
    arrays["greedy:continuation_ids"] = np.asarray([gen], np.int64)
    save_npz(npz, arrays)
    exp = {"name": exporter, "version": v["torch"] if exporter == "torch.onnx"
           else v.get("optimum"),
           "torch": v["torch"], "transformers": v.get("transformers")}
    if exporter == "torch.onnx":
        exp["settings"] = "TorchScript exporter (dynamo=False), " \
                          "do_constant_folding=True, legacy tuple KV cache"
    return entry_for(onnx_path, outdir, arch, model.config, exp, kind, npz,
                     {"hf_class": type(model).__name__,
                      "greedy": {"prompt_ids": prompt,
                                 "continuation_ids": gen,
                                 "tokens": GREEDY_TOKENS,
                                 "matches_torch_generate": gen == tg,
                                 "method": "onnxruntime loop, past fed back"},
                      "torch_vs_ort_max_abs_logit_diff": err})

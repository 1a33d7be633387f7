#!/usr/bin/env python3
"""Write a benchmark-size Llama decoder with seeded random weights.

Output folder (never committed; models/bench/ is gitignored):
  model.onnx         the decoder, exported exactly like the zoo decoders
                     (torch.onnx, Optimum's input/output names and dynamic axes)
  model.onnx_data    its weights as ONNX external data (one file)
  model.safetensors  the identical weights for Hugging Face / other runtimes
  config.json        the Hugging Face LlamaConfig (plus generation_config.json)
  bench_manifest.json  sizes, seed, versions, sha256 of every file

Sizes (untied embeddings, vocab 32000, RoPE theta 10000):
  250m  dim 1024, 16 layers, 16 heads, 4 KV heads, FFN 2816   (~246M params)
  1b    dim 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632   (~1.10B params,
        TinyLlama-1.1B's shape)
  tiny  dim 128, 2 layers, 4 heads, 2 KV heads, FFN 352, vocab 1024 (a smoke
        test of this script)
Any field can be overridden, e.g. --layers 4 --vocab 8000.

Weights: every matrix ~ N(0, 0.02^2) and every norm weight = 1, filled in
parameter-name order from one torch.Generator seeded with --seed.

Example:
  models/.venv/bin/python models/make_bench_decoder.py --size 250m \\
      --out models/bench/llama-250m
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import common  # noqa: E402

SIZES = {
    "250m": dict(dim=1024, layers=16, heads=16, kv_heads=4, ffn=2816,
                 vocab=32000),
    # TinyLlama-1.1B's shape.
    "1b": dict(dim=2048, layers=22, heads=32, kv_heads=4, ffn=5632,
               vocab=32000),
    "tiny": dict(dim=128, layers=2, heads=4, kv_heads=2, ffn=352, vocab=1024),
}


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="250m")
    ap.add_argument("--out", default=None,
                    help="output folder (default models/bench/llama-SIZE)")
    for k in ("dim", "layers", "heads", "kv_heads", "ffn", "vocab"):
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=None)
    ap.add_argument("--max-positions", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.02)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--verify", action="store_true",
                    help="also compare ONNX Runtime with torch on one input")
    args = ap.parse_args()

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from transformers.modeling_utils import no_init_weights
    torch.set_num_threads(args.threads)

    s = dict(SIZES[args.size])
    for k in s:
        if getattr(args, k) is not None:
            s[k] = getattr(args, k)
    out = args.out or os.path.join(HERE, "bench", f"llama-{args.size}")
    os.makedirs(out, exist_ok=True)
    cfg = LlamaConfig(
        vocab_size=s["vocab"], hidden_size=s["dim"],
        intermediate_size=s["ffn"], num_hidden_layers=s["layers"],
        num_attention_heads=s["heads"], num_key_value_heads=s["kv_heads"],
        max_position_embeddings=args.max_positions, rms_norm_eps=1e-5,
        rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1,
        eos_token_id=2, hidden_act="silu", torch_dtype="float32")
    cfg._attn_implementation = "sdpa"
    t0 = time.time()
    with no_init_weights():
        model = LlamaForCausalLM(cfg)
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() >= 2:
                p.normal_(0.0, args.std, generator=gen)
            else:
                p.fill_(1.0)    # RMSNorm weights
    model.eval()
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{nparams/1e6:.1f}M params, init {time.time()-t0:.0f}s", flush=True)

    t0 = time.time()
    model.save_pretrained(out, safe_serialization=True,
                          max_shard_size="100GB")
    print(f"safetensors {time.time()-t0:.0f}s", flush=True)
    t0 = time.time()
    onnx_path = os.path.join(out, "model.onnx")
    common.export_decoder_torch(model, onnx_path,
                                external_data="model.onnx_data")
    print(f"onnx export {time.time()-t0:.0f}s", flush=True)

    info = {"size": args.size, "dims": s, "params": nparams,
            "seed": args.seed, "init": f"N(0, {args.std}^2) matrices in "
            "sorted parameter-name order from torch.Generator(seed); norm "
            "weights 1", "versions": common.versions(), "files": {}}
    if args.verify:
        import numpy as np
        ins, _ = common.decoder_io_names(s["layers"])
        feeds = common.decoder_inputs(cfg, 1, 4, 3, seed=1)
        sess = common.ort_session(onnx_path)
        res = dict(zip([o.name for o in sess.get_outputs()],
                       sess.run(None, feeds)))
        # Reload from model.safetensors: proves both files hold the same
        # weights.
        del model
        reloaded = LlamaForCausalLM.from_pretrained(
            out, attn_implementation="sdpa").eval()
        err = common.check_against_torch(reloaded, feeds, res, ins, tol=1e-2)
        print(f"verify: model.safetensors (torch) vs model.onnx (ORT) max abs"
              f" logit diff {err:.3g}")
        info["safetensors_torch_vs_onnx_ort_max_abs_logit_diff"] = err
        del np
    for f in sorted(os.listdir(out)):
        if f != "bench_manifest.json":
            p = os.path.join(out, f)
            info["files"][f] = {"bytes": os.path.getsize(p),
                                "sha256": common.sha256_file(p)}
    ins, outs, opset, meta = common.io_signature(onnx_path)
    info.update({"opset": opset, "inputs": ins, "outputs": outs,
                 "onnx": meta})
    with open(os.path.join(out, "bench_manifest.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

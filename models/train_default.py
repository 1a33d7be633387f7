#!/usr/bin/env python3
"""Train Anvil's default model: a small Llama on the Python standard library.

Stages (all run by default, in order):
  tokenizer  byte-level BPE (HF `tokenizers`) trained on the train split
  train      LlamaForCausalLM trained on CPU with a fixed seed and step count
  export     ONNX export exactly like the zoo decoders, references, manifest,
             report.md

The corpus is Debian 12's /usr/lib/python3.11/**/*.py (libpython3.11-stdlib),
split by file into train/test with a seeded shuffle.  The list of files and
their hashes are recorded in models/default/manifest.json.

Run with models/.venv/bin/python models/train_default.py (regenerate.sh does).
"""

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CORPUS_ROOT = "/usr/lib/python3.11"
EOT = "<|endoftext|>"

# Training defaults.  On 1 thread of this machine's CPU they take ~23 minutes
# (see report.md for the measured time); with 2 threads less.
DEFAULTS = dict(
    seed=1234,
    test_fraction=0.05,
    vocab_size=4096,
    hidden_size=256,
    intermediate_size=688,
    num_hidden_layers=4,
    num_attention_heads=8,
    num_key_value_heads=4,
    context=256,
    batch_size=16,
    steps=600,
    lr=3e-3,
    min_lr_ratio=0.1,
    warmup=50,
    weight_decay=0.1,
    grad_clip=1.0,
)


def log(*a):
    print(*a, flush=True)


def corpus_files():
    out = []
    for dirpath, dirnames, filenames in os.walk(CORPUS_ROOT):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in ("site-packages", "dist-packages",
                                          "__pycache__"))
        for f in sorted(filenames):
            if f.endswith(".py"):
                out.append(os.path.join(dirpath, f))
    return sorted(out)


def read_text(path):
    with open(path, "rb") as f:
        data = f.read()
    return data, data.decode("utf-8", errors="replace")


def split_corpus(files, seed, test_fraction):
    rel = [os.path.relpath(p, CORPUS_ROOT) for p in files]
    order = list(range(len(rel)))
    random.Random(seed).shuffle(order)
    n_test = max(1, int(round(len(rel) * test_fraction)))
    test_idx = set(order[:n_test])
    train = [files[i] for i in range(len(files)) if i not in test_idx]
    test = [files[i] for i in range(len(files)) if i in test_idx]
    return train, test


def corpus_record(files, train, test):
    entries = []
    h = hashlib.sha256()
    test_set = set(test)
    for p in files:
        data, _ = read_text(p)
        d = hashlib.sha256(data).hexdigest()
        rel = os.path.relpath(p, CORPUS_ROOT)
        h.update(rel.encode() + b"\0" + d.encode() + b"\n")
        entries.append({"path": rel, "sha256": d, "bytes": len(data),
                        "split": "test" if p in test_set else "train"})
    return {"root": CORPUS_ROOT, "glob": "**/*.py (excluding site-packages, "
            "dist-packages, __pycache__)", "num_files": len(files),
            "num_train_files": len(train), "num_test_files": len(test),
            "list_sha256": h.hexdigest(), "files": entries}


def train_tokenizer(train_files, vocab_size, out_path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False)

    def it():
        for p in train_files:
            yield read_text(p)[1]
    tok.train_from_iterator(it(), trainer=trainer, length=len(train_files))
    tok.save(out_path)
    return tok


def encode_files(tok, files):
    import numpy as np
    eot = tok.token_to_id(EOT)
    ids = []
    for p in files:
        ids.extend(tok.encode(read_text(p)[1]).ids)
        ids.append(eot)
    return np.asarray(ids, dtype=np.uint16)


def make_config(a):
    from transformers import LlamaConfig
    return LlamaConfig(
        vocab_size=a["vocab_size"], hidden_size=a["hidden_size"],
        intermediate_size=a["intermediate_size"],
        num_hidden_layers=a["num_hidden_layers"],
        num_attention_heads=a["num_attention_heads"],
        num_key_value_heads=a["num_key_value_heads"],
        max_position_embeddings=1024, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=True, bos_token_id=0, eos_token_id=0,
        pad_token_id=0, hidden_act="silu", attention_bias=False,
        mlp_bias=False, initializer_range=0.02, torch_dtype="float32")


def evaluate(model, ids, ctx, batch=8):
    """Mean NLL over the stream: windows of ctx+1 tokens with stride ctx, so
    every token but the first is predicted once, from up to ctx-1 tokens of
    its own window as context."""
    import torch
    n = (len(ids) - 1) // ctx
    x = torch.from_numpy(ids[: n * ctx + 1].astype("int64"))
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for s in range(0, n, batch):
            e = min(n, s + batch)
            inp = torch.stack([x[i * ctx: i * ctx + ctx] for i in range(s, e)])
            tgt = torch.stack([x[i * ctx + 1: i * ctx + ctx + 1]
                               for i in range(s, e)])
            logits = model(input_ids=inp, use_cache=False).logits
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                reduction="sum")
            total += loss.item()
            count += tgt.numel()
    model.train()
    return total / count, count, n * ctx + 1


def unigram_nll(train_ids, test_ids, vocab, ctx):
    import numpy as np
    counts = np.bincount(train_ids.astype(np.int64), minlength=vocab)
    p = (counts + 1.0) / (counts.sum() + vocab)   # add-one smoothing
    n = (len(test_ids) - 1) // ctx
    tgt = test_ids[1: n * ctx + 1].astype(np.int64)
    return float(-np.log(p[tgt]).mean())


def lr_at(step, a):
    if step < a["warmup"]:
        return a["lr"] * (step + 1) / a["warmup"]
    t = (step - a["warmup"]) / max(1, a["steps"] - a["warmup"])
    lo = a["lr"] * a["min_lr_ratio"]
    return lo + 0.5 * (a["lr"] - lo) * (1 + math.cos(math.pi * t))


def stage_train(a, outdir, workdir):
    import numpy as np
    import torch
    from transformers import LlamaForCausalLM
    torch.manual_seed(a["seed"])
    torch.use_deterministic_algorithms(True)
    data = np.load(os.path.join(workdir, "tokens.npz"))
    train_ids = data["train"]
    cfg = make_config(a)
    cfg._attn_implementation = "sdpa"
    model = LlamaForCausalLM(cfg)
    nparams = sum(p.numel() for p in model.parameters())
    log(f"params: {nparams}  train tokens: {len(train_ids)}  threads: "
        f"{torch.get_num_threads()}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a["weight_decay"]},
         {"params": nodecay, "weight_decay": 0.0}],
        lr=a["lr"], betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(a["seed"] + 1)
    stream = torch.from_numpy(train_ids.astype(np.int64))
    ctx, bs = a["context"], a["batch_size"]
    hist = []
    t0 = time.time()
    model.train()
    for step in range(a["steps"]):
        starts = torch.randint(0, len(stream) - ctx - 1, (bs,), generator=gen)
        batch = torch.stack([stream[s: s + ctx + 1] for s in starts.tolist()])
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a)
        logits = model(input_ids=batch[:, :-1], use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a["grad_clip"])
        opt.step()
        if step % 25 == 0 or step == a["steps"] - 1:
            el = time.time() - t0
            hist.append({"step": step, "loss": round(loss.item(), 4),
                         "elapsed_s": round(el, 1)})
            log(f"step {step:5d} loss {loss.item():.4f} lr {lr_at(step, a):.2e}"
                f" elapsed {el:.0f}s")
    wall = time.time() - t0
    model.save_pretrained(os.path.join(workdir, "checkpoint"),
                          safe_serialization=True)
    with open(os.path.join(workdir, "train_log.json"), "w") as f:
        json.dump({"wall_s": wall, "threads": torch.get_num_threads(),
                   "params": nparams, "history": hist,
                   "torch_version": torch.__version__}, f, indent=1)
    log(f"training wall time {wall:.0f}s")


def sample(model, tok, prompt, n, temperature, top_k, seed):
    import torch
    g = torch.Generator().manual_seed(seed)
    ids = torch.tensor([tok.encode(prompt).ids])
    model.eval()
    with torch.no_grad():
        for _ in range(n):
            logits = model(input_ids=ids[:, -1000:], use_cache=False).logits[0, -1]
            if temperature == 0:
                nxt = int(torch.argmax(logits))
            else:
                logits = logits / temperature
                v, i = torch.topk(logits, top_k)
                p = torch.softmax(v, -1)
                nxt = int(i[torch.multinomial(p, 1, generator=g)])
            ids = torch.cat([ids, torch.tensor([[nxt]])], 1)
    return tok.decode(ids[0].tolist())


def stage_export(a, outdir, workdir, corpus):
    import numpy as np
    import torch
    from tokenizers import Tokenizer
    from transformers import LlamaForCausalLM
    import common
    torch.manual_seed(a["seed"])
    tok = Tokenizer.from_file(os.path.join(outdir, "tokenizer.json"))
    model = LlamaForCausalLM.from_pretrained(
        os.path.join(workdir, "checkpoint"), attn_implementation="sdpa")
    model.eval()
    data = np.load(os.path.join(workdir, "tokens.npz"))
    train_ids, test_ids = data["train"], data["test"]
    with open(os.path.join(workdir, "train_log.json")) as f:
        tlog = json.load(f)

    t0 = time.time()
    nll, npred, nused = evaluate(model, test_ids, a["context"])
    eval_s = time.time() - t0
    uni = unigram_nll(train_ids, test_ids, a["vocab_size"], a["context"])
    log(f"test ppl {math.exp(nll):.3f}  unigram ppl {math.exp(uni):.3f}")

    prompts = ["import os\n", "def fibonacci(n):\n",
               "class Stack:\n    def __init__(self):\n"]
    samples = []
    for i, p in enumerate(prompts):
        samples.append({"prompt": p, "temperature": 0.8, "top_k": 40,
                        "seed": a["seed"] + i, "tokens": 120,
                        "text": sample(model, tok, p, 120, 0.8, 40,
                                       a["seed"] + i)})
    samples.append({"prompt": prompts[1], "temperature": 0.0, "tokens": 80,
                    "text": sample(model, tok, prompts[1], 80, 0, 0, 0)})

    common.save_npz(os.path.join(outdir, "test_tokens.npz"),
                    {"test_ids": test_ids[:nused].astype(np.uint16)})

    onnx_path = os.path.join(outdir, "model.onnx")
    entry = common.export_and_reference(
        model, "llama", onnx_path, outdir, kind="decoder",
        prompt_ids=tok.encode("def main():\n").ids)
    entry["default_model"] = True
    result = {
        "test_nll": nll, "test_perplexity": math.exp(nll),
        "unigram_test_nll": uni, "unigram_test_perplexity": math.exp(uni),
        "unigram": "add-one smoothed token frequencies of the train split",
        "eval": f"test split token stream, windows of {a['context']}+1 tokens "
                f"with stride {a['context']}; {npred} predicted tokens",
        "test_tokens_file": "test_tokens.npz",
        "test_tokens_sha256": common.sha256_file(
            os.path.join(outdir, "test_tokens.npz")),
        "num_test_tokens": int(nused), "num_predicted_tokens": int(npred),
        "num_train_tokens": int(len(train_ids)),
        "eval_wall_s": eval_s,
    }
    manifest = {
        "description": "Anvil default model: Llama trained on the Python "
                       "standard library (see README.md, report.md)",
        "models": [entry],
        "tokenizer": {"file": "tokenizer.json", "type": "byte-level BPE "
                      "(HF tokenizers)", "vocab_size": tok.get_vocab_size(),
                      "eot_token": EOT, "eot_id": tok.token_to_id(EOT),
                      "sha256": common.sha256_file(
                          os.path.join(outdir, "tokenizer.json"))},
        "training": {k: a[k] for k in DEFAULTS} | {
            "wall_s": tlog["wall_s"], "threads": tlog["threads"],
            "params": tlog["params"], "torch_version": tlog["torch_version"],
            "loss_history": tlog["history"]},
        "evaluation": result,
        "samples": samples,
        "corpus": corpus,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    write_report(outdir, manifest)


def write_report(outdir, m):
    t, e = m["training"], m["evaluation"]
    L = []
    L.append("# Default model report\n")
    L.append("Generated by `models/train_default.py`; numbers are copied from "
             "`manifest.json`.\n")
    L.append("## Result\n")
    L.append("| model | test perplexity | test NLL (nats/token) |")
    L.append("|---|---|---|")
    L.append(f"| Llama, {t['params']/1e6:.2f}M params | "
             f"{e['test_perplexity']:.2f} | {e['test_nll']:.4f} |")
    L.append(f"| unigram baseline ({e['unigram']}) | "
             f"{e['unigram_test_perplexity']:.2f} | {e['unigram_test_nll']:.4f} |")
    L.append("")
    L.append(f"Evaluation: {e['eval']}. Train split: {e['num_train_tokens']} "
             f"tokens from {m['corpus']['num_train_files']} files; test split: "
             f"{e['num_test_tokens']} tokens from {m['corpus']['num_test_files']}"
             " files (ids in `test_tokens.npz`, key `test_ids`).\n")
    L.append("## Training\n")
    L.append(f"- corpus: `{m['corpus']['root']}/{m['corpus']['glob']}`, "
             f"{m['corpus']['num_files']} files, list sha256 "
             f"`{m['corpus']['list_sha256'][:16]}…`, split by file with seed "
             f"{t['seed']} ({t['test_fraction']:.0%} test)")
    L.append(f"- tokenizer: {m['tokenizer']['type']}, vocab "
             f"{m['tokenizer']['vocab_size']}, trained on the train split")
    L.append(f"- model: LlamaForCausalLM, hidden {t['hidden_size']}, "
             f"{t['num_hidden_layers']} layers, {t['num_attention_heads']} heads,"
             f" {t['num_key_value_heads']} KV heads, FFN {t['intermediate_size']}"
             f", tied embeddings, RoPE theta 1e4")
    L.append(f"- optimizer: AdamW (0.9, 0.95), lr {t['lr']} with {t['warmup']} "
             f"warmup steps and cosine decay to {t['min_lr_ratio']}x, weight "
             f"decay {t['weight_decay']}, grad clip {t['grad_clip']}")
    L.append(f"- {t['steps']} steps x {t['batch_size']} sequences x "
             f"{t['context']} tokens = {t['steps']*t['batch_size']*t['context']}"
             " tokens")
    L.append(f"- wall time {t['wall_s']/60:.1f} min on {t['threads']} CPU "
             f"thread(s), torch {t['torch_version']}")
    L.append("")
    L.append("| step | loss |")
    L.append("|---|---|")
    hist = t["loss_history"]
    rows = hist[:: max(1, len(hist) // 12)]
    if rows[-1] is not hist[-1]:
        rows.append(hist[-1])
    for h in rows:
        L.append(f"| {h['step']} | {h['loss']} |")
    L.append("")
    L.append("## Samples\n")
    for s in m["samples"]:
        how = ("greedy" if s["temperature"] == 0 else
               f"temperature {s['temperature']}, top-k {s['top_k']}, "
               f"seed {s['seed']}")
        L.append(f"Prompt `{s['prompt']!r}`, {s['tokens']} tokens, {how}:\n")
        L.append("```python")
        L.append(s["text"])
        L.append("```\n")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "default"))
    ap.add_argument("--workdir", default=None,
                    help="checkpoint/token cache (default: OUT/.work)")
    ap.add_argument("--stages", default="tokenizer,train,export")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's own choice)")
    for k, v in DEFAULTS.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    args = ap.parse_args()
    a = {k: getattr(args, k) for k in DEFAULTS}
    outdir = args.out
    workdir = args.workdir or os.path.join(outdir, ".work")
    os.makedirs(workdir, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # One rayon thread for BPE training, so the merges never depend on the
    # machine's core count.
    os.environ["RAYON_NUM_THREADS"] = "1"
    import numpy as np
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    stages = args.stages.split(",")

    files = corpus_files()
    train, test = split_corpus(files, a["seed"], a["test_fraction"])
    corpus = corpus_record(files, train, test)
    log(f"corpus: {len(files)} files ({len(train)} train, {len(test)} test), "
        f"list sha256 {corpus['list_sha256']}")

    if "tokenizer" in stages:
        t0 = time.time()
        tok = train_tokenizer(train, a["vocab_size"],
                              os.path.join(outdir, "tokenizer.json"))
        tr = encode_files(tok, train)
        te = encode_files(tok, test)
        np.savez(os.path.join(workdir, "tokens.npz"), train=tr, test=te)
        log(f"tokenizer: {time.time()-t0:.0f}s, train tokens {len(tr)}, "
            f"test tokens {len(te)}")
    if "train" in stages:
        stage_train(a, outdir, workdir)
    if "export" in stages:
        stage_export(a, outdir, workdir, corpus)


if __name__ == "__main__":
    main()

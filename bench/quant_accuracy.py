#!/usr/bin/env python3
"""Accuracy (and decode speed) of anvilc --quantize on the default model.

For each mode (fp32, int8, w8a8, int4-g128, int4-g32, w4a8-g128 by default):

  perplexity   on models/default/test_tokens.npz as models/train_default.py
               evaluates it: windows of 256 + 1 tokens with stride 256, every
               token but the first predicted once from its own window
               (122880 predictions). The model is compiled with the KV cache
               as graph inputs (--kv-cache=graph, an empty past, batch of
               --batch windows) and run by anvil-run; the NLL is computed
               here in float64 from the logits.
  greedy       `anvil-run generate` (the paged engine) continues the
               manifest's greedy prompt by 512 tokens (--ignore-eos);
               `same prefix` is how many of them equal fp32's before the
               first difference.
  agreement    teacher-forced: the prompt followed by fp32's 512 tokens is
               run once through the model (graph compile, one window); the
               share of the 512 positions whose argmax equals fp32's token.
  decode tok/s `anvil-run generate --json`'s decode_tokens_per_s of the
               512-token run (--threads as given; a shared machine makes it
               noisy).

Usage: bench/quant_accuracy.py --anvilc build/bin/anvilc
         --anvil-run build/bin/anvil-run --work /tmp/qa [--modes ...]
Prints a markdown table.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

CTX = 256
NEW = 512


def compile_model(args, mode, out, *flags):
    cmd = [args.anvilc, "-q", os.path.join(args.model_dir, "model.onnx"),
           "-o", out, *flags]
    if mode != "fp32":
        cmd.append(f"--quantize={mode}")
    subprocess.run(cmd, check=True)


def run_graph(args, artifact, work, ids):
    """Logits [batch, seq, vocab] of token windows `ids` [batch, seq]."""
    batch, seq = ids.shape
    feeds = {"input_ids": ids.astype(np.int64),
             "attention_mask": np.ones((batch, seq), np.int64),
             "position_ids": np.tile(np.arange(seq, dtype=np.int64),
                                     (batch, 1))}
    for layer in range(args.layers):
        for kind in ("key", "value"):
            feeds[f"past_key_values.{layer}.{kind}"] = np.zeros(
                (batch, args.kv_heads, 0, args.head_dim), np.float32)
    cmd = [args.anvil_run, artifact, "--threads", str(args.threads),
           "--output-dir", work]
    for name, value in feeds.items():
        path = os.path.join(work, name + ".npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
    subprocess.run(cmd, check=True, capture_output=True)
    return np.load(os.path.join(work, "logits.npy"))


def log_softmax(logits):
    x = logits.astype(np.float64)
    x -= x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def perplexity(args, mode, work):
    ids = np.load(os.path.join(args.model_dir, "test_tokens.npz"))["test_ids"]
    n = (len(ids) - 1) // CTX
    if args.windows:
        n = min(n, args.windows)
    artifact = os.path.join(work, "ppl.anvil")
    compile_model(args, mode, artifact, "--kv-cache=graph",
                  f"--dim=batch_size={args.batch},sequence_length={CTX},"
                  "past_sequence_length=0")
    total, count = 0.0, 0
    for start in range(0, n, args.batch):
        rows = list(range(start, min(n, start + args.batch)))
        padded = rows + [rows[-1]] * (args.batch - len(rows))
        x = np.stack([ids[i * CTX:i * CTX + CTX] for i in padded])
        y = np.stack([ids[i * CTX + 1:i * CTX + CTX + 1] for i in padded])
        logp = log_softmax(run_graph(args, artifact, work, x))
        picked = np.take_along_axis(logp, y[..., None].astype(np.int64),
                                    axis=-1)[..., 0]
        total -= picked[:len(rows)].sum()
        count += len(rows) * CTX
    return float(np.exp(total / count)), count


def generate(args, mode, work, prompt):
    artifact = os.path.join(work, "gen.anvil")
    compile_model(args, mode, artifact, "--max-context=1024",
                  "--eos-token-id=0")
    run = subprocess.run(
        [args.anvil_run, "generate", artifact, "--prompt-ids",
         ",".join(map(str, prompt)), "--max-new-tokens", str(NEW),
         "--ignore-eos", "--json", "--threads", str(args.threads)],
        check=True, capture_output=True, text=True)
    return json.loads(run.stdout)


def teacher_forced(args, mode, work, prompt, reference):
    seq = len(prompt) + NEW
    artifact = os.path.join(work, "tf.anvil")
    compile_model(args, mode, artifact, "--kv-cache=graph",
                  f"--dim=batch_size=1,sequence_length={seq},"
                  "past_sequence_length=0")
    ids = np.asarray([prompt + reference], np.int64)
    logits = run_graph(args, artifact, work, ids)[0]
    predicted = logits[len(prompt) - 1:seq - 1].argmax(axis=-1)
    return float((predicted == np.asarray(reference)).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model-dir", default="models/default")
    ap.add_argument("--modes",
                    default="fp32,int8,w8a8,int4-g128,int4-g32,w4a8-g128")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=0,
                    help="use only the first N windows (0: all)")
    args = ap.parse_args()
    manifest = json.load(open(os.path.join(args.model_dir, "manifest.json")))
    entry = manifest["models"][0]
    config = entry["config"]
    args.layers = config["num_hidden_layers"]
    args.kv_heads = config["num_key_value_heads"]
    args.head_dim = config["head_dim"]
    prompt = entry["greedy"]["prompt_ids"]
    rows, reference = [], None
    for mode in args.modes.split(","):
        work = os.path.join(args.work, mode)
        os.makedirs(work, exist_ok=True)
        t0 = time.time()
        ppl, count = perplexity(args, mode, work)
        gen = generate(args, mode, work, prompt)
        tokens = gen["token_ids"]
        if reference is None:
            reference = tokens  # the first mode (fp32) is the reference
        same = next((i for i, (a, b) in enumerate(zip(tokens, reference))
                     if a != b), len(tokens))
        agree = teacher_forced(args, mode, work, prompt, reference)
        size = os.path.getsize(os.path.join(work, "gen.anvil"))
        rows.append((mode, ppl, count, same, agree,
                     gen["decode_tokens_per_s"], size))
        print(f"{mode}: perplexity {ppl:.3f} ({count} tokens), same prefix "
              f"{same}/{NEW}, agreement {agree:.4f}, decode "
              f"{gen['decode_tokens_per_s']:.0f} tok/s, artifact {size} B "
              f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    print("| mode | perplexity | greedy: same prefix as fp32 | "
          "teacher-forced agreement | decode tok/s | artifact MB |")
    print("|---|---|---|---|---|---|")
    for mode, ppl, count, same, agree, tps, size in rows:
        print(f"| {mode} | {ppl:.3f} | {same}/{NEW} | {100 * agree:.1f}% | "
              f"{tps:.0f} | {size / 1e6:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

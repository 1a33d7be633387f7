#!/usr/bin/env python3
"""`anvilc --quantize=<mode>` on the default model generates text close to
fp32's.

For fp32 and each mode the default model is compiled as scripts/main.sh
compiles it (the paged step, `--max-context=1024 --eos-token-id=0`) plus
the mode's flags; its kernel program must run every quantized weight
through matmul_quant (29 launches: 7 projections in each of 4 layers and
the tied LM head; fp32 has none). `anvil-run generate` continues the
manifest's greedy prompt by 64 tokens (--ignore-eos, 2 threads). Reported:

  same prefix   how many of the 64 tokens equal fp32's before the first
                difference (free-running greedy decoding diverges for good
                after one near-tie, so this is reported, not bounded)
  agreement     teacher-forced: the prompt and fp32's 64 tokens run through
                the same mode compiled as one fixed-shape graph
                (--kv-cache=graph, an empty past); the share of the 64
                positions whose argmax is fp32's token. Bounded below by
                MIN_AGREEMENT, measured on this model (docs/quantization.md:
                99.8% for int8, 99.6% for int4-g32 over 512 tokens) less a
                margin for another machine's float rounding.

Usage: run_generate_quantized.py --anvilc anvilc --anvil-run anvil-run
                                 --model-dir models/default --work DIR
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

NEW = 64
MODES = ("int8", "w8a8", "int4-g128", "int4-g32", "w4a8-g128", "bf16", "f16")
MIN_AGREEMENT = {"int8": 0.95, "w8a8": 0.9, "int4-g128": 0.9, "int4-g32": 0.9,
                 "w4a8-g128": 0.9, "bf16": 0.95, "f16": 0.95}
# 16-bit modes keep the f32 kernel with 16-bit weights in column panels.
NARROW = ("bf16", "f16")
QUANTIZED_MATMULS = 29


def compile_model(args, mode, out, *flags):
    cmd = [args.anvilc, "-q", os.path.join(args.model_dir, "model.onnx"),
           "-o", out, *flags]
    if mode != "fp32":
        cmd.append(f"--quantize={mode}")
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"anvilc {' '.join(flags)} failed: {run.stderr}")
    return run.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    entry = json.load(open(os.path.join(args.model_dir,
                                        "manifest.json")))["models"][0]
    config = entry["config"]
    prompt = entry["greedy"]["prompt_ids"]
    os.makedirs(args.work, exist_ok=True)
    reference, failed = None, 0
    for mode in ("fp32",) + MODES:
        try:
            paged = ["--max-context=1024", "--eos-token-id=0"]
            kernel = compile_model(args, mode, "-", *paged, "--emit=kernel")
            launches = kernel.count('kernel.launch "matmul_quant"')
            want = 0 if mode in ("fp32",) + NARROW else QUANTIZED_MATMULS
            if launches != want or '"dequantize"' in kernel:
                raise RuntimeError(f"{launches} matmul_quant launches (want "
                                   f"{want}) or a dequantize launch")
            narrow = len(re.findall(
                r"kernel\.weight.*x" + mode + r'> \{layout = "(nk_)?panels32"',
                kernel)) if mode in NARROW else 0
            want = QUANTIZED_MATMULS if mode in NARROW else 0
            if narrow != want:
                raise RuntimeError(f"{narrow} {mode} weights in column panels "
                                   f"(want {want})")
            artifact = os.path.join(args.work, f"{mode}.anvil")
            compile_model(args, mode, artifact, *paged)
            run = subprocess.run(
                [args.anvil_run, "generate", artifact, "--prompt-ids",
                 ",".join(map(str, prompt)), "--max-new-tokens", str(NEW),
                 "--ignore-eos", "--json", "--threads", "2"],
                capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"anvil-run generate: {run.stderr}")
            tokens = json.loads(run.stdout)["token_ids"]
            if len(tokens) != NEW:
                raise RuntimeError(f"{len(tokens)} tokens, not {NEW}")
            if reference is None:
                reference = tokens
                print(f"ok   fp32: {NEW} tokens")
                continue
            same = next((i for i, (a, b) in enumerate(zip(tokens, reference))
                         if a != b), NEW)
            # Teacher-forced argmax agreement on fp32's continuation.
            seq = len(prompt) + NEW
            graph = os.path.join(args.work, f"{mode}-graph.anvil")
            compile_model(args, mode, graph, "--kv-cache=graph",
                          f"--dim=batch_size=1,sequence_length={seq},"
                          "past_sequence_length=0")
            feeds = {"input_ids": np.asarray([prompt + reference], np.int64),
                     "attention_mask": np.ones((1, seq), np.int64),
                     "position_ids": np.arange(seq, dtype=np.int64)[None]}
            for layer in range(config["num_hidden_layers"]):
                for kind in ("key", "value"):
                    feeds[f"past_key_values.{layer}.{kind}"] = np.zeros(
                        (1, config["num_key_value_heads"], 0,
                         config["head_dim"]), np.float32)
            out = os.path.join(args.work, mode)
            os.makedirs(out, exist_ok=True)
            cmd = [args.anvil_run, graph, "--threads", "2", "--output-dir",
                   out]
            for name, value in feeds.items():
                path = os.path.join(out, name + ".npy")
                np.save(path, value)
                cmd += ["--input", f"{name}={path}"]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"anvil-run: {run.stderr}")
            logits = np.load(os.path.join(out, "logits.npy"))[0]
            predicted = logits[len(prompt) - 1:seq - 1].argmax(axis=-1)
            agree = int((predicted == np.asarray(reference)).sum())
            line = (f"{mode}: same prefix {same}/{NEW}, teacher-forced "
                    f"agreement {agree}/{NEW}")
            if agree < MIN_AGREEMENT[mode] * NEW:
                raise RuntimeError(line + f" (at least "
                                   f"{MIN_AGREEMENT[mode]:.0%} wanted)")
            print(f"ok   {line}")
        except RuntimeError as e:
            failed += 1
            print(f"FAIL {mode}: {e}")
    print(f"generate-quantized: {1 + len(MODES) - failed} passed, "
          f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

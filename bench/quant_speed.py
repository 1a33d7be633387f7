#!/usr/bin/env python3
"""Prefill and decode speed of anvilc --quantize modes on one decoder.

Compiles MODEL.onnx once per mode (the paged step, --max-context 512) and
runs `anvil-run generate --json` with a prompt of --prompt tokens (ids
1..P) and --new tokens (--ignore-eos), --repeat times per mode; prints
the median and the range of prefill and decode tok/s, and the artifact
size. Not a test: the numbers depend on the machine and its load.

Usage: bench/quant_speed.py --anvilc build/bin/anvilc
         --anvil-run build/bin/anvil-run --model M.onnx --work DIR
         [--modes fp32,int8,w8a8,int4-g128,int4-g32] [--threads 2]
         [--mcpu native|x86-64-v3|...]  (anvilc's --mcpu: x86-64-v3 times
                                         the AVX2 kernels on an AVX-512 CPU)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--modes", default="fp32,int8,w8a8,int4-g128,int4-g32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mcpu", default="native",
                    help="anvilc --mcpu for every mode (default native)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print(f"| mode | prefill tok/s ({args.prompt} tokens) | decode tok/s "
          f"({args.new} tokens) | artifact MB | compile s |")
    print("|---|---|---|---|---|")
    for mode in args.modes.split(","):
        artifact = os.path.join(args.work, f"{mode}.anvil")
        cmd = [args.anvilc, "-q", args.model, "--max-context=512",
               "--no-tokenizer", "-o", artifact]
        if mode != "fp32":
            cmd.append(f"--quantize={mode}")
        cmd.append(f"--mcpu={args.mcpu}")
        t0 = time.time()
        subprocess.run(cmd, check=True)
        compile_s = time.time() - t0
        prefill, decode = [], []
        for _ in range(args.repeat):
            run = subprocess.run(
                [args.anvil_run, "generate", artifact, "--prompt-ids",
                 ",".join(str(i) for i in range(1, args.prompt + 1)),
                 "--max-new-tokens", str(args.new), "--ignore-eos", "--json",
                 "--threads", str(args.threads)],
                check=True, capture_output=True, text=True)
            out = json.loads(run.stdout)
            prefill.append(out["prefill_tokens_per_s"])
            decode.append(out["decode_tokens_per_s"])
        size = os.path.getsize(artifact) / 1e6
        print(f"| {mode} | {statistics.median(prefill):.1f} "
              f"({min(prefill):.1f}-{max(prefill):.1f}) | "
              f"{statistics.median(decode):.2f} "
              f"({min(decode):.2f}-{max(decode):.2f}) | {size:.0f} | "
              f"{compile_s:.1f} |", flush=True)
        os.remove(artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main())

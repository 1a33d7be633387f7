#!/usr/bin/env python3
"""Compile cost: anvilc's wall time and peak memory on the benchmark
decoders, per variant (fp32 and each --quantize mode), with a cold code
cache (--no-cache: the C++ build included), next to issue #12's bounds for
the 250M decoder (<= 60 s, peak RSS <= 1.5x its fp32 weight bytes).

Each compile runs in its own process (under --lock when given, as this
shared machine asks); its peak RSS is the kernel's account of that process
(wait4's ru_maxrss), its weight bytes the ONNX model's (file plus external
data). Prints a Markdown table per model; --runs N keeps the median wall
time and the highest peak RSS of N compiles.

Usage:
  bench/compile_cost.py [--model models/bench/llama-250m ...]
      [--variants fp32,bf16,int8,int4-g128,w8a8,w4a8-g128] [--runs 1]
      [--anvilc build/bin/anvilc] [--lock /tmp/anvil-build.lock]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOUND_SECONDS, BOUND_RSS_RATIO = 60.0, 1.5


def model_file(path):
    return os.path.join(path, "model.onnx") if os.path.isdir(path) else path


def onnx_bytes(path):
    """The model file plus its external data files (next to it)."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    files = {path}
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                files.add(os.path.join(os.path.dirname(path), entry.value))
    return sum(os.path.getsize(f) for f in files)


def compile_once(args, onnx_path, variant, out):
    """(wall seconds, peak RSS bytes) of one cold anvilc run."""
    cmd = [args.anvilc, "-q", "--no-cache", onnx_path, "-o", out]
    if variant != "fp32":
        cmd.insert(2, f"--quantize={variant}")
    if args.lock:
        cmd = ["flock", args.lock] + cmd
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    # flock's child is anvilc: the children's peak is anvilc's (flock
    # itself is smaller).
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    if status:
        sys.exit(f"anvilc failed on {onnx_path} ({variant}):\n{err}")
    return wall, usage.ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", action="append",
                    help="folder with model.onnx, or the .onnx (repeatable; "
                         "default models/bench/llama-250m and, where made, "
                         "llama-1b)")
    ap.add_argument("--variants",
                    default="fp32,bf16,int8,int4-g128,w8a8,w4a8-g128")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--anvilc", default=os.path.join(ROOT, "build", "bin",
                                                     "anvilc"))
    ap.add_argument("--lock", default=None)
    args = ap.parse_args()
    if args.runs < 1:
        sys.exit("--runs must be >= 1")
    models = args.model or [
        p for p in (os.path.join(ROOT, "models", "bench", "llama-250m"),
                    os.path.join(ROOT, "models", "bench", "llama-1b"))
        if os.path.exists(model_file(p))]
    if not models:
        sys.exit("no model: make models/bench/llama-250m with "
                 "models/make_bench_decoder.py (models/README.md)")
    variants = [v for v in args.variants.split(",") if v]
    print(f"anvilc --no-cache, {args.runs} run(s) each, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for model in models:
        onnx_path = model_file(model)
        weights = onnx_bytes(onnx_path)
        print(f"\n{os.path.relpath(onnx_path, ROOT)}: "
              f"{weights / 1e6:.1f} MB of fp32 weights (model and data)\n")
        print("| variant | wall s | peak RSS GB | peak RSS / fp32 weight "
              "bytes | artifact MB |")
        print("|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as work:
            for variant in variants:
                out = os.path.join(work, f"{variant}.anvil")
                runs = [compile_once(args, onnx_path, variant, out)
                        for _ in range(args.runs)]
                wall = statistics.median(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                print(f"| {variant} | {wall:.1f} | {rss / 1e9:.2f} | "
                      f"{rss / weights:.2f} | "
                      f"{os.path.getsize(out) / 1e6:.0f} |", flush=True)
                os.remove(out)
    print(f"\nBounds for the 250M decoder (issue #12): <= {BOUND_SECONDS:.0f}"
          f" s, peak RSS <= {BOUND_RSS_RATIO}x the fp32 weight bytes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

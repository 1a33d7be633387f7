#!/usr/bin/env python3
"""Prefill and decode latency of a benchmark decoder (models/make_bench_decoder.py):
Anvil beside ONNX Runtime on the same ONNX model, and optionally beside a
second (baseline) Anvil build in the same run, so that a change is judged
by ratios measured together rather than by numbers from different days.

Each case binds every dim (batch 1, `sequence_length` tokens after a cache
of `past_sequence_length` tokens), compiles the model with each anvilc at
-O2, and times `anvil-run --repeat` (median, min..max of --runs runs after
one warm-up) and an onnxruntime InferenceSession with the same thread
count. Inputs are seeded random token ids, an all-ones mask, positions
past..past+seq-1 and N(0, 1) past keys/values.

$ANVIL_BENCH_OPT sets the optimization level of every compile (default
-O2), to see what a level costs or saves.

Usage: bench/decoder_latency.py --model models/bench/llama-250m
           [--anvilc build/bin/anvilc --anvil-run build/bin/anvil-run]
           [--baseline-anvilc OLD/anvilc --baseline-anvil-run OLD/anvil-run]
           [--cases prefill=16:0,decode=1:128] [--threads 2] [--runs 10]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_inputs(model, seq, past, rng, vocab):
    feeds = {}
    for value in model.graph.input:
        dims = []
        for d in value.type.tensor_type.shape.dim:
            if d.dim_value:
                dims.append(d.dim_value)
            else:
                dims.append({"batch_size": 1, "sequence_length": seq,
                             "past_sequence_length": past}.get(
                                 d.dim_param, past + seq))
        name = value.name
        if name == "input_ids":
            feeds[name] = rng.integers(0, vocab, dims).astype(np.int64)
        elif name == "attention_mask":
            feeds[name] = np.ones(dims, np.int64)
        elif name == "position_ids":
            feeds[name] = np.arange(past, past + seq,
                                    dtype=np.int64).reshape(dims)
        else:
            feeds[name] = rng.standard_normal(dims).astype(np.float32)
    return feeds


def anvil_latency(anvilc, anvil_run, model_path, feeds, seq, past, args,
                  work):
    artifact = os.path.join(work, "model.anvil")
    start = time.perf_counter()
    subprocess.run([anvilc, "-q", os.environ.get("ANVIL_BENCH_OPT", "-O2"), model_path, "-o", artifact,
                    f"--dim=batch_size=1,sequence_length={seq},"
                    f"past_sequence_length={past}"], check=True)
    compile_s = time.perf_counter() - start
    inputs = []
    for i, (name, value) in enumerate(feeds.items()):
        path = os.path.join(work, f"in{i}.npy")
        np.save(path, value)
        inputs += ["--input", f"{name}={path}"]
    out = subprocess.run([anvil_run, artifact, "--repeat", str(args.runs),
                          "--threads", str(args.threads)] + inputs,
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"median ([0-9.]+) ms, min ([0-9.]+), max ([0-9.]+)", out)
    os.remove(artifact)
    return tuple(float(x) for x in m.groups()), compile_s


def ort_latency(model_path, feeds, args):
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model_path, options,
                                   providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2], times[0], times[-1]


def fmt(t):
    return f"{t[0]:9.1f} ({t[1]:.1f}..{t[2]:.1f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", required=True,
                    help="folder with model.onnx (or the .onnx file)")
    ap.add_argument("--anvilc", default=os.path.join(ROOT, "build/bin/anvilc"))
    ap.add_argument("--anvil-run",
                    default=os.path.join(ROOT, "build/bin/anvil-run"))
    ap.add_argument("--baseline-anvilc")
    ap.add_argument("--baseline-anvil-run")
    ap.add_argument("--cases", default="prefill=16:0,decode=1:128",
                    help="name=SEQ:PAST,... (tokens this step : cached)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    model_path = args.model
    if os.path.isdir(model_path):
        model_path = os.path.join(model_path, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    vocab = 32000
    for out in model.graph.output:
        if out.name == "logits":
            vocab = out.type.tensor_type.shape.dim[-1].dim_value or vocab
    rng = np.random.default_rng(0)
    sides = [("anvil", args.anvilc, args.anvil_run)]
    if args.baseline_anvilc:
        sides.append(("baseline", args.baseline_anvilc,
                      args.baseline_anvil_run or args.anvil_run))
    print(f"{os.path.relpath(model_path, ROOT)}: threads {args.threads}, "
          f"{args.runs} timed runs each; median (min..max) in ms")
    header = f"{'case':14} {'anvil':>24}"
    if len(sides) > 1:
        header += f" {'baseline':>24} {'baseline/anvil':>15}"
    print(header + f" {'onnxruntime':>24} {'ort/anvil':>10} {'compile s':>10}")
    for case in args.cases.split(","):
        name, shape = case.split("=")
        seq, past = (int(x) for x in shape.split(":"))
        feeds = make_inputs(model, seq, past, rng, vocab)
        results = []
        for _, anvilc, anvil_run in sides:
            with tempfile.TemporaryDirectory() as work:
                results.append(anvil_latency(anvilc, anvil_run, model_path,
                                             feeds, seq, past, args, work))
        o = ort_latency(model_path, feeds, args)
        line = f"{name + f' {seq}:{past}':14} {fmt(results[0][0]):>24}"
        if len(sides) > 1:
            line += (f" {fmt(results[1][0]):>24}"
                     f" {results[1][0][0] / results[0][0][0]:15.2f}")
        line += (f" {fmt(o):>24} {o[0] / results[0][0][0]:10.2f}"
                 f" {'/'.join(f'{r[1]:.1f}' for r in results):>10}")
        print(line)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

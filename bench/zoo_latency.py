#!/usr/bin/env python3
"""Latency of every zoo model: Anvil (anvil-run --repeat) beside ONNX Runtime.

Both run the reference inputs of models/zoo/<model>.npz in the same process
lifetime order, with the same thread count, after one warm-up run; each
side reports the median of --runs timed runs and its spread (min..max).
The ratio is ORT median / Anvil median (above 1: Anvil is faster). The
machine is shared and noisy: compare ratios, not absolute times, and
repeat the whole run before trusting a small difference.

With --baseline-anvilc (and --baseline-anvil-run), a second Anvil build
runs beside in the same run, and baseline/anvil is printed (above 1: this
build is faster than the baseline).

Usage: bench/zoo_latency.py [--anvilc build/bin/anvilc]
           [--anvil-run build/bin/anvil-run] [--threads 2] [--runs 20]
           [--baseline-anvilc OLD/anvilc --baseline-anvil-run OLD/anvil-run]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ort_latency(model, feeds, threads, runs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options,
                                   providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[len(times) // 2], times[0], times[-1]


def anvil_latency(anvilc, anvil_run, args, model, refs, work):
    flags, inputs = [], []
    for key in refs.files:
        if key.startswith("input:"):
            name = key[len("input:"):]
            shape = refs[key].shape
            flags.append(f"--input-shape={name}:" +
                         ("x".join(map(str, shape)) if shape else "scalar"))
            path = os.path.join(work, f"in{len(inputs)}.npy")
            np.save(path, refs[key])
            inputs += ["--input", f"{name}={path}"]
    artifact = os.path.join(work, "m.anvil")
    subprocess.run([anvilc, "-q", "-O2", model, "-o", artifact] + flags,
                   check=True)
    out = subprocess.run([anvil_run, artifact, "--repeat", str(args.runs),
                          "--threads", str(args.threads)] + inputs,
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"median ([0-9.]+) ms, min ([0-9.]+), max ([0-9.]+)", out)
    return tuple(float(x) for x in m.groups())


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", default=os.path.join(ROOT, "build/bin/anvilc"))
    ap.add_argument("--anvil-run",
                    default=os.path.join(ROOT, "build/bin/anvil-run"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--baseline-anvilc")
    ap.add_argument("--baseline-anvil-run")
    args = ap.parse_args()
    baseline = args.baseline_anvilc is not None
    with open(os.path.join(ROOT, "models/zoo/manifest.json")) as f:
        models = json.load(f)["models"]
    entries = models.values() if isinstance(models, dict) else models
    print(f"threads {args.threads}, {args.runs} timed runs each; "
          "median (min..max) in ms")
    print(f"{'model':22} {'anvil':>22} "
          + (f"{'baseline':>22} {'baseline/anvil':>15} " if baseline else "")
          + f"{'onnxruntime':>22} {'ort/anvil':>10}")
    for entry in entries:
        model = os.path.join(ROOT, "models/zoo", entry["file"])
        refs = np.load(os.path.join(ROOT, "models/zoo",
                                    entry["reference"]["file"]))
        feeds = {k[len("input:"):]: refs[k] for k in refs.files
                 if k.startswith("input:")}
        with tempfile.TemporaryDirectory() as work:
            a = anvil_latency(args.anvilc, args.anvil_run, args, model, refs,
                              work)
        line = f"{entry['file']:22} {a[0]:8.3f} ({a[1]:.3f}..{a[2]:.3f}) "
        if baseline:
            with tempfile.TemporaryDirectory() as work:
                b = anvil_latency(args.baseline_anvilc,
                                  args.baseline_anvil_run or args.anvil_run,
                                  args, model, refs, work)
            line += (f"{b[0]:8.3f} ({b[1]:.3f}..{b[2]:.3f}) "
                     f"{b[0] / a[0]:15.2f} ")
        o = ort_latency(model, feeds, args.threads, args.runs)
        print(line + f"{o[0]:8.3f} ({o[1]:.3f}..{o[2]:.3f}) {o[0] / a[0]:10.2f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

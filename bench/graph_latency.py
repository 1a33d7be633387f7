#!/usr/bin/env python3
"""What the one-forward-pass benchmarks (cnn_latency.py,
encoder_latency.py, attention_latency.py) share: an ONNX model compiled by anvilc, checked
against ONNX Runtime, then timed by `anvil-run --repeat` and by an ONNX
Runtime session (graph optimizations on), each in its own process,
alternated so that both see the same drift of a shared machine.

  add_arguments(ap)        --anvilc, --anvil-run, --threads, --runs,
                           --rounds, --lock
  compile_checked(...)     anvilc -O2, then the output against ORT's
  time_rounds(...)         alternated Anvil / ORT processes: the per-round
                           medians and ORT/Anvil ratios
  table_row(...)           one markdown row: median (min..max) of each
  spread(values)           "median (min..max)"

Inputs are {name: .npy path}; run as `graph_latency.py --ort-worker MODEL
name=path,... THREADS RUNS` it is the ORT side's process.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_arguments(ap, rounds=3):
    """The options every graph benchmark takes."""
    ap.add_argument("--anvilc", default=os.path.join(ROOT, "build/bin/anvilc"))
    ap.add_argument("--anvil-run",
                    default=os.path.join(ROOT, "build/bin/anvil-run"))
    ap.add_argument("--threads", default="1,2",
                    help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--runs", type=int, default=20,
                    help="timed runs per process (default 20)")
    ap.add_argument("--rounds", type=int, default=rounds,
                    help=f"alternated Anvil / ORT processes (default {rounds})")
    ap.add_argument("--lock", help="a file lock to hold around each timed "
                    "process (e.g. /tmp/anvil-build.lock)")


def run_timed(args, cmd):
    """cmd's stdout and stderr, run under `flock --lock` when given (as
    bench/compile_cost.py does)."""
    if args.lock:
        cmd = ["flock", args.lock] + cmd
    run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return run.stdout, run.stderr


def input_flags(paths):
    flags = []
    for name, path in paths.items():
        flags += ["--input", f"{name}={path}"]
    return flags


def ort_session(model, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options,
                                providers=["CPUExecutionProvider"])


def time_anvil(args, artifact, paths, threads):
    """anvil-run's median ms over args.runs runs."""
    out, err = run_timed(args, [args.anvil_run, artifact, "--threads",
                                str(threads), "--repeat", str(args.runs)] +
                         input_flags(paths))
    m = re.search(r"median ([\d.]+) ms", out + err)
    if not m:
        sys.exit(f"no timing in anvil-run's output: {err[-300:]}")
    return float(m.group(1))


def time_ort(args, model, paths, threads):
    """ONNX Runtime's median ms over args.runs runs, in its own process."""
    inputs = ",".join(f"{n}={p}" for n, p in paths.items())
    out, _ = run_timed(args, [sys.executable, os.path.abspath(__file__),
                              "--ort-worker", model, inputs, str(threads),
                              str(args.runs)])
    return json.loads(out)


def ort_worker(model, inputs, threads, runs):
    session = ort_session(model, threads)
    feeds = {}
    for item in inputs.split(","):
        name, path = item.split("=", 1)
        feeds[name] = np.load(path)
    for _ in range(3):
        session.run(None, feeds)
    times = []
    for _ in range(int(runs)):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps(statistics.median(times)))


def compile_checked(args, label, model, paths, work, limit):
    """Compiles `model` with `anvilc -O2` into WORK/LABEL.anvil, runs it on
    `paths` and compares its first output with ONNX Runtime's: prints max
    |anvil - ort| / max |ort| (and the compile time) as an HTML comment,
    and exits if it is above `limit`. Returns the artifact's path."""
    artifact = os.path.join(work, label + ".anvil")
    start = time.perf_counter()
    subprocess.run([args.anvilc, "-q", "-O2", model, "-o", artifact],
                   check=True)
    compile_s = time.perf_counter() - start
    out = os.path.join(work, label + ".out")
    subprocess.run([args.anvil_run, artifact, "--output-dir", out] +
                   input_flags(paths), check=True, capture_output=True)
    session = ort_session(model, 1)
    want = session.run(None, {n: np.load(p) for n, p in paths.items()})[0]
    name = session.get_outputs()[0].name.replace("/", "_").replace(":", "_")
    got = np.load(os.path.join(out, name + ".npy"))
    error = float(np.abs(got - want).max() / np.abs(want).max())
    print(f"<!-- {label}: compiled in {compile_s:.1f} s; max |anvil - ort| / "
          f"max |ort| = {error:.1e} -->", flush=True)
    if error > limit:
        sys.exit(f"{label}: Anvil's output differs from ONNX Runtime's "
                 f"({error:.1e}): not timing it")
    return artifact


def time_rounds(args, artifact, model, paths, threads):
    """args.rounds alternated Anvil / ORT processes: (Anvil ms, ORT ms,
    ORT/Anvil), one entry per round."""
    anvil, ort_ms = [], []
    for _ in range(args.rounds):
        anvil.append(time_anvil(args, artifact, paths, threads))
        ort_ms.append(time_ort(args, model, paths, threads))
    return anvil, ort_ms, [o / a for a, o in zip(anvil, ort_ms)]


def spread(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}..{max(values):.2f})"


def table_row(cells, anvil, ort_ms, ratios, flops):
    """`| cells... | Anvil | ORT | ORT/Anvil | Anvil GFLOP/s |`."""
    gflops = flops / statistics.median(anvil) / 1e6
    return ("| " + " | ".join(str(c) for c in cells) +
            f" | {spread(anvil)} | {spread(ort_ms)} | {spread(ratios)} | "
            f"{gflops:.0f} |")


if __name__ == "__main__" and sys.argv[1:2] == ["--ort-worker"]:
    ort_worker(*sys.argv[2:])

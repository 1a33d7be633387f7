#!/usr/bin/env python3
"""Full-size CNNs (ResNet-18, MobileNetV2 at 224 x 224, batch 1): Anvil
beside ONNX Runtime on the same ONNX file, with the same thread count.

The graphs come from models/make_bench_cnn.py (seeded random weights,
torchvision's layer shapes, batch norm folded as an eval-mode export has
it), written once into the gitignored models/bench/cnn/. Each model is
compiled with `anvilc -O2`, its output checked against ONNX Runtime's on
one random input (max |anvil - ort| / max |ort| is printed; a value above
1e-3 stops the run), then timed: `anvil-run --repeat` and an ONNX Runtime
session (graph optimizations on) each in its own process, alternated
--rounds times so both see the same drift of a shared machine. Printed per
model and thread count: the median over rounds of each round's median, the
min..max of those, ORT/Anvil (above 1: Anvil is faster) and Anvil's
GFLOP/s (2 x the convolutions' and Gemm's multiply-adds per second).

Usage: bench/cnn_latency.py [--models resnet18,mobilenetv2] [--size 224]
           [--threads 1,2] [--runs 20] [--rounds 3] [--lock FILE]
           [--anvilc build/bin/anvilc] [--anvil-run build/bin/anvil-run]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))


def model_path(arch, size):
    """models/bench/cnn/<arch>-<size>.onnx, written on first use."""
    import onnx
    import make_bench_cnn
    folder = os.path.join(ROOT, "models", "bench", "cnn")
    path = os.path.join(folder, f"{arch}-{size}.onnx")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        onnx.save(make_bench_cnn.build(arch, size, batch=1), path)
    return path


def multiply_adds(path):
    """The Conv and Gemm multiply-adds of one forward pass (shapes from
    ONNX shape inference)."""
    import onnx
    from onnx import numpy_helper, shape_inference
    model = shape_inference.infer_shapes(onnx.load(path))
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(model.graph.value_info) + list(model.graph.output)}
    weights = {i.name: numpy_helper.to_array(i).shape
               for i in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = weights[node.input[1]]
            total += int(np.prod(shapes[node.output[0]])) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            total += int(np.prod(weights[node.input[1]]))
    return total


def run_timed(args, cmd):
    """cmd's stdout and stderr, run under `flock --lock` when given (as
    bench/compile_cost.py does)."""
    if args.lock:
        cmd = ["flock", args.lock] + cmd
    run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return run.stdout, run.stderr


def time_anvil(args, artifact, x_path, threads):
    out, err = run_timed(args, [args.anvil_run, artifact, "--threads",
                                str(threads), "--input", f"input={x_path}",
                                "--repeat", str(args.runs)])
    m = re.search(r"median ([\d.]+) ms", out + err)
    if not m:
        sys.exit(f"no timing in anvil-run's output: {err[-300:]}")
    return float(m.group(1))


def time_ort(args, model, x_path, threads):
    out, _ = run_timed(args, [sys.executable, __file__, "--ort-worker", model,
                              x_path, str(threads), str(args.runs)])
    return json.loads(out)


def ort_session(model, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options,
                                providers=["CPUExecutionProvider"])


def ort_worker(model, x_path, threads, runs):
    session = ort_session(model, threads)
    x = np.load(x_path)
    for _ in range(3):
        session.run(None, {"input": x})
    times = []
    for _ in range(int(runs)):
        start = time.perf_counter()
        session.run(None, {"input": x})
        times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps(statistics.median(times)))


def check_output(args, model, artifact, x_path, work):
    """max |anvil - ort| / max |ort| on the input at x_path."""
    out = os.path.join(work, "out")
    subprocess.run([args.anvil_run, artifact, "--input", f"input={x_path}",
                    "--output-dir", out], check=True, capture_output=True)
    session = ort_session(model, 1)
    want = session.run(None, {"input": np.load(x_path)})[0]
    name = session.get_outputs()[0].name.replace("/", "_").replace(":", "_")
    got = np.load(os.path.join(out, name + ".npy"))
    return float(np.abs(got - want).max() / np.abs(want).max())


def spread(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}..{max(values):.2f})"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ort-worker":
        return ort_worker(*sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", default=os.path.join(ROOT, "build/bin/anvilc"))
    ap.add_argument("--anvil-run",
                    default=os.path.join(ROOT, "build/bin/anvil-run"))
    ap.add_argument("--models", default="resnet18,mobilenetv2",
                    help="comma-separated: resnet18, mobilenetv2")
    ap.add_argument("--size", type=int, default=224,
                    help="input height and width (default 224)")
    ap.add_argument("--threads", default="1,2",
                    help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--runs", type=int, default=20,
                    help="timed runs per process (default 20)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternated Anvil / ORT processes (default 3)")
    ap.add_argument("--lock", help="a file lock to hold around each timed "
                    "process (e.g. /tmp/anvil-build.lock)")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    print(f"{args.size}x{args.size}, batch 1; per thread count the median "
          f"(min..max) over {args.rounds} rounds of each round's median of "
          f"{args.runs} runs, in ms")
    print("| model | threads | Anvil ms | ORT ms | ORT/Anvil | Anvil GFLOP/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        x_path = os.path.join(work, "x.npy")
        np.save(x_path, np.random.default_rng(0).standard_normal(
            (1, 3, args.size, args.size)).astype(np.float32))
        for arch in args.models.split(","):
            model = model_path(arch, args.size)
            artifact = os.path.join(work, arch + ".anvil")
            start = time.perf_counter()
            subprocess.run([args.anvilc, "-q", "-O2", model, "-o", artifact],
                           check=True)
            compile_s = time.perf_counter() - start
            error = check_output(args, model, artifact, x_path, work)
            print(f"<!-- {arch}: compiled in {compile_s:.1f} s; max |anvil - "
                  f"ort| / max |ort| = {error:.1e} -->", flush=True)
            if error > 1e-3:
                sys.exit(f"{arch}: Anvil's output differs from ONNX "
                         f"Runtime's ({error:.1e}): not timing it")
            flops = 2 * multiply_adds(model)
            for t in threads:
                anvil, ort_ms = [], []
                for _ in range(args.rounds):
                    anvil.append(time_anvil(args, artifact, x_path, t))
                    ort_ms.append(time_ort(args, model, x_path, t))
                ratios = [o / a for a, o in zip(anvil, ort_ms)]
                print(f"| {arch} | {t} | {spread(anvil)} | {spread(ort_ms)} | "
                      f"{spread(ratios)} | "
                      f"{flops / statistics.median(anvil) / 1e6:.0f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A statically (QDQ) and a dynamically quantized MLP: Anvil beside ONNX
Runtime.

Builds a stack of --blocks MLP blocks (MatMul d -> f, Relu, MatMul f -> d,
residual Add; seeded random weights) with a dynamic batch, quantizes it
with onnxruntime's own `quantize_static` (QDQ format, uint8 activations
calibrated on random batches, int8 weights per output channel) and with
`quantize_dynamic` (DynamicQuantizeLinear + MatMulInteger, int8 weights),
and times one forward pass of each batch size in --batches:

  Anvil: `anvilc -O2 --dim=batch=B` then `anvil-run --repeat --runs` (its
         median, min and max), for the float, QDQ and dynamic models;
  ORT:   an InferenceSession (graph optimizations on, the same thread
         count) in its own process, warmed up, --runs timed runs.

Prints one row per (batch, model) with the medians, min..max and
ORT/Anvil (above 1: Anvil is faster). Not a test: numbers depend on the
machine and its load. docs/quantization.md ("Static QDQ activations")
quotes a run.

Usage: bench/qdq_static.py [--anvilc build/bin/anvilc]
           [--anvil-run build/bin/anvil-run] [--work DIR] [--threads 2]
           [--batches 1,128] [--runs 15] [--dim 1024] [--ffn 2816]
           [--blocks 3]
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


def build_models(args, work):
    """The float MLP and its QDQ form, saved under `work`."""
    import logging
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_dynamic,
                                          quantize_static)
    logging.getLogger().setLevel(logging.ERROR)  # ORT's pre-processing hint
    rng = np.random.default_rng(0)
    d, f = args.dim, args.ffn
    nodes, inits, cur = [], [], "x"
    for i in range(args.blocks):
        w1 = (rng.standard_normal((d, f)) / np.sqrt(d)).astype(np.float32)
        w2 = (rng.standard_normal((f, d)) / np.sqrt(f)).astype(np.float32)
        inits += [numpy_helper.from_array(w1, f"w1_{i}"),
                  numpy_helper.from_array(w2, f"w2_{i}")]
        nodes += [helper.make_node("MatMul", [cur, f"w1_{i}"], [f"a{i}"]),
                  helper.make_node("Relu", [f"a{i}"], [f"r{i}"]),
                  helper.make_node("MatMul", [f"r{i}", f"w2_{i}"], [f"o{i}"]),
                  helper.make_node("Add", [f"o{i}", cur], [f"h{i}"])]
        cur = f"h{i}"
    nodes.append(helper.make_node("Identity", [cur], ["y"]))
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", d])],
        inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    fp32 = os.path.join(work, "mlp.onnx")
    qdq = os.path.join(work, "mlp.qdq.onnx")
    onnx.save(model, fp32)
    batches = [{"x": rng.standard_normal((16, d)).astype(np.float32)}
               for _ in range(4)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(batches)

        def get_next(self):
            return next(self.batches, None)

    quantize_static(fp32, qdq, Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True)
    dynamic = os.path.join(work, "mlp.dynamic.onnx")
    quantize_dynamic(fp32, dynamic, weight_type=QuantType.QInt8)
    return {"fp32": fp32, "qdq": qdq, "dynamic": dynamic}


def time_anvil(args, model, batch, x_path, work):
    art = os.path.join(work, f"{os.path.basename(model)}.b{batch}.anvil")
    subprocess.run([args.anvilc, "-q", "-O2", model, f"--dim=batch={batch}",
                    "-o", art], check=True)
    out = os.path.join(work, "out")
    run = subprocess.run(
        [args.anvil_run, art, "--threads", str(args.threads), "--input",
         f"x={x_path}", "--output-dir", out, "--repeat", str(args.runs)],
        check=True, capture_output=True, text=True)
    m = re.search(r"median ([\d.]+) ms, min ([\d.]+), max ([\d.]+)",
                  run.stdout + run.stderr)
    if not m:
        sys.exit(f"no timing in anvil-run's output: {run.stderr[-300:]}")
    return [float(v) for v in m.groups()]


def time_ort(args, model, x_path):
    run = subprocess.run(
        [sys.executable, __file__, "--ort-worker", model, x_path,
         str(args.threads), str(args.runs)],
        check=True, capture_output=True, text=True)
    return json.loads(run.stdout)


def ort_worker(model, x_path, threads, runs):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options,
                                   providers=["CPUExecutionProvider"])
    x = np.load(x_path)
    for _ in range(3):
        session.run(None, {"x": x})
    times = []
    for _ in range(int(runs)):
        start = time.perf_counter()
        session.run(None, {"x": x})
        times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps([statistics.median(times), min(times), max(times)]))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ort-worker":
        return ort_worker(*sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", default="build/bin/anvilc")
    ap.add_argument("--anvil-run", default="build/bin/anvil-run")
    ap.add_argument("--work", help="scratch folder (default: a temporary one)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,128")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--ffn", type=int, default=2816)
    ap.add_argument("--blocks", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or tmp
        os.makedirs(work, exist_ok=True)
        models = build_models(args, work)
        print(f"MLP {args.blocks} x ({args.dim} -> {args.ffn} -> {args.dim})"
              f", {args.threads} threads, median (min..max) of {args.runs}")
        print("| batch | model | Anvil ms | ORT ms | ORT/Anvil |")
        print("|---|---|---|---|---|")
        for batch in [int(b) for b in args.batches.split(",")]:
            x = np.random.default_rng(batch).standard_normal(
                (batch, args.dim)).astype(np.float32)
            x_path = os.path.join(work, f"x{batch}.npy")
            np.save(x_path, x)
            for name, model in models.items():
                a = time_anvil(args, model, batch, x_path, work)
                o = time_ort(args, model, x_path)
                print(f"| {batch} | {name} | {a[0]:.3f} ({a[1]:.3f}.."
                      f"{a[2]:.3f}) | {o[0]:.3f} ({o[1]:.3f}..{o[2]:.3f}) | "
                      f"{o[0] / a[0]:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Matmul epilogues (anvil-fuse-matmul-epilogue) end to end: small ONNX
models whose MatMul is followed by elementwise ops, compiled by anvilc at
-O2 (which fuses them into the matmul kernel) and with --no-fuse-epilogues,
run by anvil-run.

Each case checks that
  - `anvilc --emit=kernel` shows the expected number of `kernel.epilogue`
    loops (0 where the pass must refuse),
  - the fused artifact's outputs are the same bits as the unfused one's
    (the epilogue computes the loop's own operations), and
  - for float models, both match ONNX Runtime within
    |anvil - ort| <= 1e-5 + 1e-4 |ort| (float32 sums in another order).
Quantized variants (--quantize=...) have no ORT counterpart: their float
numerics are matmul-quant.test's; here they must be bit-identical fused and
unfused, through every matmul_quant path (decode GEMV, small batches,
prefill tiles, W8A8/W4A8), for --mcpu=native and the AVX2 (x86-64-v3) and
portable (x86-64-v2) kernels; a level this CPU cannot run is skipped with
a printed reason.

Cases:
  bias_relu_residual  Relu(x W + b) + r over [2, 5, 40] rows, W [40, 70]
  gemv_wide           one row, W [300, 1030] (the wide decode GEMV), + b,
                      then * a per-row scale
  per_row_scale       x W * s with s [7, 1], + a constant
  swiglu              (x Wg) * sigmoid(x Wg) * (x Wu): two matmuls, one loop
  partial_broadcast   x W + p with p [2, 1, N] over [2, 3, N] rows: not
                      fusable (0 epilogues), still correct
  bounded_rows        x ['seq', 64] with --dim=seq=1..64, run at seq 1 and 37
  quant_MODE          bias_relu_residual-like at 1, 5 and 37 rows with
                      --quantize=MODE (int8, int4-g32, w8a8, w4a8-g32)

Usage: run_matmul_epilogue.py --anvilc anvilc --anvil-run anvil-run
       --work DIR [--filter REGEX]
Prints `ok NAME`, `skip NAME: why` or `FAIL NAME: why` per case and level,
then `matmul-epilogue: N passed, M failed, K skipped`; exits nonzero on a
failure.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
OPSET = 17


def make(nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def info(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, array):
    return numpy_helper.from_array(array.astype(np.float32), name)


def bias_relu_residual(rng, rows=(2, 5), k=40, n=70):
    w = rng.standard_normal((k, n)) / np.sqrt(k)
    b = rng.standard_normal(n)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["h"]),
             helper.make_node("Relu", ["h"], ["a"]),
             helper.make_node("Add", ["a", "r"], ["y"])]
    model = make(nodes, [info("x", [*rows, k]), info("r", [*rows, n])],
                 [info("y", [*rows, n])], [const("w", w), const("b", b)])
    if any(isinstance(d, str) for d in rows):  # the caller picks the rows
        return model, None, 1
    inputs = {"x": rng.standard_normal((*rows, k)).astype(np.float32),
              "r": rng.standard_normal((*rows, n)).astype(np.float32)}
    return model, inputs, 1


def gemv_wide(rng):
    k, n = 300, 1030
    w = rng.standard_normal((k, n)) / np.sqrt(k)
    b = rng.standard_normal(n)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["h"]),
             helper.make_node("Mul", ["h", "s"], ["y"])]
    model = make(nodes, [info("x", [1, k]), info("s", [1, 1])],
                 [info("y", [1, n])], [const("w", w), const("b", b)])
    inputs = {"x": rng.standard_normal((1, k)).astype(np.float32),
              "s": np.array([[1.5]], np.float32)}
    return model, inputs, 1


def per_row_scale(rng):
    m, k, n = 7, 33, 50
    w = rng.standard_normal((k, n)) / np.sqrt(k)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]),
             helper.make_node("Mul", ["xw", "s"], ["h"]),
             helper.make_node("Add", ["h", "c"], ["y"])]
    model = make(nodes, [info("x", [m, k]), info("s", [m, 1])],
                 [info("y", [m, n])],
                 [const("w", w), const("c", np.array([0.25]))])
    inputs = {"x": rng.standard_normal((m, k)).astype(np.float32),
              "s": rng.uniform(0.5, 2, size=(m, 1)).astype(np.float32)}
    return model, inputs, 1


def swiglu(rng):
    m, k, n = 6, 64, 96
    wg = rng.standard_normal((k, n)) / np.sqrt(k)
    wu = rng.standard_normal((k, n)) / np.sqrt(k)
    nodes = [helper.make_node("MatMul", ["x", "wg"], ["g"]),
             helper.make_node("MatMul", ["x", "wu"], ["u"]),
             helper.make_node("Sigmoid", ["g"], ["sg"]),
             helper.make_node("Mul", ["g", "sg"], ["silu"]),
             helper.make_node("Mul", ["silu", "u"], ["y"])]
    model = make(nodes, [info("x", [m, k])], [info("y", [m, n])],
                 [const("wg", wg), const("wu", wu)])
    return model, {"x": rng.standard_normal((m, k)).astype(np.float32)}, 1


def partial_broadcast(rng):
    k, n = 24, 40
    w = rng.standard_normal((k, n)) / np.sqrt(k)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "p"], ["y"])]
    model = make(nodes, [info("x", [2, 3, k]), info("p", [2, 1, n])],
                 [info("y", [2, 3, n])], [const("w", w)])
    inputs = {"x": rng.standard_normal((2, 3, k)).astype(np.float32),
              "p": rng.standard_normal((2, 1, n)).astype(np.float32)}
    return model, inputs, 0


def bounded_rows(rng):
    model, _, fused = bias_relu_residual(rng, rows=("seq",), k=64, n=100)
    runs = []
    for seq in (1, 37):
        runs.append({"x": rng.standard_normal((seq, 64)).astype(np.float32),
                     "r": rng.standard_normal((seq, 100)).astype(np.float32)})
    return model, runs, fused, ["--dim=seq=1..64"]


def kernel_epilogues(args, path, flags):
    """The number of kernel.epilogue loops anvilc emits, or an error text
    (also when a --quantize'd model's matmul is not matmul_quant)."""
    run = subprocess.run([args.anvilc, "-q", *flags, path, "--emit=kernel"],
                         capture_output=True, text=True)
    if run.returncode:
        return f"anvilc --emit=kernel failed: {run.stderr.strip()[-500:]}"
    if any(f.startswith("--quantize=") for f in flags) and \
            'kernel.launch "matmul_quant"' not in run.stdout:
        return "the quantized model does not launch matmul_quant"
    return run.stdout.count("{kernel.epilogue}")


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and \
        a.tobytes() == b.tobytes()


def check(args, name, model, runs, fused, flags, reference=True):
    """Compiles `model` fused and unfused with `flags` and runs each input
    set of `runs`; None or why not."""
    path = os.path.join(args.work, name + ".onnx")
    onnx.save(model, path)
    count = kernel_epilogues(args, path, flags)
    if isinstance(count, str):
        return count
    if count != fused:
        return f"{count} kernel.epilogue loops, expected {fused}"
    unfused = kernel_epilogues(args, path, [*flags, "--no-fuse-epilogues"])
    if unfused != 0:
        return f"--no-fuse-epilogues still shows {unfused} epilogues"
    for r, inputs in enumerate(runs):
        got = {}
        for variant, extra in (("fused", []),
                               ("unfused", ["--no-fuse-epilogues"])):
            out, error = e2e_harness.compile_and_run(
                args.anvilc, args.anvil_run, args.work,
                f"{name}.{variant}.{r}", model, inputs,
                anvilc_flags=[*flags, *extra])
            if error:
                return f"{variant}: {error}"
            got[variant] = out
        for out in got["fused"]:
            if not same_bits(got["fused"][out], got["unfused"][out]):
                diff = np.max(np.abs(got["fused"][out].astype(np.float64) -
                                     got["unfused"][out]))
                return (f"run {r}: {out} fused differs from unfused "
                        f"(max |diff| {diff:.3g})")
        if reference:
            session = ort.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
            expected = dict(zip([o.name for o in model.graph.output],
                                session.run(None, inputs)))
            problems = e2e_harness.compare_outputs(got["fused"], expected,
                                                   RTOL, ATOL)
            if problems:
                return f"run {r}: {problems[0]}"
    return None


QUANT_MODES = ["int8", "int4-g32", "w8a8", "w4a8-g32"]
LEVELS = [("native", None), ("x86-64-v3", "avx2"), ("x86-64-v2", None)]


def level_supported(feature):
    if feature is None:
        return True
    try:
        with open("/proc/cpuinfo") as f:
            return feature in f.read().split()
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cases = []
    for build in (bias_relu_residual, gemv_wide, per_row_scale, swiglu,
                  partial_broadcast, bounded_rows):
        cases.append((build.__name__, build, [], True))
    for mode in QUANT_MODES:
        for level, _ in LEVELS:
            cases.append((f"quant_{mode}_{level}", None,
                          [f"--quantize={mode}", f"--mcpu={level}"], False))
    passed = failed = skipped = 0
    for name, build, flags, reference in cases:
        if not re.search(args.filter, name):
            continue
        rng = np.random.default_rng(11)
        if build is None:
            level = flags[1].split("=", 1)[1]
            feature = dict(LEVELS)[level]
            if not level_supported(feature):
                skipped += 1
                print(f"skip {name}: this CPU lacks {feature}")
                continue
            # 1 row (the decode GEMVs), 5 (small-batch tiles) and 37
            # (prefill tiles), K a multiple of the int4 group.
            model, _, fused = bias_relu_residual(rng, rows=("seq",), k=64,
                                                 n=100)
            runs = [{"x": rng.standard_normal((s, 64)).astype(np.float32),
                     "r": rng.standard_normal((s, 100)).astype(np.float32)}
                    for s in (1, 5, 37)]
            flags = [*flags, "--dim=seq=1..64"]
        else:
            model, inputs, fused, *extra = build(rng)
            runs = inputs if isinstance(inputs, list) else [inputs]
            flags = extra[0] if extra else []
        problem = check(args, name, model, runs, fused, flags, reference)
        if problem:
            failed += 1
            print(f"FAIL {name}: {problem}")
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"matmul-epilogue: {passed} passed, {failed} failed, "
          f"{skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

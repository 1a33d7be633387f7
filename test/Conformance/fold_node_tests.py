#!/usr/bin/env python3
"""Checks Anvil's constant folding against ONNX's own node-test outputs.

For every backend node test (the `_expanded` function bodies too), every graph input is given at
compile time (`anvilc --constant-input=NAME=input_N.pb`) and the model is
compiled at -O2. When folding turns the whole function into constants, the
folded results must equal the test's reference outputs (output_N.pb):
exactly for integers and booleans; for float32/64 within rtol 1e-5 / atol
1e-6, for float16 within rtol 2e-3 / atol 2e-3 (two units in the last place
at 1.0: the reference rounds every intermediate to float16, folding rounds
each op's result); NaNs must match NaNs. Folding evaluates shape arithmetic and small
constant subgraphs at compile time, so a wrong folder is a silent wrong
answer at run time; this is its independent check.

Usage: fold_node_tests.py [--anvilc PATH] [--filter REGEX] [--min-folded N] [-v]
Prints 'fold: N passed, M failed' (passed = folded and equal; failed =
folded and different). Tests that do not fold completely are counted as
skipped. Exits 1 on any mismatch or when fewer than --min-folded tests
fold (so a change that stops folding cannot pass by skipping).
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper

ELEMENT_TYPES = {
    "f32": np.float32, "f64": np.float64, "f16": np.float16,
    "i64": np.int64, "i32": np.int32, "i16": np.int16, "i8": np.int8,
    "i1": np.bool_, "ui8": np.uint8, "ui16": np.uint16, "ui32": np.uint32,
    "ui64": np.uint64,
}
UINT_OF = {np.float32: np.uint32, np.float64: np.uint64, np.float16: np.uint16}
CONST_RE = re.compile(
    r"^\s*(%\w+) = anvil\.constant (dense(?:_resource)?<.*>) : tensor<([^>]*)>$")
RETURN_RE = re.compile(r"^\s*return (.*) : .*$")
RESOURCE_RE = re.compile(r'^\s*([\w.:/-]+): "0x([0-9A-Fa-f]*)"')


def parse_type(text):
    parts = text.split("x")
    return tuple(int(p) for p in parts[:-1]), ELEMENT_TYPES.get(parts[-1])


def scalar(token, dtype):
    token = token.strip()
    if dtype == np.bool_:
        return token == "true"
    if token.startswith("0x") and dtype in UINT_OF:  # NaN/inf as bit patterns
        return np.array(int(token, 16), dtype=UINT_OF[dtype]).view(dtype)
    return dtype(float(token)) if np.issubdtype(dtype, np.floating) else \
        dtype(int(token))


def parse_dense(body, shape, dtype, resources):
    if body.startswith("dense_resource<"):
        raw = bytes.fromhex(resources[body[len("dense_resource<"):-1]])
        return np.frombuffer(raw[4:], dtype=dtype).reshape(shape)  # 4: align
    inner = body[len("dense<"):-1]
    if inner.startswith('"0x'):
        return np.frombuffer(bytes.fromhex(inner[3:-1]), dtype=dtype) \
            .reshape(shape) if dtype != np.bool_ else None
    tokens = re.findall(r"[^\[\],\s]+", inner)
    values = np.array([scalar(t, dtype) for t in tokens], dtype=dtype)
    if values.size == 1 and int(np.prod(shape)) != 1:
        return np.full(shape, values[0], dtype=dtype)  # splat
    return values.reshape(shape)


def folded_outputs(ir):
    """The returned values if every one is a constant, else None."""
    constants, resources, returned = {}, {}, None
    for line in ir.splitlines():
        m = RESOURCE_RE.match(line)
        if m:
            resources[m.group(1)] = m.group(2)
    for line in ir.splitlines():
        m = CONST_RE.match(line)
        if m:
            constants[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = RETURN_RE.match(line)
        if m:
            returned = [v.strip() for v in m.group(1).split(",")]
    if returned is None or any(v not in constants for v in returned):
        return None
    outputs = []
    for v in returned:
        body, type_text = constants[v]
        shape, dtype = parse_type(type_text)
        if dtype is None:
            return None
        value = parse_dense(body, shape, dtype, resources)
        if value is None:
            return None
        outputs.append(value)
    return outputs


def check(anvilc, test_dir):
    model_path = os.path.join(test_dir, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    data = os.path.join(test_dir, "test_data_set_0")
    initializers = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    flags = []
    for index, value in enumerate(inputs):
        path = os.path.join(data, f"input_{index}.pb")
        if not os.path.exists(path):
            return "skip", "input data missing"
        flags.append(f"--constant-input={value.name}={path}")
    run = subprocess.run(
        [anvilc, model_path, "-q", "-O2", "--print-weights",
         "--mlir-print-elementsattrs-with-hex-if-larger=-1", "-o", "-"]
        + flags, capture_output=True, text=True, timeout=60)
    if run.returncode < 0:
        return "fail", f"anvilc killed by signal {-run.returncode}"
    if run.returncode != 0:
        return "skip", "does not import"
    outputs = folded_outputs(run.stdout)
    if outputs is None:
        return "skip", "not folded completely"
    # Tests whose stored outputs contradict the spec are checked
    # against ONNX Runtime instead (see ORT_REFERENCE in exec_node_tests.py).
    from exec_node_tests import ORT_REFERENCE, ort_outputs
    reference = None
    if os.path.basename(os.path.normpath(test_dir)) in ORT_REFERENCE:
        values = {value.name: onnx.load_tensor(
            os.path.join(data, f"input_{index}.pb"))
            for index, value in enumerate(inputs)}
        by_name = ort_outputs(model_path, values)
        reference = [by_name[o.name] for o in model.graph.output]
    for index, got in enumerate(outputs):
        ref = reference[index] if reference else onnx.numpy_helper.to_array(
            onnx.load_tensor(os.path.join(data, f"output_{index}.pb")))
        if got.shape != ref.shape:
            return "fail", f"output {index}: shape {got.shape} != {ref.shape}"
        if np.issubdtype(ref.dtype, np.floating):
            tol = 2e-3 if ref.dtype == np.float16 else 1e-5
            if not np.allclose(got.astype(np.float64), ref.astype(np.float64),
                               rtol=tol, atol=tol / 10 if tol < 1e-3 else tol,
                               equal_nan=True):
                return "fail", (f"output {index}: max diff "
                                f"{np.nanmax(np.abs(got - ref))}")
        elif not np.array_equal(got.astype(ref.dtype), ref):
            return "fail", f"output {index}: {got.tolist()} != {ref.tolist()}"
    return "pass", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", default="anvilc")
    ap.add_argument("--filter", default="")
    ap.add_argument("--min-folded", type=int, default=0)
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    root = os.path.join(os.path.dirname(onnx.__file__), "backend", "test",
                        "data", "node")
    dirs = sorted(d for d in glob.glob(os.path.join(root, "*"))
                  if re.search(args.filter, os.path.basename(d))
                  )
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        for d, r in zip(dirs, pool.map(lambda d: check(args.anvilc, d), dirs)):
            results[os.path.basename(d)] = r
    passed = [n for n, (s, _) in results.items() if s == "pass"]
    failed = [(n, why) for n, (s, why) in results.items() if s == "fail"]
    skipped = len(results) - len(passed) - len(failed)
    for name, why in failed:
        print(f"MISMATCH {name}: {why}")
    if args.v:
        for name in passed:
            print(f"folded and equal: {name}")
    print(f"fold: {len(passed)} passed, {len(failed)} failed, "
          f"{skipped} skipped")
    if len(passed) + len(failed) < args.min_folded:
        print(f"only {len(passed) + len(failed)} tests folded completely; "
              f"expected at least {args.min_folded}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

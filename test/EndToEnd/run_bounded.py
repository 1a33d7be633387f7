#!/usr/bin/env python3
"""One artifact per model with a bounded dim, run at several sizes, each
compared with ONNX Runtime at that size (float32: 1e-4 + 1e-3 |ref|).

BERT is compiled once with --dim=batch_size=1,sequence_length=1..128 and
ResNet-18 with --dim=batch_size=1..8 (MobileNetV2 1..4; the bundled
decoder's prefill with sequence_length=1..64); each runs at three sizes inside the
bounds on seeded random inputs, and a size outside the bounds must be
refused.

The artifact runs through anvil-run, whose runtime checks the inputs
against the bounds and passes the sizes to the entry point (ABI v2).

Usage: run_bounded.py --anvilc anvilc --anvil-run anvil-run
       --models models --work DIR
Prints one line per run and 'bounded: N passed, M failed'.
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

FLOAT_ATOL = 1e-4
FLOAT_RTOL = 1e-3

# model file, --dim flags, the sizes to run, sizes outside the bounds.
# Paths are relative to --models (the repository's models/ folder).
MODELS = [
    ("zoo/bert.onnx", ["--dim=batch_size=1,sequence_length=1..128"],
     [{"sequence_length": n} for n in (1, 9, 128)], {"sequence_length": 129}),
    ("zoo/resnet18.onnx", ["--dim=batch_size=1..8"],
     [{"batch_size": n} for n in (1, 3, 8)], {"batch_size": 9}),
    ("zoo/mobilenetv2.onnx", ["--dim=batch_size=1..4"],
     [{"batch_size": n} for n in (1, 2, 4)], {"batch_size": 5}),
    # The bundled decoder's prefill: any prompt length up to 64 tokens.
    ("default/model.onnx",
     ["--dim=batch_size=1,sequence_length=1..64,past_sequence_length=0"],
     [{"sequence_length": n} for n in (1, 13, 64)], {"sequence_length": 65}),
]


def bound_sizes(flags):
    """The sizes --dim binds to one value (name=size)."""
    bound = {}
    for flag in flags:
        for entry in flag[len("--dim="):].split(","):
            name, value = entry.split("=")
            if value.isdigit():
                bound[name] = int(value)
    return bound


def dim_value(d, sizes):
    if isinstance(d, int):
        return d
    total = 0
    for term in d.split("+"):
        term = term.strip()
        total += int(term) if term.isdigit() else sizes.get(term, 1)
    return total  # unnamed or unbounded dims (batch_size) are 1


def inputs_for(session, sizes, rng, bound):
    sizes = {**bound, **sizes}
    feeds = {}
    past = sizes.get("past_sequence_length", 0)
    for inp in session.get_inputs():
        shape = [dim_value(d, sizes) for d in inp.shape]
        if inp.type == "tensor(int64)":
            if "mask" in inp.name:
                value = np.ones(shape, np.int64)
                if not past:  # some padding (decoders keep every key)
                    value[..., shape[-1] // 2 + 1:] = 0
            elif "position" in inp.name:
                value = np.broadcast_to(
                    np.arange(past, past + shape[-1], dtype=np.int64),
                    shape).copy()
            elif "type" in inp.name:
                value = rng.integers(0, 2, shape).astype(np.int64)
            else:
                value = rng.integers(0, 512, shape).astype(np.int64)
        else:
            value = rng.standard_normal(shape).astype(np.float32)
        feeds[inp.name] = value
    return feeds


def compare(name, got, want):
    if got.shape != want.shape:
        return f"{name}: shape {got.shape}, ONNX Runtime {want.shape}"
    w = want.astype(np.float64)
    err = np.abs(got.astype(np.float64) - w)
    bound = FLOAT_ATOL + FLOAT_RTOL * np.abs(w)
    bad = (err > bound) | (np.isnan(got) != np.isnan(want))
    if bad.any():
        return (f"{name}: {int(bad.sum())} of {want.size} elements out of "
                f"tolerance, max abs error {np.nanmax(err):.3g}")
    return None


def describe(sizes):
    return ",".join(f"{k}={v}" for k, v in sizes.items())


def run_anvil_run(args, artifact, feeds, work):
    paths = []
    for i, (name, value) in enumerate(feeds.items()):
        path = os.path.join(work, f"input{i}.npy")
        np.save(path, value)
        paths += ["--input", f"{name}={path}"]
    out_dir = os.path.join(work, "outputs")
    shutil.rmtree(out_dir, ignore_errors=True)
    run = subprocess.run([args.anvil_run, artifact, "--output-dir", out_dir]
                         + paths, capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip()[-2000:]
    outputs = {}
    for f in os.listdir(out_dir):
        outputs[os.path.splitext(f)[0]] = np.load(os.path.join(out_dir, f))
    return outputs, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    import onnxruntime as ort

    passed = failed = 0
    rng = np.random.default_rng(0)
    for file, flags, runs, outside in MODELS:
        model = os.path.join(args.models, file)
        work = os.path.join(args.work, os.path.splitext(file)[0])
        bound = bound_sizes(flags)
        file = os.path.basename(file)
        os.makedirs(work, exist_ok=True)
        session = ort.InferenceSession(model,
                                       providers=["CPUExecutionProvider"])
        artifact = os.path.join(work, "model.anvil")
        subprocess.run([args.anvilc, "-q", "-O2", model, "-o", artifact]
                       + flags, check=True)
        for sizes in runs:
            feeds = inputs_for(session, sizes, rng, bound)
            want = dict(zip([o.name for o in session.get_outputs()],
                            session.run(None, feeds)))
            got, error = run_anvil_run(args, artifact, feeds, work)
            problems = [error] if error else []
            for name, ref in ([] if error else want.items()):
                key = name.replace("/", "_").replace(":", "_")
                if key not in got and name not in got:
                    problems.append(f"{name}: no output")
                    continue
                problem = compare(name, got.get(name, got.get(key)), ref)
                if problem:
                    problems.append(problem)
            label = f"{file} {describe(sizes)}"
            if problems:
                failed += 1
                print(f"FAIL {label}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"ok   {label}: {len(want)} outputs")
        feeds = inputs_for(session, outside, rng, bound)
        got, error = run_anvil_run(args, artifact, feeds, work)
        label = f"{file} {describe(outside)} (outside the bounds)"
        if error:
            passed += 1
            print(f"ok   {label}: refused")
        else:
            failed += 1
            print(f"FAIL {label}: ran instead of being refused")
    print(f"bounded: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

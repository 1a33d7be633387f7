#!/usr/bin/env python3
"""Compiles every zoo model to an artifact, runs it, compares with ONNX Runtime.

For each model in the manifests of the given folders, binds every graph
input to the shape of the reference input in its .npz (recorded from ONNX
Runtime by models/export_zoo.py), compiles with `anvilc -O2 -o M.anvil`,
runs `anvil-run M.anvil --input ... --output-dir`, and compares every output
with the reference.

Tolerances, per dtype: float32 outputs must satisfy
|anvil - ort| <= 1e-4 + 1e-3 * |ort| elementwise (float32 kernels that sum
in a different order than ONNX Runtime differ by a few ulps per product
term; a real bug shows up orders of magnitude above this), infinities
equal and NaN exactly where ONNX Runtime has NaN; integer and bool
outputs must be equal.

Usage: run_zoo.py --anvilc anvilc --anvil-run anvil-run --work DIR
                  --models models/zoo [models/default] [--only NAME...]
                  [--xfail NAME...]
Prints one line per model and 'zoo: N passed, M failed'.  A model named by
--xfail is expected to fail (an op Anvil does not have yet): its failure
prints 'xfail NAME: <first problem>' and is not counted as failed; if it
passes it prints 'XPASS NAME' and counts as failed, so the test that lists
it must be updated to check it.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import zoo_models  # noqa: E402

FLOAT_ATOL = 1e-4
FLOAT_RTOL = 1e-3


def compare(name, got, want):
    if got.shape != want.shape:
        return f"{name}: shape {got.shape}, ONNX Runtime {want.shape}"
    if got.dtype != want.dtype:
        return f"{name}: dtype {got.dtype}, ONNX Runtime {want.dtype}"
    if np.issubdtype(want.dtype, np.floating):
        w = want.astype(np.float64)
        g = got.astype(np.float64)
        finite = np.isfinite(w)
        with np.errstate(invalid="ignore"):
            err = np.where(finite, np.abs(g - w), 0.0)
        bound = FLOAT_ATOL + FLOAT_RTOL * np.abs(np.where(finite, w, 0.0))
        nan_mismatch = np.isnan(got) != np.isnan(want)
        # Infinities must be equal; NaN is checked by nan_mismatch.
        bad = (err > bound) | (np.isinf(w) & (g != w))
        if nan_mismatch.any() or bad.any():
            return (f"{name}: {int(bad.sum() + nan_mismatch.sum())} of "
                    f"{want.size} elements out of tolerance, max abs error "
                    f"{np.nanmax(err) if err.size else 0:.3g}")
        return None
    if not np.array_equal(got, want):
        return f"{name}: {int((got != want).sum())} of {want.size} differ"
    return None


def check(args, folder, entry):
    name = entry["file"]
    stem = os.path.splitext(name)[0]
    refs = np.load(os.path.join(folder, entry["reference"]["file"]))
    work = os.path.join(args.work, stem)
    os.makedirs(work, exist_ok=True)
    flags = zoo_models.input_shape_flags(refs)
    run_inputs = []
    for key in refs.files:
        if not key.startswith("input:"):
            continue
        input_name = key[len("input:"):]
        path = os.path.join(work, f"input{len(run_inputs)}.npy")
        np.save(path, refs[key])
        run_inputs += ["--input", f"{input_name}={path}"]
    artifact = os.path.join(work, stem + ".anvil")
    compile_cmd = [args.anvilc, "-q", "-O2", os.path.join(folder, name),
                   "-o", artifact] + flags
    run = subprocess.run(compile_cmd, capture_output=True, text=True)
    if run.returncode != 0:
        # The first error line, then the tail of the rest.
        first, _, rest = run.stderr.strip().partition("\n")
        return [f"anvilc failed: {first}"
                + (f"\n{rest[-2000:]}" if rest else "")], 0, 0
    out_dir = os.path.join(work, "outputs")
    run = subprocess.run([args.anvil_run, artifact, "--output-dir", out_dir]
                         + run_inputs, capture_output=True, text=True)
    if run.returncode != 0:
        return [f"anvil-run failed: {run.stderr.strip()[-2000:]}"], 0, 0
    problems = []
    compared = 0
    worst = 0.0
    for key in refs.files:
        if not key.startswith("output:"):
            continue
        compared += 1
        out = key[len("output:"):]
        stem_out = out.replace("/", "_").replace(":", "_")
        path = os.path.join(out_dir, stem_out + ".npy")
        if not os.path.exists(path):
            problems.append(f"{out}: anvil-run wrote no output")
            continue
        got = np.load(path)
        problem = compare(out, got, refs[key])
        if problem:
            problems.append(problem)
        elif got.size and np.issubdtype(got.dtype, np.floating):
            worst = max(worst, float(np.nanmax(np.abs(
                got.astype(np.float64) - refs[key].astype(np.float64)))))
    if compared == 0:
        problems.append("the reference holds no outputs")
    return problems, compared, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True, help="folder for artifacts")
    ap.add_argument("--models", required=True, nargs="+",
                    help="folders holding a manifest.json")
    ap.add_argument("--only", nargs="*", help="model files to check")
    ap.add_argument("--xfail", nargs="*", default=[],
                    help="model files expected to fail")
    args = ap.parse_args()
    passed = failed = xfailed = 0
    for folder, entry in zoo_models.entries(args.models):
        if args.only and entry["file"] not in args.only:
            continue
        problems, compared, worst = check(args, folder, entry)
        if entry["file"] in args.xfail:
            if problems:
                xfailed += 1
                first = problems[0].strip().splitlines()[0]
                print(f"xfail {entry['file']}: {first}")
            else:
                failed += 1
                print(f"XPASS {entry['file']}: passes, expected to fail")
        elif problems:
            failed += 1
            print(f"FAIL {entry['file']}")
            for p in problems:
                print(f"  {p}")
        else:
            passed += 1
            print(f"ok   {entry['file']}: {compared} outputs, max abs "
                  f"error {worst:.2g}")
        sys.stdout.flush()
    print(f"zoo: {passed} passed, {failed} failed"
          + (f", {xfailed} expected failures" if args.xfail else ""))
    return 1 if failed or not (passed or xfailed) else 0


if __name__ == "__main__":
    sys.exit(main())

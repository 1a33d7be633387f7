#!/usr/bin/env python3
"""Checks Anvil's shape inference against ONNX Runtime on every zoo model.

For each model in the manifests of the given folders (models/zoo and
models/default), binds every graph input to the
shape of the reference input stored in its .npz (recorded from ONNX Runtime
by models/export_zoo.py), compiles with `anvilc -O2 --summary`, and compares
the function's result types with the shapes and dtypes of the reference
outputs. With all inputs bound, every intermediate must also be static
("results with dynamic dims: 0"): the exporters' shape arithmetic folded.

Usage: check_output_shapes.py --anvilc anvilc --models models/zoo models/default
Prints one line per model and 'shapes: N passed, M failed'.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import zoo_models  # noqa: E402

DTYPES = {"float32": "f32", "float16": "f16", "int64": "i64", "int32": "i32",
          "bool": "i1", "float64": "f64"}


def expected_type(array):
    dims = "x".join(str(d) for d in array.shape)
    elem = DTYPES[str(array.dtype)]
    return f"tensor<{dims}x{elem}>" if dims else f"tensor<{elem}>"


def check(anvilc, models_dir, entry):
    name = entry["file"]
    refs = np.load(os.path.join(models_dir, entry["reference"]["file"]))
    flags = zoo_models.input_shape_flags(refs)
    cmd = [anvilc, "-q", "-O2", "--summary", "-o", os.devnull,
           os.path.join(models_dir, name)] + flags
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        return [f"anvilc failed: {run.stderr.strip()}"]
    outputs = dict(re.findall(r"^  output (\S+): (\S+)$", run.stderr, re.M))
    problems = []
    for key in refs.files:
        if not key.startswith("output:"):
            continue
        out = key[len("output:"):]
        want = expected_type(refs[key])
        got = outputs.get(out)
        if got != want:
            problems.append(f"output {out}: anvil infers {got}, ONNX Runtime "
                            f"produced {want}")
    dynamic = re.search(r"results with dynamic dims: (\d+)", run.stderr)
    if not dynamic or dynamic.group(1) != "0":
        problems.append("intermediate results still have dynamic dims: "
                        + (dynamic.group(1) if dynamic else "?"))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--anvilc", default="anvilc")
    ap.add_argument("--models", required=True, nargs="+",
                    help="folders holding a manifest.json")
    args = ap.parse_args()
    passed = failed = 0
    for folder, entry in zoo_models.entries(args.models):
        problems = check(args.anvilc, folder, entry)
        if problems:
            failed += 1
            print(f"FAIL {entry['file']}")
            for p in problems:
                print(f"  {p}")
        else:
            passed += 1
            print(f"ok   {entry['file']}")
    print(f"shapes: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())

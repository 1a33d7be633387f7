#!/usr/bin/env python3
"""Runs Inputs/rope-rmsnorm-options.mlir's artifact and checks it against float64 numpy.

Reference (written from the op definitions, not from Anvil's output):
  rope, rotary_dim r, half-split pairs (i, i + r/2) within the first r
  elements; interleaved pairs (2i, 2i+1); elements r.. pass through.
  rms_norm with unit_offset: x / sqrt(mean(x^2) + eps) * (1 + w).
Tolerance: |anvil - ref| <= 1e-5 + 1e-5 |ref| (float32 outputs of double
arithmetic). Prints one line per output and 'options: N passed, M failed'.
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def rope(x, cos, sin, rot, interleaved):
    y = x.copy()
    half = rot // 2
    if interleaved:
        a, b = x[..., 0:rot:2], x[..., 1:rot:2]
        y[..., 0:rot:2] = a * cos - b * sin
        y[..., 1:rot:2] = b * cos + a * sin
    else:
        a, b = x[..., :half], x[..., half:rot]
        y[..., :half] = a * cos - b * sin
        y[..., half:rot] = b * cos + a * sin
    return y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--anvil-run", required=True)
    parser.add_argument("--artifact", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    inputs = {
        "x": rng.standard_normal((2, 3, 5, 12)).astype(np.float32),
        "cos": np.cos(rng.uniform(0, 6, (1, 1, 5, 4))).astype(np.float32),
        "sin": np.sin(rng.uniform(0, 6, (1, 1, 5, 4))).astype(np.float32),
        "h": rng.standard_normal((2, 3, 12)).astype(np.float32),
        "w": rng.standard_normal(12).astype(np.float32),
    }
    os.makedirs(args.work, exist_ok=True)
    cmd = [args.anvil_run, args.artifact, "--output-dir", args.work]
    for name, value in inputs.items():
        path = os.path.join(args.work, f"in_{name}.npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    d = {k: v.astype(np.float64) for k, v in inputs.items()}
    h = d["h"]
    refs = {
        "rope_half": rope(d["x"], d["cos"], d["sin"], 8, False),
        "rope_pairs": rope(d["x"], d["cos"], d["sin"], 8, True),
        "norm": h / np.sqrt((h * h).mean(-1, keepdims=True) + 1e-6)
        * (1.0 + d["w"]),
    }
    failed = 0
    for name, ref in refs.items():
        got = np.load(os.path.join(args.work, f"{name}.npy")).astype(np.float64)
        err = np.abs(got - ref)
        ok = got.shape == ref.shape and bool(
            (err <= 1e-5 + 1e-5 * np.abs(ref)).all())
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: max abs error {err.max():.3g}")
    print(f"options: {len(refs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

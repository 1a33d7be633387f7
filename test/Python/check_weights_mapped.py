#!/usr/bin/env python3
"""Weights are mapped from the artifact file, never copied (DESIGN.md,
issue #12): a model with a 64 MiB weight is loaded and run through
anvil.Model while this process's /proc/self/status counts what it holds.

  - RssAnon (private, anonymous memory: heap, arena, copies) grows by less
    than 16 MiB across load and run: no copy of the weights;
  - RssFile (pages mapped from files) grows by at least 48 MiB: the run
    read the weights through the artifact's mapping;
  - the result matches float64 numpy within 1e-5 + 1e-4 |ref| (the panel
    kernel sums in float32).

Usage: check_weights_mapped.py --anvilc anvilc --work DIR
Prints `weights-mapped: ok (...)` or `weights-mapped: FAIL why`."""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import anvil

K, N = 2048, 8192  # 64 MiB of float32


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((K, N)) / np.sqrt(K)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, N])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    path = os.path.join(args.work, "big.onnx")
    onnx.save(model, path, save_as_external_data=True,
              location="big.onnx.data")
    artifact = os.path.join(args.work, "big.anvil")
    subprocess.run([args.anvilc, "-q", path, "-o", artifact], check=True)
    x = rng.standard_normal((1, K)).astype(np.float32)
    del w, model, graph

    anon0, file0 = status_kib("RssAnon"), status_kib("RssFile")
    m = anvil.Model(artifact)
    y = m.run({"x": x})["y"]
    anon1, file1 = status_kib("RssAnon"), status_kib("RssFile")

    w = numpy_helper.to_array(onnx.load(path).graph.initializer[0])
    ref = x.astype(np.float64) @ w.astype(np.float64)
    problems = []
    if not np.all(np.abs(y - ref) <= 1e-5 + 1e-4 * np.abs(ref)):
        problems.append(f"result off by {np.max(np.abs(y - ref)):.3g}")
    anon, mapped = (anon1 - anon0) / 1024, (file1 - file0) / 1024
    if anon >= 16:
        problems.append(f"RssAnon grew {anon:.1f} MiB (a copy?)")
    if mapped < 48:
        problems.append(f"RssFile grew {mapped:.1f} MiB, not the weights")
    summary = f"RssAnon +{anon:.1f} MiB, RssFile +{mapped:.1f} MiB"
    print(f"weights-mapped: FAIL {'; '.join(problems)} ({summary})"
          if problems else f"weights-mapped: ok ({summary})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

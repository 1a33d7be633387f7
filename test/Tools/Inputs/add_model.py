"""Inputs and expected outputs for the stand-in add kernel
(test/Unit/Inputs/add_kernel.c: y = a + b + w, w from the weights section).

  add_model.py prepare DIR   writes manifest.json, weights.bin, a.npy, b.npy
  add_model.py check DIR     checks DIR/y.npy against numpy's a + b + w
"""
import json
import os
import sys

import numpy as np

mode, folder = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
a = rng.standard_normal((2, 3)).astype(np.float32)
b = rng.standard_normal((2, 3)).astype(np.float32)
w = np.arange(10, 70, 10, dtype=np.float32).reshape(2, 3)
if mode == "prepare":
    os.makedirs(folder, exist_ok=True)
    spec = {"dtype": "f32", "shape": [2, 3]}
    manifest = {
        "manifest_version": 1,
        "target": {"name": "cpu", "cpu_features": []},
        "entry_points": [{"name": "main", "arena_bytes": 0,
                          "inputs": [dict(name="a", **spec), dict(name="b", **spec)],
                          "outputs": [dict(name="y", **spec)]}],
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    w.tofile(os.path.join(folder, "weights.bin"))
    np.save(os.path.join(folder, "a.npy"), a)
    np.save(os.path.join(folder, "b.npy"), b)
else:
    y = np.load(os.path.join(folder, "y.npy"))
    want = a + b + w  # float32 adds in the same order as the kernel
    assert y.dtype == np.float32 and y.shape == (2, 3), (y.dtype, y.shape)
    assert np.array_equal(y, want), (y, want)
    print("add model output matches numpy")

"""Inputs and expected outputs for the stand-in kernel's scaled entry point
(test/Unit/Inputs/add_kernel.c: y[S, 4] = x + S, with S a run-time size
bounded to [1, 8] in a version-2 manifest).

  sized_model.py prepare DIR   writes manifest.json, weights.bin (the 24 bytes
                               the stand-in was built for), x3.npy (3x4),
                               x9.npy (9x4)
  sized_model.py check DIR     checks DIR/y.npy against numpy's x3 + 3
"""
import json
import os
import sys

import numpy as np

mode, folder = sys.argv[1], sys.argv[2]
x3 = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1
if mode == "prepare":
    os.makedirs(folder, exist_ok=True)
    manifest = {
        "manifest_version": 2,
        "target": {"name": "cpu", "cpu_features": []},
        "entry_points": [{
            "name": "scaled", "arena_bytes": 0,
            "sizes": [{"name": "S", "min": 1, "max": 8}],
            "inputs": [{"name": "x", "dtype": "f32", "shape": ["S", 4]}],
            "outputs": [{"name": "y", "dtype": "f32", "shape": ["S", 4]}]}],
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    np.arange(10, 70, 10, dtype=np.float32).tofile(
        os.path.join(folder, "weights.bin"))
    np.save(os.path.join(folder, "x3.npy"), x3)
    np.save(os.path.join(folder, "x9.npy"), np.zeros((9, 4), np.float32))
else:
    y = np.load(os.path.join(folder, "y.npy"))
    want = x3 + np.float32(3)
    assert y.dtype == np.float32 and y.shape == (3, 4), (y.dtype, y.shape)
    assert np.array_equal(y, want), (y, want)
    print("sized model output matches numpy")

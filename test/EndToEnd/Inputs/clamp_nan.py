"""Relu, Clip and Max/Min by a constant (the forms whose generated loops
take max_nan/min_nan's constant-operand select, backends/cpu/kernels/
common.h) and Max/Min of two tensors (the general form), on inputs with
NaNs of both signs, infinities, signed zeros and exact ties with the
bounds. The reference is numpy in float64, written as ONNX defines the
ops plus the kernels' documented choice: a NaN operand gives NaN, and a
tie gives the second operand (so Relu(-0) is +0). Compared bit for bit
after rounding to float32, any NaN matching any NaN.

    clamp_nan.py prepare DIR   writes DIR/model.onnx and inputs
    clamp_nan.py check DIR     compares DIR/out/*.npy with the reference
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lib"))
import e2e_harness  # noqa: E402

N = 67  # not a multiple of 8 or 16: the vector loops' tails run too
LO, HI, UP, DOWN = 0.0, 6.0, 2.5, -1.0


def inputs():
    rng = np.random.default_rng(11)
    x = rng.uniform(-10, 10, N).astype(np.float32)
    y = rng.uniform(-10, 10, N).astype(np.float32)
    special = [np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, LO, HI, UP,
               DOWN, -LO, 1e-45, -1e-45]
    x[:len(special)] = special
    x[40:40 + len(special)] = special[::-1]
    # y: NaN against finite x, finite against NaN x, both NaN, ties.
    y[0] = 3.0
    y[2:6] = [np.nan, 1.0, -0.0, 0.0]
    y[20] = np.nan
    y[41] = np.nan
    y[50] = x[50]
    y[51] = np.nan  # x[51] is -NaN: both NaN
    return {"x": x, "y": y}


INPUTS = inputs()


def model():
    nodes = [
        helper.make_node("Relu", ["x"], ["relu"]),
        helper.make_node("Clip", ["x", "lo", "hi"], ["clip"]),
        helper.make_node("Max", ["x", "up"], ["max_const"]),
        helper.make_node("Min", ["x", "down"], ["min_const"]),
        helper.make_node("Max", ["x", "y"], ["max_pair"]),
        helper.make_node("Min", ["x", "y"], ["min_pair"]),
    ]
    scalar = lambda v, n: numpy_helper.from_array(np.array(v, np.float32), n)
    graph = helper.make_graph(
        nodes, "clamp_nan",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [N])
         for n in ("x", "y")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [N])
         for n in ("relu", "clip", "max_const", "min_const", "max_pair",
                   "min_pair")],
        initializer=[scalar(LO, "lo"), scalar(HI, "hi"), scalar([UP], "up"),
                     scalar([DOWN], "down")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          ir_version=8)
    onnx.checker.check_model(m)
    return m


def max_nan(a, b):
    """ONNX Max with a NaN propagated, ties to b."""
    return np.where(np.isnan(a), a, np.where(np.isnan(b), b,
                                             np.where(a > b, a, b)))


def min_nan(a, b):
    return np.where(np.isnan(a), a, np.where(np.isnan(b), b,
                                             np.where(a < b, a, b)))


def reference():
    x = INPUTS["x"].astype(np.float64)
    y = INPUTS["y"].astype(np.float64)
    lo, hi, up, down = (np.float64(v) for v in (LO, HI, UP, DOWN))
    return {
        "relu": max_nan(x, lo),
        "clip": min_nan(max_nan(x, lo), hi),
        "max_const": max_nan(x, up),
        "min_const": min_nan(x, down),
        "max_pair": max_nan(x, y),
        "min_pair": min_nan(x, y),
    }


def check(folder):
    want = {k: v.astype(np.float32) for k, v in reference().items()}
    got = e2e_harness.load_outputs(os.path.join(folder, "out"), list(want))
    problems = []
    for name, w in want.items():
        g = got[name]
        # Bits, except that any NaN matches any NaN: numpy's where keeps
        # each NaN's payload, the kernels' quiet NaNs may differ in it.
        same = (g.view(np.uint32) == w.view(np.uint32)) | (
            np.isnan(g) & np.isnan(w))
        for i in np.flatnonzero(~same):
            problems.append(f"{name}[{i}]: got {g[i]!r} (0x{g.view(np.uint32)[i]:08x}), "
                            f"want {w[i]!r} (0x{w.view(np.uint32)[i]:08x}) "
                            f"for x={INPUTS['x'][i]!r}, y={INPUTS['y'][i]!r}")
    e2e_harness.report(problems, f"{len(want)} outputs match the float64 reference bit for bit")


def main():
    e2e_harness.script_main(model, INPUTS, check)


if __name__ == "__main__":
    main()

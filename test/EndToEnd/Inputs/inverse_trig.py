"""Asin, Acos, Asinh, Acosh, Atanh (anvil payloads built from atan2, log1p,
sqrt, log) compiled and run on run-time inputs, and folded by anvilc on the
same values as constants; both compared with float64 numpy rounded to
float32 (rtol 4 ulp-ish: 5e-7 relative + 1e-37 absolute), and NaN where
the function is undefined. IsInf and Shrink are compared with numpy too.

    inverse_trig.py prepare DIR   writes DIR/model.onnx and DIR/x.npy
    inverse_trig.py check DIR     compares DIR/out/*.npy with numpy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lib"))
import e2e_harness  # noqa: E402

# Around 0, +-1, the huge-argument switch (1e8) and beyond; inf and NaN.
UNIT = np.array([-1.0, -0.9999999, -0.75, -0.5, -1e-3, -1e-20, 0.0, 1e-30,
                 1e-4, 0.3, 0.5, 0.99, 0.9999999, 1.0, 1.5, -2.0, np.nan],
                np.float32)
WIDE = np.array([-3e38, -1e9, -1e8, -12.5, -1.0, -1e-3, -1e-30, 0.0, 1e-25,
                 1e-4, 0.5, 1.0, 1.0000001, 1.5, 2.0, 10.0, 9.9e7, 1.1e8,
                 1e20, 3e38, np.inf, -np.inf, np.nan], np.float32)

OPS = {  # name: (numpy reference in float64, input)
    "Asin": (np.arcsin, UNIT), "Acos": (np.arccos, UNIT),
    "Atanh": (np.arctanh, UNIT), "Asinh": (np.arcsinh, WIDE),
    "Acosh": (np.arccosh, WIDE)}


def model():
    nodes, outputs = [], []
    T = TensorProto
    for op, (_, x) in OPS.items():
        src = "unit" if x is UNIT else "wide"
        nodes.append(helper.make_node(op, [src], [op.lower()]))
        nodes.append(helper.make_node(op, ["c" + src], ["folded_" + op.lower()]))
        outputs += [helper.make_tensor_value_info(n, T.FLOAT, [len(x)])
                    for n in (op.lower(), "folded_" + op.lower())]
    nodes.append(helper.make_node("IsInf", ["wide"], ["isinf"]))
    nodes.append(helper.make_node("IsInf", ["wide"], ["isneginf"],
                                  detect_positive=0))
    nodes.append(helper.make_node("Shrink", ["wide"], ["shrink"], lambd=1.5,
                                  bias=0.5))
    outputs += [helper.make_tensor_value_info("isinf", T.BOOL, [len(WIDE)]),
                helper.make_tensor_value_info("isneginf", T.BOOL, [len(WIDE)]),
                helper.make_tensor_value_info("shrink", T.FLOAT, [len(WIDE)])]
    graph = helper.make_graph(
        nodes, "inverse_trig",
        [helper.make_tensor_value_info("unit", T.FLOAT, [len(UNIT)]),
         helper.make_tensor_value_info("wide", T.FLOAT, [len(WIDE)])],
        outputs,
        initializer=[numpy_helper.from_array(UNIT, "cunit"),
                     numpy_helper.from_array(WIDE, "cwide")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                          ir_version=8)
    onnx.checker.check_model(m)
    return m


def references():
    refs = {}
    with np.errstate(all="ignore"):
        for op, (fn, x) in OPS.items():
            ref = fn(x.astype(np.float64)).astype(np.float32)
            refs[op.lower()] = refs["folded_" + op.lower()] = ref
        w = WIDE.astype(np.float64)
        refs["isinf"] = np.isinf(WIDE)
        refs["isneginf"] = np.isneginf(WIDE)
        refs["shrink"] = np.where(w < -1.5, w + 0.5,
                                  np.where(w > 1.5, w - 0.5, 0)).astype(np.float32)
    return refs


def check(folder):
    refs = references()
    got = e2e_harness.load_outputs(os.path.join(folder, "out"), refs)
    # NaN where the function is undefined, infinities beyond float32: they
    # must be met exactly; bool outputs exactly.
    problems = e2e_harness.compare_outputs(got, refs, 5e-7, 1e-37,
                                           what="float64 numpy",
                                           nonfinite="match")
    e2e_harness.report(problems, f"{len(refs)} outputs match float64 numpy")


def main():
    e2e_harness.script_main(model, {"unit": UNIT, "wide": WIDE}, check)


if __name__ == "__main__":
    main()

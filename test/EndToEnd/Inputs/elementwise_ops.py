"""Elementwise ops computed three ways: by the compiled kernel (run-time
inputs), by the folder (the same ops on constants, folded by anvilc), and
by ONNX Runtime on the same model. All three must agree: the folder and the
kernels share each op's one payload definition, and ONNX Runtime is the
independent reference.

    elementwise_ops.py prepare DIR   writes DIR/model.onnx and inputs
    elementwise_ops.py check DIR     compares DIR/out/*.npy with ONNX Runtime
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lib"))
import e2e_harness  # noqa: E402

A = np.array([1, 128, 255, 3, 7, 200], np.uint8)
B = np.array([1, 1, 8, 2, 0, 3], np.uint8)
X = np.array([-3.0, -1.0, 0.0, 0.5, 1.0, 1e6], np.float32)


def model():
    nodes = [
        helper.make_node("BitShift", ["a", "b"], ["left"], direction="LEFT"),
        helper.make_node("BitShift", ["a", "b"], ["right"], direction="RIGHT"),
        helper.make_node("Atan", ["x"], ["atan"]),
        helper.make_node("BitShift", ["ca", "cb"], ["folded_left"],
                         direction="LEFT"),
        helper.make_node("Atan", ["cx"], ["folded_atan"]),
    ]
    graph = helper.make_graph(
        nodes, "elementwise_ops",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [6]),
         helper.make_tensor_value_info("b", TensorProto.UINT8, [6]),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])],
        [helper.make_tensor_value_info(n, t, [6]) for n, t in
         [("left", TensorProto.UINT8), ("right", TensorProto.UINT8),
          ("atan", TensorProto.FLOAT), ("folded_left", TensorProto.UINT8),
          ("folded_atan", TensorProto.FLOAT)]],
        initializer=[numpy_helper.from_array(A, "ca"),
                     numpy_helper.from_array(B, "cb"),
                     numpy_helper.from_array(X, "cx")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          ir_version=8)
    onnx.checker.check_model(m)
    return m


INPUTS = {"a": A, "b": B, "x": X}


def check(folder):
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    refs = dict(zip(names, session.run(None, INPUTS)))
    got = e2e_harness.load_outputs(os.path.join(folder, "out"), names)
    # float32 within 1e-6 relative (libm's atanf vs ONNX Runtime's);
    # integers exactly.
    problems = e2e_harness.compare_outputs(got, refs, 1e-6, 1e-7,
                                           what="ONNX Runtime")
    e2e_harness.report(problems, f"{len(names)} outputs match ONNX Runtime")


def main():
    e2e_harness.script_main(model, INPUTS, check)


if __name__ == "__main__":
    main()

"""OneHot, EyeLike, Hardmax, LpNormalization and ReverseSequence (built
from existing anvil ops at import) compiled by anvilc and run by
anvil-run, compared with ONNX Runtime on the same model and inputs: exact
for selections, float32 within 1e-6 + 1e-6 |ref| for LpNormalization.

    small_ops.py prepare DIR            writes DIR/model.onnx and inputs
    small_ops.py run DIR ANVIL_RUN      runs DIR/model.anvil
    small_ops.py check DIR              compares DIR/out/*.npy with ORT
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

T = TensorProto


def inputs():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    x[1, 2, :] = 7.0  # ties: Hardmax picks the first
    return {
        # Out of range (5, -6) gives all-off rows; -1 counts from the end.
        "idx": np.array([[0, 4, -1], [5, -6, 2]], np.int64),
        "fidx": np.array([1.0, -2.0, 7.0], np.float32),
        "x": x,
        "lens": np.array([4, 1, 3], np.int64),
        "seq": rng.standard_normal((3, 4, 2)).astype(np.float32),
    }


def model():
    nodes = [
        helper.make_node("OneHot", ["idx", "depth", "vals"], ["onehot"],
                         axis=1),
        helper.make_node("OneHot", ["fidx", "depth_f", "fvals"], ["onehot_f"]),
        helper.make_node("EyeLike", ["x2"], ["eye"], k=-1, dtype=T.INT32),
        helper.make_node("EyeLike", ["x2"], ["eye_f"], k=2),
        helper.make_node("Hardmax", ["x"], ["hard"], axis=1),
        helper.make_node("Hardmax", ["x"], ["hard_last"]),
        helper.make_node("LpNormalization", ["x"], ["l1"], axis=0, p=1),
        helper.make_node("LpNormalization", ["x"], ["l2"]),
        helper.make_node("ReverseSequence", ["seq", "lens"], ["rev"],
                         batch_axis=0, time_axis=1),
    ]
    inits = [numpy_helper.from_array(np.array(5, np.int64), "depth"),
             numpy_helper.from_array(np.array(5.0, np.float32), "depth_f"),
             numpy_helper.from_array(np.array([-1, 3], np.int64), "vals"),
             numpy_helper.from_array(np.array([0.5, 2.5], np.float32), "fvals"),
             numpy_helper.from_array(np.zeros((4, 6), np.float32), "x2")]
    ins = [helper.make_tensor_value_info("idx", T.INT64, [2, 3]),
           helper.make_tensor_value_info("fidx", T.FLOAT, [3]),
           helper.make_tensor_value_info("x", T.FLOAT, [3, 4, 5]),
           helper.make_tensor_value_info("lens", T.INT64, [3]),
           helper.make_tensor_value_info("seq", T.FLOAT, [3, 4, 2])]
    outs = [helper.make_tensor_value_info(n, t, s) for n, t, s in [
        ("onehot", T.INT64, [2, 5, 3]), ("onehot_f", T.FLOAT, [3, 5]),
        ("eye", T.INT32, [4, 6]), ("eye_f", T.FLOAT, [4, 6]),
        ("hard", T.FLOAT, [3, 4, 5]), ("hard_last", T.FLOAT, [3, 4, 5]),
        ("l1", T.FLOAT, [3, 4, 5]), ("l2", T.FLOAT, [3, 4, 5]),
        ("rev", T.FLOAT, [3, 4, 2])]]
    graph = helper.make_graph(nodes, "small_ops", ins, outs, initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                          ir_version=8)
    onnx.checker.check_model(m)
    return m


def check(folder):
    session = ort.InferenceSession(model().SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    refs = dict(zip(names, session.run(None, inputs())))
    got = e2e_harness.load_outputs(os.path.join(folder, "out"), names)
    # Selections exactly (tolerance 0), LpNormalization within 1e-6.
    problems = e2e_harness.compare_outputs(
        got, refs, 0, 0, tolerances={"l1": (1e-6, 1e-6), "l2": (1e-6, 1e-6)},
        what="ONNX Runtime")
    e2e_harness.report(problems, f"{len(names)} outputs match ONNX Runtime")


def main():
    e2e_harness.script_main(model, inputs(), check)


if __name__ == "__main__":
    main()

"""GatherND, ScatterElements and TopK compiled by anvilc and run by
anvil-run, compared with ONNX Runtime on the same models and inputs.

Two models:
  mask.onnx     the attention-mask pattern transformers 5 and torch dynamo
                emit: mask[batch_idx, kv_idx] as a GatherND whose indices
                come from Range/Reshape/Expand/Concat (folded to a constant
                by anvilc), once as is and once with negative indices
                (kv_idx - K); plus GatherND with run-time
                indices (with and without batch_dims), ScatterElements
                with duplicate indices (add) and TopK with ties (largest
                and smallest).
  bounded.onnx  GatherND, ScatterElements and TopK with bounded dims n and
                m (anvilc --dim=n=1..16,m=1..16), run at two sizes.

    indexing_ops.py prepare DIR   writes the models and inputs under DIR
    indexing_ops.py check DIR     compares DIR/*/out/*.npy with ONNX Runtime

Every output is data movement or selection, so the comparison is exact.
(ONNX defines GatherND for int64 indices only, so ONNX Runtime cannot check
int32 ones; anvil's folder test covers those.)
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

B, Q, K = 2, 3, 6


def mask_model():
    c = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)
    inits = [c("zero", 0), c("one", 1), c("B", B), c("K", K),
             c("bshape", [B, 1, 1, 1]), c("kshape", [1, 1, 1, K]),
             c("full", [B, 1, Q, K]), c("last", [-1])]
    nodes = [
        # batch_idx = arange(B)[:, None, None, None], kv_idx = arange(K)[None, None, None, :]
        helper.make_node("Range", ["zero", "B", "one"], ["br"]),
        helper.make_node("Reshape", ["br", "bshape"], ["b4"]),
        helper.make_node("Expand", ["b4", "full"], ["be"]),
        helper.make_node("Range", ["zero", "K", "one"], ["kr"]),
        helper.make_node("Reshape", ["kr", "kshape"], ["k4"]),
        helper.make_node("Expand", ["k4", "full"], ["ke"]),
        helper.make_node("Unsqueeze", ["be", "last"], ["bu"]),
        helper.make_node("Unsqueeze", ["ke", "last"], ["ku"]),
        helper.make_node("Concat", ["bu", "ku"], ["idx"], axis=-1),
        helper.make_node("GatherND", ["mask", "idx"], ["picked"]),
        helper.make_node("Cast", ["picked"], ["allowed"], to=TensorProto.BOOL),
        # The same with indices counting kv from the end.
        helper.make_node("Sub", ["ku", "K"], ["kneg"]),
        helper.make_node("Concat", ["bu", "kneg"], ["idx_neg"], axis=-1),
        helper.make_node("GatherND", ["mask", "idx_neg"], ["picked_neg"]),
        # Run-time indices.
        helper.make_node("GatherND", ["x", "rows"], ["gathered"]),
        helper.make_node("GatherND", ["x", "cols"], ["per_batch"], batch_dims=1),
        helper.make_node("ScatterElements", ["x", "sidx", "upd"], ["scattered"],
                         axis=1, reduction="add"),
        helper.make_node("ScatterElements", ["x", "sidx2", "upd2"],
                         ["replaced"], axis=-1),
        helper.make_node("TopK", ["ties", "k3"], ["top_v", "top_i"], axis=1),
        helper.make_node("TopK", ["ties", "k3"], ["low_v", "low_i"], axis=1,
                         largest=0),
    ]
    inits.append(c("k3", [3]))
    T = TensorProto
    inputs = [helper.make_tensor_value_info("mask", T.INT64, [B, K]),
              helper.make_tensor_value_info("x", T.FLOAT, [B, 5, 4]),
              helper.make_tensor_value_info("rows", T.INT64, [3, 2]),
              helper.make_tensor_value_info("cols", T.INT64, [B, 2, 1]),
              helper.make_tensor_value_info("sidx", T.INT64, [B, 3, 4]),
              helper.make_tensor_value_info("sidx2", T.INT64, [B, 5, 2]),
              helper.make_tensor_value_info("upd", T.FLOAT, [B, 3, 4]),
              helper.make_tensor_value_info("ties", T.FLOAT, [2, 7])]
    inputs.append(helper.make_tensor_value_info("upd2", T.FLOAT, [B, 5, 2]))
    outputs = [helper.make_tensor_value_info(n, t, shape) for n, t, shape in [
        ("allowed", T.BOOL, [B, 1, Q, K]), ("picked_neg", T.INT64, [B, 1, Q, K]),
        ("gathered", T.FLOAT, [3, 4]), ("per_batch", T.FLOAT, [B, 2, 4]),
        ("scattered", T.FLOAT, [B, 5, 4]), ("replaced", T.FLOAT, [B, 5, 4]),
        ("top_v", T.FLOAT, [2, 3]), ("top_i", T.INT64, [2, 3]),
        ("low_v", T.FLOAT, [2, 3]), ("low_i", T.INT64, [2, 3])]]
    graph = helper.make_graph(nodes, "mask", inputs, outputs, initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                             ir_version=8)


def mask_inputs():
    rng = np.random.default_rng(7)
    # Left padding on batch 0, right padding on batch 1.
    mask = np.array([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], np.int64)
    x = rng.standard_normal((B, 5, 4)).astype(np.float32)
    rows = np.array([[1, 4], [0, -1], [-2, 2]], np.int64)
    cols = np.array([[[3], [-5]], [[0], [4]]], np.int64)
    # Duplicate indices along axis 1 accumulate with reduction add.
    sidx = np.array([[[0, 1, 2, 3], [0, 1, 2, 3], [4, 4, -1, 0]],
                     [[2, 2, 2, 2], [1, 0, 1, 0], [3, -2, 4, 4]]], np.int64)
    # Distinct positions per row for reduction none (ONNX leaves duplicates
    # undefined there).
    sidx2 = np.array([[[0, 3], [1, -1], [2, 0], [3, 1], [-4, 2]]] * B, np.int64)
    upd = rng.standard_normal((B, 3, 4)).astype(np.float32)
    upd2 = rng.standard_normal((B, 5, 2)).astype(np.float32)
    ties = np.array([[3, 1, 3, 2, 3, 1, 0], [5, 5, 5, 5, 5, 5, 5]], np.float32)
    return dict(mask=mask, x=x, rows=rows, cols=cols, sidx=sidx, sidx2=sidx2,
                upd=upd, upd2=upd2, ties=ties)


def bounded_model():
    T = TensorProto
    nodes = [
        helper.make_node("GatherND", ["x", "rows"], ["g"]),
        helper.make_node("ScatterElements", ["x", "sidx", "upd"], ["s"],
                         axis=1, reduction="max"),
        helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1),
    ]
    inputs = [helper.make_tensor_value_info("x", T.FLOAT, ["n", 8]),
              helper.make_tensor_value_info("rows", T.INT64, ["m", 1]),
              helper.make_tensor_value_info("sidx", T.INT64, ["n", 2]),
              helper.make_tensor_value_info("upd", T.FLOAT, ["n", 2])]
    outputs = [helper.make_tensor_value_info(n, t, shape) for n, t, shape in [
        ("g", T.FLOAT, ["m", 8]), ("s", T.FLOAT, ["n", 8]),
        ("v", T.FLOAT, ["n", 3]), ("i", T.INT64, ["n", 3])]]
    graph = helper.make_graph(
        nodes, "bounded", inputs, outputs,
        initializer=[numpy_helper.from_array(np.array([3], np.int64), "k")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                             ir_version=8)


def bounded_inputs(n, m):
    rng = np.random.default_rng(n * 100 + m)
    return dict(
        x=rng.standard_normal((n, 8)).astype(np.float32),
        rows=rng.integers(-n, n, (m, 1)).astype(np.int64),
        sidx=rng.integers(-8, 8, (n, 2)).astype(np.int64),
        upd=rng.standard_normal((n, 2)).astype(np.float32))


CASES = {"mask": (mask_model, mask_inputs),
         "bounded_3_5": (bounded_model, lambda: bounded_inputs(3, 5)),
         "bounded_11_2": (bounded_model, lambda: bounded_inputs(11, 2))}


def main():
    cmd, root = sys.argv[1], sys.argv[2]
    if cmd == "prepare":
        for case, (make, inputs) in CASES.items():
            folder = os.path.join(root, case)
            os.makedirs(folder, exist_ok=True)
            model = make()
            onnx.checker.check_model(model)
            onnx.save(model, os.path.join(root, make.__name__ + ".onnx"))
            e2e_harness.save_inputs(folder, inputs())
        return
    problems, total = [], 0
    for case, (make, inputs) in CASES.items():
        session = ort.InferenceSession(
            make().SerializeToString(), providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        refs = dict(zip(names, session.run(None, inputs())))
        got = e2e_harness.load_outputs(os.path.join(root, case, "out"), names)
        total += len(names)
        # Exactly (tolerance 0, floats included).
        problems += [f"{case}/{p}" for p in e2e_harness.compare_outputs(
            got, refs, 0, 0, what="ONNX Runtime")]
    e2e_harness.report(problems, f"{total} outputs match ONNX Runtime")


if __name__ == "__main__":
    main()

"""Einsum equations (explicit and implicit outputs, ellipsis with
broadcasting, diagonals, sums, outer products, batch matmul, three
operands) compiled by anvilc and run by anvil-run, compared with numpy's
einsum in float64 (float32 results within 1e-5 + 1e-5 |ref|).

    einsum_ops.py prepare DIR   writes DIR/model.onnx and DIR/<input>.npy
    einsum_ops.py run DIR ANVIL_RUN   runs DIR/model.anvil on them
    einsum_ops.py check DIR     compares DIR/out/*.npy with numpy
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "lib"))
import e2e_harness  # noqa: E402

# (equation, operand shapes)
CASES = [
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->ji", [(3, 3, 2)]),
    ("ijk->", [(2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 2)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kj->", [(3, 4), (2, 4)]),
    ("b...i,i->b...", [(2, 3, 4), (4,)]),
]


def inputs():
    rng = np.random.default_rng(3)
    values = {}
    for n, (_, shapes) in enumerate(CASES):
        for m, shape in enumerate(shapes):
            values[f"x{n}_{m}"] = rng.standard_normal(shape).astype(np.float32)
    return values


def model():
    nodes, ins, outs = [], [], []
    values = inputs()
    for n, (equation, shapes) in enumerate(CASES):
        names = [f"x{n}_{m}" for m in range(len(shapes))]
        ins += [helper.make_tensor_value_info(x, TensorProto.FLOAT, s)
                for x, s in zip(names, shapes)]
        ref = np.einsum(equation, *[values[x] for x in names])
        nodes.append(helper.make_node("Einsum", names, [f"y{n}"],
                                      equation=equation))
        outs.append(helper.make_tensor_value_info(f"y{n}", TensorProto.FLOAT,
                                                  list(ref.shape)))
    graph = helper.make_graph(nodes, "einsum", ins, outs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                          ir_version=8)
    onnx.checker.check_model(m)
    return m


def check(folder):
    values = inputs()
    outputs = e2e_harness.load_outputs(os.path.join(folder, "out"),
                                       [f"y{n}" for n in range(len(CASES))])
    got, refs = {}, {}  # by equation
    for n, (equation, shapes) in enumerate(CASES):
        got[equation] = outputs[f"y{n}"]
        refs[equation] = np.einsum(equation, *[
            values[f"x{n}_{m}"].astype(np.float64)
            for m in range(len(shapes))])
    # float32 results against the float64 einsum: shapes must agree.
    problems = e2e_harness.compare_outputs(got, refs, 1e-5, 1e-5, what="numpy",
                                           exact_dtype=False)
    e2e_harness.report(problems, f"{len(CASES)} equations match numpy")


def main():
    e2e_harness.script_main(model, inputs(), check)


if __name__ == "__main__":
    main()

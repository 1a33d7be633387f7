#!/usr/bin/env python3
"""Big ONNX graphs for compile-time scale tests and benchmarks.

Each family builds a graph of about N nodes together with its input and
the expected output, computed with numpy alongside. Every graph is exact
in float32: inputs are small integers, the elementwise ops are affine with
integer or power-of-two constants, matmuls multiply by signed permutation
matrices and the shape ops only move elements. So the expected output is
exact, and an op dropped or applied twice anywhere changes it.

Families:
  chain   one long chain of elementwise ops (Add, Sub, Mul, Neg, Div)
  fan     one input fanned out to N/2 branches (MatMuls and elementwise
          ops in turn), summed back by a balanced tree of Adds: the
          MatMuls' outputs are all live at once
  matmul  a chain of small MatMuls, each with its own weight initializer
  shape   blocks of Transpose, Reshape, Slice and Concat
  inits   a chain of Adds of N/2 distinct weight initializers (every fourth
          a copy of an earlier one, as exporters leave them)
  mix     all of the above interleaved, in segments
  layers  N identical layers (two MatMuls of one input, their sum with a
          bias, a residual average), each with its own weights, between a
          short prologue and epilogue: the shape of a model's layer stack
  layers-alt  the same, but every other layer's second MatMul reads the
          first's output: the same ops in the same order, another dataflow

Usage (as a script):
  big_graphs.py FAMILY N OUT.onnx [--seed S] [--width W]
                [--input-npy X.npy --expected-npy Y.npy]
As a module: build(family, n, seed=0, width=16) returns
(model, {input name: array}, {output name: array}).
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FAMILIES = ("chain", "fan", "matmul", "shape", "inits", "mix", "layers",
            "layers-alt")
OPSET = 17


class Builder:
    """Appends nodes to a graph and mirrors each one in numpy."""

    def __init__(self, rng, width):
        self.rng = rng
        self.width = width
        self.nodes = []
        self.initializers = []
        self.scalars = {}
        self.count = 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def node(self, op, inputs, **attrs):
        out = self.name("t")
        self.nodes.append(helper.make_node(op, inputs, [out],
                                           name=self.name("n_" + op),
                                           **attrs))
        return out

    def initializer(self, array, prefix="w"):
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def scalar(self, value):
        """One shared initializer per constant value."""
        if value not in self.scalars:
            self.scalars[value] = self.initializer(
                np.array(value, np.float32), "c")
        return self.scalars[value]

    # Each step takes and returns (onnx name, numpy value).

    def elementwise(self, v):
        """One exact affine op; keeps values small so float32 stays exact."""
        name, x = v
        peak = np.abs(x).max()
        kind = self.rng.integers(0, 5)
        if kind == 0:
            c = float(self.rng.integers(1, 4)) * (-1 if x.mean() > 0 else 1)
            return self.node("Add", [name, self.scalar(c)]), x + np.float32(c)
        if kind == 1:
            c = float(self.rng.integers(1, 4)) * (1 if x.mean() > 0 else -1)
            return self.node("Sub", [name, self.scalar(c)]), x - np.float32(c)
        if kind == 2:
            return self.node("Neg", [name]), -x
        if kind == 3 and peak < 1024:
            return self.node("Mul", [name, self.scalar(2.0)]), x * 2
        # Division by two stays exact while values are even integers; an
        # odd one loses its half only once, then Add/Sub see .5 steps.
        if peak >= 4 and np.all(x == np.round(x)):
            return self.node("Div", [name, self.scalar(2.0)]), x / 2
        return self.node("Neg", [name]), -x

    def chain(self, v, n):
        for _ in range(n):
            v = self.elementwise(v)
        return v

    def fan(self, v, n):
        """n/2 branches off `v`, summed back by a balanced tree (n/2 - 1
        Adds); returns after about n nodes."""
        k = max(2, n // 2)
        name, x = v
        branches = []
        for i in range(k):
            # Every other branch is a MatMul, whose output stays in memory
            # until the tree reads it (the others fuse into the tree).
            # Distinct constants, so no two branches are the same
            # expression (CSE would merge them); x + c and x - c in turn,
            # so the sum stays small.
            if i % 2 == 0:
                branches.append(self.matmul(v))
                continue
            c = float(i // 4 + 1)
            op = ("Add", "Sub")[i // 2 % 2]
            value = x + np.float32(c) if op == "Add" else x - np.float32(c)
            branches.append((self.node(op, [name, self.scalar(c)]), value))
        while len(branches) > 1:
            paired = []
            for i in range(0, len(branches) - 1, 2):
                (a, x), (b, y) = branches[i], branches[i + 1]
                paired.append((self.node("Add", [a, b]), x + y))
            if len(branches) % 2:
                paired.append(branches[-1])
            branches = paired
        # Bring the sum back near the input's range (k times larger); a
        # power of two keeps the division exact.
        scale = float(2 ** (k.bit_length() - 1))
        name, x = branches[0]
        return (self.node("Div", [name, self.scalar(scale)]),
                x / np.float32(scale))

    def matmul(self, v):
        """v @ P, P a signed permutation matrix: exact."""
        name, x = v
        w = self.width
        p = np.zeros((w, w), np.float32)
        p[np.arange(w), self.rng.permutation(w)] = self.rng.choice([-1, 1], w)
        return self.node("MatMul", [name, self.initializer(p)]), x @ p

    def shape_block(self, v):
        """Transpose, Reshape, Reshape, Slice, Slice, Concat of a [R, W]
        value; returns [R, W] (R even)."""
        name, x = v
        rows, cols = x.shape
        t = self.node("Transpose", [name], perm=[1, 0])
        flat = self.node("Reshape", [t, self.initializer(
            np.array([cols * rows // 2, 2], np.int64), "s")])
        back = self.node("Reshape", [flat, self.initializer(
            np.array([rows, cols], np.int64), "s")])
        tx = x.T.reshape(rows, cols)
        half = rows // 2
        starts = self.initializer(np.array([0], np.int64), "s")
        mid = self.initializer(np.array([half], np.int64), "s")
        end = self.initializer(np.array([rows], np.int64), "s")
        axes = self.initializer(np.array([0], np.int64), "s")
        top = self.node("Slice", [back, starts, mid, axes])
        bottom = self.node("Slice", [name, mid, end, axes])
        out = self.node("Concat", [top, bottom], axis=0)
        return out, np.concatenate([tx[:half], x[half:]], axis=0)

    def inits(self, v, n):
        """n Adds of distinct [W] weights alternating in sign, so values
        stay small; every fourth weight repeats an earlier one's values."""
        name, x = v
        seen = []
        for i in range(n):
            if i % 4 == 3 and seen:
                values = seen[self.rng.integers(0, len(seen))]
            else:
                values = self.rng.integers(-3, 4, self.width).astype(
                    np.float32)
                seen.append(values)
            # Alternate the sign of the running value so sums cancel.
            if i % 2:
                name = self.node("Neg", [name])
                x = -x
            name = self.node("Add", [name, self.initializer(values)])
            x = x + values
        return name, x

    def layer(self, v, chained=False):
        """(x + (x @ P + x @ Q + b)) / 2 with this layer's own P, Q and b,
        or with x @ P @ Q if `chained`: two launches and one fused loop.
        Values stay small and the halving stays exact in float32 for a few
        dozen layers."""
        name, x = v
        p, xp = self.matmul(v)
        q, xq = self.matmul((p, xp) if chained else v)
        bias = self.rng.integers(-3, 4, self.width).astype(np.float32)
        s = self.node("Add", [p, q])
        s = self.node("Add", [s, self.initializer(bias)])
        s = self.node("Add", [name, s])
        return (self.node("Div", [s, self.scalar(2.0)]),
                (x + (xp + xq + bias)) / np.float32(2))


def build(family, n, seed=0, width=16):
    """(model, {input: array}, {output: array}) for `family` at about n
    nodes."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r} (one of {FAMILIES})")
    rng = np.random.default_rng(seed)
    b = Builder(rng, width)
    rows = 4 if family in ("shape", "mix") else 1
    x = rng.integers(-8, 9, (rows, width)).astype(np.float32)
    v = ("x", x)
    if family == "chain":
        v = b.chain(v, n)
    elif family == "fan":
        v = b.fan(v, n)
    elif family == "matmul":
        for _ in range(n):
            v = b.matmul(v)
    elif family == "shape":
        for _ in range(max(1, n // 6)):
            v = b.shape_block(v)
    elif family == "inits":
        v = b.inits(v, n // 2)
    elif family in ("layers", "layers-alt"):  # n layers, not nodes
        v = b.chain(b.matmul(v), 3)
        for i in range(n):
            v = b.layer(v, chained=family == "layers-alt" and i % 2 == 1)
        v = b.chain(b.matmul(v), 2)
    else:  # mix: segments of each kind, about 40 nodes a segment
        while len(b.nodes) < n:
            kind = rng.integers(0, 5)
            if kind == 0:
                v = b.chain(v, 30)
            elif kind == 1:
                v = b.fan(v, 30)
            elif kind == 2:
                for _ in range(5):
                    v = b.matmul(v)
            elif kind == 3:
                for _ in range(5):
                    v = b.shape_block(v)
            else:
                v = b.inits(v, 15)
    # The graph output is `y`, whatever the family.
    out, y = "y", v[1]
    b.nodes.append(helper.make_node("Identity", [v[0]], [out],
                                    name="n_output"))
    graph = helper.make_graph(
        b.nodes, f"{family}_{n}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, list(y.shape))],
        b.initializers)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", OPSET)], producer_name="big_graphs.py")
    return model, {"x": x}, {out: y.astype(np.float32)}


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("family", choices=FAMILIES)
    ap.add_argument("n", type=int, help="about this many nodes")
    ap.add_argument("output", help="the .onnx file to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=16,
                    help="elements per row (and the matmuls' size)")
    ap.add_argument("--input-npy", help="write the input x here")
    ap.add_argument("--expected-npy", help="write the expected output here")
    args = ap.parse_args()
    model, inputs, outputs = build(args.family, args.n, args.seed, args.width)
    onnx.save(model, args.output)
    if args.input_npy:
        np.save(args.input_npy, inputs["x"])
    if args.expected_npy:
        np.save(args.expected_npy, next(iter(outputs.values())))
    print(f"{args.output}: {args.family}, {len(model.graph.node)} nodes, "
          f"{len(model.graph.initializer)} initializers, output "
          f"{next(iter(outputs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

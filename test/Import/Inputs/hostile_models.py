"""Writes the malformed models of test/Import/hostile-*.test into OUTDIR,
one NAME.onnx per case (onnx.helper, unchecked: they are meant to be
wrong).

    hostile_models.py OUTDIR
"""
import os
import sys

import onnx
from onnx import TensorProto as T
from onnx import helper as h

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def model(nodes, inputs, outputs, inits=(), opset=17, domains=()):
    graph = h.make_graph(nodes, "g", inputs, outputs, list(inits))
    opsets = [h.make_opsetid("", opset)] + [h.make_opsetid(d, 1)
                                            for d in domains]
    return h.make_model(graph, opset_imports=opsets)


def vi(name, shape, elem=T.FLOAT):
    return h.make_tensor_value_info(name, elem, shape)


def ints(name, values, dims=None):
    return h.make_tensor(name, T.INT64,
                         [len(values)] if dims is None else dims, values)


X = vi("x", [1, 4, 8, 8])
Y = vi("y", None)
W = h.make_tensor("w", T.FLOAT, [4, 4, 3, 3], [0.5] * 144)
cases = {}


def node(op, inputs=("x",), outputs=("y",), **attrs):
    return h.make_node(op, list(inputs), list(outputs), **attrs)


# Attributes of the wrong type: caught by libonnx's schema (Concat,
# Softmax, Gemm), by the accessors (Split-18's num_outputs, newer than the
# schemas of libonnx 1.12), and untyped ones.
cases["concat-axis-string"] = model([node("Concat", ["x", "x"], axis="1")],
                                    [X], [Y])
cases["softmax-axis-float"] = model([node("Softmax", axis=1.0)], [X], [Y])
cases["gemm-alpha-string"] = model(
    [node("Gemm", ["a", "a"], alpha="two")], [vi("a", [2, 2])], [Y])
cases["split-outputs-string"] = model(
    [node("Split", outputs=["y", "z"], axis=1, num_outputs="2")], [X],
    [Y, vi("z", None)], opset=18)
untyped = node("Flatten", axis=1)
untyped.attribute[0].type = onnx.AttributeProto.UNDEFINED
cases["flatten-axis-untyped"] = model([untyped], [X], [Y])
cases["constant-value-int-float"] = model(
    [h.make_node("Constant", [], ["y"], value_int=2.5)], [], [Y])
cases["skiplayernorm-epsilon-string"] = model(
    [h.make_node("SkipLayerNormalization", ["a", "a", "g"], ["y"],
                 domain="com.microsoft", epsilon="small")],
    [vi("a", [1, 2, 4]), vi("g", [4])], [Y], domains=["com.microsoft"])

# Lists and ranges.
cases["conv-kernel-shape-short"] = model(
    [node("Conv", ["x", "w"], kernel_shape=[3])], [X], [Y], [W])
cases["conv-strides-short"] = model(
    [node("Conv", ["x", "w"], strides=[1], auto_pad="SAME_UPPER")], [X], [Y],
    [W])
cases["conv-pads-huge"] = model(
    [node("Conv", ["x", "w"], pads=[2 ** 62] * 4)], [X], [Y], [W])
cases["conv-dilations-huge"] = model(
    [node("Conv", ["x", "w"], dilations=[2 ** 62] * 2)], [X], [Y], [W])
cases["conv-same-dilations-huge"] = model(
    [node("Conv", ["x", "w"], dilations=[2 ** 62] * 2, auto_pad="SAME_UPPER")],
    [X], [Y], [W])
cases["maxpool-dilations-short"] = model(
    [node("MaxPool", kernel_shape=[2, 2], dilations=[1, 1, 1])], [X], [Y])
cases["maxpool-strides-type"] = model(
    [node("MaxPool", kernel_shape=[2, 2], strides=2)], [X], [Y])
cases["maxpool-pads-huge"] = model(
    [node("MaxPool", kernel_shape=[2, 2], pads=[2 ** 62] * 4)], [X], [Y])
cases["slice-lengths-differ"] = model(
    [node("Slice", ["r2", "s", "e", "a"])], [vi("r2", [4, 4])], [Y],
    [ints("s", [0, 0]), ints("e", [2]), ints("a", [0, 1])])
cases["split-num-outputs-0"] = model(
    [node("Split", axis=1, num_outputs=0)], [X], [Y], opset=18)
cases["split-num-outputs-huge"] = model(
    [node("Split", axis=1, num_outputs=2 ** 40)], [X], [Y], opset=18)
cases["gather-block-quantized-2-62"] = model(
    [h.make_node("GatherBlockQuantized", ["d", "i", "s"], ["y"],
                 domain="com.microsoft", block_size=2 ** 62,
                 quantize_axis=1)],
    [vi("d", [8, 16], T.UINT8), vi("i", [2], T.INT64), vi("s", [8, 1])], [Y],
    domains=["com.microsoft"])
cases["depth-to-space-2-32"] = model(
    [node("DepthToSpace", blocksize=2 ** 32)], [X], [Y])

# Sizes past the limit of 2^48 bytes per tensor.
cases["input-2-62x4"] = model([node("Relu")], [vi("x", [2 ** 62, 4])], [Y])
cases["constant-of-shape-2-64"] = model(
    [node("ConstantOfShape", ["s"])], [], [Y], [ints("s", [2 ** 32, 2 ** 32])])
cases["expand-2-124"] = model(
    [node("Expand", ["a", "s"])], [vi("a", [1, 1])], [Y],
    [ints("s", [2 ** 62, 2 ** 62])])
cases["tile-2-88"] = model(
    [node("Tile", ["x", "r"])], [X], [Y], [ints("r", [2 ** 40, 2 ** 42, 1, 1])])
cases["range-2-62"] = model(
    [node("Range", ["a", "b", "c"])], [], [Y],
    [ints("a", [0], []), ints("b", [2 ** 62], []), ints("c", [1], [])])

# Names defined twice.
R = vi("r", [2])
cases["duplicate-initializers"] = model(
    [node("Add", ["r", "w2"])], [R], [Y],
    [h.make_tensor("w2", T.FLOAT, [2], [1, 2]),
     h.make_tensor("w2", T.FLOAT, [2], [3, 4])])
cases["duplicate-inputs"] = model([node("Relu", ["r"])], [R, vi("r", [3])],
                                  [Y])
cases["duplicate-node-outputs"] = model(
    [node("Relu", ["r"], ["t"]), node("Neg", ["r"], ["t"]),
     node("Abs", ["t"])], [R], [Y])
cases["node-output-shadows-input"] = model(
    [node("Relu", ["r"], ["r"], name="again"), node("Abs", ["r"])], [R], [Y])
# Subgraphs are in SSA form too: a branch that defines a name already in
# scope (here the graph input 'r') is refused; two Ifs whose branches both
# define a local 't' (sibling scopes) are fine.
COND = h.make_tensor("c", T.BOOL, [], [True])


def branch(name, nodes, output):
    return h.make_graph(nodes, name, [], [vi(output, None)])


cases["branch-shadows-input"] = model(
    [h.make_node("If", ["c"], ["y"], then_branch=branch(
        "then", [node("Relu", ["r"], ["r"], name="inner")], "r"),
        else_branch=branch("else", [node("Neg", ["r"], ["e"])], "e"))],
    [R], [Y], [COND])
cases["branches-reuse-local-names"] = model(
    [h.make_node("If", ["c"], ["y1"], then_branch=branch(
        "then1", [node("Relu", ["r"], ["t"])], "t"),
        else_branch=branch("else1", [node("Neg", ["r"], ["t"])], "t")),
     h.make_node("If", ["c"], ["y2"], then_branch=branch(
         "then2", [node("Neg", ["r"], ["t"])], "t"),
         else_branch=branch("else2", [node("Relu", ["r"], ["t"])], "t")),
     node("Add", ["y1", "y2"])],
    [R], [Y], [COND])
cases["initializer-shadows-input-type"] = model(
    [node("Relu", ["r"])], [R], [Y],
    [h.make_tensor("r", T.INT64, [2], [1, 2])])
cases["initializer-shadows-input-same"] = model(
    [node("Relu", ["r"])], [R], [Y],
    [h.make_tensor("r", T.FLOAT, [2], [1, 2])])

for name, m in cases.items():
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())

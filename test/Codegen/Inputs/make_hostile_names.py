"""Writes a model whose node and tensor names try to break out of the
generated C++'s comments: a newline followed by code, and a trailing
backslash (which would splice the next source line into the comment).
  make_hostile_names.py OUT.onnx
"""
import sys

import onnx
from onnx import TensorProto, helper

names = ["relu\n#error injected through a node name", "neg\\"]
nodes = [helper.make_node("Relu", ["x"], ["t"], name=names[0]),
         helper.make_node("Neg", ["t"], ["y\nz"], name=names[1])]
graph = helper.make_graph(
    nodes, "hostile",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
    [helper.make_tensor_value_info("y\nz", TensorProto.FLOAT, [4])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.save(model, sys.argv[1])

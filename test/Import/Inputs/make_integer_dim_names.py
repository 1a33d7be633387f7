"""Writes a one-node model whose input dims are named "batch", "2", "16"
(dim_params), as transformers' OnnxExporter names static cache dims."""
import sys

import onnx
from onnx import TensorProto, helper

x = helper.make_tensor_value_info("past", TensorProto.FLOAT,
                                  ["batch", "2", 3, "16"])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                  ["batch", "2", 3, "16"])
graph = helper.make_graph([helper.make_node("Relu", ["past"], ["y"])],
                          "integer_dim_names", [x], [y])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
onnx.save(model, sys.argv[1])

"""Writes a model whose 256-float initializer lives in an external file."""
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import onnx.parser

src, out = sys.argv[1], sys.argv[2]
model = onnx.parser.parse_model(open(src).read())
w = model.graph.initializer[0]
w.CopyFrom(onnx.numpy_helper.from_array(
    np.arange(256, dtype=np.float32), name=w.name))
onnx.save(model, out, save_as_external_data=True, all_tensors_to_one_file=True,
          location=out.split("/")[-1] + ".data", size_threshold=0)

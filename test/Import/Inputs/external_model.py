"""Writes a model whose 256-float initializer 'w' lives in external data,
with the external_data entries given on the command line (hostile ones
included), and optionally the data file itself (1024 bytes).

    external_model.py OUT.onnx --location L [--offset N] [--length N]
                      [--write-data]
"""
import argparse
import os

import numpy as np
import onnx
import onnx.parser

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--location", required=True)
ap.add_argument("--offset")
ap.add_argument("--length")
ap.add_argument("--write-data", action="store_true")
args = ap.parse_args()

model = onnx.parser.parse_model("""
<ir_version: 8, opset_import: ["" : 17]>
ext (float[2, 256] x) => (float[2, 256] y)
<float[256] w = {0}>
{ y = Add (x, w) }
""")
w = model.graph.initializer[0]
w.ClearField("float_data")
w.data_location = onnx.TensorProto.EXTERNAL
for key in ("location", "offset", "length"):
    value = getattr(args, key)
    if value is not None:
        entry = w.external_data.add()
        entry.key, entry.value = key, value
with open(args.out, "wb") as f:
    f.write(model.SerializeToString())
if args.write_data:
    path = os.path.join(os.path.dirname(args.out) or ".", args.location)
    np.arange(256, dtype=np.float32).tofile(path)

"""Writes seeds for anvil-onnx-import-fuzzer into OUTDIR: the hostile
models of test/Import/hostile-*.test as they are, and external-data seeds
in the fuzzer's 'E' mode (see OnnxImportFuzzer.cpp): a flags byte (which
hostile entries the scratch folder gets), a length byte, the data file's
bytes, then a model whose 4-float initializer names one of them.

    make_import_seeds.py OUTDIR
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.parser

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(out, exist_ok=True)
hostile = os.path.join(out, "hostile")
subprocess.run([sys.executable, os.path.join(
    here, "..", "Import", "Inputs", "hostile_models.py"), hostile], check=True)
for name in os.listdir(hostile):
    os.replace(os.path.join(hostile, name), os.path.join(out, name))
os.rmdir(hostile)

ALL_FLAGS = 63  # every hostile entry: link, out/, FIFO, dir, loop, empty
data = np.arange(4, dtype=np.float32).tobytes()
for seed, (location, offset, length) in enumerate([
        ("w.data", None, None), ("w.data", "4", "12"),
        ("w.data", "8", "16"), ("link.data", None, None),
        ("out/secret.data", None, None), ("fifo.data", None, None),
        ("dir.data", None, None), ("loop.data", None, None),
        ("empty.data", None, None), ("../outside.data", None, None),
        ("w.data", "-4", None), ("w.data", "99999999999999999999", None)]):
    model = onnx.parser.parse_model("""
    <ir_version: 8, opset_import: ["" : 17]>
    ext (float[4] x) => (float[4] y)
    <float[4] w = {0}>
    { y = Add (x, w) }
    """)
    w = model.graph.initializer[0]
    w.ClearField("float_data")
    w.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset),
                       ("length", length)):
        if value is not None:
            entry = w.external_data.add()
            entry.key, entry.value = key, value
    with open(os.path.join(out, f"external-{seed}.seed"), "wb") as f:
        f.write(b"E" + bytes([ALL_FLAGS, len(data)]) + data +
                model.SerializeToString())

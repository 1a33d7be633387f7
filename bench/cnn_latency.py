#!/usr/bin/env python3
"""Full-size CNNs (ResNet-18, ResNet-50, MobileNetV2 at 224 x 224, batch
1): Anvil beside ONNX Runtime on the same ONNX file, with the same thread
count.

The graphs come from models/make_bench_cnn.py (seeded random weights,
torchvision's layer shapes, batch norm folded as an eval-mode export has
it), written once into the gitignored models/bench/cnn/. Each model is
compiled with `anvilc -O2`, its output checked against ONNX Runtime's on
one random input (max |anvil - ort| / max |ort| is printed; a value above
1e-3 stops the run), then timed: `anvil-run --repeat` and an ONNX Runtime
session (graph optimizations on) each in its own process, alternated
--rounds times so both see the same drift of a shared machine. Printed per
model and thread count: the median over rounds of each round's median, the
min..max of those, ORT/Anvil (above 1: Anvil is faster) and Anvil's
GFLOP/s (2 x the convolutions' and Gemm's multiply-adds per second).

With --quantize qoperator or qdq both sides run the model onnxruntime's
own `quantize_static` writes (static uint8 activations, int8 weights per
output channel, calibrated on 8 random inputs): QOperator (QLinearConv,
QLinearAdd, ...) or QDQ (QuantizeLinear/DequantizeLinear pairs around
float ops). The check's limit is then 0.05 (a few output quantization
steps: both sides round the same integers, but their float
requantization may differ by one step).

Usage: bench/cnn_latency.py [--models resnet18,mobilenetv2] [--size 224]
           [--quantize none|qoperator|qdq]
           [--threads 1,2] [--runs 20] [--rounds 3] [--lock FILE]
           [--anvilc build/bin/anvilc] [--anvil-run build/bin/anvil-run]
"""
import argparse
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graph_latency  # noqa: E402


def model_path(arch, size):
    """models/bench/cnn/<arch>-<size>.onnx, written on first use."""
    import onnx
    import make_bench_cnn
    folder = os.path.join(ROOT, "models", "bench", "cnn")
    path = os.path.join(folder, f"{arch}-{size}.onnx")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        onnx.save(make_bench_cnn.build(arch, size, batch=1), path)
    return path


def quantized_path(model, fmt, size, work):
    """`model` through onnxruntime's quantize_static in the format `fmt`
    (qoperator or qdq), into WORK; the float model's path for `none`."""
    if fmt == "none":
        return model
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_static)
    import onnxruntime as ort
    name = ort.InferenceSession(model).get_inputs()[0].name
    rng = np.random.default_rng(1)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(
                {name: rng.standard_normal((1, 3, size, size)).astype(
                    np.float32)} for _ in range(8))

        def get_next(self):
            return next(self.batches, None)

    out = os.path.join(work, os.path.basename(model).replace(
        ".onnx", f"-{fmt}.onnx"))
    quantize_static(model, out, Reader(),
                    quant_format=(QuantFormat.QOperator if fmt == "qoperator"
                                  else QuantFormat.QDQ),
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True)
    return out


def multiply_adds(path):
    """The Conv and Gemm multiply-adds of one forward pass (shapes from
    ONNX shape inference)."""
    import onnx
    from onnx import numpy_helper, shape_inference
    model = shape_inference.infer_shapes(onnx.load(path))
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(model.graph.value_info) + list(model.graph.output)}
    weights = {i.name: numpy_helper.to_array(i).shape
               for i in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = weights[node.input[1]]
            total += int(np.prod(shapes[node.output[0]])) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            total += int(np.prod(weights[node.input[1]]))
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    graph_latency.add_arguments(ap)
    ap.add_argument("--models", default="resnet18,mobilenetv2",
                    help="comma-separated: resnet18, resnet50, mobilenetv2 "
                         "(default: resnet18,mobilenetv2)")
    ap.add_argument("--size", type=int, default=224,
                    help="input height and width (default 224)")
    ap.add_argument("--quantize", choices=["none", "qoperator", "qdq"],
                    default="none",
                    help="time onnxruntime's quantize_static model of each "
                    "CNN in this format instead of the float one (default "
                    "none)")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    print(f"{args.size}x{args.size}, batch 1, "
          f"{'float32' if args.quantize == 'none' else args.quantize}; "
          f"per thread count the median "
          f"(min..max) over {args.rounds} rounds of each round's median of "
          f"{args.runs} runs, in ms")
    print("| model | threads | Anvil ms | ORT ms | ORT/Anvil | Anvil GFLOP/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        paths = {"input": os.path.join(work, "x.npy")}
        np.save(paths["input"], np.random.default_rng(0).standard_normal(
            (1, 3, args.size, args.size)).astype(np.float32))
        for arch in args.models.split(","):
            float_model = model_path(arch, args.size)
            model = quantized_path(float_model, args.quantize, args.size, work)
            artifact = graph_latency.compile_checked(
                args, arch, model, paths, work,
                limit=1e-3 if args.quantize == "none" else 0.05)
            flops = 2 * multiply_adds(float_model)
            for t in threads:
                print(graph_latency.table_row(
                    [arch, t], *graph_latency.time_rounds(
                        args, artifact, model, paths, t), flops), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

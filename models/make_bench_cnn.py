#!/usr/bin/env python3
"""Write full-size CNN benchmark graphs with seeded random weights.

The zoo's ResNet-18 and MobileNetV2 are reduced-width 64x64 exports (tests
want them small); speed needs the real shapes. These graphs are built with
onnx.helper (no torch needed), with the layers torchvision's models have
after export in eval mode: batch norm folded into each convolution's bias,
ReLU (ResNet) or Clip(0, 6) (MobileNetV2's ReLU6), residual Adds, MaxPool,
GlobalAveragePool, Flatten and a Gemm classifier.

  resnet18     torchvision's ResNet-18: 7x7/2 stem, four stages of two
               BasicBlocks (64, 128, 256, 512 channels, a 1x1/2 projection
               where the shape changes), 1000 classes; 1.8 GMACs at 224.
  resnet50     torchvision's ResNet-50 (v1.5: the stride on the 3x3): four
               stages of 3, 4, 6 and 3 Bottlenecks (1x1 reduce, 3x3, 1x1
               expand to 4x: 256, 512, 1024, 2048 channels, a 1x1
               projection where the shape changes); 4.1 GMACs at 224. Its
               1x1 convolutions over 1024 and 2048 channels are the wide-K
               products ResNet-18 does not have.
  mobilenetv2  torchvision's MobileNetV2 (width 1.0): inverted residual
               blocks (1x1 expand, 3x3 depthwise, 1x1 project), 1000
               classes; 0.3 GMACs at 224.

Weights: He-normal (std sqrt(2 / fan_in)) from numpy's default_rng(seed),
biases N(0, 0.01^2). The input is [batch, 3, size, size] with `batch` a
named dim unless --batch fixes it.

Usage: models/make_bench_cnn.py {resnet18,resnet50,mobilenetv2} OUT.onnx
           [--size 224] [--batch N] [--seed 0]
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    """Appends nodes and initializers with unique names."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, array, prefix):
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def conv(self, x, cin, cout, k, stride=1, group=1):
        fan_in = (cin // group) * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in),
                            (cout, cin // group, k, k)).astype(np.float32)
        b = self.rng.normal(0, 0.01, cout).astype(np.float32)
        out = self.name("conv")
        pad = k // 2
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const(w, "w"), self.const(b, "b")], [out],
            kernel_shape=[k, k], strides=[stride, stride],
            pads=[pad, pad, pad, pad], group=group))
        return out

    def op(self, op_type, inputs, **attrs):
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def relu6(self, x):
        if not hasattr(self, "_clip"):
            self._clip = (self.const(np.array(0, np.float32), "zero"),
                          self.const(np.array(6, np.float32), "six"))
        return self.op("Clip", [x, *self._clip])

    def classifier(self, x, channels, classes=1000):
        x = self.op("Flatten", [self.op("GlobalAveragePool", [x])], axis=1)
        w = self.rng.normal(0, np.sqrt(1.0 / channels),
                            (classes, channels)).astype(np.float32)
        b = np.zeros(classes, np.float32)
        return self.op("Gemm", [x, self.const(w, "fc_w"),
                                self.const(b, "fc_b")], transB=1)


def resnet18(b):
    x = b.op("Relu", [b.conv("input", 3, 64, 7, stride=2)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1])
    cin = 64
    for stage, cout in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            y = b.op("Relu", [b.conv(x, cin, cout, 3, stride)])
            y = b.conv(y, cout, cout, 3)
            shortcut = x if stride == 1 and cin == cout else b.conv(
                x, cin, cout, 1, stride)
            x = b.op("Relu", [b.op("Add", [y, shortcut])])
            cin = cout
    return b.classifier(x, 512)


def resnet50(b):
    x = b.op("Relu", [b.conv("input", 3, 64, 7, stride=2)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1])
    cin = 64
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6),
                                             (512, 3)]):
        cout = 4 * width
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            y = b.op("Relu", [b.conv(x, cin, width, 1)])
            y = b.op("Relu", [b.conv(y, width, width, 3, stride)])
            y = b.conv(y, width, cout, 1)
            shortcut = x if block > 0 else b.conv(x, cin, cout, 1, stride)
            x = b.op("Relu", [b.op("Add", [y, shortcut])])
            cin = cout
    return b.classifier(x, 2048)


def mobilenetv2(b):
    x = b.relu6(b.conv("input", 3, 32, 3, stride=2))
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                       (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = x if t == 1 else b.relu6(b.conv(x, cin, hidden, 1))
            y = b.relu6(b.conv(y, hidden, hidden, 3, stride, group=hidden))
            y = b.conv(y, hidden, c, 1)
            x = b.op("Add", [x, y]) if stride == 1 and cin == c else y
            cin = c
    x = b.relu6(b.conv(x, cin, 1280, 1))
    return b.classifier(x, 1280)


MODELS = {"resnet18": resnet18, "resnet50": resnet50,
          "mobilenetv2": mobilenetv2}


def build(arch, size=224, batch=None, seed=0):
    """The ModelProto of `arch` for [batch, 3, size, size] inputs."""
    b = Builder(seed)
    out = MODELS[arch](b)
    dim0 = batch if batch else "batch"
    graph = helper.make_graph(
        b.nodes, arch,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       [dim0, 3, size, size])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT,
                                       [dim0, 1000])],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="anvil-make-bench-cnn")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("arch", choices=sorted(MODELS))
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224,
                    help="input height and width (default 224)")
    ap.add_argument("--batch", type=int,
                    help="a fixed batch size (default: a named dim)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    onnx.save(build(args.arch, args.size, args.batch, args.seed), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Conv and pooling on random inputs, built here with onnx.helper, compiled
by anvilc, run by anvil-run and compared with ONNX Runtime on the same
inputs. The CPU kernel has three paths for float32 Conv (a product on the
matmul micro-kernel, a depthwise kernel, a direct loop) and pooling works
out each window's valid taps once per call; these models reach every path
with the shapes real networks have, which the ONNX node tests (one or two
channels) do not.

Models (each one artifact with several outputs, to keep C++ compiles few):
  conv_f32   input x [2, 16, 23, 19] and constant weights: 3x3 same with
             bias; 7x7 stride 2; 1x1; 1x1 stride 2; 2 groups; depthwise
             3x3; depthwise 3x3 stride 2 with 2 outputs per channel;
             depthwise 5x5 dilation 2 stride 2; dilation 2 with asymmetric
             pads; auto_pad SAME_UPPER 4x4 stride 2; 8 groups of 2 inputs
             and 2 outputs (the direct loop); a 3x3 over 64 channels (576
             taps: more than one k block of 256); a 1-D convolution of
             x1 [1, 6, 40]; and a Conv -> Relu -> Conv chain
  conv_f16   float16 3x3 and depthwise convolutions (widened onto the
             float32 kernels, the result rounded to float16 once); ONNX
             Runtime runs the float32 model on the same values
  conv_epilogue  Conv -> Add (residual) -> Relu, depthwise Conv -> Clip,
             1x1 Conv -> Mul by a per-channel [24, 1, 1] constant, grouped
             Conv -> Sigmoid, with no intermediate a graph output: each
             loop runs inside its convolution as its epilogue (the
             compile must fuse all 4)
  conv_channels_last  inverted residual blocks (1x1 -> Clip ->
             depthwise -> Clip -> 1x1, + residual; a stride-2 one with
             Relu; a 5x5 one with HardSwish and Sigmoid; one whose
             expansion is a graph output): the compile must keep the
             inner tensors of the first three channels last
  pool_f32   MaxPool 3x3/2 pads 1; MaxPool 2x2/2 dilation 2 ceil_mode;
             AveragePool 3x3/2 pads 1 with and without count_include_pad,
             ceil_mode; 1-D AveragePool; a NaN in the input propagates
             through MaxPool and AveragePool (ONNX Runtime's MaxPool skips
             NaN: that window's expected value is NaN)

Tolerances: float32 |anvil - ort| <= 1e-4 + 1e-4 |ort| (sums of up to 576
products of N(0, 1) values, in another order); float16 outputs 2e-3 +
2e-3 |ref| (one float16 rounding of a float sum). Expected values come
from ONNX Runtime (graph optimizations off), never from Anvil.

Usage: run_conv.py --anvilc anvilc --anvil-run anvil-run --work DIR
       [--filter REGEX]
Prints `ok NAME` or `FAIL NAME: why` per model, then
`conv: N passed, M failed`; exits nonzero on any failure.
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402


make = e2e_harness.make_model


class Graph:
    """Nodes with constant weights; every result a graph output unless
    made with output=False."""

    def __init__(self, rng, dtype=np.float32):
        self.rng, self.dtype = rng, dtype
        self.nodes, self.inits, self.outputs = [], [], []
        self.ranks = {}

    def weight(self, name, shape):
        value = self.rng.standard_normal(shape).astype(self.dtype)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def conv(self, out, x, cin, cout, kernel, group=1, bias=True,
             output=True, **attrs):
        w = self.weight(out + "_w", [cout, cin // group, *kernel])
        ins = [x, w] + ([self.weight(out + "_b", [cout])] if bias else [])
        return self.node("Conv", ins, out, rank=len(kernel) + 2,
                         output=output, group=group, **attrs)

    def node(self, op, ins, out, rank=4, output=True, **attrs):
        self.nodes.append(helper.make_node(op, ins, [out], **attrs))
        if output:
            self.outputs.append(out)
            self.ranks[out] = rank
        return out

    def model(self, inputs, elem):
        outs = [helper.make_tensor_value_info(o, elem, [None] * self.ranks[o])
                for o in self.outputs]
        ins = [helper.make_tensor_value_info(n, elem, list(v.shape))
               for n, v in inputs.items()]
        return make(self.nodes, ins, outs, self.inits)


def conv_f32(rng):
    g = Graph(rng)
    g.conv("same3", "x", 16, 24, [3, 3], pads=[1, 1, 1, 1])
    g.conv("stem7", "x", 16, 16, [7, 7], strides=[2, 2], pads=[3, 3, 3, 3])
    g.conv("pw", "x", 16, 40, [1, 1], bias=False)
    g.conv("pw_s2", "x", 16, 12, [1, 1], strides=[2, 2])
    g.conv("groups2", "x", 16, 32, [3, 3], group=2, pads=[1, 1, 1, 1])
    g.conv("dw", "x", 16, 16, [3, 3], group=16, pads=[1, 1, 1, 1])
    g.conv("dw_s2_x2", "x", 16, 32, [3, 3], group=16, strides=[2, 2],
           pads=[1, 1, 1, 1], bias=False)
    g.conv("dw5_d2_s2", "x", 16, 16, [5, 5], group=16, strides=[2, 2],
           dilations=[2, 2], pads=[4, 4, 4, 4])
    g.conv("dilated", "x", 16, 20, [3, 3], dilations=[2, 2],
           pads=[0, 2, 1, 0])
    g.conv("same_upper", "x", 16, 8, [4, 4], strides=[2, 2],
           auto_pad="SAME_UPPER")
    g.conv("groups8", "x", 16, 16, [3, 3], group=8, pads=[1, 1, 1, 1])
    g.conv("k576", "x64", 64, 40, [3, 3], pads=[1, 1, 1, 1])
    g.conv("conv1d", "x1", 6, 13, [5], pads=[2, 2])
    g.node("Relu", [g.conv("chain_a", "x", 16, 24, [3, 3], pads=[1, 1, 1, 1])],
           "chain_relu")
    g.conv("chain_b", "chain_relu", 24, 8, [1, 1])
    inputs = {
        "x": rng.standard_normal((2, 16, 23, 19)).astype(np.float32),
        "x64": rng.standard_normal((1, 64, 9, 10)).astype(np.float32),
        "x1": rng.standard_normal((1, 6, 40)).astype(np.float32),
    }
    return g.model(inputs, TensorProto.FLOAT), inputs


def conv_f16(rng):
    g = Graph(rng, np.float16)
    g.conv("same3", "x", 8, 12, [3, 3], pads=[1, 1, 1, 1])
    g.conv("dw", "x", 8, 8, [3, 3], group=8, strides=[2, 2],
           pads=[1, 1, 1, 1])
    inputs = {"x": rng.standard_normal((1, 8, 11, 13)).astype(np.float16)}
    return g.model(inputs, TensorProto.FLOAT16), inputs


def pool_f32(rng):
    g = Graph(rng)
    g.node("MaxPool", ["x"], "max3_s2", kernel_shape=[3, 3], strides=[2, 2],
           pads=[1, 1, 1, 1])
    g.node("MaxPool", ["x"], "max_dil_ceil", kernel_shape=[2, 2],
           strides=[2, 2], dilations=[2, 2], ceil_mode=1)
    g.node("AveragePool", ["x"], "avg_excl", kernel_shape=[3, 3],
           strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    g.node("AveragePool", ["x"], "avg_incl", kernel_shape=[3, 3],
           strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    g.node("AveragePool", ["x1"], "avg1d", rank=3, kernel_shape=[4],
           strides=[3], pads=[2, 1])
    g.node("MaxPool", ["xnan"], "max_nan", kernel_shape=[2, 2],
           strides=[2, 2])
    g.node("AveragePool", ["xnan"], "avg_nan", kernel_shape=[2, 2],
           strides=[2, 2])
    xnan = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    xnan[0, 1, 2, 3] = np.nan
    inputs = {
        "x": rng.standard_normal((2, 5, 17, 14)).astype(np.float32),
        "x1": rng.standard_normal((1, 3, 31)).astype(np.float32),
        "xnan": xnan,
    }
    return g.model(inputs, TensorProto.FLOAT), inputs


def conv_epilogue(rng):
    """Convolutions whose only reader is an elementwise loop, which runs
    inside the convolution as its epilogue (anvil-fuse-matmul-epilogue):
    intermediates are not graph outputs."""
    g = Graph(rng)
    a = g.conv("a", "x", 16, 16, [3, 3], pads=[1, 1, 1, 1], output=False)
    g.node("Relu", [g.node("Add", [a, "x"], "a_res", output=False)],
           "a_relu")
    clip_min = g.weight("clip_min", [])
    clip_max = g.weight("clip_max", [])
    d = g.conv("d", "x", 16, 16, [3, 3], group=16, strides=[2, 2],
               pads=[1, 1, 1, 1], output=False)
    g.node("Clip", [d, clip_min, clip_max], "d_clip")
    p = g.conv("p", "x", 16, 24, [1, 1], output=False)
    g.node("Mul", [p, g.weight("scale", [24, 1, 1])], "p_scaled")
    e = g.conv("e", "x", 16, 8, [3, 3], group=2, pads=[1, 1, 1, 1],
               output=False)
    g.node("Sigmoid", [e], "e_sigmoid")
    inputs = {"x": rng.standard_normal((1, 16, 29, 27)).astype(np.float32)}
    return g.model(inputs, TensorProto.FLOAT), inputs


def conv_channels_last(rng):
    """MobileNetV2's inverted residual blocks (1x1 expansion -> clamp ->
    depthwise -> clamp -> 1x1 projection), whose two inner tensors the cpu
    target keeps channels last (conv_channels_last.h): one with a residual
    add after the projection, one at stride 2 with Relu, a 5x5 one with
    HardSwish and Sigmoid (unary epilogues the kernels hand runs of the
    channels-last buffers), and one whose expansion is also a graph output
    (so stays planar)."""
    g = Graph(rng)
    lo, hi = g.weight("six_lo", []), g.weight("six_hi", [])
    g.inits[-2] = numpy_helper.from_array(np.float32(0), "six_lo")
    g.inits[-1] = numpy_helper.from_array(np.float32(6), "six_hi")
    e = g.conv("e1", "x", 16, 96, [1, 1], output=False)
    e = g.node("Clip", [e, lo, hi], "e1_clip", output=False)
    d = g.conv("d1", e, 96, 96, [3, 3], group=96, pads=[1, 1, 1, 1],
               output=False)
    d = g.node("Clip", [d, lo, hi], "d1_clip", output=False)
    pr = g.conv("p1", d, 96, 16, [1, 1], output=False)
    g.node("Add", [pr, "x"], "block1")
    e = g.conv("e2", "x", 16, 72, [1, 1], bias=False, output=False)
    e = g.node("Relu", [e], "e2_relu", output=False)
    d = g.conv("d2", e, 72, 72, [3, 3], group=72, strides=[2, 2],
               pads=[1, 1, 1, 1], output=False)
    d = g.node("Relu", [d], "d2_relu", output=False)
    g.conv("block2", d, 72, 24, [1, 1])
    e = g.conv("e4", "x", 16, 48, [1, 1], output=False)
    e = g.node("HardSwish", [e], "e4_hswish", output=False)
    d = g.conv("d4", e, 48, 48, [5, 5], group=48, pads=[2, 2, 2, 2],
               output=False)
    d = g.node("Sigmoid", [d], "d4_sigmoid", output=False)
    g.conv("block4", d, 48, 16, [1, 1])
    e = g.conv("e3", "x", 16, 40, [1, 1])  # a graph output: stays planar
    d = g.conv("d3", e, 40, 40, [3, 3], group=40, pads=[1, 1, 1, 1],
               output=False)
    g.conv("block3", d, 40, 8, [1, 1])
    inputs = {"x": rng.standard_normal((2, 16, 15, 13)).astype(np.float32)}
    return g.model(inputs, TensorProto.FLOAT), inputs


# The epilogues conv_epilogue's compile must have fused.
EPILOGUES = {"conv_epilogue": 4}
# The channels-last chains conv_channels_last's compile must have chosen
# (each marks the expansion and the depthwise convolution out_nhwc).
CHANNELS_LAST = {"conv_channels_last": 3}

MODELS = [conv_f32, conv_f16, pool_f32, conv_epilogue, conv_channels_last]


def fused_epilogues(anvilc, work, name):
    """How many kernel.epilogue loops `anvilc -O2 --emit=kernel` gives for
    WORK/NAME.onnx (written by compile_and_run)."""
    return e2e_harness.kernel_program(
        anvilc, os.path.join(work, name + ".onnx")).count("kernel.epilogue")


def check(name, model, inputs, args):
    got, error = e2e_harness.compile_and_run(
        args.anvilc, args.anvil_run, args.work, name, model, inputs,
        anvilc_flags=["-O2"])
    if error:
        return error
    if name in EPILOGUES:
        fused = fused_epilogues(args.anvilc, args.work, name)
        if fused != EPILOGUES[name]:
            return (f"{fused} epilogues fused at -O2, expected "
                    f"{EPILOGUES[name]}")
    if name in CHANNELS_LAST:
        chains = e2e_harness.kernel_program(
            args.anvilc, os.path.join(args.work, name + ".onnx")).count(
                "out_nhwc = true") // 2
        if chains != CHANNELS_LAST[name]:
            return (f"{chains} channels-last chains chosen, expected "
                    f"{CHANNELS_LAST[name]}")
    names = list(got)
    is16 = name.endswith("f16")
    ort_model = e2e_harness.float32_model(model) if is16 else model
    ort_inputs = ({k: v.astype(np.float32) for k, v in inputs.items()}
                  if is16 else inputs)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(ort_model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    by_ort = dict(zip(names, session.run(None, ort_inputs)))
    tolerance = (2e-3, 2e-3) if is16 else (1e-4, 1e-4)
    for out in names:
        want = by_ort[out].astype(got[out].dtype) if is16 else by_ort[out]
        if out == "max_nan":
            # ONNX Runtime's MaxPool skips a NaN (its comparisons are
            # false); Anvil's propagates it, as its sum does in
            # AveragePool and as PyTorch's max_pool2d does: the window
            # holding the input's NaN (at [0, 1, 2, 3]) is NaN.
            want = want.copy()
            want[0, 1, 1, 1] = np.nan
        problem = e2e_harness.compare_array(out, got[out], want, *tolerance,
                                            what="ONNX Runtime",
                                            nonfinite="match")
        if problem:
            return problem
        if out.endswith("nan") and not np.isnan(got[out]).any():
            return f"{out}: the NaN in the input did not propagate"
    return None


def main():
    return e2e_harness.run_cases("conv", MODELS, check, seed=17,
                                 description=__doc__)


if __name__ == "__main__":
    sys.exit(main())

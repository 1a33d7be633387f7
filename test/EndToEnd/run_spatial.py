#!/usr/bin/env python3
"""Spatial ops (Resize, ConvTranspose, GridSample) on random inputs,
built here with onnx.helper, compiled by anvilc, run by anvil-run and
compared with ONNX Runtime on the same inputs; the float64 Resize model is
also compared with ONNX's reference implementation (float64 numpy,
onnx.reference), so the two references are checked against each other too.

Models (each one artifact with several outputs, to keep C++ compiles few):
  resize_f32         Resize of one [2, 3, 7, 9] input in 11 ways: linear
                     half_pixel down (0.6, 0.45) with and without antialias,
                     cubic align_corners up (2, 3) with
                     cubic_coeff_a=-0.5 and exclude_outside, the same up
                     (1.7, 2.3) with the default coefficient, cubic
                     antialias down to sizes, nearest round_prefer_ceil
                     asymmetric (1.5, 1.4), nearest floor pytorch_half_pixel,
                     tf_crop_and_resize linear with an roi partly outside
                     (extrapolation_value 7), half_pixel_symmetric linear
                     to sizes, keep_aspect_ratio_policy not_larger with
                     axes [3, 2], and scales on axes [2, 3] only
  resize_f64         four of the same on a float64 input
  conv_transpose     2-D with strides, dilations, pads, output_padding,
                     group 2 and bias; 2-D output_shape with SAME_LOWER;
                     1-D; 3-D
  grid_sample        2-D bicubic reflection, bilinear zeros align_corners,
                     nearest border (grid partly outside [-1, 1]); 3-D
                     linear zeros (opset 20)

Every output is checked against ONNX Runtime, and Resize's against
onnx.reference too; `cubic_ac_frac` against onnx.reference only: align_corners with a fractional output width
(scale * input length not an integer), where the ONNX reference, and with
it the backend node tests, divide by the fractional width and ONNX Runtime
by the integer output length (up to 1.4 apart on this input); Anvil follows
the reference. ORT has no float64 Resize, so for resize_f64 it runs the
float32 model on the same values.

Tolerances: |anvil - ref| <= 1e-5 + 1e-4 |ref| for float32 (sums in
another order) and against ORT's float32 results, 1e-12 + 1e-10 |ref| for
float64 against onnx.reference (the same float64 arithmetic). The expected
values come from ONNX Runtime (graph optimizations off) or onnx.reference,
never from Anvil.

Usage: run_spatial.py --anvilc anvilc --anvil-run anvil-run --work DIR
       [--filter REGEX]
Prints `ok NAME` or `FAIL NAME: why` per model, then
`spatial: N passed, M failed`; exits nonzero on any failure.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402


make = e2e_harness.make_model


def floats(name, values):
    return helper.make_tensor(name, TensorProto.FLOAT, [len(values)], values)


def ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


# (output, roi, scales, sizes, attributes)
REFERENCE_ONLY = {"cubic_ac_frac"}
RESIZES = [
    ("lin_down", None, [1, 1, 0.6, 0.45], None, dict(mode="linear")),
    ("lin_down_aa", None, [1, 1, 0.6, 0.45], None,
     dict(mode="linear", antialias=1)),
    ("cubic_up_ac", None, [1, 1, 2, 3], None,
     dict(mode="cubic", coordinate_transformation_mode="align_corners",
          cubic_coeff_a=-0.5, exclude_outside=1)),
    # Fractional output widths: the ONNX reference (and the node tests)
    # divide by the fractional width, ONNX Runtime by the integer one.
    ("cubic_ac_frac", None, [1, 1, 1.7, 2.3], None,
     dict(mode="cubic", coordinate_transformation_mode="align_corners")),
    ("cubic_aa_sizes", None, None, [2, 3, 4, 5],
     dict(mode="cubic", antialias=1)),
    ("near_ceil_asym", None, [1, 1, 1.5, 1.4], None,
     dict(mode="nearest", nearest_mode="round_prefer_ceil",
          coordinate_transformation_mode="asymmetric")),
    ("near_floor_pt", None, [1, 1, 0.5, 1.3], None,
     dict(mode="nearest", nearest_mode="floor",
          coordinate_transformation_mode="pytorch_half_pixel")),
    ("tf_crop", [0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3], None, [2, 3, 5, 6],
     dict(mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
          extrapolation_value=7.0)),
    ("half_sym", None, None, [2, 3, 10, 5],
     dict(mode="linear",
          coordinate_transformation_mode="half_pixel_symmetric")),
    ("aspect_axes", None, None, [4, 11],
     dict(mode="linear", keep_aspect_ratio_policy="not_larger",
          axes=[3, 2])),
    ("scales_axes", None, [1.25, 0.5], None, dict(mode="cubic", axes=[2, 3])),
]


def resize_model(dtype, names):
    nodes, inits = [], []
    outs = []
    for out, roi, scales, sizes, attrs in RESIZES:
        if out not in names:
            continue
        ins = ["x", "", "", ""]
        if roi is not None:
            inits.append(floats(out + "_roi", roi))
            ins[1] = out + "_roi"
        if scales is not None:
            inits.append(floats(out + "_scales", scales))
            ins[2] = out + "_scales"
        if sizes is not None:
            inits.append(ints(out + "_sizes", sizes))
            ins[3] = out + "_sizes"
        while ins[-1] == "":
            ins.pop()
        nodes.append(helper.make_node("Resize", ins, [out], **attrs))
        outs.append(helper.make_tensor_value_info(out, dtype, [None] * 4))
    x = helper.make_tensor_value_info("x", dtype, [2, 3, 7, 9])
    return make(nodes, [x], outs, inits)


def resize_f32(rng):
    model = resize_model(TensorProto.FLOAT, [r[0] for r in RESIZES])
    x = rng.standard_normal((2, 3, 7, 9)).astype(np.float32)
    return model, {"x": x}


def resize_f64(rng):
    # Not cubic_ac_frac nor tf_crop: the reference computes the fractional
    # width and the roi arithmetic from the float32 scale and roi in
    # float32 (numpy's promotion), about 1e-8 relative apart.
    names = ["lin_down_aa", "cubic_up_ac", "near_ceil_asym", "half_sym"]
    model = resize_model(TensorProto.DOUBLE, names)
    x = rng.standard_normal((2, 3, 7, 9))
    return model, {"x": x}


def conv_transpose(rng):
    f = TensorProto.FLOAT
    w2 = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b2 = rng.standard_normal(6).astype(np.float32)
    w1 = rng.standard_normal((4, 2, 4)).astype(np.float32)
    w3 = rng.standard_normal((4, 2, 2, 3, 2)).astype(np.float32)
    inits = [
        onnx.numpy_helper.from_array(w2, "w2"),
        onnx.numpy_helper.from_array(b2, "b2"),
        onnx.numpy_helper.from_array(w1, "w1"),
        onnx.numpy_helper.from_array(w3, "w3")
    ]
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w2", "b2"], ["a"],
                         strides=[2, 3], dilations=[2, 1], pads=[1, 0, 2, 1],
                         output_padding=[1, 2], group=2),
        helper.make_node("ConvTranspose", ["x", "w2"], ["b"], strides=[2, 2],
                         output_shape=[12, 11], auto_pad="SAME_LOWER",
                         group=2),
        helper.make_node("ConvTranspose", ["x1", "w1"], ["c"], strides=[3],
                         pads=[1, 2]),
        helper.make_node("ConvTranspose", ["x3", "w3"], ["d"],
                         strides=[1, 2, 2]),
    ]
    inputs = [
        helper.make_tensor_value_info("x", f, [2, 4, 5, 6]),
        helper.make_tensor_value_info("x1", f, [1, 4, 7]),
        helper.make_tensor_value_info("x3", f, [1, 4, 3, 4, 3]),
    ]
    outs = [
        helper.make_tensor_value_info(n, f, [None] * r)
        for n, r in zip("abcd", [4, 4, 3, 5])
    ]
    model = make(nodes, inputs, outs, inits)
    feeds = {
        "x": rng.standard_normal((2, 4, 5, 6)).astype(np.float32),
        "x1": rng.standard_normal((1, 4, 7)).astype(np.float32),
        "x3": rng.standard_normal((1, 4, 3, 4, 3)).astype(np.float32),
    }
    return model, feeds


def grid_sample(rng):
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("GridSample", ["x", "g"], ["a"], mode="cubic",
                         padding_mode="reflection"),
        helper.make_node("GridSample", ["x", "g"], ["b"], mode="linear",
                         align_corners=1),
        helper.make_node("GridSample", ["x", "g"], ["c"], mode="nearest",
                         padding_mode="border"),
        helper.make_node("GridSample", ["x3", "g3"], ["d"], mode="linear"),
    ]
    inputs = [
        helper.make_tensor_value_info("x", f, [2, 3, 5, 6]),
        helper.make_tensor_value_info("g", f, [2, 4, 7, 2]),
        helper.make_tensor_value_info("x3", f, [1, 2, 3, 4, 5]),
        helper.make_tensor_value_info("g3", f, [1, 2, 3, 4, 3]),
    ]
    outs = [
        helper.make_tensor_value_info(n, f, [None] * r)
        for n, r in zip("abcd", [4, 4, 4, 5])
    ]
    model = make(nodes, inputs, outs, [], opset=20)
    feeds = {
        "x": rng.standard_normal((2, 3, 5, 6)).astype(np.float32),
        "g": rng.uniform(-1.4, 1.4, (2, 4, 7, 2)).astype(np.float32),
        "x3": rng.standard_normal((1, 2, 3, 4, 5)).astype(np.float32),
        "g3": rng.uniform(-1.2, 1.2, (1, 2, 3, 4, 3)).astype(np.float32),
    }
    return model, feeds


MODELS = [resize_f32, resize_f64, conv_transpose, grid_sample]


def check(name, model, inputs, args):
    got, error = e2e_harness.compile_and_run(
        args.anvilc, args.anvil_run, args.work, name, model, inputs)
    if error:
        return error
    names = list(got)
    # ONNX Runtime has no float64 Resize: it runs the float32 model on the
    # same values, and both it and Anvil are checked against onnx.reference
    # in float64.
    is64 = model.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    ort_model, ort_inputs = model, inputs
    if is64:
        ort_model = resize_model(TensorProto.FLOAT, names)
        ort_inputs = {k: v.astype(np.float32) for k, v in inputs.items()}
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(ort_model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    by_ort = dict(zip(names, session.run(None, ort_inputs)))
    # onnx.reference for Resize only (its ConvTranspose fails on groups).
    by_numpy = {}
    if name.startswith("resize"):
        by_numpy = dict(zip(names, ReferenceEvaluator(model).run(None, inputs)))
    for out in names:
        checks = []
        if out not in REFERENCE_ONLY:
            checks.append(("ONNX Runtime", by_ort[out].astype(got[out].dtype),
                           (1e-4, 1e-5)))
        if by_numpy:
            checks.append(("onnx.reference", by_numpy[out],
                           (1e-10, 1e-12) if is64 else (1e-4, 1e-5)))
        for what, want, (rtol, atol) in checks:
            problem = e2e_harness.compare_array(out, got[out], want, rtol,
                                                atol, what=what)
            if problem:
                return problem
    return None


def main():
    return e2e_harness.run_cases("spatial", MODELS, check, seed=11,
                                 description=__doc__)


if __name__ == "__main__":
    sys.exit(main())

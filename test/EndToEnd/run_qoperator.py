#!/usr/bin/env python3
"""ONNX Runtime's QOperator-format quantized ops (com.microsoft QLinearAdd,
QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax, QLinearWhere,
QLinearAveragePool,
QLinearGlobalAveragePool, QLinearConcat, QGemm), built here with
onnx.helper or written by onnxruntime's quantize_static with
QuantFormat.QOperator, compiled by anvilc, run by anvil-run and compared
with ONNX Runtime on the same inputs.

Cases:
  qlinear_add_broadcast     uint8 A [2, 3, 4, 5] + B [1, 3, 1, 5], zero points
  qlinear_mul_int8          int8 A [3, 16] * B [16]
  qlinear_sigmoid           uint8 [2, 40]
  qlinear_leaky_relu        int8 [4, 25], alpha 0.1
  qlinear_softmax           uint8 [3, 20], axis -1 (opset 13)
  qlinear_softmax_opset12   int8 [2, 3, 4], axis 1 with opset 12 (coerced
                            to 2-D)
  qlinear_where             a bool condition choosing between two uint8
                            inputs with their own scales, broadcast
  qlinear_average_pool      uint8 [1, 3, 9, 9], 3x3, stride 2, pads 1,
                            count_include_pad 0, ceil_mode 1
  qlinear_global_pool       uint8 [2, 5, 6, 7], channels first
  qlinear_global_pool_nhwc  the same with channels_last = 1 ([2, 6, 7, 5])
  qlinear_concat            three uint8 inputs with their own scales and
                            zero points, along axis 1
  qgemm_quantized           uint8 A [3, 20], int8 B^T [12, 20] (transB) with
                            a scale per output channel, int32 bias, uint8 y
  qgemm_float               the same without y_scale: float32 y, alpha 0.5
                            (both against QGemm's definition in int64 and
                            float64 numpy, not ORT: see qgemm's reference)
  qop_cnn_uint8             quantize_static (QOperator, uint8 activations,
                            int8 weights per tensor) of a small CNN with a
                            residual Add, Mul, Sigmoid, LeakyRelu, pools,
                            Concat and Gemm
  qop_cnn_int8_per_channel  the same with int8 activations and weights per
                            channel (QGemm's b_scale per output channel)
  qop_mlp_uint8             quantize_static (QOperator) of an MLP: two
                            QLinearMatMul around a QLinearAdd, both on the
                            int8 kernel (matmul_quant, in the kernel program)
  qlinear_add_per_channel   a scale of one value per channel: anvilc must
                            refuse it with an error that says so

Tolerances: integer outputs within one quantization step of ONNX
Runtime's, |anvil - ort| <= 1. Anvil computes each op's definition
(dequantize, the float op in float32, quantize with round-half-to-even);
ORT reaches the same values through other float32 roundings (QLinearAdd
through the ratios of the scales, QLinearSigmoid and QLinearLeakyRelu
through a 256-entry table), so a value within float32 rounding of a half
step may round the other way. float32 outputs (QGemm without y_scale):
1e-5 + 1e-4 |ort|. The CNNs' float32 outputs (DequantizeLinear of the last
op) within one step of that output's scale. The expected values always
come from ONNX Runtime (QGemm's from its definition in numpy), never from
Anvil.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def make(nodes, inputs, outputs, initializers):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model


def info(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def ms(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, domain="com.microsoft",
                            **attrs)


def q_input(rng, name, dtype, shape):
    lo, hi = (0, 256) if dtype == np.uint8 else (-128, 128)
    return rng.integers(lo, hi, size=shape).astype(dtype)


ONNX_TYPE = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8}


def unary(rng, op, dtype, shape, out_shape=None, **attrs):
    """One QLinear unary op on X with scale 0.05 and zero point 3 (uint8)
    or -2 (int8), Y's scale 0.04 and zero point 120 or 10."""
    zx, zy = (3, 120) if dtype == np.uint8 else (-2, 10)
    inits = [const("xs", np.float32(0.05)), const("xz", dtype(zx)),
             const("ys", np.float32(0.04)), const("yz", dtype(zy))]
    model = make([ms(op, ["x", "xs", "xz", "ys", "yz"], ["y"], **attrs)],
                 [info("x", ONNX_TYPE[dtype], list(shape))],
                 [info("y", ONNX_TYPE[dtype], list(out_shape or shape))],
                 inits)
    return model, {"x": q_input(rng, "x", dtype, shape)}


def qlinear_add_broadcast(rng):
    inits = [const("as", np.float32(0.03)), const("az", np.uint8(100)),
             const("bs", np.float32(0.07)), const("bz", np.uint8(20)),
             const("cs", np.float32(0.05)), const("cz", np.uint8(128))]
    model = make([ms("QLinearAdd", ["a", "as", "az", "b", "bs", "bz", "cs",
                                    "cz"], ["c"])],
                 [info("a", TensorProto.UINT8, [2, 3, 4, 5]),
                  info("b", TensorProto.UINT8, [1, 3, 1, 5])],
                 [info("c", TensorProto.UINT8, [2, 3, 4, 5])], inits)
    return model, {"a": q_input(rng, "a", np.uint8, (2, 3, 4, 5)),
                   "b": q_input(rng, "b", np.uint8, (1, 3, 1, 5))}


def qlinear_mul_int8(rng):
    inits = [const("as", np.float32(0.02)), const("bs", np.float32(0.03)),
             const("cs", np.float32(0.01)), const("cz", np.int8(-5)),
             const("az", np.int8(3)), const("bz", np.int8(0))]
    model = make([ms("QLinearMul", ["a", "as", "az", "b", "bs", "bz", "cs",
                                    "cz"], ["c"])],
                 [info("a", TensorProto.INT8, [3, 16]),
                  info("b", TensorProto.INT8, [16])],
                 [info("c", TensorProto.INT8, [3, 16])], inits)
    return model, {"a": q_input(rng, "a", np.int8, (3, 16)),
                   "b": q_input(rng, "b", np.int8, (16,))}


def qlinear_sigmoid(rng):
    return unary(rng, "QLinearSigmoid", np.uint8, (2, 40))


def qlinear_leaky_relu(rng):
    return unary(rng, "QLinearLeakyRelu", np.int8, (4, 25), alpha=0.1)


def qlinear_softmax(rng):
    """uint8 [3, 20], axis -1, the opset-13 Softmax. Y's scale 1/256 and
    zero point 0, as ORT's quantizer fixes them for Softmax."""
    inits = [const("xs", np.float32(0.08)), const("xz", np.uint8(128)),
             const("ys", np.float32(1 / 256)), const("yz", np.uint8(0))]
    model = make([ms("QLinearSoftmax", ["x", "xs", "xz", "ys", "yz"], ["y"],
                     axis=-1, opset=13)],
                 [info("x", TensorProto.UINT8, [3, 20])],
                 [info("y", TensorProto.UINT8, [3, 20])], inits)
    return model, {"x": q_input(rng, "x", np.uint8, (3, 20))}


def qlinear_softmax_opset12(rng):
    """int8 [2, 3, 4], axis 1 with opset 12: the input coerced to [2, 12]."""
    inits = [const("xs", np.float32(0.05)), const("xz", np.int8(0)),
             const("ys", np.float32(1 / 256)), const("yz", np.int8(-128))]
    model = make([ms("QLinearSoftmax", ["x", "xs", "xz", "ys", "yz"], ["y"],
                     axis=1, opset=12)],
                 [info("x", TensorProto.INT8, [2, 3, 4])],
                 [info("y", TensorProto.INT8, [2, 3, 4])], inits)
    return model, {"x": q_input(rng, "x", np.int8, (2, 3, 4))}


def qlinear_where(rng):
    """Where(condition [2, 1, 5], X uint8 [2, 4, 5], Y uint8 [1, 4, 1])
    with three scales and zero points."""
    inits = [const("xs", np.float32(0.03)), const("xz", np.uint8(10)),
             const("ys", np.float32(0.05)), const("yz", np.uint8(200)),
             const("zs", np.float32(0.04)), const("zz", np.uint8(128))]
    model = make([ms("QLinearWhere", ["c", "x", "xs", "xz", "y", "ys", "yz",
                                      "zs", "zz"], ["z"])],
                 [info("c", TensorProto.BOOL, [2, 1, 5]),
                  info("x", TensorProto.UINT8, [2, 4, 5]),
                  info("y", TensorProto.UINT8, [1, 4, 1])],
                 [info("z", TensorProto.UINT8, [2, 4, 5])], inits)
    return model, {"c": rng.integers(0, 2, size=(2, 1, 5)).astype(bool),
                   "x": q_input(rng, "x", np.uint8, (2, 4, 5)),
                   "y": q_input(rng, "y", np.uint8, (1, 4, 1))}


def qlinear_average_pool(rng):
    return unary(rng, "QLinearAveragePool", np.uint8, (1, 3, 9, 9),
                 (1, 3, 5, 5), kernel_shape=[3, 3], strides=[2, 2],
                 pads=[1, 1, 1, 1], count_include_pad=0, ceil_mode=1)


def qlinear_global_pool(rng):
    return unary(rng, "QLinearGlobalAveragePool", np.uint8, (2, 5, 6, 7),
                 (2, 5, 1, 1))


def qlinear_global_pool_nhwc(rng):
    return unary(rng, "QLinearGlobalAveragePool", np.uint8, (2, 6, 7, 5),
                 (2, 1, 1, 5), channels_last=1)


def qlinear_concat(rng):
    inits = [const("ys", np.float32(0.05)), const("yz", np.uint8(128))]
    ins, args = [], ["ys", "yz"]
    for i, (scale, zero, channels) in enumerate(
            ((0.05, 128, 2), (0.02, 10, 3), (0.11, 200, 1))):
        inits += [const(f"s{i}", np.float32(scale)),
                  const(f"z{i}", np.uint8(zero))]
        ins.append(info(f"x{i}", TensorProto.UINT8, [2, channels, 4]))
        args += [f"x{i}", f"s{i}", f"z{i}"]
    model = make([ms("QLinearConcat", args, ["y"], axis=1)], ins,
                 [info("y", TensorProto.UINT8, [2, 6, 4])], inits)
    return model, {f"x{i}": q_input(rng, "x", np.uint8, (2, c, 4))
                   for i, c in enumerate((2, 3, 1))}


def qgemm(rng, quantized_output):
    m, k, n = 3, 20, 12
    inits = [const("as", np.float32(0.02)), const("az", np.uint8(120)),
             const("b", rng.integers(-128, 128, size=(n, k)).astype(np.int8)),
             const("bs", rng.uniform(0.005, 0.02, size=n).astype(np.float32)),
             const("bz", np.zeros(n, np.int8)),
             const("c", rng.integers(-2000, 2000, size=n).astype(np.int32))]
    args = ["a", "as", "az", "b", "bs", "bz", "c"]
    attrs = {"transB": 1}
    if quantized_output:
        inits += [const("ys", np.float32(0.3)), const("yz", np.uint8(128))]
        args += ["ys", "yz"]
        out = info("y", TensorProto.UINT8, [m, n])
    else:
        attrs["alpha"] = 0.5
        out = info("y", TensorProto.FLOAT, [m, n])
    model = make([ms("QGemm", args, ["y"], **attrs)],
                 [info("a", TensorProto.UINT8, [m, k])], [out], inits)
    values = {t.name: numpy_helper.to_array(t) for t in inits}

    def reference(a):
        """QGemm's definition (ContribOperators.md): alpha (A - a_zp)(B -
        b_zp)^T a_scale b_scale plus C, an int32 of scale alpha a_scale
        b_scale, in int64 and float64; quantized with y_scale and
        y_zero_point (round half to even, saturate) where given. Not ORT:
        on a CPU without VNNI (AVX2 only; AMD Zen 3) its uint8 x int8 GEMM
        sums byte pairs with vpmaddubsw, which saturates at int16, and its
        QGemm was 10 steps off this."""
        product = ((a.astype(np.int64) - int(values["az"])) @
                   (values["b"].astype(np.int64) -
                    values["bz"].astype(np.int64)[:, None]).T +
                   values["c"].astype(np.int64)[None, :])
        y = (attrs.get("alpha", 1.0) * product * float(values["as"]) *
             values["bs"].astype(np.float64)[None, :])
        if not quantized_output:
            return y.astype(np.float32)
        return np.clip(np.rint(y / float(values["ys"])) + int(values["yz"]),
                       0, 255).astype(np.uint8)
    return model, {"a": q_input(rng, "a", np.uint8, (m, k))}, reference


def qgemm_quantized(rng):
    return qgemm(rng, True)


def qgemm_float(rng):
    return qgemm(rng, False)


def quantize_qoperator(graph, calibration, activation_int8=False,
                       per_channel=False):
    """`graph` (opset 17) through onnxruntime's quantize_static in the
    QOperator format: calibrated on the arrays `calibration` fed as its
    input "x", uint8 (or int8) activations, int8 weights per tensor (or
    per output channel)."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_static)
    import tempfile
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter({"x": x} for x in calibration)

        def get_next(self):
            return next(self.batches, None)

    activation = QuantType.QInt8 if activation_int8 else QuantType.QUInt8
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "f.onnx"), os.path.join(tmp, "q.onnx")
        onnx.save(model, src)
        quantize_static(src, dst, Reader(), quant_format=QuantFormat.QOperator,
                        activation_type=activation,
                        weight_type=QuantType.QInt8, per_channel=per_channel)
        return onnx.load(dst)


def qop_cnn(rng, activation_int8, per_channel):
    """A small CNN through quantize_static in the QOperator format."""

    def init(name, shape, scale):
        return numpy_helper.from_array(
            (rng.standard_normal(shape) * scale).astype(np.float32), name)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["a"]),
        helper.make_node("LeakyRelu", ["a"], ["r2"], alpha=0.1),
        helper.make_node("MaxPool", ["r2"], ["mp"], kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("AveragePool", ["mp"], ["ap"], kernel_shape=[3, 3],
                         strides=[1, 1], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["ap"], ["sg"]),
        helper.make_node("Mul", ["ap", "sg"], ["sw"]),
        helper.make_node("Concat", ["sw", "mp"], ["cc"], axis=1),
        helper.make_node("GlobalAveragePool", ["cc"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1)]
    graph = helper.make_graph(
        nodes, "cnn", [info("x", TensorProto.FLOAT, [2, 8, 16, 16])],
        [info("y", TensorProto.FLOAT, [2, 10])],
        [init("w1", (16, 8, 3, 3), 0.2), init("b1", (16,), 0.1),
         init("w2", (16, 16, 3, 3), 0.15), init("b2", (16,), 0.1),
         init("wf", (10, 32), 0.3), init("bf", (10,), 0.1)])
    quantized = quantize_qoperator(
        graph, [rng.standard_normal((2, 8, 16, 16)).astype(np.float32)
                for _ in range(6)], activation_int8, per_channel)
    ops = {n.op_type for n in quantized.graph.node
           if n.domain == "com.microsoft"}
    wanted = {"QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu",
              "QLinearAveragePool", "QLinearGlobalAveragePool",
              "QLinearConcat", "QGemm"}
    if not wanted <= ops:
        raise RuntimeError(f"quantize_static made {sorted(ops)}, expected "
                           f"{sorted(wanted)}")
    x = rng.standard_normal((2, 8, 16, 16)).astype(np.float32)
    return quantized, {"x": x}


def qop_cnn_uint8(rng):
    return qop_cnn(rng, False, False)


def qop_cnn_int8_per_channel(rng):
    return qop_cnn(rng, True, True)


def qop_mlp_uint8(rng):
    """quantize_static (QOperator, uint8 activations, int8 weights per
    tensor) of MatMul, Add, Relu, MatMul with 16 rows: two QLinearMatMul
    around a QLinearAdd. Both products must run on the int8 kernel
    (MATMUL_QUANT_LAUNCHES)."""
    k, h, n = 256, 384, 48
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"]),
             helper.make_node("Add", ["a", "b1"], ["b"]),
             helper.make_node("Relu", ["b"], ["c"]),
             helper.make_node("MatMul", ["c", "w2"], ["y"])]
    graph = helper.make_graph(
        nodes, "mlp", [info("x", TensorProto.FLOAT, [16, k])],
        [info("y", TensorProto.FLOAT, [16, n])],
        [numpy_helper.from_array(
            (rng.standard_normal((k, h)) * 0.1).astype(np.float32), "w1"),
         numpy_helper.from_array(
            rng.standard_normal(h).astype(np.float32), "b1"),
         numpy_helper.from_array(
            (rng.standard_normal((h, n)) * 0.1).astype(np.float32), "w2")])
    quantized = quantize_qoperator(
        graph, [rng.standard_normal((16, k)).astype(np.float32)
                for _ in range(4)])
    ops = [n.op_type for n in quantized.graph.node]
    if ops.count("QLinearMatMul") != 2:
        raise RuntimeError(f"quantize_static made {ops}")
    return quantized, {"x": rng.standard_normal((16, k)).astype(np.float32)}


def qlinear_add_per_channel(rng):
    model, inputs = qlinear_add_broadcast(rng)
    for t in model.graph.initializer:
        if t.name == "as":
            t.CopyFrom(const("as", np.full(3, 0.03, np.float32)))
    return model, inputs


# Models whose integer matmuls must all run on the int8 kernel
# (`matmul_quant` in `anvilc -O2 --emit=kernel`), with how many launches.
MATMUL_QUANT_LAUNCHES = {"qop_mlp_uint8": 2}

# Models anvilc must refuse, with a part of its message.
REFUSED = {"qlinear_add_per_channel": "must hold one value"}


def output_step(model):
    """The scale of the DequantizeLinear that writes the model's first
    output (None if another op writes it)."""
    name = model.graph.output[0].name
    producer = next((n for n in model.graph.node if name in n.output), None)
    if producer is None or producer.op_type != "DequantizeLinear":
        return None
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return float(np.asarray(inits[producer.input[1]]).max())


def check(name, model, inputs, args, reference=None):
    if name in REFUSED:
        path = os.path.join(args.work, name + ".onnx")
        onnx.save(model, path)
        result = subprocess.run([args.anvilc, "-q", path, "-o",
                                 os.path.join(args.work, name + ".anvil")],
                                capture_output=True, text=True)
        if result.returncode == 0:
            return "anvilc accepted it"
        if REFUSED[name] not in result.stderr:
            return f"unexpected error: {result.stderr.strip()[-300:]}"
        return None
    got, error = e2e_harness.compile_and_run(
        args.anvilc, args.anvil_run, args.work, name, model, inputs)
    if error:
        return error
    source = "the definition's" if reference else "ONNX Runtime's"
    if reference:
        expected = {next(iter(got)): reference(**inputs)}
    else:
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
        expected = dict(zip(got, session.run(None, inputs)))
    step = output_step(model)
    for key, want in expected.items():
        have = got[key]
        if have.dtype != want.dtype or have.shape != want.shape:
            return (f"{key}: {have.dtype}{list(have.shape)}, ONNX Runtime "
                    f"has {want.dtype}{list(want.shape)}")
        if np.issubdtype(want.dtype, np.integer):
            diff = np.abs(have.astype(np.int64) - want.astype(np.int64))
            if diff.max() > 1:
                i = tuple(int(v) for v in np.argwhere(diff > 1)[0])
                return (f"{key}: {int((diff > 1).sum())} of {diff.size} "
                        f"values more than one step from {source}, "
                        f"first at {i}: {have[i]} vs {want[i]}")
            continue
        rtol, atol = (0.0, 1.0001 * step) if step else (RTOL, ATOL)
        problem = e2e_harness.compare_array(
            key, have, want, rtol, atol,
            what="the definition" if reference else "ONNX Runtime")
        if problem:
            return problem
    if name in MATMUL_QUANT_LAUNCHES:
        program = e2e_harness.kernel_program(
            args.anvilc, os.path.join(args.work, name + ".onnx"))
        launches = program.count('kernel.launch "matmul_quant"')
        general = program.count('kernel.launch "matmul"')
        if launches != MATMUL_QUANT_LAUNCHES[name] or general:
            return (f"{launches} matmul_quant and {general} matmul launches, "
                    f"expected {MATMUL_QUANT_LAUNCHES[name]} matmul_quant")
    return None


CASES = [qlinear_add_broadcast, qlinear_mul_int8, qlinear_sigmoid,
         qlinear_leaky_relu, qlinear_softmax, qlinear_softmax_opset12,
         qlinear_where, qlinear_average_pool, qlinear_global_pool,
         qlinear_global_pool_nhwc, qlinear_concat, qgemm_quantized,
         qgemm_float, qop_cnn_uint8, qop_cnn_int8_per_channel, qop_mlp_uint8,
         qlinear_add_per_channel]


def main():
    return e2e_harness.run_cases("qoperator", CASES, check, seed=11,
                                 description=__doc__)


if __name__ == "__main__":
    sys.exit(main())

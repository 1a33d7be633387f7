#!/usr/bin/env python3
"""Small quantized models, built here with onnx.helper, compiled by anvilc,
run by anvil-run and compared with ONNX Runtime on the same inputs.

Models:
  int4_blocked_matmul   MatMul(x, DequantizeLinear(W)) with W an INT4
                        initializer [64, 24] (int32_data), blocked along
                        axis 0 (block_size 32), int4 zero points
  uint4_odd_rows        the same with UINT4 W [24, 63] in raw_data (rows of
                        63 values start mid-byte in ONNX's packing, so the
                        importer repacks them), blocked along axis 1
                        (block_size 16, the last block short), uint4 zero
                        points
  matmulinteger_zp      MatMulInteger(uint8 A [5, 32], int8 B [32, 12]) with
                        one A zero point and a per-column B zero point
  matmulinteger_row_zp  the same with a zero point per row of A (ORT refuses
                        those: this one is checked against numpy in int64)
  matmulinteger_plain   MatMulInteger(int8 A, int8 B), no zero points
  qdq_int8_axis         DequantizeLinear(QuantizeLinear(x)) per axis, int8
  qdq_int4_blocked      the same through packed INT4 values, blocked
  qdq_uint16            the same per tensor through uint16
  qdq_int8_halves       exact halves round to even, large values saturate
  w8a8_per_token        anvil.quantize_per_token + an int8 x int8 -> i32
                        matmul, in the anvil dialect (numpy reference)
  mixed_matmul          anvil.matmul f32 x f16 -> f32 and u8 x i8 -> i32
                        (numpy reference)
  int4_f16_matmul       W4A16: float16 x, blocked int4 weights [N, K] with
                        float16 scales, transposed into a float16 MatMul

Tolerances: float32 outputs |anvil - ort| <= 1e-5 + 1e-4 |ort| (the
matmuls sum in float32 in another order; dequantized values themselves are
exact products); float16 outputs 1e-3 + 4e-3 |ort| (two float16 roundings
apart at most); integer outputs exactly equal. The expected values come from
ONNX Runtime (graph optimizations off, so that it computes the ONNX
definition rather than a fused approximation) or, where ORT does not
implement the case, numpy in int64/float64 - never from Anvil.

Usage: run_quantized.py --anvilc anvilc --anvil-run anvil-run --work DIR
Prints `ok NAME` or `FAIL NAME: why` per model, then
`quantized: N passed, M failed`; exits nonzero on any failure.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import onnx.numpy_helper
from onnx import TensorProto, helper

OPSET = 21
RTOL, ATOL = 1e-4, 1e-5


def pack4(values):
    """ONNX's 4-bit packing: the flattened tensor, two values per byte,
    low nibble first."""
    flat = (np.asarray(values).astype(np.int64).ravel() & 0xF).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8).tobytes()


def make(nodes, inputs, outputs, initializers):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model


def info(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def int4_blocked_matmul(rng):
    k, n, block = 64, 24, 32
    w = rng.integers(-8, 8, size=(k, n))
    zp = rng.integers(-8, 8, size=(k // block, n))
    scale = rng.uniform(0.01, 0.1, size=(k // block, n)).astype(np.float32)
    inits = [
        helper.make_tensor("w", TensorProto.INT4, [k, n], w.ravel().tolist()),
        helper.make_tensor("w_zp", TensorProto.INT4, list(zp.shape),
                           zp.ravel().tolist()),
        helper.make_tensor("w_scale", TensorProto.FLOAT, list(scale.shape),
                           scale.ravel().tolist()),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wf"],
                         axis=0, block_size=block),
        helper.make_node("MatMul", ["x", "wf"], ["y"]),
    ]
    model = make(nodes, [info("x", TensorProto.FLOAT, [4, k])],
                 [info("y", TensorProto.FLOAT, [4, n])], inits)
    return model, {"x": rng.standard_normal((4, k)).astype(np.float32)}


def uint4_odd_rows(rng):
    k, n, block = 24, 63, 16
    blocks = (n + block - 1) // block
    w = rng.integers(0, 16, size=(k, n))
    zp = rng.integers(0, 16, size=(k, blocks))
    scale = rng.uniform(0.01, 0.1, size=(k, blocks)).astype(np.float32)
    inits = [
        helper.make_tensor("w", TensorProto.UINT4, [k, n], pack4(w), raw=True),
        helper.make_tensor("w_zp", TensorProto.UINT4, [k, blocks], pack4(zp),
                           raw=True),
        helper.make_tensor("w_scale", TensorProto.FLOAT, [k, blocks],
                           scale.ravel().tolist()),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zp"], ["wf"],
                         axis=1, block_size=block),
        helper.make_node("MatMul", ["x", "wf"], ["y"]),
    ]
    model = make(nodes, [info("x", TensorProto.FLOAT, [3, k])],
                 [info("y", TensorProto.FLOAT, [3, n])], inits)
    return model, {"x": rng.standard_normal((3, k)).astype(np.float32)}


def matmulinteger_zp(rng, a_zp_shape=(1,)):
    m, k, n = 5, 32, 12
    nodes = [helper.make_node("MatMulInteger", ["a", "b", "a_zp", "b_zp"],
                              ["y"])]
    inits = [
        helper.make_tensor("a_zp", TensorProto.UINT8, list(a_zp_shape),
                           rng.integers(0, 256, size=a_zp_shape).tolist()),
        helper.make_tensor("b_zp", TensorProto.INT8, [n],
                           rng.integers(-128, 128, size=n).tolist()),
    ]
    model = make(nodes, [info("a", TensorProto.UINT8, [m, k]),
                         info("b", TensorProto.INT8, [k, n])],
                 [info("y", TensorProto.INT32, [m, n])], inits)
    return model, {
        "a": rng.integers(0, 256, size=(m, k)).astype(np.uint8),
        "b": rng.integers(-128, 128, size=(k, n)).astype(np.int8),
    }


def matmulinteger_row_zp(rng):
    """A zero point per row of A, which ONNX allows and ORT's CPU kernel
    does not: the reference is numpy in int64."""
    model, inputs = matmulinteger_zp(rng, a_zp_shape=(5,))
    zps = {t.name: onnx.numpy_helper.to_array(t)
           for t in model.graph.initializer}

    def reference(a, b):
        wide_a = a.astype(np.int64) - zps["a_zp"].astype(np.int64)[:, None]
        wide_b = b.astype(np.int64) - zps["b_zp"].astype(np.int64)[None, :]
        return (wide_a @ wide_b).astype(np.int32)
    return model, inputs, reference


def matmulinteger_plain(rng):
    m, k, n = 4, 48, 8
    nodes = [helper.make_node("MatMulInteger", ["a", "b"], ["y"])]
    model = make(nodes, [info("a", TensorProto.INT8, [m, k]),
                         info("b", TensorProto.INT8, [k, n])],
                 [info("y", TensorProto.INT32, [m, n])], [])
    return model, {
        "a": rng.integers(-128, 128, size=(m, k)).astype(np.int8),
        "b": rng.integers(-128, 128, size=(k, n)).astype(np.int8),
    }


def qdq(rng, dtype, scale_shape, zp_values, x_shape, **attrs):
    inits = [helper.make_tensor("s", TensorProto.FLOAT, list(scale_shape),
                                rng.uniform(0.02, 0.2, size=scale_shape)
                                .astype(np.float32).ravel().tolist())]
    if dtype in (TensorProto.INT4, TensorProto.UINT4):
        inits.append(helper.make_tensor("zp", dtype, list(scale_shape),
                                        pack4(zp_values), raw=True))
    else:
        inits.append(helper.make_tensor("zp", dtype, list(scale_shape),
                                        np.asarray(zp_values).ravel()
                                        .tolist()))
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], **attrs),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"], **attrs),
    ]
    model = make(nodes, [info("x", TensorProto.FLOAT, list(x_shape))],
                 [info("y", TensorProto.FLOAT, list(x_shape))], inits)
    # Values beyond the range saturate; exact halves test rounding to even.
    x = (rng.standard_normal(x_shape) * 2).astype(np.float32)
    x.ravel()[:4] = [0.5, 1.5, -2.5, 1e6]
    return model, {"x": x}


def qdq_int8_axis(rng):
    return qdq(rng, TensorProto.INT8, (6,), rng.integers(-10, 10, size=6),
               (2, 6, 5), axis=1)


def qdq_int4_blocked(rng):
    return qdq(rng, TensorProto.INT4, (4, 3), rng.integers(-3, 3, size=12),
               (4, 9), axis=1, block_size=4)


def qdq_uint16(rng):
    return qdq(rng, TensorProto.UINT16, (), [30000], (3, 7))


def qdq_int8_halves(rng):
    """Quotients that are exact halves round to even; out-of-range values
    saturate (scale 0.5, zero point 0: x / s is 0.5, 1.5, -2.5, 2.5, ...)."""
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [0.5]),
             helper.make_tensor("zp", TensorProto.INT8, [], [0])]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"]),
    ]
    model = make(nodes, [info("x", TensorProto.FLOAT, [8])],
                 [info("y", TensorProto.FLOAT, [8])], inits)
    x = np.array([0.25, 0.75, -1.25, 1.25, 3.25, 1e6, -1e6, -0.25],
                 dtype=np.float32)
    return model, {"x": x}


W8A8_MLIR = """
func.func @main(%x: tensor<4x64xf32> {anvil.name = "x"},
                %w: tensor<64x16xi8> {anvil.name = "w"})
    -> (tensor<4x64xi8> {anvil.name = "q"}, tensor<4x1xf32> {anvil.name = "s"},
        tensor<4x16xi32> {anvil.name = "y"}) {
  %q, %s = anvil.quantize_per_token %x : (tensor<4x64xf32>) -> (tensor<4x64xi8>, tensor<4x1xf32>)
  %y = anvil.matmul %q, %w : (tensor<4x64xi8>, tensor<64x16xi8>) -> tensor<4x16xi32>
  return %q, %s, %y : tensor<4x64xi8>, tensor<4x1xf32>, tensor<4x16xi32>
}
"""


def w8a8_per_token(rng):
    """anvil.quantize_per_token (no ONNX op imports to it) feeding an int8
    matmul, written in the anvil dialect; numpy computes the same in
    float32 (the scale) and int64 (the product)."""
    x = (rng.standard_normal((4, 64)) * 3).astype(np.float32)
    x[2] = 0  # an all-zero row gets scale 1
    w = rng.integers(-127, 128, size=(64, 16)).astype(np.int8)

    def reference(x, w):
        amax = np.abs(x).max(axis=1, keepdims=True)
        s = np.where(amax > 0, amax / np.float32(127), np.float32(1))
        q = np.clip(np.rint(x / s), -127, 127).astype(np.int8)
        y = (q.astype(np.int64) @ w.astype(np.int64)).astype(np.int32)
        return [q, s.astype(np.float32), y]
    return W8A8_MLIR, {"x": x, "w": w}, reference, ["q", "s", "y"]


MIXED_MLIR = """
func.func @main(%x: tensor<3x8xf32> {anvil.name = "x"},
                %w: tensor<8x5xf16> {anvil.name = "w"},
                %a: tensor<3x8xui8> {anvil.name = "a"},
                %b: tensor<8x5xi8> {anvil.name = "b"})
    -> (tensor<3x5xf32> {anvil.name = "y"}, tensor<3x5xi32> {anvil.name = "z"}) {
  %y = anvil.matmul %x, %w : (tensor<3x8xf32>, tensor<8x5xf16>) -> tensor<3x5xf32>
  %z = anvil.matmul %a, %b : (tensor<3x8xui8>, tensor<8x5xi8>) -> tensor<3x5xi32>
  return %y, %z : tensor<3x5xf32>, tensor<3x5xi32>
}
"""


def mixed_matmul(rng):
    """anvil.matmul with mixed operand types (f32 x f16 -> f32 and
    u8 x i8 -> i32, which no ONNX op imports to directly), against numpy in
    float64 and int64."""
    inputs = {
        "x": rng.standard_normal((3, 8)).astype(np.float32),
        "w": rng.standard_normal((8, 5)).astype(np.float16),
        "a": rng.integers(0, 256, size=(3, 8)).astype(np.uint8),
        "b": rng.integers(-128, 128, size=(8, 5)).astype(np.int8),
    }

    def reference(x, w, a, b):
        y = (x.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
        z = (a.astype(np.int64) @ b.astype(np.int64)).astype(np.int32)
        return [y, z]
    return MIXED_MLIR, inputs, reference, ["y", "z"]


def int4_f16_matmul(rng):
    """W4A16: float16 activations times blocked int4 weights with float16
    scales (float16 results: the tolerance is float16's, 1e-3 + 4e-3 |ref|,
    as Anvil sums in float32 and rounds once)."""
    k, n, block = 64, 16, 32
    w = rng.integers(-8, 8, size=(n, k))
    scale = rng.uniform(0.01, 0.05, size=(n, k // block)).astype(np.float16)
    inits = [
        helper.make_tensor("w", TensorProto.INT4, [n, k], pack4(w), raw=True),
        helper.make_tensor("w_scale", TensorProto.FLOAT16, [n, k // block],
                           scale.astype(np.float32).ravel().tolist()),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "w_scale"], ["wf"],
                         axis=1, block_size=block),
        helper.make_node("Transpose", ["wf"], ["wt"], perm=[1, 0]),
        helper.make_node("MatMul", ["x", "wt"], ["y"]),
    ]
    model = make(nodes, [info("x", TensorProto.FLOAT16, [2, k])],
                 [info("y", TensorProto.FLOAT16, [2, n])], inits)
    return model, {"x": rng.standard_normal((2, k)).astype(np.float16)}


MODELS = [int4_blocked_matmul, uint4_odd_rows, matmulinteger_zp,
          matmulinteger_row_zp, matmulinteger_plain, qdq_int8_axis, qdq_int4_blocked, qdq_uint16, qdq_int8_halves, w8a8_per_token,
          mixed_matmul, int4_f16_matmul]


def check(name, model, inputs, args, reference=None, names=None):
    if isinstance(model, str):  # the anvil dialect, checked against numpy
        path = os.path.join(args.work, name + ".mlir")
        with open(path, "w") as f:
            f.write(model)
    else:
        path = os.path.join(args.work, name + ".onnx")
        onnx.save(model, path)
        names = [out.name for out in model.graph.output]
    artifact = os.path.join(args.work, name + ".anvil")
    run = subprocess.run([args.anvilc, "-q", path, "-o", artifact],
                         capture_output=True, text=True)
    if run.returncode:
        return f"anvilc failed: {run.stderr.strip()[-1000:]}"
    cmd = [args.anvil_run, artifact, "--output-dir",
           os.path.join(args.work, name + ".out")]
    for key, value in inputs.items():
        npy = os.path.join(args.work, f"{name}.{key}.npy")
        np.save(npy, value)
        cmd += ["--input", f"{key}={npy}"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        return f"anvil-run failed: {run.stderr.strip()[-1000:]}"
    # Without graph optimizations: ORT otherwise fuses a blocked int4
    # DequantizeLinear + MatMul into MatMulNBits, which quantizes the
    # activations too (0.06 off on int4_blocked_matmul), and the reference
    # should be the ONNX definition.
    if reference:
        expected = reference(**inputs)
        if not isinstance(expected, list):
            expected = [expected]
    else:
        options = ort.SessionOptions()
        options.graph_optimization_level = (
            ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        expected = session.run(None, inputs)
    for out, want in zip(names, expected):
        got = np.load(os.path.join(args.work, name + ".out", out + ".npy"))
        if got.dtype != want.dtype or got.shape != want.shape:
            return (f"{out}: {got.dtype}{list(got.shape)}, expected "
                    f"{want.dtype}{list(want.shape)}")
        if np.issubdtype(want.dtype, np.floating):
            if not np.isfinite(want).all():
                return f"{out}: the reference is not finite (a broken test)"
            rtol, atol = (4e-3, 1e-3) if want.dtype == np.float16 else (RTOL,
                                                                         ATOL)
            got64, want64 = got.astype(np.float64), want.astype(np.float64)
            # NaN or infinity in Anvil's output fails too (not > is True).
            bad = ~(np.abs(got64 - want64) <= atol + rtol * np.abs(want64))
        else:
            bad = got != want
        if bad.any():
            i = np.argwhere(bad)[0]
            return (f"{out}: {int(bad.sum())} elements differ, first at "
                    f"{tuple(i)}: {got[tuple(i)]} vs {want[tuple(i)]}")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = 0
    for build in MODELS:
        rng = np.random.default_rng(7)
        model, inputs, *reference = build(rng)
        problem = check(build.__name__, model, inputs, args, *reference)
        if problem:
            failed += 1
            print(f"FAIL {build.__name__}: {problem}")
        else:
            print(f"ok   {build.__name__}")
    print(f"quantized: {len(MODELS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Small quantized models, built here with onnx.helper, compiled by anvilc,
run by anvil-run and compared with ONNX Runtime on the same inputs.

Models:
  int4_blocked_matmul   MatMul(x, DequantizeLinear(W)) with W an INT4
                        initializer [64, 24] (int32_data), blocked along
                        axis 0 (block_size 32), int4 zero points
  int4_kn_odd_shapes    blocked INT4 W [70, 75] (no zero points; K and N odd,
                        the last block short) and UINT4 W [70, 75] with
                        zero points, each read by a one-row (decode GEMV)
                        and a nine-row MatMul
  uint4_odd_rows        the same with UINT4 W [24, 63] in raw_data (rows of
                        63 values start mid-byte in ONNX's packing, so the
                        importer repacks them), blocked along axis 1
                        (block_size 16, the last block short), uint4 zero
                        points
  matmulinteger_zp      MatMulInteger(uint8 A [5, 32], int8 B [32, 12]) with
                        one A zero point and a per-column B zero point
                        (against numpy in int64: ORT's AVX2 kernel
                        saturates int16 pair sums)
  matmulinteger_row_zp  the same with a zero point per row of A (ORT refuses
                        those; numpy in int64 too)
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
  f16_constant_matmuls  float16 MatMul and Gemm by constant float16
                        weights (widened to the float kernel), a float16
                        MatMul of two activations and float16 attention
                        (MatMul, Transpose, Softmax), widened too
  qdq_f16_mlp           W4A16 and W8A16 QDQ in a float16 model: uint4 [K, N]
                        blocked along K into a MatMul and int8 [N, K] per
                        channel into a Gemm with transB, both on the
                        quantized kernel in float32
  matmulnbits_*         com.microsoft MatMulNBits: 4 and 8 bits,
                        packed uint8 / float / no zero points, bias, K not
                        a multiple of block_size, float16, g_idx (random
                        blocks; GPTQ's act-order and the default k /
                        block_size, both on the quantized kernel; float
                        zero points there too, with a block-sum
                        correction; float16 A in float32 there); the
                        float32 ones against float64 numpy (ORT's CPU g_idx
                        path is not the documented formula, and its float32
                        rounding reaches the tolerance where a sum
                        cancels), float16 against ORT; and a model made by
                        ORT's MatMulNBitsQuantizer (also
                        GatherBlockQuantized)
  gbq_*                 com.microsoft GatherBlockQuantized: uint8 4/8-bit,
                        int4 and uint4 tables, zero points or defaults,
                        negative indices, other gather/quantize axes
  dynamic_quantized_matmul, dynamic_quantized_mlp
                        ORT's quantize_dynamic output
                        (DynamicQuantizeLinear + MatMulInteger), on the
                        int8 kernel with the run-time activation scale
  qlinearconv_per_channel, qlinearmatmul_per_column, qlinearmatmul_per_row
                        integer ops with per-channel / per-column / per-row
                        scales (uint8 outputs, exact; per-row against
                        numpy: ORT refuses it)
  convinteger_wide_chunks, convinteger_wide_groups
                        ConvInteger whose sums pass 2^24 (130 channels per
                        group, extreme values): the float32 convs over
                        channel chunks added in int32, and the float64
                        conv of wide groups, both exact
  convinteger_int8, convinteger_int8_avx2
                        ConvInteger with int8 weights and no (or all-zero)
                        weight zero points: one anvil.conv_integer each
                        (uint8 and int8 x, zero points, strides,
                        dilations, padding, groups, K not a multiple of
                        4), for the host (vpdpbusd with AVX512-VNNI) and
                        for x86-64-v3 (the kernel's exact float chunks)
  qdq_static_per_channel, qdq_static_per_tensor
                        ORT's quantize_static (QDQ) on an MLP with a
                        dynamic batch: uint8 activations per tensor run
                        on the int8 kernel (quantize_lhs), int8 weights
  qdq_static_cnn        the same on a small CNN (convs, pooling, MatMul)

Tolerances: float32 outputs |anvil - ort| <= 1e-5 + 1e-4 |ort| (the
matmuls sum in float32 in another order; dequantized values themselves are
exact products); float16 outputs 1e-3 + 4e-3 |ort| (two float16 roundings
apart at most); integer outputs exactly equal. The expected values come from
ONNX Runtime (graph optimizations off, so that it computes the ONNX
definition rather than a fused approximation) or, where ORT does not
implement the case, numpy in int64/float64 - never from Anvil.

Usage: run_quantized.py --anvilc anvilc --anvil-run anvil-run --work DIR
       [--filter REGEX]
Prints `ok NAME` or `FAIL NAME: why` per model, then
`quantized: N passed, M failed`; exits nonzero on any failure.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import onnx.numpy_helper
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402

OPSET = 21
RTOL, ATOL = 1e-4, 1e-5
F16_RTOL, F16_ATOL = 4e-3, 1e-3


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


def spec_reference(model):
    """The ONNX definition of `model`, run by onnx's own numpy evaluator
    (onnx.reference), as the reference of an integer model that ORT gets
    wrong on some CPUs: without AVX512-VNNI or AVX-VNNI (AVX2 only; AMD
    Zen 3 here) ORT's uint8 x int8 GEMM sums byte pairs with vpmaddubsw,
    which saturates at int16 (255 * 127 * 2 > 32767; ORT's quantization
    docs advise reduce_range there), and its outputs then differ from the
    ONNX formula by whole quantization steps."""
    from onnx.reference import ReferenceEvaluator
    evaluator = ReferenceEvaluator(model)

    def reference(**inputs):
        return list(evaluator.run(None, inputs))
    return reference


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


def int4_kn_odd_shapes(rng):
    k, n, block = 70, 75, 32
    blocks = (k + block - 1) // block
    ws = rng.integers(-8, 8, size=(k, n))
    wu = rng.integers(0, 16, size=(k, n))
    zu = rng.integers(0, 16, size=(blocks, n))
    scale = rng.uniform(0.01, 0.1, size=(2, blocks, n)).astype(np.float32)
    inits = [
        helper.make_tensor("ws", TensorProto.INT4, [k, n], ws.ravel().tolist()),
        helper.make_tensor("wu", TensorProto.UINT4, [k, n], pack4(wu),
                           raw=True),
        helper.make_tensor("zu", TensorProto.UINT4, [blocks, n], pack4(zu),
                           raw=True),
        helper.make_tensor("ss", TensorProto.FLOAT, [blocks, n],
                           scale[0].ravel().tolist()),
        helper.make_tensor("su", TensorProto.FLOAT, [blocks, n],
                           scale[1].ravel().tolist()),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["ws", "ss"], ["wsf"], axis=0,
                         block_size=block),
        helper.make_node("DequantizeLinear", ["wu", "su", "zu"], ["wuf"],
                         axis=0, block_size=block),
        helper.make_node("MatMul", ["x1", "wsf"], ["y1s"]),
        helper.make_node("MatMul", ["x9", "wsf"], ["y9s"]),
        helper.make_node("MatMul", ["x1", "wuf"], ["y1u"]),
        helper.make_node("MatMul", ["x9", "wuf"], ["y9u"]),
    ]
    model = make(nodes, [info("x1", TensorProto.FLOAT, [1, k]),
                         info("x9", TensorProto.FLOAT, [9, k])],
                 [info(y, TensorProto.FLOAT, [rows, n])
                  for y, rows in [("y1s", 1), ("y9s", 9), ("y1u", 1),
                                  ("y9u", 9)]], inits)
    return model, {"x1": rng.standard_normal((1, k)).astype(np.float32),
                   "x9": rng.standard_normal((9, k)).astype(np.float32)}


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


def matmulinteger_model(rng, a_zp_shape):
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
    inputs = {
        "a": rng.integers(0, 256, size=(m, k)).astype(np.uint8),
        "b": rng.integers(-128, 128, size=(k, n)).astype(np.int8),
    }
    zps = {t.name: onnx.numpy_helper.to_array(t)
           for t in model.graph.initializer}

    def reference(a, b):
        """ONNX's formula in int64 numpy: exact."""
        a_zp = zps["a_zp"].astype(np.int64)
        wide_a = a.astype(np.int64) - (a_zp[:, None] if a_zp.size > 1
                                       else a_zp)
        wide_b = b.astype(np.int64) - zps["b_zp"].astype(np.int64)[None, :]
        return (wide_a @ wide_b).astype(np.int32)
    return model, inputs, reference


def matmulinteger_zp(rng):
    """One A zero point. The reference is numpy in int64, not ORT: on a CPU
    without AVX512-VNNI or AVX-VNNI (AVX2 only, AMD Zen 3 here) ORT's
    uint8 x int8 kernel sums byte pairs with vpmaddubsw, which saturates at
    int16 (255 * 127 * 2 > 32767), and its results differ from the exact
    ones by thousands."""
    return matmulinteger_model(rng, (1,))


def matmulinteger_row_zp(rng):
    """A zero point per row of A, which ONNX allows and ORT's CPU kernel
    does not."""
    return matmulinteger_model(rng, (5,))


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


def f16_constant_matmuls(rng):
    """The float16 baseline of W4A16: a float16 MatMul by a constant
    float16 weight [K, N] and a Gemm (transB, bias) by one [N, K], widened
    to the float kernel (float32 activations times float16 weights, the
    result rounded once); a MatMul of two activations, and attention over
    [1, 2, heads' rows, 16] (Softmax(Q K^T * 0.25) V with K transposed by a
    Transpose node; the scores Q K^T an output too, so that they are a
    batched matmul of their own, on the dot-product path, beside the fused
    attention kernel), each product on float32 copies of its operands,
    rounded to float16 once. Against ORT, float16 tolerance."""
    k, n, m = 96, 40, 24
    w1 = (rng.standard_normal((k, n)) * 0.1).astype(np.float16)
    w2 = (rng.standard_normal((m, n)) * 0.1).astype(np.float16)
    bias = rng.standard_normal(m).astype(np.float16)
    inits = [onnx.numpy_helper.from_array(w1, "w1"),
             onnx.numpy_helper.from_array(w2, "w2"),
             onnx.numpy_helper.from_array(bias, "bias")]
    f16 = TensorProto.FLOAT16
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]),
             helper.make_node("Gemm", ["h", "w2", "bias"], ["y"], transB=1),
             helper.make_node("MatMul", ["x", "v"], ["z"]),
             helper.make_node("Transpose", ["keys"], ["keys_t"],
                              perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["queries", "keys_t"], ["scores"]),
             helper.make_node("Mul", ["scores", "att_scale"], ["scaled"]),
             helper.make_node("Softmax", ["scaled"], ["probs"], axis=-1),
             helper.make_node("MatMul", ["probs", "values"], ["att"])]
    inits.append(onnx.numpy_helper.from_array(np.array(0.25, np.float16),
                                              "att_scale"))
    model = make(nodes, [info("x", f16, [5, k]), info("v", f16, [k, 3]),
                         info("queries", f16, [1, 2, 6, 16]),
                         info("keys", f16, [1, 2, 7, 16]),
                         info("values", f16, [1, 2, 7, 5])],
                 [info("y", f16, [5, m]), info("z", f16, [5, 3]),
                  info("att", f16, [1, 2, 6, 5]),
                  info("scores", f16, [1, 2, 6, 7])], inits)
    return model, {"x": rng.standard_normal((5, k)).astype(np.float16),
                   "v": rng.standard_normal((k, 3)).astype(np.float16),
                   "queries": rng.standard_normal((1, 2, 6, 16)).astype(
                       np.float16),
                   "keys": rng.standard_normal((1, 2, 7, 16)).astype(
                       np.float16),
                   "values": rng.standard_normal((1, 2, 7, 5)).astype(
                       np.float16)}


def qdq_f16_mlp(rng):
    """W4A16 and W8A16 in QDQ form, as a float16 model quantized by an
    exporter writes them: x [3, 96] read by MatMul(x, DequantizeLinear(W1))
    with W1 uint4 [K, N] blocked along K (32, uint4 zero points, float16
    scales) and by Gemm(x, DequantizeLinear(W2), bias, transB=1) with W2
    int8 [N, K] per output channel (int8 zero points); y = the sum. Both on
    the quantized kernel in float32 (x cast up once, the result cast back:
    a float16 tolerance against ORT, which rounds the dequantized weights
    to float16 first)."""
    k, n, block = 96, 40, 32
    w1 = rng.integers(0, 16, size=(k, n))
    zp1 = rng.integers(0, 16, size=(k // block, n))
    s1 = rng.uniform(0.005, 0.02, size=(k // block, n)).astype(np.float16)
    w2 = rng.integers(-128, 128, size=(n, k)).astype(np.int8)
    zp2 = rng.integers(-10, 10, size=(n,)).astype(np.int8)
    s2 = rng.uniform(0.0005, 0.002, size=(n,)).astype(np.float16)
    bias = rng.standard_normal(n).astype(np.float16)
    f16 = TensorProto.FLOAT16
    inits = [
        helper.make_tensor("w1", TensorProto.UINT4, [k, n], pack4(w1),
                           raw=True),
        helper.make_tensor("w1_zp", TensorProto.UINT4, list(zp1.shape),
                           pack4(zp1), raw=True),
        helper.make_tensor("w1_scale", f16, list(s1.shape),
                           s1.astype(np.float32).ravel().tolist()),
        helper.make_tensor("w2", TensorProto.INT8, [n, k],
                           w2.ravel().tolist()),
        helper.make_tensor("w2_zp", TensorProto.INT8, [n], zp2.tolist()),
        helper.make_tensor("w2_scale", f16, [n],
                           s2.astype(np.float32).tolist()),
        helper.make_tensor("bias", f16, [n], bias.astype(np.float32).tolist()),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["w1", "w1_scale", "w1_zp"],
                         ["w1f"], axis=0, block_size=block),
        helper.make_node("MatMul", ["x", "w1f"], ["h"]),
        helper.make_node("DequantizeLinear", ["w2", "w2_scale", "w2_zp"],
                         ["w2f"], axis=0),
        helper.make_node("Gemm", ["x", "w2f", "bias"], ["g"], transB=1),
        helper.make_node("Add", ["h", "g"], ["y"]),
    ]
    model = make(nodes, [info("x", f16, [3, k])], [info("y", f16, [3, n])],
                 inits)
    return model, {"x": rng.standard_normal((3, k)).astype(np.float16)}


MODELS = [int4_blocked_matmul, int4_kn_odd_shapes, uint4_odd_rows,
          matmulinteger_zp, matmulinteger_row_zp, matmulinteger_plain,
          qdq_int8_axis, qdq_int4_blocked, qdq_uint16, qdq_int8_halves,
          w8a8_per_token, mixed_matmul, int4_f16_matmul, qdq_f16_mlp,
          f16_constant_matmuls]


# --- ORT's weight-only 4/8-bit ops, integer ops ----------------------------

MS = "com.microsoft"


def make_ms(nodes, inputs, outputs, initializers):
    """A model importing com.microsoft too (ORT's contrib ops)."""
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)])
    model.ir_version = 10
    return model


def pack_rows(values, bits):
    """MatMulNBits' packing: per row of N, the last dim's values packed
    low bits first (4-bit: two per byte; 8-bit: one)."""
    v = np.asarray(values).astype(np.uint8)
    if bits == 8:
        return v
    if v.shape[-1] % 2:
        v = np.concatenate([v, np.zeros(v.shape[:-1] + (1,), np.uint8)], -1)
    return (v[..., 0::2] | (v[..., 1::2] << 4)).astype(np.uint8)


def matmulnbits(rng, k=80, n=24, block=32, bits=4, zp="packed", g_idx=False,
                bias=True, dtype=np.float32, a_shape=(2, 3)):
    """MatMulNBits with B [N, k_blocks, blob] (K need not be a multiple of
    block_size: the last block is padded), scales [N * k_blocks]."""
    kb = (k + block - 1) // block
    blob = block * bits // 8
    q = rng.integers(0, 1 << bits, size=(n, kb * block))
    b = pack_rows(q, bits).reshape(n, kb, blob)
    scale = rng.uniform(0.01, 0.1, size=(n, kb)).astype(dtype)
    ttype = TensorProto.FLOAT if dtype == np.float32 else TensorProto.FLOAT16
    inits = [onnx.numpy_helper.from_array(b, "B"),
             onnx.numpy_helper.from_array(scale.ravel(), "scales")]
    names = ["A", "B", "scales"]
    if zp == "packed":
        z = rng.integers(0, 1 << bits, size=(n, kb))
        inits.append(onnx.numpy_helper.from_array(pack_rows(z, bits), "zp"))
        names.append("zp")
    elif zp == "float":
        z = rng.uniform(0, (1 << bits) - 1, size=(n, kb)).astype(dtype)
        inits.append(onnx.numpy_helper.from_array(z, "zp"))
        names.append("zp")
    else:
        names.append("")
    if g_idx:
        if g_idx == "act_order":
            # GPTQ's act-order: K's rows shuffled, block_size to each block
            # (the last one the rest), so that sorting K by block is blocked.
            idx = (np.arange(k) // block)[rng.permutation(k)]
        elif g_idx == "default":
            idx = np.arange(k) // block  # k / block_size
        else:
            # Each K row in a block chosen at random: blocks of any size.
            idx = rng.integers(0, kb, size=k)
        inits.append(onnx.numpy_helper.from_array(idx.astype(np.int32),
                                                  "g_idx"))
        names.append("g_idx")
    else:
        names.append("")
    if bias:
        inits.append(onnx.numpy_helper.from_array(
            rng.standard_normal(n).astype(dtype), "bias"))
        names.append("bias")
    while names[-1] == "":
        names.pop()
    nodes = [helper.make_node("MatMulNBits", names, ["Y"], domain=MS, K=k,
                              N=n, bits=bits, block_size=block)]
    model = make_ms(nodes, [info("A", ttype, list(a_shape) + [k])],
                    [info("Y", ttype, list(a_shape) + [n])], inits)
    inputs = {"A": rng.standard_normal(a_shape + (k,)).astype(dtype)}
    if not g_idx and dtype != np.float32:
        return model, inputs
    # ORT's CPU kernel is no reference with g_idx (its reorder path,
    # matmul_nbits_impl.cc, ignores packed zero points and reads g_idx at
    # the block's start), and in float32 its own rounding is as large as
    # the tolerance where the sum cancels (matmulnbits_8bit_zp's Y[3, 4]:
    # 0.0032943 in float64, ORT 0.0032851): the documented formula in
    # float64 instead, W[n, k] = (q[n, k] - zp[n, g[k]]) * scales[n, g[k]]
    # with g = g_idx, or k / block_size without it.
    consts = {t.name: onnx.numpy_helper.to_array(t)
              for t in model.graph.initializer}

    def reference(A):
        g = consts["g_idx"] if g_idx else np.arange(k) // block
        zk = z[:, g] if zp else np.full((n, k), 1 << (bits - 1))
        w = (q[:, :k] - zk) * scale.astype(np.float64)[:, g]
        y = A.astype(np.float64) @ w.T
        if bias:
            y = y + consts["bias"]
        return y.astype(dtype)
    return model, inputs, reference


def matmulnbits_4bit_zp(rng):
    return matmulnbits(rng)


def matmulnbits_4bit_nozp(rng):
    return matmulnbits(rng, k=64, block=16, zp=None, bias=False)


def matmulnbits_8bit_zp(rng):
    return matmulnbits(rng, k=96, n=20, bits=8, a_shape=(5,))


def matmulnbits_8bit_nozp(rng):
    return matmulnbits(rng, k=70, n=8, bits=8, zp=None, a_shape=(3,))


def matmulnbits_4bit_gidx(rng):
    """g_idx (GPTQ act-order), against float64 numpy (see matmulnbits)."""
    return matmulnbits(rng, k=96, block=32, g_idx=True)


def matmulnbits_8bit_gidx_nozp(rng):
    return matmulnbits(rng, k=40, n=12, block=16, bits=8, zp=None,
                       g_idx=True, a_shape=(3,))


def matmulnbits_4bit_act_order(rng):
    """Act-order g_idx (each block block_size rows; K = 80 in blocks of 32,
    the last one 16): on the quantized kernel, K permuted at compile time."""
    return matmulnbits(rng, k=80, block=32, g_idx="act_order")


def matmulnbits_8bit_act_order_nozp(rng):
    return matmulnbits(rng, k=48, n=20, block=16, bits=8, zp=None,
                       g_idx="act_order", a_shape=(5,))


def matmulnbits_default_gidx(rng):
    """A g_idx equal to k / block_size (as GPTQ writes without act-order):
    dropped, the plain blocked kernel."""
    return matmulnbits(rng, k=72, block=16, g_idx="default")


def matmulnbits_float_zp(rng):
    return matmulnbits(rng, k=64, zp="float")


def matmulnbits_8bit_float_zp(rng):
    """Float zero points, 8 bits, K = 70 not a multiple of the block (16):
    the padded block sums of the correction term."""
    return matmulnbits(rng, k=70, n=12, block=16, bits=8, zp="float",
                       a_shape=(5,))


def matmulnbits_float_zp_act_order(rng):
    return matmulnbits(rng, k=64, block=16, zp="float", g_idx="act_order")


def matmulnbits_float_zp_quantize(rng):
    """Float zero points compiled with --quantize=int4-g32: the correction
    constant (2^(bits-1) - zp) * scale is not a weight, and stays float32
    (quantized, it would add error to an already quantized model)."""
    return matmulnbits(rng, k=64, zp="float") + (None, ("--quantize=int4-g32",))


def matmulnbits_f16(rng):
    return matmulnbits(rng, k=64, n=16, dtype=np.float16, a_shape=(2,))


def matmulnbits_f16_float_zp(rng):
    """float16 A, scales and zero points: the product in float32 on the
    quantized kernel, rounded once (against ORT)."""
    return matmulnbits(rng, k=96, n=16, block=32, zp="float",
                       dtype=np.float16, a_shape=(3,))


def matmulnbits_f16_act_order(rng):
    return matmulnbits(rng, k=64, n=16, block=16, g_idx="act_order",
                       dtype=np.float16, a_shape=(2,))


def matmulnbits_f16_many_scales(rng):
    """float16 with 8192 scales (N = 128, K = 1024, blocks of 16): more
    than a cast folds at compile time (4096), so the importer must widen
    the constant scales itself for the kernel to take them."""
    return matmulnbits(rng, k=1024, n=128, block=16, dtype=np.float16,
                       a_shape=(3,))


def int4_symmetric_reference(w, group):
    """A [K, N] weight as --quantize=int4-g<group> stores it, read back in
    float64 as [N, K]: per output channel and group of `group` k, scale =
    float32(max|w| / 7) (1 where the group is all zero), q = clamp(round
    half even(w / scale), -8, 7), q * scale."""
    wt = w.astype(np.float64).T  # [N, K]
    deq = np.zeros_like(wt)
    for k0 in range(0, wt.shape[1], group):
        block = wt[:, k0:k0 + group]
        scale = (np.abs(block).max(axis=1, keepdims=True) / 7).astype(
            np.float32).astype(np.float64)
        scale[scale == 0] = 1
        q = np.clip(np.rint(block / scale), -8, 7)
        deq[:, k0:k0 + group] = q * scale
    return deq


def f16_matmul_quantize_int4(rng):
    """A float16 MatMul (weight [K, N]) compiled with --quantize=int4-g32:
    the product widened to float32 around the quantized kernel. Reference:
    the documented scheme in float64 (per output channel and group of 32 k:
    scale = float32(max|w| / 7), q = clamp(round half even(w / scale), -8,
    7)), x @ (q * scale)^T rounded to float16; on a CPU with AVX512-BF16, x
    rounded to bf16 first, as the kernel rounds the activations of the
    weights --quantize=int4-* made (docs/quantization.md)."""
    k, n, group = 80, 40, 32
    w = (rng.standard_normal((k, n)) * 0.2).astype(np.float16)
    model = make([helper.make_node("MatMul", ["x", "w"], ["y"])],
                 [info("x", TensorProto.FLOAT16, [5, k])],
                 [info("y", TensorProto.FLOAT16, [5, n])],
                 [onnx.numpy_helper.from_array(w, "w")])
    x = rng.standard_normal((5, k)).astype(np.float16)

    def reference(x):
        deq = int4_symmetric_reference(w, group)
        xs = (e2e_harness.round_to_bf16(x) if e2e_harness.native_takes_bf16()
              else x.astype(np.float64))
        return (xs @ deq.T).astype(np.float16)
    return model, {"x": x}, reference, None, ("--quantize=int4-g32",)


def matmul_quantize_int4_float_lhs(rng):
    """A float32 MatMul (weight [K, N], K = 256) compiled with
    --quantize=int4-g32 --quantize-float-lhs: the activations stay float32
    on every CPU, so the reference is the documented scheme in float64
    with x as given, at the float tolerances (RTOL, ATOL). Rounding x to
    bf16 (what AVX512-BF16 CPUs do without the flag) misses them by about
    ten times: relative 2^-9 per activation."""
    k, n, group = 256, 24, 32
    w = (rng.standard_normal((k, n)) * 0.2).astype(np.float32)
    model = make([helper.make_node("MatMul", ["x", "w"], ["y"])],
                 [info("x", TensorProto.FLOAT, [3, k])],
                 [info("y", TensorProto.FLOAT, [3, n])],
                 [onnx.numpy_helper.from_array(w, "w")])
    x = rng.standard_normal((3, k)).astype(np.float32)

    def reference(x):
        deq = int4_symmetric_reference(w, group)
        return (x.astype(np.float64) @ deq.T).astype(np.float32)
    return (model, {"x": x}, reference, None,
            ("--quantize=int4-g32", "--quantize-float-lhs"))


def per_token(x):
    """x quantized per token as anvil.quantize_per_token defines it (float32
    scale max|x| / 127, 1 for an all-zero row; round half to even) and read
    back, in float64."""
    amax = np.abs(x).max(axis=-1, keepdims=True)
    s = np.where(amax > 0, amax / np.float32(127), np.float32(1))
    s = s.astype(np.float32)
    q = np.clip(np.rint(x / s), -127, 127)
    return q.astype(np.float64) * s.astype(np.float64)


def prequantized_w4a8(rng):
    """An already quantized model compiled with --quantize=w4a8-g128: its
    weights keep their values, and the matmuls whose weights the kernel
    takes with int8 activations get them per token. x [5, 96] is read by
    MatMulNBits (4 bits, symmetric, block 32, accuracy_level 4: the GenAI
    builder's CPU int4), by a uint4 [K, N] QDQ weight blocked along K with
    zero points, by an int8 [N, K] QDQ weight per channel through Gemm
    transB (with an explicit zero point 0, as quantize_static writes: the
    same as none), and by an int8 [K, N] weight with zero points (8-bit
    weights with nonzero zero points keep float activations). Reference: float64 numpy of
    the dequantized weights, times x quantized per token (the first three)
    or x itself (the last)."""
    k, n, block = 96, 24, 32
    kb = k // block
    q1 = rng.integers(0, 16, size=(n, k))
    s1 = rng.uniform(0.01, 0.1, size=(n, kb)).astype(np.float32)
    w1 = (q1 - 8) * np.repeat(s1.astype(np.float64), block, axis=1)
    q2 = rng.integers(0, 16, size=(k, n))
    z2 = rng.integers(0, 16, size=(kb, n))
    s2 = rng.uniform(0.01, 0.1, size=(kb, n)).astype(np.float32)
    w2 = (q2 - np.repeat(z2, block, axis=0)) * np.repeat(
        s2.astype(np.float64), block, axis=0)
    q3 = rng.integers(-127, 128, size=(n, k)).astype(np.int8)
    s3 = rng.uniform(0.001, 0.01, size=(n,)).astype(np.float32)
    w3 = q3.astype(np.float64) * s3.astype(np.float64)[:, None]
    q4 = rng.integers(-128, 128, size=(k, n)).astype(np.int8)
    z4 = rng.integers(-5, 5, size=(n,)).astype(np.int8)
    s4 = rng.uniform(0.001, 0.01, size=(n,)).astype(np.float32)
    w4 = (q4.astype(np.float64) - z4) * s4.astype(np.float64)
    inits = [
        onnx.numpy_helper.from_array(
            pack_rows(q1, 4).reshape(n, kb, block // 2), "B"),
        onnx.numpy_helper.from_array(s1.ravel(), "scales"),
        helper.make_tensor("w2", TensorProto.UINT4, [k, n], pack4(q2),
                           raw=True),
        helper.make_tensor("w2_zp", TensorProto.UINT4, [kb, n], pack4(z2),
                           raw=True),
        onnx.numpy_helper.from_array(s2, "w2_scale"),
        onnx.numpy_helper.from_array(q3, "w3"),
        onnx.numpy_helper.from_array(s3, "w3_scale"),
        onnx.numpy_helper.from_array(np.zeros(n, np.int8), "w3_zp"),
        onnx.numpy_helper.from_array(q4, "w4"),
        onnx.numpy_helper.from_array(z4, "w4_zp"),
        onnx.numpy_helper.from_array(s4, "w4_scale"),
    ]
    nodes = [
        helper.make_node("MatMulNBits", ["x", "B", "scales"], ["y1"],
                         domain=MS, K=k, N=n, bits=4, block_size=block,
                         accuracy_level=4),
        helper.make_node("DequantizeLinear", ["w2", "w2_scale", "w2_zp"],
                         ["w2f"], axis=0, block_size=block),
        helper.make_node("MatMul", ["x", "w2f"], ["y2"]),
        helper.make_node("DequantizeLinear", ["w3", "w3_scale", "w3_zp"],
                         ["w3f"], axis=0),
        helper.make_node("Gemm", ["x", "w3f"], ["y3"], transB=1),
        helper.make_node("DequantizeLinear", ["w4", "w4_scale", "w4_zp"],
                         ["w4f"], axis=1),
        helper.make_node("MatMul", ["x", "w4f"], ["y4"]),
    ]
    model = make_ms(nodes, [info("x", TensorProto.FLOAT, [5, k])],
                    [info(f"y{i}", TensorProto.FLOAT, [5, n])
                     for i in range(1, 5)], inits)
    x = (rng.standard_normal((5, k)) * 2).astype(np.float32)
    x[3] = 0  # an all-zero row: scale 1

    def reference(x):
        xq = per_token(x)
        xf = x.astype(np.float64)
        return [(xq @ w1.T).astype(np.float32),
                (xq @ w2).astype(np.float32),
                (xq @ w3.T).astype(np.float32),
                (xf @ w4).astype(np.float32)]
    return model, {"x": x}, reference, None, ("--quantize=w4a8-g128",)


def matmulnbits_quantizer(rng):
    """A float MatMul (and a Gather embedding) quantized by ORT's own
    MatMulNBitsQuantizer (4 bits, block 32, asymmetric): what ORT and the
    GenAI builder emit."""
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer)
    k, n, vocab = 128, 48, 50
    w = rng.standard_normal((k, n)).astype(np.float32)
    table = rng.standard_normal((vocab, k)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "ids"], ["x"]),
             helper.make_node("MatMul", ["x", "w"], ["y"])]
    model = make(nodes, [info("ids", TensorProto.INT64, [2, 3])],
                 [info("y", TensorProto.FLOAT, [2, 3, n])],
                 [onnx.numpy_helper.from_array(w, "w"),
                  onnx.numpy_helper.from_array(table, "table")])
    config = DefaultWeightOnlyQuantConfig(
        block_size=32, is_symmetric=False, op_types_to_quantize=(
            "MatMul", "Gather"), quant_axes=(("MatMul", 0), ("Gather", 1)))
    quantizer = MatMulNBitsQuantizer(model, algo_config=config)
    quantizer.process()
    quantized = quantizer.model.model
    ops = sorted(node.op_type for node in quantized.graph.node)
    if ops != ["GatherBlockQuantized", "MatMulNBits"]:
        raise RuntimeError(f"the quantizer made {ops}")
    ids = rng.integers(0, vocab, size=(2, 3)).astype(np.int64)
    return quantized, {"ids": ids}


def gather_block_quantized(rng, dtype="uint8", bits=4, zp=True, vocab=40,
                           hidden=64, block=16, ids_shape=(2, 3)):
    """GatherBlockQuantized on an embedding table [vocab, hidden] quantized
    along hidden (quantize_axis 1), gathered along vocab (gather_axis 0)."""
    kb = (hidden + block - 1) // block
    inits = []
    if dtype == "uint8":
        q = rng.integers(0, 1 << bits, size=(vocab, hidden))
        inits.append(onnx.numpy_helper.from_array(pack_rows(q, bits), "data"))
        if zp:
            z = rng.integers(0, 1 << bits, size=(vocab, kb))
            inits.append(onnx.numpy_helper.from_array(pack_rows(z, bits),
                                                      "zp"))
    else:
        signed = dtype == "int4"
        lo, hi = (-8, 8) if signed else (0, 16)
        t = TensorProto.INT4 if signed else TensorProto.UINT4
        q = rng.integers(lo, hi, size=(vocab, hidden))
        inits.append(helper.make_tensor("data", t, [vocab, hidden], pack4(q),
                                        raw=True))
        if zp:
            z = rng.integers(lo, hi, size=(vocab, kb))
            inits.append(helper.make_tensor("zp", t, [vocab, kb], pack4(z),
                                            raw=True))
    scale = rng.uniform(0.01, 0.1, size=(vocab, kb)).astype(np.float32)
    inits.append(onnx.numpy_helper.from_array(scale, "scales"))
    names = ["data", "ids", "scales"] + (["zp"] if zp else [])
    nodes = [helper.make_node("GatherBlockQuantized", names, ["y"], domain=MS,
                              bits=bits, block_size=block, gather_axis=0,
                              quantize_axis=1)]
    model = make_ms(nodes, [info("ids", TensorProto.INT64, list(ids_shape))],
                    [info("y", TensorProto.FLOAT, list(ids_shape) + [hidden])],
                    inits)
    ids = rng.integers(-vocab, vocab, size=ids_shape).astype(np.int64)
    return model, {"ids": ids}


def gbq_uint8_4bit_zp(rng):
    return gather_block_quantized(rng)


def gbq_uint8_8bit(rng):
    return gather_block_quantized(rng, bits=8, zp=False, block=32)


def gbq_int4_zp(rng):
    return gather_block_quantized(rng, dtype="int4", ids_shape=(5,))


def gbq_uint4(rng):
    return gather_block_quantized(rng, dtype="uint4", zp=False, hidden=48)


def gbq_int4_axes(rng):
    """int4 data [3, 32, 10] blocked along dim 1, gathered along dim 2 (the
    packed one: dequantized first) and along dim 0 (rows first, the
    quantize axis moving behind the indices' dims)."""
    shape, block = (3, 32, 10), 16
    q = rng.integers(-8, 8, size=shape)
    z = rng.integers(-8, 8, size=(3, 2, 10))
    scale = rng.uniform(0.01, 0.1, size=(3, 2, 10)).astype(np.float32)
    inits = [
        helper.make_tensor("data", TensorProto.INT4, list(shape), pack4(q),
                           raw=True),
        helper.make_tensor("zp", TensorProto.INT4, [3, 2, 10], pack4(z),
                           raw=True),
        onnx.numpy_helper.from_array(scale, "scales")]
    nodes = [
        helper.make_node("GatherBlockQuantized",
                         ["data", "i2", "scales", "zp"],
                         ["y2"], domain=MS, block_size=block, gather_axis=2,
                         quantize_axis=1),
        helper.make_node("GatherBlockQuantized",
                         ["data", "i0", "scales", "zp"],
                         ["y0"], domain=MS, block_size=block, gather_axis=0,
                         quantize_axis=-2)]
    model = make_ms(nodes, [info("i2", TensorProto.INT32, [4]),
                            info("i0", TensorProto.INT64, [2, 2])],
                    [info("y2", TensorProto.FLOAT, [3, 32, 4]),
                     info("y0", TensorProto.FLOAT, [2, 2, 32, 10])], inits)
    return model, {"i2": np.array([9, 0, -1, 4], np.int32),
                   "i0": np.array([[2, 0], [1, -3]], np.int64)}


def dynamic_quantized_matmul(rng):
    """ORT's dynamic quantization (quantize_dynamic): DynamicQuantizeLinear
    on the activations, MatMulInteger with the uint8/int8 weights, Cast and
    Mul by the product of the scales."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    import tempfile
    k, n = 64, 16
    w = rng.standard_normal((k, n)).astype(np.float32)
    model = make([helper.make_node("MatMul", ["x", "w"], ["y"])],
                 [info("x", TensorProto.FLOAT, [3, k])],
                 [info("y", TensorProto.FLOAT, [3, n])],
                 [onnx.numpy_helper.from_array(w, "w")])
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "f.onnx"), os.path.join(tmp, "q.onnx")
        onnx.save(model, src)
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
        quantized = onnx.load(dst)
    ops = {node.op_type for node in quantized.graph.node}
    if not {"DynamicQuantizeLinear", "MatMulInteger"} <= ops:
        raise RuntimeError(f"quantize_dynamic made {sorted(ops)}")
    return quantized, {"x": rng.standard_normal((3, k)).astype(np.float32)}


def ort_quantize_static(model, calibration, per_channel):
    """`model` through onnxruntime's quantize_static in the QDQ format
    (uint8 activations calibrated on the arrays `calibration` fed as its
    input "x", int8 weights, per output channel or per tensor)."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat,
                                          QuantType, quantize_static)
    import tempfile

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter({"x": x} for x in calibration)

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "f.onnx"), os.path.join(tmp, "q.onnx")
        onnx.save(model, src)
        quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=per_channel)
        return onnx.load(dst)


def qdq_static(rng, per_channel):
    """ORT's quantize_static in the QDQ format on a two-layer MLP (MatMul,
    Add, Relu, MatMul) with a dynamic batch: uint8 activations with
    calibrated scales and zero points per tensor, int8 weights per output
    channel or per tensor. Compiled with the batch bounded (--dim), run on
    5 rows."""
    k, h, n = 64, 96, 40
    w1 = (rng.standard_normal((k, h)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((h, n)) * 0.2).astype(np.float32)
    b1 = rng.standard_normal(h).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"]),
             helper.make_node("Add", ["a", "b1"], ["b"]),
             helper.make_node("Relu", ["b"], ["c"]),
             helper.make_node("MatMul", ["c", "w2"], ["y"])]
    model = make(nodes, [info("x", TensorProto.FLOAT, ["batch", k])],
                 [info("y", TensorProto.FLOAT, ["batch", n])],
                 [onnx.numpy_helper.from_array(w1, "w1"),
                  onnx.numpy_helper.from_array(b1, "b1"),
                  onnx.numpy_helper.from_array(w2, "w2")])
    quantized = ort_quantize_static(
        model, [rng.standard_normal((4, k)).astype(np.float32)
                for _ in range(8)], per_channel)
    ops = [node.op_type for node in quantized.graph.node]
    if ops.count("QuantizeLinear") < 2 or "MatMul" not in ops:
        raise RuntimeError(f"quantize_static made {ops}")
    x = (rng.standard_normal((5, k)) * 1.5).astype(np.float32)
    return quantized, {"x": x}, None, None, ("--dim=batch=1..8",)


def qdq_static_cnn(rng):
    """ORT's quantize_static (QDQ) on a small CNN with a dynamic batch
    (Conv with bias, Relu, a strided Conv, GlobalAveragePool, Flatten,
    MatMul): both convs as int8 integer convs (anvil-fuse-qdq-convs: the
    quantized activations by the int8 weights, scaled per channel), the
    activations' quantize-dequantize pairs around the pool as fused float
    loops, the MatMul on the int8 kernel. Against ORT without graph
    optimizations (float convs of the dequantized values): within the
    float tolerance."""
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    b1 = (rng.standard_normal(8) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 8, 3, 3)) * 0.2).astype(np.float32)
    wf = (rng.standard_normal((16, 10)) * 0.3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1],
                         strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("MatMul", ["f", "wf"], ["y"])]
    model = make(nodes, [info("x", TensorProto.FLOAT, ["n", 3, 16, 16])],
                 [info("y", TensorProto.FLOAT, ["n", 10])],
                 [onnx.numpy_helper.from_array(a, name) for a, name in
                  ((w1, "w1"), (b1, "b1"), (w2, "w2"), (wf, "wf"))])
    quantized = ort_quantize_static(
        model, [rng.standard_normal((2, 3, 16, 16)).astype(np.float32)
                for _ in range(4)], True)
    x = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    return quantized, {"x": x}, None, None, ("--dim=n=1..4",)


def qdq_static_per_channel(rng):
    return qdq_static(rng, True)


def qdq_static_per_tensor(rng):
    return qdq_static(rng, False)


def dynamic_quantized_mlp(rng):
    """ORT's quantize_dynamic on MatMul, Relu, MatMul with K = 128 and 192
    and 40 rows (so the int8 kernel's AMX tiles run where the CPU has
    them): DynamicQuantizeLinear's run-time scale and zero point read by
    the kernel (lhs_runtime), the int32 product exact. The reference is the
    ONNX definition (spec_reference), not ORT."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    import tempfile
    k, h, n = 128, 192, 24
    w1 = (rng.standard_normal((k, h)) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((h, n)) * 0.1).astype(np.float32)
    model = make([helper.make_node("MatMul", ["x", "w1"], ["a"]),
                  helper.make_node("Relu", ["a"], ["r"]),
                  helper.make_node("MatMul", ["r", "w2"], ["y"])],
                 [info("x", TensorProto.FLOAT, [40, k])],
                 [info("y", TensorProto.FLOAT, [40, n])],
                 [onnx.numpy_helper.from_array(w1, "w1"),
                  onnx.numpy_helper.from_array(w2, "w2")])
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "f.onnx"), os.path.join(tmp, "q.onnx")
        onnx.save(model, src)
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8)
        quantized = onnx.load(dst)
    return (quantized, {"x": rng.standard_normal((40, k)).astype(np.float32)},
            spec_reference(quantized))


def qlinearconv_per_channel(rng):
    """QLinearConv, uint8 x, int8 weights with one scale per output channel
    (zero points 0, as ORT wants for int8 weights), int32 bias, padding and
    stride 2, uint8 y; against the ONNX definition (spec_reference)."""
    m, c = 6, 3
    w = rng.integers(-128, 128, size=(m, c, 3, 3)).astype(np.int8)
    inits = [
        onnx.numpy_helper.from_array(np.array(0.02, np.float32), "xs"),
        onnx.numpy_helper.from_array(np.array(117, np.uint8), "xz"),
        onnx.numpy_helper.from_array(w, "w"),
        onnx.numpy_helper.from_array(
            rng.uniform(0.001, 0.01, size=m).astype(np.float32), "ws"),
        onnx.numpy_helper.from_array(np.zeros(m, np.int8), "wz"),
        onnx.numpy_helper.from_array(np.array(0.15, np.float32), "ys"),
        onnx.numpy_helper.from_array(np.array(120, np.uint8), "yz"),
        onnx.numpy_helper.from_array(
            rng.integers(-3000, 3000, size=m).astype(np.int32), "bias"),
    ]
    nodes = [helper.make_node(
        "QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"],
        ["y"], pads=[1, 1, 1, 1], strides=[2, 2])]
    model = make(nodes, [info("x", TensorProto.UINT8, [2, c, 9, 9])],
                 [info("y", TensorProto.UINT8, [2, m, 5, 5])], inits)
    return (model, {"x": rng.integers(0, 256, size=(2, c, 9, 9))
                    .astype(np.uint8)}, spec_reference(model))


def convinteger_wide(rng, group):
    """ConvInteger with sums past float32's exact range: uint8 x (zero
    point 0) and int8 w of 130 channels per group (3x3: 1170 products of
    up to 255 x 128 per output), the first image all 255 and the first
    output channel all -127, so one output is -37.9M, odd (beyond 2^24,
    where float32 holds only even integers); w's zero points per output
    channel in [-3, 3] (0 for the first). One
    group: the importer cuts the channels into float32 convs that stay
    exact and adds them in int32; two groups of 130: one float64 conv.
    Against the ONNX definition in int64 numpy (onnx.reference takes no
    per-channel w_zero_point)."""
    c, m = 130 * group, 4 * group
    w = rng.integers(-128, 128, size=(m, c // group, 3, 3)).astype(np.int8)
    w[0] = -127
    x = rng.integers(0, 256, size=(2, c, 6, 6)).astype(np.uint8)
    x[0] = 255
    wz = rng.integers(-3, 4, size=m).astype(np.int8)
    wz[0] = 0
    inits = [onnx.numpy_helper.from_array(w, "w"),
             onnx.numpy_helper.from_array(np.array(0, np.uint8), "xz"),
             onnx.numpy_helper.from_array(wz, "wz")]
    nodes = [helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"],
                              pads=[1, 1, 1, 1], group=group)]
    model = make(nodes, [info("x", TensorProto.UINT8, [2, c, 6, 6])],
                 [info("y", TensorProto.INT32, [2, m, 6, 6])], inits)

    def reference(x):
        # ONNX's definition in int64 (onnx.reference takes no per-channel
        # w_zero_point): 3x3 taps over the zero-padded image, per group.
        xs = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)))
        ws = w.astype(np.int64) - wz.astype(np.int64)[:, None, None, None]
        cg, mg = c // group, m // group
        y = np.zeros((2, m, 6, 6), np.int64)
        for g in range(group):
            for ky in range(3):
                for kx in range(3):
                    y[:, g * mg:(g + 1) * mg] += np.einsum(
                        "nchw,mc->nmhw",
                        xs[:, g * cg:(g + 1) * cg, ky:ky + 6, kx:kx + 6],
                        ws[g * mg:(g + 1) * mg, :, ky, kx])
        return y.astype(np.int32)
    return model, {"x": x}, reference


def convinteger_int8(rng, flags=()):
    """Four ConvInteger nodes whose int8 weights have no zero point (or an
    all-zero one): uint8 x [2, 20, 9, 11] with zero point 131, 3x3,
    strides (2, 1), dilations (1, 2), asymmetric pads, 26 outputs (K 180);
    the same x through a 1x1 of 2 groups and no x zero point; int8 x
    [1, 7, 8, 8] with zero point -5 and an explicit all-zero w zero point
    (K 63); and the same int8 x through a 5x5 whose taps reach wholly into
    the padding. Against the ONNX definition in int64 numpy, exact."""
    xu = rng.integers(0, 256, size=(2, 20, 9, 11)).astype(np.uint8)
    xi = rng.integers(-128, 128, size=(1, 7, 8, 8)).astype(np.int8)
    w1 = rng.integers(-128, 128, size=(26, 20, 3, 3)).astype(np.int8)
    w2 = rng.integers(-128, 128, size=(16, 10, 1, 1)).astype(np.int8)
    w3 = rng.integers(-128, 128, size=(12, 7, 3, 3)).astype(np.int8)
    w4 = rng.integers(-128, 128, size=(8, 7, 5, 5)).astype(np.int8)
    inits = [onnx.numpy_helper.from_array(v, n) for v, n in [
        (w1, "w1"), (w2, "w2"), (w3, "w3"), (w4, "w4"),
        (np.array(131, np.uint8), "xuz"), (np.array(-5, np.int8), "xiz"),
        (np.zeros(12, np.int8), "w3z")]]
    attrs1 = dict(strides=[2, 1], dilations=[1, 2], pads=[1, 0, 0, 2])
    nodes = [
        helper.make_node("ConvInteger", ["xu", "w1", "xuz"], ["y1"],
                         **attrs1),
        helper.make_node("ConvInteger", ["xu", "w2"], ["y2"], group=2),
        helper.make_node("ConvInteger", ["xi", "w3", "xiz", "w3z"], ["y3"],
                         pads=[1, 1, 1, 1]),
        helper.make_node("ConvInteger", ["xi", "w4", "xiz"], ["y4"],
                         pads=[4, 4, 4, 4], strides=[3, 3]),
    ]

    def conv(x, w, zero, strides=(1, 1), dilations=(1, 1), pads=(0,) * 4,
             group=1):
        # ONNX's definition in int64: the zero point subtracted, zeros
        # padded, each tap a product summed over channels, per group.
        n, c, h, wd = x.shape
        m, cg, kh, kw = w.shape
        xs = np.pad(x.astype(np.int64) - zero,
                    ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
        oh = (h + pads[0] + pads[2] - (kh - 1) * dilations[0] - 1) \
            // strides[0] + 1
        ow = (wd + pads[1] + pads[3] - (kw - 1) * dilations[1] - 1) \
            // strides[1] + 1
        mg = m // group
        y = np.zeros((n, m, oh, ow), np.int64)
        for g in range(group):
            for ky in range(kh):
                for kx in range(kw):
                    y0, x0 = ky * dilations[0], kx * dilations[1]
                    patch = xs[:, g * cg:(g + 1) * cg,
                               y0:y0 + (oh - 1) * strides[0] + 1:strides[0],
                               x0:x0 + (ow - 1) * strides[1] + 1:strides[1]]
                    y[:, g * mg:(g + 1) * mg] += np.einsum(
                        "nchw,mc->nmhw", patch,
                        w[g * mg:(g + 1) * mg, :, ky, kx].astype(np.int64))
        return y.astype(np.int32)

    def reference(xu, xi):
        return [conv(xu, w1, 131, strides=(2, 1), dilations=(1, 2),
                     pads=(1, 0, 0, 2)),
                conv(xu, w2, 0, group=2),
                conv(xi, w3, -5, pads=(1, 1, 1, 1)),
                conv(xi, w4, -5, strides=(3, 3), pads=(4, 4, 4, 4))]
    outs = [(n, v.shape) for n, v in zip(
        ["y1", "y2", "y3", "y4"], reference(xu, xi))]
    model = make(nodes, [info("xu", TensorProto.UINT8, list(xu.shape)),
                         info("xi", TensorProto.INT8, list(xi.shape))],
                 [info(n, TensorProto.INT32, list(shape))
                  for n, shape in outs], inits)
    return model, {"xu": xu, "xi": xi}, reference, None, tuple(flags)


def convinteger_int8_avx2(rng):
    """convinteger_int8 for x86-64-v3: no VNNI, so the kernel's exact
    float32 chunks."""
    return convinteger_int8(rng, ("--mcpu=x86-64-v3",))


def convinteger_wide_chunks(rng):
    return convinteger_wide(rng, 1)


def convinteger_wide_groups(rng):
    return convinteger_wide(rng, 2)


def qlinearmatmul_per_column(rng):
    """QLinearMatMul, uint8 a per tensor, uint8 b with a scale and zero
    point per column, uint8 y."""
    m, k, n = 4, 32, 10
    inits = [
        onnx.numpy_helper.from_array(np.array(0.03, np.float32), "as"),
        onnx.numpy_helper.from_array(np.array(128, np.uint8), "az"),
        onnx.numpy_helper.from_array(
            rng.integers(0, 256, size=(k, n)).astype(np.uint8), "b"),
        onnx.numpy_helper.from_array(
            rng.uniform(0.002, 0.02, size=n).astype(np.float32), "bs"),
        onnx.numpy_helper.from_array(
            rng.integers(100, 150, size=n).astype(np.uint8), "bz"),
        onnx.numpy_helper.from_array(np.array(0.05, np.float32), "ys"),
        onnx.numpy_helper.from_array(np.array(125, np.uint8), "yz"),
    ]
    nodes = [helper.make_node("QLinearMatMul",
                              ["a", "as", "az", "b", "bs", "bz", "ys", "yz"],
                              ["y"])]
    model = make(nodes, [info("a", TensorProto.UINT8, [m, k])],
                 [info("y", TensorProto.UINT8, [m, n])], inits)
    return model, {"a": rng.integers(0, 256, size=(m, k)).astype(np.uint8)}


def qlinearmatmul_per_row(rng):
    """QLinearMatMul with a's scale and zero point per row (an M vector),
    which ONNX allows and ORT's CPU kernel refuses: against numpy, the
    product in int64, the multiplier a_scale * b_scale / y_scale and the
    scaling in float32 (as ORT requantizes), round half to even, + y's zero
    point, saturated to uint8."""
    m, k, n = 4, 16, 5
    consts = {
        "as": rng.uniform(0.01, 0.05, size=m).astype(np.float32),
        "az": rng.integers(100, 150, size=m).astype(np.uint8),
        "b": rng.integers(0, 256, size=(k, n)).astype(np.uint8),
        "bs": np.array(0.02, np.float32), "bz": np.array(120, np.uint8),
        "ys": np.array(0.5, np.float32), "yz": np.array(128, np.uint8)}
    nodes = [helper.make_node("QLinearMatMul",
                              ["a", "as", "az", "b", "bs", "bz", "ys", "yz"],
                              ["y"])]
    model = make(nodes, [info("a", TensorProto.UINT8, [m, k])],
                 [info("y", TensorProto.UINT8, [m, n])],
                 [onnx.numpy_helper.from_array(v, name)
                  for name, v in consts.items()])

    def reference(a):
        acc = ((a.astype(np.int64) - consts["az"].astype(np.int64)[:, None])
               @ (consts["b"].astype(np.int64) - int(consts["bz"])))
        mult = (consts["as"][:, None] * consts["bs"]) / consts["ys"]
        v = acc.astype(np.float32) * mult.astype(np.float32)
        return np.clip(np.rint(v) + int(consts["yz"]), 0, 255).astype(
            np.uint8)
    return model, {"a": rng.integers(0, 256, size=(m, k)).astype(np.uint8)}, \
        reference


def dynamicquantizelinear(x):
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"],
                              ["y", "s", "z"])]
    model = make(nodes, [info("x", TensorProto.FLOAT, list(x.shape))],
                 [info("y", TensorProto.UINT8, list(x.shape)),
                  info("s", TensorProto.FLOAT, []),
                  info("z", TensorProto.UINT8, [])], [])
    return model, {"x": x}


def dql_mixed(rng):
    """DynamicQuantizeLinear: all three outputs against ORT (the scale
    within the float32 tolerance, y and the zero point exact)."""
    return dynamicquantizelinear(
        (rng.standard_normal((3, 17)) * 4).astype(np.float32))


def dql_positive(rng):
    return dynamicquantizelinear(rng.uniform(0.5, 9, size=(40,))
                                 .astype(np.float32))


def dql_zero(rng):
    """All zeros: range 0, where ORT's scale is 1 (ONNX's spec divides by
    zero)."""
    return dynamicquantizelinear(np.zeros((2, 3), np.float32))


MODELS += [dql_mixed, dql_positive, dql_zero, matmulnbits_4bit_zp,
           matmulnbits_4bit_nozp, matmulnbits_8bit_zp, matmulnbits_8bit_nozp,
           matmulnbits_4bit_gidx, matmulnbits_8bit_gidx_nozp,
           matmulnbits_4bit_act_order, matmulnbits_8bit_act_order_nozp,
           matmulnbits_default_gidx, matmulnbits_float_zp,
           matmulnbits_8bit_float_zp, matmulnbits_float_zp_act_order,
           matmulnbits_f16_float_zp, matmulnbits_f16_act_order,
           matmulnbits_f16_many_scales, f16_matmul_quantize_int4,
           matmul_quantize_int4_float_lhs,
           prequantized_w4a8, matmulnbits_float_zp_quantize, matmulnbits_f16, matmulnbits_quantizer,
           gbq_uint8_4bit_zp, gbq_uint8_8bit, gbq_int4_zp, gbq_uint4,
           gbq_int4_axes, dynamic_quantized_matmul, dynamic_quantized_mlp,
           qlinearconv_per_channel, convinteger_int8,
           convinteger_int8_avx2, convinteger_wide_chunks,
           convinteger_wide_groups, qlinearmatmul_per_column, qlinearmatmul_per_row,
           qdq_static_per_channel, qdq_static_per_tensor, qdq_static_cnn]


# Models whose matmuls must all run on the quantized kernel (matmul_quant,
# reading the packed values: no float weight at run time), with how many
# launches of it `anvilc --emit=kernel` must show. The others take the
# general matmul on dequantized values: MatMulNBits with uneven g_idx,
# blocks along N, and the integer matmuls other than quantize_dynamic's.
QUANT_KERNEL_LAUNCHES = {
    "int4_blocked_matmul": 1, "int4_kn_odd_shapes": 4,
    "matmulnbits_4bit_zp": 1, "matmulnbits_4bit_nozp": 1,
    "matmulnbits_8bit_zp": 1, "matmulnbits_8bit_nozp": 1,
    "matmulnbits_quantizer": 1, "matmulnbits_4bit_act_order": 1,
    "matmulnbits_8bit_act_order_nozp": 1, "matmulnbits_default_gidx": 1,
    "matmulnbits_float_zp": 1, "matmulnbits_8bit_float_zp": 1,
    "matmulnbits_float_zp_act_order": 1, "matmulnbits_f16": 1,
    "matmulnbits_f16_float_zp": 1, "matmulnbits_f16_act_order": 1,
    "f16_matmul_quantize_int4": 1, "matmulnbits_f16_many_scales": 1,
    "matmul_quantize_int4_float_lhs": 1,
    "qdq_static_per_channel": 2, "qdq_static_per_tensor": 2,
    "qdq_static_cnn": 1, "dynamic_quantized_matmul": 1,
    "dynamic_quantized_mlp": 2, "int4_f16_matmul": 1, "qdq_f16_mlp": 2,
    "prequantized_w4a8": 4, "matmulnbits_float_zp_quantize": 1,
}

# Of those, the models that also run a float matmul, with how many: float
# zero points become the default one plus A's block sums times a
# [N, k_blocks] correction (a matmul block_size times smaller).
GENERAL_MATMUL_LAUNCHES = {"matmulnbits_float_zp": 1,
                           "matmulnbits_float_zp_quantize": 1,
                           "matmulnbits_8bit_float_zp": 1,
                           "matmulnbits_float_zp_act_order": 1,
                           "matmulnbits_f16_float_zp": 1}

# Of those, the models whose activations' static QuantizeLinear ->
# DequantizeLinear the kernel takes over (quantize_lhs: int8 VNNI sums),
# with how many launches must.
STATIC_LHS_LAUNCHES = {"qdq_static_per_channel": 2,
                       "qdq_static_per_tensor": 2, "qdq_static_cnn": 1,
                       "dynamic_quantized_matmul": 1,
                       "dynamic_quantized_mlp": 2,
                       # per-token int8 activations (--quantize=w4a8-g128)
                       "prequantized_w4a8": 3}


# Models whose integer convolutions must run as conv2d_integer launches
# (int8 weights without zero points), with how many; the ConvInteger
# models with per-channel weight zero points must run none.
CONV_INTEGER_LAUNCHES = {"convinteger_int8": 4, "convinteger_int8_avx2": 4,
                         "qlinearconv_per_channel": 1,
                         # QDQ convs (anvil-fuse-qdq-convs)
                         "qdq_static_cnn": 2,
                         "convinteger_wide_chunks": 0,
                         "convinteger_wide_groups": 0}


def kernel_program(name, args, flags=()):
    """NAME's kernel program (`anvilc --emit=kernel` with `flags`) and
    None, or None and why anvilc failed."""
    kernel = subprocess.run(
        [args.anvilc, "-q", *flags, os.path.join(args.work, name + ".onnx"),
         "--emit=kernel"], capture_output=True, text=True)
    if kernel.returncode:
        return None, ("anvilc --emit=kernel failed: "
                      f"{kernel.stderr.strip()[-500:]}")
    return kernel.stdout, None


def conv_integer_problem(name, args, flags=()):
    """Why NAME's compiled kernels do not run CONV_INTEGER_LAUNCHES[NAME]
    conv2d_integer launches (None when they do, or it lists nothing)."""
    want = CONV_INTEGER_LAUNCHES.get(name)
    if want is None:
        return None
    kernel, error = kernel_program(name, args, flags)
    if error:
        return error
    got = kernel.count('kernel.launch "conv2d_integer"')
    if got != want:
        return f"{got} conv2d_integer launches, expected {want}"
    return None


def quant_kernel_problem(name, args, flags=()):
    """Why NAME's compiled kernels are not what QUANT_KERNEL_LAUNCHES (and
    STATIC_LHS_LAUNCHES) want (None when they are, or when it wants
    nothing)."""
    want = QUANT_KERNEL_LAUNCHES.get(name)
    if want is None:
        return None
    kernel, error = kernel_program(name, args, flags)
    if error:
        return error
    quant = kernel.count('kernel.launch "matmul_quant"')
    general = kernel.count('kernel.launch "matmul"')
    want_general = GENERAL_MATMUL_LAUNCHES.get(name, 0)
    if quant != want or general != want_general:
        return (f"{quant} matmul_quant and {general} matmul launches, "
                f"expected {want} matmul_quant and {want_general} matmul")
    static = kernel.count("quantize_lhs = true")
    if static != STATIC_LHS_LAUNCHES.get(name, static):
        return (f"{static} matmul_quant launches quantize their activations, "
                f"expected {STATIC_LHS_LAUNCHES[name]}")
    return None


def check(name, model, inputs, args, reference=None, names=None, flags=()):
    """Compiles (with anvilc `flags`) and runs `model` (an ONNX model, or
    anvil-dialect text whose outputs `names` lists); compares its outputs
    with `reference(**inputs)` (numpy: one array or a list) where given,
    else with ORT's."""
    got, error = e2e_harness.compile_and_run(
        args.anvilc, args.anvil_run, args.work, name, model, inputs,
        output_names=names, anvilc_flags=flags)
    if error:
        return error
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
    problems = e2e_harness.compare_outputs(
        got, dict(zip(got, expected)), RTOL, ATOL, f16=(F16_RTOL, F16_ATOL))
    if problems:
        return problems[0]
    return (quant_kernel_problem(name, args, flags) or
            conv_integer_problem(name, args, flags))


def main():
    return e2e_harness.run_cases("quantized", MODELS, check, seed=7,
                                 description=__doc__)


if __name__ == "__main__":
    sys.exit(main())

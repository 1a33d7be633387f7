#!/usr/bin/env python3
"""The fused quantized matmul (matmul_quant) against float64 numpy.

Each case is a small anvil-dialect module: `matmul(x, dequantize(q, scale
[, zero point]))` with constant q, scales and zero points, read by nine
matmuls with m = 1 (a decode GEMV), 5, 12, 16 and 19 rows (small batches: on
AVX-512 5 is one five-row call of the group sums over two panels at a
time, 12 one twelve-row call, 19 a sixteen-row call and a three-row one
over four panels at a time where the tile has four: the int4 case with
N = 80; 16 is a 16-sequence decode step, which in W8A8 with AMX
alternates two accumulator sets, a tile's epilogue after the next
tile's products), 48 rows (tiles of 32 and 16 rows: with AMX, one of two row
blocks of 16 and one of one), 57 rows (a prefill tile; for W8A8 a tile
of 32 rows and one of 25: with AMX, two row blocks of 16, the second
partly padding), 163 rows (one prefill tile: 132 rows and the 31 after
them, too few for a tile of their own) and 170 (two: 132 and 38), compiled by anvilc for `--mcpu=native` (AVX-512 and VNNI where
the machine has them), `--mcpu=x86-64-v3` (the AVX2 paths; skipped, and
said so, on a machine without AVX2 and FMA) and `--mcpu=x86-64-v2` (the
portable C++), run by
anvil-run on two threads. The kernel program must launch matmul_quant and
no dequantize (the float weight never exists).

Cases: int8 per channel with K = 75 (not a multiple of 4), odd N = 37,
also with every other row of x scaled by 1e30 (AVX-512 and AVX2 read
symmetric int8 as (u - 128) * 2^24, which overflows there: those rows are
summed again unscaled);
uint8 with zero points per output column of a [K, N] weight read without
transpose (DequantizeLinear -> MatMul); int8 per tensor; int4 groups of 32
with a tail group (K = 80), symmetric (with anvil.lhs_bf16, and once
without), also with rows near 1e30 (AVX2
reads symmetric int4 as (u - 8) * 2^28); uint4 with zero points, odd K = 75;
int4 groups of 128 (K = 300); MatMulNBits' form (uint4 rows of 3 blocks
sliced to K = 80); 8-bit blocks of 16 with zero points; W8A8
(quantize_per_token feeding a dequantize with row blocks); and W4A8 (the
same activations, symmetric int4 groups of 32 with a tail and of 128 with
K = 300, uint4 with zero points and odd K, and groups of 64 and 128 with K
a multiple of 64, which take AMX tiles where the CPU has them: symmetric,
uint4 with zero points per channel and group, and zero points of 200 and
more in odd groups, which no 4-bit value has and which AMX takes off as
an exact int32 share, K = 88, whose last group of three 8-k lines
reaches the AVX2 tiles' single-line tail, and N =
120 and 80, whose decode GEMVs take items of four, three and two panels
two apart, in the "q4_n16_k8" layout); W8A8 with K = 128 (AMX too); static QDQ activations
(uint8 and int8 with zero points, zero point 128, int8 without one). One row of x
is in all nine inputs, and its result must be bit-identical in each
(a sequence's logits must not depend on what else is in its batch).

Reference: W[n, k] = (q - zero_point) * scale in float64 and x @ W^T in
float64; W8A8 and W4A8 first quantize x per token as anvil.quantize_per_token
defines it (float32 scale max|x| / 127, round half to even). Tolerance:
|y - ref| <= 1e-6 + 1e-5 * B, B = sum_k |x_k| |W[n, k]|: the kernel sums
x * (q - z) per group in float32 (q - z exact) and scales once, so its
error is float32 summation of up to 300 such terms, well inside it.
Symmetric int4 whose dequantize carries anvil.lhs_bf16 (what
anvil-quantize-weights marks its own with) on a CPU with AVX512-BF16
(--mcpu=native there): the kernel rounds x to bf16 and sums x (128 + u) and 136 x per group with
vdpbf16ps (matmul_int4_bf16.h), so the reference rounds x to bf16 too and
the tolerance adds 2 * group * 2^-24 * sum_k |x_k| 143 s(n, k), the
float rounding of those sums.

Usage: run_matmul_quant.py --anvilc anvilc --anvil-run anvil-run --work DIR
Prints `ok CASE (mcpu)` or `FAIL CASE (mcpu): why`, then a summary line.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402

MS = (1, 5, 12, 16, 19, 48, 57, 163, 170)
# The row each input shares (see run_case).
SHARED = {1: 0, 5: 2, 12: 8, 16: 11, 19: 17, 48: 40, 57: 20, 163: 161, 170: 169}


def hexdense(a):
    return 'dense<"0x' + np.ascontiguousarray(a).tobytes().hex().upper() + '">'


def mlir_type(a, override=None):
    elem = override or {np.dtype(np.float32): "f32", np.dtype(np.int8): "i8",
                        np.dtype(np.uint8): "ui8"}[a.dtype]
    return "tensor<" + "".join(f"{d}x" for d in a.shape) + elem + ">"


def pack4(values):
    """Rows of 4-bit values (ints 0..15 or -8..7), two per byte, low first."""
    v = (values.astype(np.int64) & 0xF).astype(np.uint8)
    if v.shape[1] % 2:
        v = np.concatenate([v, np.zeros((v.shape[0], 1), np.uint8)], axis=1)
    return (v[:, 0::2] | (v[:, 1::2] << 4)).astype(np.uint8)


def module(case):
    """The MLIR text of a case, and the dequantized weight W [N, K]
    (float64) the reference uses."""
    q, s, zp = case["q"], case["s"], case.get("zp")
    k, n = case["k"], case["n"]
    attrs = case["attrs"]
    w_shape = case["w_shape"]  # the dequantize result's shape
    lines = []
    args = ", ".join(f'%x{m}: tensor<{m}x{k}xf32> {{anvil.name = "x{m}"}}'
                     for m in MS)
    results = ", ".join(f'tensor<{m}x{n}xf32> {{anvil.name = "y{m}"}}'
                        for m in MS)
    lines.append(f"func.func @main({args}) -> ({results}) {{")
    lines.append(f"  %q = anvil.constant {hexdense(q)} : {mlir_type(q)}")
    lines.append(f"  %s = anvil.constant {hexdense(s)} : {mlir_type(s)}")
    operands, types = "%q, %s", f"{mlir_type(q)}, {mlir_type(s)}"
    if zp is not None:
        lines.append(f"  %z = anvil.constant {hexdense(zp)} : {mlir_type(zp)}")
        operands += ", %z"
        types += ", " + mlir_type(zp)
    wt = "tensor<" + "x".join(map(str, w_shape)) + "xf32>"
    lines.append(f"  %w = anvil.dequantize {operands} {{{attrs}}} : "
                 f"({types}) -> {wt}")
    rhs, rt = "%w", wt
    if case.get("slice"):
        lines.append("  %c0 = anvil.constant dense<0> : tensor<1xi64>")
        lines.append(f"  %ck = anvil.constant dense<{k}> : tensor<1xi64>")
        lines.append("  %c1 = anvil.constant dense<1> : tensor<1xi64>")
        rt = f"tensor<{n}x{k}xf32>"
        lines.append(f"  %ws = anvil.slice %w, %c0, %ck, %c1, %c1 : ({wt}, "
                     "tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, "
                     f"tensor<1xi64>) -> {rt}")
        rhs = "%ws"
    transpose = not case.get("kn")
    for m in MS:
        x = f"%x{m}"
        xt = f"tensor<{m}x{k}xf32>"
        if case.get("w8a8"):
            lines.append(f"  %xq{m}, %xs{m} = anvil.quantize_per_token {x} : "
                         f"({xt}) -> (tensor<{m}x{k}xi8>, tensor<{m}x1xf32>)")
            lines.append(f"  %xd{m} = anvil.dequantize %xq{m}, %xs{m} "
                         f"{{axis = 1 : i64, bits = 8 : i64, block_size = {k} "
                         f": i64}} : (tensor<{m}x{k}xi8>, tensor<{m}x1xf32>) "
                         f"-> {xt}")
            x = f"%xd{m}"
        if case.get("static"):
            xs, xz = case["static"]
            zt = "ui8" if xz.dtype == np.uint8 else "i8"
            if m == MS[0]:
                lines.append(f"  %xs = anvil.constant {hexdense(xs)} : "
                             "tensor<f32>")
                lines.append(f"  %xz = anvil.constant {hexdense(xz)} : "
                             f"tensor<{zt}>")
            qt = f"tensor<{m}x{k}x{zt}>"
            lines.append(f"  %xq{m} = anvil.quantize {x}, %xs, %xz {{bits = 8 "
                         f": i64}} : ({xt}, tensor<f32>, tensor<{zt}>) -> {qt}")
            lines.append(f"  %xd{m} = anvil.dequantize %xq{m}, %xs, %xz {{bits "
                         f"= 8 : i64}} : ({qt}, tensor<f32>, tensor<{zt}>) -> "
                         f"{xt}")
            x = f"%xd{m}"
        t = " {transpose_rhs = true}" if transpose else ""
        lines.append(f"  %y{m} = anvil.matmul {x}, {rhs}{t} : ({xt}, {rt}) -> "
                     f"tensor<{m}x{n}xf32>")
    lines.append("  return " + ", ".join(f"%y{m}" for m in MS) + " : " +
                 ", ".join(f"tensor<{m}x{n}xf32>" for m in MS))
    lines.append("}")
    return "\n".join(lines) + "\n"


def blocked(values, n, k, group):
    """Per-(n, group) parameters [n, groups] broadcast to [n, k]."""
    return np.repeat(values, group, axis=1)[:, :k]


def cases(rng):
    out = []

    def sym8(n, k):
        w = rng.standard_normal((n, k))
        s = (np.abs(w).max(axis=1) / 127).astype(np.float32)
        q = np.clip(np.rint(w / s[:, None]), -127, 127).astype(np.int8)
        return q, s

    # int8 per output channel, K = 75, N = 37.
    q, s = sym8(37, 75)
    out.append(dict(name="int8_channel", n=37, k=75, q=q, s=s,
                    attrs="bits = 8 : i64", w_shape=(37, 75),
                    W=q.astype(np.float64) * s[:, None]))
    # The same weights with every other row of activations near 1e30: the
    # kernel's scaled reading of symmetric int8 ((u - 128) * 2^24)
    # overflows there and must sum those rows again unscaled.
    out.append(dict(name="int8_huge_rows", n=37, k=75, q=q, s=s,
                    even_rows=1e30, attrs="bits = 8 : i64", w_shape=(37, 75),
                    W=q.astype(np.float64) * s[:, None]))
    # uint8 [K, N] with zero points per column (QDQ MatMul, no transpose).
    k, n = 64, 19
    qk = rng.integers(0, 256, (k, n)).astype(np.uint8)
    s2 = (rng.random(n) * 0.02 + 0.001).astype(np.float32)
    z2 = rng.integers(100, 156, n).astype(np.uint8)
    W = ((qk.astype(np.float64) - z2) * s2).T
    out.append(dict(name="uint8_kn_zero_point", n=n, k=k, q=qk, s=s2, zp=z2,
                    kn=True, attrs="axis = 1 : i64, bits = 8 : i64",
                    w_shape=(k, n), W=W))
    # int8 per tensor.
    q3 = rng.integers(-128, 128, (20, 48)).astype(np.int8)
    s3 = np.array(0.0125, np.float32)
    out.append(dict(name="int8_tensor", n=20, k=48, q=q3, s=s3,
                    attrs="bits = 8 : i64", w_shape=(20, 48),
                    W=q3.astype(np.float64) * float(s3)))

    def int4(name, n, k, group, signed, rows=None, slice_to=None,
             wide_zero=False, lhs_bf16=True):
        kk = rows or k
        groups = (kk + group - 1) // group
        if signed:
            v = rng.integers(-8, 8, (n, kk))
            zp, zfull = None, np.full((n, kk), 8.0)
        else:
            v = rng.integers(0, 16, (n, kk))
            zp = rng.integers(0, 16, (n, groups)).astype(np.uint8)
            if wide_zero:
                # Zero points no 4-bit value has (a hostile model's): one
                # channel's in every odd group.
                zp[n // 2, 1::2] = 200 + np.arange(groups // 2)
            zfull = blocked(zp.astype(np.float64), n, kk, group)
        s = (rng.random((n, groups)) * 0.1 + 0.01).astype(np.float32)
        sfull = blocked(s.astype(np.float64), n, kk, group)
        W = (v - (0 if signed else zfull)) * sfull
        attrs = f"axis = 1 : i64, bits = 4 : i64, block_size = {group} : i64"
        if signed:
            attrs += ", is_signed = true"
        if kk % 2:
            attrs += f", last_dim = {kk} : i64"
        # What anvil-quantize-weights marks its symmetric int4 weights with
        # (an imported model's have no mark and keep float activations).
        bf16 = signed and lhs_bf16 and group % 8 == 0
        if bf16:
            attrs += ", anvil.lhs_bf16"
        case = dict(name=name, n=n, k=slice_to or k, q=pack4(v), s=s, zp=zp,
                    attrs=attrs, w_shape=(n, kk), W=W, group=group,
                    scales=sfull, bf16=bf16)
        if slice_to:
            case.update(slice=True)
            case["W"] = case["W"][:, :slice_to]
        return case

    out.append(int4("int4_g32_tail", 37, 80, 32, True))
    # The same without anvil.lhs_bf16 (an imported model's weight): float
    # activations on every CPU.
    out.append(int4("int4_g32_tail_f32_lhs", 37, 80, 32, True,
                    lhs_bf16=False))
    # Five panels: small batches take four at a time (few rows, one call).
    out.append(int4("int4_g32_wide", 80, 80, 32, True))
    out.append(int4("uint4_g32_odd_k", 21, 75, 32, False))
    out.append(int4("int4_g128", 33, 300, 128, True))
    # Symmetric int4 with every other row of activations near 1e30: the
    # AVX2 GEMV's scaled reading ((u - 8) * 2^28) overflows there and must
    # sum those rows again unscaled.
    huge = int4("int4_g32_huge_rows", 37, 80, 32, True)
    huge["even_rows"] = 1e30
    out.append(huge)
    out.append(int4("matmulnbits_sliced", 17, 96, 32, False, slice_to=80))
    # 8-bit blocks of 16 with zero points (MatMulNBits bits = 8).
    n, k, g = 23, 80, 16
    q8 = rng.integers(0, 256, (n, k)).astype(np.uint8)
    s8 = (rng.random((n, k // g)) * 0.01 + 0.001).astype(np.float32)
    z8 = rng.integers(0, 256, (n, k // g)).astype(np.uint8)
    out.append(dict(name="uint8_blocked_zero_point", n=n, k=k, q=q8, s=s8,
                    zp=z8, attrs="axis = 1 : i64, bits = 8 : i64, "
                    f"block_size = {g} : i64", w_shape=(n, k),
                    W=(q8 - blocked(z8.astype(np.float64), n, k, g)) *
                    blocked(s8.astype(np.float64), n, k, g)))
    # W8A8.
    q9, s9 = sym8(37, 75)
    out.append(dict(name="w8a8", n=37, k=75, q=q9, s=s9, w8a8=True,
                    attrs="bits = 8 : i64", w_shape=(37, 75),
                    W=q9.astype(np.float64) * s9[:, None]))
    # W8A8 with K a multiple of 64: on a CPU with AMX-INT8 (--mcpu=native
    # there) m = 57 runs on the AMX tiles.
    q11, s11 = sym8(37, 128)
    out.append(dict(name="w8a8_k128", n=37, k=128, q=q11, s=s11, w8a8=True,
                    attrs="bits = 8 : i64", w_shape=(37, 128),
                    W=q11.astype(np.float64) * s11[:, None]))
    # W4A8: symmetric int4 groups with per-token int8 activations; a tail
    # group of 16 (K = 80), and K = 300 with groups of 128 (a last group of
    # 44 that ends inside an 8-k word); N = 120 and 80 (eight and five
    # panels).
    # With zero points (uint4, odd K = 75: the pass quantizes symmetrically,
    # an imported model need not).
    for name, n, k, g, signed in (("w4a8_g32_tail", 37, 80, 32, True),
                                  ("w4a8_g128", 33, 300, 128, True),
                                  ("w4a8_uint4_zero_point", 21, 75, 32,
                                   False),
                                  # K and groups in whole 64-k steps: AMX
                                  # where the CPU has it.
                                  ("w4a8_g64_k256", 37, 256, 64, True),
                                  ("w4a8_uint4_g128_k128", 21, 128, 128,
                                   False),
                                  # Zero points per channel and group over
                                  # four groups, three panels (a pair and
                                  # one alone).
                                  ("w4a8_uint4_g64_k256", 37, 256, 64, False),
                                  # Eight panels, the last half full: the
                                  # decode GEMV's items of four panels two
                                  # apart (for_each_gemv_item); five: items
                                  # of three and two panels two apart.
                                  ("w4a8_g32_n120", 120, 96, 32, True),
                                  ("w4a8_g32_n80", 80, 64, 32, True),
                                  # A last group of three 8-k lines (K =
                                  # 88): AVX2 tiles take lines two at a
                                  # time, then one.
                                  ("w4a8_g32_odd_lines", 37, 88, 32, True)):
        case = int4(name, n, k, g, signed)
        case["w8a8"] = True
        out.append(case)
    # The same with zero points of 200 and more in odd groups: on AMX those
    # groups take the exact zero share, the even ones unpack less theirs.
    case = int4("w4a8_uint8_wide_zero_point", 37, 256, 64, False,
                wide_zero=True)
    case["w8a8"] = True
    out.append(case)
    # Static QDQ activations (one scale and zero point per tensor, ONNX
    # QuantizeLinear's rounding and saturation: x reaches past both ends):
    # uint8 with a zero point into int8 weights per channel (K = 75, odd);
    # int8 with a zero point into a uint8 [K, N] weight with zero points;
    # uint8 with zero point 128 (no activation zero share); int8 without one
    # into a per-tensor weight.
    q10, s10 = sym8(37, 75)
    out.append(dict(name="static_uint8_zero_point", n=37, k=75, q=q10, s=s10,
                    static=(np.array(0.0137, np.float32),
                            np.array(115, np.uint8)),
                    attrs="bits = 8 : i64", w_shape=(37, 75),
                    W=q10.astype(np.float64) * s10[:, None]))
    out.append(dict(name="static_int8_zero_point", n=19, k=64, q=qk, s=s2,
                    zp=z2, kn=True, static=(np.array(0.021, np.float32),
                                            np.array(-37, np.int8)),
                    attrs="axis = 1 : i64, bits = 8 : i64", w_shape=(64, 19),
                    W=((qk.astype(np.float64) - z2) * s2).T))
    out.append(dict(name="static_uint8_128", n=37, k=75, q=q10, s=s10,
                    static=(np.array(0.03, np.float32),
                            np.array(128, np.uint8)),
                    attrs="bits = 8 : i64", w_shape=(37, 75),
                    W=q10.astype(np.float64) * s10[:, None]))
    out.append(dict(name="static_int8_tensor", n=20, k=48, q=q3, s=s3,
                    static=(np.array(0.025, np.float32),
                            np.array(0, np.int8)),
                    attrs="bits = 8 : i64", w_shape=(20, 48),
                    W=q3.astype(np.float64) * float(s3)))
    return out


def static_qdq(x, scale, zero):
    """ONNX QuantizeLinear then DequantizeLinear, float32 quotient."""
    lo, hi = (0, 255) if zero.dtype == np.uint8 else (-128, 127)
    q = np.rint(x.astype(np.float32) / np.float32(scale))
    q = np.clip(q + float(zero), lo, hi)
    return (q - float(zero)) * float(scale)


def per_token(x):
    amax = np.abs(x).max(axis=1, keepdims=True)
    s = np.where(amax > 0, amax / np.float32(127), np.float32(1))
    s = s.astype(np.float32)
    q = np.clip(np.rint(x / s), -127, 127)
    return q.astype(np.float64) * s.astype(np.float64)


def host_has(*flags):
    """Whether /proc/cpuinfo lists every one of `flags` (False elsewhere)."""
    return set(flags) <= e2e_harness.cpu_flags()


def bf16_path(case, mcpu):
    """Whether the kernel sums this case with vdpbf16ps: symmetric int4
    with float activations and groups of whole k-octets, compiled for
    --mcpu=native on a CPU with AVX512-BF16 (which native adds with
    AVX512-VNNI; matmul_int4_bf16.h)."""
    return (case.get("bf16") and not case.get("w8a8") and mcpu == "native"
            and e2e_harness.native_takes_bf16())


def run_case(args, case, mcpu, rng):
    work = os.path.join(args.work, f"{case['name']}-{mcpu}")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "m.mlir")
    with open(src, "w") as f:
        f.write(module(case))
    kernel = subprocess.run([args.anvilc, "-q", src, "--emit=kernel",
                             "-o", "-"], capture_output=True, text=True)
    if kernel.returncode != 0:
        return f"anvilc --emit=kernel failed: {kernel.stderr.strip()}"
    launches = kernel.stdout.count('kernel.launch "matmul_quant"')
    if launches != len(MS) or '"dequantize"' in kernel.stdout:
        return (f"expected {len(MS)} matmul_quant launches and no dequantize, "
                f"got {launches}")
    if case.get("static") and ('"quantize"' in kernel.stdout or
                               kernel.stdout.count("quantize_lhs = true")
                               != len(MS)):
        return "the static activation quantization is not in the kernel"
    art = os.path.join(work, "m.anvil")
    build = subprocess.run([args.anvilc, "-q", src, f"--mcpu={mcpu}", "-o",
                            art], capture_output=True, text=True)
    if build.returncode != 0:
        return f"anvilc failed: {build.stderr.strip()}"
    xs = {}
    cmd = [args.anvil_run, art, "--threads", "2", "--output-dir", work]
    for m in MS:
        x = rng.standard_normal((m, case["k"])) * 2
        if "even_rows" in case:
            x[0::2] *= case["even_rows"]
        xs[m] = x.astype(np.float32)
    # One row in all inputs: its result must have the same bits in a
    # decode GEMV (m = 1), four small batches (on AVX-512: row 2 of 5 in a
    # five-row call, row 8 of 12 in a twelve-row call, row 11 of 16 (W8A8
    # with AMX: in both accumulator sets), row 17 of 19 in the
    # three-row call after a sixteen-row one) and prefill tiles (row 40 of
    # 48, in a second tile of 16 rows: with AMX one row block, whose W4A8
    # groups alternate accumulator tiles; row 20 of 57, a tile that
    # unpacks each group once for all of its rows; row 161 of 163, one
    # tile of 132 rows and the 31 after it, in a three-row call at row 5
    # of a packed tile of 12 rows on AVX-512; row 169 of 170, the second
    # tile's last, in a two-row call on a tile with two rows packed).
    for m in MS[1:]:
        xs[m][SHARED[m]] = xs[1][0]
    for m in MS:
        np.save(os.path.join(work, f"x{m}.npy"), xs[m])
        cmd += ["--input", f"x{m}={os.path.join(work, f'x{m}.npy')}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return f"anvil-run failed: {r.stderr.strip()}"
    ys = {m: np.load(os.path.join(work, f"y{m}.npy")) for m in MS}
    for m in MS[1:]:
        if not np.array_equal(ys[1][0], ys[m][SHARED[m]]):
            return (f"the shared row's result differs between m = 1 and "
                    f"m = {m} (row {SHARED[m]}; batch invariance)")
    for m in MS:
        y = ys[m].astype(np.float64)
        bf16 = bf16_path(case, mcpu)
        if case.get("w8a8"):
            x = per_token(xs[m])
        elif bf16:
            x = e2e_harness.round_to_bf16(xs[m])
        elif case.get("static"):
            x = static_qdq(xs[m], *case["static"])
        else:
            x = xs[m].astype(np.float64)
        ref = x @ case["W"].T
        bound = np.abs(x) @ np.abs(case["W"]).T
        tol = 1e-6 + 1e-5 * bound
        if bf16:
            # Float sums of a group's x (128 + u) and of its 136 x, each
            # term up to 143 |x| s: at most `group` roundings of 2^-24 of
            # such a sum each.
            terms = np.abs(x) @ (143.0 * case["scales"][:, :case["k"]]).T
            tol = tol + 2.0 * case["group"] * 2.0 ** -24 * terms
        if not np.all(np.isfinite(y)):
            return f"m={m}: non-finite output"
        bad = np.abs(y - ref) > tol
        if bad.any():
            i, j = np.argwhere(bad)[0]
            return (f"m={m}: y[{i},{j}] = {y[i, j]!r}, reference "
                    f"{ref[i, j]!r}, tolerance {tol[i, j]:.3g} "
                    f"({int(bad.sum())} elements off)")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(12)
    passed = failed = skipped = 0
    mcpus = ["native", "x86-64-v3", "x86-64-v2"]
    if not host_has("avx2", "fma"):
        print("skip x86-64-v3 cases: this machine has no AVX2 and FMA")
        mcpus.remove("x86-64-v3")
    for case in cases(rng):
        if "x86-64-v3" not in mcpus:
            skipped += 1
        for mcpu in mcpus:
            why = run_case(args, case, mcpu, rng)
            if why:
                failed += 1
                print(f"FAIL {case['name']} ({mcpu}): {why}")
            else:
                passed += 1
                print(f"ok   {case['name']} ({mcpu})")
    print(f"matmul-quant: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

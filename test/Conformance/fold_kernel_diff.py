#!/usr/bin/env python3
"""Differential test: every constant folder against the matching kernel.

For each case (an ONNX op, a dtype, attributes and inputs full of special
values: NaN, +-inf, -0, subnormals, INT_MIN, INT64_MIN, -1, 0, 1, huge
exponents, empty tensors) one one-node model is written twice:

  kernel  the inputs are graph inputs: compiled at -O2 and run by
          anvil-run, so the value comes from the run-time kernel;
  folded  the inputs are initializers: anvilc's folder evaluates the node
          (the model must fold to a single anvil.constant, checked on
          --emit=mlir) and the artifact returns that constant.

Inputs that the importer needs at compile time (axes, pads, shapes) are
initializers in both. All models of a run are compiled into one artifact
(exec_node_tests.build_bundle, which splits a bundle that fails to build),
one entry point per model, so the C++ compiler runs once.

Checks, per case:
  1. anvilc neither crashes nor hangs on the folded model (--timeout), and
     it folds to a constant (unless the case says the folder refuses, in
     which case it must not fold: a documented limit, e.g. the element
     budget).
  2. folded == kernel exactly: same dtype and shape, integers and bools
     equal, floats bitwise equal (-0 and +0 differ) except that any NaN
     equals any NaN.
  3. both == the reference where the spec defines the value: ONNX's
     reference implementation (onnx.reference), or a numpy function where
     Anvil follows the spec text and the reference does not (listed in
     DIFFERENCES and in docs/folding.md). Integers and bools
     exactly; floats NaN-aware with rtol 1e-6 (float32, 4e-3 float16,
     1e-12 float64) and atol 1e-30, infinities exactly. Elements whose value
     the spec leaves undefined (integer division by zero, INT_MIN / -1,
     float to int out of range) are masked out of this comparison only.

Coverage: the folders are enumerated from the sources (every
`OpFoldResult X::fold` in dialects/Anvil/*.cpp and every op derived from
Anvil_ElementwiseOp in AnvilOps.td, whose folder is generated); each must
have cases here or an entry in NOT_COVERED with the reason. A new folder
without either fails the run.

Usage (from the repo root):
    build/venv/bin/python test/Conformance/fold_kernel_diff.py -v
The last line is `fold-kernel: N cases agree, M failed`.
"""
import argparse
import concurrent.futures
import glob
import math
import os
import re
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPT_DIR)
import exec_node_tests as execution  # noqa: E402

REPO_ROOT = execution.REPO_ROOT

# Folders with no case here, and why. Everything else must be covered.
NOT_COVERED = {
    "ConstantOp": "returns its own value; nothing to compare",
    "ShapeOfOp": "no kernel: shapes are static after folding",
}

# Where Anvil's value differs from onnx.reference on purpose (the spec
# text or an undefined case); the case's reference is the numpy function.
DIFFERENCES = {
    "noop_with_empty_axes": "ReduceL1/L2/LogSum/LogSumExp with "
    "noop_with_empty_axes=1 and no axes apply their elementwise part (the "
    "spec: 'other operations will be performed'); onnx.reference returns "
    "the input unchanged (only ReduceSumSquare squares). ONNX Runtime "
    "refuses these nodes.",
    "int_pow_negative": "integer Pow with a negative exponent: numpy "
    "refuses; Anvil gives 1 / x^-e truncated: 1 for x = 1, +-1 for x = -1, "
    "0 otherwise (0 ** -e too, as integer x / 0 is 0).",
}


def enumerate_folders():
    """Names (C++ class) of the anvil ops that have a folder."""
    names = set()
    for path in glob.glob(os.path.join(REPO_ROOT, "dialects", "Anvil",
                                       "*.cpp")):
        with open(path) as f:
            names.update(re.findall(r"OpFoldResult\s+(\w+Op)::fold\b",
                                    f.read()))
    td_path = os.path.join(REPO_ROOT, "dialects", "Anvil", "AnvilOps.td")
    with open(td_path) as f:
        td = f.read()
    parents = {}
    for kind, name, parent in re.findall(
            r"^(class|def)\s+(\w+)[^:{;]*?:\s*(\w+)", td, re.M):
        parents[name] = parent

    def elementwise(name):
        seen = set()
        while name in parents and name not in seen:
            seen.add(name)
            if parents[name] == "Anvil_ElementwiseOp":
                return True
            name = parents[name]
        return False

    for kind, name in re.findall(r"^(def)\s+Anvil_(\w+Op)\b", td, re.M):
        if elementwise("Anvil_" + name):
            names.add(name)
    return names


# --- special values ------------------------------------------------------

# 1 + 2^-11 + 2^-40: rounds to 1 + 2^-10 as float16 from double, to 1.0
# through float (the kernels' conversion).
F_SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, 0.5, -2.4414673,
             2.5, -3.0, 100.0, 1e30, 2.0 ** -140, 1 + 2.0 ** -11 + 2.0 ** -40]
F16_SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, 0.5,
               -2.4414673, 2.5, -3.0, 100.0, 60000.0, 2.0 ** -20]


def fvals(dtype):
    return np.array(F16_SPECIAL if dtype == np.float16 else F_SPECIAL, dtype)


def ivals(dtype):
    info = np.iinfo(dtype)
    if info.min == 0:
        base = [0, 1, 2, 3, 7, 63, 64, info.max - 1, info.max]
    else:
        base = [info.min, info.min + 1, -7, -2, -1, 0, 1, 2, 3, 7, 63,
                info.max]
    return np.array(base, dtype)


def vals(dtype):
    dtype = np.dtype(dtype).type
    if dtype == np.bool_:
        return np.array([False, True])
    if np.issubdtype(dtype, np.floating):
        return fvals(dtype)
    return ivals(dtype)


def pairs(dtype, dtype_b=None):
    """Every special value against every other: (n,1) and (1,n)."""
    a = vals(dtype)
    b = vals(dtype_b or dtype)
    return a.reshape(-1, 1), b.reshape(1, -1)


class Case:
    def __init__(self, folder, op, inputs, attrs=None, const=(), opset=18,
                 reference="onnx", mask=None, folds=True, name=None,
                 domain="", out_dtype=None, rtol=None, kernel=True,
                 error=None, kernel_inputs=None, mlir_op=None):
        self.folder = folder          # the anvil op whose folder it checks
        self.op = op
        self.inputs = inputs          # [(name, array)]
        self.attrs = attrs or {}
        self.const = set(const)       # inputs compiled in on both paths
        self.opset = opset
        self.reference = reference    # "onnx", a function(*arrays), or None
        self.mask = mask              # function(*arrays) -> defined elements
        self.folds = folds            # False: the folder must refuse
        self.domain = domain
        self.rtol = rtol              # a looser tolerance, with its reason
        self.error = error            # anvilc must refuse with this text
        # Inputs of the kernel model when they differ (Range: a longer range
        # past the fold budget, so the kernel runs; the folded output must
        # equal its prefix).
        self.kernel_inputs = kernel_inputs
        # An anvil op no ONNX op imports to (built by fusions), given as an
        # anvil-dialect module instead of an ONNX model.
        self.mlir_op = mlir_op
        self.kernel = kernel and not error  # False: only the fold checked
        # (outputs too big to run: the folder must refuse them quickly)
        self.out_dtype = out_dtype    # the spec's output type, if the
        # reference computes in another (onnx.reference sums int32 as int64)
        self.name = name
        self.problem = None
        self.kernel_out = self.folded = self.expected = None


def divisor_defined(a, b):
    """Integer division: undefined by 0 and for INT_MIN / -1."""
    b_ = np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape))
    a_ = np.broadcast_to(a, b_.shape)
    return (b_ != 0) & ~((a_ == np.iinfo(a.dtype).min) & (b_ == -1)) \
        if np.issubdtype(a.dtype, np.signedinteger) else (b_ != 0)


def int_div(a, b):
    """Integer division truncating toward zero, exactly; 0 where the
    divisor is 0 (masked out anyway)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    a_ = np.broadcast_to(a, shape).ravel().tolist()
    b_ = np.broadcast_to(b, shape).ravel().tolist()
    out = []
    for x, y in zip(a_, b_):
        q = 0 if y == 0 else abs(x) // abs(y) * (1 if (x < 0) == (y < 0)
                                                 else -1)
        out.append(q)
    width = a.dtype.itemsize * 8
    signed = np.issubdtype(a.dtype, np.signedinteger)
    half, full = 1 << (width - 1), 1 << width
    wrapped = [(q + half) % full - half if signed else q % full for q in out]
    return np.array(wrapped, dtype=object).astype(a.dtype).reshape(shape)


def int_pow(a, b):
    """Exact wrapping integer power; negative exponents as Anvil defines."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    a_ = np.broadcast_to(a, shape).astype(np.int64).ravel()
    b_ = np.broadcast_to(b, shape).astype(np.int64).ravel()
    width = a.dtype.itemsize * 8
    out = []
    for x, e in zip(a_.tolist(), b_.tolist()):
        if e < 0:
            r = 1 if x == 1 else (-1 if e % 2 else 1) if x == -1 else 0
        else:
            r = pow(x, e, 1 << width)
        r &= (1 << width) - 1
        out.append(r - (1 << width) if r >= 1 << (width - 1) else r)
    return np.array(out, np.int64).astype(a.dtype).reshape(shape)


def cases():
    out = []
    F = [np.float32, np.float64, np.float16]
    I = [np.int32, np.int64]

    def binary(folder, op, dtypes, **kw):
        for dt in dtypes:
            a, b = pairs(dt)
            out.append(Case(folder, op, [("a", a), ("b", b)],
                            name=f"{op}_{np.dtype(dt).name}", **kw))

    binary("AddOp", "Add", F + I + [np.uint8, np.int8])
    binary("SubOp", "Sub", F + I + [np.uint8])
    binary("MulOp", "Mul", F + I + [np.uint8])
    binary("DivOp", "Div", F)
    # onnx.reference divides integers in float64 (inexact past 2^53).
    binary("DivOp", "Div", I + [np.uint8, np.int8], mask=divisor_defined,
           reference=int_div)
    binary("MaxOp", "Max", F + I + [np.uint8, np.uint64])
    binary("MinOp", "Min", F + I + [np.uint8, np.uint64])
    binary("ModOp", "Mod", I + [np.int8, np.uint8], mask=divisor_defined)
    binary("ModOp", "Mod", F + I, attrs={"fmod": 1}, mask=divisor_defined)
    for dt in F:
        a, b = pairs(dt)
        out.append(Case("PowOp", "Pow", [("a", a), ("b", b)],
                        name=f"Pow_{np.dtype(dt).name}"))
    # Integer powers: exact and wrapping, huge exponents included.
    for dt in I:
        a = vals(dt).reshape(-1, 1)
        huge = 100000000000 if dt == np.int64 else 1000000007
        e = np.array([0, 1, 2, 3, 31, 62, 63, 64, huge,
                      np.iinfo(dt).max], dt).reshape(1, -1)
        out.append(Case("PowOp", "Pow", [("a", a), ("b", e)],
                        reference=int_pow, name=f"Pow_{np.dtype(dt).name}"))
        en = np.array([-1, -2, -3, np.iinfo(dt).min], dt).reshape(1, -1)
        out.append(Case("PowOp", "Pow", [("a", a), ("b", en)],
                        reference=int_pow,
                        name=f"Pow_{np.dtype(dt).name}_negative_exponent"))
    out.append(Case("PowOp", "Pow", [
        ("a", np.array([1], np.int64)),
        ("b", np.array([100000000000], np.int64))],
        reference=int_pow, name="Pow_one_to_1e11"))
    # Mixed: int exponent on a float base, float exponent on an int base.
    out.append(Case("PowOp", "Pow", [
        ("a", fvals(np.float32).reshape(-1, 1)),
        ("b", np.array([-3, -1, 0, 1, 2, 3, 127], np.int64).reshape(1, -1))],
        name="Pow_float32_int64"))
    out.append(Case("PowOp", "Pow", [
        ("a", np.array([-3, -1, 0, 1, 2, 10], np.int64).reshape(-1, 1)),
        ("b", np.array([0.0, 0.5, 1.0, 2.0, 3.0], np.float32).reshape(1, -1))],
        mask=lambda a, b: np.broadcast_to(b == np.round(b) , (6, 5)) &
        np.broadcast_to(a >= 0, (6, 5)),
        name="Pow_int64_float32"))
    for op in ["And", "Or", "Xor"]:
        binary(op + "Op", op, [np.bool_])
    for dt in [np.uint8, np.uint32, np.uint64]:
        a = vals(dt).reshape(-1, 1)
        s = np.array([0, 1, 7, 8, 31, 32, 63, 64, 200], dt).reshape(1, -1)
        for left in (True, False):
            d = "LEFT" if left else "RIGHT"
            out.append(Case(
                "BitShiftOp", "BitShift", [("a", a), ("b", s)],
                attrs={"direction": d},
                # numpy shifts by >= the width modulo the width; ONNX's
                # text leaves them open and Anvil gives 0.
                mask=lambda a, b: np.broadcast_to(
                    b < a.dtype.itemsize * 8, np.broadcast_shapes(
                        a.shape, b.shape)),
                name=f"BitShift_{d}_{np.dtype(dt).name}"))
    for op in ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]:
        binary("CompareOp", op, [np.float32, np.int64, np.uint8])

    def unary(folder, op, dtypes, name_suffix="", data=None, **kw):
        for dt in dtypes:
            x = vals(dt) if data is None else data
            out.append(Case(folder, op, [("x", x)],
                            name=f"{op}_{np.dtype(dt).name}{name_suffix}",
                            **kw))

    unary("NegOp", "Neg", F + I + [np.int8])
    unary("AbsOp", "Abs", F + I + [np.int8, np.uint8])
    unary("SignOp", "Sign", F + I + [np.uint8])
    for op in ["Sqrt", "Exp", "Log", "Tanh", "Sin", "Cos", "Atan",
               "Floor", "Ceil", "Round", "Sigmoid", "Reciprocal"]:
        unary(op + "Op", op, F)
    # onnx.reference computes erf in float32 whatever the type: float64
    # against math.erf.
    erf64 = np.vectorize(math.erf, otypes=[np.float64])
    unary("ErfOp", "Erf", [np.float32, np.float16])
    unary("ErfOp", "Erf", [np.float64], reference=erf64)
    # Inverse functions (payloads over atan2, log1p, sqrt and log; NaN
    # outside the domain, +-inf at the poles).
    for op in ["Asin", "Acos", "Asinh", "Acosh", "Atanh"]:
        unary(op + "Op", op, F)
    # Elementwise on empty tensors.
    for op, folder in [("Add", "AddOp"), ("Mul", "MulOp")]:
        for dt in [np.float32, np.int64]:
            out.append(Case(folder, op, [("a", np.zeros((0, 3), dt)),
                                         ("b", np.ones((1, 3), dt))],
                            name=f"{op}_{np.dtype(dt).name}_empty"))
    unary("ExpOp", "Exp", [np.float32], name_suffix="_empty",
          data=np.zeros((2, 0), np.float32))
    unary("ReluOp", "Relu", F + I)
    unary("NotOp", "Not", [np.bool_])
    unary("LeakyReluOp", "LeakyRelu", F, attrs={"alpha": 0.1})
    # No ONNX op imports to these (fusions build them): anvil modules.
    for dt in F:
        x64 = lambda x: x.astype(np.float64)
        out.append(Case("SiluOp", None, [("x", vals(dt))],
                        mlir_op="anvil.silu",
                        reference=lambda x: (x64(x) / (1 + np.exp(-x64(x))))
                        .astype(x.dtype), name=f"Silu_{np.dtype(dt).name}"))
        out.append(Case("RsqrtOp", None, [("x", vals(dt))],
                        mlir_op="anvil.rsqrt",
                        reference=lambda x: (1 / np.sqrt(x64(x)))
                        .astype(x.dtype),
                        name=f"Rsqrt_{np.dtype(dt).name}"))
    unary("GeluOp", "Gelu", [np.float32], opset=20)
    unary("GeluOp", "Gelu", [np.float64], opset=20,
          reference=lambda x: 0.5 * x * (1 + erf64(x / math.sqrt(2))))
    # tanh form: 1 + tanh(...) cancels for negative x (at -3, 1 + tanh is
    # 0.0024: ~9 bits lost in float32), so float32 is checked to 1e-4
    # against a float64 evaluation.
    unary("GeluOp", "Gelu", [np.float32], opset=20, rtol=1e-4,
          attrs={"approximate": "tanh"},
          reference=lambda x: (0.5 * x.astype(np.float64) * (1 + np.tanh(
              math.sqrt(2 / math.pi) * (x.astype(np.float64) + 0.044715 *
                                        x.astype(np.float64) ** 3))))
          .astype(np.float32))
    for dt in F + I:
        v = vals(dt)
        lo, hi = (np.array(-2.5, dt), np.array(3.0, dt)) \
            if np.issubdtype(dt, np.floating) else \
            (np.array(-2, dt), np.array(7, dt))
        out.append(Case("ClipOp", "Clip", [("x", v), ("lo", lo),
                                           ("hi", hi)],
                        const={"lo", "hi"}, name=f"Clip_{np.dtype(dt).name}"))
    for dt in [np.float32, np.int64]:
        a, b = pairs(dt)
        cond = (np.arange(a.size * b.size).reshape(a.size, b.size) % 3) == 0
        out.append(Case("WhereOp", "Where", [("c", cond), ("a", a),
                                             ("b", b)],
                        name=f"Where_{np.dtype(dt).name}"))
    # Cast: every pair of these types; float to int out of range (and NaN)
    # is undefined by the spec, so masked.
    types = [np.float32, np.float64, np.float16, np.int64, np.int32,
             np.int8, np.uint8, np.uint64, np.bool_]
    for src in types:
        for dst in types:
            if src == dst:
                continue
            x = vals(src)

            def cast_mask(x, dst=dst):
                if not np.issubdtype(x.dtype, np.floating) or \
                        not np.issubdtype(dst, np.integer):
                    if np.issubdtype(x.dtype, np.integer) and \
                            dst == np.float16:
                        return np.abs(x.astype(np.float64)) < 65504
                    return np.ones(x.shape, bool)
                info = np.iinfo(dst)
                with np.errstate(invalid="ignore"):
                    return np.isfinite(x) & (np.trunc(x) >= info.min) & \
                        (np.trunc(x) <= info.max) & \
                        (np.abs(x.astype(np.float64)) < 2.0 ** 52)
            out.append(Case("CastOp", "Cast", [("x", x)],
                            attrs={"to": helper.np_dtype_to_tensor_dtype(
                                np.dtype(dst))},
                            mask=cast_mask,
                            name=f"Cast_{np.dtype(src).name}_to_"
                                 f"{np.dtype(dst).name}"))

    # --- reductions --------------------------------------------------------
    kinds = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
             "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
             "ReduceLogSumExp"]
    rng = np.random.default_rng(9)
    for op in kinds + ["ReduceLogSum"]:
        folder = "LogOp" if op == "ReduceLogSum" else "ReduceOp"
        for dt in [np.float32, np.float64, np.float16, np.int64, np.int32]:
            if np.issubdtype(dt, np.integer) and op in (
                    "ReduceLogSumExp", "ReduceLogSum", "ReduceMean",
                    "ReduceL2"):
                continue  # float results; not folded for integers
            if np.issubdtype(dt, np.floating):
                x = vals(dt)[:12].reshape(3, 4)
                y = rng.standard_normal((3, 4, 5)).astype(dt) * 3
                pos = np.abs(y) + 0.5
            else:
                x = vals(dt)[:12].reshape(3, 4)
                y = rng.integers(-50, 50, (3, 4, 5)).astype(dt)
                pos = np.abs(y) + 1
            data = pos if op == "ReduceLogSum" else y
            n = np.dtype(dt).name
            mk = lambda inputs, axes=None, **kw: Case(
                folder, op, inputs + ([("axes", np.array(axes, np.int64))]
                                      if axes is not None else []),
                const={"axes"}, out_dtype=dt, **kw)
            out.append(mk([("x", data)], name=f"{op}_{n}_all"))
            out.append(mk([("x", data)], axes=[1], attrs={"keepdims": 0},
                          name=f"{op}_{n}_axis1"))
            out.append(mk([("x", data)], axes=[0, 2],
                          name=f"{op}_{n}_axes02"))
            if op != "ReduceLogSum":
                out.append(mk([("x", x)], axes=[1],
                              name=f"{op}_{n}_special"))
                # NaN and -0 last as well as first (std::max would drop a
                # NaN that comes second).
                out.append(mk([("x", x[:, ::-1].copy())], axes=[1],
                              name=f"{op}_{n}_special_reversed"))
                out.append(mk([("x", x.T.copy())], axes=[0],
                              name=f"{op}_{n}_special_columns"))
            # Empty inputs: an empty set reduces to the identity.
            empty = np.zeros((0, 3), dt)
            identity_ok = not (np.issubdtype(dt, np.integer) and
                               op in ("ReduceMax", "ReduceMin"))
            out.append(mk([("x", empty)], axes=[0], folds=identity_ok,
                          name=f"{op}_{n}_empty_in"))
            out.append(mk([("x", empty)], axes=[1], attrs={"keepdims": 0},
                          name=f"{op}_{n}_empty_out"))
            # noop_with_empty_axes: the elementwise part only.
            spec = {
                "ReduceL1": np.abs, "ReduceL2": lambda v: np.sqrt(
                    v.astype(np.float64) ** 2).astype(v.dtype),
                "ReduceLogSum": np.log,
                "ReduceLogSumExp": lambda v: v,
            }.get(op, "onnx")
            noop_input = pos if op == "ReduceLogSum" else \
                (vals(dt) if np.issubdtype(dt, np.floating) else x)
            out.append(Case(folder, op, [("x", noop_input)],
                            attrs={"noop_with_empty_axes": 1}, out_dtype=dt,
                            reference=spec, name=f"{op}_{n}_noop"))
    out.append(Case("ReduceOp", "ReduceSumSquare", [
        ("x", np.array([-2.4414673], np.float32))],
        attrs={"noop_with_empty_axes": 1}, name="ReduceSumSquare_issue"))

    for op, folder in [("ArgMax", "ArgMaxOp"), ("ArgMin", "ArgMinOp")]:
        for dt in [np.float32, np.int64]:
            x = vals(dt)[:12].reshape(3, 4)
            t = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [5, 1, 5, 1]], dt)
            for last in (0, 1):
                for axis in (0, 1):
                    for name, data in [("special", x), ("ties", t)]:
                        out.append(Case(folder, op, [("x", data)],
                                        attrs={"axis": axis,
                                               "select_last_index": last},
                                        name=f"{op}_{np.dtype(dt).name}_"
                                             f"{name}_a{axis}_l{last}"))
    for dt in [np.float32, np.float64, np.float16, np.int32, np.int64]:
        x = np.array([[1e8, 1.0, -1e8, 0.5, 3.0], [-0.0, np.nan, 1.0, 2.0,
                                                   np.inf]]) \
            if np.issubdtype(dt, np.floating) else \
            np.stack([ivals(dt)[:5], ivals(dt)[-5:]])
        for excl in (0, 1):
            for rev in (0, 1):
                out.append(Case("CumSumOp", "CumSum", [
                    ("x", x.astype(dt)), ("axis", np.array(1, np.int64))],
                    const={"axis"}, attrs={"exclusive": excl, "reverse": rev},
                    name=f"CumSum_{np.dtype(dt).name}_e{excl}_r{rev}"))
    for op in ["Softmax", "LogSoftmax"]:
        for dt in [np.float32, np.float64]:
            x = np.array([[1.0, 2.0, 3.0, -1e30], [0.0, -np.inf, 1.0, 2.0],
                          [np.inf, 1.0, 0.0, 0.0], [np.nan, 1.0, 2.0, 3.0],
                          [-np.inf, -np.inf, -np.inf, -np.inf]], dt)
            # onnx.reference takes log(softmax): -inf where the exact
            # value is -1e30; float64 x - max - log(sum(exp(x - max))).
            def log_softmax(x):
                x64 = x.astype(np.float64)
                with np.errstate(invalid="ignore"):
                    m = x64.max(axis=-1, keepdims=True)
                    r = x64 - m - np.log(np.exp(x64 - m).sum(
                        axis=-1, keepdims=True))
                return r.astype(x.dtype)
            out.append(Case("SoftmaxOp", op, [("x", x)],
                            reference=log_softmax if op == "LogSoftmax"
                            else "onnx",
                            name=f"{op}_{np.dtype(dt).name}"))
    for dt in [np.float32, np.float64, np.int32, np.int64]:
        a = (rng.standard_normal((2, 3, 5)) * 4).astype(dt)
        b = (rng.standard_normal((5, 4)) * 4).astype(dt)
        # Float products are not folded (the kernel's summation order and
        # FMA contraction are the C++ compiler's): the folder must refuse.
        floating = np.issubdtype(dt, np.floating)
        out.append(Case("MatmulOp", "MatMul", [("a", a), ("b", b)],
                        folds=not floating, kernel=not floating,
                        name=f"MatMul_{np.dtype(dt).name}"))
    ii = ivals(np.int64)[:6].reshape(2, 3)
    out.append(Case("MatmulOp", "MatMul", [("a", ii), ("b", ii.T.copy())],
                    name="MatMul_int64_wrap"))

    # --- quantization: rounding half to even, zero point, saturation -----
    # onnx.reference casts rint(x / scale) to int32 before saturating, so
    # +-inf and 1e30 wrap to INT_MIN there; the spec (and ONNX Runtime)
    # saturate. The scales are powers of two: x / scale is exact in any
    # float type, so float64 is a faithful reference.
    def quantize_ref(axis):
        def ref(x, s, z):
            shape = [1] * x.ndim
            if s.ndim:
                shape[axis] = -1
            q = np.rint(x.astype(np.float64) / s.astype(np.float64)
                        .reshape(shape)) + z.astype(np.float64).reshape(shape)
            info = np.iinfo(z.dtype)
            with np.errstate(invalid="ignore"):
                return np.nan_to_num(np.clip(q, info.min, info.max),
                                     nan=0).astype(z.dtype)
        return ref

    for xdt in [np.float32, np.float16, np.float64]:
        for qdt in [np.int8, np.uint8, np.int16]:
            xq = fvals(xdt)
            qn = f"{np.dtype(xdt).name}_{np.dtype(qdt).name}"
            scale = np.array(0.25, xdt)
            zp = np.array(3 if qdt != np.int16 else -300, qdt)
            out.append(Case(
                "QuantizeOp", "QuantizeLinear",
                [("x", xq), ("s", scale), ("z", zp)], const={"s", "z"},
                opset=21, reference=quantize_ref(1),
                # The spec leaves NaN's quantized value open.
                mask=lambda x, s, z: ~np.isnan(x.astype(np.float64)),
                name=f"QuantizeLinear_{qn}"))
            # Per axis, with exact halves (2.5, -0.5) to round to even.
            xa = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) \
                .astype(xdt)
            out.append(Case(
                "QuantizeOp", "QuantizeLinear",
                [("x", xa), ("s", np.array([1.0, 0.5, 2.0, 4.0], xdt)),
                 ("z", np.array([0, 1, -1 if qdt != np.uint8 else 2, 5],
                                qdt))],
                const={"s", "z"}, attrs={"axis": 1}, opset=21,
                reference=quantize_ref(1),
                name=f"QuantizeLinear_{qn}_per_axis"))

    # --- data movement (bitwise: any difference is a bug) ------------------
    x = fvals(np.float32)[:12].reshape(3, 4)
    xi = ivals(np.int64)[:12].reshape(3, 4)
    for data, n in [(x, "f32"), (xi, "i64")]:
        out.append(Case("TransposeOp", "Transpose", [("x", data)],
                        name=f"Transpose_{n}"))
        out.append(Case("ConcatOp", "Concat", [("a", data), ("b", data[:1])],
                        attrs={"axis": 0}, name=f"Concat_{n}"))
        out.append(Case("ConcatOp", "Concat", [
            ("a", data), ("b", np.zeros((3, 0), data.dtype))],
            attrs={"axis": 1}, name=f"Concat_{n}_empty"))
        out.append(Case("SliceOp", "Slice", [
            ("x", data), ("s", np.array([2, -1], np.int64)),
            ("e", np.array([-100, -100], np.int64)),
            ("ax", np.array([0, 1], np.int64)),
            ("st", np.array([-1, -2], np.int64))],
            const={"s", "e", "ax", "st"}, name=f"Slice_{n}_negative"))
        out.append(Case("GatherOp", "Gather", [
            ("x", data), ("i", np.array([[-1, 0], [2, 1]], np.int64))],
            attrs={"axis": 1}, name=f"Gather_{n}"))
        out.append(Case("GatherElementsOp", "GatherElements", [
            ("x", data), ("i", np.array([[0, -1, 2, 0]] * 3, np.int64))],
            attrs={"axis": 0}, name=f"GatherElements_{n}"))
        out.append(Case("GatherNdOp", "GatherND", [
            ("x", data), ("i", np.array([[2, -1], [0, 0], [-3, 3]],
                                        np.int64))],
            name=f"GatherND_{n}"))
        out.append(Case("GatherNdOp", "GatherND", [
            ("x", data), ("i", np.array([[-1], [1], [0]], np.int64))],
            attrs={"batch_dims": 1}, name=f"GatherND_{n}_batch"))
        for upper, k in [(1, 0), (1, 2), (0, -1), (0, 1), (1, -5)]:
            out.append(Case("TriluOp", "Trilu", [
                ("x", data), ("k", np.array(k, np.int64))],
                const={"k"}, attrs={"upper": upper}, opset=14,
                name=f"Trilu_{n}_{'upper' if upper else 'lower'}_{k if k >= 0 else 'm' + str(-k)}"))
        out.append(Case("ScatterNdOp", "ScatterND", [
            ("x", data), ("i", np.array([[2], [-3]], np.int64)),
            ("u", data[:2][::-1].copy())],
            name=f"ScatterND_{n}_rows"))
        out.append(Case("ScatterNdOp", "ScatterND", [
            ("x", data), ("i", np.array([[1, 3], [0, -1], [2, 0]], np.int64)),
            ("u", data[0, :3].copy())],
            name=f"ScatterND_{n}_elements"))
        out.append(Case("ScatterElementsOp", "ScatterElements", [
            ("x", data), ("i", np.array([[1, -1], [0, 2], [3, 3]], np.int64)),
            ("u", data[:, 2:][::-1].copy())],
            attrs={"axis": 1}, name=f"ScatterElements_{n}"))
        # A reduction does not fold (the kernel combines the duplicates).
        out.append(Case("ScatterElementsOp", "ScatterElements", [
            ("x", data), ("i", np.array([[1, 1], [0, 2], [3, 3]], np.int64)),
            ("u", data[:, 2:].copy())],
            attrs={"axis": 1, "reduction": "add"}, folds=False,
            name=f"ScatterElements_{n}_add"))
        for mode in ["constant", "edge", "reflect", "wrap"]:
            out.append(Case("PadOp", "Pad", [
                ("x", data), ("p", np.array([1, 2, 2, 1], np.int64))],
                const={"p"}, attrs={"mode": mode}, opset=19,
                name=f"Pad_{n}_{mode}"))
        out.append(Case("TileOp", "Tile", [
            ("x", data), ("r", np.array([2, 3], np.int64))],
            const={"r"}, name=f"Tile_{n}"))
        out.append(Case("ExpandOp", "Expand", [
            ("x", data[:, :1]), ("s", np.array([2, 3, 4], np.int64))],
            const={"s"}, name=f"Expand_{n}"))
        out.append(Case("UnsqueezeOp", "Unsqueeze", [
            ("x", data), ("a", np.array([0, 3], np.int64))],
            const={"a"}, name=f"Unsqueeze_{n}"))
        out.append(Case("SqueezeOp", "Squeeze", [
            ("x", data[:1]), ("a", np.array([0], np.int64))],
            const={"a"}, name=f"Squeeze_{n}"))
        out.append(Case("FlattenOp", "Flatten", [("x", data.reshape(3, 2, 2))],
                        attrs={"axis": 2}, name=f"Flatten_{n}"))
        out.append(Case("ReshapeOp", "Reshape", [
            ("x", data), ("s", np.array([0, 2, -1], np.int64))],
            const={"s"}, name=f"Reshape_{n}"))
    out.append(Case("PadOp", "Pad", [
        ("x", xi), ("p", np.array([1, 1, 1, 1], np.int64)),
        ("v", np.array(-9, np.int64))],
        const={"p", "v"}, name="Pad_i64_value", opset=19))
    # Range's size is its inputs' values: the kernel model computes a longer
    # range (past the fold budget) whose prefix must equal the folded one.
    for start, limit, delta, dt in [
            (0, 10, 3, np.int64), (5, -7, -2, np.int32),
            (np.iinfo(np.int32).max - 20, np.iinfo(np.int32).max, 7,
             np.int32),
            (0.5, 3.0, 0.25, np.float32), (0.1, 300.0, 0.1, np.float32),
            (1.0, -2.0, -0.3, np.float64), (0.1, 40.0, 0.01, np.float64),
            (0.1, 40.0, 0.01, np.float16)]:
        long_limit = start + 5000 * delta
        if np.issubdtype(dt, np.integer):
            long_limit = int(np.clip(long_limit, np.iinfo(dt).min,
                                     np.iinfo(dt).max))
        out.append(Case("RangeOp", "Range", [
            ("s", np.array(start, dt)), ("l", np.array(limit, dt)),
            ("d", np.array(delta, dt))],
            const={"s", "l", "d"}, reference=None,
            kernel_inputs=[("s", np.array(start, dt)),
                           ("l", np.array(long_limit, dt)),
                           ("d", np.array(delta, dt))],
            name=f"Range_{np.dtype(dt).name}_{len(out)}"))
    # Outputs past the fold budget (kFoldElementLimit): the folder must
    # refuse them, quickly, without allocating them. Only the fold is
    # checked (the kernel would need gigabytes).
    big = 100000
    out.append(Case("RangeOp", "Range", [
        ("s", np.array(0, np.int64)), ("l", np.array(10 ** 12, np.int64)),
        ("d", np.array(1, np.int64))], folds=False, kernel=False,
        reference=None, name="Range_huge"))
    out.append(Case("TileOp", "Tile", [
        ("x", xi), ("r", np.array([big, big], np.int64))], folds=False,
        kernel=False, reference=None, name="Tile_huge"))
    out.append(Case("ExpandOp", "Expand", [
        ("x", xi), ("s", np.array([big, big, 3, 4], np.int64))],
        folds=False, kernel=False, reference=None, name="Expand_huge"))
    out.append(Case("PadOp", "Pad", [
        ("x", xi), ("p", np.array([big, big, big, big], np.int64))],
        folds=False, kernel=False, reference=None, name="Pad_huge"))
    out.append(Case("ConcatOp", "Concat", [
        ("a", np.zeros((2, 3000), np.int64)),
        ("b", np.zeros((2, 3000), np.int64))], attrs={"axis": 0},
        folds=False, kernel=False, reference=None, name="Concat_over_budget"))
    # Elementwise over the budget: not folded, so the constants reach the
    # kernel body, where MLIR's own arith folders must not trap either
    # (APInt srem of INT64_MIN by -1 does).
    n = 5000
    mn = np.iinfo(np.int64).min
    for op, attrs in [("Mod", {}), ("Mod", {"fmod": 1}), ("Div", {})]:
        out.append(Case(f"{op}Op", op, [
            ("a", np.full(n, mn, np.int64)), ("b", np.full(n, -1, np.int64))],
            attrs=attrs, folds=False, name=f"{op}_int64_min_over_budget",
            reference=int_div if op == "Div" else "onnx"))
    out.append(Case("PowOp", "Pow", [
        ("a", np.full(n, 1, np.int64)),
        ("b", np.full(n, 100000000000, np.int64))],
        folds=False, reference=int_pow, name="Pow_over_budget"))
    # Sizes that overflow int64 or are not finite: a clear error, never a
    # crash or a wrapped size.
    mx, mn = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for name, op, inputs, error in [
            ("Range_delta0", "Range", [np.array(0, np.int64),
                                       np.array(10, np.int64),
                                       np.array(0, np.int64)], "delta is 0"),
            ("Range_int64_span", "Range", [np.array(mn, np.int64),
                                           np.array(mx, np.int64),
                                           np.array(1, np.int64)],
             "more elements than int64"),
            ("Range_inf", "Range", [np.array(0, np.float32),
                                    np.array(np.inf, np.float32),
                                    np.array(1, np.float32)],
             "no finite element count"),
            ("Range_nan", "Range", [np.array(0, np.float32),
                                    np.array(np.nan, np.float32),
                                    np.array(1, np.float32)],
             "no finite element count"),
            ("Tile_overflow", "Tile", [np.array([1, 2], np.int64),
                                       np.array([mx], np.int64)],
             "overflows int64"),
            # Refused at compile time by every op's size limit
            # (kMaxTensorBytes), before any folder could try.
            ("Expand_overflow", "Expand", [np.array([1, 2], np.int64),
                                           np.array([mx, 2], np.int64)],
             "more than the limit of 2^48 bytes per tensor"),
            ("ConstantOfShape_overflow", "ConstantOfShape",
             [np.array([mx, mx], np.int64)],
             "more than the limit of 2^48 bytes per tensor")]:
        folder = {"Range": "RangeOp", "Tile": "TileOp", "Expand": "ExpandOp",
                  "ConstantOfShape": "FillOp"}[op]
        out.append(Case(folder, op, [(f"i{k}", v) for k, v in
                                     enumerate(inputs)],
                        reference=None, error=error, folds=False,
                        kernel=False,
                        out_dtype=np.float32 if op == "ConstantOfShape"
                        else None, name=name))
    # Integer Range near INT64_MAX: exact count (no rounding via double).
    out.append(Case("RangeOp", "Range", [
        ("s", np.array(mx - 2, np.int64)), ("l", np.array(mx, np.int64)),
        ("d", np.array(1, np.int64))], const={"s", "l", "d"},
        reference=lambda s, l, d: np.array([mx - 2, mx - 1], np.int64),
        name="Range_int64_max"))
    out.append(Case("RangeOp", "Range", [
        ("s", np.array(2 ** 62 + 1, np.int64)),
        ("l", np.array(2 ** 62 + 5, np.int64)),
        ("d", np.array(1, np.int64))], const={"s", "l", "d"},
        reference=lambda s, l, d: np.arange(2 ** 62 + 1, 2 ** 62 + 5,
                                            dtype=np.int64),
        name="Range_int64_past_2_53"))
    # A splat is one element whatever its size: ConstantOfShape folds.
    out.append(Case("FillOp", "ConstantOfShape", [
        ("s", np.array([big, big], np.int64))],
        attrs={"value": numpy_helper.from_array(np.array([1.5], np.float32))},
        kernel=False, reference=None, out_dtype=np.float32,
        name="ConstantOfShape_huge"))
    out.append(Case("FillOp", "ConstantOfShape", [
        ("s", np.array([3, 0, 2], np.int64))],
        attrs={"value": numpy_helper.from_array(np.array([7], np.int64))},
        const={"s"}, name="ConstantOfShape_empty"))

    # Cases of one op and dtype that differ in attributes: name them apart.
    seen = {}
    for case in out:
        if case.name in seen:
            attrs = "_".join(f"{k}{v}" for k, v in sorted(case.attrs.items()))
            case.name = re.sub(r"\W", "", f"{case.name}_{attrs}")
        seen[case.name] = case
    return out


# --- running ---------------------------------------------------------------

def value_info(name, array):
    return helper.make_tensor_value_info(
        name, helper.np_dtype_to_tensor_dtype(array.dtype), list(array.shape))


MLIR_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
              np.dtype(np.float16): "f16"}


def write_mlir_models(case, work):
    """One-op anvil modules: the input as an argument or as a constant
    (raw little-endian bytes, so every bit is as given)."""
    (name, array), = case.inputs
    t = f"tensor<{'x'.join(map(str, array.shape))}x{MLIR_TYPES[array.dtype]}>"
    body = (f"    %0 = {case.mlir_op} %x : ({t}) -> {t}\n"
            f"    return %0 : {t}\n  }}\n}}\n")
    case.paths = {}
    for variant in ("kernel", "folded"):
        # A module's entry point is its function's name, bundled or not.
        stem = f"{case.name}__{variant}"
        if variant == "kernel":
            head = (f"module {{\n  func.func @{stem}(%x: {t} {{anvil.name = "
                    f"\"{name}\"}}) -> ({t} {{anvil.name = \"y\"}}) {{\n")
        else:
            head = (f"module {{\n  func.func @{stem}() -> ({t} {{anvil.name = "
                    f"\"y\"}}) {{\n    %x = anvil.constant dense<\"0x"
                    f"{array.tobytes().hex().upper()}\"> : {t}\n")
        path = os.path.join(work, f"{case.name}__{variant}.mlir")
        with open(path, "w") as f:
            f.write(head + body)
        case.paths[variant] = path
    p = os.path.join(work, f"{case.name}.{name}.npy")
    np.save(p, array)
    case.run_inputs = [(name, p)]


def write_models(case, work):
    if case.mlir_op:
        return write_mlir_models(case, work)
    node = helper.make_node(case.op, [n for n, _ in case.inputs], ["y"],
                            **case.attrs)
    out_type = helper.np_dtype_to_tensor_dtype(case.expected_dtype)
    output = helper.make_tensor_value_info("y", out_type, None)
    opsets = [helper.make_opsetid("", case.opset)]
    paths = {}
    for variant in ("kernel", "folded"):
        inputs, inits = [], []
        given = case.kernel_inputs if variant == "kernel" and \
            case.kernel_inputs else case.inputs
        for name, array in given:
            if variant == "folded" or name in case.const:
                inits.append(numpy_helper.from_array(array, name))
            else:
                inputs.append(value_info(name, array))
        graph = helper.make_graph([node], case.name, inputs, [output],
                                  initializer=inits)
        model = helper.make_model(graph, opset_imports=opsets)
        path = os.path.join(work, f"{case.name}__{variant}.onnx")
        onnx.save(model, path)
        paths[variant] = path
        if variant == "kernel":
            case.run_inputs = []
            for name, array in case.inputs:
                if name in case.const:
                    continue
                p = os.path.join(work, f"{case.name}.{name}.npy")
                np.save(p, array)
                case.run_inputs.append((name, p))
    case.paths = paths


def reference(case):
    arrays = [a for _, a in case.inputs]
    if callable(case.reference):
        return np.asarray(case.reference(*arrays))
    result = reference_run(case)
    if case.out_dtype is not None:
        result = result.astype(case.out_dtype)
    return result


def reference_run(case):
    node = helper.make_node(case.op, [n for n, _ in case.inputs], ["y"],
                            **case.attrs)
    graph = helper.make_graph(
        [node], "g", [value_info(n, a) for n, a in case.inputs],
        [helper.make_tensor_value_info("y", onnx.TensorProto.UNDEFINED,
                                       None)])
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", case.opset)])
    with np.errstate(all="ignore"):
        return ReferenceEvaluator(model).run(
            None, {n: a for n, a in case.inputs})[0]


def bits_equal(a, b):
    """Exact: same dtype, shape and values; floats bitwise, NaN == NaN."""
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    if a.shape != b.shape:
        return f"shape {list(a.shape)} vs {list(b.shape)}"
    if a.dtype.kind == "f":
        na, nb = np.isnan(a), np.isnan(b)
        u = np.dtype(f"u{a.dtype.itemsize}")
        same = (na & nb) | (~na & ~nb & (a.view(u) == b.view(u)))
    else:
        same = a == b
    if not same.all():
        i = np.argwhere(~same)[0]
        return (f"{int((~same).sum())} of {a.size} differ, first at "
                f"{tuple(int(k) for k in i)}: {a[tuple(i)]!r} vs "
                f"{b[tuple(i)]!r}")
    return None


RTOL = {np.dtype(np.float16): 4e-3, np.dtype(np.float32): 1e-6,
        np.dtype(np.float64): 1e-12}


def near(got, expected, mask, rtol=None):
    """Against the reference, on the elements the spec defines."""
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype}, reference {expected.dtype}"
    if got.shape != expected.shape:
        return f"shape {list(got.shape)}, reference {list(expected.shape)}"
    m = np.ones(got.shape, bool) if mask is None else \
        np.broadcast_to(mask, got.shape)
    g, e = got[m], expected[m]
    if got.dtype.kind == "f":
        g64, e64 = g.astype(np.float64), e.astype(np.float64)
        ng, ne = np.isnan(g64), np.isnan(e64)
        tolerance = 1e-30 + (rtol or RTOL[got.dtype]) * np.abs(e64)
        with np.errstate(invalid="ignore"):
            ok = (ng & ne) | (~ng & ~ne & (
                (g64 == e64) | (np.isfinite(e64) &
                                (np.abs(g64 - e64) <= tolerance))))
    else:
        ok = g == e
    if not ok.all():
        i = int(np.argwhere(~ok)[0][0])
        return (f"{int((~ok).sum())} of {ok.size} off the reference, e.g. "
                f"{g[i]!r} vs {e[i]!r}")
    return None


def folds_completely(case, anvilc, timeout):
    """(ok, problem): the folded model must compile to a constant."""
    rc, stderr = execution.run(
        [anvilc, "-q", "-O2", "--emit=mlir", "-o", case.paths["folded"] +
         ".mlir", case.paths["folded"]], timeout)
    if case.error:
        # A clear error, not a crash (rc < 0 is a signal or the timeout).
        if rc == 1 and case.error in stderr:
            return case.folds, None
        return not case.folds, (f"expected the error '{case.error}', got "
                                f"rc {rc}: {stderr.strip()[:160]}")
    if rc != 0:
        return False, (f"anvilc failed on the folded model (rc {rc}): "
                       f"{execution.first_error(stderr)}")
    with open(case.paths["folded"] + ".mlir") as f:
        ops = re.findall(r"=\s*(anvil\.\w+)", f.read())
    return all(op == "anvil.constant" for op in ops), None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    default = os.path.join(REPO_ROOT, "build", "bin")
    parser.add_argument("--anvilc", default=os.path.join(default, "anvilc"))
    parser.add_argument("--anvil-run",
                        default=os.path.join(default, "anvil-run"))
    parser.add_argument("--filter", default="", help="regex on case names")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=60,
                        help="seconds per anvilc or anvil-run call; the "
                        "folded model's compile must finish within it")
    parser.add_argument("--bundle", type=int, default=400)
    parser.add_argument("--work", help="keep models and artifacts here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    # The references meet NaN, inf and overflow on purpose.
    warnings.simplefilter("ignore", RuntimeWarning)
    anvilc = shutil.which(args.anvilc) or args.anvilc
    anvil_run = shutil.which(args.anvil_run) or args.anvil_run
    start = time.time()

    all_cases = cases()
    failures = []
    folders = enumerate_folders()
    covered = {c.folder for c in all_cases}
    for name in sorted(folders - covered - set(NOT_COVERED)):
        failures.append(f"COVERAGE: {name} has a folder but no case here "
                        "(add cases, or a reason in NOT_COVERED)")
    for name in sorted(set(NOT_COVERED) - folders):
        failures.append(f"COVERAGE: NOT_COVERED lists {name}, which has "
                        "no folder")
    selected = [c for c in all_cases if re.search(args.filter, c.name)]
    names = [c.name for c in selected]
    assert len(set(names)) == len(names), "duplicate case names"

    work = args.work or tempfile.mkdtemp(prefix="anvil-foldkernel-")
    os.makedirs(work, exist_ok=True)
    try:
        for case in selected:
            if case.reference is None:
                case.expected_dtype = np.dtype(
                    case.out_dtype or case.inputs[0][1].dtype)
                write_models(case, work)
                continue
            try:
                case.expected = reference(case)
            except Exception as e:  # noqa: BLE001
                case.problem = f"reference failed: {str(e)[:120]}"
                continue
            case.expected_dtype = case.expected.dtype \
                if case.out_dtype is None else np.dtype(case.out_dtype)
            write_models(case, work)

        def fold_check(case):
            ok, problem = folds_completely(case, anvilc, args.timeout)
            if problem:
                case.problem = problem
            elif ok != case.folds:
                case.problem = ("does not fold" if case.folds else
                                "folds, but the case expects a refusal")
            return case
        ready = [c for c in selected if c.problem is None]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(fold_check, ready))

        class Entry:
            def __init__(self, case, variant):
                self.case, self.variant = case, variant
                self.model = case.paths[variant]
                self.category = self.detail = None
        entries = [Entry(c, v) for c in selected
                   if c.problem is None and c.kernel
                   for v in ("kernel", "folded")]
        chunks = [entries[i:i + args.bundle]
                  for i in range(0, len(entries), args.bundle)]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            built = list(pool.map(
                lambda ic: execution.build_bundle(
                    ic[1], os.path.join(work, f"bundle{ic[0]}.anvil"),
                    anvilc, args.timeout * 10), enumerate(chunks)))
        for entry in entries:
            if entry.category:
                entry.case.problem = (f"{entry.variant} model does not "
                                      f"build: {entry.detail}")

        def execute(job):
            artifact, entry, alone = job
            case = entry.case
            stem = os.path.splitext(os.path.basename(entry.model))[0]
            out_dir = os.path.join(work, stem + ".out")
            # A model compiled alone is entry point @main (a bundle split
            # down to one model), in a bundle @<file stem>.
            if alone and not entry.model.endswith(".mlir"):
                stem = "main"
            cmd = [anvil_run, artifact, "--entry", stem,
                   "--output-dir", out_dir]
            if entry.variant == "kernel":
                for name, path in case.run_inputs:
                    cmd += ["--input", f"{name}={path}"]
            rc, stderr = execution.run(cmd, args.timeout)
            if rc != 0:
                case.problem = (f"{entry.variant} run failed: "
                                f"{execution.first_error(stderr)}")
                return
            setattr(case, "kernel_out" if entry.variant == "kernel" else
                    "folded",
                    np.load(os.path.join(out_dir, "y.npy")))
        jobs = [(artifact, e, len(es) == 1) for group in built
                for artifact, es in group for e in es]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(execute, jobs))

        for case in selected:
            if case.problem is None and not case.kernel:
                pass  # only the fold (or its refusal) is checked
            elif case.problem is None:
                if case.kernel_inputs:
                    case.kernel_out = case.kernel_out[:case.folded.shape[0]]
                problem = bits_equal(case.folded, case.kernel_out)
                if problem:
                    case.problem = f"folded != kernel: {problem}"
            if case.problem is None and case.reference is not None and \
                    case.kernel:
                arrays = [a for _, a in case.inputs]
                mask = case.mask(*arrays) if case.mask else None
                for variant in ("kernel", "folded"):
                    got = case.kernel_out if variant == "kernel" else \
                        case.folded
                    problem = near(got, case.expected, mask, case.rtol)
                    if problem:
                        case.problem = f"{variant}: {problem}"
                        break
            if case.problem:
                failures.append(f"FAIL {case.name} ({case.folder}): "
                                f"{case.problem}")
            elif args.verbose:
                print(f"ok   {case.name}")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    for line in failures:
        print(line)
    if args.verbose:
        for key, text in DIFFERENCES.items():
            print(f"documented difference ({key}): {text}")
    agree = sum(1 for c in selected if c.problem is None)
    print(f"folders: {len(folders)}, covered {len(folders & covered)}, "
          f"documented gaps {len(folders & set(NOT_COVERED))}")
    print(f"time: {time.time() - start:.1f} s")
    print(f"fold-kernel: {agree} cases agree, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

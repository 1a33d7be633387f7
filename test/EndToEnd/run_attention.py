#!/usr/bin/env python3
"""Graph-path attention (an encoder's, a vision transformer's, a decoder
compiled without the paged executor) on random inputs, built here with
onnx.helper as exporters write it, compiled by anvilc -O2 (where
anvil-recognize-attention makes it one `attention` launch; the check
fails if it does not), run by anvil-run and compared with ONNX Runtime on
the same inputs.

The float32 kernel has two paths: a row kernel for fewer than 4 query
rows, and a blocked one (query blocks against K and V packed into the
matmul micro-kernel's panels); these models reach the blocked one's edges
with real layer sizes, which the ONNX node tests (a few rows) do not.

Models:
  attn_padded   q, k, v [2, 4, 37, 48] with BERT's additive key-padding
                mask [2, 1, 1, 37] as an input (the second sequence's last
                9 keys at -10000), the scale multiplied into the scores
  attn_causal   q, k [1, 3, 70, 40], v [1, 3, 70, 72] (value_dim !=
                head_dim, three 32-column panels), an additive causal mask
                constant [1, 1, 70, 70] (-inf above the diagonal), the
                scale divided out of the scores
  attn_gqa      q [1, 6, 50, 32], k and v [1, 2, 50, 32] repeated to 6
                heads by Unsqueeze / Expand / Reshape (grouped KV heads,
                as Llama exports spell them), no mask
  attn_rows     q [1, 4, 2, 16] against 33 keys: the row kernel
  attn_f16      the padded model in float16 (widened onto the float32
                kernel, the result rounded to float16 once); ONNX Runtime
                runs the float32 model on the same values

Tolerances: float32 |anvil - ort| <= 1e-4 + 1e-4 |ort| (dot products over
head_dim and sums over up to 70 keys of N(0, 1) values, in another order);
float16 2e-3 + 2e-3 |ref| (one float16 rounding of a float result).
Expected values come from ONNX Runtime (graph optimizations off), never
from Anvil.

Usage: run_attention.py --anvilc anvilc --anvil-run anvil-run --work DIR
       [--filter REGEX]
Prints `ok NAME` or `FAIL NAME: why` per model, then
`attention: N passed, M failed`; exits nonzero on any failure.
"""
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402


def attention_model(q_shape, k_shape, v_shape, *, mask=None, mask_input=False,
                    divide=False, repeat=1, elem=TensorProto.FLOAT):
    """Softmax(Q K^T x scale [+ mask]) V as exporters write it. `mask`: an
    array (a constant, or an input named mask with mask_input); `repeat`:
    KV heads repeated that many times (Unsqueeze, Expand, Reshape);
    `divide`: the scale as a division by sqrt(head_dim)."""
    dtype = np.float16 if elem == TensorProto.FLOAT16 else np.float32
    head_dim = q_shape[-1]
    inputs = [helper.make_tensor_value_info(n, elem, s)
              for n, s in (("q", q_shape), ("k", k_shape), ("v", v_shape))]
    inits, nodes = [], []
    k, v = "k", "v"
    if repeat > 1:
        b, heads, seq, _ = k_shape
        inits.append(numpy_helper.from_array(np.array([2], np.int64), "axis"))
        for name, dim in (("k", k_shape[-1]), ("v", v_shape[-1])):
            wide = np.array([b, heads, repeat, seq, dim], np.int64)
            flat = np.array([b, heads * repeat, seq, dim], np.int64)
            inits += [numpy_helper.from_array(wide, f"{name}_wide"),
                      numpy_helper.from_array(flat, f"{name}_flat")]
            nodes += [
                helper.make_node("Unsqueeze", [name, "axis"], [f"{name}_u"]),
                helper.make_node("Expand", [f"{name}_u", f"{name}_wide"],
                                 [f"{name}_e"]),
                helper.make_node("Reshape", [f"{name}_e", f"{name}_flat"],
                                 [f"{name}_r"]),
            ]
        k, v = "k_r", "v_r"
    scale = np.sqrt(head_dim) if divide else 1.0 / np.sqrt(head_dim)
    inits.append(numpy_helper.from_array(np.array(scale, dtype), "scale"))
    nodes += [
        helper.make_node("Transpose", [k], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Div" if divide else "Mul", ["scores", "scale"],
                         ["scaled"]),
    ]
    logits = "scaled"
    if mask is not None:
        if mask_input:
            inputs.append(helper.make_tensor_value_info("mask", elem,
                                                        list(mask.shape)))
        else:
            inits.append(numpy_helper.from_array(mask.astype(dtype), "mask"))
        nodes.append(helper.make_node("Add", ["scaled", "mask"], ["masked"]))
        logits = "masked"
    nodes += [helper.make_node("Softmax", [logits], ["weights"], axis=-1),
              helper.make_node("MatMul", ["weights", v], ["out"])]
    out_shape = list(q_shape[:-1]) + [v_shape[-1]]
    return e2e_harness.make_model(
        nodes, inputs, [helper.make_tensor_value_info("out", elem, out_shape)],
        inits)


def padding_mask(batch, seq, padded):
    mask = np.zeros((batch, 1, 1, seq), np.float32)
    mask[1, ..., seq - padded:] = -10000.0
    return mask


def randoms(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def attn_padded(rng):
    shape = [2, 4, 37, 48]
    mask = padding_mask(2, 37, 9)
    model = attention_model(shape, shape, shape, mask=mask, mask_input=True)
    return model, {"q": randoms(rng, shape), "k": randoms(rng, shape),
                   "v": randoms(rng, shape), "mask": mask}


def attn_causal(rng):
    mask = np.triu(np.full((70, 70), -np.inf, np.float32), 1)[None, None]
    model = attention_model([1, 3, 70, 40], [1, 3, 70, 40], [1, 3, 70, 72],
                            mask=mask, divide=True)
    return model, {"q": randoms(rng, [1, 3, 70, 40]),
                   "k": randoms(rng, [1, 3, 70, 40]),
                   "v": randoms(rng, [1, 3, 70, 72])}


def attn_gqa(rng):
    model = attention_model([1, 6, 50, 32], [1, 2, 50, 32], [1, 2, 50, 32],
                            repeat=3)
    return model, {"q": randoms(rng, [1, 6, 50, 32]),
                   "k": randoms(rng, [1, 2, 50, 32]),
                   "v": randoms(rng, [1, 2, 50, 32])}


def attn_rows(rng):
    model = attention_model([1, 4, 2, 16], [1, 4, 33, 16], [1, 4, 33, 16])
    return model, {"q": randoms(rng, [1, 4, 2, 16]),
                   "k": randoms(rng, [1, 4, 33, 16]),
                   "v": randoms(rng, [1, 4, 33, 16])}


def attn_f16(rng):
    shape = [2, 4, 37, 48]
    mask = padding_mask(2, 37, 9).astype(np.float16)
    model = attention_model(shape, shape, shape, mask=mask, mask_input=True,
                            elem=TensorProto.FLOAT16)
    return model, {"q": randoms(rng, shape, np.float16),
                   "k": randoms(rng, shape, np.float16),
                   "v": randoms(rng, shape, np.float16), "mask": mask}


MODELS = [attn_padded, attn_causal, attn_gqa, attn_rows, attn_f16]


def attention_launches(anvilc, work, name):
    """How many attention launches `anvilc -O2 --emit=kernel` plans for
    WORK/NAME.onnx (written by compile_and_run)."""
    return e2e_harness.kernel_program(
        anvilc, os.path.join(work, name + ".onnx")).count(
            'kernel.launch "attention"')


def check(name, model, inputs, args):
    got, error = e2e_harness.compile_and_run(
        args.anvilc, args.anvil_run, args.work, name, model, inputs,
        anvilc_flags=["-O2"])
    if error:
        return error
    launches = attention_launches(args.anvilc, args.work, name)
    if launches != 1:
        return f"{launches} attention launches at -O2, expected 1"
    is16 = name.endswith("f16")
    ort_model = e2e_harness.float32_model(model) if is16 else model
    ort_inputs = ({k: v.astype(np.float32) for k, v in inputs.items()}
                  if is16 else inputs)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(ort_model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    want = session.run(None, ort_inputs)[0]
    if is16:
        want = want.astype(np.float16)
    tolerance = (2e-3, 2e-3) if is16 else (1e-4, 1e-4)
    return e2e_harness.compare_array("out", got["out"], want, *tolerance,
                                     what="ONNX Runtime")


def main():
    return e2e_harness.run_cases("attention", MODELS, check, seed=23,
                                 description=__doc__)


if __name__ == "__main__":
    sys.exit(main())

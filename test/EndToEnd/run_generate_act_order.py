#!/usr/bin/env python3
"""MatMulNBits' act-order g_idx and float zero points in a paged decoder.

The ONNX Runtime GenAI builder's int4 decoders of models/zoo-current
(qwen2-genai-int4, phi3-genai-int4) are rewritten into forms that compute
exactly the same weights, W[n, k] = (q[n, k] - zp[n, g(k)]) * s[n, g(k)]:

  act_order  every MatMulNBits gets a g_idx that renames its blocks by a
             random permutation sigma (the same one for the matmuls that
             share an input, as GPTQ's act-order shares a column order):
             g_idx[k] = sigma(k / block_size), scales (and zero points)
             moved to column sigma(b). q is unchanged, so the importer must
             sort K by block (a gather of the activations, B's values
             permuted at compile time) to find the blocks again.
  float_zp   the default zero point 8 given explicitly as float zero
             points [N * k_blocks] (the importer's default-zero-point-plus-
             correction form; the correction is zero here).

Each variant is compiled to the paged step function (`anvilc -q
--kv-cache=paged --max-context=128`, the paged-KV rewrite must take the
gather), every MatMulNBits must run on matmul_quant (`--emit=kernel`), and
`anvil-run generate` (32 greedy tokens, --ignore-eos) must give exactly
the manifest's ONNX Runtime continuation of the original model (its
reference, not Anvil's: the rewritten weights are the original ones).

Usage: run_generate_act_order.py --anvilc anvilc --anvil-run anvil-run
                                 --work DIR --models models/zoo-current
Prints `ok MODEL VARIANT` or `FAIL MODEL VARIANT: why`, then a summary.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import zoo_models  # noqa: E402
from generate_json import generate_json  # noqa: E402

MODELS = ("qwen2-genai-int4.onnx", "phi3-genai-int4.onnx")
VARIANTS = ("act_order", "float_zp")
NEW_TOKENS = 32


def unpack_nibbles(packed, cols):
    """[rows, ceil(cols / 2)] uint8, low nibble first -> [rows, cols]."""
    v = np.stack([packed & 0xF, packed >> 4], axis=-1).reshape(
        packed.shape[0], -1)
    return v[:, :cols]


def pack_nibbles(values):
    rows, cols = values.shape
    if cols % 2:
        values = np.concatenate([values, np.zeros((rows, 1), values.dtype)], 1)
    return (values[:, 0::2] | (values[:, 1::2] << 4)).astype(np.uint8)


def rewrite(model, variant, rng):
    """`model` (loaded) with every MatMulNBits in the `variant` form."""
    inits = {t.name: t for t in model.graph.initializer}
    sigmas = {}  # an input's block permutation, shared by its readers
    count = 0
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        count += 1
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        k, n, bits = attrs["K"], attrs["N"], attrs.get("bits", 4)
        block = attrs["block_size"]
        kb = (k + block - 1) // block
        ins = list(node.input) + [""] * (5 - len(node.input))
        if bits != 4 or ins[4]:
            raise RuntimeError(f"{node.name}: expected 4 bits, no g_idx")
        scales = numpy_helper.to_array(inits[ins[2]]).reshape(n, kb)
        if ins[3]:
            zp = unpack_nibbles(numpy_helper.to_array(inits[ins[3]]).reshape(
                n, -1), kb)
        else:
            zp = np.full((n, kb), 8, np.uint8)
        name = node.name or f"matmulnbits_{count}"
        if variant == "act_order":
            if k % block:
                raise RuntimeError(f"{name}: K not a multiple of the block")
            sigma = sigmas.setdefault((ins[0], kb), rng.permutation(kb))
            if kb > 1 and (sigma == np.arange(kb)).all():
                sigma = np.roll(np.arange(kb), 1)  # never the identity
                sigmas[(ins[0], kb)] = sigma
            moved_s = np.empty_like(scales)
            moved_z = np.empty_like(zp)
            moved_s[:, sigma] = scales
            moved_z[:, sigma] = zp
            g_idx = sigma[np.arange(k) // block].astype(np.int32)
            for value, suffix in ((moved_s.ravel(), "_scales_ao"),
                                  (pack_nibbles(moved_z), "_zp_ao"),
                                  (g_idx, "_g_idx")):
                model.graph.initializer.append(
                    numpy_helper.from_array(value, name + suffix))
            ins[2], ins[3], ins[4] = (name + "_scales_ao", name + "_zp_ao",
                                      name + "_g_idx")
        else:
            model.graph.initializer.append(numpy_helper.from_array(
                zp.astype(scales.dtype).ravel(), name + "_zp_float"))
            ins[3] = name + "_zp_float"
        while ins and ins[-1] == "":
            ins.pop()
        del node.input[:]
        node.input.extend(ins)
    return count


def check(args, folder, entry, variant):
    stem = os.path.splitext(entry["file"])[0]
    work = os.path.join(args.work, f"{stem}-{variant}")
    os.makedirs(work, exist_ok=True)
    model = onnx.load(os.path.join(folder, entry["file"]))
    matmuls = rewrite(model, variant, np.random.default_rng(5))
    path = os.path.join(work, "model.onnx")
    onnx.save(model, path)
    flags = ["-q", "--kv-cache=paged", "--max-context=128", path]
    artifact = os.path.join(work, "model.anvil")
    compiled = subprocess.run([args.anvilc, *flags, "-o", artifact],
                              capture_output=True, text=True)
    if compiled.returncode:
        return f"anvilc: {compiled.stderr.strip()[-600:]}"
    kernel = subprocess.run([args.anvilc, *flags, "--emit=kernel"],
                            capture_output=True, text=True)
    quant = kernel.stdout.count('kernel.launch "matmul_quant"')
    if kernel.returncode or quant != matmuls:
        return (f"{quant} matmul_quant launches for {matmuls} MatMulNBits "
                f"(anvilc --emit=kernel exit {kernel.returncode})")
    greedy = entry["greedy"]
    try:
        got = generate_json(
            args.anvil_run, artifact, "--prompt-ids",
            ",".join(str(t) for t in greedy["prompt_ids"]),
            "--max-new-tokens", str(NEW_TOKENS), "--ignore-eos")["token_ids"]
    except RuntimeError as e:
        return str(e)[-600:]
    want = greedy["continuation_ids"][:NEW_TOKENS]
    if got != want:
        return f"tokens differ\n  got  {got}\n  want {want}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", required=True,
                    help="the models/zoo-current folder")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    found = {e["file"]: (f, e) for f, e in zoo_models.entries([args.models])}
    passed = failed = 0
    for file in MODELS:
        if file not in found:
            print(f"FAIL {file}: not in {args.models}/manifest.json")
            failed += 1
            continue
        folder, entry = found[file]
        for variant in VARIANTS:
            why = check(args, folder, entry, variant)
            if why:
                print(f"FAIL {file} {variant}: {why}")
                failed += 1
            else:
                print(f"ok   {file} {variant}: {NEW_TOKENS} tokens identical")
                passed += 1
    print(f"generate-act-order: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

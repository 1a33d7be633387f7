#!/usr/bin/env python3
"""anvil-fuse-rope end to end: decoders compiled twice, with the rope of
the queries and new keys fused into the paged attention and the KV writes
(the default) and with --no-fuse-rope, give the same bits.

For each model and KV type, checks (each printing `ok <name>` or
`FAIL <name>: why`):

  <name>/fused     the fused kernel program launches no `rope` kernel, its
                   paged_attentions take rotary tables (rope_dim > 0), and
                   so does one kv_write per attention (the keys'); the
                   unfused one launches ropes
  <name>/same      anvil.Engine's greedy completion of a prompt (24 tokens,
                   logprobs=5, ignore_eos) has identical token ids and
                   identical log-probabilities (==, no tolerance) in both:
                   the logits were the same bits

The first check shows the test compared what it means to compare: a pass
that stopped fusing would fail it, not pass vacuously. Agreement with ONNX
Runtime is checked elsewhere (paged-hand-decoders.test, generate-zoo.test
run the fused default).

Usage: run_fuse_rope.py --anvilc anvilc --work DIR
                        --model NAME=PATH[:KVDTYPE] ...
"""

import argparse
import os
import re
import subprocess
import sys

import anvil

PROMPT = [5, 17, 3, 29, 11, 42, 7, 19, 23, 2, 31, 13]
NEW_TOKENS = 24


def compile_model(anvilc, model, out, kv_dtype, fused, emit=None):
    cmd = [anvilc, "-q", model, "--max-context=256", "-o", out]
    if kv_dtype:
        cmd.append(f"--kv-dtype={kv_dtype}")
    if not fused:
        cmd.append("--no-fuse-rope")
    if emit:
        cmd.append(f"--emit={emit}")
    subprocess.run(cmd, check=True)


def launches(program, kernel):
    return re.findall(rf'kernel\.launch "{kernel}" .*', program)


def check_programs(anvilc, model, kv_dtype, work, name):
    text = {}
    for fused in (True, False):
        path = os.path.join(work, f"{name}-{'fused' if fused else 'plain'}"
                                  ".kernel.mlir")
        compile_model(anvilc, model, path, kv_dtype, fused, emit="kernel")
        with open(path) as f:
            text[fused] = f.read()
    ropes_fused = len(launches(text[True], "rope"))
    ropes_plain = len(launches(text[False], "rope"))
    attention = launches(text[True], "paged_attention")
    writes = launches(text[True], r"kv_write(?:_int8)?")
    rope_dim = re.compile(r"rope_dim = ([1-9][0-9]*) : i64")
    if ropes_fused or not ropes_plain:
        return (f"{ropes_fused} rope launches fused, {ropes_plain} with "
                "--no-fuse-rope")
    if not attention or not all(rope_dim.search(a) for a in attention):
        return "a paged_attention launch without rotary tables"
    rotated_writes = sum(1 for w in writes if rope_dim.search(w))
    if rotated_writes != len(attention):
        return (f"{rotated_writes} kv_write launches take rotary tables for "
                f"{len(attention)} attentions (one keys' write each)")
    return None


def complete(artifact):
    with anvil.Engine(artifact, num_threads=2) as engine:
        return engine.complete(PROMPT, max_tokens=NEW_TOKENS, temperature=0,
                               logprobs=5, ignore_eos=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", action="append", required=True,
                    help="NAME=PATH[:KVDTYPE]")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    passed = failed = 0

    def report(check, problem):
        nonlocal passed, failed
        if problem:
            print(f"FAIL {check}: {problem}")
            failed += 1
        else:
            print(f"ok   {check}")
            passed += 1

    for spec in args.model:
        name, _, rest = spec.partition("=")
        path, _, kv_dtype = rest.partition(":")
        report(f"{name}/fused",
               check_programs(args.anvilc, path, kv_dtype, args.work, name))
        results = []
        for fused in (True, False):
            artifact = os.path.join(
                args.work, f"{name}-{'fused' if fused else 'plain'}.anvil")
            compile_model(args.anvilc, path, artifact, kv_dtype, fused)
            results.append(complete(artifact))
        a, b = results
        problem = None
        if a.token_ids != b.token_ids:
            problem = f"token ids differ: {a.token_ids} vs {b.token_ids}"
        elif a.logprobs != b.logprobs or a.top_logprobs != b.top_logprobs:
            diffs = [i for i, (x, y) in enumerate(zip(a.logprobs, b.logprobs))
                     if x != y]
            problem = f"log-probabilities differ at tokens {diffs[:8]}"
        elif len(a.token_ids) != NEW_TOKENS:
            problem = f"{len(a.token_ids)} tokens, not {NEW_TOKENS}"
        report(f"{name}/same", problem)
    print(f"fuse-rope: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

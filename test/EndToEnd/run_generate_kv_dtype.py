#!/usr/bin/env python3
"""The default model with an f16 or int8 KV cache against the same model with
f32.

Both artifacts are models/default compiled as scripts/main.sh does, one with
`--kv-dtype=f16` (--f16) or `--kv-dtype=int8` (--int8). Checks, each
printing `ok <name>` or `FAIL <name>: why`:

  pool        the manifest's KV pools are f16 (f32 for the other artifact);
              with int8, num_pools i8 pools `kv_pool.*` [kv_blocks,
              block_size, kv_heads, head_dim] and as many f32 scale states
              `kv_scales.*` [kv_blocks, block_size, kv_heads]
  budget      with the same KV budget (the engine's default, 1 GiB) the
              engine's kv_blocks_total is the budget over the bytes of one
              block at 2 bytes per element: twice f32's (an engine that
              sized the pool at 4 bytes per element gets f32's count). With
              int8: 1 byte per element plus 4 per (position, head) of each
              pool's scales (an engine that left the scales out, or sized
              them like the pools, gets another count)
  agreement   greedy generation of --tokens tokens (EOS ignored) from three
              prompts (the manifest's, and 300- and 40-token windows of
              test_tokens.npz: the first prefill is chunked, so later steps
              read f16 keys written by earlier ones): the tokens at the same
              position as f32's, over all prompts, are at least --min-agree
              of them. f16 rounds K/V to 11 significant bits (relative error
              <= 2^-11); attention stays f32, so only near-ties of the f32
              logits can flip a greedy choice, after which the sequences may
              part. A wrong conversion or layout (f16 bits read as f32, a
              pool sized or strided for 4-byte elements) diverges within a
              few tokens. int8 rounds each (token, head) row of K/V to
              steps of max|x| / 127 (relative error up to 1/254 of the
              row's largest value, about 20x f16's), so near-ties flip more
              often and --min-agree is lower (generate-kv-dtype-int8.test
              says why its bound); a wrong scale (another head's or slot's,
              or none) diverges within a few tokens.

Prints the measured agreement (first divergence per prompt, and the share
of equal positions) on a line of its own.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np


def generate(anvil_run, artifact, prompt, tokens):
    run = subprocess.run([anvil_run, "generate", artifact, "--json",
                          "--threads", "1", "--prompt-ids",
                          ",".join(map(str, prompt)), "--max-new-tokens",
                          str(tokens), "--ignore-eos"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"anvil-run generate failed: {run.stderr.strip()}")
    return json.loads(run.stdout)["token_ids"]


def manifest_of(anvil_run, artifact):
    run = subprocess.run([anvil_run, "info", artifact, "--json"],
                         capture_output=True, text=True, check=True)
    info = json.loads(run.stdout)
    return info.get("manifest", info)


def pool_dtypes(anvil_run, artifact):
    manifest = manifest_of(anvil_run, artifact)
    return {s["dtype"] for e in manifest["entry_points"]
            for s in e.get("states", [])}, manifest["llm"]


def int8_layout_problem(anvil_run, artifact):
    """None when the states are the int8 pools, then their f32 scales."""
    manifest = manifest_of(anvil_run, artifact)
    llm = manifest["llm"]
    (entry,) = [e for e in manifest["entry_points"]
                if e["name"] == llm["entry"]]
    states = entry.get("states", [])
    n = llm["num_pools"]
    pool = ["kv_blocks", llm["block_size"], llm["kv_heads"], llm["head_dim"]]
    want = ([("kv_pool.", "i8", pool)] * n +
            [("kv_scales.", "f32", pool[:3])] * n)
    got = [(s["name"], s["dtype"], s["shape"]) for s in states]
    if len(got) != len(want) or any(
            not name.startswith(prefix) or dtype != wdtype or shape != wshape
            for (name, dtype, shape), (prefix, wdtype, wshape)
            in zip(got, want)):
        return f"states {got}; want {n} i8 pools then {n} f32 scales"
    return None


def kv_blocks_total(generate_many, artifact):
    run = subprocess.run([generate_many, artifact, "--threads", "1", "-n",
                          "1", "--max-new-tokens", "1", "--json"],
                         capture_output=True, text=True, check=True)
    stats = json.loads(run.stdout.strip().splitlines()[-1])["stats"]
    return stats["kv_blocks_total"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--generate-many", required=True)
    ap.add_argument("--f32", required=True)
    other = ap.add_mutually_exclusive_group(required=True)
    other.add_argument("--f16", help="the --kv-dtype=f16 artifact")
    other.add_argument("--int8", help="the --kv-dtype=int8 artifact")
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--min-agree", type=float, default=0.95)
    args = ap.parse_args()
    failed = 0

    def verdict(name, problem):
        nonlocal failed
        failed += bool(problem)
        print(f"FAIL {name}: {problem}" if problem else f"ok   {name}")
        sys.stdout.flush()

    int8 = args.int8 is not None
    narrow = args.int8 if int8 else args.f16
    f32_types, llm = pool_dtypes(args.anvil_run, args.f32)
    narrow_types, _ = pool_dtypes(args.anvil_run, narrow)
    if int8:
        problem = int8_layout_problem(args.anvil_run, narrow)
        if not problem and f32_types != {"f32"}:
            problem = f"the f32 artifact's pools are {f32_types}"
        verdict("pool", problem)
    else:
        verdict("pool",
                None if (f32_types, narrow_types) == ({"f32"}, {"f16"})
                else f"pools {f32_types} and {narrow_types}")

    positions = llm["block_size"] * llm["kv_heads"] * llm["num_pools"]
    # Per pool and (position, head): head_dim elements, plus a 4-byte scale
    # with int8.
    block_bytes = (positions * (llm["head_dim"] + 4) if int8 else
                   positions * llm["head_dim"] * 2)

    def budget_blocks(bytes_per_block):
        return min(max((1 << 30) // bytes_per_block,
                       llm["max_context"] // llm["block_size"]),
                   llm["max_kv_blocks"])
    want = budget_blocks(block_bytes)
    want32 = budget_blocks(positions * llm["head_dim"] * 4)
    got32 = kv_blocks_total(args.generate_many, args.f32)
    got = kv_blocks_total(args.generate_many, narrow)
    name = "int8" if int8 else "f16"
    verdict("budget", None if got == want and got32 == want32 and
            (int8 or got == 2 * got32) else
            f"kv_blocks_total {got} with {name}, {got32} with f32; want "
            f"{want} = 1 GiB / {block_bytes} bytes per block")
    print(f"measured: kv_blocks_total {got} with {name}, {got32} with f32 "
          f"({got / got32:.2f}x)")

    with open(os.path.join(args.model_dir, "manifest.json")) as f:
        greedy = json.load(f)["models"][0]["greedy"]
    test_ids = np.load(os.path.join(args.model_dir,
                                    "test_tokens.npz"))["test_ids"]
    prompts = [greedy["prompt_ids"],
               [int(t) for t in test_ids[1000:1300]],
               [int(t) for t in test_ids[5000:5040]]]
    equal = total = 0
    firsts = []
    for prompt in prompts:
        a = generate(args.anvil_run, args.f32, prompt, args.tokens)
        b = generate(args.anvil_run, narrow, prompt, args.tokens)
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                     min(len(a), len(b)))
        firsts.append(first)
        equal += sum(x == y for x, y in zip(a, b))
        total += max(len(a), len(b))
    share = equal / total
    print(f"measured: first divergence {firsts} of {args.tokens} tokens; "
          f"{equal} of {total} positions equal ({100 * share:.1f}%)")
    verdict("agreement", None if share >= args.min_agree else
            f"{100 * share:.1f}% of positions agree, below "
            f"{100 * args.min_agree:.0f}%")
    print(f"generate-kv-dtype: {3 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

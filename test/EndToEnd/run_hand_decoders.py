#!/usr/bin/env python3
"""Greedy generation through the paged step of the hand-built decoders
(test/lib/hand_decoders.py) against ONNX Runtime running the same ONNX with
its past/present KV loop: the generated ids must be identical.

The prompt (40 tokens) is longer than the sliding window (24), so the
window decoder only matches if the window reached the paged kernel.

Usage: run_hand_decoders.py --anvilc anvilc --anvil-run anvil-run
                            --work DIR NAME...
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hand_decoders  # noqa: E402

PROMPT = [int(t) for t in (np.arange(40) * 7 + 3) % hand_decoders.VOCAB]
NEW_TOKENS = 16


def ort_greedy(path):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    pasts = [i for i in session.get_inputs() if i.name.startswith("past")]
    names_in = {i.name for i in session.get_inputs()}
    feeds = {i.name: np.zeros((1, i.shape[1], 0, hand_decoders.HEAD_DIM),
                              np.float32) for i in pasts}
    ids, out = list(PROMPT), []
    step = ids
    for _ in range(NEW_TOKENS):
        past_len = feeds[pasts[0].name].shape[2]
        feeds["input_ids"] = np.array([step], np.int64)
        if "position_ids" in names_in:
            feeds["position_ids"] = np.arange(
                past_len, past_len + len(step), dtype=np.int64)[None]
        feeds["attention_mask"] = np.ones((1, past_len + len(step)), np.int64)
        results = session.run(None, feeds)
        names = [o.name for o in session.get_outputs()]
        logits = results[names.index("logits")]
        token = int(np.argmax(logits[0, -1]))
        out.append(token)
        for p in pasts:
            feeds[p.name] = results[names.index(
                p.name.replace("past_key_values", "present"))]
        step = [token]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = 0
    for name in args.names:
        model = os.path.join(args.work, name + ".onnx")
        artifact = os.path.join(args.work, name + ".anvil")
        hand_decoders.build(name, model)
        expected = ort_greedy(model)
        subprocess.run([args.anvilc, "-q", model, "--max-context=128",
                        "-o", artifact], check=True)
        run = subprocess.run(
            [args.anvil_run, "generate", artifact, "--prompt-ids",
             ",".join(map(str, PROMPT)), "--max-new-tokens", str(NEW_TOKENS),
             "--ignore-eos", "--json"], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL {name}: anvil-run generate: {run.stderr.strip()}")
            failed += 1
            continue
        got = json.loads(run.stdout)["token_ids"]
        if got != expected:
            print(f"FAIL {name}: expected {expected}, got {got}")
            failed += 1
        else:
            print(f"{name}: {NEW_TOKENS} greedy tokens match ONNX Runtime")
    print(f"hand decoders: {len(args.names) - failed} match, {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Greedy generation through the paged step of the hand-built decoders
(test/lib/hand_decoders.py) against ONNX Runtime running the same ONNX with
its past/present KV loop: the generated ids must be identical, and each
token's log-probability (the engine's, through the Python bindings) must
match ONNX Runtime's log-softmax within 1e-4 + 1e-3 |ref| (greedy ids
alone can miss a wrong rotation on these small models).

The prompt (40 tokens) is longer than the sliding window (24), so the
window decoder only matches if the window reached the paged kernel.

Usage: PYTHONPATH=<build>/python run_hand_decoders.py --anvilc anvilc
                            --work DIR NAME...
"""

import argparse
import os
import subprocess
import sys

import anvil
import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import hand_decoders  # noqa: E402

PROMPT = [int(t) for t in (np.arange(40) * 7 + 3) % hand_decoders.VOCAB]
NEW_TOKENS = 16


def ort_greedy(path):
    """ONNX Runtime's greedy tokens and each one's log-probability."""
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    pasts = [i for i in session.get_inputs() if i.name.startswith("past")]
    names_in = {i.name for i in session.get_inputs()}
    feeds = {i.name: np.zeros((1, i.shape[1], 0, hand_decoders.HEAD_DIM),
                              np.float32) for i in pasts}
    ids, out, logprobs = list(PROMPT), [], []
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
        last = logits[0, -1].astype(np.float64)
        token = int(np.argmax(last))
        out.append(token)
        shifted = last - last.max()
        logprobs.append(float(shifted[token] - np.log(np.exp(shifted).sum())))
        for p in pasts:
            feeds[p.name] = results[names.index(
                p.name.replace("past_key_values", "present"))]
        step = [token]
    return out, logprobs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = 0
    for name in args.names:
        model = os.path.join(args.work, name + ".onnx")
        artifact = os.path.join(args.work, name + ".anvil")
        hand_decoders.build(name, model)
        expected, expected_logprobs = ort_greedy(model)
        subprocess.run([args.anvilc, "-q", model, "--max-context=128",
                        "-o", artifact], check=True)
        try:
            with anvil.Engine(artifact, num_threads=2) as engine:
                got = engine.complete(PROMPT, max_tokens=NEW_TOKENS,
                                      temperature=0, logprobs=1,
                                      ignore_eos=True)
        except anvil.Error as error:
            print(f"FAIL {name}: the engine: {error}")
            failed += 1
            continue
        far = [i for i, (x, ref) in enumerate(zip(got.logprobs,
                                                  expected_logprobs))
               if abs(x - ref) > 1e-4 + 1e-3 * abs(ref)]
        if got.token_ids != expected:
            print(f"FAIL {name}: expected {expected}, got {got.token_ids}")
            failed += 1
        elif far:
            i = far[0]
            print(f"FAIL {name}: log-probabilities of {len(far)} tokens "
                  f"differ, first token {i}: {got.logprobs[i]:.6f} against "
                  f"ONNX Runtime's {expected_logprobs[i]:.6f}")
            failed += 1
        else:
            print(f"{name}: {NEW_TOKENS} greedy tokens and their "
                  f"log-probabilities match ONNX Runtime")
    print(f"hand decoders: {len(args.names) - failed} match, {failed} differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`anvil-run generate` on the default model, against independent references.

The artifact is models/default compiled as scripts/main.sh does
(`--max-context=1024 --eos-token-id=0`, its tokenizer.json embedded).
Checks, each printing `ok <name>` or `FAIL <name>: why`:

  greedy       --prompt-ids <manifest greedy.prompt_ids>, 32 new tokens:
               token_ids equal the manifest's ONNX Runtime continuation
  prompt-text  the prompt ids decoded by the Hugging Face `tokenizers`
               library re-encode to the same ids there; given as --prompt,
               the embedded tokenizer gives the same prompt (prompt_tokens,
               and the same 32 tokens)
  text         the generated `text` equals `tokenizers`' decode of
               token_ids (skip_special_tokens, as the engine decodes)
  chunked      a 300-token prompt (models/default/test_tokens.npz, more
               than the 256 tokens of one step, so its prefill is chunked):
               8 greedy tokens equal a plain ONNX Runtime loop's on
               model.onnx

Every comparison is exact (no near-tie allowance).

Usage: run_generate_default.py --anvil-run anvil-run --artifact M.anvil
                               --model-dir models/default
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from generate_json import generate_json  # noqa: E402


def generate(args, *flags):
    return generate_json(args.anvil_run, args.artifact, *flags)


def ort_greedy(model_path, prompt, new_tokens):
    """Greedy continuation of `prompt` by ONNX Runtime, the past fed back."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, options,
                                providers=["CPUExecutionProvider"])
    past = {}
    for i in sess.get_inputs():
        if i.name.startswith("past_key_values."):
            past[i.name] = np.zeros([1, i.shape[1], 0, i.shape[3]],
                                    np.float32)
    cur, done, out = np.asarray([prompt], np.int64), 0, []
    for _ in range(new_tokens):
        length = cur.shape[1]
        feeds = {"input_ids": cur,
                 "attention_mask": np.ones([1, done + length], np.int64),
                 "position_ids": np.arange(done, done + length,
                                           dtype=np.int64)[None, :], **past}
        names = [o.name for o in sess.get_outputs()]
        res = dict(zip(names, sess.run(None, feeds)))
        token = int(np.argmax(res["logits"][0, -1]))
        out.append(token)
        for name in past:
            past[name] = res["present." + name[len("past_key_values."):]]
        done += length
        cur = np.asarray([[token]], np.int64)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--model-dir", required=True)
    args = ap.parse_args()
    from tokenizers import Tokenizer
    with open(os.path.join(args.model_dir, "manifest.json")) as f:
        greedy = json.load(f)["models"][0]["greedy"]
    hf = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    prompt_ids, want = greedy["prompt_ids"], greedy["continuation_ids"][:32]
    failed = 0

    def verdict(name, problem):
        nonlocal failed
        failed += bool(problem)
        print(f"FAIL {name}: {problem}" if problem else f"ok   {name}")
        sys.stdout.flush()

    ids_run = generate(args, "--prompt-ids", ",".join(map(str, prompt_ids)),
                       "--max-new-tokens", "32")
    verdict("greedy", None if ids_run["token_ids"] == want else
            f"got {ids_run['token_ids']}, want {want}")

    text = hf.decode(prompt_ids)
    problem = None
    if hf.encode(text).ids != prompt_ids:
        problem = (f"tokenizers re-encodes {text!r} as "
                   f"{hf.encode(text).ids}, not {prompt_ids}")
    else:
        text_run = generate(args, "--prompt", text, "--max-new-tokens", "32")
        if text_run["prompt_tokens"] != len(prompt_ids):
            problem = (f"{text!r} is {text_run['prompt_tokens']} tokens, "
                       f"not {len(prompt_ids)}")
        elif text_run["token_ids"] != want:
            problem = f"got {text_run['token_ids']}, want {want}"
    verdict("prompt-text", problem)

    decoded = hf.decode(ids_run["token_ids"], skip_special_tokens=True)
    verdict("text", None if ids_run["text"] == decoded else
            f"text {ids_run['text']!r}, tokenizers decodes {decoded!r}")

    long_prompt = [int(t) for t in np.load(os.path.join(
        args.model_dir, "test_tokens.npz"))["test_ids"][:300]]
    long_want = ort_greedy(os.path.join(args.model_dir, "model.onnx"),
                           long_prompt, 8)
    long_run = generate(args, "--prompt-ids", ",".join(map(str, long_prompt)),
                        "--max-new-tokens", "8", "--ignore-eos")
    verdict("chunked", None if long_run["token_ids"] == long_want else
            f"got {long_run['token_ids']}, ONNX Runtime {long_want}")
    print(f"generate-default: {4 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

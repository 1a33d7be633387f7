#!/usr/bin/env python3
"""One forward pass of a compiled decoder artifact: the main job's demo.

Encodes a prompt with the model's byte-level BPE tokenizer (tokenizer.json,
implemented here so the demo needs nothing beyond numpy), feeds the last
SEQ tokens to the artifact with an empty KV cache through anvil-run, and
prints the most likely next tokens.

Usage: forward_pass.py --anvil-run anvil-run --artifact default.anvil
                       --tokenizer tokenizer.json --seq 16
                       [--prompt TEXT | --prompt-file FILE] [--compare-onnx M]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

DEFAULT_PROMPT = ("import os\n\n\ndef read_lines(path):\n"
                  "    with open(path) as f:\n        return [line.")

# GPT-2's pre-tokenizer split (this tokenizer's ByteLevel pre-tokenizer):
# letters, digits, and everything else but whitespace, with Python's
# classes standing in for \p{L} and \p{N}. '_' is punctuation there, while
# Python's \w counts it as a word character, so it is named explicitly.
SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def byte_to_unicode():
    """GPT-2's reversible map from bytes to printable characters."""
    keep = (list(range(ord("!"), ord("~") + 1)) +
            list(range(ord("\xa1"), ord("\xac") + 1)) +
            list(range(ord("\xae"), ord("\xff") + 1)))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class Tokenizer:
    def __init__(self, path):
        with open(path) as f:
            spec = json.load(f)
        model = spec["model"]
        self.vocab = model["vocab"]
        self.inverse = {i: t for t, i in self.vocab.items()}
        for added in spec.get("added_tokens", []):
            self.inverse[added["id"]] = added["content"]
        merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" "))
                  for m in model["merges"]]
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.to_unicode = byte_to_unicode()
        self.to_byte = {c: b for b, c in self.to_unicode.items()}

    def bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i)
                     for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return parts

    def encode(self, text):
        pieces = SPLIT.findall(text)
        if "".join(pieces) != text:
            raise ValueError("the pre-tokenizer lost characters of the prompt")
        ids = []
        for piece in pieces:
            word = "".join(self.to_unicode[b] for b in piece.encode())
            ids += [self.vocab[p] for p in self.bpe(word)]
        return ids

    def decode(self, ids):
        text = "".join(self.inverse[i] for i in ids)
        return bytes(self.to_byte.get(c, ord("?")) for c in text).decode(
            "utf-8", errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--seq", type=int, required=True,
                    help="the sequence length the artifact was compiled for")
    ap.add_argument("--prompt", default=DEFAULT_PROMPT)
    ap.add_argument("--prompt-file", help="read the prompt from this file")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--compare-onnx", metavar="MODEL",
                    help="also run MODEL with ONNX Runtime on the same inputs "
                         "and fail if the logits differ by more than 1e-3")
    args = ap.parse_args()

    if args.prompt_file:
        with open(args.prompt_file) as f:
            args.prompt = f.read()
    tok = Tokenizer(args.tokenizer)
    ids = tok.encode(args.prompt)
    if tok.decode(ids) != args.prompt:  # byte-level BPE must round-trip
        sys.exit("forward_pass.py: the tokenizer does not round-trip the "
                 "prompt")
    if len(ids) < args.seq:
        sys.exit(f"forward_pass.py: the prompt has {len(ids)} tokens; the "
                 f"artifact takes {args.seq}")
    ids = ids[-args.seq:]
    info = json.loads(subprocess.run(
        [args.anvil_run, "info", "--json", args.artifact], check=True,
        capture_output=True, text=True).stdout)
    entry = info["manifest"]["entry_points"][0]
    work = tempfile.mkdtemp(prefix="anvil-forward-")
    cmd = [args.anvil_run, args.artifact, "--output-dir", work]
    feeds = {}
    dtypes = {"i64": np.int64, "i32": np.int32, "f32": np.float32}
    for spec in entry["inputs"]:
        name, shape = spec["name"], spec["shape"]
        if name == "input_ids":
            value = np.array([ids], dtype=np.int64)
        elif name == "attention_mask":
            value = np.ones(shape, dtype=np.int64)
        elif name == "position_ids":
            value = np.arange(args.seq, dtype=np.int64)[None, :]
        else:  # the (empty) KV cache
            value = np.zeros(shape, dtype=dtypes[spec["dtype"]])
        path = os.path.join(work, f"{len(cmd)}.npy")
        np.save(path, value)
        cmd += ["--input", f"{name}={path}"]
        feeds[name] = value
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    logits = np.load(os.path.join(work, "logits.npy"))[0, -1].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    print("prompt (last %d tokens): %r" % (args.seq, tok.decode(ids)))
    print("most likely next tokens:")
    for rank, i in enumerate(np.argsort(-probs)[:args.top], 1):
        print(f"  {rank}. {tok.decode([int(i)])!r:16} p={probs[i]:.3f}  (id {i})")
    if args.compare_onnx:
        import onnxruntime as ort
        session = ort.InferenceSession(args.compare_onnx,
                                       providers=["CPUExecutionProvider"])
        ref = session.run(["logits"], feeds)[0][0, -1].astype(np.float64)
        diff = float(np.abs(ref - logits).max())
        same = int(np.argmax(ref)) == int(np.argmax(logits))
        print(f"ONNX Runtime: max abs logit difference {diff:.2g}, same top "
              f"token: {'yes' if same else 'no'}")
        if diff > 1e-3 or not same:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Writes seed inputs for anvil-tokenizer-fuzzer into the folder argv[1]:
small tokenizer.json files that use most supported stages (each followed
by a text to encode) and a SentencePiece model trained on a few lines."""
import json
import os
import sys

import sentencepiece as spm

out = sys.argv[1]
CL100K = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
          r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
TEXT = "\n#TEXT#\nab AB it's 12345 <s> x\u00e9 \U0001F600 \t\n end"

bpe = {
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "<0x41>": 3},
              "merges": ["a b"], "byte_fallback": True, "unk_token": "a"},
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"},
        {"type": "Prepend", "prepend": "_"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "_"}]},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": CL100K},
         "behavior": "Isolated"},
        {"type": "Metaspace", "replacement": "_", "prepend_scheme": "first"},
        {"type": "Digits", "individual_digits": True},
        {"type": "Punctuation", "behavior": "MergedWithNext"},
        {"type": "ByteLevel", "add_prefix_space": True}]},
    "added_tokens": [{"id": 4, "content": "<s>", "special": True,
                      "lstrip": True, "rstrip": True, "normalized": False,
                      "single_word": True}],
    "post_processor": {"type": "TemplateProcessing", "single": [
        {"SpecialToken": {"id": "<s>", "type_id": 0}},
        {"Sequence": {"id": "A", "type_id": 0}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [4],
                                   "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "ByteFallback"},
        {"type": "Metaspace", "replacement": "_"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 1},
        {"type": "ByteLevel"}, {"type": "Fuse"}]},
}
with open(os.path.join(out, "bpe.json"), "w") as f:
    f.write(json.dumps(bpe) + TEXT)

wordpiece = dict(bpe)
wordpiece["model"] = {"type": "WordPiece",
                      "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}
wordpiece["normalizer"] = {"type": "BertNormalizer"}
wordpiece["pre_tokenizer"] = {"type": "BertPreTokenizer"}
wordpiece["decoder"] = {"type": "WordPiece"}
with open(os.path.join(out, "wordpiece.json"), "w") as f:
    f.write(json.dumps(wordpiece) + TEXT)

regex = dict(bpe)
regex["normalizer"] = {"type": "Replace", "pattern": {"Regex": r"\t+| {4,}"},
                       "content": "\t"}
regex["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": p}, "behavior": b, "invert": i}
    for p, b, i in [
        (r"\p{N}{1,3}", "Isolated", False),
        (r"(?i:ab)+?|[\u4e00-\u9fa5]+|\P{L}(?=x)|[^\s\p{Lu}]{2,}", "Removed",
         True),
        (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*"
         r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r" ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
         "MergedWithPrevious", False)]]}
with open(os.path.join(out, "regex.json"), "w") as f:
    f.write(json.dumps(regex) + TEXT)

unigram = dict(bpe)
unigram["model"] = {"type": "Unigram", "unk_id": 0, "byte_fallback": True,
                    "vocab": [["<unk>", 0.0], ["a", -1.5], ["ab", -2.0],
                              ["b", -1.0], ["<0x41>", -9.0]]}
unigram["pre_tokenizer"] = {"type": "Metaspace", "replacement": "_",
                            "prepend_scheme": "always", "split": True}
with open(os.path.join(out, "unigram.json"), "w") as f:
    f.write(json.dumps(unigram) + TEXT)

lines = os.path.join(out, "..", "lines.txt")
with open(lines, "w") as f:
    f.write("the quick brown fox jumps over the lazy dog\n" * 20)
spm.SentencePieceTrainer.train(
    input=lines, model_prefix=os.path.join(out, "..", "sp"), vocab_size=300,
    model_type="bpe", byte_fallback=True, minloglevel=2)
with open(os.path.join(out, "..", "sp.model"), "rb") as f:
    model = f.read()
with open(os.path.join(out, "sp.model"), "wb") as f:
    f.write(model)

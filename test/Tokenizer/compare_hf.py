"""Compares anvil-tokenize with Hugging Face `tokenizers` and `sentencepiece`.

  compare_hf.py ANVIL_TOKENIZE WORK_DIR MODELS_DIR

Builds tokenizers in the styles LLMs use (trained at run time on a few KB of
the Python standard library), encodes real source files and hostile text
with both, and checks token-for-token equality, decode equality, and that
IncrementalDecoder's pieces are whole UTF-8 and concatenate to decode().
Prints one line per tokenizer and 'N passed, M failed'; exits 1 on failure.
"""
import json
import os
import random
import subprocess
import sys
import sysconfig

import sentencepiece as spm
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models,
                        normalizers, pre_tokenizers, processors, trainers)

TOOL, WORK, MODELS = sys.argv[1:4]
os.makedirs(WORK, exist_ok=True)

STDLIB = sysconfig.get_paths()["stdlib"]
SOURCES = ["textwrap.py", "json/decoder.py", "shlex.py", "fnmatch.py",
           "colorsys.py", "bisect.py", "keyword.py", "glob.py"]
CORPUS_SOURCES = ["string.py", "copy.py", "heapq.py", "abc.py"]

EXTRA = [
    "", " ", "  ", "\t\t", "\n", "\r\n\r\n", "a  b   c    d", "   leading",
    "trailing   ", "x\n\n\ny", "tab\tand\nnewline\r\nmix \t \n end",
    "Hello, world! It's John's book; they're here, we've gone, I'm, he'll, she'd.",
    "IT'S SHOUTING, THEY'RE LOUD, WE'LL SEE",
    "digits 1234567890 12 345 6789 3.14159 1e10 0x1F 2024-06-01",
    "日本語のテキスト、中文文本和한국어 텍스트。", "東京タワー 東京",
    "emoji 😀👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 and 🤖🦀",
    "combining: e\u0301 a\u0308 n\u0303 \u1e9b\u0323 Å Å",
    "Arabic: مرحبا بالعالم، كيف حالك؟ Hebrew: שלום עולם",
    "Greek ΣΊΣΥΦΟΣ Σίσυφος, Cyrillic Привет мир, Thai สวัสดีครับ",
    "Devanagari: नमस्ते दुनिया, Tamil: வணக்கம்",
    "math ∑∫√∞ ≤ ≥ ≠ ² ³ ½ Ⅻ ① ٣",
    "zero\u200bwidth\u200cjoin\u200d nbsp\u00a0here\u3000ideographic",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<s>[INST] hello [/INST] ok</s>", "a<mask>b <mask> c  <mask>  d",
    "foo_bar foo_barx xfoo_bar (foo_bar) <tool>x</tool>",
    "ﬁ ﬂ ① ㈱ ＡＢＣ full-width ｶﾀｶﾅ",
    "'s 't 'll 'RE 'Ve '", "  \n  \n", "\u00a0\u00a0x",
    "😀" * 3, "a😀b", "\u0000nul and \u007fdel",
    # Unigram paths of equal score, told apart by how serde_json reads scores.
    "ws\n\n\n" + "#" * 105 + "\n###  Unified Diff\n" + "#" * 40,
]


def read(path, limit):
    with open(path, encoding="utf-8") as f:
        return f.read()[:limit]


TEXTS = [read(os.path.join(STDLIB, s), 6000) for s in SOURCES] + EXTRA
CORPUS = "\n".join(read(os.path.join(STDLIB, s), 5000)
                   for s in CORPUS_SOURCES) + "\n" + "\n".join(EXTRA[14:22])
CORPUS_LINES = [line for line in CORPUS.split("\n")]

CL100K = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|"
          r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = CL100K.replace(r"\p{N}{1,3}", r"\p{N}")
BYTES = ["<0x%02X>" % b for b in range(256)]
# Patterns only the general regex matcher takes: GPT-4o's (o200k) and
# DeepSeek-V3's.
O200K = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*"
         r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"
         r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
         r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
DEEPSEEK = [r"\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
            r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|"
            r"[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|"
            r"\s*[\r\n]+|\s+(?!\S)|\s+"]


def train(tok, vocab_size, specials, **kw):
    trainer_cls = kw.pop("trainer", trainers.BpeTrainer)
    trainer = trainer_cls(vocab_size=vocab_size, special_tokens=specials,
                          show_progress=False, **kw)
    tok.train_from_iterator(CORPUS_LINES, trainer)
    return tok


def with_byte_tokens(tok):
    """Adds <0x00>..<0xFF> to the model vocabulary, as Llama's has."""
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    for b in BYTES:
        if b not in vocab:
            vocab[b] = len(vocab)
    return Tokenizer.from_str(json.dumps(data))


def gpt2():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return train(tok, 700, ["<|endoftext|>"],
                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def gpt2_prefix_space():
    tok = gpt2()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    return tok


def regex_byte_level(patterns, vocab_size, specials, normalizer=None,
                     **bpe):
    """Split at each regex of `patterns`, then ByteLevel without its own
    regex, as Llama 3, Qwen2, GPT-4o and DeepSeek files do."""
    tok = Tokenizer(models.BPE(**bpe))
    if normalizer:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(p), behavior="isolated")
         for p in patterns] +
        [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    return train(tok, vocab_size, specials,
                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def llama3():
    tok = regex_byte_level([CL100K], 800, ["<|begin_of_text|>", "<|eot_id|>"],
                           ignore_merges=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A",
        special_tokens=[("<|begin_of_text|>",
                         tok.token_to_id("<|begin_of_text|>"))])
    return tok


def qwen2():
    tok = regex_byte_level([QWEN2], 700,
                           ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                           normalizer=normalizers.NFC())
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=True,
                                       special=True)])
    tok.add_tokens([AddedToken("<tool>", normalized=False),
                    AddedToken("</tool>", normalized=False),
                    AddedToken("foo_bar", single_word=True)])
    return tok


def o200k():
    return regex_byte_level([O200K], 800, ["<|endoftext|>"],
                            ignore_merges=True)


def deepseek():
    return regex_byte_level(
        DEEPSEEK, 800, ["<｜begin▁of▁sentence｜>"],
        normalizer=normalizers.Replace(Regex(r"\t+| {4,}"), "\t"))


def clip():
    """CLIP's: end-of-word suffix, a regex Replace, an inverted Split."""
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>", unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([
        normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
        normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(
            Regex(r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"
                  r"[^\s\p{L}\p{N}]+"), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.BPEDecoder(suffix="</w>")
    return train(tok, 700, ["<unk>"], end_of_word_suffix="</w>",
                 initial_alphabet=pre_tokenizers.ByteLevel.alphabet())


def subword_prefix():
    tok = Tokenizer(models.BPE(continuing_subword_prefix="##",
                               unk_token="[UNK]", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece()
    return train(tok, 600, ["[UNK]"], continuing_subword_prefix="##",
                 limit_alphabet=80)


def llama2():
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True,
                               fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                           normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(" ", 1, 0)])
    train(tok, 700, ["<unk>", "<s>", "</s>"], limit_alphabet=120)
    tok = with_byte_tokens(tok)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)])
    return tok


def metaspace_bpe(pre_tokenizer, decoder):
    """A byte-fallback BPE behind `pre_tokenizer`, with <s> $A </s>."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoder
    train(tok, 700, ["<unk>", "<s>", "</s>"], limit_alphabet=100)
    tok = with_byte_tokens(tok)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    return tok


def metaspace():
    return metaspace_bpe(pre_tokenizers.Metaspace(prepend_scheme="first"),
                         decoders.Metaspace(prepend_scheme="first"))


def mistral():
    """As transformers converts Llama/Mistral with legacy=False."""
    return metaspace_bpe(
        pre_tokenizers.Metaspace(prepend_scheme="first", split=False),
        decoders.Sequence([decoders.Replace("▁", " "),
                           decoders.ByteFallback(), decoders.Fuse(),
                           decoders.Strip(" ", 1, 0)]))


def t5():
    """Unigram behind Metaspace, unknown characters fused into <unk>."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    train(tok, 500, ["<pad>", "</s>", "<unk>"], unk_token="<unk>",
          trainer=trainers.UnigramTrainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", 1)])
    return tok


def protobuf_field(data, number):
    """The first length-delimited field `number` of protobuf bytes."""
    pos = 0

    def varint():
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
    while pos < len(data):
        key = varint()
        kind = key & 7
        if kind == 0:
            varint()
        elif kind == 1:
            pos += 8
        elif kind == 5:
            pos += 4
        else:
            size = varint()
            if key >> 3 == number:
                return data[pos:pos + size]
            pos += size
    return b""


def t5_precompiled():
    """As transformers converts a SentencePiece T5: sentencepiece's own
    NFKC-based character map (from the model trained below) as the
    Precompiled normalizer."""
    with open(os.path.join(WORK, "sp-unigram.model"), "rb") as f:
        spec = protobuf_field(f.read(), 3)  # ModelProto.normalizer_spec
    charsmap = protobuf_field(spec, 2)      # .precompiled_charsmap
    assert charsmap
    tok = t5()
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(charsmap),
        normalizers.Replace(Regex(" {2,}"), " ")])
    return tok


def unigram_bytes():
    """Unigram with byte fallback, as Gemma-like SentencePiece conversions."""
    tok = t5()
    data = json.loads(tok.to_str())
    data["model"]["byte_fallback"] = True
    data["model"]["vocab"] += [[b, -20.0] for b in BYTES]
    data["decoder"] = json.loads(decoders.Sequence([
        decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
        decoders.Strip(" ", 1, 0)]).__getstate__())
    return Tokenizer.from_str(json.dumps(data))


def bert():
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    train(tok, 600, ["[UNK]", "[CLS]", "[SEP]"],
          trainer=trainers.WordPieceTrainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[
            ("[CLS]", tok.token_to_id("[CLS]")),
            ("[SEP]", tok.token_to_id("[SEP]"))])
    return tok


def digits_whitespace():
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(),
                                           normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Whitespace(), pre_tokenizers.Digits(True),
        pre_tokenizers.Punctuation()])
    return train(tok, 500, ["[UNK]"])


def run_tool(path, requests):
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    out = subprocess.run([TOOL, path, "--batch"], input=lines.encode(),
                         capture_output=True, check=True)
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


failures = []
passed = 0


def expect(name, what, got, want):
    global passed
    if got == want:
        passed += 1
    else:
        failures.append(f"{name}: {what}:\n  anvil: {got!r}\n  ref:   {want!r}")


def check_stream(name, what, answer):
    expect(name, what + " stream is whole UTF-8", answer["stream_utf8"], True)
    # An invalid byte-fallback run decodes wholly to U+FFFD, also the valid
    # bytes before it, which the stream may have given out already.
    if "\ufffd" not in answer["text"]:
        expect(name, what + " stream", "".join(answer["stream"]),
               answer["text"])


def random_ids(rng, size, count):
    return [rng.randrange(size) for _ in range(count)]


def compare(name, path, encode, decode, size, skips):
    """Checks anvil-tokenize on `path` against reference functions
    encode(text, special) -> ids and decode(ids, skip) -> text, on TEXTS
    and on random ids below `size`, decoding with each skip of `skips`."""
    rng = random.Random(name)
    cases = [(t, special) for t in TEXTS for special in (False, True)]
    ref_ids = [encode(t, s) for t, s in cases]
    id_lists = ref_ids + [random_ids(rng, size, 12) for _ in range(40)]
    decodes = [(ids, skip) for ids in id_lists for skip in skips]
    requests = [{"encode": t, "special": s} for t, s in cases]
    requests += [{"decode": ids, "skip": skip} for ids, skip in decodes]
    answers = run_tool(path, requests)
    count = 0
    for (text, special), ids, answer in zip(cases, ref_ids, answers):
        expect(name, f"encode({text[:40]!r}, special={special})",
               answer.get("ids", answer), ids)
        count += len(ids)
    for (ids, skip), answer in zip(decodes, answers[len(cases):]):
        what = f"decode({ids[:8]}..., skip={skip})"
        expect(name, what, answer["text"], decode(ids, skip))
        check_stream(name, what, answer)
    print(f"{name}: {len(cases)} encodes ({count} tokens), "
          f"{len(decodes)} decodes")


def compare_hf(name, tok):
    path = os.path.join(WORK, name + ".json")
    tok.save(path)
    ref = Tokenizer.from_file(path)
    compare(name, path,
            lambda text, s: ref.encode(text, add_special_tokens=s).ids,
            lambda ids, skip: ref.decode(ids, skip_special_tokens=skip),
            ref.get_vocab_size(with_added_tokens=True), (False, True))


def compare_sentencepiece(name, model_type):
    corpus = os.path.join(WORK, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write(CORPUS)
    prefix = os.path.join(WORK, name)
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, vocab_size=800,
        model_type=model_type, byte_fallback=True, minloglevel=2,
        character_coverage=0.98)
    path = prefix + ".model"
    ref = spm.SentencePieceProcessor(model_file=path)
    # sentencepiece's decode drops control pieces: skip_special_tokens.
    compare(name, path, lambda text, s: ref.encode(text, add_bos=s),
            lambda ids, skip: ref.decode(ids), ref.get_piece_size(), (True,))


compare_hf("default", Tokenizer.from_file(
    os.path.join(MODELS, "default", "tokenizer.json")))
for builder in (gpt2, gpt2_prefix_space, llama3, qwen2, o200k, deepseek,
                clip, subword_prefix, llama2, mistral, metaspace, bert,
                t5, unigram_bytes, digits_whitespace):
    compare_hf(builder.__name__, builder())
compare_sentencepiece("sp-bpe", "bpe")
compare_sentencepiece("sp-unigram", "unigram")
compare_hf("t5_precompiled", t5_precompiled())

for failure in failures[:200]:
    print("MISMATCH", failure)
print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)

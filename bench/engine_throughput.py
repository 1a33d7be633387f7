#!/usr/bin/env python3
"""Engine throughput: N concurrent requests through Anvil's engine beside
ONNX Runtime serving the same requests one at a time with its past-KV loop.

For each model (a folder with model.onnx, or the .onnx file) anvilc
compiles the paged step (-O2, --max-context = prompt + new tokens rounded
up to the KV block size) and, for each N in --concurrency,
docs/examples/generate_many.c (`anvil-example-generate-many --json`) serves
N requests of --prompt-tokens seeded random token ids with
--new-tokens greedy tokens each (EOS ignored), all submitted before the
engine starts. Reported: generated tokens per wall second (first submit to
last finish; model loading not included) and time to first token (the
median over the N requests, and the first..last request's), each the
median over runs with min..max.

ONNX Runtime runs in its own process (this script with --ort-worker), one
InferenceSession per thread count in --ort-threads: a prefill of the
prompt, then one token at a time with past/present KV, greedy argmax. It
serves requests sequentially, so its throughput does not depend on N: one
request is timed --runs times, and with N queued its median request would
wait (N - 1) / 2 request times before its own prefill, which the TTFT
column for N > 1 adds ("queued").

Every run is a fresh process after one untimed warm-up per model and side.
A case stops repeating when another run would take it past --case-budget
seconds (the 250M decoder's larger N get one run on a 2-core machine);
the table says how many runs each row had.

Usage: bench/engine_throughput.py [--model models/bench/llama-250m]
           [--model models/default] [--concurrency 1,4,16,32]
           [--prompt-tokens 128] [--new-tokens 128] [--threads 2]
           [--ort-threads 1,2] [--runs 3] [--case-budget 150]
Make the 250M decoder with models/make_bench_decoder.py --size 250m
--out models/bench/llama-250m (bench/README.md).
"""
import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bin")


def model_file(path):
    return os.path.join(path, "model.onnx") if os.path.isdir(path) else path


def vocab_size(path):
    import onnx
    model = onnx.load(path, load_external_data=False)
    for out in model.graph.output:
        if out.name == "logits":
            return out.type.tensor_type.shape.dim[-1].dim_value
    sys.exit(f"{path}: no 'logits' output")


def prompts(count, length, vocab, seed=0):
    rng = random.Random(seed)
    return [[rng.randrange(1, vocab) for _ in range(length)]
            for _ in range(count)]


def spread(values):
    values = sorted(values)
    return statistics.median(values), values[0], values[-1]


def fmt(t, digits=1):
    m, lo, hi = t
    if lo == hi:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({lo:.{digits}f}..{hi:.{digits}f})"


# ---- Anvil ------------------------------------------------------------------


def anvil_run(args, artifact, ids_file, n, new_tokens):
    cmd = [args.app, artifact, "--prompt-ids-file", ids_file, "-n", str(n),
           "--max-new-tokens", str(new_tokens), "--ignore-eos", "--json",
           "--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    requests, stats = [], None
    for line in out.splitlines():
        obj = json.loads(line)
        if "stats" in obj:
            stats = obj["stats"]
        else:
            requests.append(obj)
    if len(requests) != n or any(len(r["token_ids"]) != new_tokens
                                 for r in requests):
        sys.exit(f"{' '.join(cmd)}: expected {n} requests of {new_tokens} "
                 f"tokens")
    ttfts = sorted(r["ttft_ms"] for r in requests)
    return {"tok_s": stats["generated_tokens_per_wall_second"],
            "ttft_median": statistics.median(ttfts),
            "ttft_first": ttfts[0], "ttft_last": ttfts[-1],
            "seconds": stats["wall_seconds"],
            "preemptions": stats["preemptions"],
            "tokens0": sorted(requests, key=lambda r: r["request"])[0][
                "token_ids"]}


def anvil_cases(args, onnx_path, work, vocab):
    context = args.prompt_tokens + args.new_tokens
    context = (context + 15) // 16 * 16
    artifact = os.path.join(work, "model.anvil")
    start = time.perf_counter()
    subprocess.run([args.anvilc, "-q", "-O2", onnx_path, "-o", artifact,
                    f"--max-context={context}", "--no-tokenizer"],
                   check=True)
    compile_s = time.perf_counter() - start
    largest = max(args.concurrency)
    ids_file = os.path.join(work, "prompts.txt")
    with open(ids_file, "w") as f:
        for p in prompts(largest, args.prompt_tokens, vocab):
            f.write(",".join(map(str, p)) + "\n")
    anvil_run(args, artifact, ids_file, 1, 4)  # warm-up: page cache, code
    rows = {}
    for n in args.concurrency:
        runs, begun = [], time.perf_counter()
        while len(runs) < args.runs:
            runs.append(anvil_run(args, artifact, ids_file, n,
                                  args.new_tokens))
            elapsed = time.perf_counter() - begun
            if elapsed + elapsed / len(runs) > args.case_budget:
                break
        rows[n] = runs
        print(f"  anvil N={n}: {len(runs)} runs, "
              f"{fmt(spread([r['tok_s'] for r in runs]))} tok/s", flush=True)
    os.remove(artifact)
    return rows, compile_s


# ---- ONNX Runtime -------------------------------------------------------------


def ort_worker(args):
    """One process: time --runs requests on one session, print JSON."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    path = model_file(args.model[0])
    model = onnx.load(path, load_external_data=False)
    pasts = []
    for value in model.graph.input:
        if value.name.startswith("past_key_values"):
            dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
            pasts.append((value.name, dims[1], dims[3]))
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options,
                                   providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    present = {name: outputs.index(name.replace("past_key_values", "present"))
               for name, _, _ in pasts}

    def generate(prompt, new_tokens):
        start = time.perf_counter()
        ids = np.array([prompt], np.int64)
        feeds = {"input_ids": ids,
                 "attention_mask": np.ones_like(ids),
                 "position_ids": np.arange(len(prompt),
                                           dtype=np.int64)[None]}
        for name, heads, dim in pasts:
            feeds[name] = np.zeros((1, heads, 0, dim), np.float32)
        tokens, first = [], None
        length = len(prompt)
        while True:
            result = session.run(None, feeds)
            token = int(np.argmax(result[0][0, -1]))
            tokens.append(token)
            if first is None:
                first = time.perf_counter() - start
            if len(tokens) == new_tokens:
                break
            feeds = {"input_ids": np.array([[token]], np.int64),
                     "attention_mask": np.ones((1, length + 1), np.int64),
                     "position_ids": np.array([[length]], np.int64)}
            for name, _, _ in pasts:
                feeds[name] = result[present[name]]
            length += 1
        return time.perf_counter() - start, first, tokens

    vocab = vocab_size(path)
    prompt = prompts(1, args.prompt_tokens, vocab)[0]
    generate(prompt, 4)  # warm-up
    runs = []
    for _ in range(args.runs):
        seconds, first, tokens = generate(prompt, args.new_tokens)
        runs.append({"seconds": seconds, "ttft_ms": first * 1e3,
                     "tokens": tokens})
    print(json.dumps(runs))
    return 0


def ort_cases(args, model_path, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--ort-worker",
           "--model", model_path, "--threads", str(threads),
           "--runs", str(args.runs), "--prompt-tokens",
           str(args.prompt_tokens), "--new-tokens", str(args.new_tokens)]
    runs = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                     text=True).stdout)
    print(f"  onnxruntime {threads} thread(s): {len(runs)} runs, "
          f"{fmt(spread([r['seconds'] for r in runs]), 2)} s per request",
          flush=True)
    return runs


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", action="append",
                    help="folder with model.onnx, or the .onnx file "
                         "(repeatable; default: models/bench/llama-250m "
                         "and models/default)")
    ap.add_argument("--anvilc", default=os.path.join(BUILD, "anvilc"))
    ap.add_argument("--app",
                    default=os.path.join(BUILD, "anvil-example-generate-many"))
    ap.add_argument("--concurrency", default="1,4,16,32")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ort-threads", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--case-budget", type=float, default=150.0,
                    help="seconds; no further run of a case past it")
    ap.add_argument("--ort-worker", action="store_true",
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ort_worker:
        return ort_worker(args)
    args.concurrency = [int(x) for x in args.concurrency.split(",")]
    ort_threads = [int(x) for x in args.ort_threads.split(",")]
    models = args.model or [os.path.join(ROOT, "models/bench/llama-250m"),
                            os.path.join(ROOT, "models/default")]
    print(f"{cpu_name()}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}; prompt {args.prompt_tokens} "
          f"tokens, {args.new_tokens} new (EOS ignored), greedy; Anvil "
          f"{args.threads} threads", flush=True)
    tables = []
    for model in models:
        onnx_path = model_file(model)
        if not os.path.exists(onnx_path):
            sys.exit(f"{onnx_path} is missing; make it with "
                     f"models/make_bench_decoder.py (bench/README.md)")
        name = os.path.relpath(os.path.dirname(onnx_path), ROOT)
        print(f"{name}:", flush=True)
        vocab = vocab_size(onnx_path)
        with tempfile.TemporaryDirectory() as work:
            rows, compile_s = anvil_cases(args, onnx_path, work, vocab)
        ort = {t: ort_cases(args, onnx_path, t) for t in ort_threads}
        tables.append((name, rows, compile_s, ort))

    for name, rows, compile_s, ort in tables:
        print(f"\n{name} (anvilc -O2: {compile_s:.1f} s); median "
              f"(min..max) over runs")
        header = ("| N | runs | Anvil tok/s | Anvil TTFT ms | first..last "
                  "request's TTFT |")
        for t in ort:
            header += f" ORT {t}T tok/s | ORT {t}T TTFT ms | Anvil/ORT {t}T |"
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        for n, runs in rows.items():
            tok = spread([r["tok_s"] for r in runs])
            ttft = spread([r["ttft_median"] for r in runs])
            first = statistics.median(r["ttft_first"] for r in runs)
            last = statistics.median(r["ttft_last"] for r in runs)
            line = (f"| {n} | {len(runs)} | {fmt(tok)} | {fmt(ttft, 0)} "
                    f"| {first:.0f}..{last:.0f} |")
            for t, ort_runs in ort.items():
                per_request = spread([args.new_tokens / r["seconds"]
                                      for r in ort_runs])
                request_s = statistics.median(r["seconds"] for r in ort_runs)
                ttft_ort = statistics.median(r["ttft_ms"] for r in ort_runs)
                queued = ttft_ort + (n - 1) / 2 * request_s * 1e3
                line += (f" {fmt(per_request)} | {queued:.0f}"
                         f"{' queued' if n > 1 else ''} | "
                         f"{tok[0] / per_request[0]:.2f} |")
            print(line)
        ort_tokens = next(iter(ort.values()))[0]["tokens"]
        anvil_tokens = rows[min(rows)][0]["tokens0"]
        same = next((i for i, (a, b) in enumerate(zip(anvil_tokens,
                                                      ort_tokens))
                     if a != b), len(anvil_tokens))
        print(f"greedy ids of request 0: Anvil and ORT agree on the first "
              f"{same} of {len(anvil_tokens)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

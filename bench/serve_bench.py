#!/usr/bin/env python3
"""anvil-serve under load on loopback: requests per second, output tokens
per second and time to first token (p50, p99) at 1, 8 and 32 concurrent
clients.

For each model (a folder with model.onnx, or the .onnx file) anvilc
compiles the paged step (-O2, --max-context = prompt + new tokens rounded
up to the KV block size, the tokenizer beside the model embedded) and one
anvil-serve serves it on 127.0.0.1 (--threads, a free port). Each client
is a thread with its own urllib3 connection pool (urllib3 comes from the
Python registry with selenium) that sends --requests-per-client streamed
/v1/completions requests one after another: --prompt-tokens seeded random
token ids, --new-tokens tokens with EOS ignored, so every request has the
same length. TTFT is the time from sending a request to its first token's
chunk, on the client. A run is one concurrency level from the first send
to the last [DONE]; requests/s and output tokens/s are over its wall time.
Each level is run --runs times after one untimed warm-up request, and the
table shows the median over runs (min..max for the rates); p99 over a
run's few requests is close to its maximum.

Usage: bench/serve_bench.py [--model models/default]
           [--model models/bench/llama-250m] [--concurrency 1,8,32]
           [--prompt-tokens 64] [--new-tokens 64] [--requests-per-client 2]
           [--threads 2] [--runs 3] [--json FILE]
The machine is shared: run it under the build lock
(flock /tmp/anvil-build.lock bench/serve_bench.py) and say so with the
numbers.
"""
import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import urllib3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_throughput import fmt, model_file, spread, vocab_size  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bin")
LISTENING = re.compile(r"listening on (http://[0-9.]+:\d+)")


def percentile(values, q):
    """The nearest-rank percentile (q in [0, 100]) of `values`."""
    values = sorted(values)
    rank = max(1, -(-len(values) * q // 100))
    return values[int(rank) - 1]


class Server:
    """anvil-serve on a free loopback port, stopped on exit."""

    def __init__(self, artifact, threads):
        self.process = subprocess.Popen(
            [os.path.join(BUILD, "anvil-serve"), artifact, "--port", "0",
             "--threads", str(threads), "--max-queue", "256"],
            stderr=subprocess.PIPE, text=True)
        self.url = None
        deadline = time.monotonic() + 300
        for line in self.process.stderr:
            match = LISTENING.search(line)
            if match:
                self.url = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.process.kill()
            sys.exit("anvil-serve did not start")
        # Keep draining stderr so the server never blocks on it.
        threading.Thread(target=lambda: [None for _ in self.process.stderr],
                         daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def one_request(pool, url, prompt, new_tokens):
    """(ttft seconds, output tokens, end time) of one streamed request."""
    body = json.dumps({"prompt": prompt, "max_tokens": new_tokens,
                       "ignore_eos": True, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    start = time.perf_counter()
    response = pool.request("POST", url + "/v1/completions", body=body,
                            headers={"Content-Type": "application/json"},
                            preload_content=False, timeout=600)
    if response.status != 200:
        sys.exit(f"status {response.status}: {response.read()[:300]!r}")
    first, tokens, buffer = None, None, b""
    for data in response.stream(4096):
        buffer += data
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            payload = event[len(b"data: "):]
            if payload == b"[DONE]":
                continue
            chunk = json.loads(payload)
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            elif first is None and chunk["choices"]:
                first = time.perf_counter()
    response.release_conn()
    end = time.perf_counter()
    if tokens != new_tokens or first is None:
        sys.exit(f"expected {new_tokens} tokens, got {tokens}")
    return first - start, tokens, end


def run_level(url, clients, per_client, prompts, new_tokens):
    results, lock = [], threading.Lock()

    def client(index):
        pool = urllib3.PoolManager(maxsize=1)
        for r in range(per_client):
            prompt = prompts[(index * per_client + r) % len(prompts)]
            outcome = one_request(pool, url, prompt, new_tokens)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=client, args=(i,))
               for i in range(clients)]
    begun = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(r[2] for r in results) - begun
    ttfts = [r[0] for r in results]
    return {"requests": len(results), "wall_s": wall,
            "requests_per_s": len(results) / wall,
            "output_tok_per_s": sum(r[1] for r in results) / wall,
            "ttft_p50_ms": 1000 * percentile(ttfts, 50),
            "ttft_p99_ms": 1000 * percentile(ttfts, 99)}


def bench_model(args, path, work):
    onnx_path = model_file(path)
    vocab = vocab_size(onnx_path)
    context = (args.prompt_tokens + args.new_tokens + 15) // 16 * 16
    artifact = os.path.join(work, "model.anvil")
    subprocess.run([os.path.join(BUILD, "anvilc"), "-q", "-O2", onnx_path,
                    "-o", artifact, f"--max-context={context}"], check=True)
    rng = random.Random(0)
    prompts = [[rng.randrange(1, vocab) for _ in range(args.prompt_tokens)]
               for _ in range(max(args.concurrency) * args.requests_per_client)]
    rows = []
    with Server(artifact, args.threads) as server:
        pool = urllib3.PoolManager()
        one_request(pool, server.url, prompts[0], 4)  # warm-up
        for clients in args.concurrency:
            runs = [run_level(server.url, clients, args.requests_per_client,
                              prompts, args.new_tokens)
                    for _ in range(args.runs)]
            row = {"model": os.path.basename(os.path.normpath(path)),
                   "clients": clients, "runs": runs}
            rows.append(row)
            print(f"  {row['model']} x{clients}: "
                  f"{statistics.median(r['output_tok_per_s'] for r in runs):.1f}"
                  " tok/s", file=sys.stderr, flush=True)
    os.remove(artifact)
    return rows


def table(rows, args):
    lines = [f"anvil-serve, loopback, {args.prompt_tokens}-token prompts, "
             f"{args.new_tokens} new tokens (EOS ignored), "
             f"{args.requests_per_client} streamed requests per client, "
             f"--threads {args.threads}; median of {args.runs} runs "
             f"(min..max); {platform.node()}, {os.cpu_count()} CPUs",
             "",
             "| model | clients | requests/s | output tok/s | TTFT p50 ms "
             "| TTFT p99 ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        runs = row["runs"]
        med = lambda key: statistics.median(r[key] for r in runs)  # noqa
        lines.append(
            f"| {row['model']} | {row['clients']} | "
            f"{fmt(spread([r['requests_per_s'] for r in runs]), 2)} | "
            f"{fmt(spread([r['output_tok_per_s'] for r in runs]))} | "
            f"{med('ttft_p50_ms'):.0f} | {med('ttft_p99_ms'):.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--requests-per-client", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write the runs as JSON here")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    if not args.model:
        args.model = [os.path.join(ROOT, "models", "default")]
        bench = os.path.join(ROOT, "models", "bench", "llama-250m")
        if os.path.exists(bench):
            args.model.append(bench)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for path in args.model:
            rows += bench_model(args, path, work)
    print(table(rows, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

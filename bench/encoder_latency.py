#!/usr/bin/env python3
"""A full-size BERT-style encoder (BERT-base's shapes by default): Anvil
beside ONNX Runtime on the same ONNX file, with the same thread count.

The graph comes from models/make_bench_encoder.py (seeded random weights,
the form a transformers BERT export with the eager attention has: exact
GELU by Erf, LayerNormalization, an additive key-padding mask), written
once per sequence length into the gitignored models/bench/encoder/. Each
is compiled with `anvilc -O2`, its output checked against ONNX Runtime's
(max |anvil - ort| / max |ort|; above 1e-3 stops the run), then timed as
cnn_latency.py does (bench/graph_latency.py). Inputs: random token ids,
the last eighth of the sequence padding (attention_mask 0). Printed per
sequence length and thread count: Anvil ms, ORT ms, ORT/Anvil (above 1:
Anvil is faster) and Anvil's GFLOP/s (2 x the matmul weights x tokens,
plus the attention's 4 x seq^2 x hidden per layer).

Usage: bench/encoder_latency.py [--seq 128] [--layers 12] [--threads 1,2]
           [--runs 10] [--rounds 3] [--lock FILE]
           [--anvilc build/bin/anvilc] [--anvil-run build/bin/anvil-run]
"""
import argparse
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graph_latency  # noqa: E402

HIDDEN, FFN, VOCAB = 768, 3072, 30522


def model_path(seq, layers):
    """models/bench/encoder/bert-L<layers>-s<seq>.onnx, written on first
    use (batch 1, the sequence length fixed)."""
    import onnx
    import make_bench_encoder
    folder = os.path.join(ROOT, "models", "bench", "encoder")
    path = os.path.join(folder, f"bert-L{layers}-s{seq}.onnx")
    if not os.path.exists(path):
        os.makedirs(folder, exist_ok=True)
        args = make_bench_encoder.parse(
            [path, "--layers", str(layers), "--batch", "1", "--seq", str(seq)])
        onnx.save(make_bench_encoder.build(args), path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    graph_latency.add_arguments(ap)
    ap.set_defaults(runs=10)
    ap.add_argument("--seq", default="128",
                    help="sequence lengths, comma-separated (default 128)")
    ap.add_argument("--layers", type=int, default=12,
                    help="encoder layers (default 12)")
    args = ap.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    print(f"BERT-base shapes, {args.layers} layers, batch 1; per thread "
          f"count the median (min..max) over {args.rounds} rounds of each "
          f"round's median of {args.runs} runs, in ms")
    print("| seq | threads | Anvil ms | ORT ms | ORT/Anvil | Anvil GFLOP/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for seq in [int(s) for s in args.seq.split(",")]:
            model = model_path(seq, args.layers)
            rng = np.random.default_rng(0)
            mask = np.ones((1, seq), np.int64)
            mask[:, seq - seq // 8:] = 0
            paths = {"input_ids": os.path.join(work, f"ids{seq}.npy"),
                     "attention_mask": os.path.join(work, f"mask{seq}.npy")}
            np.save(paths["input_ids"],
                    rng.integers(0, VOCAB, (1, seq)).astype(np.int64))
            np.save(paths["attention_mask"], mask)
            artifact = graph_latency.compile_checked(
                args, f"bert-s{seq}", model, paths, work, limit=1e-3)
            per_layer = 2 * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN) * seq + \
                4 * seq * seq * HIDDEN
            flops = args.layers * per_layer
            for t in threads:
                print(graph_latency.table_row(
                    [seq, t], *graph_latency.time_rounds(
                        args, artifact, model, paths, t), flops), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

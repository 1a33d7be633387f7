#!/usr/bin/env python3
"""Graph-path attention (an encoder's or a vision transformer's, or a
decoder compiled as a plain graph): Anvil beside ONNX Runtime on the same
ONNX file, with the same thread count.

Each case is one block `Softmax(Q K^T x scale [+ mask]) V` on [1, heads,
seq, head_dim] inputs, written with onnx.helper as exporters write it
(Transpose, MatMul, Mul, Add, Softmax, MatMul), which
anvil-recognize-attention turns into one `attention` launch:
- `encoder`: no mask;
- `causal`: an additive [1, 1, seq, seq] mask input (0 on and below the
  diagonal, -10000 above), as a decoder exported without a KV cache has;
- `padded`: an additive [1, 1, 1, seq] key-padding mask (BERT's).
Each model is compiled with `anvilc -O2`, its output checked against ONNX
Runtime's on random inputs (max |anvil - ort| / max |ort| printed; above
1e-4 stops the run), then timed: `anvil-run --repeat` and an ONNX Runtime
session (graph optimizations on) each in its own process, alternated
--rounds times. Printed per case and thread count: the median over rounds
of each round's median, the min..max of those, ORT/Anvil (above 1: Anvil
is faster) and Anvil's GFLOP/s (the two products' 4 x heads x seq^2 x
head_dim FLOPs; masked-out work counted too).

Usage: bench/attention_latency.py [--cases encoder,causal,padded]
           [--heads 12] [--seq 128,512] [--head-dim 64] [--threads 1,2]
           [--runs 20] [--rounds 3] [--lock FILE]
           [--anvilc build/bin/anvilc] [--anvil-run build/bin/anvil-run]
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import graph_latency  # noqa: E402


def build_model(case, heads, seq, head_dim):
    """The attention block of `case` as an onnx.ModelProto."""
    import onnx
    from onnx import TensorProto, helper
    shape = [1, heads, seq, head_dim]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)
              for n in ("q", "k", "v")]
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Mul", ["scores", "scale"], ["scaled"]),
    ]
    logits = "scaled"
    if case in ("causal", "padded"):
        mask_shape = [1, 1, seq, seq] if case == "causal" else [1, 1, 1, seq]
        inputs.append(helper.make_tensor_value_info("mask", TensorProto.FLOAT,
                                                    mask_shape))
        nodes.append(helper.make_node("Add", ["scaled", "mask"], ["masked"]))
        logits = "masked"
    nodes += [
        helper.make_node("Softmax", [logits], ["weights"], axis=-1),
        helper.make_node("MatMul", ["weights", "v"], ["out"]),
    ]
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [],
                               [1.0 / np.sqrt(head_dim)])
    graph = helper.make_graph(
        nodes, f"attention_{case}", inputs,
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, shape)],
        initializer=[scale])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def make_inputs(case, heads, seq, head_dim, work):
    """Random inputs saved as .npy: {name: path}."""
    rng = np.random.default_rng(0)
    feeds = {n: rng.standard_normal((1, heads, seq, head_dim)).astype(
        np.float32) for n in ("q", "k", "v")}
    if case == "causal":
        feeds["mask"] = np.triu(np.full((seq, seq), -10000.0, np.float32),
                                1)[None, None]
    elif case == "padded":
        mask = np.zeros((1, 1, 1, seq), np.float32)
        mask[..., seq - seq // 8:] = -10000.0  # the last eighth is padding
        feeds["mask"] = mask
    paths = {}
    for name, value in feeds.items():
        paths[name] = os.path.join(work, f"{name}.npy")
        np.save(paths[name], value)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    graph_latency.add_arguments(ap)
    ap.add_argument("--cases", default="encoder,causal,padded",
                    help="comma-separated: encoder, causal, padded")
    ap.add_argument("--heads", type=int, default=12,
                    help="attention heads (default 12)")
    ap.add_argument("--seq", default="128,512",
                    help="sequence lengths, comma-separated (default 128,512)")
    ap.add_argument("--head-dim", type=int, default=64,
                    help="head dimension (default 64)")
    args = ap.parse_args()
    import onnx
    threads = [int(t) for t in args.threads.split(",")]
    print(f"{args.heads} heads x head_dim {args.head_dim}, batch 1; per "
          f"thread count the median (min..max) over {args.rounds} rounds of "
          f"each round's median of {args.runs} runs, in ms")
    print("| case | seq | threads | Anvil ms | ORT ms | ORT/Anvil | "
          "Anvil GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for case in args.cases.split(","):
            for seq in [int(s) for s in args.seq.split(",")]:
                label = f"{case}-{seq}"
                folder = os.path.join(work, label)
                os.makedirs(folder)
                model = os.path.join(folder, "model.onnx")
                onnx.save(build_model(case, args.heads, seq, args.head_dim),
                          model)
                paths = make_inputs(case, args.heads, seq, args.head_dim,
                                    folder)
                artifact = graph_latency.compile_checked(
                    args, label, model, paths, folder, limit=1e-4)
                flops = 4 * args.heads * seq * seq * args.head_dim
                for t in threads:
                    print(graph_latency.table_row(
                        [case, seq, t], *graph_latency.time_rounds(
                            args, artifact, model, paths, t), flops),
                        flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

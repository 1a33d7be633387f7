#!/usr/bin/env python3
"""Write a full-size BERT-style encoder benchmark graph with seeded random
weights.

The zoo's BERT is a 64-wide, 2-layer export (tests want it small); speed
needs the real shapes. This graph is built with onnx.helper (no torch
needed) in the form a transformers BERT exported in eval mode with the
eager attention has (opset 17):

  embeddings   Gather of the word table by input_ids, plus the position
               and token-type rows (constants), LayerNormalization
  mask         attention_mask [batch, seq] (int64, 1 = a real token) as
               (1 - mask) x float's lowest, Unsqueezed to [batch, 1, 1, seq]
  layers       per layer: Q, K, V as MatMul + bias, Reshape to heads and
               Transpose (K straight to K^T, perm [0, 2, 3, 1]); scores
               MatMul(q, k^T) / sqrt(head_dim)
               + mask, Softmax, MatMul(v), Transpose and Reshape back; the
               output projection + bias + residual, LayerNormalization;
               the FFN MatMul + bias, exact GELU (x/2 (1 + erf(x/sqrt2))),
               MatMul + bias + residual, LayerNormalization
  output       last_hidden_state [batch, seq, hidden]

Sizes default to BERT-base (hidden 768, 12 layers, 12 heads, FFN 3072,
vocab 30522: 109M parameters). Weights N(0, 0.02^2) from numpy's
default_rng(seed), LayerNorm scales 1 and biases 0. `batch` and `seq` are
named dims unless --batch / --seq fix them.

Usage: models/make_bench_encoder.py OUT.onnx [--layers 12] [--hidden 768]
           [--heads 12] [--ffn 3072] [--vocab 30522] [--max-positions 512]
           [--batch N] [--seq N] [--seed 0]
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_bench_cnn  # noqa: E402


class Builder(make_bench_cnn.Builder):
    """make_bench_cnn's (unique names, seeded weights) with a transformer's
    pieces."""

    def const(self, array, prefix="c"):
        return super().const(np.asarray(array), prefix)

    def node(self, op, inputs, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def weight(self, shape):
        return self.const(self.rng.normal(0, 0.02, shape).astype(np.float32),
                          "w")

    def linear(self, x, cin, cout):
        """MatMul by a [cin, cout] weight, then + bias (torch's Linear)."""
        y = self.node("MatMul", [x, self.weight([cin, cout])])
        return self.node("Add", [y, self.weight([cout])])

    def layer_norm(self, x, dim):
        return self.node("LayerNormalization",
                         [x, self.const(np.ones(dim, np.float32), "gamma"),
                          self.const(np.zeros(dim, np.float32), "beta")],
                         axis=-1, epsilon=1e-12)


def encoder_layer(b, x, mask, args):
    hidden, heads = args.hidden, args.heads
    head_dim = hidden // heads
    heads_shape = b.const(np.array([0, 0, heads, head_dim], np.int64),
                          "shape")

    def split_heads(t):
        r = b.node("Reshape", [t, heads_shape])
        return b.node("Transpose", [r], perm=[0, 2, 1, 3])

    q = split_heads(b.linear(x, hidden, hidden))
    # K^T in one Transpose of the [batch, seq, heads, head_dim] keys, as
    # torch.onnx exports k.permute(0, 2, 1, 3).transpose(-1, -2).
    kt = b.node("Transpose", [b.node("Reshape", [
        b.linear(x, hidden, hidden), heads_shape])], perm=[0, 2, 3, 1])
    v = split_heads(b.linear(x, hidden, hidden))
    scores = b.node("MatMul", [q, kt])
    scaled = b.node("Div", [scores, b.const(np.array(np.sqrt(head_dim),
                                                     np.float32))])
    weights = b.node("Softmax", [b.node("Add", [scaled, mask])], axis=-1)
    context = b.node("Transpose", [b.node("MatMul", [weights, v])],
                     perm=[0, 2, 1, 3])
    merged = b.node("Reshape", [context, b.const(np.array([0, 0, hidden],
                                                          np.int64), "shape")])
    attended = b.layer_norm(
        b.node("Add", [b.linear(merged, hidden, hidden), x]), hidden)
    up = b.linear(attended, hidden, args.ffn)
    erf = b.node("Erf", [b.node("Div", [up, b.const(
        np.array(np.sqrt(2.0), np.float32))])])
    gelu = b.node("Mul", [b.node("Mul", [up, b.node("Add", [
        erf, b.const(np.array(1.0, np.float32))])]),
        b.const(np.array(0.5, np.float32))])
    down = b.linear(gelu, args.ffn, hidden)
    return b.layer_norm(b.node("Add", [down, attended]), hidden)


def build(args):
    b = Builder(args.seed)
    batch = args.batch if args.batch else "batch"
    seq = args.seq if args.seq else "seq"
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                        [batch, seq])
    mask_in = helper.make_tensor_value_info("attention_mask",
                                            TensorProto.INT64, [batch, seq])
    hidden = args.hidden
    words = b.node("Gather", [b.weight([args.vocab, hidden]), "input_ids"])
    # Position rows 0..seq-1: Slice of the table by the ids' length.
    length = b.node("Gather", [b.node("Shape", ["input_ids"]),
                               b.const(np.array(1, np.int64))])
    positions = b.node("Slice", [b.weight([args.max_positions, hidden]),
                                 b.const(np.array([0], np.int64)),
                                 b.node("Unsqueeze", [length, b.const(
                                     np.array([0], np.int64))])])
    token_type = b.weight([hidden])  # token type 0's row
    x = b.layer_norm(b.node("Add", [b.node("Add", [words, positions]),
                                    token_type]), hidden)
    # (1 - mask) x lowest, [batch, 1, 1, seq]
    m = b.node("Cast", [b.node("Unsqueeze", ["attention_mask", b.const(
        np.array([1, 2], np.int64))])], to=TensorProto.FLOAT)
    mask = b.node("Mul", [b.node("Sub", [b.const(np.array(1.0, np.float32)),
                                         m]),
                          b.const(np.array(np.finfo(np.float32).min,
                                           np.float32))])
    for _ in range(args.layers):
        x = encoder_layer(b, x, mask, args)
    b.nodes[-1].output[0] = "last_hidden_state"
    out = helper.make_tensor_value_info("last_hidden_state",
                                        TensorProto.FLOAT,
                                        [batch, seq, hidden])
    graph = helper.make_graph(b.nodes, "bert_encoder", [ids, mask_in], [out],
                              b.inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--ffn", type=int, default=3072)
    ap.add_argument("--vocab", type=int, default=30522)
    ap.add_argument("--max-positions", type=int, default=512)
    ap.add_argument("--batch", type=int,
                    help="a fixed batch size (default: a named dim)")
    ap.add_argument("--seq", type=int,
                    help="a fixed sequence length (default: a named dim)")
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


def main():
    args = parse()
    model = build(args)
    onnx.checker.check_model(model)
    onnx.save(model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

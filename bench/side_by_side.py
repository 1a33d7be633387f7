#!/usr/bin/env python3
"""Anvil beside ONNX Runtime on the same ONNX decoder, one command.

For each variant (fp32; bf16, int8, int4-g128, w8a8 and w4a8-g128 when
`anvilc --help` lists --quantize) the harness compiles the model with anvilc and times it
with `anvil-bench --output json` (batch 1: prefill of --prompt tokens, and
--gen decode steps after a context of --prompt tokens), and times ONNX
Runtime in its own process (this script with --ort-worker; graph
optimizations on, ORT_ENABLE_ALL; the same thread count; prefill of the
same prompt, then --gen greedy steps feeding present KV back as past).
Both sides warm up once and report the median and min..max of --runs runs.

Reported per variant, as Anvil/ORT ratios: prefill tok/s, decode tok/s,
time to first token, peak RSS (each side's process: anvil-bench's
peak_rss_bytes, the ORT worker's VmHWM), and the roofline shares computed
from ceilings measured in the same run (`anvil-bench --ceilings` before
and after the timed runs, the higher of the two: read bandwidth, fp32 FMA
peak):
  decode roofline = decode tok/s x weight bytes / read bandwidth
    (Anvil: the artifact's weights section; ORT: the ONNX file and its
    external data; both less the float tables only a Gather reads, the
    token embedding, of which a decode step reads one row)
  prefill FLOP share = 2 x matmul parameters x prefill tok/s / fp32 peak
    (matmul parameters: the MatMul/Gemm weights of the fp32 model, the LM
    head included and the embedding table not; attention is not counted)

ONNX Runtime's int4 row runs a MatMulNBits model (4 bits, block 128,
symmetric, accuracy_level 4: ORT's fast path, which quantizes activations
to int8 per block) that this script writes with onnxruntime's own
quantizer; it is compared with Anvil's int4-g128 (float activations) and
w4a8-g128 (int8 activations per token, as ORT's fast path quantizes
them). Anvil's bf16, int8 and w8a8 rows are compared with ORT's fp32 row
(the issue's targets).

Usage:
  bench/side_by_side.py [--model models/bench/llama-250m] [--threads 2]
      [--prompt 128] [--gen 64] [--runs 5] [--quick] [--write-docs]
  --quick: --prompt 32 --gen 16 --runs 3, fp32 and ORT int4 only (a few
  minutes on the 250M decoder).
  --write-docs: regenerate docs/performance.md and docs/performance.png
  from this run (matplotlib: build/venv's, or Debian's python3-matplotlib
  through /usr/bin/python3).
  --lock FILE: hold a file lock (flock) around each timed process, as this
  project's shared machine asks (/tmp/anvil-build.lock).
  --docs-dir DIR: where --write-docs writes (default docs/; test/Tools/
  side-by-side.test writes to a temporary folder).
  --ort-int4-cache DIR: where ORT's int4 model is written and reused, in a
  folder named after the model's (default models/bench/ort-int4-b128).

Make the 250M decoder with models/make_bench_decoder.py --size 250m
--out models/bench/llama-250m (models/README.md).
"""
import argparse
import fcntl
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
QUANTIZED = ["bf16", "int8", "int4-g128", "w8a8", "w4a8-g128"]


def model_file(path):
    return os.path.join(path, "model.onnx") if os.path.isdir(path) else path


def spread(values):
    values = sorted(values)
    return statistics.median(values), values[0], values[-1]


def fmt(t, digits=1):
    if t is None:
        return "-"
    m, lo, hi = t
    if f"{lo:.{digits}f}" == f"{hi:.{digits}f}":
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ({lo:.{digits}f}..{hi:.{digits}f})"


def ratio(a, b, digits=2):
    if a is None or b is None or not b[0]:
        return "-"
    return f"{a[0] / b[0]:.{digits}f}"


class Lock:
    """flock on a file around a block, or nothing without a path."""

    def __init__(self, path):
        self.path, self.f = path, None

    def __enter__(self):
        if self.path:
            self.f = open(self.path, "a")
            fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        if self.f:
            fcntl.flock(self.f, fcntl.LOCK_UN)
            self.f.close()


def run_locked(cmd, lock):
    """Runs cmd under the lock; its stdout."""
    with Lock(lock):
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                 f"{proc.stderr}")
    return proc.stdout


def peak_rss_bytes():
    """This process's peak RSS (VmHWM: its own, since its exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def onnx_weight_bytes(path):
    total = os.path.getsize(path)
    folder = os.path.dirname(path)
    import onnx
    model = onnx.load(path, load_external_data=False)
    files = set()
    for init in model.graph.initializer:
        for entry in init.external_data:
            if entry.key == "location":
                files.add(entry.value)
    for f in files:
        total += os.path.getsize(os.path.join(folder, f))
    return total


def gathered_table_bytes(path):
    """Bytes of the float tables only a Gather reads (the token embedding,
    unless an LM head reads it too): a decode step reads one row of them,
    so the decode roofline leaves them out. Both sides keep them in float
    (anvilc --quantize quantizes matmul weights only; so does ORT's
    MatMulNBits quantizer)."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    inits = {i.name: i for i in model.graph.initializer}
    by_matmul = {name for node in model.graph.node
                 if node.op_type in ("MatMul", "Gemm") for name in node.input}
    sizes = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.FLOAT16: 2,
             onnx.TensorProto.BFLOAT16: 2}
    total = 0
    for node in model.graph.node:
        table = inits.get(node.input[0]) if node.op_type == "Gather" else None
        if (table is not None and len(table.dims) == 2 and
                table.data_type in sizes and table.name not in by_matmul):
            total += table.dims[0] * table.dims[1] * sizes[table.data_type]
    return total


def matmul_params(path):
    """Parameters of the MatMul/Gemm weights (initializers they read)."""
    import onnx
    model = onnx.load(path, load_external_data=False)
    inits = {i.name: i for i in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Gemm"):
            for name in node.input:
                if name in inits and len(inits[name].dims) == 2:
                    total += inits[name].dims[0] * inits[name].dims[1]
    return total


def vocab_size(path):
    import onnx
    model = onnx.load(path, load_external_data=False)
    for out in model.graph.output:
        if out.name == "logits":
            return out.type.tensor_type.shape.dim[-1].dim_value
    sys.exit(f"{path}: no 'logits' output")


# ---- ONNX Runtime -----------------------------------------------------------


def ort_worker(args):
    """One process: warm-up, then --runs timed prefill + decode; JSON out."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    path = args.ort_worker
    model = onnx.load(path, load_external_data=False)
    pasts = []
    for value in model.graph.input:
        if value.name.startswith("past_key_values"):
            dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
            pasts.append((value.name, dims[1], dims[3]))
    del model
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    session = ort.InferenceSession(path, options,
                                   providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    present = {name: outputs.index(name.replace("past_key_values", "present"))
               for name, _, _ in pasts}

    def generate(prompt, steps):
        ids = np.array([prompt], np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
                 "position_ids": np.arange(len(prompt), dtype=np.int64)[None]}
        for name, heads, dim in pasts:
            feeds[name] = np.zeros((1, heads, 0, dim), np.float32)
        start = time.perf_counter()
        result = session.run(None, feeds)
        token = int(np.argmax(result[0][0, -1]))
        ttft = time.perf_counter() - start
        length = len(prompt)
        start = time.perf_counter()
        for _ in range(steps):
            feeds = {"input_ids": np.array([[token]], np.int64),
                     "attention_mask": np.ones((1, length + 1), np.int64),
                     "position_ids": np.array([[length]], np.int64)}
            for name, _, _ in pasts:
                feeds[name] = result[present[name]]
            result = session.run(None, feeds)
            token = int(np.argmax(result[0][0, -1]))
            length += 1
        return ttft, time.perf_counter() - start

    rng = random.Random(args.seed)
    vocab = args.vocab
    generate([rng.randrange(vocab) for _ in range(args.prompt)], args.gen)
    runs = []
    for _ in range(args.runs):
        prompt = [rng.randrange(vocab) for _ in range(args.prompt)]
        ttft, decode = generate(prompt, args.gen)
        runs.append({"ttft_ms": ttft * 1e3,
                     "prefill_tok_s": args.prompt / ttft,
                     "decode_tok_s": args.gen / decode})
    print(json.dumps({"runs": runs, "peak_rss_bytes": peak_rss_bytes()}))
    return 0


def ort_side(args, path, vocab):
    cmd = [sys.executable, os.path.abspath(__file__), "--ort-worker", path,
           "--threads", str(args.threads), "--runs", str(args.runs),
           "--prompt", str(args.prompt), "--gen", str(args.gen),
           "--vocab", str(vocab), "--seed", str(args.seed)]
    out = json.loads(run_locked(cmd, args.lock))
    runs, rss = out["runs"], out["peak_rss_bytes"]
    return {"prefill": spread([r["prefill_tok_s"] for r in runs]),
            "decode": spread([r["decode_tok_s"] for r in runs]),
            "ttft": spread([r["ttft_ms"] for r in runs]),
            "rss": rss, "weight_bytes": onnx_weight_bytes(path)}


def write_ort_int4(src, dst):
    """src quantized to MatMulNBits (4 bits, block 128) by onnxruntime."""
    import logging
    import onnx
    logging.disable(logging.INFO)
    try:
        from onnxruntime.quantization import matmul_nbits_quantizer as q
    except ImportError:
        from onnxruntime.quantization import matmul_4bits_quantizer as q
    model = onnx.load(src)
    cls = getattr(q, "MatMulNBitsQuantizer", None) or q.MatMul4BitsQuantizer
    quantizer = cls(model, block_size=128, is_symmetric=True,
                    accuracy_level=4)
    quantizer.process()
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    onnx.save_model(quantizer.model.model, dst, save_as_external_data=True,
                    all_tensors_to_one_file=True,
                    location=os.path.basename(dst) + "_data")


# ---- Anvil ------------------------------------------------------------------


def anvilc_quantize_flag(anvilc):
    out = subprocess.run([anvilc, "--help"], capture_output=True, text=True)
    return "--quantize" in out.stdout + out.stderr


def anvil_side(args, onnx_path, work, quantize):
    artifact = os.path.join(work, f"model-{quantize or 'fp32'}.anvil")
    context = (args.prompt + args.gen + 16 + 15) // 16 * 16
    cmd = [args.anvilc, "-q", "-O2", onnx_path, "-o", artifact,
           f"--max-context={max(context, 64)}", "--no-tokenizer"]
    if quantize:
        cmd.append(f"--quantize={quantize}")
    with Lock(args.lock):
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        compile_s = time.perf_counter() - start
    cmd = [args.anvil_bench, artifact, "-p", str(args.prompt), "-n",
           str(args.gen), "-d", str(args.prompt), "-t", str(args.threads),
           "-b", "1", "-r", str(args.runs), "-s", str(args.seed),
           "--output", "json"]
    bench = json.loads(run_locked(cmd, args.lock))
    os.remove(artifact)
    rss = bench["peak_rss_bytes"]
    rows = {r["kind"]: r for r in bench["results"]}
    pp, tg = rows["pp"], rows["tg"]
    return {"prefill": (pp["tok_s"], pp["tok_s_min"], pp["tok_s_max"]),
            "decode": (tg["tok_s"], tg["tok_s_min"], tg["tok_s_max"]),
            "ttft": (pp["ttft_ms"], pp["ttft_ms_min"], pp["ttft_ms_max"]),
            "rss": rss, "weight_bytes": bench["model"]["weight_bytes"],
            "compile_s": compile_s}


# ---- report -----------------------------------------------------------------


def shares(side, ceil, flops_per_token, table_bytes):
    bw = ceil["read_gb_s"] * 1e9
    peak = ceil["fp32_gflops"] * 1e9
    read = side["weight_bytes"] - table_bytes  # a step reads one table row
    roof = tuple(v * read / bw for v in side["decode"])
    flop = tuple(v * flops_per_token / peak for v in side["prefill"])
    return roof, flop


def pct(t):
    return fmt(tuple(100 * v for v in t), 0) + "%" if t else "-"


def table(rows):
    head = ["variant", "vs ORT", "prefill tok/s Anvil", "ORT", "Anvil/ORT",
            "decode tok/s Anvil", "ORT", "Anvil/ORT", "TTFT ms Anvil", "ORT",
            "Anvil/ORT", "peak RSS MiB Anvil", "ORT", "Anvil/ORT",
            "decode roofline Anvil", "ORT", "prefill FLOP share Anvil",
            "ORT"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        a, o = r.get("anvil") or {}, r.get("ort") or {}

        def rss(side):
            return (side["rss"] / 2**20,) * 3 if side else None
        cells = [r["name"], r["vs"]]
        for key, digits in (("prefill", 1), ("decode", 1), ("ttft", 0)):
            cells += [fmt(a.get(key), digits), fmt(o.get(key), digits),
                      ratio(a.get(key), o.get(key))]
        cells += [fmt(rss(a), 0), fmt(rss(o), 0), ratio(rss(a), rss(o))]
        cells += [pct(a.get("roof")), pct(o.get("roof")),
                  pct(a.get("flop")), pct(o.get("flop"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows, png, title):
    """Prefill and decode tok/s bars per variant (both sides), to png."""
    script = r'''
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows, png, title = json.loads(sys.stdin.read())
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, key, label in ((axes[0], "prefill", "prefill tok/s"),
                       (axes[1], "decode", "decode tok/s")):
    names = [r["name"] for r in rows]
    xs = range(len(rows))
    for offset, side, color in ((-0.2, "anvil", "tab:orange"),
                                (0.2, "ort", "tab:blue")):
        vals = [r[side][key][0] if r.get(side) else 0 for r in rows]
        lo = [r[side][key][0] - r[side][key][1] if r.get(side) else 0
              for r in rows]
        hi = [r[side][key][2] - r[side][key][0] if r.get(side) else 0
              for r in rows]
        ax.bar([x + offset for x in xs], vals, 0.4, yerr=[lo, hi],
               color=color, capsize=3,
               label="Anvil" if side == "anvil" else "ONNX Runtime")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names)
    ax.set_ylabel(label)
    ax.legend()
fig.suptitle(title, fontsize=9)
fig.tight_layout()
fig.savefig(png, dpi=100)
'''
    payload = json.dumps([rows, png, title])
    for python in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run([python, "-c", "import matplotlib"],
                               capture_output=True)
        if probe.returncode == 0:
            subprocess.run([python, "-c", script], input=payload, text=True,
                           check=True)
            return True
    print("no matplotlib (build/venv or Debian's python3-matplotlib): "
          "no plot written", file=sys.stderr)
    return False


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


DOC_HEAD = """# Performance: Anvil beside ONNX Runtime

Generated by `bench/side_by_side.py --write-docs` (do not edit the
measured parts by hand; rerun it). Issue #12 tracks the work.

"""

HAND_WRITTEN = ("<!-- Hand-written from here on: "
                "bench/side_by_side.py --write-docs keeps it. -->")

DOC_COLUMNS = """
## What the columns mean

- **variant**: how the model was compiled (`anvilc -O2`, plus
  `--quantize=...` for quantized rows) and which ONNX Runtime model it is
  compared with (**vs ORT**: `fp32` is the same ONNX file; `int4` is a
  `MatMulNBits` model (4 bits, block 128, symmetric, `accuracy_level` 4)
  written by onnxruntime's own quantizer).
- **prefill tok/s**: prompt tokens / the time to process them (Anvil: the
  `pp` row of `anvil-bench`, submit to the first generated token; ORT: one
  `InferenceSession.run` of the prompt plus the argmax).
- **decode tok/s**: greedy decode steps per second after a context of the
  prompt's length (Anvil: the `tg` row of `anvil-bench` with `-d` = the
  prompt; ORT: one `run` per token, present KV fed back as past).
- **TTFT ms**: time to first token of the prompt (lower is better, so an
  Anvil/ORT ratio below 1 is Anvil ahead).
- **peak RSS MiB**: the peak resident set of each side's process, loading
  included (`anvil-bench`'s `peak_rss_bytes`; the ORT worker's `VmHWM`,
  Python and onnxruntime's import included); below 1 is Anvil using less.
- **decode roofline**: decode tok/s x weight bytes / the measured read
  bandwidth with the same thread count: the share of the memory-bound
  ceiling reached. Weight bytes are Anvil's weights section and ORT's ONNX
  file with its external data, both less the token embedding table (a
  float table only a Gather reads; both sides keep it in float), of which
  a step reads one row. What remains is still an upper bound of the bytes
  a step must read (code, KV cache and activations are not counted).
- **prefill FLOP share**: 2 x matmul parameters x prefill tok/s / the
  measured fp32 FMA peak (attention FLOPs not counted). Quantized rows are
  measured against the same fp32 peak although their kernels may multiply
  in int8 (ORT's int4 at `accuracy_level` 4 does); the int8 `vpdpbusd`
  peak above is 4x the fp32 one in multiply-adds per instruction.
- Every number is the median of the runs with (min..max); ratios are of
  medians. Both sides run in their own processes, warmed up, one after the
  other, each under the build lock on this shared machine.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model",
                    default=os.path.join(ROOT, "models/bench/llama-250m"),
                    help="folder with model.onnx, or the .onnx file")
    ap.add_argument("--anvilc", default=os.path.join(BUILD, "anvilc"))
    ap.add_argument("--anvil-bench",
                    default=os.path.join(BUILD, "anvil-bench"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--gen", type=int, default=64)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-ort-int4", action="store_true",
                    help="skip writing and timing ORT's MatMulNBits model")
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--docs-dir", default=os.path.join(ROOT, "docs"),
                    help="where --write-docs writes performance.md and "
                         "performance.png (default: docs/)")
    ap.add_argument("--ort-int4-cache",
                    default=os.path.join(ROOT, "models", "bench",
                                         "ort-int4-b128"),
                    help="where ORT's MatMulNBits int4 model is kept, in a "
                         "folder named after the model's (default: "
                         "models/bench/ort-int4-b128, gitignored)")
    ap.add_argument("--lock", default=None,
                    help="flock this file around each timed process")
    ap.add_argument("--ort-worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--write-ort-int4", nargs=2, default=None,
                    help=argparse.SUPPRESS)
    ap.add_argument("--vocab", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ort_worker:
        return ort_worker(args)
    if args.write_ort_int4:
        return write_ort_int4(*args.write_ort_int4) or 0
    if args.quick:
        args.prompt, args.gen, args.runs = 32, 16, 3
    if args.runs < 1:
        sys.exit("--runs must be >= 1")
    onnx_path = model_file(args.model)
    if not os.path.exists(onnx_path):
        sys.exit(f"{onnx_path} is missing; make it with "
                 f"models/make_bench_decoder.py (bench/README.md)")
    for tool in (args.anvilc, args.anvil_bench):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is missing: scripts/build.sh anvilc anvil-bench")
    vocab = vocab_size(onnx_path)
    flops_per_token = 2 * matmul_params(onnx_path)
    table_bytes = gathered_table_bytes(onnx_path)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{cpu_name()}, {os.cpu_count()} CPUs, {started}; "
          f"{os.path.relpath(onnx_path, ROOT)}; {args.threads} threads, "
          f"prompt {args.prompt}, decode {args.gen} steps, {args.runs} runs",
          flush=True)

    ceilings = [measure_ceilings(args)]

    quantize = anvilc_quantize_flag(args.anvilc)
    variants = [("fp32", None, "fp32")]
    skipped = []
    if args.quick:
        skipped.append("quantized Anvil variants: not in --quick")
    elif quantize:
        variants += [(q, q, "int4" if q.startswith(("int4", "w4a8"))
                      else "fp32") for q in QUANTIZED]
    else:
        skipped.append("int8, int4-g128, w8a8 (Anvil): `anvilc --help` "
                       "lists no --quantize yet")

    ort_models = {"fp32": onnx_path}
    if not args.no_ort_int4:
        # Kept for the next run under models/bench/ (gitignored), named
        # after the model's folder.
        name = os.path.basename(os.path.dirname(os.path.abspath(onnx_path)))
        int4 = os.path.join(args.ort_int4_cache, name, "model.onnx")
        if not os.path.exists(int4):
            print("writing ORT's MatMulNBits int4 model...", flush=True)
            run_locked([sys.executable, os.path.abspath(__file__),
                        "--write-ort-int4", onnx_path, int4], args.lock)
        ort_models["int4"] = int4
    else:
        skipped.append("ORT int4: --no-ort-int4")

    ort = {}
    for name, path in ort_models.items():
        ort[name] = ort_side(args, path, vocab)
        print(f"  ORT {name}: prefill {fmt(ort[name]['prefill'])} tok/s, "
              f"decode {fmt(ort[name]['decode'])} tok/s", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, flag, vs in variants:
            a = anvil_side(args, onnx_path, work, flag)
            print(f"  Anvil {name}: prefill {fmt(a['prefill'])} tok/s, "
                  f"decode {fmt(a['decode'])} tok/s (anvilc "
                  f"{a['compile_s']:.1f} s)", flush=True)
            rows.append({"name": name, "vs": vs, "anvil": a,
                         "ort": ort.get(vs)})
    if "int4" in ort and not any(r["vs"] == "int4" for r in rows):
        rows.append({"name": "int4 (ORT only)", "vs": "int4", "anvil": None,
                     "ort": ort["int4"]})
    # Measured again after the timed runs: on a shared machine one
    # measurement can come out low; the higher of the two is the ceiling.
    ceilings.append(measure_ceilings(args))
    ceil = {key: max(c[key] or 0 for c in ceilings)
            for key in ("read_gb_s", "fp32_gflops", "int8_vnni_gops")}
    ceil["fp32_isa"] = ceilings[0]["fp32_isa"]
    for r in rows:
        for side in ("anvil", "ort"):
            if r.get(side):
                r[side]["roof"], r[side]["flop"] = shares(
                    r[side], ceil, flops_per_token, table_bytes)

    setup = (f"{cpu_name()}, {os.cpu_count()} CPUs; {started}; model "
             f"`{os.path.relpath(onnx_path, ROOT)}` "
             f"({flops_per_token / 2 / 1e6:.0f}M matmul parameters, a "
             f"{table_bytes / 1e6:.1f} MB embedding table the decode "
             f"roofline leaves out); "
             f"{args.threads} threads; prompt {args.prompt} tokens, "
             f"{args.gen} decode steps; median (min..max) of {args.runs} "
             f"runs after a warm-up; onnxruntime "
             f"{ort_version()}")
    ceil_line = (f"Ceilings measured in this run ({args.threads} threads, "
                 f"`anvil-bench --ceilings` before and after the timed runs, "
                 f"the higher of the two: read "
                 f"{ceilings[0]['read_gb_s']:.1f} and "
                 f"{ceilings[1]['read_gb_s']:.1f} GB/s): read bandwidth "
                 f"{ceil['read_gb_s']:.1f} GB/s, fp32 FMA peak "
                 f"{ceil['fp32_gflops']:.0f} GFLOP/s ({ceil['fp32_isa']}), "
                 f"int8 vpdpbusd peak "
                 + (f"{ceil['int8_vnni_gops']:.0f} GOP/s"
                    if ceil["int8_vnni_gops"] else "none (no AVX512-VNNI)")
                 + ".")
    text = table(rows)
    print()
    print(setup)
    print(ceil_line)
    print()
    print(text)
    for s in skipped:
        print(f"skipped: {s}")
    if args.write_docs:
        os.makedirs(args.docs_dir, exist_ok=True)
        png = os.path.join(args.docs_dir, "performance.png")
        title = (f"{os.path.relpath(onnx_path, ROOT)}, {args.threads} "
                 f"threads, prompt {args.prompt}, {args.gen} decode steps, "
                 f"median and min..max of {args.runs} runs, {started}")
        have_plot = plot(rows, png, title)
        command = "build/venv/bin/python bench/side_by_side.py " + " ".join(
            a for a in sys.argv[1:] if a != "--write-docs") + " --write-docs"
        doc = DOC_HEAD + f"{setup}.\n\n{ceil_line}\n\n{text}\n\n"
        for s in skipped:
            doc += f"Skipped: {s}.\n"
        if have_plot:
            doc += "\n![prefill and decode tok/s](performance.png)\n"
        doc += DOC_COLUMNS
        doc += (f"\n## Regenerating\n\n    {command.strip()}\n\n"
                "needs `build/bin/anvilc` and `build/bin/anvil-bench` "
                "(`scripts/build.sh anvilc anvil-bench`), the model "
                "(`models/make_bench_decoder.py`, models/README.md) and "
                "onnxruntime (build/venv). `--quick` takes a few minutes; "
                "the default run, with quantized variants once anvilc has "
                "`--quantize`, much longer.\n")
        # What follows the marker is written by hand (how the kernels work,
        # what limits them): kept as it is.
        doc_path = os.path.join(args.docs_dir, "performance.md")
        if os.path.exists(doc_path):
            with open(doc_path) as f:
                old = f.read()
            if HAND_WRITTEN in old:
                doc += "\n" + old[old.index(HAND_WRITTEN):]
        with open(doc_path, "w") as f:
            f.write(doc)
        print(f"wrote {doc_path}" + (f" and {png}" if have_plot else ""))
    return 0


def measure_ceilings(args):
    out = run_locked([args.anvil_bench, "--ceilings", "-t", str(args.threads),
                      "-r", "5", "--output", "json"], args.lock)
    c = json.loads(out)["ceilings"][0]
    print(f"ceilings ({args.threads} threads): read {c['read_gb_s']:.1f} "
          f"GB/s, fp32 {c['fp32_gflops']:.0f} GFLOP/s ({c['fp32_isa']}), "
          f"int8 {c['int8_vnni_gops'] or 0:.0f} GOP/s", flush=True)
    return c


def ort_version():
    import onnxruntime
    return onnxruntime.__version__


if __name__ == "__main__":
    sys.exit(main())

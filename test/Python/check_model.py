#!/usr/bin/env python3
"""anvil.Model (python/anvil) on zoo models, against ONNX Runtime.

Each model is compiled by anvilc into WORK and run through the Python
bindings; ONNX Runtime runs the same .onnx on the same inputs. Checks, each
printing `ok <name>` or `FAIL <name>: why`:

  signature    the entry points and bert's signature: names, dtypes,
               shapes with the bounded dim by name, its bounds (printed,
               for FileCheck)
  bert-7       bert compiled with sequence_length bounded to 1..16, run at
               the zoo's reference inputs (length 7)
  bert-12      the same artifact at length 12 (random ids): the output
               shapes follow the size
  mobilenetv2  batch bounded to 1..4, run with a batch of 3 float images
  llama        a decoder graph with past KV inputs named
               'past_key_values.0.key' (given as a dict), 5 outputs
  threads      two Python threads run bert at once (the GIL is released):
               both results equal the single-thread ones

Outputs must satisfy the suite's tolerance, |anvil - ort| <= 1e-4 +
1e-3 |ort| for float32 (test/EndToEnd/run_zoo.py says why), integers
exact.

Usage: check_model.py --anvilc anvilc --zoo models/zoo --work DIR
"""
import argparse
import os
import subprocess
import sys
import threading

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import e2e_harness  # noqa: E402
import zoo_models  # noqa: E402

import anvil  # noqa: E402

RTOL, ATOL = 1e-3, 1e-4


def compile_model(args, name, flags):
    out = os.path.join(args.work, name + ".anvil")
    subprocess.run([args.anvilc, "-q", "-O2",
                    os.path.join(args.zoo, name + ".onnx"), "-o", out] + flags,
                   check=True)
    return out


def ort_run(args, name, inputs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(args.zoo, name + ".onnx"),
                                   options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, inputs)))


def against_ort(args, model, name, inputs, **run_kwargs):
    """Problems of model.run(inputs) against ONNX Runtime, as one string."""
    got = model.run(inputs, **run_kwargs)
    want = ort_run(args, name, inputs)
    if sorted(got) != sorted(want):
        return f"outputs {sorted(got)}, ONNX Runtime has {sorted(want)}"
    problems = e2e_harness.compare_outputs(got, want, RTOL, ATOL,
                                           what="ONNX Runtime")
    return "; ".join(problems) or None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = 0

    def verdict(name, problem):
        nonlocal failed
        failed += bool(problem)
        print(f"FAIL {name}: {problem}" if problem else f"ok   {name}")
        sys.stdout.flush()

    bert = anvil.Model(compile_model(
        args, "bert", ["--dim=batch_size=2,sequence_length=1..16"]),
        num_threads=1)
    signature = bert.signature()
    print(f"entry points: {bert.entry_points}")
    for kind, tensors in (("input", signature.inputs),
                          ("output", signature.outputs)):
        for t in tensors:
            print(f"{kind} {t.name}: {t.dtype} {t.numpy_dtype} {t.shape}")
    for size in signature.sizes:
        print(f"size {size.name} in [{size.min}, {size.max}]")
    problem = None
    if signature != bert.signature("main"):
        problem = "signature() and signature('main') differ"
    elif signature.inputs[0].sizes != {"sequence_length": signature.sizes[0]}:
        problem = f"input sizes {signature.inputs[0].sizes}"
    verdict("signature", problem)

    refs = np.load(os.path.join(args.zoo, "bert.npz"))
    inputs = {k[len("input:"):]: refs[k] for k in refs.files
              if k.startswith("input:")}
    verdict("bert-7", against_ort(args, bert, "bert", inputs))

    rng = np.random.default_rng(13)
    vocab = int(inputs["input_ids"].max()) + 1
    long_inputs = {
        "input_ids": rng.integers(0, vocab, (2, 12), dtype=np.int64),
        "attention_mask": np.ones((2, 12), np.int64),
        "token_type_ids": np.zeros((2, 12), np.int64)}
    problem = against_ort(args, bert, "bert", long_inputs)
    shape = bert.run(long_inputs)["last_hidden_state"].shape
    if not problem and shape != (2, 12, 64):
        problem = f"last_hidden_state is {shape}, not (2, 12, 64)"
    verdict("bert-12", problem)

    mobilenet = anvil.Model(compile_model(
        args, "mobilenetv2", ["--dim=batch_size=1..4"]), num_threads=1)
    images = rng.standard_normal((3, 3, 64, 64), dtype=np.float32)
    verdict("mobilenetv2", against_ort(args, mobilenet, "mobilenetv2",
                                       {"input": images}))

    refs = np.load(os.path.join(args.zoo, "llama.npz"))
    llama = anvil.Model(compile_model(
        args, "llama", zoo_models.input_shape_flags(refs)), num_threads=1)
    inputs = {k[len("input:"):]: refs[k] for k in refs.files
              if k.startswith("input:")}
    verdict("llama", against_ort(args, llama, "llama", inputs))

    # Runs in two threads at once: each must get its own results.
    want = [bert.run(long_inputs), bert.run(refs_bert := {
        k[len("input:"):]: v for k, v in np.load(
            os.path.join(args.zoo, "bert.npz")).items()
        if k.startswith("input:")})]
    got = [None, None]
    errors = []

    def worker(i, feeds):
        try:
            for _ in range(20):
                got[i] = bert.run(feeds)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i, f))
               for i, f in enumerate((long_inputs, refs_bert))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    problem = "; ".join(errors) or None
    for i in range(2):
        if problem:
            break
        for name, value in want[i].items():
            if not np.array_equal(got[i][name], value):
                problem = f"thread {i}: {name} differs from a lone run"
    verdict("threads", problem)

    print(f"python-model: {6 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""One artifact per model with a bounded dim, run at several sizes, each
compared with ONNX Runtime at that size (float32: 1e-4 + 1e-3 |ref|).

BERT is compiled once with --dim=batch_size=1,sequence_length=1..128 and
ResNet-18 with --dim=batch_size=1..8 (MobileNetV2 1..4; the bundled
decoder's prefill with sequence_length=1..64); each runs at three sizes inside the
bounds on seeded random inputs, and a size outside the bounds must be
refused.

Two ways to run the compiled code:

  --runner anvil-run   the artifact through anvil-run (needs the runtime
                       with ABI v2, which passes sizes[] to the entry point
                       and checks inputs against the bounds);
  --runner standin     the compiler half alone: the generated C++
                       (--emit=source), built with the kernel headers, its
                       sizes[] set by this script through ctypes, with the
                       weights section and arena size from the artifact.
                       Refusing a size outside the bounds is the runtime's
                       job, so this runner does not check it.

Usage: run_bounded.py --anvilc anvilc --runner anvil-run --anvil-run
       anvil-run --models models --work DIR [--src SRC]
Prints one line per run and 'bounded: N passed, M failed'.
"""
import argparse
import ctypes
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

FLOAT_ATOL = 1e-4
FLOAT_RTOL = 1e-3

# model file, --dim flags, the sizes to run, sizes outside the bounds.
# Paths are relative to --models (the repository's models/ folder).
MODELS = [
    ("zoo/bert.onnx", ["--dim=batch_size=1,sequence_length=1..128"],
     [{"sequence_length": n} for n in (1, 9, 128)], {"sequence_length": 129}),
    ("zoo/resnet18.onnx", ["--dim=batch_size=1..8"],
     [{"batch_size": n} for n in (1, 3, 8)], {"batch_size": 9}),
    ("zoo/mobilenetv2.onnx", ["--dim=batch_size=1..4"],
     [{"batch_size": n} for n in (1, 2, 4)], {"batch_size": 5}),
    # The bundled decoder's prefill: any prompt length up to 64 tokens.
    ("default/model.onnx",
     ["--dim=batch_size=1,sequence_length=1..64,past_sequence_length=0"],
     [{"sequence_length": n} for n in (1, 13, 64)], {"sequence_length": 65}),
]


def bound_sizes(flags):
    """The sizes --dim binds to one value (name=size)."""
    bound = {}
    for flag in flags:
        for entry in flag[len("--dim="):].split(","):
            name, value = entry.split("=")
            if value.isdigit():
                bound[name] = int(value)
    return bound
def dim_value(d, sizes):
    if isinstance(d, int):
        return d
    total = 0
    for term in d.split("+"):
        term = term.strip()
        total += int(term) if term.isdigit() else sizes.get(term, 1)
    return total  # unnamed or unbounded dims (batch_size) are 1


def inputs_for(session, sizes, rng, bound):
    sizes = {**bound, **sizes}
    feeds = {}
    past = sizes.get("past_sequence_length", 0)
    for inp in session.get_inputs():
        shape = [dim_value(d, sizes) for d in inp.shape]
        if inp.type == "tensor(int64)":
            if "mask" in inp.name:
                value = np.ones(shape, np.int64)
                if not past:  # some padding (decoders keep every key)
                    value[..., shape[-1] // 2 + 1:] = 0
            elif "position" in inp.name:
                value = np.broadcast_to(
                    np.arange(past, past + shape[-1], dtype=np.int64),
                    shape).copy()
            elif "type" in inp.name:
                value = rng.integers(0, 2, shape).astype(np.int64)
            else:
                value = rng.integers(0, 512, shape).astype(np.int64)
        else:
            value = rng.standard_normal(shape).astype(np.float32)
        feeds[inp.name] = value
    return feeds


def compare(name, got, want):
    if got.shape != want.shape:
        return f"{name}: shape {got.shape}, ONNX Runtime {want.shape}"
    w = want.astype(np.float64)
    err = np.abs(got.astype(np.float64) - w)
    bound = FLOAT_ATOL + FLOAT_RTOL * np.abs(w)
    bad = (err > bound) | (np.isnan(got) != np.isnan(want))
    if bad.any():
        return (f"{name}: {int(bad.sum())} of {want.size} elements out of "
                f"tolerance, max abs error {np.nanmax(err):.3g}")
    return None


def describe(sizes):
    return ",".join(f"{k}={v}" for k, v in sizes.items())


def run_anvil_run(args, artifact, feeds, work):
    paths = []
    for i, (name, value) in enumerate(feeds.items()):
        path = os.path.join(work, f"input{i}.npy")
        np.save(path, value)
        paths += ["--input", f"{name}={path}"]
    out_dir = os.path.join(work, "outputs")
    shutil.rmtree(out_dir, ignore_errors=True)
    run = subprocess.run([args.anvil_run, artifact, "--output-dir", out_dir]
                         + paths, capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr.strip()[-2000:]
    outputs = {}
    for f in os.listdir(out_dir):
        outputs[os.path.splitext(f)[0]] = np.load(os.path.join(out_dir, f))
    return outputs, None


class HostApi(ctypes.Structure):
    pass


PARALLEL_BODY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64,
                                 ctypes.c_int64)
PARALLEL_FOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64,
                                PARALLEL_BODY, ctypes.c_void_p)
LOG = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
HostApi._fields_ = [("abi_version", ctypes.c_uint32),
                    ("host", ctypes.c_void_p),
                    ("parallel_for", PARALLEL_FOR),
                    ("log", LOG)]
ENTRY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(HostApi),
                         ctypes.POINTER(ctypes.c_void_p),
                         ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p,
                         ctypes.c_void_p)


class CodeEntry(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("fn", ENTRY)]


class CodeTable(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint32),
                ("entry_count", ctypes.c_uint32),
                ("entries", ctypes.POINTER(CodeEntry)),
                ("init", ctypes.c_void_p)]


def read_artifact(path):
    """The manifest and the weights section of an artifact (format 1:
    docs/artifact-format.md), through `anvil-run info`'s section table."""
    info = subprocess.run([ARGS.anvil_run, "info", path], capture_output=True,
                          text=True, check=True).stdout
    sections = {}
    for line in info.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[2] == "offset" and parts[4] == "size":
            sections[parts[0]] = (int(parts[3]), int(parts[5]))
    with open(path, "rb") as f:
        data = f.read()
    m_off, m_size = sections["manifest"]
    w_off, w_size = sections["weights"]
    return json.loads(data[m_off:m_off + m_size]), data[w_off:w_off + w_size]


class StandIn:
    """The generated code of one artifact with its sizes[] set from here."""

    def __init__(self, args, model, flags, work):
        self.artifact = os.path.join(work, "model.anvil")
        subprocess.run([args.anvilc, "-q", "-O2", model, "-o", self.artifact]
                       + flags, check=True)
        source = subprocess.run(
            [args.anvilc, "-q", "-O2", model, "--emit=source", "-o", "-"]
            + flags, check=True, capture_output=True, text=True).stdout
        marker = "const int64_t *sizes = nullptr;"
        if marker not in source:
            raise RuntimeError("the generated entry point has no sizes "
                               "placeholder to stand in for")
        source = ('extern "C" { __attribute__((visibility("default"))) '
                  'long long anvil_standin_sizes[8] = {0}; }\n' + source.replace(
                      marker, "const int64_t *sizes = "
                      "reinterpret_cast<const int64_t *>(anvil_standin_sizes);"))
        include = os.path.join(work, "include")
        os.makedirs(os.path.join(include, "anvil"), exist_ok=True)
        kernels = os.path.join(args.src, "backends", "cpu", "kernels")
        for f in os.listdir(kernels):
            shutil.copy(os.path.join(kernels, f), include)
        for f in ("KernelParams.h", "KernelCatalog.def"):
            shutil.copy(os.path.join(args.src, "dialects", "Kernel", f),
                        include)
        shutil.copy(os.path.join(args.src, "runtime", "include", "anvil",
                                 "abi.h"), os.path.join(include, "anvil"))
        cpp = os.path.join(work, "model.cpp")
        with open(cpp, "w") as f:
            f.write(source)
        so = os.path.join(work, "model.so")
        subprocess.run([os.environ.get("CXX", "c++"), "-std=c++17", "-O2",
                        "-fPIC", "-shared", "-fwrapv", "-fno-math-errno",
                        "-I", include, cpp, "-o", so], check=True)
        self.lib = ctypes.CDLL(so)
        self.sizes = (ctypes.c_int64 * 8).in_dll(self.lib,
                                                 "anvil_standin_sizes")
        self.lib.anvil_get_code_table.restype = ctypes.POINTER(CodeTable)
        table = self.lib.anvil_get_code_table().contents
        self.entry = table.entries[0].fn
        self.manifest, weights = read_artifact(self.artifact)
        self.weights = ctypes.create_string_buffer(weights, len(weights) + 1)
        entry = self.manifest["entry_points"][0]
        self.entry_info = entry
        self.arena = ctypes.create_string_buffer(max(entry["arena_bytes"], 1))
        self.messages = []

        def parallel_for(host, n, fn, arg):
            fn(arg, 0, n)

        def log(host, message):
            self.messages.append(message.decode(errors="replace"))

        self.host = HostApi(1, None, PARALLEL_FOR(parallel_for), LOG(log))

    def run(self, feeds, size_values):
        entry = self.entry_info
        names = [s["name"] for s in entry["sizes"]]
        for i, name in enumerate(names):
            self.sizes[i] = size_values[name]
        inputs = [np.ascontiguousarray(feeds[t["name"]])
                  for t in entry["inputs"]]
        outputs = {}
        for t in entry["outputs"]:
            shape = [d if isinstance(d, int) else size_values[d]
                     for d in t["shape"]]
            dtype = {"f32": np.float32, "i64": np.int64}[t["dtype"]]
            outputs[t["name"]] = np.zeros(shape, dtype)
        in_ptrs = (ctypes.c_void_p * max(len(inputs), 1))(
            *[a.ctypes.data for a in inputs])
        out_ptrs = (ctypes.c_void_p * max(len(outputs), 1))(
            *[a.ctypes.data for a in outputs.values()])
        status = self.entry(ctypes.byref(self.host), in_ptrs, out_ptrs,
                            ctypes.cast(self.arena, ctypes.c_void_p),
                            ctypes.cast(self.weights, ctypes.c_void_p))
        if status != 0:
            return None, "; ".join(self.messages) or f"status {status}"
        return outputs, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--runner", choices=["anvil-run", "standin"],
                    required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--src", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    global ARGS
    ARGS = args = ap.parse_args()
    import onnxruntime as ort

    passed = failed = 0
    rng = np.random.default_rng(0)
    for file, flags, runs, outside in MODELS:
        model = os.path.join(args.models, file)
        work = os.path.join(args.work, os.path.splitext(file)[0])
        bound = bound_sizes(flags)
        file = os.path.basename(file)
        os.makedirs(work, exist_ok=True)
        session = ort.InferenceSession(model,
                                       providers=["CPUExecutionProvider"])
        if args.runner == "standin":
            runner = StandIn(args, model, flags, work)
            run = lambda feeds, sizes: runner.run(feeds, sizes)
        else:
            artifact = os.path.join(work, "model.anvil")
            subprocess.run([args.anvilc, "-q", "-O2", model, "-o", artifact]
                           + flags, check=True)
            run = lambda feeds, sizes: run_anvil_run(args, artifact, feeds,
                                                     work)
        for sizes in runs:
            feeds = inputs_for(session, sizes, rng, bound)
            want = dict(zip([o.name for o in session.get_outputs()],
                            session.run(None, feeds)))
            got, error = run(feeds, sizes)
            problems = [error] if error else []
            for name, ref in ([] if error else want.items()):
                key = name.replace("/", "_").replace(":", "_")
                if key not in got and name not in got:
                    problems.append(f"{name}: no output")
                    continue
                problem = compare(name, got.get(name, got.get(key)), ref)
                if problem:
                    problems.append(problem)
            label = f"{file} {describe(sizes)}"
            if problems:
                failed += 1
                print(f"FAIL {label}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"ok   {label}: {len(want)} outputs")
        if args.runner == "anvil-run":
            feeds = inputs_for(session, outside, rng, bound)
            got, error = run(feeds, outside)
            label = f"{file} {describe(outside)} (outside the bounds)"
            if error:
                passed += 1
                print(f"ok   {label}: refused")
            else:
                failed += 1
                print(f"FAIL {label}: ran instead of being refused")
    print(f"bounded: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

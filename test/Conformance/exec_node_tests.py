#!/usr/bin/env python3
"""Runs ONNX's backend node tests through anvilc and the runtime.

Where run_node_tests.py checks import and fold_node_tests.py constant
folding, this runner executes: every node test is compiled for the cpu
target, run with anvil-run on its stored inputs (test_data_set_0), and its
outputs are compared with the stored outputs.

Compiling ~1,000 one-node models one C++ compile at a time would take most
of the CI budget, so tests are bundled: each model is first lowered alone
(`anvilc --emit=kernel`, no C++), then the ones that lower are compiled in
bundles of --bundle models, one artifact with an entry point per test. A
bundle whose C++ fails to build is split in halves until the culprit is
alone. Bundles are deterministic (sorted names, fixed size), so anvilc's
code cache makes later runs skip the C++ compiles whose source is
unchanged.

Inputs that determine shapes (axes, split sizes, pads, Clip bounds: integer
tensors of rank <= 1 and scalar floats) are compiled in as constants when
the model does not lower without them (a static-shape compiler needs them
at compile time), from the same .pb file the test feeds. 4-bit inputs
(INT4, UINT4) are always compiled in: Anvil takes 4-bit values only as
initializers, kept packed; the kernels still read them at run time.

Four QLinearMatMul int8 tests store outputs that wrapped around instead of
saturating (ONNX's reference casts without saturating, against the spec):
they are compared with ONNX Runtime's outputs instead (ORT_REFERENCE).

Tolerances: outputs must have the expected dtype and shape; finite float
elements must satisfy |anvil - expected| <= atol + rtol * |expected| with
rtol = 1e-3 and atol = 1e-5 (ONNX's backend runner uses rtol 1e-3 and
atol 1e-7; the larger atol absorbs float32 rounding around zero in
accumulations), infinities must be equal, NaN where and only where
expected; integer and bool outputs exactly equal.

Usage (from the repo root):
    build/venv/bin/python test/Conformance/exec_node_tests.py \\
        --report docs/conformance-execution.md --update-expected
    build/venv/bin/python test/Conformance/exec_node_tests.py --check
Under --check the run fails when a test listed in expected-exec-pass.txt
no longer passes, when a node test of an op the zoo uses fails (unless
zoo-op-exemptions.txt lists it, with a reason), or when any test that
compiles then fails to build, run or match (a bug wherever it is). The last
line is `execution: N passed, M failed`.
"""
import argparse
import collections
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPT_DIR)
import run_node_tests as importer  # noqa: E402

REPO_ROOT = importer.REPO_ROOT
DEFAULT_EXPECTED = os.path.join(SCRIPT_DIR, "expected-exec-pass.txt")
# Node tests of ops the zoo uses that may fail, each with the reason: data
# types Anvil does not compile (8-bit floats, 4-bit ints, strings, sequence
# and optional values) and op variants no zoo model needs.
DEFAULT_EXEMPT = os.path.join(SCRIPT_DIR, "zoo-op-exemptions.txt")
RTOL, ATOL = 1e-3, 1e-5
REGEN = ("build/venv/bin/python test/Conformance/exec_node_tests.py "
         "--report docs/conformance-execution.md --update-expected")

# Result categories, in report order.
PASS = "pass"
LOWER = "does not compile (import or lowering)"
CODEGEN = "C++ build failed"
RUN = "run failed"
MISMATCH = "wrong output"
CATEGORIES = [LOWER, CODEGEN, RUN, MISMATCH]


class Case:
    def __init__(self, test):
        self.test = test
        self.name = test.name
        self.model = None        # the model file compiled (maybe rewritten)
        self.inputs = []         # (graph input name, .npy path)
        self.outputs = []        # (graph output name, expected array)
        self.constants = 0       # inputs compiled in as constants
        self.category = None
        self.detail = ""

    @property
    def passed(self):
        return self.category == PASS


def first_error(stderr):
    for line in stderr.splitlines():
        if "error:" in line:
            text = line.split("error:", 1)[1].strip()
            return text[:160]
    return stderr.strip()[:160]


def run(cmd, timeout):
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)
        return proc.returncode, proc.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return -1, f"error: timeout after {timeout} s"


def shape_input_names(model, data_dir):
    """Inputs the importer may need at compile time: integer tensors of
    rank <= 1 (axes, split sizes, pads, k), scalars of any numeric type
    (Clip bounds, Range limits), and the float roi and scales of Resize
    and Upsample."""
    initializers = {t.name for t in model.graph.initializer}
    resize_float_inputs = {
        name for node in model.graph.node
        if node.op_type in ("Resize", "Upsample") and node.domain in ("", "ai.onnx")
        for name in node.input[1:3]}
    names = []
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    for index, value in enumerate(graph_inputs):
        if not value.type.HasField("tensor_type"):
            continue
        t = value.type.tensor_type
        rank = len(t.shape.dim)
        integer = t.elem_type in (onnx.TensorProto.INT64,
                                  onnx.TensorProto.INT32)
        scalar = rank == 0 and t.elem_type != onnx.TensorProto.STRING
        # Resize's roi and scales: float vectors that determine shapes.
        resize_floats = rank == 1 and value.name in resize_float_inputs
        if ((integer and rank <= 1) or scalar or resize_floats) and os.path.exists(
                os.path.join(data_dir, f"input_{index}.pb")):
            names.append(value.name)
    return names


def packed_input_names(model, data_dir):
    """Graph inputs of 4-bit integers (INT4, UINT4)."""
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    return [value.name for index, value in enumerate(graph_inputs)
            if value.type.HasField("tensor_type")
            and value.type.tensor_type.elem_type in (onnx.TensorProto.UINT4,
                                                     onnx.TensorProto.INT4)
            and os.path.exists(os.path.join(data_dir, f"input_{index}.pb"))]


# Stored outputs that contradict the spec.
# ONNX's reference implementation casts QLinearMatMul's int8 results without
# saturating (onnx/reference/ops/op_qlinear_matmul.py), so these tests store
# values that wrapped around int8 (20 for -236); the operator's spec says
# saturate, as ONNX Runtime does. Their outputs are compared with ONNX
# Runtime's on the same model and inputs instead (same tolerances).
ORT_REFERENCE = {f"test_qlinearmatmul_{rank}_int8_{scale}"
                 for rank in ("2D", "3D") for scale in ("float16", "float32")}


def ort_outputs(model_path, values):
    """ONNX Runtime's outputs of the model at `model_path` on `values`
    (TensorProtos by input name), by output name."""
    import onnxruntime
    session = onnxruntime.InferenceSession(
        model_path, providers=["CPUExecutionProvider"])
    feeds = {name: numpy_helper.to_array(t) for name, t in values.items()}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


def prepare(case, work, anvilc, timeout):
    """Writes the test's model and inputs under `work` and checks that it
    lowers; sets case.category to LOWER when it does not."""
    src_dir = os.path.dirname(case.test.model_path)
    data_dir = os.path.join(src_dir, "test_data_set_0")
    model = onnx.load(case.test.model_path)
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    values = {}
    for index, value in enumerate(graph_inputs):
        path = os.path.join(data_dir, f"input_{index}.pb")
        if not os.path.exists(path):
            continue  # an omitted optional input
        tensor = onnx.TensorProto()
        with open(path, "rb") as f:
            tensor.ParseFromString(f.read())
        values[value.name] = tensor

    def write_model(constant_names):
        m = onnx.ModelProto()
        m.CopyFrom(model)
        keep = [i for i in m.graph.input if i.name not in constant_names]
        del m.graph.input[:]
        m.graph.input.extend(keep)
        for name in constant_names:
            t = onnx.TensorProto()
            t.CopyFrom(values[name])
            t.name = name
            m.graph.initializer.append(t)
        path = os.path.join(work, case.name + ".onnx")
        onnx.save(m, path)
        return path

    # As few inputs compiled in as will do: none, then each candidate alone,
    # then all of them (a test whose inputs are all compiled in checks the
    # constant folder, not a kernel; the report counts those).
    attempts = [[]]
    shape_names = shape_input_names(model, data_dir)
    if len(shape_names) > 1:
        attempts += [[name] for name in shape_names]
    if shape_names:
        attempts.append(shape_names)
    # Anvil takes 4-bit values (kept packed two per byte) only as
    # initializers, so 4-bit inputs are always compiled in; the kernel that
    # reads them still runs (nothing folds a dequantize).
    packed = packed_input_names(model, data_dir)
    attempts = [packed + [n for n in names if n not in packed]
                for names in attempts]
    stderr = ""
    for constant_names in attempts:
        path = write_model(constant_names)
        rc, stderr = run([anvilc, path, "-q", "--emit=kernel", "-o",
                          os.devnull], timeout)
        if rc == 0:
            case.model = path
            case.constants = len(constant_names)
            break

    if case.model is None:
        case.category, case.detail = LOWER, first_error(stderr)
        return case
    for name, tensor in values.items():
        if name in constant_names:
            continue
        path = os.path.join(work, f"{case.name}.in.{len(case.inputs)}.npy")
        np.save(path, numpy_helper.to_array(tensor))
        case.inputs.append((name, path))
    for index, value in enumerate(model.graph.output):
        path = os.path.join(data_dir, f"output_{index}.pb")
        if not value.name or not os.path.exists(path):
            continue
        tensor = onnx.TensorProto()
        with open(path, "rb") as f:
            tensor.ParseFromString(f.read())
        case.outputs.append((value.name, numpy_helper.to_array(tensor)))
    if case.name in ORT_REFERENCE:
        reference = ort_outputs(case.test.model_path, values)
        case.outputs = [(name, reference[name]) for name, _ in case.outputs]
    return case


def build_bundle(cases, path, anvilc, timeout):
    """Compiles `cases` into one artifact; on failure, splits the bundle
    until each failing case is alone. Returns [(artifact, cases)]."""
    rc, stderr = run([anvilc, "-q", "-O2", "-o", path] +
                     [c.model for c in cases], timeout)
    if rc == 0:
        return [(path, cases)]
    if len(cases) == 1:
        cases[0].category = CODEGEN
        cases[0].detail = first_error(stderr)
        return []
    half = len(cases) // 2
    stem = path[:-len(".anvil")]
    return (build_bundle(cases[:half], stem + "a.anvil", anvilc, timeout) +
            build_bundle(cases[half:], stem + "b.anvil", anvilc, timeout))


def compare(expected, got):
    """None when `got` matches `expected`: same dtype and shape; floats
    within the tolerance, NaN exactly where expected, infinities exactly
    equal; everything else equal."""
    if expected.dtype.name == "bfloat16":  # got: the raw bits, as void2
        if got.dtype.kind != "V" or got.dtype.itemsize != 2:
            return f"dtype {got.dtype}, expected bfloat16"
        expected = expected.astype(np.float32)
        got = (got.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    elif got.dtype != expected.dtype:
        return f"dtype {got.dtype}, expected {expected.dtype}"
    if got.shape != expected.shape:
        return f"shape {list(got.shape)}, expected {list(expected.shape)}"
    if expected.dtype.kind in "fc":
        e = expected.astype(np.float64)
        g = got.astype(np.float64)
        if (np.isnan(e) != np.isnan(g)).any():
            return "NaN where none is expected (or the reverse)"
        finite = np.isfinite(e)
        if (~finite & ~np.isnan(e) & (g != e)).any():
            return "an infinity expected where the output differs"
        with np.errstate(invalid="ignore"):
            err = np.where(finite, np.abs(g - e), 0.0)
        ok = ~finite | (err <= ATOL + RTOL * np.abs(np.where(finite, e, 0)))
        if not ok.all():
            return (f"{int((~ok).sum())} of {e.size} elements off "
                    f"(max {err[~ok].max():.3g})")
        return None
    if not np.array_equal(got, expected):
        return f"{int((got != expected).sum())} of {expected.size} differ"
    return None


def execute(case, artifact, alone, anvil_run, work, timeout):
    out_dir = os.path.join(work, case.name + ".out")
    # A model compiled alone is entry point @main; in a bundle, @<file stem>.
    entry = "main" if alone else case.name
    cmd = [anvil_run, artifact, "--entry", entry, "--output-dir", out_dir]
    for name, path in case.inputs:
        cmd += ["--input", f"{name}={path}"]
    rc, stderr = run(cmd, timeout)
    if rc != 0:
        case.category, case.detail = RUN, first_error(stderr)
        return case
    for name, expected in case.outputs:
        stem = name.replace("/", "_").replace(":", "_")
        path = os.path.join(out_dir, stem + ".npy")
        if not os.path.exists(path):
            case.category, case.detail = RUN, f"no output '{name}'"
            return case
        problem = compare(expected, np.load(path))
        if problem:
            case.category, case.detail = MISMATCH, f"{name}: {problem}"
            return case
    case.category = PASS
    return case


def read_exempt(path):
    exempt = {}
    with open(path) as f:
        for line in f:
            name, _, reason = line.partition("#")
            if name.strip():
                exempt[name.strip()] = reason.strip()
    return exempt


def write_report(path, cases, zoo, exempt, seconds):
    by_op = collections.defaultdict(list)
    for c in cases:
        if not c.test.expanded:
            by_op[c.test.op_key].append(c)
    passed = sum(c.passed for c in cases)
    lines = []
    w = lines.append
    w("# Conformance: executing the ONNX backend node tests")
    w("")
    w("Generated by `test/Conformance/exec_node_tests.py` (onnx "
      f"{onnx.__version__}); regenerate with `{REGEN}`.")
    w("")
    w("Each node test is compiled with `anvilc -O2` for the cpu target, run "
      "with `anvil-run` on its stored inputs and compared with its stored "
      f"outputs (floats: |got - expected| <= {ATOL:g} + {RTOL:g} |expected|; "
      "integers and booleans: equal). Import-only results are in "
      "[conformance.md](conformance.md).")
    w("")
    w(f"**{passed} of {len(cases)} tests pass** "
      f"({sum(c.passed for c in cases if not c.test.expanded)} of "
      f"{sum(not c.test.expanded for c in cases)} op tests, "
      f"{sum(c.passed for c in cases if c.test.expanded)} of "
      f"{sum(c.test.expanded for c in cases)} function-body expansions); "
      f"the run took {seconds:.0f} s.")
    w("")
    folded = sum(1 for c in cases if c.passed and not c.inputs)
    w(f"{folded} of the passing tests had every input compiled in as a "
      "constant (shape-determining inputs such as ConstantOfShape's shape), "
      "so the constant folder computed their outputs; the rest ran kernels.")
    w("")
    counts = collections.Counter(c.category for c in cases if not c.passed)
    w("| failure | tests |")
    w("|---|---|")
    for category in CATEGORIES:
        w(f"| {category} | {counts.get(category, 0)} |")
    w("")
    bugs = [c for c in cases if c.category in (CODEGEN, RUN, MISMATCH)]
    w("Tests that compile but fail to build, run or match are bugs, whatever "
      "their op; the suite fails on any. " +
      ("There are none." if not bugs else "Today:"))
    w("")
    for c in bugs:
        w(f"- `{c.name}`: {c.category}: {c.detail}")
    if bugs:
        w("")
    w("## Ops the zoo models use")
    w("")
    w("Every node test of the ops `models/zoo` and `models/zoo-current` use "
      "must pass (the suite checks it), except the ones "
      "`test/Conformance/zoo-op-exemptions.txt` lists with a reason: "
      "data types Anvil does not compile (8-bit floats, 4-bit integers, "
      "strings, sequences, optionals) and MaxPool's Indices output. "
      "`com.microsoft` ops have no ONNX node tests: "
      "`test/EndToEnd/run_microsoft.py` and `run_quantized.py` check them "
      "against ONNX Runtime.")
    w("")
    w("| op | passed | exempt | other failures |")
    w("|---|---|---|---|")
    for op in sorted(by_op):
        if zoo and op in zoo:
            tests = by_op[op]
            bad = [c.name for c in tests
                   if not c.passed and c.name not in exempt]
            n_exempt = sum(1 for c in tests
                           if not c.passed and c.name in exempt)
            w(f"| {op} | {sum(c.passed for c in tests)}/{len(tests)} | "
              f"{n_exempt or '-'} | {', '.join(bad) or '-'} |")
    w("")
    w("## Every op")
    w("")
    w("| op | passed | tests | first failure |")
    w("|---|---|---|---|")
    for op in sorted(by_op):
        tests = by_op[op]
        ok = sum(c.passed for c in tests)
        bad = next((c for c in tests if not c.passed), None)
        reason = (f"{bad.name}: {bad.category}: {bad.detail}"
                  if bad else "")
        reason = reason.replace("|", "\\|")[:150]
        w(f"| {op} | {ok} | {len(tests)} | {reason} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", default=os.path.join(REPO_ROOT, "build",
                                                      "bin", "anvilc"))
    ap.add_argument("--anvil-run", default=os.path.join(REPO_ROOT, "build",
                                                         "bin", "anvil-run"))
    ap.add_argument("--filter", help="regex on test names")
    ap.add_argument("--bundle", type=int, default=96,
                    help="models per compiled artifact")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--work", help="folder for models and artifacts "
                    "(default: a temporary one, removed afterwards)")
    ap.add_argument("--expected", default=DEFAULT_EXPECTED)
    ap.add_argument("--exempt", default=DEFAULT_EXEMPT)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--update-expected", action="store_true")
    ap.add_argument("--report", help="write the Markdown report here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    anvilc = shutil.which(args.anvilc) or args.anvilc
    anvil_run = shutil.which(args.anvil_run) or args.anvil_run
    start = time.time()
    import re
    tests = importer.discover(re.compile(args.filter) if args.filter else None)
    cases = [Case(t) for t in tests]
    work = args.work or tempfile.mkdtemp(prefix="anvil-exec-")
    os.makedirs(work, exist_ok=True)
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda c: prepare(c, work, anvilc, args.timeout),
                          cases))
            ready = [c for c in cases if c.model]
            print(f"lowered: {len(ready)} of {len(cases)} tests "
                  f"({time.time() - start:.0f} s)", flush=True)
            chunks = [ready[i:i + args.bundle]
                      for i in range(0, len(ready), args.bundle)]
            built = []
            for result in pool.map(
                    lambda item: build_bundle(
                        item[1], os.path.join(work, f"bundle{item[0]}.anvil"),
                        anvilc, args.timeout),
                    enumerate(chunks)):
                built += result
            print(f"built: {len(built)} artifacts "
                  f"({time.time() - start:.0f} s)", flush=True)
            jobs = [(artifact, c, len(group) == 1)
                    for artifact, group in built for c in group]
            list(pool.map(lambda job: execute(job[1], job[0], job[2],
                                              anvil_run, work, args.timeout),
                          jobs))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.time() - start

    zoo = importer.zoo_ops()
    passed = [c for c in cases if c.passed]
    failed = [c for c in cases if not c.passed]
    if args.verbose:
        for c in failed:
            print(f"FAIL {c.name}: {c.category}: {c.detail}")
    status = 0
    exempt = read_exempt(args.exempt)
    if args.report:
        write_report(args.report, cases, zoo, exempt, seconds)
    if args.update_expected:
        with open(args.expected, "w") as f:
            f.write("# Node tests that execute correctly (exec_node_tests.py)"
                    ".\n# Regenerate: " + REGEN + "\n")
            for c in passed:
                f.write(c.name + "\n")
    if args.check:
        with open(args.expected) as f:
            expected = {line.strip() for line in f
                        if line.strip() and not line.startswith("#")}
        names = {c.name: c for c in cases}
        regressions = sorted(n for n in expected
                             if n in names and not names[n].passed)
        for name in regressions:
            c = names[name]
            print(f"REGRESSION {name}: {c.category}: {c.detail}")
        zoo_failures = [c for c in failed if zoo and not c.test.expanded
                        and c.test.op_key in zoo and c.name not in exempt]
        for c in zoo_failures:
            print(f"ZOO OP FAILS {c.name} ({c.test.op_key}): {c.category}: "
                  f"{c.detail}")
        new = sorted(c.name for c in passed if c.name not in expected)
        if new:
            print(f"{len(new)} tests pass that expected-exec-pass.txt does "
                  f"not list (add them: {REGEN})")
        # A test that lowers but then fails to build, run or match is a bug
        # wherever it is: never expected, never exempt.
        bugs = [c for c in failed if c.category in (CODEGEN, RUN, MISMATCH)]
        for c in bugs:
            print(f"BUG {c.name}: {c.category}: {c.detail}")
        if regressions or zoo_failures or bugs:
            status = 1
    print(f"execution: {len(passed)} passed, {len(failed)} failed "
          f"({seconds:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())

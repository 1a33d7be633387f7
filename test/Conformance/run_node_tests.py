#!/usr/bin/env python3
"""Imports ONNX's own backend node tests with anvilc and reports the results.

The node tests ship inside the onnx Python package
(onnx/backend/test/data/node/<test>/model.onnx plus .pb inputs and outputs).
This runner measures import only: it runs `anvilc MODEL -q -O0 -o /dev/null`
on every model and classifies the result as a pass or as a failure with a
reason category parsed from anvilc's stderr. Execution of the models against
the stored outputs is exec_node_tests.py's job.

Which op a test belongs to: a node test's graph holds exactly one node, and
the test is attributed to that node's op type (with its domain when it is not
the default one). The "_expanded" and "_expanded_ver<N>" variants hold the
op's function body (several primitive nodes) instead; they are attributed to
the op of the test they expand (the same name without the suffix) and counted
apart, since importing a function body says little about the op itself.

Usage (from the repo root):
    build/venv/bin/python test/Conformance/run_node_tests.py \\
        --report docs/conformance.md --update-expected      # regenerate
    build/venv/bin/python test/Conformance/run_node_tests.py --check
                                                            # regressions?

Exit status: 0 on success; 1 when anvilc crashed (was killed by a signal) on
any test, or under --check when a test listed in the expected-pass file no
longer imports; 2 on a usage error. The last line printed is always
`conformance: N passed, M failed`.
"""
import argparse
import collections
import concurrent.futures
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import onnx

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(SCRIPT_DIR))
DEFAULT_ANVILC = os.path.join(REPO_ROOT, "build", "bin", "anvilc")
DEFAULT_EXPECTED = os.path.join(SCRIPT_DIR, "expected-import-pass.txt")
# Both zoos: the pinned 2024 exports and today's exporters' (zoo-current).
ZOO_GLOBS = [os.path.join(REPO_ROOT, "models", zoo, "*.onnx")
             for zoo in ("zoo", "zoo-current")]
REGEN_COMMAND = ("build/venv/bin/python test/Conformance/run_node_tests.py "
                 "--report docs/conformance.md --update-expected")
CHECK_COMMAND = "build/venv/bin/python test/Conformance/run_node_tests.py --check"

DEFAULT_DOMAINS = ("", "ai.onnx")
EXPANDED_RE = re.compile(r"_expanded(_ver\d+)?$")

# Failure categories, in the order the summary lists them.
PASS = "pass"
CRASH = "crash"
TIMEOUT = "timeout"
UNSUPPORTED_OP = "unsupported op"
OPSET = "opset out of range"
NO_DEFAULT_OPSET = "no default-domain opset"
DATA_TYPE = "unsupported data type"
NON_CONSTANT = "non-constant input"
UNSUPPORTED_ATTR = "unsupported attribute or mode"
UNPRODUCED_OUTPUT = "graph output not produced"
VERIFIER = "IR verifier error"
OTHER = "other error"
CATEGORIES = [CRASH, TIMEOUT, UNSUPPORTED_OP, OPSET, NO_DEFAULT_OPSET,
              DATA_TYPE, NON_CONSTANT, UNSUPPORTED_ATTR, UNPRODUCED_OUTPUT,
              VERIFIER, OTHER]
CATEGORY_NOTES = {
    CRASH: "anvilc was killed by a signal: a compiler bug, always fails the check",
    TIMEOUT: "anvilc ran past the per-model time limit",
    UNSUPPORTED_OP: "the importer has no conversion for an op of the model",
    OPSET: "the model's default-domain opset is outside 13..24 (a node "
           "test keeps the opset its op was added or last changed at, so the "
           "op itself was not tried)",
    NO_DEFAULT_OPSET: "the model imports only another domain (ai.onnx.ml, "
                      "ai.onnx.preview.training)",
    DATA_TYPE: "an input, output or cast uses an element type (or a "
               "sequence/optional/map) the importer does not take",
    NON_CONSTANT: "an input the importer needs as a compile-time constant "
                  "(axes, split, k, min/max) is a graph input",
    UNSUPPORTED_ATTR: "the op is known but an attribute value or mode is not "
                      "supported",
    UNPRODUCED_OUTPUT: "an optional node output is a graph output, but the "
                       "importer does not produce it",
    VERIFIER: "the importer built IR that fails the dialect's verifier "
              "(likely an importer bug: bad input should be rejected first)",
    OTHER: "anything else; the reason is anvilc's first error line",
}


class Test:
    """One node test and, after running, its result."""

    def __init__(self, name, model_path, op, domain, expanded, n_nodes):
        self.name = name
        self.model_path = model_path
        self.op = op              # op type under test
        self.domain = domain      # its domain ("" for the default one)
        self.expanded = expanded  # True for the *_expanded* variants
        self.n_nodes = n_nodes
        self.category = None      # PASS or one of CATEGORIES
        self.detail = ""          # short reason, e.g. "unsupported op Resize"
        self.stderr = ""
        self.constant_inputs = 0  # inputs given at compile time to import

    @property
    def op_key(self):
        if self.domain in DEFAULT_DOMAINS:
            return self.op
        return f"{self.op} ({self.domain})"

    @property
    def passed(self):
        return self.category == PASS


def node_test_dir():
    return os.path.join(os.path.dirname(onnx.__file__),
                        "backend", "test", "data", "node")


def graph_ops(model_path):
    """(op_type, domain) of every node of the model's main graph."""
    model = onnx.load(model_path, load_external_data=False)
    return [(n.op_type, n.domain) for n in model.graph.node]


def discover(filter_re):
    root = node_test_dir()
    if not os.path.isdir(root):
        sys.exit(f"run_node_tests.py: error: no node tests under {root}")
    names = sorted(d for d in os.listdir(root)
                   if os.path.isfile(os.path.join(root, d, "model.onnx")))
    # The ops of every test are needed (not just the filtered ones) because an
    # expanded test takes the op of the test it expands.
    ops = {n: graph_ops(os.path.join(root, n, "model.onnx")) for n in names}
    tests = []
    for name in names:
        if filter_re and not filter_re.search(name):
            continue
        nodes = ops[name]
        base = EXPANDED_RE.sub("", name)
        expanded = base != name and base in ops
        source = ops[base] if expanded else nodes
        if len(source) == 1:
            op, domain = source[0]
        else:  # not seen in onnx 1.19: keep every op type, sorted
            op = "+".join(sorted({o for o, _ in source})) or "(no nodes)"
            domain = ""
        tests.append(Test(name, os.path.join(root, name, "model.onnx"),
                          op, domain, expanded, len(nodes)))
    return tests


def zoo_ops():
    """op keys used by models/zoo/*.onnx and models/zoo-current/*.onnx,
    or None without those folders."""
    files = sorted(f for pattern in ZOO_GLOBS for f in glob.glob(pattern))
    if not files:
        return None
    keys = set()

    def walk(graph):
        for n in graph.node:
            keys.add(n.op_type if n.domain in DEFAULT_DOMAINS
                     else f"{n.op_type} ({n.domain})")
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for g in a.graphs:
                    walk(g)

    for f in files:
        walk(onnx.load(f, load_external_data=False).graph)
    return keys


ERROR_PREFIX = "anvilc: error: "
UNSUPPORTED_OP_RE = re.compile(
    r"unsupported op (\S+) \(domain ([^,]+), opset (\d+)\)")
OPSET_RE = re.compile(r"the model uses opset (\d+) of the default domain")
NODE_RE = re.compile(r"^node '[^']*': ")


def signal_name(signum):
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def name_data_type(match):
    """'data type 17' -> 'data type 17 (FLOAT8E4M3FN)'."""
    try:
        name = onnx.TensorProto.DataType.Name(int(match.group(1)))
    except ValueError:
        return match.group(0)
    return f"{match.group(0)} ({name})"


def classify(test, returncode, stderr):
    """Sets test.category and test.detail from anvilc's exit and stderr."""
    test.stderr = stderr
    if returncode == 0:
        test.category, test.detail = PASS, ""
        return
    if returncode < 0:
        test.category = CRASH
        test.detail = f"killed by {signal_name(-returncode)}"
        return
    errors = []
    for line in stderr.splitlines():
        if not line.startswith(ERROR_PREFIX):
            continue
        msg = line[len(ERROR_PREFIX):]
        if msg.startswith(test.model_path + ": "):
            msg = msg[len(test.model_path) + 2:]
        errors.append(NODE_RE.sub("", msg))
    if not errors:
        test.category = OTHER
        first = next((l for l in stderr.splitlines() if l.strip()), "")
        test.detail = (f"exit status {returncode}"
                       + (f": {first.strip()}" if first else
                          ", no error message"))
        return
    for msg in errors:
        m = UNSUPPORTED_OP_RE.search(msg)
        if m:
            op, domain = m.group(1), m.group(2)
            test.category = UNSUPPORTED_OP
            test.detail = f"unsupported op {op}" + (
                "" if domain in DEFAULT_DOMAINS else f" ({domain})")
            return
    msg = errors[0]
    m = OPSET_RE.search(msg)
    if m:
        test.category, test.detail = OPSET, f"opset {m.group(1)}"
    elif "imports no opset of the default" in msg:
        test.category, test.detail = NO_DEFAULT_OPSET, "no default-domain opset"
    elif ("unsupported data type" in msg or "cannot cast to data type" in msg
          or re.search(r"(has unsupported|cannot cast to) [A-Z0-9_]+$", msg)
          or "is not a tensor" in msg):
        test.category = DATA_TYPE
        test.detail = re.sub(r"data type (\d+)", name_data_type,
                             re.sub(r"^graph (input|output) '[^']*' ",
                                    r"graph \1 ", msg))
    elif "must be a compile-time constant" in msg:
        test.category, test.detail = NON_CONSTANT, msg.split(";")[0]
    elif "is not produced by any node" in msg:
        test.category = UNPRODUCED_OUTPUT
        test.detail = "optional output as graph output"
    elif re.search(r"'[\w.]+' op ", msg):
        test.category, test.detail = VERIFIER, msg
    elif "not supported" in msg:
        test.category, test.detail = UNSUPPORTED_ATTR, msg.split(";")[0]
    else:
        test.category, test.detail = OTHER, msg
    if len(test.detail) > 120:
        test.detail = test.detail[:117] + "..."


def shape_inputs(test):
    """--constant-input flags for a node test's inputs that can determine
    shapes: integer tensors of rank <= 1 and scalar floats (axes, split
    sizes, pads, k, Clip bounds), from the test's first data set."""
    model = onnx.load(test.model_path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    data_dir = os.path.join(os.path.dirname(test.model_path),
                            "test_data_set_0")
    flags = []
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    for index, value in enumerate(graph_inputs):
        tensor_type = value.type.tensor_type
        if not value.type.HasField("tensor_type"):
            continue
        rank = len(tensor_type.shape.dim)
        integer = tensor_type.elem_type in (onnx.TensorProto.INT64,
                                            onnx.TensorProto.INT32)
        scalar_float = (rank == 0 and tensor_type.elem_type in
                        (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE,
                         onnx.TensorProto.FLOAT16))
        path = os.path.join(data_dir, f"input_{index}.pb")
        if ((integer and rank <= 1) or scalar_float) and os.path.exists(path):
            flags.append(f"--constant-input={value.name}={path}")
    return flags


def run_one(anvilc, test, timeout):
    run_anvilc(anvilc, test, timeout, [])
    # A static-shape compiler needs inputs that determine shapes at compile
    # time: retry with them given as constants, and say so in the report.
    if test.category == NON_CONSTANT:
        flags = shape_inputs(test)
        if flags:
            first_detail = test.detail
            run_anvilc(anvilc, test, timeout, flags)
            if test.passed:
                test.constant_inputs = len(flags)
            elif test.category == NON_CONSTANT:
                test.detail = first_detail
    return test


def run_anvilc(anvilc, test, timeout, extra_flags):
    cmd = [anvilc, test.model_path, "-q", "-O0", "-o", os.devnull] + extra_flags
    # anvilc may be missing or half-written for a moment while it is being
    # rebuilt: retry for up to a minute before giving up on the test.
    for attempt in range(30):
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            test.category = TIMEOUT
            test.detail = f"timeout after {timeout:g} s"
            return test
        except OSError as e:
            error = e
            time.sleep(2)
    else:
        test.category, test.detail = OTHER, f"cannot run anvilc: {error}"
        return test
    classify(test, proc.returncode,
             proc.stderr.decode("utf-8", errors="replace"))
    return test


def resolve_anvilc(path):
    if os.sep not in path and not os.path.exists(path):
        found = shutil.which(path)
        if found:
            return found
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return os.path.abspath(path)
    sys.exit(f"run_node_tests.py: error: no anvilc executable at '{path}' "
             "(build it, or pass --anvilc PATH)")


# --- expected-pass file ------------------------------------------------------

EXPECTED_HEADER = """\
# ONNX backend node tests that anvilc imports today (`anvilc -q -O0`),
# one test name a line, sorted. test/Conformance/node-tests-import.test
# fails when one of them stops importing. Generated by the conformance
# runner; regenerate (with docs/conformance.md) from the repo root:
#   {command}
""".format(command=REGEN_COMMAND)


def read_expected(path):
    names = set()
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.add(line)
    return names


def write_expected(path, names):
    with open(path, "w") as f:
        f.write(EXPECTED_HEADER)
        for name in sorted(names):
            f.write(name + "\n")


# --- report ------------------------------------------------------------------

def md_escape(text):
    return text.replace("|", "\\|").replace("`", "'")


def pct(n, d):
    return f"{100.0 * n / d:.0f}%" if d else "-"


def main_reason(failed):
    """The most common failure category among the tests, with its count and
    its most common detail."""
    if not failed:
        return ""
    by_cat = collections.Counter(t.category for t in failed)
    category, n = sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    details = collections.Counter(t.detail for t in failed
                                  if t.category == category)
    detail = sorted(details.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    count = f" ({n}/{len(failed)})" if len(failed) > 1 else ""
    if category in (UNSUPPORTED_OP, OPSET, NO_DEFAULT_OPSET) and \
            len(details) == 1:
        return md_escape(detail) + count  # the detail says it all
    if category == UNPRODUCED_OUTPUT:
        return md_escape(category) + count
    sep = ", e.g. " if len(details) > 1 else ": "
    return md_escape(category) + count + sep + md_escape(detail)


def op_rows(tests):
    by_op = collections.defaultdict(list)
    for t in tests:
        by_op[t.op_key].append(t)
    return sorted(by_op.items(), key=lambda kv: (kv[0].lower(), kv[0]))


EXEC_EXPECTED = os.path.join(SCRIPT_DIR, "expected-exec-pass.txt")


def write_report(path, tests, zoo, filter_text):
    exec_passes = set(read_expected(EXEC_EXPECTED)) if os.path.exists(
        EXEC_EXPECTED) else set()
    direct = [t for t in tests if not t.expanded]
    expanded = [t for t in tests if t.expanded]
    passed = sum(t.passed for t in tests)
    cat_counts = collections.Counter(t.category for t in tests
                                     if not t.passed)
    rows = op_rows(tests)
    out = []
    w = out.append
    w("# ONNX backend node tests: import conformance")
    w("")
    w("<!-- Generated by test/Conformance/run_node_tests.py; do not edit. -->")
    w("")
    w("This page measures how many of ONNX's own backend node tests Anvil "
      f"**imports**: for each model that ships with onnx {onnx.__version__} "
      "(`onnx/backend/test/data/node/*/model.onnx`), the runner runs "
      "`anvilc MODEL -q -O0 -o /dev/null` and counts a test as imported when "
      "anvilc exits 0. Import at -O0 means the ONNX graph was converted into "
      "the `anvil` dialect and verified; no shape folding or later pass ran.")
    w("")
    w("**Execution** (compile for the cpu target, run, compare with the "
      "stored outputs) is reported per op in "
      "[conformance-execution.md](conformance-execution.md). Separately, "
      "constant folding is compared with the stored outputs: "
      "`test/Conformance/fold_node_tests.py` compiles each test "
      "at -O2 with all inputs given at compile time and checks every test "
      "that folds completely against `output_N.pb` (895 do, all equal).")
    w("")
    w("A node test's graph holds one node; the test belongs to that node's op. "
      "The `_expanded` variants hold the op's ONNX function body instead "
      "(several primitive ops); they are listed under the op they expand, in "
      "their own column, and do not count in the op's pass rate.")
    w("")
    w("Regenerate this page and `test/Conformance/expected-import-pass.txt` "
      "from the repo root after building:")
    w("")
    w("```sh")
    w(REGEN_COMMAND)
    w("```")
    w("")
    w("`" + CHECK_COMMAND + "` (run by the lit test "
      "`test/Conformance/node-tests-import.test`) fails when a test of the "
      "expected list stops importing.")
    if filter_text:
        w("")
        w(f"**Partial run:** only the tests whose name matches the regular "
          f"expression `{filter_text}`.")
    w("")
    w("## Summary")
    w("")
    w("| | tests | imported | pass rate |")
    w("|---|---:|---:|---:|")
    dp = sum(t.passed for t in direct)
    ep = sum(t.passed for t in expanded)
    w(f"| node tests | {len(direct)} | {dp} | {pct(dp, len(direct))} |")
    w(f"| expanded (function body) tests | {len(expanded)} | {ep} | "
      f"{pct(ep, len(expanded))} |")
    w(f"| **all** | **{len(tests)}** | **{passed}** | "
      f"**{pct(passed, len(tests))}** |")
    w("")
    n_ops = len(rows)
    ops_full = sum(1 for _, ts in rows
                   if any(not t.expanded for t in ts)
                   and all(t.passed for t in ts if not t.expanded))
    ops_zero = [op for op, ts in rows
                if any(not t.expanded for t in ts)
                and not any(t.passed for t in ts if not t.expanded)]
    w(f"{n_ops} ops: {ops_full} import all of their node tests, "
      f"{len(ops_zero)} import none.")
    w("")
    with_constants = sum(1 for t in tests if t.passed and t.constant_inputs)
    w(f"{with_constants} of the imported tests feed an input that determines "
      "a shape (axes, split sizes, pads, k, Clip bounds) as a graph input; "
      "they import when the runner gives that input's test value at compile "
      "time (`anvilc --constant-input=NAME=input_N.pb`), as a static-shape "
      "compiler needs.")
    w("")
    w("Failures by category (all tests):")
    w("")
    w("| category | tests | meaning |")
    w("|---|---:|---|")
    for c in CATEGORIES:
        if cat_counts.get(c) or c == CRASH:
            w(f"| {c} | {cat_counts.get(c, 0)} | {CATEGORY_NOTES[c]} |")
    w("")
    crashes = [t for t in tests if t.category == CRASH]
    if crashes:
        w("## Crashes")
        w("")
        w("anvilc must never crash on bad or unsupported input "
          "(DESIGN.md, invariant 4). These tests killed it:")
        w("")
        for t in crashes:
            w(f"- `{t.name}`: {md_escape(t.detail)}")
        w("")
    w("## Per op")
    w("")
    zoo_note = ("" if zoo is None else
                " **zoo** marks the ops that the models in `models/zoo/` use.")
    w("*tests* and *imported* count the op's node tests; *executed* counts "
      "those that compile for the cpu target, run and match their stored "
      "outputs (from `expected-exec-pass.txt`, which the execution check "
      "keeps current; details in "
      "[conformance-execution.md](conformance-execution.md)); *expanded* "
      "counts its `_expanded` tests (imported/total); *main failure reason* "
      "is the most common reason among the op's failing node tests (or, when "
      "they all import, among its failing expanded tests), with its count." +
      zoo_note)
    w("")
    if zoo is None:
        w("| op | tests | imported | executed | pass rate | expanded | main failure reason |")
        w("|---|---:|---:|---:|---:|---:|---|")
    else:
        w("| op | zoo | tests | imported | executed | pass rate | expanded "
          "| main failure reason |")
        w("|---|:---:|---:|---:|---:|---:|---:|---|")
    for op, ts in rows:
        d = [t for t in ts if not t.expanded]
        e = [t for t in ts if t.expanded]
        dpass = sum(t.passed for t in d)
        epass = sum(t.passed for t in e)
        dfail = [t for t in d if not t.passed]
        efail = [t for t in e if not t.passed]
        reason = main_reason(dfail) if dfail else (
            ("expanded: " + main_reason(efail)) if efail else "")
        exp = f"{epass}/{len(e)}" if e else ""
        cells = [md_escape(op)]
        if zoo is not None:
            cells.append("zoo" if op in zoo else "")
        executed = sum(t.name in exec_passes for t in d)
        cells += [str(len(d)), str(dpass), str(executed), pct(dpass, len(d)),
                  exp, reason]
        w("| " + " | ".join(cells) + " |")
    w("")
    if ops_zero:
        w("## Ops that import none of their node tests")
        w("")
        w("Grouped by the main failure reason's category.")
        w("")
        by_cat = collections.defaultdict(list)
        for op, ts in rows:
            if op in ops_zero:
                failing = [t for t in ts if not t.expanded]
                cat = collections.Counter(
                    t.category for t in failing).most_common(1)[0][0]
                by_cat[cat].append(op)
        for c in CATEGORIES:
            if by_cat.get(c):
                w(f"- {c} ({len(by_cat[c])}): "
                  + ", ".join(f"`{o}`" for o in by_cat[c]))
        w("")
    if zoo is not None:
        tested = {op for op, _ in rows}
        missing = sorted(zoo - tested)
        zoo_failing = [op for op, ts in rows if op in zoo
                       and any(not t.passed for t in ts if not t.expanded)]
        w("## Zoo ops")
        w("")
        text = f"The zoo models use {len(zoo)} op types."
        if zoo_failing:
            text += (" Ops with failing node tests: "
                     + ", ".join(f"`{o}`" for o in zoo_failing) + ".")
        else:
            text += " All of their node tests import."
        if missing:
            text += (" Ops without a node test"
                     + (" in this partial run" if filter_text else "") + ": "
                     + ", ".join(f"`{o}`" for o in missing) + ".")
        w(text)
        w("")
    with open(path, "w") as f:
        f.write("\n".join(out))


# --- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anvilc", default=DEFAULT_ANVILC,
                    help="anvilc to test: a path, or a name looked up on PATH "
                         "(default: build/bin/anvilc of this checkout)")
    ap.add_argument("--report", metavar="MD",
                    help="write the markdown report there "
                         "(docs/conformance.md)")
    ap.add_argument("--expected", metavar="FILE", default=DEFAULT_EXPECTED,
                    help="expected-pass list (default: "
                         "test/Conformance/expected-import-pass.txt)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a test of the expected list does not "
                         "import (a regression)")
    ap.add_argument("--update-expected", action="store_true",
                    help="rewrite the expected list from this run's results")
    ap.add_argument("--filter", metavar="REGEX",
                    help="only the tests whose name matches (re.search)")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="anvilc processes at a time (default: 2)")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds per model before it counts as a failure "
                         "(default: 20)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print every failing test with its reason")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error("-j must be at least 1")
    if args.check and args.update_expected:
        ap.error("--check and --update-expected exclude each other")

    filter_re = None
    if args.filter:
        try:
            filter_re = re.compile(args.filter)
        except re.error as e:
            ap.error(f"--filter: {e}")
    expected = None
    if args.check:
        if not os.path.isfile(args.expected):
            ap.error(f"--check: no expected list at {args.expected}")
        expected = read_expected(args.expected)

    anvilc = resolve_anvilc(args.anvilc)
    tests = discover(filter_re)
    if not tests:
        print("run_node_tests.py: no test matches the filter", file=sys.stderr)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(lambda t: run_one(anvilc, t, args.timeout), tests))
    elapsed = time.monotonic() - start

    passed = [t for t in tests if t.passed]
    failed = [t for t in tests if not t.passed]
    counts = collections.Counter(t.category for t in failed)
    print(f"anvilc: {anvilc}")
    print(f"onnx {onnx.__version__} node tests: {node_test_dir()}")
    print(f"ran {len(tests)} tests in {elapsed:.1f} s with {args.jobs} "
          f"job(s)")
    for c in CATEGORIES:
        if counts.get(c):
            print(f"  {c}: {counts[c]}")
    if args.verbose:
        for t in failed:
            print(f"FAIL {t.name} [{t.op_key}]: {t.category}: {t.detail}")

    status = 0
    crashes = [t for t in tests if t.category == CRASH]
    if crashes:
        status = 1
        print(f"\nCRASH: anvilc was killed by a signal on {len(crashes)} "
              "test(s); this is a compiler bug:")
        for t in crashes:
            print(f"  {t.name}: {t.detail}  ({anvilc} {t.model_path} -q -O0)")
            for line in t.stderr.splitlines()[:20]:
                print(f"    | {line}")

    if args.check:
        ran = {t.name: t for t in tests}
        regressions = [ran[n] for n in sorted(expected)
                       if n in ran and not ran[n].passed]
        gone = sorted(n for n in expected if n not in ran
                      and (filter_re is None or filter_re.search(n)))
        newly = sorted(t.name for t in passed if t.name not in expected)
        if regressions:
            status = 1
            print(f"\nREGRESSION: {len(regressions)} test(s) of "
                  f"{args.expected} no longer import:")
            for t in regressions:
                print(f"  {t.name}: {t.category}: {t.detail}")
        if gone:
            print(f"\nnote: {len(gone)} test(s) of the expected list are not "
                  f"in onnx {onnx.__version__}'s node tests (remove them):")
            for n in gone:
                print(f"  {n}")
        if newly:
            print(f"\nnewly passing: {len(newly)} test(s) import but are not "
                  "in the expected list; add them to the expected list "
                  f"(--update-expected):")
            for n in newly:
                print(f"  {n}")
        if not regressions:
            print(f"\ncheck: no regression against {args.expected}")

    if args.update_expected:
        names = {t.name for t in passed}
        if filter_re is not None and os.path.isfile(args.expected):
            # Keep the entries of the tests this run did not cover.
            names |= {n for n in read_expected(args.expected)
                      if not filter_re.search(n)}
        write_expected(args.expected, names)
        print(f"wrote {args.expected} ({len(names)} tests)")
    if args.report:
        write_report(args.report, tests, zoo_ops(), args.filter)
        print(f"wrote {args.report}")

    print(f"conformance: {len(passed)} passed, {len(failed)} failed")
    return status


if __name__ == "__main__":
    sys.exit(main())

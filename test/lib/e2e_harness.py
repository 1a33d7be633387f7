"""The harness the end-to-end checks in test/EndToEnd share: compile a model
with anvilc, run the artifact with anvil-run, load its .npy outputs and
compare them with a reference (ONNX Runtime or numpy, never Anvil).

  make_model(...)            an onnx.helper graph as a checked ModelProto
  compile_and_run(...)       anvilc, then anvil-run: (outputs, None) or
                             (None, why)
  kernel_program(...)        `anvilc -O2 --emit=kernel` of a model, as text
  float32_model(model)       a float16 graph's float32 twin (for ONNX
                             Runtime, whose CPU kernels lack float16)
  compare_array(...)         one output against its reference: None or why
  compare_outputs(...)       every output: a list of problems
  save_inputs(folder, ...)   each input as FOLDER/PREFIX<name>.npy
  anvil_run_command(...)     the anvil-run command line
  load_outputs(out_dir, ...) OUT_DIR/<name>.npy for each output name
  run_cases(...)             the main() of a runner: every case, `ok` or
                             `FAIL` each, a summary
  script_main(...)           the main() of a script in EndToEnd/Inputs:
                             prepare / run / check one model in one folder
  write_case / run_case      its `prepare` and `run` steps
  report(problems, line)     its `check` step's verdict
  cpu_flags()                /proc/cpuinfo's flags, as a set (empty
                             elsewhere)
  native_takes_bf16()        whether --mcpu=native compiles for
                             AVX512-BF16 on this machine
  round_to_bf16(x)           float32 -> nearest bfloat16, as float64

What stays with each caller: its tolerances, where the reference comes
from (ONNX Runtime's session options and why, numpy), masks of the elements
a reference leaves unspecified, extra anvilc flags.

Scripts import it with test/lib on the path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "lib"))
    import e2e_harness  # noqa: E402
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper


def make_model(nodes, inputs, outputs, initializers, opset=19, ir_version=10):
    """A ModelProto of one graph ("g") in the default domain at `opset`,
    checked by onnx.checker."""
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version
    onnx.checker.check_model(model)
    return model


def save_inputs(folder, inputs, prefix=""):
    """Saves each array of `inputs` ({name: numpy array}) as
    FOLDER/PREFIX<name>.npy; returns {name: path} in the same order."""
    paths = {}
    for name, value in inputs.items():
        paths[name] = os.path.join(folder, f"{prefix}{name}.npy")
        np.save(paths[name], value)
    return paths


def anvil_run_command(anvil_run, artifact, out_dir, input_paths):
    """The argv of `anvil-run ARTIFACT --output-dir OUT_DIR --input
    name=path ...`, one --input per entry of `input_paths` ({name: .npy
    path}), in its order."""
    cmd = [anvil_run, artifact, "--output-dir", out_dir]
    for name, path in input_paths.items():
        cmd += ["--input", f"{name}={path}"]
    return cmd


def load_outputs(out_dir, names):
    """{name: array} read from OUT_DIR/<name>.npy for each of `names` (as
    anvil-run writes them); a missing file raises, as np.load does."""
    return {name: np.load(os.path.join(out_dir, name + ".npy"))
            for name in names}


def compile_and_run(anvilc, anvil_run, work, name, model, inputs, *,
                    output_names=None, anvilc_flags=(), error_chars=1000):
    """Compiles `model` with anvilc and runs it on `inputs` with anvil-run,
    every file under WORK named after NAME.

    model: an onnx.ModelProto, saved as WORK/NAME.onnx, whose graph outputs
      are the outputs read back; or anvil-dialect MLIR text, saved as
      WORK/NAME.mlir, whose outputs `output_names` must list.
    inputs: {graph input name: numpy array}, saved as WORK/NAME.<input>.npy
      and passed to anvil-run in this order.
    anvilc_flags: extra anvilc flags, placed after -q: the command is
      `anvilc -q FLAGS MODEL -o WORK/NAME.anvil`, then `anvil-run
      WORK/NAME.anvil --output-dir WORK/NAME.out --input name=path ...`.
    error_chars: how much of a failing tool's stderr (its end) to keep.

    Returns (outputs, None), outputs {output name: array} from
    WORK/NAME.out/<output>.npy in output order; or (None, why) with why
    "anvilc failed: STDERR" or "anvil-run failed: STDERR"."""
    if isinstance(model, str):
        path = os.path.join(work, name + ".mlir")
        with open(path, "w") as f:
            f.write(model)
        if output_names is None:
            raise ValueError(f"{name}: MLIR text needs output_names")
    else:
        path = os.path.join(work, name + ".onnx")
        onnx.save(model, path)
        output_names = [out.name for out in model.graph.output]
    artifact = os.path.join(work, name + ".anvil")
    run = subprocess.run([anvilc, "-q", *anvilc_flags, path, "-o", artifact],
                         capture_output=True, text=True)
    if run.returncode:
        return None, f"anvilc failed: {run.stderr.strip()[-error_chars:]}"
    out_dir = os.path.join(work, name + ".out")
    paths = save_inputs(work, inputs, prefix=name + ".")
    cmd = anvil_run_command(anvil_run, artifact, out_dir, paths)
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        return None, f"anvil-run failed: {run.stderr.strip()[-error_chars:]}"
    return load_outputs(out_dir, output_names), None


def kernel_program(anvilc, path, flags=("-O2",)):
    """The planned kernel program (`anvilc -q FLAGS --emit=kernel PATH`) as
    text; raises subprocess.CalledProcessError if anvilc fails."""
    return subprocess.run([anvilc, "-q", *flags, "--emit=kernel", path, "-o",
                           "-"], capture_output=True, text=True,
                          check=True).stdout


def float32_model(model):
    """A copy of `model` with its float16 initializers, inputs and outputs
    as float32 (the same values), for ONNX Runtime, whose CPU kernels have
    no float16 Conv or attention. Other element types stay."""
    from onnx import TensorProto, numpy_helper
    wide = onnx.ModelProto()
    wide.CopyFrom(model)
    for init in wide.graph.initializer:
        value = numpy_helper.to_array(init)
        if value.dtype == np.float16:
            init.CopyFrom(numpy_helper.from_array(value.astype(np.float32),
                                                  init.name))
    for value in list(wide.graph.input) + list(wide.graph.output):
        if value.type.tensor_type.elem_type == TensorProto.FLOAT16:
            value.type.tensor_type.elem_type = TensorProto.FLOAT
    return wide


def compare_array(name, got, want, rtol, atol, *, f16=None, valid=None,
                  what="the reference", nonfinite="broken", exact_dtype=True):
    """Compares one output `got` (Anvil's) with its reference `want`.

    Dtype and shape must be equal (exact_dtype=False: only the shape, for
    a wider float reference such as float64 numpy of a float32 output).
    valid: a boolean mask of want's shape; only the elements it selects are
      compared (for references that leave the rest unspecified).
    Floating-point references: elementwise |got - want| <= atol +
      rtol |want|, computed in float64, with (rtol, atol) = f16 instead
      when want is float16 and f16 is given. A NaN or infinity in got
      fails (the comparison is False for it). A NaN or infinity in want:
        nonfinite="broken"  fails as "NAME: WHAT is not finite (a broken
                            test)", whatever got holds;
        nonfinite="match"   NaN must meet NaN and an infinity the same
                            infinity (np.allclose with equal_nan=True).
    Other dtypes (integers, bool): exactly equal (rtol and atol unused).

    what: how messages name the reference ("ONNX Runtime", ...).
    Returns None when they agree, else one line: "NAME: DTYPE[SHAPE], WHAT
    has DTYPE[SHAPE]" or "NAME: N of M elements differ from WHAT, first at
    (INDEX): GOT vs WANT" (M counts the compared elements)."""
    if nonfinite not in ("broken", "match"):
        raise ValueError(f"nonfinite={nonfinite!r}")
    if (got.shape != want.shape
            or (exact_dtype and got.dtype != want.dtype)):
        return (f"{name}: {got.dtype}{list(got.shape)}, {what} has "
                f"{want.dtype}{list(want.shape)}")
    if valid is not None:
        got, want = got[valid], want[valid]
    if np.issubdtype(want.dtype, np.floating):
        finite = np.isfinite(want)
        if nonfinite == "broken" and not finite.all():
            return f"{name}: {what} is not finite (a broken test)"
        if f16 is not None and want.dtype == np.float16:
            rtol, atol = f16
        got64, want64 = got.astype(np.float64), want.astype(np.float64)
        with np.errstate(invalid="ignore"):
            close = np.abs(got64 - want64) <= atol + rtol * np.abs(want64)
        if nonfinite == "match":
            # The bound is no bound where want is infinite (inf <= inf).
            close = np.where(finite, close,
                             (got64 == want64)
                             | (np.isnan(got64) & np.isnan(want64)))
        # `not close`, so that NaN or infinity in Anvil's output fails.
        bad = ~close
    else:
        bad = got != want
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        return (f"{name}: {int(bad.sum())} of {bad.size} elements differ "
                f"from {what}, first at {i}: {got[i]} vs {want[i]}")
    return None


def compare_outputs(got, expected, rtol, atol, *, tolerances=None,
                    valid=None, **options):
    """Compares every output of `expected` ({name: reference array}, in the
    order to check) with got[name] ({name: array}, e.g. from
    compile_and_run) by compare_array.

    rtol, atol: the float tolerance of every output but those `tolerances`
      ({name: (rtol, atol)}) names.
    valid: {name: boolean mask}; an output it does not name is compared
      in full.
    options: compare_array's f16, what, nonfinite and exact_dtype, for
      every output.
    Returns the problems, one line per output that differs, in expected's
    order; an empty list when all agree."""
    tolerances, valid = tolerances or {}, valid or {}
    problems = []
    for name, want in expected.items():
        output_rtol, output_atol = tolerances.get(name, (rtol, atol))
        problem = compare_array(name, got[name], want, output_rtol,
                                output_atol, valid=valid.get(name), **options)
        if problem:
            problems.append(problem)
    return problems


def write_case(folder, model, inputs):
    """The `prepare` step of a script in EndToEnd/Inputs: creates FOLDER
    and writes `model` (an onnx.ModelProto) as FOLDER/model.onnx and each
    input as FOLDER/<name>.npy. Returns {name: path}."""
    os.makedirs(folder, exist_ok=True)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    return save_inputs(folder, inputs)


def run_case(anvil_run, folder, names):
    """The `run` step: runs FOLDER/model.anvil on FOLDER/<name>.npy for
    each of `names`, outputs into FOLDER/out; raises
    subprocess.CalledProcessError if anvil-run fails."""
    paths = {n: os.path.join(folder, n + ".npy") for n in names}
    subprocess.run(anvil_run_command(anvil_run,
                                     os.path.join(folder, "model.anvil"),
                                     os.path.join(folder, "out"), paths),
                   check=True, stdout=subprocess.DEVNULL)


def report(problems, success):
    """The `check` step's verdict: prints each problem and exits 1 if any,
    else prints `success` (the line the test's FileCheck looks for)."""
    for problem in problems:
        print(problem)
    if problems:
        sys.exit(1)
    print(success)


def run_cases(label, cases, check, *, seed, description=None):
    """The main() of a runner: parses --anvilc, --anvil-run, --work DIR
    (created if missing) and --filter REGEX (only the cases whose name it
    matches; default all). For each case `build` in `cases`:
    `build(np.random.default_rng(seed))` gives (model, inputs, *extra) and
    `check(build.__name__, model, inputs, args, *extra)` None or why not.
    Prints `ok   NAME` or `FAIL NAME: why` per case, then `LABEL: N passed,
    M failed`. Returns the exit status: 1 if a case failed, else 0."""
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--anvilc", required=True)
    ap.add_argument("--anvil-run", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--filter", default="")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = total = 0
    for build in cases:
        if not re.search(args.filter, build.__name__):
            continue
        total += 1
        model, inputs, *extra = build(np.random.default_rng(seed))
        problem = check(build.__name__, model, inputs, args, *extra)
        if problem:
            failed += 1
            print(f"FAIL {build.__name__}: {problem}")
        else:
            print(f"ok   {build.__name__}")
    print(f"{label}: {total - failed} passed, {failed} failed")
    return 1 if failed else 0


def script_main(model, inputs, check):
    """The main() of a script in EndToEnd/Inputs, run as
        SCRIPT prepare DIR          write_case(DIR, model(), inputs)
        SCRIPT run DIR ANVIL_RUN    run_case(ANVIL_RUN, DIR, inputs)
        SCRIPT check DIR            check(DIR), which ends with report()
    model: a function returning the onnx.ModelProto; inputs: {name:
    array}, the model's inputs."""
    cmd, folder = sys.argv[1], sys.argv[2]
    if cmd == "prepare":
        write_case(folder, model(), inputs)
    elif cmd == "run":
        run_case(sys.argv[3], folder, inputs)
    else:
        check(folder)


def cpu_flags():
    """The flags /proc/cpuinfo lists for this machine, as a set (empty
    where it cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_takes_bf16():
    """Whether --mcpu=native (anvilc's default) compiles for AVX512-BF16
    here: it adds it with AVX512-VNNI (backends/cpu/codegen/CpuTarget.cpp),
    and then the activations of the int4 weights --quantize=int4-* made are
    rounded to bf16 (backends/cpu/kernels/matmul_int4_bf16.h)."""
    return {"avx512_bf16", "avx512_vnni"} <= cpu_flags()


def round_to_bf16(x):
    """float32 -> the nearest bfloat16 (ties to even), as float64: what the
    kernel's activations become on the bf16 path."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    bits = bits.astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)

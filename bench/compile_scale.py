#!/usr/bin/env python3
"""Compile time and peak memory of anvilc against graph size.

For each graph family of test/lib/big_graphs.py (long elementwise chains,
fans, MatMul chains, shape ops, many initializers, a mix) and each size N,
writes the graph, compiles it with anvilc -O2 --runs times (medians, and
min..max) to --emit=source (anvilc's own passes only) or to an artifact
(adding the C++ build, without the code cache), and records wall time,
peak RSS (of anvilc and the C++ compiler it runs, whichever is larger) and
the stages of --mlir-timing. Prints a markdown table, and per family the
ratio of time at the largest N to time at the smallest over the ratio of
sizes (1.0: linear; a quadratic pass shows as the ratio of sizes).

Usage: bench/compile_scale.py [--anvilc build/bin/anvilc]
           [--families chain,fan,matmul,shape,inits,mix]
           [--sizes 5000,10000,20000,50000] [--emit source|artifact]
           [--runs 3] [--lock /tmp/anvil-build.lock] [--json out.json]
--lock takes the file lock around each compile (a shared machine's build
lock), so other jobs neither wait for the whole run nor disturb a compile.
"""
import argparse
import fcntl
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "lib"))
import big_graphs  # noqa: E402

STAGES = ("import", "graph pipeline", "kernel pipeline", "emit source",
          "build code")


def compile_once(anvilc, model, emit, out, lock):
    """(seconds, peak RSS in MiB, {stage: seconds}) of one anvilc run."""
    cmd = [anvilc, "-q", "-O2", "--mlir-timing", model, "--emit", emit,
           "-o", out]
    if emit == "artifact":
        cmd.append("--no-cache")
    lock_file = open(lock, "w") if lock else None
    try:
        if lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        with tempfile.TemporaryFile("w+") as log, \
                tempfile.NamedTemporaryFile("w+") as rss:
            # GNU time reports anvilc's peak RSS (it counts the C++
            # compiler too, a waited-for child). Not os.wait4 here: a child
            # forked from this process starts with its RSS, which holds
            # the graph.
            start = time.perf_counter()
            status = subprocess.call(
                ["/usr/bin/time", "-f", "%M", "-o", rss.name] + cmd,
                stderr=log)
            seconds = time.perf_counter() - start
            log.seek(0)
            stderr = log.read()
            rss_kib = int(rss.read().split()[-1])
    finally:
        if lock_file:
            lock_file.close()
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr[-2000:]}")
    stages = {}
    for line in stderr.splitlines():
        m = re.match(r"\s+([0-9.]+) \(\s*[0-9.]+%\)  (\S.*)$", line)
        if m and m.group(2) in STAGES:
            stages[m.group(2)] = float(m.group(1))
    return seconds, rss_kib / 1024.0, stages


def spread(values, fmt):
    """`median (min..max)`."""
    return (f"{fmt.format(statistics.median(values))} "
            f"({fmt.format(min(values))}..{fmt.format(max(values))})")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anvilc", default=os.path.join(ROOT, "build", "bin",
                                                     "anvilc"))
    ap.add_argument("--families", default=",".join(big_graphs.FAMILIES))
    ap.add_argument("--sizes", default="5000,10000,20000,50000")
    ap.add_argument("--emit", choices=("source", "artifact"),
                    default="source")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lock", help="flock this file around each compile")
    ap.add_argument("--json", help="also write the measurements here")
    args = ap.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="anvil-scale-") as work:
        for family in args.families.split(","):
            for n in sizes:
                model, _, _ = big_graphs.build(family, n)
                path = os.path.join(work, f"{family}-{n}.onnx")
                onnx.save(model, path)
                runs = [compile_once(args.anvilc, path, args.emit,
                                     os.path.join(work, "out"), args.lock)
                        for _ in range(args.runs)]
                row = {"family": family, "n": n,
                       "nodes": len(model.graph.node),
                       "seconds": [r[0] for r in runs],
                       "rss_mib": [r[1] for r in runs],
                       "stages": {s: statistics.median(r[2].get(s, 0.0)
                                                       for r in runs)
                                  for s in STAGES}}
                rows.append(row)
                print(f"{family} {n}: {spread(row['seconds'], '{:.2f}')} s",
                      file=sys.stderr)
    stage_names = [s for s in STAGES
                   if any(r["stages"][s] >= 0.005 for r in rows)]
    print(f"anvilc -O2 --emit={args.emit}, {args.runs} runs: median "
          "(min..max); stages are medians of --mlir-timing\n")
    print("| family | nodes | seconds | peak RSS MiB | " +
          " | ".join(stage_names) + " |")
    print("|---|---|---|---|" + "---|" * len(stage_names))
    for r in rows:
        print(f"| {r['family']} | {r['nodes']} | "
              f"{spread(r['seconds'], '{:.2f}')} | "
              f"{spread(r['rss_mib'], '{:.0f}')} | " +
              " | ".join(f"{r['stages'][s]:.2f}" for s in stage_names) + " |")
    print("\nGrowth from the smallest to the largest size, time ratio over "
          "size ratio (1.0 is linear):\n")
    for family in args.families.split(","):
        mine = [r for r in rows if r["family"] == family]
        if len(mine) < 2:
            continue
        first, last = mine[0], mine[-1]
        ratio = (statistics.median(last["seconds"]) /
                 statistics.median(first["seconds"])) / (
                     last["nodes"] / first["nodes"])
        print(f"- {family}: {ratio:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

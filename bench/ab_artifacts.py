#!/usr/bin/env python3
"""Alternated A/B timing of two or more .anvil artifacts with anvil-bench.

On a shared, noisy machine two benchmark runs minutes apart can differ by
more than the change being measured. This runs `anvil-bench ART -r 1` for
each artifact in turn, --rounds times (A B C A B C ...), so that every
artifact sees the same drift, and prints each artifact's median and
min..max of prefill and decode tok/s and its ratio to the first artifact's
median, with the number of rounds it was faster than the first.

Typical use: compile the same model with two builds of anvilc (or two
sets of flags), then

  bench/ab_artifacts.py before.anvil after.anvil --rounds 6 -p 128 -n 32

and with -b 16 the decode of 16 concurrent sequences.

Not a test: the numbers depend on the machine and its load.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                     "build", "bin")


def bench_once(args, artifact):
    """One anvil-bench run (-r 1) of `artifact`: {"pp": tok/s, "tg": tok/s}
    for the rows it reported."""
    cmd = [args.anvil_bench, artifact, "-p", str(args.prompt), "-n",
           str(args.gen), "-d", str(args.depth if args.depth is not None
                                     else args.prompt),
           "-t", str(args.threads), "-b", str(args.batch), "-r", "1",
           "--output", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"anvil-bench failed on {artifact} "
                 f"(exit {done.returncode}): {done.stderr.strip()[-800:]}")
    report = json.loads(done.stdout)
    return {r["kind"]: r["tok_s"] for r in report["results"]}


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("artifacts", nargs="+",
                    help="two or more .anvil files; ratios are to the first")
    ap.add_argument("--rounds", type=int, default=5,
                    help="runs of each artifact, alternated (default 5)")
    ap.add_argument("-p", "--prompt", type=int, default=128,
                    help="prefill tokens (0: decode only; default 128)")
    ap.add_argument("-n", "--gen", type=int, default=32,
                    help="decode steps (0: prefill only; default 32)")
    ap.add_argument("-d", "--depth", type=int, default=None,
                    help="context before the decode steps (default: -p)")
    ap.add_argument("-t", "--threads", type=int, default=2,
                    help="threads (default 2)")
    ap.add_argument("-b", "--batch", type=int, default=1,
                    help="concurrent sequences (default 1; 16 for a "
                    "batched decode)")
    ap.add_argument("--anvil-bench",
                    default=os.path.join(BUILD, "anvil-bench"),
                    help="the anvil-bench binary (default build/bin)")
    args = ap.parse_args()
    if len(args.artifacts) < 2:
        ap.error("give at least two artifacts")
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if args.batch < 1:
        ap.error("--batch must be at least 1")
    for path in args.artifacts + [args.anvil_bench]:
        if not os.path.exists(path):
            sys.exit(f"{path} does not exist")
    runs = {a: [] for a in args.artifacts}
    for round_ in range(args.rounds):
        for artifact in args.artifacts:
            runs[artifact].append(bench_once(args, artifact))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr,
              flush=True)
    first = args.artifacts[0]
    for kind, label in (("pp", f"prefill {args.prompt}"),
                        ("tg", f"decode {args.gen}")):
        if not all(kind in r for a in args.artifacts for r in runs[a]):
            continue
        base = [r[kind] for r in runs[first]]
        print(f"{label} tok/s, {args.threads} threads, batch {args.batch}, "
              f"{args.rounds} alternated rounds:")
        for artifact in args.artifacts:
            vals = [r[kind] for r in runs[artifact]]
            med = statistics.median(vals)
            line = (f"  {med:10.1f} ({min(vals):.1f}..{max(vals):.1f})  "
                    f"{os.path.basename(artifact)}")
            if artifact != first:
                wins = sum(v > b for v, b in zip(vals, base))
                line += (f"  x{med / statistics.median(base):.3f} of the "
                         f"first, faster in {wins}/{args.rounds} rounds")
            print(line)


if __name__ == "__main__":
    main()

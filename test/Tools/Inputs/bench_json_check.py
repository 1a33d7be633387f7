#!/usr/bin/env python3
"""Checks `anvil-bench --output json` against docs/cli.md.

  bench_json_check.py CLI_MD ROWS < output.json

Every field of the documented tables of the anvil-bench section ("top-level
field", "cpu field", "model field", "result field", "ceilings field") must
be printed, and nothing else; each result must be consistent (min <= median
<= max, positive rates, tokens = batch x n). ROWS is the number of results
expected. Prints one line per checked object kind and "ok". No time is
asserted.
"""
import json
import re
import sys


def documented(cli_md):
    text = open(cli_md).read()
    section = text[text.index("\n## anvil-bench"):]
    tables = {}
    current = None
    for line in section.splitlines():
        m = re.match(r"\| (top-level|cpu|model|result|ceilings) field \|", line)
        if m:
            current = tables.setdefault(m.group(1), set())
            continue
        if current is not None and line.startswith("| `"):
            first = line.split("|")[1]
            current.update(re.findall(r"`([a-z0-9_]+)`", first))
        elif current is not None and not line.startswith("|"):
            current = None
    return tables


def fail(message):
    sys.exit(f"bench_json_check.py: {message}")


def same_keys(kind, obj, want):
    got = set(obj)
    if got != want:
        fail(f"{kind}: printed but not documented: {sorted(got - want)}; "
             f"documented but not printed: {sorted(want - got)}")


def main():
    cli_md, rows = sys.argv[1], int(sys.argv[2])
    tables = documented(cli_md)
    if set(tables) != {"top-level", "cpu", "model", "result", "ceilings"}:
        fail(f"docs/cli.md's anvil-bench tables: found {sorted(tables)}")
    out = json.load(sys.stdin)
    same_keys("top-level", out, tables["top-level"])
    same_keys("cpu", out["cpu"], tables["cpu"])
    if out["model"] is not None:
        same_keys("model", out["model"], tables["model"])
        if out["model"]["weight_bytes"] <= 0:
            fail("model.weight_bytes is not positive")
        streamed = out["model"]["streamed_weight_bytes"]
        if not 0 < streamed <= out["model"]["weight_bytes"]:
            fail(f"model.streamed_weight_bytes {streamed} is not in "
                 f"(0, weight_bytes]")
        if "--expect-streamed-below-weights" in sys.argv and \
                streamed >= out["model"]["weight_bytes"]:
            fail("model.streamed_weight_bytes leaves out no gathered table")
    for c in out["ceilings"]:
        same_keys("ceilings", c, tables["ceilings"])
        for key in ("read_gb_s", "fp32_gflops"):
            if not 0 < c[key + "_min"] <= c[key + "_median"] <= c[key]:
                fail(f"ceilings {key}: min, median, max out of order: {c}")
    if len(out["results"]) != rows:
        fail(f"{len(out['results'])} results, expected {rows}")
    for r in out["results"]:
        same_keys("result", r, tables["result"])
        if not 0 < r["tok_s_min"] <= r["tok_s"] <= r["tok_s_max"]:
            fail(f"{r['test']}: tok/s min, median, max out of order")
        if not 0 < r["ms_min"] <= r["ms"] <= r["ms_max"]:
            fail(f"{r['test']}: ms min, median, max out of order")
        n = r["n_prompt"] if r["kind"] == "pp" else r["n_gen"]
        if r["tokens"] != r["batch"] * n:
            fail(f"{r['test']}: {r['tokens']} tokens, not batch x {n}")
        if (r["kind"] == "pp") != (r["ttft_ms"] is not None):
            fail(f"{r['test']}: ttft_ms is for prefill rows only")
        if r["peak_rss_bytes"] <= 0:
            fail(f"{r['test']}: no peak RSS")
        if (r["roofline"] is not None) != (r["kind"] == "tg" and
                                           bool(out["ceilings"])):
            fail(f"{r['test']}: roofline is for decode rows with ceilings")
    kinds = sorted({k for r in out["results"] for k in [r["test"]]})
    print("results: " + " ".join(kinds))
    print(f"ceilings: {len(out['ceilings'])}")
    print("ok")


if __name__ == "__main__":
    main()
